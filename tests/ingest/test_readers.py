"""Readers: batching, streaming, row numbers across batches and chunks, XLSX sheets."""

from __future__ import annotations

from pathlib import Path

import pytest

from unionhall.errors import UserError
from unionhall.ingest import open_source
from unionhall.ingest import readers as readers_mod


def test_batches_keep_physical_row_numbers_and_raw_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tiny chunks force many chunk boundaries, including inside a quoted multi-line value.
    monkeypatch.setattr(readers_mod, "_CHUNK_BYTES", 64)
    lines = ["First,Last,Note"]
    for i in range(500):
        lines.append(f'P{i},Q{i},"line one\nline two"' if i % 50 == 0 else f"P{i},Q{i},n{i}")
    p = tmp_path / "big.csv"
    p.write_text("\n".join(lines) + "\n")
    reader = open_source(p)
    batches = list(reader.batches(size=37))
    assert all(b.rows_read <= 37 for b in batches)
    numbers = [n for b in batches for n in b.row_numbers.to_list()]
    firsts = [v for b in batches for v in b.frame.get_column("First").to_list()]
    assert firsts == [f"P{i}" for i in range(500)]
    # each multi-line record takes two physical lines
    expected, line = [], 2
    for i in range(500):
        expected.append(line)
        line += 2 if i % 50 == 0 else 1
    assert numbers == expected
    raws = [r for b in batches for r in b.raw.to_list()]
    assert raws[1] == "P1,Q1,n1" and raws[0] == 'P0,Q0,"line one\nline two"'


def test_xlsx_named_sheet_and_missing_sheet(tmp_path: Path) -> None:
    import xlsxwriter

    p = tmp_path / "w.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    wb.add_worksheet("Cover").write(0, 0, "hello")
    ws = wb.add_worksheet("Members")
    ws.write_row(0, 0, ["First", "Last", "Phone"])
    ws.write_row(1, 0, ["Ann", "Lee"])
    ws.write_number(1, 2, 2175550123)
    wb.close()
    reader = open_source(p, sheet="members")
    assert reader.header == ["First", "Last", "Phone"] and reader.sheet == "Members"
    rows = next(reader.batches()).frame.rows()
    assert rows == [("Ann", "Lee", "2175550123")]  # a number cell, not "2175550123.0"
    with pytest.raises(UserError, match="no sheet named 'Roster'; the sheets are 'Cover', 'Members'"):
        open_source(p, sheet="Roster")


def test_encoding_override_and_delimiter_override(tmp_path: Path) -> None:
    p = tmp_path / "x.txt"
    p.write_bytes("First;Last\nJosé;Muñoz\n".encode("cp1252"))
    assert open_source(p).encoding == "cp1252"
    reader = open_source(p, encoding="latin-1", delimiter=";")
    assert next(reader.batches()).frame.rows() == [("José", "Muñoz")]


def test_sample_rows(tmp_path: Path) -> None:
    p = tmp_path / "s.csv"
    p.write_text("A,B\n" + "\n".join(f"{i},{i}" for i in range(100)) + "\n")
    assert len(open_source(p).sample_rows(10)) == 10


def test_read_ahead_gives_the_same_batches_and_reraises_user_errors(tmp_path: Path) -> None:
    from unionhall.ingest import ColumnMapping, ColumnRule, Reconciliation, standardize_source

    p = tmp_path / "m.csv"
    p.write_text("First,Last\n" + "\n".join(f"A{i},B{i}" for i in range(1000)) + "\n\n")
    mapping = ColumnMapping({"First": ColumnRule("first_name"), "Last": ColumnRule("last_name")})
    results = {}
    for ahead in (True, False):
        rec = Reconciliation()
        out = list(standardize_source(open_source(p), mapping, reconciliation=rec, batch_size=64, read_ahead=ahead))
        results[ahead] = [r.loaded.get_column("first_name").to_list() for r in out]
        assert rec.balanced and rec.rows_read == 1001
    assert results[True] == results[False]

    class Broken:
        def batches(self, size: int):  # type: ignore[no-untyped-def]
            raise UserError("broken.csv: nope")
            yield

    with pytest.raises(UserError, match="broken.csv: nope"):
        list(standardize_source(Broken(), mapping))  # type: ignore[arg-type]
    # stopping early does not leave the reader thread blocked
    gen = standardize_source(open_source(p), mapping, batch_size=10)
    next(gen)
    gen.close()
