"""Warehouse schema owned by access: the membership bits the scope's row filter tests.

`person.member_source_bits` holds one bit per affiliate source in `member_sources`
(`member_source_bit` assigns them, append-only), so the row filter of a federation
user tests an integer instead of reading a list column for every person. It is
derived data: `unionhall.access.gateway.person_member_bits_refresh` recomputes it
and is called wherever `member_sources` is written.
"""

from __future__ import annotations

from ibis.backends.duckdb import Backend as DuckDBBackend

from unionhall.warehouse.migrations import Migration


def _member_source_bits(be: DuckDBBackend) -> None:
    from unionhall.access.gateway import person_member_bits_refresh

    be.con.execute("CREATE TABLE member_source_bit (source VARCHAR PRIMARY KEY, bit INTEGER NOT NULL UNIQUE)")
    be.con.execute("ALTER TABLE person ADD COLUMN member_source_bits BIGINT")
    person_member_bits_refresh(be.con)


MIGRATIONS: list[Migration] = [
    Migration(2026113050, "access: person member-source bits", _member_source_bits),
]
