"""Column mapping: suggestions from headers and content, JSON round trip, reuse."""

from __future__ import annotations

import pytest

from unionhall.errors import UserError
from unionhall.ingest import ColumnMapping, ColumnRule, suggest_mapping

HEADER = ["Member #", "LNAME", "First", "MI", "Street Address", "Apt", "City", "ST", "Zip Code", "Cell",
          "Home Phone", "E-mail", "Birth Date", "Sex", "Local #", "Employer", "Worksite", "Status",
          "Dues Status", "Init Date", "Shirt Size"]
ROW = ["1001", "SMITH", "JOHN", "Q", "123 Main St", "4", "Springfield", "IL", "62701", "217-555-0123",
       "2175550199", "j@example.org", "03/04/1980", "M", "1199", "Acme", "Plant 2", "A", "Current", "2015-06-01", "L"]


def test_header_synonyms() -> None:
    m = suggest_mapping(HEADER, [ROW] * 5)
    fields = {c: (r.field, r.phone_type) for c, r in m.columns.items()}
    assert fields == {
        "Member #": ("member_id", None), "LNAME": ("last_name", None), "First": ("first_name", None),
        "MI": ("middle_name", None), "Street Address": ("addr_line1", None), "Apt": ("addr_line2", None),
        "City": ("city", None), "ST": ("state", None), "Zip Code": ("zip", None), "Cell": ("phone", "cell"),
        "Home Phone": ("phone", "home"), "E-mail": ("email", None), "Birth Date": ("dob", None),
        "Sex": ("gender", None), "Local #": ("local", None), "Employer": ("employer", None),
        "Worksite": ("worksite", None), "Status": ("member_status", None), "Dues Status": ("dues_status", None),
        "Init Date": ("join_date", None), "Shirt Size": ("custom", None),
    }
    assert m.problems() == []


def test_content_decides_for_unknown_headers() -> None:
    header = ["Field1", "Field2", "Field3", "Field4", "Field5"]
    rows = [[f"{['SMITH', 'LEE', 'NG', 'OX'][i % 4]}, JOHN", f"(312) 555-01{i:02d}", f"p{i}@example.org", f"0{i % 9 + 1}/12/1970", "IL"] for i in range(20)]
    m = suggest_mapping(header, rows)
    assert [m.columns[h].field for h in header] == ["full_name", "phone", "email", "dob", "state"]
    assert "look like" in m.columns["Field2"].reason


def test_content_overrides_contradicting_header() -> None:
    rows = [["Ann", "Lee", f"a{i}@example.org"] for i in range(20)]
    m = suggest_mapping(["First Name", "Last Name", "Phone"], rows)
    assert m.columns["Phone"].field == "email"


def test_one_column_per_single_field_and_dmy_detection() -> None:
    rows = [["Lee", "Lee", "25/12/1980"]] * 5
    m = suggest_mapping(["Last Name", "Surname", "DOB"], rows)
    assert sorted(r.field for r in m.columns.values()) == ["custom", "dob", "last_name"]
    assert m.date_order == "DMY"


def test_json_round_trip_and_reuse() -> None:
    m = suggest_mapping(HEADER, [ROW] * 5, source="local-1199")
    again = ColumnMapping.from_json(m.to_json())
    assert again == m
    reused, notes = again.for_header(["member #", "lname", "First", "Cell", "New Column"])
    assert reused.columns["lname"].field == "last_name"
    assert reused.columns["New Column"].field == "custom"
    assert any("new column 'New Column'" in n for n in notes)
    assert any("'City' (city) is missing" in n for n in notes)


def test_invalid_mappings() -> None:
    with pytest.raises(UserError, match="unknown member field"):
        ColumnRule("shoe_size")
    with pytest.raises(UserError, match="not valid JSON"):
        ColumnMapping.from_json("{")
    m = ColumnMapping({"A": ColumnRule("last_name"), "B": ColumnRule("last_name")})
    assert "last_name is mapped from more than one column" in m.problems()[0]
