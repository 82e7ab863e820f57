"""Warehouse schema of exports.

* ``export_person``: who is in each export, with the export key the file gives them
  (results come back keyed by it; the leak trace names the persons of a file).
* ``export_seed``: the seed records of each export (decoys: no real person), with the
  values the file gave them.
* ``export_mark``: the distinct normalized cell values of each export's file, hashed
  (`exports.watermark.cell_hashes`): what `unionhall trace` matches a found file against.

Never edit a migration once it has been committed; add a new one.
"""

from __future__ import annotations

from ibis.backends.duckdb import Backend as DuckDBBackend

from unionhall.warehouse.catalog import PersonTable
from unionhall.warehouse.migrations import Migration


def _export_tables(be: DuckDBBackend) -> None:
    con = be.con
    con.execute("CREATE TABLE export_person (export_id BIGINT NOT NULL, person_id BIGINT NOT NULL, "
                "export_key VARCHAR NOT NULL)")
    con.execute("CREATE TABLE export_seed (export_id BIGINT NOT NULL, export_key VARCHAR NOT NULL, "
                "first_name VARCHAR, last_name VARCHAR, addr_line1 VARCHAR, city VARCHAR, zip5 VARCHAR, "
                "phone VARCHAR, email VARCHAR)")
    con.execute("CREATE TABLE export_mark (export_id BIGINT NOT NULL, h UBIGINT NOT NULL)")


MIGRATIONS: list[Migration] = [
    Migration(2026120701, "exports: export persons, seed records, watermark marks", _export_tables),
]

# export_mark holds hashes of cells. export_seed holds decoys, nobody's data, but it has
# person-shaped columns: declared like one (no person link; read by the export job only).
PERSON_TABLES: dict[str, PersonTable] = {
    "export_person": PersonTable(link="person", open=frozenset({"export_id", "person_id", "export_key"})),
    "export_seed": PersonTable(
        link="none", open=frozenset({"export_id", "export_key"}),
        groups={"first_name": "name", "last_name": "name", "addr_line1": "address", "city": "address",
                "zip5": "address", "phone": "phone", "email": "email"}),
}
