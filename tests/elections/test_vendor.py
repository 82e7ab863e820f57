"""The generic voter-file importer: vendor CSVs, fixed-width and header-less state files,
saved layouts, reloads, and several states in one warehouse."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.elections.conftest import Loader, q
from tests.elections.nc_factory import voter, write_ncvoter
from tests.elections.vendor_factory import OHIO_HEADER, load_vendor, ohio_row, write_csv
from unionhall.elections.vendor import VoterLayout, layout_resolve
from unionhall.ingest.mapping import ColumnMapping, ColumnRule, suggest_mapping
from unionhall.ingest.readers import FixedField
from unionhall.warehouse import Warehouse


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("LALVOTERID", "registration_id"),
        ("Voters_FirstName", "first_name"),
        ("Voters_LastName", "last_name"),
        ("Voters_BirthDate", "dob"),
        ("Residence_Addresses_AddressLine", "addr_line1"),
        ("Residence_Addresses_City", "city"),
        ("Residence_Addresses_ZipPlus4", "zip4"),
        ("Mailing_Addresses_AddressLine", "mail_addr1"),
        ("Parties_Description", "party"),
        ("Voters_OfficialRegDate", "registration_date"),
        ("US_Congressional_District", "congressional_district"),
        ("State_Senate_District", "state_senate_district"),
        ("State_House_District", "state_house_district"),
        ("vb.tsmart_first_name", "first_name"),
        ("vb.tsmart_last_name", "last_name"),
        ("vb.vf_cd", "congressional_district"),
        ("SOS_VOTERID", "registration_id"),
        ("STATE_REPRESENTATIVE_DISTRICT", "state_house_district"),
        ("Residence City (USPS)", "city"),
        ("Voter ID", "registration_id"),
        ("Name Last", "last_name"),
        ("Precinct", "precinct"),
        ("Birth Year", "birth_year"),
    ],
)
def test_vendor_and_state_headers_are_recognised(header: str, field: str) -> None:
    m = suggest_mapping([header], [[""]], schema="voter")
    assert m.columns[header].field == field


def test_member_mapping_is_unchanged_by_the_voter_schema() -> None:
    m = suggest_mapping(["Member ID", "Last Name", "Cell"], [["1", "Smith", "2175550123"]] * 3)
    assert m.schema == "member"
    assert [r.field for r in m.columns.values()] == ["member_id", "last_name", "phone"]
    assert "schema" not in m.to_json()
    v = ColumnMapping({"LALVOTERID": ColumnRule("registration_id")}, schema="voter")
    assert ColumnMapping.from_json(v.to_json()).schema == "voter"


VENDOR_HEADER = [
    "LALVOTERID", "Voter Name", "Birth Year", "Voters_OfficialRegDate", "Residence_Addresses_AddressLine",
    "Residence_Addresses_City", "Residence_Addresses_Zip", "Parties_Description", "Voters_Gender", "County",
    "Precinct", "US_Congressional_District", "State_House_District", "State_Senate_District", "Shoe Size",
]


def _vendor_rows() -> list[list[str]]:
    return [
        ["LALPA001", "GARCÍA, JOSÉ M", "1961", "04/17/1990", "12 Market St Apt 3", "Philadelphia", "19106",
         "Democratic", "M", "Philadelphia", "PHL-05-12", "03", "182", "1", "10"],
        ["LALPA002", "Renée O'Neil", "1988", "11/02/2012", "400 Penn Ave", "Pittsburgh", "15222-1234",
         "Republican", "F", "Allegheny", "PIT-01-04", "12", "19", "42", "7"],
        ["LALPA003", "BRONTË, CHARLOTTE", "2002", "09/09/2020", "7 Oak Ln", "Pittsburgh", "15222",
         "Non-Partisan", "F", "Allegheny County", "PIT-01-04", "12", "19", "42", "8"],
    ]


def test_vendor_csv_in_cp1252_loads_and_reconciles(tmp_path: Path, warehouse: Warehouse) -> None:
    path = write_csv(tmp_path / "pa_vendor_20261001.csv", VENDOR_HEADER, _vendor_rows(), encoding="cp1252")
    resolved = layout_resolve(path=path)
    assert resolved.suggested and resolved.reader.encoding == "cp1252"
    fields = {c: r.field for c, r in resolved.layout.mapping.columns.items()}
    assert fields["Voter Name"] == "full_name" and fields["Birth Year"] == "birth_year"
    assert fields["County"] == "county" and fields["Shoe Size"] == "custom"

    rec = load_vendor(warehouse, path, state="PA")
    assert (rec.rows_read, rec.rows_loaded, rec.rows_quarantined, rec.new) == (3, 3, 0, 3)
    assert rec.kind == "voterfile_pa" and rec.layout == "suggested mapping (PA)"
    rows = q(warehouse, """
        SELECT voter_reg_num, ncid, county_id, county_desc, first_name, middle_name, last_name, birth_year,
               registr_dt, party_cd, gender_code, res_street_address, res_city_desc, state_cd, zip_code,
               precinct_abbrv, cong_dist_abbrv, nc_house_abbrv, nc_senate_abbrv
        FROM voter ORDER BY voter_reg_num""")
    assert rows[0] == ("LALPA001", "PA:LALPA001", 42002, "PHILADELPHIA", "JOSÉ", "M", "GARCÍA", 1961,
                       dt.date(1990, 4, 17), "DEM", "M", "12 MARKET ST APT 3", "PHILADELPHIA", "PA", "19106",
                       "PHL-05-12", "3", "182", "1")
    assert rows[1][4:8] == ("RENÉE", None, "O'NEIL", 1988)
    assert rows[1][14] == "15222-1234" and rows[1][9] == "REP"
    assert rows[2][2:4] == (42001, "ALLEGHENY") and rows[2][9] == "UNA"
    assert rows[1][2] == 42001  # "Allegheny" and "Allegheny County" are one county
    # Persons are made the same way as for NC registrations.
    people = q(warehouse, """
        SELECT p.last_name, p.state, p.county FROM person p JOIN voter_person m USING (person_id)
        WHERE m.ncid LIKE 'PA:%' ORDER BY 1""")
    assert people == [("BRONTË", "PA", "ALLEGHENY"), ("GARCÍA", "PA", "PHILADELPHIA"), ("O'NEIL", "PA", "ALLEGHENY")]
    # What NC's columns cannot hold: unmapped columns as JSON (birth year only: no date).
    assert q(warehouse, "SELECT ncid, birth_date, extra->>'Shoe Size' FROM voter_extra ORDER BY 1") == [
        ("PA:LALPA001", None, "10"), ("PA:LALPA002", None, "7"), ("PA:LALPA003", None, "8")]
    again = load_vendor(warehouse, path, state="PA")
    assert again.already_loaded and again.load_id == rec.load_id


FIXED = [
    FixedField("VOTER_ID", 1, 8), FixedField("COUNTY", 9, 20), FixedField("LAST", 21, 35),
    FixedField("FIRST", 36, 47), FixedField("DOB", 48, 55), FixedField("STREET", 56, 80),
    FixedField("CITY", 81, 95), FixedField("ZIP", 96, 100), FixedField("PARTY", 101, 103),
    FixedField("STATUS", 104, 104),
]


def _fixed_line(vid: str, county: str, last: str, first: str, dob: str, street: str, city: str, zip5: str,
                party: str, status: str) -> str:
    vals = [vid, county, last, first, dob, street, city, zip5, party, status]
    return "".join(v.ljust(f.end - f.start + 1) for v, f in zip(vals, FIXED, strict=True))


def _fixed_layout() -> VoterLayout:
    mapping = ColumnMapping(
        {"VOTER_ID": ColumnRule("registration_id"), "COUNTY": ColumnRule("county"),
         "LAST": ColumnRule("last_name"), "FIRST": ColumnRule("first_name"), "DOB": ColumnRule("dob"),
         "STREET": ColumnRule("addr_line1"), "CITY": ColumnRule("city"), "ZIP": ColumnRule("zip"),
         "PARTY": ColumnRule("party"), "STATUS": ColumnRule("status")},
        date_order="YMD", schema="voter",
    )
    return VoterLayout(mapping=mapping, state="WV", fixed_width=list(FIXED), header_lines=1)


@pytest.mark.django_db
def test_fixed_width_state_file_with_saved_layout_reused_by_name_and_reloaded(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    from unionhall.elections.voter_layouts import (
        voter_layout_get,
        voter_layout_list,
        voter_layout_save,
    )

    voter_layout_save(name="West Virginia SOS", layout=_fixed_layout())
    assert [r["name"] for r in voter_layout_list()] == ["West Virginia SOS"]
    assert voter_layout_list()[0]["format"] == "fixed-width"
    title = "WV STATEWIDE VOTER EXTRACT"
    week1 = [
        title,
        _fixed_line("00000001", "KANAWHA", "SMITH", "ANN", "19700304", "12 MAIN ST", "CHARLESTON", "25301", "DEM", "A"),
        _fixed_line("00000002", "KANAWHA", "JONES", "BOB", "19800101", "14 OAK AVE", "CHARLESTON", "25301", "REP", "A"),
        _fixed_line("00000003", "CABELL", "LEE", "KIM", "19900505", "9 ELM ST", "HUNTINGTON", "25701", "UNA", "A"),
    ]
    (tmp_path / "wv_20261001.txt").write_text("\n".join(week1) + "\n", encoding="ascii")
    lay = voter_layout_get(name="west virginia sos")
    rec = load_vendor(warehouse, tmp_path / "wv_20261001.txt", state="WV", layout=lay)
    assert (rec.rows_read, rec.rows_loaded, rec.new, rec.rows_quarantined) == (3, 3, 3, 0)
    assert rec.layout == "West Virginia SOS (WV)"
    assert q(warehouse, "SELECT county_id, county_desc FROM voter GROUP BY ALL ORDER BY 1") == [
        (54001, "CABELL"), (54002, "KANAWHA")]
    assert q(warehouse, "SELECT birth_year FROM voter WHERE voter_reg_num = '00000001'") == [(1970,)]
    assert q(warehouse, "SELECT birth_date, extra FROM voter_extra WHERE ncid = 'WV:00000001'") == [
        (dt.date(1970, 3, 4), None)]

    # A week later: Bob moved, Kim is gone, Dee is new; the saved layout is reused by name.
    week2 = [
        title,
        _fixed_line("00000001", "KANAWHA", "SMITH", "ANN", "19700304", "12 MAIN ST", "CHARLESTON", "25301", "DEM", "A"),
        _fixed_line("00000002", "KANAWHA", "JONES", "BOB", "19800101", "88 RIVER RD", "CHARLESTON", "25302", "REP", "I"),
        _fixed_line("00000004", "CABELL", "DIAZ", "DEE", "20000101", "3 ASH CT", "HUNTINGTON", "25701", "DEM", "A"),
    ]
    (tmp_path / "wv_20261008.txt").write_text("\n".join(week2) + "\n", encoding="ascii")
    rec2 = load_vendor(warehouse, tmp_path / "wv_20261008.txt", state="WV",
                       layout=voter_layout_get(name="West Virginia SOS"))
    assert (rec2.new, rec2.changed, rec2.removed, rec2.unchanged) == (1, 1, 1, 1)
    assert q(warehouse, "SELECT voter_reg_num, in_file, status_cd FROM voter ORDER BY 1") == [
        ("00000001", True, "A"), ("00000002", True, "I"), ("00000003", False, "A"), ("00000004", True, "A")]
    hist = q(warehouse, """
        SELECT voter_reg_num, change, valid_from, valid_to FROM voter_history ORDER BY voter_reg_num, valid_from""")
    assert ("00000002", "status,address", dt.date(2026, 10, 8), None) in hist
    assert ("00000002", "new", dt.date(2026, 10, 1), dt.date(2026, 10, 8)) in hist
    assert ("00000003", "dropped", dt.date(2026, 10, 8), None) in hist
    assert ("00000004", "new", dt.date(2026, 10, 8), None) in hist


def test_layout_files_round_trip_as_toml_and_json(tmp_path: Path) -> None:
    lay = _fixed_layout()
    lay.name = "wv"
    for name in ("wv.toml", "wv.json"):
        p = lay.write(tmp_path / name)
        back = VoterLayout.read(p)
        assert back.to_dict() == lay.to_dict()
    assert (tmp_path / "wv.toml").read_text().startswith("layout_version = 1\nname = \"wv\"")


def test_header_less_tab_file_with_a_saved_layout(tmp_path: Path, warehouse: Warehouse) -> None:
    columns = ["County Code", "Voter ID", "Name Last", "Name Suffix", "Name First", "Name Middle",
               "Residence Address Line 1", "Residence City (USPS)", "Residence Zipcode", "Gender",
               "Birth Date", "Registration Date", "Party Affiliation", "Precinct", "Voter Status"]
    text = (
        "ALA\t100000001\tSmith\t\tAnn\tB\t12 Main St\tGainesville\t32601\tF\t03/04/1970\t02/03/2001\tDEM\t12\tACT\n"
        "ALA\t100000002\tJones\tJr\tBob\t\t14 Oak Ave\tGainesville\t32601\tM\t01/01/1980\t01/01/2005\tNPA\t12\tINA\n"
    )
    (tmp_path / "ALA_20261001.txt").write_text(text, encoding="utf-8")
    resolved = layout_resolve(
        path=tmp_path / "ALA_20261001.txt",
        layout=VoterLayout(mapping=ColumnMapping(schema="voter"), delimiter="\t", column_names=columns),
    )
    assert resolved.suggested  # reader options only: the mapping comes from the column names
    assert resolved.layout.mapping.column_for("registration_id") == "Voter ID"
    rec = load_vendor(warehouse, tmp_path / "ALA_20261001.txt", state="FL", layout=resolved.layout)
    assert (rec.rows_read, rec.rows_loaded) == (2, 2)
    assert q(warehouse, "SELECT voter_reg_num, name_suffix_lbl, party_cd, status_cd, precinct_abbrv FROM voter "
                        "ORDER BY 1") == [("100000001", None, "DEM", "A", "12"), ("100000002", "JR", "UNA", "I", "12")]


def test_ohio_and_nc_files_coexist_without_collisions(tmp_path: Path, warehouse: Warehouse, load: Loader) -> None:
    load("voterfile", write_ncvoter(tmp_path / "ncvoter_20261001.txt", [voter(1), voter(2)]))
    # Same county number (25) and the same registration number as NC's voter 1.
    oh = write_csv(tmp_path / "oh_20260915.csv", OHIO_HEADER,
                   [ohio_row(1, SOS_VOTERID="1"), ohio_row(2, SOS_VOTERID="NC1")])
    rec = load_vendor(warehouse, oh, state="OH")
    assert (rec.new, rec.removed) == (2, 0)
    assert q(warehouse, "SELECT county_id, voter_reg_num, ncid, in_file FROM voter ORDER BY county_id, ncid") == [
        (25, "1", "NC1", True), (25, "2", "NC2", True), (39001, "1", "OH:1", True), (39001, "NC1", "OH:NC1", True)]
    assert q(warehouse, "SELECT count(DISTINCT person_id) FROM voter_person") == [(4,)]
    # An NC reload (older than the Ohio file is fine: states are dated separately) removes only NC rows.
    load("voterfile", write_ncvoter(tmp_path / "ncvoter_20261008.txt", [voter(1)]))
    assert q(warehouse, "SELECT ncid FROM voter WHERE NOT in_file") == [("NC2",)]
    rec2 = load_vendor(warehouse, write_csv(tmp_path / "oh_20261008.csv", OHIO_HEADER, [ohio_row(1, SOS_VOTERID="1")]),
                       state="OH")
    assert (rec2.removed, rec2.unchanged) == (1, 1)
    assert q(warehouse, "SELECT ncid FROM voter WHERE NOT in_file ORDER BY 1") == [("NC2",), ("OH:NC1",)]


@pytest.mark.parametrize("order", ["MDY", "DMY", "YMD"])
def test_column_wise_dates_agree_with_the_ingest_date_parser(order: str) -> None:
    import polars as pl

    from unionhall.elections.vendor import _fast_dates
    from unionhall.ingest.standardize.dates import parse_date

    values = ["04/17/1990", "4/7/1990", "02/30/2001", "2001-02-03", "2001-2-3", "13/01/2000", "1990", "",
              "12/31/1999", "31/12/1999", "2024-02-29", "2023-02-29", "00/01/2000"]
    fast = _fast_dates(pl.Series(values), order).to_list()
    for value, got in zip(values, fast, strict=True):
        if got is not None:
            assert got == parse_date(value, order)[0], value
    assert sum(d is not None for d in fast) >= 2


def test_street_address_in_parts_is_assembled_in_file_order(tmp_path: Path, warehouse: Warehouse) -> None:
    header = ["LALVOTERID", "Voters_LastName", "Voters_FirstName", "Residence_Addresses_HouseNumber",
              "Residence_Addresses_PrefixDirection", "Residence_Addresses_StreetName",
              "Residence_Addresses_Designator", "Residence_Addresses_ApartmentType",
              "Residence_Addresses_ApartmentNum", "Residence_Addresses_City"]
    path = write_csv(tmp_path / "ga_20261001.csv", header, [
        ["LALGA1", "Lee", "Kim", "12", "N", "Peachtree", "St", "Apt", "4B", "Atlanta"],
        ["LALGA2", "Diaz", "Ana", "7", "", "Oak", "Ave", "", "", "Atlanta"],
    ])
    fields = {c: r.field for c, r in layout_resolve(path=path).layout.mapping.columns.items()}
    assert fields["Residence_Addresses_HouseNumber"] == "house_number"
    assert fields["Residence_Addresses_Designator"] == "street_name"
    assert fields["Residence_Addresses_ApartmentNum"] == "addr_line2"
    load_vendor(warehouse, path, state="GA")
    assert q(warehouse, "SELECT res_street_address, county_id FROM voter ORDER BY voter_reg_num") == [
        ("12 N PEACHTREE ST APT 4B", 13000), ("7 OAK AVE", 13000)]


def test_a_move_between_counties_keeps_the_person(tmp_path: Path, warehouse: Warehouse) -> None:
    load_vendor(warehouse, write_csv(tmp_path / "oh_20261001.csv", OHIO_HEADER,
                                     [ohio_row(1, COUNTY_NUMBER="FRANKLIN"), ohio_row(2, COUNTY_NUMBER="DELAWARE")]),
                state="OH")
    person = q(warehouse, "SELECT person_id FROM voter_person WHERE ncid = 'OH:OH0000000001'")
    rec = load_vendor(warehouse, write_csv(tmp_path / "oh_20261008.csv", OHIO_HEADER,
                                           [ohio_row(1, COUNTY_NUMBER="DELAWARE"), ohio_row(2, COUNTY_NUMBER="DELAWARE")]),
                      state="OH")
    assert (rec.new, rec.removed, rec.unchanged) == (1, 1, 1)
    assert q(warehouse, "SELECT county_desc, in_file FROM voter WHERE ncid = 'OH:OH0000000001' ORDER BY 2") == [
        ("FRANKLIN", False), ("DELAWARE", True)]
    assert q(warehouse, "SELECT person_id FROM voter_person WHERE ncid = 'OH:OH0000000001'") == person
    assert q(warehouse, "SELECT county FROM person WHERE person_id = ?", person[0][0]) == [("DELAWARE",)]


def test_a_workbook_voter_file_loads(tmp_path: Path, warehouse: Warehouse) -> None:
    import xlsxwriter

    path = tmp_path / "mi_20261001.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Voters")
    sheet.write_row(0, 0, ["MICHIGAN QVF EXTRACT"])
    sheet.write_row(2, 0, ["Voter ID", "Last Name", "First Name", "Year of Birth", "County", "Status"])
    sheet.write_row(3, 0, [1001, "Nguyen", "Tam", 1984, "Wayne", "Active"])
    sheet.write_row(4, 0, [1002, "Ortiz", "Luz", 1990, "Kent", "Inactive"])
    book.close()
    rec = load_vendor(warehouse, path, state="MI")
    assert (rec.rows_read, rec.rows_loaded, rec.rows_quarantined) == (2, 2, 0)
    assert q(warehouse, "SELECT voter_reg_num, ncid, last_name, birth_year, status_cd FROM voter ORDER BY 1") == [
        ("1001", "MI:1001", "NGUYEN", 1984, "A"), ("1002", "MI:1002", "ORTIZ", 1990, "I")]
    assert q(warehouse, "SELECT row_number FROM voter ORDER BY 1") == [(4,), (5,)]
