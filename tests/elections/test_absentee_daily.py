"""Daily absentee files: idempotent, order-independent, applied to people."""

from __future__ import annotations

from pathlib import Path

from tests.elections.conftest import q
from tests.elections.nc_factory import ballot, voter, write_absentee, write_ncvoter
from unionhall.warehouse import Warehouse


def _day1() -> list[dict[str, str]]:
    return [
        ballot(1, ballot_send_dt="09/20/2026"),                                        # sent
        ballot(2),                                                                    # requested
        ballot(3, ballot_send_dt="09/20/2026", ballot_rtn_dt="10/05/2026",
               ballot_rtn_status="WITNESS INFO INCOMPLETE"),                           # needs cure
        ballot(4, ballot_send_dt="09/20/2026", ballot_rtn_dt="10/06/2026", ballot_rtn_status="ACCEPTED"),
    ]


def _day2() -> list[dict[str, str]]:
    return [
        ballot(1, ballot_send_dt="09/20/2026", ballot_rtn_dt="10/07/2026", ballot_rtn_status="ACCEPTED"),
        ballot(2, ballot_send_dt="10/07/2026"),
        ballot(3, ballot_send_dt="09/20/2026", ballot_rtn_dt="10/05/2026", ballot_rtn_status="PENDING CURE"),
        ballot(3, ballot_send_dt="09/20/2026", ballot_rtn_dt="10/08/2026", ballot_rtn_status="ACCEPTED - CURED"),
        ballot(4, ballot_send_dt="09/20/2026", ballot_rtn_dt="10/06/2026", ballot_rtn_status="ACCEPTED"),
        ballot(5, ballot_req_type="ONE-STOP", ballot_req_delivery_type="IN PERSON", ballot_req_dt="10/08/2026",
               ballot_send_dt="10/08/2026", ballot_rtn_dt="10/08/2026", ballot_rtn_status="ACCEPTED",
               site_name="NEW BERN LIBRARY", age="23", voter_party_code="REP"),
    ]


def _status(wh: Warehouse) -> dict[str, tuple[str, bool, bool, bool]]:
    rows = q(wh, """SELECT ncid, stage, already_voted, requested_not_returned, needs_cure
                    FROM ballot_status ORDER BY ncid""")
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


def test_same_file_twice_then_next_day_then_older_day(tmp_path: Path, load, warehouse: Warehouse) -> None:
    d1 = write_absentee(tmp_path / "absentee_20261006.csv", _day1())
    d2 = write_absentee(tmp_path / "absentee_20261008.csv", _day2())
    r1 = load("absentee", d1)
    assert (r1.rows_read, r1.new, r1.changed) == (4, 4, 4)
    day1 = _status(warehouse)
    assert day1 == {
        "NC1": ("sent", False, True, False),
        "NC2": ("requested", False, True, False),
        "NC3": ("needs_cure", False, False, True),
        "NC4": ("accepted", True, False, False),
    }
    events = q(warehouse, "SELECT * FROM absentee_event ORDER BY event_id")

    again = load("absentee", d1)
    assert again.already_loaded and again.new == 0 and again.changed == 0
    assert q(warehouse, "SELECT * FROM absentee_event ORDER BY event_id") == events
    # the same rows in a different file (re-saved: other sha256) add nothing either
    copy = write_absentee(tmp_path / "absentee_20261006_copy.csv", list(reversed(_day1())))
    same = load("absentee", copy)
    assert not same.already_loaded and (same.new, same.changed, same.unchanged) == (0, 0, 4)
    assert _status(warehouse) == day1

    r2 = load("absentee", d2)
    assert (r2.rows_read, r2.new, r2.unchanged) == (6, 5, 1)
    day2 = _status(warehouse)
    assert day2 == {
        "NC1": ("accepted", True, False, False),
        "NC2": ("sent", False, True, False),
        "NC3": ("cured", True, False, False),
        "NC4": ("accepted", True, False, False),
        "NC5": ("voted_early", True, False, False),
    }
    # the whole history of voter 3 is kept, in order
    assert q(warehouse, """SELECT stage, ballot_rtn_status FROM absentee_event WHERE ncid = 'NC3'
                          ORDER BY event_date, first_snapshot, stage_rank""") == [
        ("needs_cure", "WITNESS INFO INCOMPLETE"), ("needs_cure", "PENDING CURE"), ("cured", "ACCEPTED - CURED")]

    # an older day's file after the newer one does not roll anything back
    d0 = write_absentee(tmp_path / "absentee_20261003.csv", [
        ballot(1, ballot_send_dt="09/20/2026"), ballot(3, ballot_send_dt="09/20/2026"), ballot(2)])
    r0 = load("absentee", d0)
    assert (r0.new, r0.unchanged) == (1, 2)  # only voter 3 before its return is new
    assert _status(warehouse) == day2


def test_reverse_order_gives_the_same_status(tmp_path: Path, load, warehouse: Warehouse) -> None:
    d2 = write_absentee(tmp_path / "absentee_20261008.csv", _day2())
    d1 = write_absentee(tmp_path / "absentee_20261006.csv", _day1())
    load("absentee", d2)
    load("absentee", d1)
    assert {k: v[0] for k, v in _status(warehouse).items()} == {
        "NC1": "accepted", "NC2": "sent", "NC3": "cured", "NC4": "accepted", "NC5": "voted_early"}


def test_spoiled_ballot_is_chased_until_replaced(tmp_path: Path, load, warehouse: Warehouse) -> None:
    load("absentee", write_absentee(tmp_path / "absentee_20261005.csv", [
        ballot(7, ballot_send_dt="09/20/2026", ballot_rtn_dt="10/04/2026", ballot_rtn_status="SPOILED")]))
    assert _status(warehouse)["NC7"] == ("spoiled", False, True, False)
    load("absentee", write_absentee(tmp_path / "absentee_20261009.csv", [
        ballot(7, ballot_send_dt="09/20/2026", ballot_rtn_dt="10/04/2026", ballot_rtn_status="SPOILED"),
        ballot(7, ballot_req_dt="10/06/2026", ballot_send_dt="10/07/2026", ballot_rtn_dt="10/09/2026",
               ballot_rtn_status="ACCEPTED")]))
    assert _status(warehouse)["NC7"] == ("accepted", True, False, False)
    assert q(warehouse, "SELECT events FROM ballot_status WHERE ncid = 'NC7'") == [(2,)]


def test_ballot_status_reaches_people(tmp_path: Path, load, warehouse: Warehouse) -> None:
    load("voterfile", write_ncvoter(tmp_path / "ncvoter_20261001.txt", [voter(i) for i in range(1, 6)]))
    load("absentee", write_absentee(tmp_path / "absentee_20261008.csv", _day2()))
    got = q(warehouse, """SELECT p.person_id, p.last_name, b.stage FROM person p
                          JOIN voter_person m USING (person_id) JOIN ballot_status b ON b.ncid = m.ncid
                          WHERE b.already_voted ORDER BY p.last_name""")
    assert [(r[1], r[2]) for r in got] == [
        ("VOTER1", "accepted"), ("VOTER3", "cured"), ("VOTER4", "accepted"), ("VOTER5", "voted_early")]
