"""Vote history: reloads, participation (last N generals/primaries, first-time, habit)."""

from __future__ import annotations

from pathlib import Path

from tests.elections.conftest import q
from tests.elections.nc_factory import vote, write_ncvhis
from unionhall.warehouse import Warehouse

GENERALS = ["11/08/2016", "11/06/2018", "11/03/2020", "11/08/2022", "11/05/2024"]
PRIMARIES = ["03/15/2016", "05/08/2018", "03/03/2020", "05/17/2022", "03/05/2024"]


def test_participation(tmp_path: Path, load, warehouse: Warehouse) -> None:
    rows = (
        [vote(1, g, "ABSENTEE ONESTOP") for g in GENERALS] + [vote(1, p, "IN-PERSON") for p in PRIMARIES[-2:]]
        + [vote(2, "11/05/2024", "ABSENTEE BY MAIL")]                          # first-time, by mail
        + [vote(3, g, "ABSENTEE") for g in GENERALS[:2]] + [vote(3, "11/05/2024", "IN-PERSON")]
        + [vote(4, "11/05/2024", "ELIGIBLE DID NOT VOTE"), vote(4, "11/03/2020", "IN-PERSON")]
        + [vote(5, "05/17/2022", "IN-PERSON", election_desc="05/17/2022 SECOND PRIMARY")]
    )
    rec = load("history", write_ncvhis(tmp_path / "ncvhis_20261001.txt", rows), last_n=4)
    assert rec.rows_loaded == len(rows) and rec.flags == {}
    got = {r[0]: r[1:] for r in q(warehouse, """
        SELECT ncid, generals_voted, generals_considered, primaries_voted, primaries_considered,
               votes_total, first_time_voter, habit FROM voter_participation ORDER BY ncid""")}
    assert got["NC1"] == (4, 4, 2, 2, 7, False, "early_in_person")
    assert got["NC2"] == (1, 4, 0, 2, 1, True, "mail")
    assert got["NC3"] == (2, 4, 0, 2, 3, False, "mail")
    assert got["NC4"] == (1, 4, 0, 2, 1, False, "election_day")  # "did not vote" is not a vote
    assert got["NC5"] == (0, 4, 0, 2, 1, False, "election_day")  # a runoff is not a primary
    assert q(warehouse, "SELECT election_type FROM vote_history WHERE ncid = 'NC5'") == [("runoff",)]


def test_reload_adds_corrects_and_never_deletes(tmp_path: Path, load, warehouse: Warehouse) -> None:
    load("history", write_ncvhis(tmp_path / "ncvhis_20261001.txt", [
        vote(1, "11/08/2016"), vote(1, "11/05/2024", "IN-PERSON")]))
    r = load("history", write_ncvhis(tmp_path / "ncvhis_20261008.txt", [
        vote(1, "11/05/2024", "ABSENTEE BY MAIL"), vote(2, "11/05/2024")]))
    assert (r.new, r.changed, r.unchanged, r.removed) == (1, 1, 0, 0)
    assert q(warehouse, "SELECT ncid, election_lbl, method FROM vote_history ORDER BY ncid, election_date") == [
        ("NC1", "11/08/2016", "election_day"), ("NC1", "11/05/2024", "mail"), ("NC2", "11/05/2024", "election_day")]


def test_duplicate_vote_is_quarantined(tmp_path: Path, load, warehouse: Warehouse) -> None:
    r = load("history", write_ncvhis(tmp_path / "h.txt", [vote(1, "11/05/2024"), vote(1, "11/05/2024"),
                                                         vote(2, "13/45/2024")]))
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (3, 1, 2)
    assert q(warehouse, "SELECT row_number, code FROM election_quarantine ORDER BY 1") == [(3, "duplicate"), (4, "missing_key")]
