"""Versioned warehouse migrations.

Each migration has a version number, a name and a function that receives the ibis
backend. `apply_migrations` runs the pending ones in order, each in its own transaction
together with its row in the migration table, so re-running is a no-op and a failed
migration leaves the warehouse at the previous version.

Later capabilities append migrations here; never edit one that has shipped.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
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


MIGRATIONS: list[Migration] = [
    Migration(1, "create person", _create_person),
]


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
    be = wh.backend
    cur = wh.cursor()
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {MIGRATION_TABLE} "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
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
        applied.append(f"{m.version:04d} {m.name}")
    return applied
