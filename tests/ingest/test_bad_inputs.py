"""Every file in the bad-input corpus gives a clear message or quarantine reasons, never a
crash, and every row read is either loaded or quarantined (reconciliation)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from unionhall.errors import UserError
from unionhall.ingest import (
    FixedWidthLayout,
    Reconciliation,
    open_source,
    standardize_source,
    suggest_mapping,
)

CORPUS = Path(__file__).parent / "corpus"

# file -> a UserError whose message contains this text
FATAL = {
    "empty.csv": "the file is empty (0 bytes)",
    "whitespace_only.csv": "only blank lines, no header row",
    "binary_garbage.csv": "does not look like a text table",
    "pdf_named_csv.csv": "this is a PDF document",
    "password_protected.xlsx": "password-protected",
    "zip_not_xlsx.csv": "ZIP archive, not an Excel workbook",
    "truncated.xlsx": "damaged or cut short",
    "empty_sheet.xlsx": "sheet 'Empty' is empty",
}

# file -> (rows read, rows loaded, quarantine codes)
RECONCILED: dict[str, tuple[int, int, dict[str, int]]] = {
    "header_only.csv": (0, 0, {}),
    "windows_1252.csv": (4, 4, {}),
    "cp437_dos.csv": (4, 4, {}),
    "utf8_bom.csv": (3, 3, {}),
    "utf16_bom_excel_unicode.txt": (3, 3, {}),
    "utf16_no_bom.tsv": (3, 3, {}),
    "mixed_encoding.csv": (6, 5, {"undecodable": 1}),
    "ragged_rows.csv": (6, 4, {"ragged": 2}),
    "unterminated_quote.csv": (4, 3, {"unterminated_quote": 1}),
    "unterminated_quote_at_end.csv": (4, 3, {"unterminated_quote": 1}),
    "huge_field.csv": (3, 2, {"too_long": 1}),
    "nul_bytes.csv": (3, 2, {"nul_bytes": 1}),
    "formula_cells.csv": (3, 3, {}),
    "html_names.csv": (3, 3, {}),
    "duplicate_columns.csv": (1, 1, {}),
    "merged_cells_totals.xlsx": (6, 4, {"blank": 1, "totals_row": 1}),
    "really_xlsx.csv": (3, 3, {}),
    "dates_extreme.csv": (7, 7, {}),
    "blank_lines.csv": (7, 3, {"blank": 4}),
    "repeated_header.csv": (5, 4, {"repeated_header": 1}),
    "totals_row.csv": (5, 3, {"totals_row": 2}),
    "no_name_rows.csv": (6, 3, {"no_name": 3}),
    "semicolon_delimited.csv": (3, 3, {}),
    "pipe_delimited.txt": (3, 3, {}),
    "title_rows_above_header.csv": (3, 3, {}),
    "cr_only_newlines.csv": (3, 3, {}),
    "embedded_newlines.csv": (3, 3, {}),
    "backslash_escaped_quotes.csv": (2, 2, {}),
    "quoted_everything.csv": (3, 3, {}),
    "fixed_width.txt": (5, 3, {"blank": 1, "ragged": 1}),
    "single_column.csv": (4, 3, {"blank": 1}),
}
NOT_INPUTS = {"make_corpus.py", "fixed_width.layout.csv"}


def _open(path: Path):  # type: ignore[no-untyped-def]
    if path.name == "fixed_width.txt":
        return open_source(path, layout=FixedWidthLayout.parse((CORPUS / "fixed_width.layout.csv").read_text()))
    return open_source(path)


def _import(path: Path) -> tuple[Reconciliation, pl.DataFrame, pl.DataFrame]:
    reader = _open(path)
    mapping = suggest_mapping(reader.header, reader.sample_rows())
    rec = Reconciliation()
    loaded, quarantined = [], []
    for result in standardize_source(reader, mapping, reconciliation=rec):
        loaded.append(result.loaded)
        quarantined.append(result.quarantined)
    return rec, pl.concat(loaded) if loaded else pl.DataFrame(), pl.concat(quarantined) if quarantined else pl.DataFrame()


def test_corpus_has_at_least_30_files_and_each_has_an_expectation() -> None:
    inputs = {p.name for p in CORPUS.iterdir() if p.is_file() and p.name not in NOT_INPUTS}
    assert len(inputs) >= 30
    assert inputs == set(FATAL) | set(RECONCILED), "every corpus file needs an expectation here"


@pytest.mark.parametrize("name", sorted(FATAL))
def test_fatal_files_raise_one_line_user_error_naming_the_file(name: str) -> None:
    with pytest.raises(UserError) as info:
        _import(CORPUS / name)
    message = str(info.value)
    assert FATAL[name] in message
    assert name in message
    assert "\n" not in message


@pytest.mark.parametrize("name", sorted(RECONCILED))
def test_rows_reconcile_and_quarantine_reasons_are_given(name: str) -> None:
    rows_read, rows_loaded, codes = RECONCILED[name]
    rec, _loaded, quarantined = _import(CORPUS / name)
    assert rec.balanced
    assert (rec.rows_read, rec.rows_loaded) == (rows_read, rows_loaded)
    got = Counter(quarantined.get_column("code").to_list()) if quarantined.height else Counter()
    assert got == Counter(codes)
    if quarantined.height:
        assert all(r and len(r) > 5 for r in quarantined.get_column("reason").to_list())
        assert quarantined.get_column("row_number").min() >= 1  # type: ignore[operator]


def test_single_byte_code_pages_decode_to_the_right_letters() -> None:
    for name in ("windows_1252.csv", "cp437_dos.csv"):
        _rec, loaded, _q = _import(CORPUS / name)
        assert loaded.get_column("first_name").to_list() == ["José", "François", "Zoë", "Renée"], name
        assert loaded.get_column("last_name")[0] == "Muñoz"


def test_mixed_encoding_quarantine_names_column_byte_and_encoding() -> None:
    _rec, loaded, quarantined = _import(CORPUS / "mixed_encoding.csv")
    row = quarantined.row(0, named=True)
    assert row["row_number"] == 5
    assert "column 'First Name'" in row["reason"]
    assert "at byte 9" in row["reason"]
    assert "--encoding cp1252" in row["reason"]
    assert "\\xe9" in row["raw"]  # the undecodable byte, visible and not lost
    assert "Łukasz" in loaded.get_column("first_name").to_list()


def test_unterminated_quote_does_not_swallow_the_rows_after_it() -> None:
    _rec, loaded, quarantined = _import(CORPUS / "unterminated_quote.csv")
    assert quarantined.get_column("row_number").to_list() == [3]
    assert loaded.get_column("row_number").to_list() == [2, 4, 5]
    assert loaded.get_column("last_name").to_list() == ["Smith", "Jones", "Garcia"]


def test_row_numbers_are_physical_lines_even_after_a_multiline_value() -> None:
    _rec, loaded, _q = _import(CORPUS / "embedded_newlines.csv")
    assert loaded.get_column("row_number").to_list() == [2, 3, 5]
    assert (loaded.get_column("addr_line1")[1], loaded.get_column("addr_line2")[1]) == ("45 OAK AVE", "APT 2")


def test_formula_cells_are_kept_as_text_and_flagged() -> None:
    _rec, loaded, _q = _import(CORPUS / "formula_cells.csv")
    first = loaded.row(0, named=True)
    assert first["first_name"] == '=HYPERLINK("http://evil.example","Click")'
    assert "first_name:formula_like" in first["flags"]
    assert loaded.get_column("employer").to_list()[1:] == ["@Acme", "=cmd|' /C calc'!A0"]
    assert '"Notes":"=1+1"' in loaded.get_column("custom")[1]


def test_html_in_names_is_kept_literally_and_flagged() -> None:
    _rec, loaded, _q = _import(CORPUS / "html_names.csv")
    assert loaded.get_column("first_name")[0] == "<script>alert(1)</script>"
    assert "first_name:markup" in loaded.get_column("flags")[0]
    assert "last_name:markup" in loaded.get_column("flags")[1]


def test_duplicate_columns_are_renamed_and_reported() -> None:
    reader = open_source(CORPUS / "duplicate_columns.csv")
    assert reader.header == ["First Name", "Last Name", "Phone", "Phone_2", "Email", "email_2"]
    assert reader.renamed_columns == {"Phone_2": "Phone", "email_2": "email"}
    assert any("renamed" in n for n in reader.notes)
    _rec, loaded, _q = _import(CORPUS / "duplicate_columns.csv")
    assert [p["e164"] for p in loaded.get_column("phones")[0]] == ["+12175550101", "+13125550102"]


def test_merged_cells_fill_down_and_title_is_skipped() -> None:
    reader = open_source(CORPUS / "merged_cells_totals.xlsx")
    assert reader.header_row == 3
    _rec, loaded, quarantined = _import(CORPUS / "merged_cells_totals.xlsx")
    assert loaded.get_column("employer").to_list() == ["Metro Transit"] * 3 + ["County Hospital"]
    assert loaded.get_column("row_number").to_list() == [4, 5, 6, 7]
    assert loaded.get_column("phone")[0] == "+13125550101"
    assert str(loaded.get_column("dob")[0]) == "1984-05-06"
    assert quarantined.filter(pl.col("code") == "totals_row").get_column("reason")[0] == "totals row ('TOTAL MEMBERS: 4')"


def test_csv_that_is_really_xlsx_is_read_as_a_workbook() -> None:
    reader = open_source(CORPUS / "really_xlsx.csv")
    assert reader.format == "xlsx"
    assert any("really an Excel workbook" in n for n in reader.notes)


def test_extreme_dates_are_nulled_and_flagged_with_raw_kept() -> None:
    _rec, loaded, _q = _import(CORPUS / "dates_extreme.csv")
    by_last = {r["last_name"]: r for r in loaded.iter_rows(named=True)}
    assert by_last["Old"]["dob"] is None and by_last["Old"]["dob_flag"] == "out_of_range"
    assert by_last["Old"]["dob_raw"] == "01/01/1700"
    assert by_last["Future"]["join_date"] is None and by_last["Future"]["join_date_flag"] == "future"
    assert by_last["Impossible"]["dob_flag"] == "impossible"
    assert str(by_last["Serial"]["dob"]) == "1980-03-04"
    assert str(by_last["Serial"]["join_date"]) == "2020-01-01"
    assert str(by_last["TwoDigit"]["dob"]) == "1966-07-04"
    assert str(by_last["Words"]["dob"]) == "1980-03-04"
    assert by_last["Junk"]["dob_flag"] == "unparsed"


def test_user_error_for_missing_file_and_unknown_encoding(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="file not found"):
        open_source(tmp_path / "nope.csv")
    (tmp_path / "a.csv").write_text("First Name\nAnn\n")
    with pytest.raises(UserError, match="unknown encoding 'klingon'"):
        open_source(tmp_path / "a.csv", encoding="klingon")
