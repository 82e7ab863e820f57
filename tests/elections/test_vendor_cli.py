"""`unionhall import voterfile FILE --state XX [--layout] [--save-layout]` as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli
from tests.elections.nc_factory import voter, write_ncvoter
from tests.elections.vendor_factory import OHIO_HEADER, ohio_row, write_csv


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_vendor_voterfile_cli_suggests_saves_and_reuses_a_layout(tmp_path: Path) -> None:
    env = {"UNIONHALL_DATA_DIR": str(tmp_path / "data")}
    assert run_cli("migrate", env=env).returncode == 0
    oh1 = write_csv(tmp_path / "oh_20261001.csv", OHIO_HEADER, [ohio_row(1), ohio_row(2), ohio_row(2)])

    # Not NC and no --state: refused, saying how to load it.
    bad = run_cli("import", "voterfile", str(oh1), env=env)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "oh_20261001.csv: row 1: this is not an NC voter file (ncvoter layout); for another state's or a " \
           "vendor's file give --state XX" in _flat(bad.stderr)

    # The suggested mapping is printed, the file loads, the layout is saved by name.
    out = run_cli("import", "voterfile", str(oh1), "--state", "oh", "--save-layout", "Ohio SOS", env=env)
    assert out.returncode == 0, out.stderr
    text = _flat(out.stdout)
    assert "suggested mapping" in text and "SOS_VOTERID -> registration_id" in text
    assert "quarantined 1 x duplicate" in text
    assert ("oh_20261001.csv: row 4: column SOS_VOTERID: registration OH:OH0000000002 in column "
            "'SOS_VOTERID' already appears on row 3 (that row was loaded)") in text

    listed = run_cli("voter-layout", "list", env=env)
    assert listed.returncode == 0 and "Ohio SOS" in listed.stdout and "OH" in listed.stdout

    # Next week's file with the saved layout, by name; --json prints the reconciliation.
    oh2 = write_csv(tmp_path / "oh_20261008.csv", OHIO_HEADER,
                    [ohio_row(1, RESIDENTIAL_ADDRESS1="9 NEW RD"), ohio_row(3)])
    out2 = run_cli("import", "voterfile", str(oh2), "--layout", "Ohio SOS", "--json", env=env)
    assert out2.returncode == 0, out2.stderr
    result = json.loads(out2.stdout)
    assert {k: result[k] for k in ("kind", "layout", "rows_read", "rows_loaded", "new", "changed", "removed")} == {
        "kind": "voterfile_oh", "layout": "Ohio SOS (OH)", "rows_read": 2, "rows_loaded": 2, "new": 1,
        "changed": 1, "removed": 1}
    assert _flat(result["mapping"][0]) == "SOS_VOTERID -> registration_id"

    # Export to TOML, then load a file with the layout file.
    toml = tmp_path / "ohio.toml"
    assert run_cli("voter-layout", "export", "Ohio SOS", str(toml), env=env).returncode == 0
    assert '"SOS_VOTERID" = "registration_id"' in toml.read_text()
    oh3 = write_csv(tmp_path / "oh_20261015.csv", OHIO_HEADER, [ohio_row(1), ohio_row(3)])
    out3 = run_cli("import", "voterfile", str(oh3), "--layout", str(toml), "--json", env=env)
    assert out3.returncode == 0, out3.stderr
    assert json.loads(out3.stdout)["changed"] == 1

    # An unmappable file: refused, and --write-layout gives a layout to edit.
    odd = write_csv(tmp_path / "odd.csv", ["A", "B"], [["1", "x"], ["2", "y"], ["3", "z"]])
    refused = run_cli("import", "voterfile", str(odd), "--state", "OH", env=env)
    assert refused.returncode == 1
    assert "no column is mapped to the voter's registration id" in _flat(refused.stderr)
    draft = tmp_path / "draft.toml"
    wrote = run_cli("import", "voterfile", str(odd), "--state", "OH", "--write-layout", str(draft), env=env)
    assert wrote.returncode == 0 and draft.exists()
    assert "to fix: no column is mapped to the voter's registration id" in _flat(wrote.stdout)

    # NC files without --state still take the NC path.
    nc = write_ncvoter(tmp_path / "ncvoter_20261001.txt", [voter(1)])
    out4 = run_cli("import", "voterfile", str(nc), "--json", env=env)
    assert out4.returncode == 0, out4.stderr
    assert json.loads(out4.stdout)["kind"] == "voterfile"
    nc2 = write_ncvoter(tmp_path / "ncvoter_20261008.txt", [voter(1), voter(2)])
    out5 = run_cli("import", "voterfile", str(nc2), "--state", "NC", "--json", env=env)
    assert out5.returncode == 0, out5.stderr
    assert (json.loads(out5.stdout)["kind"], json.loads(out5.stdout)["new"]) == ("voterfile", 1)
