"""The NCSBE layout documents parse into columns, widths and code tables."""

from __future__ import annotations

import pytest

from unionhall.elections.nc_layout import (
    absentee_layout,
    load_layout,
    ncvhis_layout,
    ncvoter_layout,
)


def test_ncvoter_current_layout_has_67_columns_in_documented_order() -> None:
    layout = ncvoter_layout()
    names = layout.column_names
    assert len(names) == 67
    assert names[:6] == ("county_id", "county_desc", "voter_reg_num", "ncid", "last_name", "first_name")
    assert names[-2:] == ("vtd_abbrv", "vtd_desc")
    assert "age_at_year_end" in names and "birth_age" not in names
    assert layout.delimiter == "\t"
    assert layout.updated == "02/11/2022"


def test_ncvoter_previous_vintage_is_recorded() -> None:
    previous = [c.name for c in ncvoter_layout().previous_columns]
    assert len(previous) == 71
    assert "birth_age" in previous and "absent_ind" in previous
    assert previous.index("status_cd") == 3  # status came before the name in the old file


def test_widths_including_the_documents_typos() -> None:
    layout = ncvoter_layout()
    assert layout.column("voter_reg_num").width == 12
    assert layout.column("mail_city").width == 30  # written "varchar(3)0"
    assert layout.column("res_street_address").width == 65  # written "varvarchar(65)"
    assert layout.column("county_id").width is None


def test_documented_code_tables() -> None:
    layout = ncvoter_layout()
    assert dict(layout.codes["status_cd"]) == {
        "A": "ACTIVE", "D": "DENIED", "I": "INACTIVE", "R": "REMOVED",
        "S": "TEMPORARY (APPLICABLE TO MILITARY AND OVERSEAS)",
    }
    assert layout.codes["voter_status_desc"]["TEMPORARY"] == "S"
    assert set(layout.codes["race_code"]) == set("ABIMOPUW")
    assert set(layout.codes["ethnic_code"]) == {"HL", "NL", "UN"}
    assert layout.codes["county_id"]["92"] == "WAKE"
    assert layout.codes["county_desc"]["MECKLENBURG"] == "60"
    assert len(layout.codes["county_id"]) == 100


def test_supplementary_codes_are_kept_apart() -> None:
    layout = ncvoter_layout()
    assert "party_cd" not in layout.codes
    assert {"DEM", "REP", "UNA", "LIB"} <= layout.allowed("party_cd")
    with pytest.raises(KeyError):
        layout.allowed("last_name")


def test_ncvhis_and_absentee_layouts() -> None:
    his = ncvhis_layout()
    assert len(his.column_names) == 15
    assert his.column_names[3:6] == ("election_lbl", "election_desc", "voting_method")
    assert "IN-PERSON" in his.allowed("voting_method")
    ab = absentee_layout()
    assert ab.delimiter == ","
    removed = [c.name for c in ab.columns if c.removed]
    assert removed == ["application_num"]
    assert len(ab.column_names) == 42
    assert ab.codes["voter_party_code"]["UNA"] == "UNAFFILIATED"
    assert "PENDING CURE" in ab.allowed("ballot_rtn_status")


def test_unknown_layout_name() -> None:
    with pytest.raises(KeyError):
        load_layout("ncfoo")
