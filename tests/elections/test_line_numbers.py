"""Line numbers and row picking stay right around skipped lines (the fast import paths:
history rows read twice, line numbers computed from row positions, first loads)."""

from __future__ import annotations

from pathlib import Path

from tests.elections.conftest import q
from tests.elections.nc_factory import vote, voter, write_ncvhis, write_ncvoter
from unionhall.warehouse import Warehouse


def _ragged(path: Path, *line_indexes: int) -> Path:
    """Cut the given 0-based lines of a written file down to three columns."""
    lines = path.read_bytes().split(b"\r\n")
    for i in line_indexes:
        lines[i] = b"\t".join(lines[i].split(b"\t")[:3])
    path.write_bytes(b"\r\n".join(lines))
    return path


def test_history_second_read_skips_exactly_the_quarantined_rows(tmp_path: Path, load, warehouse: Warehouse) -> None:
    rows = [vote(1, "11/05/2024"), vote(2, "11/05/2024"), vote(3, "11/05/2024"),   # lines 2-4
            vote(4, "11/05/2024"), vote(2, "11/05/2024", "ABSENTEE BY MAIL"),       # 5, 6: repeat of line 3
            vote(5, "11/05/2024", ncid=""), vote(6, "11/05/2024")]                  # 7: no ncid, 8
    path = _ragged(write_ncvhis(tmp_path / "h.txt", rows), 3)                      # line 4 ragged
    rec = load("history", path)
    assert (rec.rows_read, rec.rows_loaded, rec.rows_quarantined) == (7, 4, 3)
    assert q(warehouse, "SELECT row_number, code FROM election_quarantine ORDER BY 1") == [
        (4, "ragged"), (6, "duplicate"), (7, "missing_key")]
    assert "already appears on row 3" in q(warehouse, "SELECT reason FROM election_quarantine WHERE code = 'duplicate'")[0][0]
    assert q(warehouse, "SELECT ncid, method FROM vote_history ORDER BY ncid") == [
        ("NC1", "election_day"), ("NC2", "election_day"), ("NC4", "election_day"), ("NC6", "election_day")]


def test_voter_line_numbers_after_consecutive_and_many_bad_lines(tmp_path: Path, load, warehouse: Warehouse) -> None:
    # Two bad lines in a row, then (second file) more bad lines than the CASE form handles.
    path = _ragged(write_ncvoter(tmp_path / "a.txt", [voter(i) for i in range(1, 8)]), 3, 4)
    load("voterfile", path, as_of="2026-10-01")
    assert q(warehouse, "SELECT voter_reg_num, row_number FROM voter ORDER BY row_number") == [
        ("1", 2), ("2", 3), ("5", 6), ("6", 7), ("7", 8)]

    n = 200
    bad = list(range(10, 10 + 2 * 80, 2))  # 80 ragged lines, every other line
    path = _ragged(write_ncvoter(tmp_path / "b.txt", [voter(i) for i in range(1, n + 1)]), *bad)
    rec = load("voterfile", path, as_of="2026-10-08")
    assert rec.quarantine == {"ragged": 80} and rec.rows_loaded == n - 80
    got = dict(q(warehouse, "SELECT voter_reg_num::INT, row_number FROM voter WHERE in_file AND last_load_id = ?",
                 rec.load_id))
    # voter i is on line i + 1
    assert all(line == reg + 1 for reg, line in got.items())
    assert len(got) == n - 80


def test_padded_values_are_trimmed_and_clean_files_read_as_is(tmp_path: Path, load, warehouse: Warehouse) -> None:
    # Only some columns are padded (ASCII spaces, a no-break space); the others are read
    # without trimming, which must not change any value.
    nbsp = "\u00a0"
    load("voterfile", write_ncvoter(tmp_path / "v.txt", [
        voter(1, first_name=" ANN ", middle_name=f"MARÍA{nbsp}"), voter(2, zip_code="28560 ")]), as_of="2026-10-01")
    assert q(warehouse, "SELECT voter_reg_num, first_name, middle_name, zip_code, last_name FROM voter ORDER BY 1") == [
        ("1", "ANN", "MARÍA", "28560", "VOTER1"), ("2", "ANN", "B", "28560", "VOTER2")]
    rec = load("history", write_ncvhis(tmp_path / "h.txt", [
        vote(1, "11/05/2024", " ABSENTEE BY MAIL", pct_label="CR01 "), vote(2, "11/05/2024", pct_description=f"{nbsp}X")]))
    assert rec.flags == {}
    assert q(warehouse, "SELECT ncid, method, voting_method, pct_label, pct_description FROM vote_history ORDER BY 1") == [
        ("NC1", "mail", "ABSENTEE BY MAIL", "CR01", "NEW BERN 1"), ("NC2", "election_day", "IN-PERSON", "CR01", "X")]
