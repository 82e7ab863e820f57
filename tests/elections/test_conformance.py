"""Conformance with the official NCSBE layout documents shipped in the package."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.elections.conftest import q
from tests.elections.nc_factory import (
    ballot,
    vote,
    voter,
    write_absentee,
    write_ncvhis,
    write_ncvoter,
)
from unionhall.elections import codes
from unionhall.elections.nc_layout import SUPPLEMENTARY_CODES, absentee_layout, ncvoter_layout
from unionhall.warehouse import Warehouse

REAL_POLLING = Path("/work/shared/data/nc/polling_place_20201103.csv")


def test_every_documented_status_race_ethnic_code_loads_unflagged(tmp_path: Path, load, warehouse: Warehouse) -> None:
    layout = ncvoter_layout()
    status = layout.codes["status_cd"]
    assert set(status) == {"A", "D", "I", "R", "S"}
    rows = []
    n = 0
    for code, desc in status.items():
        for race in layout.codes["race_code"]:
            for eth in layout.codes["ethnic_code"]:
                n += 1
                rows.append(voter(n, status_cd=code, voter_status_desc=desc.split(" (")[0][:25],
                                  race_code=race, ethnic_code=eth))
    rec = load("voterfile", write_ncvoter(tmp_path / "v.txt", rows), as_of="2026-10-01")
    assert rec.rows_loaded == len(rows) == 5 * 8 * 3
    assert rec.rows_flagged == 0 and rec.flags == {}
    got = dict(q(warehouse, "SELECT status_cd, count(*) FROM voter GROUP BY 1"))
    assert got == {c: 24 for c in status}


def test_every_documented_county_id_is_known(tmp_path: Path, load) -> None:
    table = ncvoter_layout().codes["county_id"]
    assert len(table) == 100
    rows = [voter(i + 1, county_id=int(code) or 100, county_desc=name) for i, (code, name) in enumerate(table.items())]
    rec = load("voterfile", write_ncvoter(tmp_path / "v.txt", rows), as_of="2026-10-01")
    assert rec.rows_loaded == 100 and rec.flags == {}


def test_current_vintage_has_67_columns_and_field_quirks(tmp_path: Path, load, warehouse: Warehouse) -> None:
    assert len(ncvoter_layout().column_names) == 67
    rows = [
        voter(1, res_street_address="123   OAK    ST   APT 2  ", mail_addr2=" "),
        voter(2, res_street_address="CONFIDENTIAL", confidential_ind="Y", res_city_desc=""),
        voter(3, status_cd="R", voter_status_desc="REMOVED", reason_cd="RD", res_street_address="REMOVED"),
        voter(4, confidential_ind="Y", res_street_address=""),
    ]
    path = write_ncvoter(tmp_path / "v.txt", rows)
    assert path.read_bytes().count(b"\r\n") == 5 and b'"000000000001"' in path.read_bytes()
    load("voterfile", path, as_of="2026-10-01")
    got = q(warehouse, """SELECT voter_reg_num, res_street_address, mail_addr2, address_withheld
                          FROM voter ORDER BY voter_reg_num""")
    assert got == [
        ("1", "123 OAK ST APT 2", None, None),
        ("2", None, None, "CONFIDENTIAL"),
        ("3", None, None, "REMOVED"),
        ("4", None, None, "CONFIDENTIAL"),
    ]


def test_previous_vintage_loads_by_name(tmp_path: Path, load, warehouse: Warehouse) -> None:
    previous = [c.name for c in ncvoter_layout().previous_columns]
    assert len(previous) == 71 and previous[3] == "status_cd"
    rec = load("voterfile", write_ncvoter(tmp_path / "old.txt", [voter(1, birth_age="61", absent_ind="Y")],
                                          vintage="previous"), as_of="2021-01-01")
    assert rec.layout == "ncvoter_previous" and rec.rows_loaded == 1
    assert q(warehouse, "SELECT status_cd, age_at_year_end, last_name, ncid FROM voter") == [("A", 61, "VOTER1", "NC1")]
    # A newer-vintage reload of the same voter is "unchanged" apart from what the file says.
    rec = load("voterfile", write_ncvoter(tmp_path / "new.txt", [voter(1, age_at_year_end="61")]), as_of="2022-03-01")
    assert rec.layout == "ncvoter" and rec.new == 0


def test_every_voting_method_label_normalizes(tmp_path: Path, load, warehouse: Warehouse) -> None:
    labels = sorted(codes.VOTING_METHODS)
    rows = [vote(i + 1, "11/05/2024", label) for i, label in enumerate(labels)]
    rec = load("history", write_ncvhis(tmp_path / "h.txt", rows))
    assert rec.flags == {} and rec.rows_loaded == len(labels)
    assert dict(q(warehouse, "SELECT voting_method, method FROM vote_history")) == dict(codes.VOTING_METHODS)


def test_documented_methods_are_all_mapped() -> None:
    assert set(SUPPLEMENTARY_CODES["ncvhis"]["voting_method"]) <= set(codes.VOTING_METHODS)
    assert set(codes.VOTING_METHODS.values()) <= set(codes.METHOD_LABELS)


def test_every_return_status_maps_to_a_stage(tmp_path: Path, load, warehouse: Warehouse) -> None:
    documented = {s for s in SUPPLEMENTARY_CODES["absentee"]["ballot_rtn_status"] if s}
    assert documented <= set(codes.RETURN_STATUSES)
    rows = [
        ballot(i + 1, ballot_send_dt="09/10/2026", ballot_rtn_dt="10/01/2026", ballot_rtn_status=s)
        for i, s in enumerate(sorted(codes.RETURN_STATUSES))
    ]
    rec = load("absentee", write_absentee(tmp_path / "absentee_20261002.csv", rows))
    assert rec.flags == {} and rec.rows_loaded == len(rows)
    got = dict(q(warehouse, "SELECT status_text, stage FROM ballot_status"))
    assert got == dict(codes.RETURN_STATUSES)


def test_absentee_older_vintage_with_application_num(tmp_path: Path, load, warehouse: Warehouse) -> None:
    cols = [c.name for c in absentee_layout().columns]  # includes REMOVED-application_num
    assert "application_num" in cols and "application_num" not in absentee_layout().column_names
    rec = load("absentee", write_absentee(tmp_path / "absentee_20200915.csv",
                                          [ballot(1, application_num="A-77", election_dt="11/03/2020")], columns=cols))
    assert rec.layout == "absentee_older"
    assert q(warehouse, "SELECT application_num FROM absentee_event") == [("A-77",)]
    # the earliest files had no ncid/ethnicity/relative columns at all
    early = [c.name for c in absentee_layout().columns if "added:" not in c.description]
    rec = load("absentee", write_absentee(tmp_path / "absentee_20121101.csv", [ballot(2, ncid="")], columns=early))
    assert rec.rows_quarantined == 1 and rec.quarantine == {"missing_key": 1}  # no ncid: cannot link


def test_absentee_blanks_and_unquoted_age(tmp_path: Path, load, warehouse: Warehouse) -> None:
    path = write_absentee(tmp_path / "absentee_20261002.csv", [ballot(1)])
    line = path.read_bytes().split(b"\r\n")[1]
    assert b',56,' in line and b'," ",' in line and b',"",' in line
    load("absentee", path)
    got = q(warehouse, "SELECT age, other_mail_addr1, ballot_send_dt, stage FROM absentee_event")
    assert got == [(56, None, None, "requested")]


@pytest.mark.skipif(not REAL_POLLING.exists(), reason="real NCSBE polling-place file not present")
def test_real_polling_place_file(load, warehouse: Warehouse) -> None:
    assert REAL_POLLING.read_bytes()[:2] == b"\xff\xfe"
    rec = load("polling", REAL_POLLING)
    assert (rec.rows_read, rec.rows_loaded, rec.rows_quarantined) == (2662, 2662, 0)
    assert rec.encoding == "utf-16" and rec.snapshot_date == "2020-11-03"
    assert q(warehouse, """SELECT polling_place_name, house_num, street_name, city FROM polling_place
                          WHERE county_name = 'ALAMANCE' AND precinct_name = 'COBLE'""") == [
        ("ALAMANCE CIVITAN CLUB HOUSE", "3328", "DOCTOR PICKETT RD", "BURLINGTON")]
    assert q(warehouse, "SELECT count(DISTINCT county_name) FROM polling_place") == [(100,)]
    again = load("polling", REAL_POLLING)
    assert again.already_loaded and again.load_id == rec.load_id
