"""Opening the warehouse, per-thread connections and transactions.

The warehouse is a DuckDB file (the embedded default) or a PostgreSQL schema
(`UNIONHALL_WAREHOUSE_URL=postgresql://...`); what differs between them lives in
`unionhall.warehouse.backends`. DuckDB allows one writing process per file. In embedded mode the process that opens the
warehouse (normally `unionhall serve`) owns it for its lifetime; worker threads and web
threads each get their own cursor on the one database. Another process trying to open
the same file gets `WarehouseLocked` with a message saying what to do.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import duckdb
import ibis
from ibis.backends.duckdb import Backend as DuckDBBackend

from unionhall.errors import ConfigError, PersonTableRefused, WarehouseLocked
from unionhall.warehouse.backends import (
    POSTGRES,
    SPARK,
    MigrationBackend,
    PostgresCursor,
    SparkCursor,
    parse_warehouse_url,
    postgres_analyze,
    postgres_connect,
    postgres_prepare,
    spark_backend,
    spark_open_snapshot,
    spark_session,
    spark_take_snapshot,
)

_LOCK_PID = re.compile(r"PID (\d+)")


class Warehouse:
    """One open warehouse, shared by the threads of this process."""

    def __init__(self, location: Path | str) -> None:
        self.url = parse_warehouse_url(location)
        self.kind = self.url.kind
        self.path = self.url.path or Path(self.url.label)
        self._local = threading.local()
        self._threads_lock = threading.Lock()
        self._thread_cons: list[Any] = []
        if self.kind == POSTGRES:
            con = postgres_connect(self.url)
            postgres_prepare(con, self.url)
            con.close()
            return
        if self.kind == SPARK:
            spark_open_snapshot(self.path)
            return
        path = self.path
        try:
            self._db = duckdb.connect(str(path))
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" in text.lower():
                pid = _LOCK_PID.search(text)
                holder = f"process {pid.group(1)}" if pid else "another process"
                raise WarehouseLocked(
                    f"warehouse {path} is in use by {holder} (probably `unionhall serve`): "
                    "stop that process first, or run this from the web app's jobs"
                ) from None
            raise ConfigError(f"cannot open warehouse {path}: {text.splitlines()[0]}") from None

    # -- connections -------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor (each thread has its own transaction state): DuckDB's own,
        or on PostgreSQL a `PostgresCursor` that takes the same calls."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            if self.kind == POSTGRES:
                cur = PostgresCursor(postgres_connect(self.url))
                with self._threads_lock:
                    self._thread_cons.append(cur)
            elif self.kind == SPARK:
                cur = SparkCursor(spark_session())
            else:
                cur = self._db.cursor()
            self._local.cursor = cur
        return cast(duckdb.DuckDBPyConnection, cur)

    @property
    def backend(self) -> DuckDBBackend:
        """This thread's ibis backend over its cursor (so it shares its transaction)."""
        be = getattr(self._local, "backend", None)
        if be is None:
            cur: Any = self.cursor()
            if self.kind == POSTGRES:
                be = ibis.postgres.from_connection(cur.con)
            elif self.kind == SPARK:
                be = spark_backend()
            else:
                be = ibis.duckdb.from_connection(cur)
            self._local.backend = be
        return cast(DuckDBBackend, be)

    def snapshot_for_spark(self, directory: Path, tables: list[str] | None = None) -> None:
        """Copy tables (all by default) as Parquet for a Spark warehouse at ``spark:///directory``."""
        # (Not the bookkeeping tables: Spark skips files whose names start with "_".)
        names = tables or [t for t in self.tables() if not t.startswith("_")]
        spark_take_snapshot(self.cursor(), self.kind, names, directory)

    def fetch_compiled(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of SQL that ibis compiled for this warehouse's engine (run as written)."""
        cur: Any = self.cursor()
        if self.kind == POSTGRES:
            return list(cur.con.execute(sql).fetchall())
        if self.kind == SPARK:
            return [tuple(r) for r in cur.session.sql(sql).collect()]
        return list(cur.execute(sql).fetchall())

    def migration_backend(self) -> Any:
        """What migrations receive: the ibis backend, whose ``con.execute`` takes DuckDB SQL."""
        if self.kind == POSTGRES:
            return MigrationBackend(self.backend, cast(PostgresCursor, self.cursor()))
        return self.backend

    def table(self, name: str) -> ibis.Table:
        """An ibis table expression of a table that holds no person-level data.

        Person-bearing tables (declared by each schema module, `warehouse.catalog`) are
        refused: reads of them for a user go through the one gateway,
        `unionhall.access.gateway`, which adds the user's scope and masks.
        """
        from unionhall.warehouse.catalog import is_person_table

        if is_person_table(name):
            raise PersonTableRefused(
                f"{name!r} holds person-level data: read it through unionhall.access.gateway "
                "(person_base / person_rows), which applies the user's scope"
            )
        return self.backend.table(name)

    def unscoped_table(self, name: str) -> ibis.Table:
        """Any table, person-bearing ones included, with no scope: for the gateway itself
        and for system jobs (imports, matching) that work on every row. A test keeps
        every other module from calling it."""
        return self.backend.table(name)

    def tables(self) -> list[str]:
        return sorted(self.backend.list_tables())

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Run a block in one DuckDB transaction on this thread's cursor.

        Commits when the block ends normally, rolls back on any exception, so a failed job
        leaves the warehouse exactly as it was.
        """
        if self.kind == SPARK:
            raise ConfigError(f"the Spark warehouse {self.path} is a read-only snapshot: run jobs on the warehouse it was taken from")
        cur = self.cursor()
        cur.execute("BEGIN TRANSACTION")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        else:
            cur.execute("COMMIT")

    def statistics_refresh(self) -> None:
        """After a job's commit: on PostgreSQL, fresh planner statistics for every table
        (`backends.postgres_analyze`); DuckDB keeps its own as it writes."""
        if self.kind == POSTGRES:
            postgres_analyze(cast(PostgresCursor, self.cursor()))

    def migrate(self) -> list[str]:
        """Apply pending warehouse migrations; returns the names applied (none on re-run)."""
        from unionhall.warehouse.migrations import apply_migrations

        return apply_migrations(self)

    def applied_migrations(self) -> list[tuple[int, str]]:
        from unionhall.warehouse.migrations import MIGRATION_TABLE

        if MIGRATION_TABLE not in self.tables():
            return []
        rows = self.cursor().execute(
            f"SELECT version, name FROM {MIGRATION_TABLE} ORDER BY version"  # noqa: S608
        ).fetchall()
        return [(int(v), str(n)) for v, n in rows]

    def close(self) -> None:
        if self.kind == SPARK:
            self._local = threading.local()
            return
        if self.kind == POSTGRES:
            with self._threads_lock:
                for cur in self._thread_cons:
                    cur.close()
                self._thread_cons.clear()
            self._local = threading.local()
            return
        self._db.close()

    def __repr__(self) -> str:
        return f"Warehouse({self.url.label!r})"


_current: Warehouse | None = None
_current_lock = threading.Lock()


def open_warehouse(path: Path | None = None) -> Warehouse:
    """Open (once per process) and return the warehouse named by the configuration."""
    global _current
    with _current_lock:
        if _current is None:
            if path is None:
                from unionhall.config import get_config

                _current = Warehouse(get_config().warehouse_url)
            else:
                _current = Warehouse(path)
        return _current


def get_warehouse() -> Warehouse:
    """The process's warehouse, opening it on first use."""
    return _current if _current is not None else open_warehouse()


def close_warehouse() -> None:
    """Close the process's warehouse (tests; shutdown)."""
    global _current
    with _current_lock:
        if _current is not None:
            _current.close()
            _current = None


