"""Field standardizers and batch standardization."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from unionhall.ingest import ColumnMapping, ColumnRule, open_source, standardize_batch
from unionhall.ingest.standardize import LOADED_SCHEMA
from unionhall.ingest.standardize.codes import (
    standardize_gender,
    standardize_local,
    standardize_member_id,
    standardize_state,
    standardize_zip,
)
from unionhall.ingest.standardize.dates import parse_date
from unionhall.ingest.standardize.emails import standardize_email
from unionhall.ingest.standardize.names import (
    proper_case,
    standardize_first,
    standardize_full_name,
    standardize_last,
)


@pytest.mark.parametrize(
    ("raw", "order", "expected"),
    [
        ("1980-03-04", "MDY", (dt.date(1980, 3, 4), None)),
        ("03/04/1980", "MDY", (dt.date(1980, 3, 4), None)),
        ("03/04/1980", "DMY", (dt.date(1980, 4, 3), None)),
        ("3/4/80", "MDY", (dt.date(1980, 3, 4), None)),
        ("04-Mar-1980", "MDY", (dt.date(1980, 3, 4), None)),
        ("March 4th, 1980", "MDY", (dt.date(1980, 3, 4), None)),
        ("19800304", "MDY", (dt.date(1980, 3, 4), None)),
        ("29284", "MDY", (dt.date(1980, 3, 4), None)),
        ("1980-03-04 00:00:00", "MDY", (dt.date(1980, 3, 4), None)),
        ("02/30/1980", "MDY", (None, "impossible")),
        ("60", "MDY", (None, "impossible")),
        ("1980", "MDY", (None, "year_only")),
        ("soon", "MDY", (None, "unparsed")),
        ("", "MDY", (None, None)),
    ],
)
def test_parse_date(raw: str, order: str, expected: tuple[dt.date | None, str | None]) -> None:
    assert parse_date(raw, order) == expected


def test_codes() -> None:
    assert standardize_state("Illinois") == ("IL", None)
    assert standardize_state("ill.") == ("IL", None)
    assert standardize_state("XX") == (None, "invalid")
    assert standardize_state("ON") == ("ON", "foreign")
    assert standardize_zip("627011234") == ("62701", "1234", None)
    assert standardize_zip("2134") == ("02134", None, "zip_padded")
    assert standardize_zip("K1A 0B1") == (None, None, "foreign")
    assert standardize_zip("ABCDE") == (None, None, "invalid")
    assert standardize_gender("Female") == ("F", None)
    assert standardize_gender("purple") == (None, "unrecognized")
    assert standardize_local("Local #1199") == ("1199", None)
    assert standardize_local("L-32BJ") == ("32BJ", None)
    assert standardize_member_id("1.23457E+11") == ("1.23457E+11", "scientific_notation")


def test_emails() -> None:
    assert standardize_email(" mailto:Ann.Lee@EXAMPLE.Org ") == ("Ann.Lee@example.org", "ok")
    assert standardize_email("ann@gmial.com") == ("ann@gmial.com", "suspect_domain")
    assert standardize_email("ann at example.org") == (None, "invalid")
    assert standardize_email("a@b") == (None, "invalid")


def test_names() -> None:
    assert proper_case("MCDONALD") == "McDonald"
    assert proper_case("O'NEIL-SMITH") == "O'Neil-Smith"
    assert proper_case("DeShawn") == "DeShawn"
    assert standardize_first("DR. JOHN Q") == ("Dr", "John", "Q", None)
    assert standardize_last("SMITH JR.") == ("Smith", "Jr", None)
    parts = standardize_full_name("SMITH, JOHN Q")
    assert (parts.first, parts.middle, parts.last) == ("John", "Q", "Smith")
    parts = standardize_full_name("Dr. Mary Ann de la Cruz III")
    assert (parts.prefix, parts.first, parts.last, parts.suffix) == ("Dr", "Mary", "de la Cruz", "III")


def _batch(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    p = tmp_path / "m.csv"
    p.write_text(text)
    reader = open_source(p)
    return next(reader.batches())


def test_batch_schema_is_fixed_whatever_is_mapped(tmp_path: Path) -> None:
    batch = _batch(tmp_path, "Name,Favorite Color\n\"SMITH, JOHN\",blue\n")
    mapping = ColumnMapping({"Name": ColumnRule("full_name")})
    result = standardize_batch(batch, mapping)
    assert dict(result.loaded.schema) == LOADED_SCHEMA
    row = result.loaded.row(0, named=True)
    assert (row["first_name"], row["last_name"]) == ("John", "Smith")
    assert row["custom"] == '{"Favorite Color":"blue"}'
    assert row["address_flag"] == "missing"


def test_combined_address_column_is_split(tmp_path: Path) -> None:
    batch = _batch(tmp_path, 'First,Last,Address\nAnn,Lee,"12 west oak avenue apt 3, Springfield, Illinois 62701-1234"\n')
    mapping = ColumnMapping({"First": ColumnRule("first_name"), "Last": ColumnRule("last_name"),
                             "Address": ColumnRule("full_address")})
    row = standardize_batch(batch, mapping).loaded.row(0, named=True)
    assert (row["addr_line1"], row["addr_line2"], row["city"], row["state"], row["zip5"], row["zip4"]) == (
        "12 W OAK AVE", "APT 3", "SPRINGFIELD", "IL", "62701", "1234")
    assert row["address_flag"] == "ok"
    assert row["address_raw"] == "12 west oak avenue apt 3, Springfield, Illinois 62701-1234"


def test_empty_batch_has_schema(tmp_path: Path) -> None:
    batch = _batch(tmp_path, "First,Last\n\n")
    result = standardize_batch(batch, ColumnMapping({"First": ColumnRule("first_name")}))
    assert result.loaded.height == 0 and dict(result.loaded.schema) == LOADED_SCHEMA
    assert result.quarantined.get_column("code").to_list() == ["blank"]


def test_distinct_values_are_standardized_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import unionhall.ingest.standardize as std

    calls: list[str] = []
    real = std.standardize_email.__wrapped__  # type: ignore[attr-defined]

    def counting(value: str) -> tuple[str | None, str | None]:
        calls.append(value)
        return real(value)

    monkeypatch.setattr(std, "standardize_email", counting)
    # Wrapped addresses need the Python path (clean ones are handled column-wise).
    rows = "\n".join(f"Ann{i},Lee,{'<a@example.org>' if i % 2 else 'mailto:b@example.org'}" for i in range(1000))
    batch = _batch(tmp_path, "First,Last,Email\n" + rows + "\n")
    mapping = ColumnMapping({"First": ColumnRule("first_name"), "Last": ColumnRule("last_name"), "Email": ColumnRule("email")})
    loaded = standardize_batch(batch, mapping).loaded
    assert sorted(calls) == ["<a@example.org>", "mailto:b@example.org"]
    assert loaded.get_column("email").n_unique() == 2 and loaded.height == 1000
    assert loaded.filter(pl.col("first_name") == "Ann1").get_column("email")[0] == "a@example.org"


def test_mapping_columns_missing_from_the_file_are_ignored(tmp_path: Path) -> None:
    batch = _batch(tmp_path, "First,Last\nAnn,Lee\n")
    mapping = ColumnMapping({"First": ColumnRule("first_name"), "Last": ColumnRule("last_name"),
                             "Cell": ColumnRule("phone", "cell"), "DOB": ColumnRule("dob")})
    row = standardize_batch(batch, mapping).loaded.row(0, named=True)
    assert (row["first_name"], row["phones"], row["dob"]) == ("Ann", [], None)
