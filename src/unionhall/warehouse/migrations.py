"""Versioned warehouse migrations.

Each migration has a version number, a name and a function that receives the ibis
backend. `apply_migrations` runs the pending ones in order, each in its own transaction
together with its row in the migration table, so re-running is a no-op and a failed
migration leaves the warehouse at the previous version.

Each capability keeps its own warehouse schema in a `schema` module
(`unionhall.<capability>.schema`) exposing ``MIGRATIONS: list[Migration]``, listed in
`SCHEMA_MODULES` below. Versions are ``YYYYMMDDNN`` numbers, so migrations from
different capabilities apply in the order they were written. Never edit one that has
shipped; add a new one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import TYPE_CHECKING

import ibis
from ibis.backends.duckdb import Backend as DuckDBBackend

if TYPE_CHECKING:
    from unionhall.warehouse.core import Warehouse

MIGRATION_TABLE = "_warehouse_migrations"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[DuckDBBackend], None]


def _create_person(be: DuckDBBackend) -> None:
    # The golden record per real person. Identity (issue 6) fills it; the voter file and
    # member imports add their own source tables beside it.
    be.create_table(
        "person",
        schema=ibis.schema(
            {
                "person_id": "int64",
                "first_name": "string",
                "middle_name": "string",
                "last_name": "string",
                "suffix": "string",
                "birth_date": "date",
                "sex": "string",
                "addr_line1": "string",
                "addr_line2": "string",
                "city": "string",
                "state": "string",
                "zip5": "string",
                "county": "string",
                "phone": "string",
                "email": "string",
                "voter_reg_num": "string",
                "created_at": "timestamp",
                "updated_at": "timestamp",
            }
        ),
    )


def _person_memberships(be: DuckDBBackend) -> None:
    # Which affiliates (source slugs) and locals ("<source>:<local>") a person belongs
    # to: what committee scope is decided on. Identity keeps them current.
    # NULL means "no membership known". (No DEFAULT []: DuckDB 1.5 fails an internal
    # assertion adding a list column with a default to a table that has rows, and it
    # cannot update a table in the transaction that altered it.)
    for column in ("member_sources", "member_locals"):
        be.con.execute(f"ALTER TABLE person ADD COLUMN {column} VARCHAR[]")


CORE_MIGRATIONS: list[Migration] = [
    Migration(2026113001, "create person", _create_person),
    Migration(2026113002, "person memberships", _person_memberships),
]

# Capability schema modules, each with a MIGRATIONS list.
SCHEMA_MODULES: tuple[str, ...] = (
    "unionhall.elections.schema",
    "unionhall.ingest.schema",
    "unionhall.identity.schema",
    "unionhall.access.schema",
    "unionhall.field.schema",
    "unionhall.exports.schema",
    "unionhall.analytics.schema",
)


def schema_modules() -> Iterator[ModuleType]:
    """The capability schema modules that are installed (a missing one is skipped)."""
    for name in SCHEMA_MODULES:
        try:
            yield importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def all_migrations() -> list[Migration]:
    """Every known migration, in version order."""
    found = list(CORE_MIGRATIONS)
    for module in schema_modules():
        found.extend(module.MIGRATIONS)
    return sorted(found, key=lambda m: m.version)


MIGRATIONS = all_migrations()


def apply_migrations(
    wh: Warehouse, migrations: list[Migration] | None = None, *, nested: bool = False
) -> list[str]:
    """Apply the pending migrations in version order; returns the names applied.

    With ``nested`` the caller already holds a transaction (a job), which then covers all
    of them; otherwise each migration commits on its own.
    """
    migrations = sorted(migrations or MIGRATIONS, key=lambda m: m.version)
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate warehouse migration versions: {versions}")
    be = wh.migration_backend()
    cur = wh.cursor()
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {MIGRATION_TABLE} "
        "(version BIGINT PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = {v for v, _ in wh.applied_migrations()}
    applied: list[str] = []
    for m in migrations:
        if m.version in done:
            continue
        with nullcontext() if nested else wh.transaction():
            m.apply(be)
            cur.execute(
                f"INSERT INTO {MIGRATION_TABLE} VALUES (?, ?, ?)",  # noqa: S608
                [m.version, m.name, datetime.now(UTC).replace(tzinfo=None)],
            )
        applied.append(f"{m.version} {m.name}")
    return applied
