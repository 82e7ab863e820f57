"""The generated NCSBE files, read back with strict readers built from the layouts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from unionhall.elections.nc_layout import absentee_layout, ncvhis_layout, ncvoter_layout
from unionhall.synth import SynthSummary
from unionhall.synth.nc_files import POLLING_COLUMNS

REAL_POLLING_FILE = Path("/work/shared/data/nc/polling_place_20201103.csv")


def strict_quoted_tsv(path: Path, column_names: tuple[str, ...]) -> list[dict[str, str]]:
    """Read a file that must be tab-delimited, fully double-quoted, CRLF, with this header.

    Fails on the first deviation: a bare LF, a field that isn't quoted, a stray quote,
    a wrong column count or header.
    """
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n"), "file must end with CRLF"
    assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF line ending"
    assert b"\r" not in raw.replace(b"\r\n", b""), "bare CR"
    lines = raw.decode("ascii").split("\r\n")[:-1]
    field = re.compile(r'^"((?:[^"]|"")*)"$')
    rows: list[list[str]] = []
    for n, line in enumerate(lines, start=1):
        parts = line.split("\t")
        assert len(parts) == len(column_names), f"line {n}: {len(parts)} fields"
        values = []
        for p in parts:
            m = field.match(p)
            assert m, f"line {n}: field not quoted: {p!r}"
            values.append(m.group(1).replace('""', '"'))
        rows.append(values)
    assert tuple(rows[0]) == column_names, "header differs from the layout"
    return [dict(zip(column_names, r, strict=True)) for r in rows[1:]]


@pytest.fixture(scope="module")
def voter_rows(small_state: tuple[Path, SynthSummary]) -> list[dict[str, str]]:
    out, _ = small_state
    return strict_quoted_tsv(out / "ncvoter_synth.txt", ncvoter_layout().column_names)


def test_voter_file_has_documented_columns_and_row_count(
    voter_rows: list[dict[str, str]], small_state: tuple[Path, SynthSummary]
) -> None:
    assert len(ncvoter_layout().column_names) == 67
    assert len(voter_rows) == small_state[1].counts["voters"] == 3_000


def test_voter_file_coded_columns_use_only_layout_codes(voter_rows: list[dict[str, str]]) -> None:
    layout = ncvoter_layout()
    coded = [
        "status_cd", "voter_status_desc", "race_code", "ethnic_code", "county_id", "county_desc",
        "party_cd", "gender_code", "reason_cd", "confidential_ind", "drivers_lic",
    ]
    for column in coded:
        allowed = layout.allowed(column)
        seen = {r[column] for r in voter_rows}
        assert seen <= allowed, f"{column}: {sorted(seen - allowed)} not in the layout's codes"
    # Code and description columns agree with the documented pairs.
    for r in voter_rows:
        assert layout.codes["county_id"][r["county_id"]] == r["county_desc"]
        assert layout.codes["voter_status_desc"][r["voter_status_desc"]] == r["status_cd"]
    # Every status the layout documents occurs (the generator exercises them all).
    assert {r["status_cd"] for r in voter_rows} == set(layout.codes["status_cd"])


def test_voter_file_values_fit_documented_widths_and_forms(voter_rows: list[dict[str, str]]) -> None:
    layout = ncvoter_layout()
    for col in layout.file_columns:
        if col.width is None:
            continue
        longest = max(len(r[col.name]) for r in voter_rows)
        assert longest <= col.width, f"{col.name}: {longest} > {col.width}"
    regs = {(r["county_id"], r["voter_reg_num"]) for r in voter_rows}
    assert len(regs) == len(voter_rows), "voter_reg_num must be unique within a county"
    assert all(re.fullmatch(r"\d{12}", r["voter_reg_num"]) for r in voter_rows)
    assert len({r["ncid"] for r in voter_rows}) == len(voter_rows)
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4}", r["registr_dt"]) for r in voter_rows)
    confidential = [r for r in voter_rows if r["confidential_ind"] == "Y"]
    assert all(r["res_street_address"] == "" for r in confidential)
    addresses = [r["res_street_address"] for r in voter_rows if r["confidential_ind"] == "N"]
    assert any(" APT " in a for a in addresses), "apartment units expected"
    mail = [r["mail_addr1"] for r in voter_rows]
    assert any(m.startswith("PO BOX ") for m in mail)
    assert any(m.startswith("RR ") for m in mail)


def test_vote_history_layout_codes_and_links(
    small_state: tuple[Path, SynthSummary], voter_rows: list[dict[str, str]]
) -> None:
    out, _ = small_state
    layout = ncvhis_layout()
    rows = strict_quoted_tsv(out / "ncvhis_synth.txt", layout.column_names)
    assert {r["voting_method"] for r in rows} <= layout.allowed("voting_method")
    assert {r["county_id"] for r in rows} <= layout.allowed("county_id")
    assert {r["voted_party_cd"] for r in rows} <= layout.allowed("voted_party_cd")
    elections = {r["election_lbl"] for r in rows}
    assert len(elections) >= 8
    assert {r["election_desc"].split()[1] for r in rows} == {"GENERAL", "PRIMARY"}
    by_ncid = {r["ncid"]: r for r in voter_rows}
    for r in rows[:500]:
        v = by_ncid[r["ncid"]]
        assert (v["county_id"], v["voter_reg_num"]) == (r["county_id"], r["voter_reg_num"])
    # A denied registration never voted.
    denied = {r["ncid"] for r in voter_rows if r["status_cd"] == "D"}
    assert not denied & {r["ncid"] for r in rows}


def test_polling_places_are_utf16_tab_delimited_like_ncsbe(small_state: tuple[Path, SynthSummary]) -> None:
    out, summary = small_state
    path = out / "polling_place_20261103.csv"
    raw = path.read_bytes()
    assert raw[:2] == b"\xff\xfe"
    text = raw[2:].decode("utf-16-le")
    assert text.endswith("\r\n")
    lines = text.split("\r\n")[:-1]
    assert tuple(lines[0].split("\t")) == POLLING_COLUMNS
    assert len(lines) - 1 == summary.counts["precincts"]
    assert all(len(line.split("\t")) == len(POLLING_COLUMNS) for line in lines)
    if REAL_POLLING_FILE.exists():  # same header as the real NCSBE file
        real = REAL_POLLING_FILE.read_bytes()
        assert real[:2] == raw[:2]
        assert real[2:].decode("utf-16-le").split("\r\n")[0] == lines[0]


def _absentee_fields(line: str) -> list[str]:
    # Split on commas outside quotes; keep the raw (still-quoted) tokens.
    return re.findall(r'(?:^|,)("(?:[^"]|"")*"|[^,]*)', line)


def test_absentee_snapshots_format_and_growth(small_state: tuple[Path, SynthSummary]) -> None:
    out, summary = small_state
    names = absentee_layout().column_names
    assert "application_num" not in names  # documented as removed
    age_at = names.index("age")
    files = summary.absentee_files
    assert 10 <= len(files) <= 14
    returned: list[int] = []
    statuses: set[str] = set()
    for rel in files:
        raw = (out / rel).read_bytes()
        text = raw.decode("cp437")
        assert "\n" not in text.replace("\r\n", "")
        lines = text.split("\r\n")[:-1]
        assert _absentee_fields(lines[0]) == [f'"{n}"' for n in names]
        n_returned = 0
        for line in lines[1:]:
            fields = _absentee_fields(line)
            assert len(fields) == len(names)
            for i, f in enumerate(fields):
                if i == age_at:
                    assert re.fullmatch(r"\d{1,3}", f), f"age must be unquoted digits: {f!r}"
                else:
                    assert f.startswith('"') and f.endswith('"') and len(f) >= 2
            status = fields[names.index("ballot_rtn_status")].strip('"')
            statuses.add(status)
            n_returned += status != ""
        returned.append(n_returned)
    assert returned == sorted(returned) and returned[-1] > returned[0], "returns must grow"
    assert statuses <= absentee_layout().allowed("ballot_rtn_status")
    assert {"ACCEPTED", "PENDING CURE", "SPOILED"} <= statuses
    last = (out / files[-1]).read_bytes().decode("cp437").split("\r\n")[1:-1]
    ncids = [_absentee_fields(x)[names.index("ncid")] for x in last]
    assert len(set(ncids)) < len(ncids), "some voters have several rows"
