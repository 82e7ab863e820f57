"""Bad input: each whole-file problem is a one-line error naming the file, row and column;
each row problem is quarantined with its reason; unknown codes are flagged and kept."""

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
from unionhall.errors import UserError
from unionhall.warehouse import Warehouse


def test_truncated_voter_file_is_refused_naming_row_and_column(tmp_path: Path, load, warehouse: Warehouse) -> None:
    path = write_ncvoter(tmp_path / "ncvoter25.txt", [voter(i) for i in range(1, 6)])
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"NEW BERN 1")])  # cut inside the last row
    with pytest.raises(UserError) as err:
        load("voterfile", path, as_of="2026-10-01")
    msg = str(err.value)
    assert msg.startswith("ncvoter25.txt: row 6, column ")
    assert "truncated" in msg and "download" in msg
    assert q(warehouse, "SELECT count(*) FROM voter") == [(0,)]
    assert q(warehouse, "SELECT count(*) FROM election_load") == [(0,)]


def test_truncated_file_does_not_mark_the_rest_removed(tmp_path: Path, load, warehouse: Warehouse) -> None:
    load("voterfile", write_ncvoter(tmp_path / "a.txt", [voter(i) for i in range(1, 6)]), as_of="2026-10-01")
    cut = write_ncvoter(tmp_path / "b.txt", [voter(i) for i in range(1, 6)])
    cut.write_bytes(cut.read_bytes()[:-300])
    with pytest.raises(UserError, match="truncated"):
        load("voterfile", cut, as_of="2026-10-08")
    assert q(warehouse, "SELECT count(*) FROM voter WHERE in_file") == [(5,)]


def test_history_file_given_as_voter_file(tmp_path: Path, load) -> None:
    path = write_ncvhis(tmp_path / "ncvhis25.txt", [vote(1, "11/05/2024")])
    with pytest.raises(UserError) as err:
        load("voterfile", path)
    assert str(err.value) == (
        "ncvhis25.txt: row 1: this looks like an NC vote history file (ncvhis layout), not an NC "
        "voter file (ncvoter layout) — load it with `unionhall import history`"
    )


def test_voter_file_given_as_absentee_and_unknown_header(tmp_path: Path, load) -> None:
    path = write_ncvoter(tmp_path / "ncvoter25.txt", [voter(1)])
    with pytest.raises(UserError, match="this looks like an NC voter file"):
        load("absentee", path)
    odd = tmp_path / "odd.txt"
    odd.write_text('"a"\t"b"\r\n"1"\t"2"\r\n')
    with pytest.raises(UserError, match=r"odd.txt: row 1: the header is not an NC voter file .*missing"):
        load("voterfile", odd)


def test_missing_column_is_named(tmp_path: Path, load) -> None:
    path = write_ncvoter(tmp_path / "v.txt", [voter(1)])
    text = path.read_text().replace('"party_cd"', '"party"')
    path.write_text(text)
    with pytest.raises(UserError, match="missing party_cd; unexpected party"):
        load("voterfile", path)


def test_latin1_bytes_in_a_utf8_voter_file(tmp_path: Path, load, warehouse: Warehouse) -> None:
    rows = [voter(1), voter(2, last_name="MUÑOZ"), voter(3)]
    path = write_ncvoter(tmp_path / "ncvoter25.txt", rows, encoding="latin-1")
    with pytest.raises(UserError) as err:
        load("voterfile", path)
    assert str(err.value).startswith("ncvoter25.txt: row 3, column last_name: bytes that are not valid UTF-8")
    assert "--encoding" in str(err.value)
    # ... and with the right encoding it loads, letters intact.
    load("voterfile", path, encoding="latin-1")
    assert q(warehouse, "SELECT last_name FROM voter WHERE voter_reg_num = '2'") == [("MUÑOZ",)]


def test_utf16_voter_file_is_named(tmp_path: Path, load) -> None:
    path = write_ncvoter(tmp_path / "v.txt", [voter(1)], encoding="utf-16")
    with pytest.raises(UserError, match=r"v.txt: row 1, column 1: the file is UTF-16 encoded"):
        load("voterfile", path)


def test_absentee_in_utf8_instead_of_cp437(tmp_path: Path, load) -> None:
    path = write_absentee(tmp_path / "absentee_20261020.csv", [ballot(1, voter_last_name="PEÑA")], encoding="utf-8")
    with pytest.raises(UserError, match="the file is UTF-8 encoded, but NCSBE writes this file in cp437"):
        load("absentee", path)


def test_absentee_cp437_letters_are_decoded(tmp_path: Path, load, warehouse: Warehouse) -> None:
    path = write_absentee(tmp_path / "absentee_20261020.csv", [ballot(1, voter_last_name="PEÑA")])
    assert "PEÑA".encode("cp437") in path.read_bytes()
    load("absentee", path)
    assert q(warehouse, "SELECT voter_last_name FROM absentee_event") == [("PEÑA",)]


def test_unknown_codes_are_flagged_and_kept(tmp_path: Path, load, warehouse: Warehouse) -> None:
    rows = [voter(1), voter(2, status_cd="X", party_cd="ZZZ"), voter(3, race_code="Q"), voter(4, registr_dt="31/31/2020")]
    rec = load("voterfile", write_ncvoter(tmp_path / "v.txt", rows), as_of="2026-10-01")
    assert (rec.rows_read, rec.rows_loaded, rec.rows_quarantined, rec.rows_flagged) == (4, 4, 0, 3)
    assert rec.flags == {"status_cd": 1, "party_cd": 1, "race_code": 1, "registr_dt": 1}
    assert q(warehouse, "SELECT status_cd, party_cd FROM voter WHERE voter_reg_num = '2'") == [("X", "ZZZ")]
    flags = q(warehouse, "SELECT row_number, column_name, value FROM election_flag ORDER BY row_number, column_name")
    assert flags == [(3, "party_cd", "ZZZ"), (3, "status_cd", "X"), (4, "race_code", "Q"), (5, "registr_dt", "31/31/2020")]


def test_unknown_voting_method_and_ballot_status_are_flagged(tmp_path: Path, load, warehouse: Warehouse) -> None:
    rec = load("history", write_ncvhis(tmp_path / "h.txt", [vote(1, "11/05/2024", "TELEPORT"), vote(2, "11/05/2024")]))
    assert rec.flags == {"voting_method": 1} and rec.rows_loaded == 2
    assert q(warehouse, "SELECT voting_method, method FROM vote_history WHERE ncid = 'NC1'") == [("TELEPORT", "unknown")]
    rec = load("absentee", write_absentee(tmp_path / "absentee_20261020.csv", [
        ballot(1, ballot_send_dt="09/10/2026", ballot_rtn_dt="10/01/2026", ballot_rtn_status="LOST IN SPACE")]))
    assert rec.flags == {"ballot_rtn_status": 1} and rec.rows_loaded == 1
    assert q(warehouse, "SELECT stage, status_text FROM ballot_status") == [("unknown", "LOST IN SPACE")]


def test_ragged_and_keyless_rows_are_quarantined_and_counts_reconcile(tmp_path: Path, load, warehouse: Warehouse) -> None:
    path = write_ncvoter(tmp_path / "v.txt", [voter(i) for i in range(1, 7)] + [voter(2)] + [voter(8, voter_reg_num="")])
    lines = path.read_bytes().split(b"\r\n")
    lines[3] = b'"25"\t"CRAVEN"\t"000000000003"\t"NC3"'  # row 4: 4 columns only
    path.write_bytes(b"\r\n".join(lines))
    rec = load("voterfile", path, as_of="2026-10-01")
    assert (rec.rows_read, rec.rows_loaded, rec.rows_quarantined) == (8, 5, 3)
    assert rec.quarantine == {"ragged": 1, "duplicate": 1, "missing_key": 1}
    rows = q(warehouse, "SELECT row_number, code, column_name, reason FROM election_quarantine ORDER BY row_number")
    assert [r[:2] for r in rows] == [(4, "ragged"), (8, "duplicate"), (9, "missing_key")]
    assert "already appears on row 3" in rows[1][3]
    assert q(warehouse, "SELECT raw FROM election_quarantine WHERE code = 'ragged'")[0][0].startswith('"25"\t"CRAVEN"')
    # the row after the bad one keeps its own line number
    assert q(warehouse, "SELECT row_number FROM voter WHERE voter_reg_num = '4'") == [(5,)]


def test_ragged_row_is_not_counted_as_a_removal(tmp_path: Path, load, warehouse: Warehouse) -> None:
    load("voterfile", write_ncvoter(tmp_path / "a.txt", [voter(i) for i in range(1, 4)]), as_of="2026-10-01")
    path = write_ncvoter(tmp_path / "b.txt", [voter(i) for i in range(1, 4)])
    lines = path.read_bytes().split(b"\r\n")
    lines[2] = b'"25"\t"CRAVEN"\t"000000000002"\t"NC2"'
    path.write_bytes(b"\r\n".join(lines))
    rec = load("voterfile", path, as_of="2026-10-08")
    assert rec.removed == 0 and rec.rows_quarantined == 1


def test_empty_and_missing_files(tmp_path: Path, load) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(UserError, match="empty.txt: the file is empty"):
        load("voterfile", tmp_path / "empty.txt")
    with pytest.raises(UserError, match="no such file"):
        load("absentee", tmp_path / "nope.csv")
