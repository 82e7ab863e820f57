"""Copying a whole warehouse to another engine: the embedded DuckDB file into a
PostgreSQL schema when a federation outgrows one laptop (``unionhall warehouse copy``),
or back.

The target gets the same migrations first, so its tables are the ones its own engine's
migrations make (types, defaults, constraints); then every table's rows stream across
in Arrow batches inside one target transaction. The target must be empty and the two
must have the same migrations applied; the copy reconciles row counts table by table
and, on any failure, leaves the target with no rows (its tables migrated).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from unionhall.errors import UserError
from unionhall.warehouse.backends import DUCKDB, POSTGRES, SPARK, copy_rows_in
from unionhall.warehouse.core import Warehouse
from unionhall.warehouse.migrations import MIGRATION_TABLE

BATCH_ROWS = 100_000


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)
    """Rows copied per table (equal to the source's count, checked)."""
    skipped: list[str] = field(default_factory=list)
    """Source tables no migration makes (so the target has no such table): not copied."""

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def copy_warehouse(source: Warehouse, target: Warehouse, *, batch_rows: int = BATCH_ROWS) -> CopyReport:
    """Copy every table of `source` into the empty warehouse `target` (see module doc)."""
    if target.kind == SPARK:
        raise UserError("a Spark warehouse is a snapshot: take one with `unionhall warehouse snapshot`")
    if source.kind == SPARK:
        raise UserError("copy from the warehouse the Spark snapshot was taken from")
    if source.url.label == target.url.label:
        raise UserError(f"source and target are the same warehouse ({source.url.label})")
    target.migrate()
    ours = [name for _, name in source.applied_migrations()]
    theirs = [name for _, name in target.applied_migrations()]
    if ours != theirs:
        missing = sorted(set(theirs) - set(ours))
        raise UserError(
            f"{source.url.label} has not applied the migrations of this version "
            f"({', '.join(missing[:3]) or 'different ones'}): run `unionhall migrate` on it first"
        )
    known = set(target.tables())
    tables = [t for t in source.tables() if t != MIGRATION_TABLE and t in known]
    report = CopyReport(skipped=[t for t in source.tables() if t != MIGRATION_TABLE and t not in known])
    src: Any = source.cursor()
    with target.transaction() as dst:
        for name in tables:
            held = dst.execute(f"SELECT count(*) FROM {name}").fetchone()  # noqa: S608  (catalog name)
            if held and int(held[0]):
                raise UserError(
                    f"{target.url.label} already holds data ({name}: {int(held[0]):,} rows): "
                    "copy into a new, empty warehouse"
                )
            want = [c.lower() for c in _columns(source, name)]
            have = set(c.lower() for c in _columns(target, name))
            cols = [c for c in want if c in have]
            if len(cols) != len(want):
                raise UserError(f"{name}: columns {sorted(set(want) - have)} are missing in {target.url.label}")
            copied = 0
            for batch in _batches(source, name, cols, batch_rows):
                copy_rows_in(dst, target.kind, name, cols, batch)
                copied += batch.num_rows
            row = src.execute(f"SELECT count(*) FROM {name}").fetchone()  # noqa: S608
            expected = int(row[0]) if row else 0
            if copied != expected:
                raise UserError(f"{name}: copied {copied:,} rows of {expected:,}; nothing was changed")
            report.rows[name] = copied
    return report


def _columns(wh: Warehouse, name: str) -> list[str]:
    return list(wh.backend.get_schema(name).names)


def _batches(wh: Warehouse, name: str, cols: list[str], rows: int) -> Any:
    cur: Any = wh.cursor()
    kind = wh.kind
    if kind == POSTGRES:  # json columns as their text (DuckDB parses it into its nested types)
        schema = wh.backend.get_schema(name)
        picks = [f"{_q(c)}::text AS {_q(c)}" if schema[c].is_json() else _q(c) for c in cols]
    else:
        picks = [_q(c) for c in cols]
    select = f"SELECT {', '.join(picks)} FROM {name}"  # noqa: S608  (catalog names)
    if kind == DUCKDB:
        reader = cur.execute(select).to_arrow_reader(rows)
        for batch in reader:
            if batch.num_rows:
                yield pa.Table.from_batches([batch])
    elif kind == POSTGRES:
        table = cur.execute(select).fetch_arrow_table()
        for offset in range(0, table.num_rows, rows):
            yield table.slice(offset, rows)


def _q(col: str) -> str:
    return '"' + col.replace('"', '""') + '"'
