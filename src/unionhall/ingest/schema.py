"""Warehouse tables of member-list imports.

* ``member_record``: the current state of every member of every source (affiliate),
  one row per (source, member_key), ``status`` active or dropped.
* ``member_record_version``: every version of every member record (valid from one
  import to another): the history a full snapshot keeps.
* ``member_quarantine``: rows that could not be loaded, with the reason and raw text.
* ``member_import``: one row per successful import (mirrors the app database's
  ImportRun so the warehouse is self-describing).

No PRIMARY KEY constraints: DuckDB checks them eagerly inside a transaction (a delete
and re-insert of one key fails), and the import service keeps (source, member_key)
unique itself, which a test checks.

The member columns mirror `unionhall.ingest.LOADED_SCHEMA`; a test checks they agree,
so a change there needs a new migration here.
"""

from __future__ import annotations

from ibis.backends.duckdb import Backend as DuckDBBackend

from unionhall.warehouse.catalog import PersonTable
from unionhall.warehouse.migrations import Migration

PHONE = "STRUCT(e164 VARCHAR, type VARCHAR, raw VARCHAR, flag VARCHAR, \"column\" VARCHAR)[]"
EMAIL = "STRUCT(email VARCHAR, raw VARCHAR, flag VARCHAR, \"column\" VARCHAR)[]"

# (name, DuckDB type) of the standardized member columns, in LOADED_SCHEMA order.
MEMBER_COLUMNS: list[tuple[str, str]] = [
    ("row_number", "BIGINT"),
    ("member_id", "VARCHAR"),
    ("local", "VARCHAR"),
    ("prefix", "VARCHAR"),
    ("first_name", "VARCHAR"),
    ("middle_name", "VARCHAR"),
    ("last_name", "VARCHAR"),
    ("suffix", "VARCHAR"),
    ("name_raw", "VARCHAR"),
    ("addr_line1", "VARCHAR"),
    ("addr_line2", "VARCHAR"),
    ("addr_number", "VARCHAR"),
    ("addr_street", "VARCHAR"),
    ("city", "VARCHAR"),
    ("state", "VARCHAR"),
    ("zip5", "VARCHAR"),
    ("zip4", "VARCHAR"),
    ("address_raw", "VARCHAR"),
    ("address_flag", "VARCHAR"),
    ("phone", "VARCHAR"),
    ("phones", PHONE),
    ("email", "VARCHAR"),
    ("email_raw", "VARCHAR"),
    ("email_flag", "VARCHAR"),
    ("emails", EMAIL),
    ("dob", "DATE"),
    ("dob_raw", "VARCHAR"),
    ("dob_flag", "VARCHAR"),
    ("gender", "VARCHAR"),
    ("employer", "VARCHAR"),
    ("worksite", "VARCHAR"),
    ("member_status", "VARCHAR"),
    ("dues_status", "VARCHAR"),
    ("join_date", "DATE"),
    ("join_date_raw", "VARCHAR"),
    ("join_date_flag", "VARCHAR"),
    ("flags", "VARCHAR[]"),
    ("custom", "VARCHAR"),
]

_MEMBER_DDL = ",\n    ".join(f'"{n}" {t}' for n, t in MEMBER_COLUMNS)


def _create_member_tables(be: DuckDBBackend) -> None:
    con = be.con
    con.execute(
        f"""
        CREATE TABLE member_record (
            source VARCHAR NOT NULL,
            member_key VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            row_hash VARCHAR NOT NULL,
            first_import_id BIGINT NOT NULL,
            import_id BIGINT NOT NULL,
            last_seen_import_id BIGINT NOT NULL,
            dropped_at DATE,
            {_MEMBER_DDL}
        )"""
    )
    con.execute(
        f"""
        CREATE TABLE member_record_version (
            source VARCHAR NOT NULL,
            member_key VARCHAR NOT NULL,
            change VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            row_hash VARCHAR NOT NULL,
            valid_from_import_id BIGINT NOT NULL,
            valid_to_import_id BIGINT,
            valid_from TIMESTAMP NOT NULL,
            {_MEMBER_DDL}
        )"""
    )
    con.execute(
        """
        CREATE TABLE member_quarantine (
            import_id BIGINT NOT NULL,
            source VARCHAR NOT NULL,
            row_number BIGINT NOT NULL,
            code VARCHAR NOT NULL,
            reason VARCHAR NOT NULL,
            raw VARCHAR
        )"""
    )
    con.execute(
        """
        CREATE TABLE member_import (
            import_id BIGINT NOT NULL,
            source VARCHAR NOT NULL,
            file_name VARCHAR NOT NULL,
            file_sha256 VARCHAR NOT NULL,
            mode VARCHAR NOT NULL,
            imported_at TIMESTAMP NOT NULL,
            rows_read BIGINT NOT NULL,
            rows_loaded BIGINT NOT NULL,
            rows_quarantined BIGINT NOT NULL,
            new BIGINT NOT NULL,
            updated BIGINT NOT NULL,
            unchanged BIGINT NOT NULL,
            dropped BIGINT NOT NULL
        )"""
    )


MIGRATIONS: list[Migration] = [
    Migration(2026113020, "member import tables", _create_member_tables),
]


# -- person-bearing tables (warehouse/catalog.py). A member record shows only where the
# user's scope shows that membership (`source`); each column by its field group.
_MEMBER_GROUPS = {
    **{c: "name" for c in ("prefix", "first_name", "middle_name", "last_name", "suffix", "name_raw", "gender")},
    **{c: "address" for c in ("addr_line1", "addr_line2", "addr_number", "addr_street", "city", "zip5", "zip4",
                              "address_raw", "address_flag")},
    "phone": "phone", "phones": "phone",
    **{c: "email" for c in ("email", "email_raw", "email_flag", "emails")},
    **{c: "dob" for c in ("dob", "dob_raw", "dob_flag")},
    "custom": "all",  # the file's unmapped columns: could hold anything
}
_MEMBER_OPEN = frozenset({"row_number", "member_id", "local", "state", "employer", "worksite", "member_status",
                          "dues_status", "join_date", "join_date_raw", "join_date_flag", "flags"})

PERSON_TABLES: dict[str, PersonTable] = {
    "member_record": PersonTable(
        link="member", source="source", groups=_MEMBER_GROUPS,
        open=_MEMBER_OPEN | {"source", "member_key", "status", "row_hash", "first_import_id", "import_id",
                             "last_seen_import_id", "dropped_at"},
    ),
    "member_record_version": PersonTable(
        link="member", source="source", groups=_MEMBER_GROUPS,
        open=_MEMBER_OPEN | {"source", "member_key", "change", "status", "row_hash", "valid_from_import_id",
                             "valid_to_import_id", "valid_from"},
    ),
    # Rows that could not be loaded: raw lines of no person yet (the gateway's
    # quarantine reader decides who may see them).
    "member_quarantine": PersonTable(
        link="none", source="source", groups={"raw": "all"},
        open=frozenset({"import_id", "source", "row_number", "code", "reason"}),
    ),
}
