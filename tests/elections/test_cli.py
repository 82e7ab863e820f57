"""`unionhall import ... --json` as a user runs it (a fresh process)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli
from tests.elections.nc_factory import vote, voter, write_ncvhis, write_ncvoter


def test_import_voterfile_json_and_wrong_layout(tmp_path: Path) -> None:
    env = {"UNIONHALL_DATA_DIR": str(tmp_path / "data")}
    assert run_cli("migrate", env=env).returncode == 0
    path = write_ncvoter(tmp_path / "ncvoter_20261001.txt", [voter(1), voter(2, status_cd="Z")])
    out = run_cli("import", "voterfile", str(path), "--json", env=env)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert {k: result[k] for k in ("rows_read", "rows_loaded", "rows_quarantined", "rows_flagged", "new",
                                   "changed", "removed")} == {
        "rows_read": 2, "rows_loaded": 2, "rows_quarantined": 0, "rows_flagged": 1, "new": 2, "changed": 0,
        "removed": 0}
    hist = write_ncvhis(tmp_path / "ncvhis.txt", [vote(1, "11/05/2024")])
    bad = run_cli("import", "voterfile", str(hist), env=env)
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    assert "ncvhis.txt: row 1: this looks like an NC vote history file" in " ".join(bad.stderr.split())
