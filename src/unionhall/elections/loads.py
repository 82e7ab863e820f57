"""The load log, quarantine and flags every election-file import shares.

Row accounting: rows read = rows loaded + rows quarantined. Flagged rows (a value outside
the known code lists) are loaded and counted among the loaded ones. Loads are idempotent
by the file's sha256: the same bytes loaded again change nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from unionhall.elections.files import FileInfo, Staged
from unionhall.errors import UserError

Progress = Callable[[float, str], None]

# Stable quarantine codes (the reader's error types map onto these).
QUARANTINE_REASONS = {
    "ragged": "the row has a different number of columns than the header",
    "unterminated_quote": "a quote opened in this row is never closed",
    "unparseable": "the CSV reader could not read the row",
    "missing_key": "the row has no usable key (county and registration number, or ncid)",
    "duplicate": "the same key appears on an earlier row of this file; the first one was loaded",
    "bad_value": "a value the row cannot be loaded without is unreadable",
}

_READER_CODES = {
    "MISSING COLUMNS": "ragged",
    "TOO MANY COLUMNS": "ragged",
    "UNQUOTED VALUE": "unterminated_quote",
}


@dataclass
class Reconciliation:
    """What a load did, in numbers that add up."""

    kind: str
    file: str
    sha256: str
    load_id: int | None = None
    snapshot_date: str | None = None
    layout: str = ""
    encoding: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_flagged: int = 0
    new: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    already_loaded: bool = False
    quarantine: dict[str, int] = field(default_factory=dict)
    flags: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def check(self) -> None:
        """Raise if the counts do not reconcile (a bug, never the user's input)."""
        if self.rows_read != self.rows_loaded + self.rows_quarantined:
            raise RuntimeError(
                f"{self.file}: counts do not reconcile: read {self.rows_read} != loaded "
                f"{self.rows_loaded} + quarantined {self.rows_quarantined}"
            )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_find(cur: duckdb.DuckDBPyConnection, *, kind: str, sha256: str) -> dict[str, Any] | None:
    """The earlier load of the same bytes as the same kind, if any."""
    row = cur.execute(
        """
        SELECT load_id, file_name, snapshot_date, layout, encoding, rows_read, rows_loaded,
               rows_quarantined, rows_flagged
        FROM election_load WHERE kind = ? AND sha256 = ? ORDER BY load_id LIMIT 1
        """,
        [kind, sha256],
    ).fetchone()
    if row is None:
        return None
    keys = ("load_id", "file_name", "snapshot_date", "layout", "encoding", "rows_read",
            "rows_loaded", "rows_quarantined", "rows_flagged")
    return dict(zip(keys, row, strict=True))


def already_loaded(cur: duckdb.DuckDBPyConnection, rec: Reconciliation) -> bool:
    """Fill `rec` from an earlier load of the same bytes; True if there was one."""
    prev = load_find(cur, kind=rec.kind, sha256=rec.sha256)
    if prev is None:
        return False
    rec.already_loaded = True
    rec.load_id = int(prev["load_id"])
    rec.snapshot_date = str(prev["snapshot_date"]) if prev["snapshot_date"] else None
    rec.layout = str(prev["layout"] or "")
    rec.encoding = str(prev["encoding"] or "")
    rec.rows_read = int(prev["rows_read"])
    rec.rows_loaded = int(prev["rows_loaded"])
    rec.rows_quarantined = int(prev["rows_quarantined"])
    rec.rows_flagged = int(prev["rows_flagged"])
    rec.unchanged = rec.rows_loaded
    rec.notes.append(
        f"the same file (sha256 {rec.sha256[:12]}…) was already loaded as load {rec.load_id} "
        f"({prev['file_name']}); nothing changed"
    )
    return True


def load_next_id(cur: duckdb.DuckDBPyConnection) -> int:
    row = cur.execute("SELECT coalesce(max(load_id), 0) + 1 FROM election_load").fetchone()
    return int(row[0]) if row else 1


def load_record(
    cur: duckdb.DuckDBPyConnection, rec: Reconciliation, *, info: FileInfo, job_id: int | None
) -> None:
    """Write the load-log row for a finished load (inside the job's transaction)."""
    rec.check()
    cur.execute(
        """
        INSERT INTO election_load VALUES (
          ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            rec.load_id, rec.kind, info.name, str(info.path), rec.sha256, info.size,
            rec.snapshot_date, rec.layout, rec.encoding,
            dt.datetime.now(dt.UTC).replace(tzinfo=None), job_id,
            rec.rows_read, rec.rows_loaded, rec.rows_quarantined, rec.rows_flagged,
            rec.new, rec.changed, rec.removed, rec.unchanged, "\n".join(rec.notes) or None,
        ],
    )


def quarantine_rejects(
    cur: duckdb.DuckDBPyConnection, *, load_id: int, staged: Staged, rec: Reconciliation
) -> None:
    """Quarantine the rows the CSV reader could not take, with line, column and reason."""
    rows = []
    for r in staged.rejects:
        code = _READER_CODES.get(r.error_type, "unparseable")
        reason = f"{QUARANTINE_REASONS[code]} ({r.message})"
        rows.append((load_id, r.line, r.column, code, reason, r.raw))
        rec.quarantine[code] = rec.quarantine.get(code, 0) + 1
    if rows:
        cur.executemany("INSERT INTO election_quarantine VALUES (?, ?, ?, ?, ?, ?)", rows)
    rec.rows_quarantined += len(rows)


def quarantine_from(
    cur: duckdb.DuckDBPyConnection, *, load_id: int, select_sql: str, code: str, rec: Reconciliation
) -> int:
    """Quarantine rows selected by `select_sql` (columns: _line, column_name, reason, raw)."""
    n = cur.execute(
        f"INSERT INTO election_quarantine SELECT ?, _line, column_name, ?, reason, raw FROM ({select_sql})",  # noqa: S608
        [load_id, code],
    ).fetchone()
    count = int(n[0]) if n else 0
    if count:
        rec.quarantine[code] = rec.quarantine.get(code, 0) + count
        rec.rows_quarantined += count
    return count


def flag_from(
    cur: duckdb.DuckDBPyConnection,
    *,
    load_id: int,
    table: str,
    column: str,
    where: str,
    reason: str,
    value_sql: str | None = None,
    params: list[Any] | None = None,
    rec: Reconciliation,
) -> int:
    """Flag loaded rows of `table` matching `where` on `column` (kept, never dropped)."""
    n = cur.execute(
        f"""
        INSERT INTO election_flag
        SELECT ?, _line, ?, {value_sql or column}, ? FROM {table} WHERE {where}
        """,  # noqa: S608  (internal SQL fragments; values bound)
        [load_id, column, reason, *(params or [])],
    ).fetchone()
    count = int(n[0]) if n else 0
    if count:
        rec.flags[column] = rec.flags.get(column, 0) + count
    return count


@dataclass(frozen=True)
class FlagCheck:
    """One code check for `flags_from`: rows matching `where` get `reason` on `column`."""

    column: str
    where: str
    reason: str
    value_sql: str | None = None


def flags_from(
    cur: duckdb.DuckDBPyConnection,
    *,
    load_id: int,
    table: str,
    checks: list[FlagCheck],
    params: dict[str, Any] | None = None,
    rec: Reconciliation,
) -> int:
    """`flag_from` for many checks in one scan of `table` (named `params` only).

    Rows that fail no check (nearly all) are filtered out before any flag row is built.
    """
    if not checks:
        return 0

    # One row per (row, check) that fires: each matching row is paired with every check
    # number and kept where that check holds (SQL both engines run alike).
    def case(values: list[str]) -> str:
        return "CASE c.i " + " ".join(f"WHEN {i} THEN {v}" for i, v in enumerate(values)) + " END"

    def lit(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    any_check = " OR ".join(f"({c.where})" for c in checks)
    numbers = ", ".join(f"({i})" for i in range(len(checks)))
    cur.execute("DROP TABLE IF EXISTS _el_flags")
    cur.execute(
        f"""
        CREATE TEMP TABLE _el_flags AS
        SELECT _line, column_name, value, reason FROM (
          SELECT t._line, c.i AS _check, {case([lit(c.column) for c in checks])} AS column_name,
                 {case([f"CAST({c.value_sql or c.column} AS VARCHAR)" for c in checks])} AS value,
                 {case([lit(c.reason) for c in checks])} AS reason,
                 {case([f"coalesce({c.where}, false)" for c in checks])} AS hit
          FROM (SELECT * FROM {table} WHERE {any_check}) t CROSS JOIN (VALUES {numbers}) c(i)
        ) f WHERE hit ORDER BY _line, _check
        """,  # noqa: S608  (internal SQL fragments; values bound)
        params or {},
    )
    cur.execute(
        "INSERT INTO election_flag SELECT $load, _line, column_name, value, reason FROM _el_flags",
        {"load": load_id},
    )
    counts = dict(cur.execute("SELECT column_name, count(*) FROM _el_flags GROUP BY 1").fetchall())
    cur.execute("DROP TABLE _el_flags")
    total = 0
    for c in checks:
        n = int(counts.pop(c.column, 0))
        if n:
            rec.flags[c.column] = rec.flags.get(c.column, 0) + n
            total += n
    return total


def flagged_rows(cur: duckdb.DuckDBPyConnection, load_id: int) -> int:
    row = cur.execute(
        "SELECT count(DISTINCT row_number) FROM election_flag WHERE load_id = ?", [load_id]
    ).fetchone()
    return int(row[0]) if row else 0


_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d\d)(\d\d)(\d\d)(?!\d)")


def snapshot_date_resolve(as_of: str | None, path: Path) -> tuple[dt.date, str]:
    """The day a file describes: `as_of`, else YYYYMMDD in its name, else its file date."""
    if as_of:
        try:
            return dt.date.fromisoformat(as_of), "--as-of option"
        except ValueError:
            raise UserError(f"--as-of {as_of!r} is not a date: write it as YYYY-MM-DD") from None
    m = _DATE_IN_NAME.search(path.name)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))), "file name"
        except ValueError:
            pass
    stamp = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
    return stamp.date(), "file modification time"


def sql_list(values: list[str] | tuple[str, ...] | frozenset[str]) -> list[str]:
    """A sorted list to bind as a DuckDB list parameter."""
    return sorted(values)
