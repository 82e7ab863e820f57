"""Bad input to the generic (other states / vendors) voter-file importer: refused whole
with a message that says what to do, or quarantined row by row with file, row and column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.elections.conftest import q
from tests.elections.vendor_factory import OHIO_HEADER, load_vendor, ohio_row, write_csv
from unionhall.elections.vendor import VoterLayout, layout_resolve, vendor_voterfile_import
from unionhall.errors import UserError
from unionhall.ingest.mapping import ColumnMapping, ColumnRule
from unionhall.warehouse import Warehouse


def test_unmappable_file_is_refused_naming_the_missing_fields(tmp_path: Path, warehouse: Warehouse) -> None:
    path = write_csv(tmp_path / "mystery.csv", ["Field1", "Field2", "Field3"],
                     [["x1", "blue", "7"], ["x2", "green", "9"], ["x3", "red", "4"]])
    with pytest.raises(UserError) as exc:
        layout_resolve(path=path)
    msg = str(exc.value)
    assert msg.startswith("mystery.csv: row 1: the suggested mapping cannot load this file")
    assert "registration id (registration_id)" in msg and "a last name (last_name or full_name)" in msg
    assert "'Field1' -> custom" in msg and "--write-layout FILE" in msg
    with pytest.raises(UserError):
        load_vendor(warehouse, path, state="OH")
    assert q(warehouse, "SELECT count(*) FROM election_load") == [(0,)]
    assert q(warehouse, "SELECT count(*) FROM voter") == [(0,)]


def test_wrong_state_code_is_refused(tmp_path: Path, warehouse: Warehouse) -> None:
    path = write_csv(tmp_path / "oh.csv", OHIO_HEADER, [ohio_row(1)])
    with pytest.raises(UserError, match=r"--state 'ZZ' is not a US state code"):
        load_vendor(warehouse, path, state="ZZ")
    lay = VoterLayout(mapping=ColumnMapping(schema="voter"), name="florida", state="FL")
    with pytest.raises(UserError, match="layout florida is for FL, not --state OH"):
        load_vendor(warehouse, path, state="OH", layout=lay)


def test_saved_layout_missing_a_required_column_is_refused(tmp_path: Path) -> None:
    lay = VoterLayout(
        mapping=ColumnMapping({"Voter ID": ColumnRule("registration_id"), "LAST_NAME": ColumnRule("last_name")},
                              schema="voter"),
        name="old export",
    )
    path = write_csv(tmp_path / "oh.csv", OHIO_HEADER, [ohio_row(1)])
    with pytest.raises(UserError) as exc:
        layout_resolve(path=path, layout=lay)
    assert "layout old export cannot load this file" in str(exc.value)
    assert "registration id" in str(exc.value)


def test_duplicate_ids_first_loaded_later_quarantined(tmp_path: Path, warehouse: Warehouse) -> None:
    path = write_csv(tmp_path / "oh_20261001.csv", OHIO_HEADER,
                     [ohio_row(1), ohio_row(2), ohio_row(1, FIRST_NAME="OTHER"), ohio_row(3)])
    rec = load_vendor(warehouse, path, state="OH")
    assert (rec.rows_read, rec.rows_loaded, rec.rows_quarantined) == (4, 3, 1)
    assert rec.quarantine == {"duplicate": 1}
    [(row, col, code, reason)] = q(
        warehouse, "SELECT row_number, column_name, code, reason FROM election_quarantine")
    assert (row, col, code) == (4, "SOS_VOTERID", "duplicate")
    assert reason == ("registration OH:OH0000000001 in column 'SOS_VOTERID' already appears on row 2 "
                      "(that row was loaded)")
    assert q(warehouse, "SELECT first_name FROM voter WHERE voter_reg_num = 'OH0000000001'") == [("ANN",)]


def test_rows_missing_required_values_are_quarantined_with_row_and_column(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    rows: list[dict[str, str] | list[str]] = [
        ohio_row(1),
        ohio_row(2, SOS_VOTERID=""),
        ohio_row(3, LAST_NAME="  "),
        ohio_row(4, COUNTY_NUMBER=""),
        ["OH5", "25", "TOO", "FEW"],
        ohio_row(6),
    ]
    path = write_csv(tmp_path / "oh_20261001.csv", OHIO_HEADER, rows)
    rec = load_vendor(warehouse, path, state="OH")
    assert (rec.rows_read, rec.rows_loaded, rec.rows_quarantined) == (6, 2, 4)
    got = q(warehouse, "SELECT row_number, column_name, code, reason FROM election_quarantine ORDER BY row_number")
    assert [(r[0], r[1], r[2]) for r in got] == [
        (3, "SOS_VOTERID", "missing_key"),
        (4, "LAST_NAME", "bad_value"),
        (5, "COUNTY_NUMBER", "missing_key"),
        (6, None, "ragged"),
    ]
    assert got[0][3].startswith("column 'SOS_VOTERID' (registration id) is empty")
    assert got[1][3].startswith("column 'LAST_NAME' (last name) is empty")
    assert "has 4 fields but the header has 20" in got[3][3]
    raw = q(warehouse, "SELECT raw FROM election_quarantine WHERE row_number = 6")[0][0]
    assert raw == "OH5,25,TOO,FEW"
    assert q(warehouse, "SELECT file_name, rows_read, rows_loaded, rows_quarantined FROM election_load") == [
        ("oh_20261001.csv", 6, 2, 4)]


def test_bad_dates_are_flagged_and_the_row_loaded(tmp_path: Path, warehouse: Warehouse) -> None:
    path = write_csv(tmp_path / "oh_20261001.csv", OHIO_HEADER, [
        ohio_row(1, REGISTRATION_DATE="02/30/2001"),
        ohio_row(2, DATE_OF_BIRTH="someday"),
        ohio_row(3, REGISTRATION_DATE="2031-01-01"),
        ohio_row(4),
    ])
    rec = load_vendor(warehouse, path, state="OH")
    assert (rec.rows_loaded, rec.rows_quarantined, rec.rows_flagged) == (4, 0, 3)
    flags = q(warehouse, "SELECT row_number, column_name, value, reason FROM election_flag ORDER BY row_number")
    assert [(f[0], f[1], f[2]) for f in flags] == [
        (2, "REGISTRATION_DATE", "02/30/2001"),
        (3, "DATE_OF_BIRTH", "someday"),
        (4, "REGISTRATION_DATE", "2031-01-01"),
    ]
    assert "is not a readable date" in flags[0][3] and "is out of range" in flags[2][3]
    assert q(warehouse, "SELECT voter_reg_num, registr_dt, birth_year FROM voter ORDER BY 1")[:2] == [
        ("OH0000000001", None, 1970), ("OH0000000002", dt.date(2001, 2, 3), None)]


def test_an_older_file_of_the_same_state_is_refused(tmp_path: Path, warehouse: Warehouse) -> None:
    load_vendor(warehouse, write_csv(tmp_path / "oh_20261001.csv", OHIO_HEADER, [ohio_row(1)]), state="OH")
    old = write_csv(tmp_path / "oh_20260901.csv", OHIO_HEADER, [ohio_row(2)])
    with pytest.raises(UserError, match="older than the OH voter file already loaded"):
        load_vendor(warehouse, old, state="OH")


def test_missing_and_empty_files(tmp_path: Path, warehouse: Warehouse) -> None:
    with pytest.raises(UserError, match="no such file"):
        vendor_voterfile_import(warehouse=warehouse, path=str(tmp_path / "nope.csv"), state="OH")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(UserError, match="empty"):
        vendor_voterfile_import(warehouse=warehouse, path=str(tmp_path / "empty.csv"), state="OH")


def test_header_only_file_loads_nothing_and_reconciles(tmp_path: Path, warehouse: Warehouse) -> None:
    rec = load_vendor(warehouse, write_csv(tmp_path / "oh_20261001.csv", OHIO_HEADER, []), state="OH")
    assert (rec.rows_read, rec.rows_loaded, rec.rows_quarantined, rec.new) == (0, 0, 0, 0)
    blank = write_csv(tmp_path / "oh_20261002.csv", OHIO_HEADER, [ohio_row(1), ["", "", ""], ohio_row(2)])
    rec2 = load_vendor(warehouse, blank, state="OH")
    assert (rec2.rows_read, rec2.rows_loaded, rec2.quarantine) == (3, 2, {"blank": 1})
