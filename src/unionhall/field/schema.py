"""Warehouse schema of the field program.

* Targeting attributes on ``person`` (what lists filter on, kept by
  `field.facts.person_facts_refresh` after every voter, history, absentee, identity and
  address-point load): precinct and districts, party, registration status, birth year
  and age, participation, this election's ballot status, and the person's door (a
  normalized household address with its house number, street, unit and coordinates).
  On the person row itself, a list's filters join the scope's one row filter: a count
  is one scan (no joins) however many filters it has.
* ``address_point``: coordinates of street addresses (a county's or the state's address
  points file, or a geocoder's output); doors take their coordinates from here.
* ``list_person``: the persons of each version of each saved list (its snapshot).
* ``turf_person``: which turf and door each person of a cut belongs to, in walk order.
* ``contact_history`` and ``contact_response``: every contact attempt (door, phone,
  vendor) with its result, and the survey answers given; ``result_key`` makes posting
  idempotent (a result entered twice, or uploaded again, is one row).
* ``contact_quarantine``: rows of vendor result files that could not be posted.

Never edit a migration once it has been committed; add a new one.
"""

from __future__ import annotations

from ibis.backends.duckdb import Backend as DuckDBBackend

from unionhall.warehouse.catalog import PersonColumns, PersonTable
from unionhall.warehouse.migrations import Migration

# (column, type) added to `person`.
PERSON_FACTS: list[tuple[str, str]] = [
    ("precinct", "VARCHAR"), ("precinct_name", "VARCHAR"), ("cong_dist", "VARCHAR"), ("nc_senate", "VARCHAR"),
    ("nc_house", "VARCHAR"), ("municipality", "VARCHAR"), ("ward", "VARCHAR"), ("school_dist", "VARCHAR"),
    ("party", "VARCHAR"), ("reg_status", "VARCHAR"),
    ("birth_year", "INTEGER"), ("age", "INTEGER"),
    ("generals_voted", "INTEGER"), ("generals_considered", "INTEGER"), ("primaries_voted", "INTEGER"),
    ("votes_total", "INTEGER"), ("vote_habit", "VARCHAR"), ("first_time_voter", "BOOLEAN"),
    ("ballot_election", "DATE"), ("ballot_stage", "VARCHAR"), ("already_voted", "BOOLEAN"),
    ("ballot_chase", "BOOLEAN"), ("needs_cure", "BOOLEAN"),
    ("door_key", "VARCHAR"), ("house_number", "BIGINT"), ("street", "VARCHAR"), ("unit", "VARCHAR"),
    ("lat", "DOUBLE"), ("lon", "DOUBLE"), ("walkable", "BOOLEAN"),
    ("facts_at", "TIMESTAMP"),
]


def _person_facts(be: DuckDBBackend) -> None:
    for name, typ in PERSON_FACTS:
        be.con.execute(f"ALTER TABLE person ADD COLUMN {name} {typ}")


def _field_tables(be: DuckDBBackend) -> None:
    con = be.con
    con.execute(
        """
        CREATE TABLE address_point (
            addr_key VARCHAR NOT NULL,        -- upper-case "NUMBER STREET|ZIP5" (unit ignored)
            house_number BIGINT,
            street VARCHAR,
            city VARCHAR,
            zip5 VARCHAR,
            lat DOUBLE NOT NULL,
            lon DOUBLE NOT NULL,
            load_id BIGINT NOT NULL
        )"""
    )
    con.execute("CREATE TABLE list_person (list_id BIGINT NOT NULL, version INTEGER NOT NULL, person_id BIGINT NOT NULL)")
    con.execute(
        """
        CREATE TABLE turf_person (
            cut_id BIGINT NOT NULL,
            turf_no INTEGER NOT NULL,         -- the turf's number within the cut (Turf.number)
            door_id BIGINT NOT NULL,          -- unique within the cut
            seq INTEGER NOT NULL,             -- walk order of the door within its turf
            person_id BIGINT NOT NULL
        )"""
    )
    con.execute(
        """
        CREATE TABLE contact_history (
            result_key VARCHAR NOT NULL,      -- idempotency: one row per real attempt
            person_id BIGINT NOT NULL,
            channel VARCHAR NOT NULL,         -- door | phone | mail | text
            result_code VARCHAR NOT NULL,
            contacted BOOLEAN NOT NULL,       -- the result counts as a conversation
            contacted_at TIMESTAMP NOT NULL,
            committee_id BIGINT,
            canvasser VARCHAR,                -- who (a user name or the vendor)
            turf_id BIGINT,
            list_id BIGINT,
            script_id BIGINT,
            activist_codes VARCHAR[],
            note VARCHAR,
            source VARCHAR NOT NULL,          -- canvass | phone | sheet | vendor
            upload_id BIGINT,
            row_number BIGINT,
            entered_at TIMESTAMP NOT NULL
        )"""
    )
    con.execute(
        """
        CREATE TABLE contact_response (
            result_key VARCHAR NOT NULL,
            person_id BIGINT NOT NULL,
            question_id BIGINT,
            question_code VARCHAR NOT NULL,
            response_code VARCHAR NOT NULL,
            contacted_at TIMESTAMP NOT NULL
        )"""
    )
    con.execute(
        """
        CREATE TABLE contact_quarantine (
            upload_id BIGINT NOT NULL,
            committee_id BIGINT,
            row_number BIGINT NOT NULL,
            column_name VARCHAR,
            code VARCHAR NOT NULL,
            reason VARCHAR NOT NULL,
            raw VARCHAR
        )"""
    )


MIGRATIONS: list[Migration] = [
    Migration(2026120601, "field: targeting attributes on person", _person_facts),
    Migration(2026120602, "field: address points, lists, turfs, contact history", _field_tables),
]

# -- person-bearing tables (warehouse/catalog.py) --------------------------------------
_ADDRESS_FACTS = {"door_key", "house_number", "street", "unit", "lat", "lon"}
PERSON_COLUMNS = {
    "person": PersonColumns(
        groups={**{c: "address" for c in _ADDRESS_FACTS}, "birth_year": "age", "age": "age"},
        open=frozenset(n for n, _ in PERSON_FACTS) - _ADDRESS_FACTS - {"birth_year", "age"},
    ),
}
PERSON_TABLES: dict[str, PersonTable] = {
    "list_person": PersonTable(link="person", open=frozenset({"list_id", "version", "person_id"})),
    "turf_person": PersonTable(link="person", open=frozenset({"cut_id", "turf_no", "door_id", "seq", "person_id"})),
    "contact_history": PersonTable(
        link="person", groups={"note": "all"},
        open=frozenset({"result_key", "person_id", "channel", "result_code", "contacted", "contacted_at",
                        "committee_id", "canvasser", "turf_id", "list_id", "script_id", "activist_codes", "source",
                        "upload_id", "row_number", "entered_at"}),
    ),
    "contact_response": PersonTable(
        link="person", open=frozenset({"result_key", "person_id", "question_id", "question_code", "response_code",
                                       "contacted_at"})),
    "contact_quarantine": PersonTable(
        link="none", groups={"raw": "all"},
        open=frozenset({"upload_id", "committee_id", "row_number", "column_name", "code", "reason"})),
}
