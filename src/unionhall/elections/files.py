"""Reading NCSBE files into the warehouse: fingerprint, layout check, encoding, staging.

The fast path is DuckDB's `read_csv` with the columns named from the file's header,
every value read as text, and bad rows kept aside (`store_rejects`) with their line and
column. Encodings other than UTF-8 are transcoded in one streaming pass first. What can
go wrong with a whole file (wrong layout, wrong encoding, a truncated download) raises a
`UserError` that names the file, the row and the column; what goes wrong with one row
sends that row to quarantine.
"""

from __future__ import annotations

import bisect
import codecs
import functools
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import duckdb

from unionhall.elections.nc_layout import absentee_layout, ncvhis_layout, ncvoter_layout
from unionhall.errors import UserError
from unionhall.warehouse.backends import is_postgres

CHUNK = 8 << 20

POLLING_COLUMNS = (
    "election_dt", "county_name", "polling_place_id", "polling_place_name", "precinct_name",
    "house_num", "street_name", "city", "state", "zip",
)

# What each kind of file is called in messages, and the command that loads it.
KIND_TEXT = {
    "ncvoter": ("an NC voter file (ncvoter layout)", "unionhall import voterfile"),
    "ncvoter_previous": ("an NC voter file (ncvoter layout before 02/2022)", "unionhall import voterfile"),
    "ncvhis": ("an NC vote history file (ncvhis layout)", "unionhall import history"),
    "absentee": ("an NC absentee file (absentee layout)", "unionhall import absentee"),
    "polling_places": ("an NC polling-place file", "unionhall import polling-places"),
}


@dataclass
class FileInfo:
    """What one pass over the bytes tells: hash, size, line count, blank lines, shape."""

    path: Path
    sha256: str
    size: int
    newlines: int
    ends_with_newline: bool
    blank_lines: list[int] = field(default_factory=list)
    """1-based numbers of empty lines (the CSV reader skips them silently)."""
    bom: str = ""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def last_line(self) -> int:
        return self.newlines if self.ends_with_newline else self.newlines + 1


def file_check(path: str | Path) -> Path:
    """The file as an absolute path, or a UserError saying what is wrong with it."""
    p = Path(path).expanduser()
    if not p.exists():
        raise UserError(f"{p}: no such file — check the path")
    if not p.is_file():
        raise UserError(f"{p}: not a file — pass the path of the file itself")
    if p.stat().st_size == 0:
        raise UserError(f"{p.name}: the file is empty — download it again")
    return p.absolute()


def file_fingerprint(path: Path) -> FileInfo:
    """sha256, size, newline count and blank-line positions, in one streaming pass."""
    h = hashlib.sha256()
    size = newlines = 0
    blank: list[int] = []
    tail = b""
    first = b""
    last = b""
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            if not first:
                first = chunk[:4]
            h.update(chunk)
            # Blank lines are rare; look for them without walking every line.
            window = tail + chunk
            for pattern in (b"\n\r\n", b"\n\n"):
                start = 0
                while len(blank) < 10_000:
                    pos = window.find(pattern, start)
                    if pos < 0:
                        break
                    line = newlines - tail.count(b"\n") + window.count(b"\n", 0, pos + 1) + 1
                    blank.append(line)
                    start = pos + 1
            newlines += chunk.count(b"\n")
            size += len(chunk)
            tail = chunk[-2:]
            last = chunk[-1:]
    bom = ""
    if first.startswith(codecs.BOM_UTF16_LE) or first.startswith(codecs.BOM_UTF16_BE):
        bom = "utf-16"
    elif first.startswith(codecs.BOM_UTF8):
        bom = "utf-8-sig"
    return FileInfo(
        path=path, sha256=h.hexdigest(), size=size, newlines=newlines,
        ends_with_newline=last == b"\n", blank_lines=sorted(set(blank)), bom=bom,
    )


def split_header(line: str, delimiter: str) -> list[str]:
    """Column names from a header line: quotes and spaces stripped, lower case.

    A header without the expected delimiter is split on the other common one, so a file
    of another layout can still be recognised and named.
    """
    if delimiter not in line:
        delimiter = next((d for d in ("\t", ",", "|") if d in line), delimiter)
    return [c.strip().strip('"').strip().lower() for c in line.rstrip("\r\n").split(delimiter)]


def known_layouts() -> dict[str, tuple[str, ...]]:
    """Column lists of every layout we recognise, to tell a user what a file really is."""
    return {
        "ncvoter": ncvoter_layout().column_names,
        "ncvoter_previous": tuple(c.name for c in ncvoter_layout().previous_columns),
        "ncvhis": ncvhis_layout().column_names,
        "absentee": absentee_layout().column_names,
        "polling_places": POLLING_COLUMNS,
    }


def layout_guess(header: list[str]) -> str | None:
    """The known layout this header is closest to (None if none is close)."""
    cols = set(header)
    best, score = None, 0.0
    for name, layout_cols in known_layouts().items():
        other = set(layout_cols)
        jaccard = len(cols & other) / max(1, len(cols | other))
        if jaccard > score:
            best, score = name, jaccard
    return best if score >= 0.6 else None


def wrong_layout_error(info: FileInfo, header: list[str], expected: str, detail: str) -> UserError:
    """A UserError for a file whose header is not the expected layout."""
    guess = layout_guess(header)
    what, command = KIND_TEXT[expected]
    if guess is not None and KIND_TEXT[guess][1] != command:
        g_what, g_command = KIND_TEXT[guess]
        return UserError(
            f"{info.name}: row 1: this looks like {g_what}, not {what} — load it with `{g_command}`"
        )
    return UserError(f"{info.name}: row 1: the header is not {what} ({detail}) — check that this is the right file")


def read_first_line(path: Path, encoding: str) -> str:
    """The first line of the file decoded, or a UserError naming the encoding problem."""
    with path.open("rb") as fh:
        raw = fh.read(1 << 16)
    end = raw.find(b"\n")
    if encoding.lower().replace("-", "").replace("_", "") in ("utf16", "utf16le", "utf16be"):
        end = raw.find(b"\n\x00") + 1 if raw.find(b"\n\x00") >= 0 else -1
    line = raw if end < 0 else raw[: end + 1]
    try:
        text = line.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{path.name}: row 1: the header is not valid {encoding} text (byte {exc.start}) — "
            "pass the file's real encoding with --encoding"
        ) from None
    return text.lstrip("\ufeff")


def check_not_utf16(info: FileInfo, expected_encoding: str) -> None:
    """UTF-16 files (NUL bytes between letters) need --encoding utf-16; say so."""
    if info.bom == "utf-16" or _has_nul_bytes(info.path):
        raise UserError(
            f"{info.name}: row 1, column 1: the file is UTF-16 encoded, not {expected_encoding} — "
            "re-save it as the expected encoding, or pass --encoding utf-16"
        )


def _has_nul_bytes(path: Path) -> bool:
    with path.open("rb") as fh:
        return b"\x00" in fh.read(4096)


def is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name == "utf-8"


@contextmanager
def utf8_copy(info: FileInfo, encoding: str, *, reject_utf8_lookalike: bool = False) -> Iterator[Path]:
    """Yield a UTF-8 version of the file: itself if it is UTF-8, else a transcoded temp copy.

    With `reject_utf8_lookalike` (files that should be a single-byte code page such as
    cp437) a file that is in fact valid UTF-8 with non-ASCII letters raises a UserError:
    decoding it as cp437 would silently garble every accented name.
    """
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise UserError(f"--encoding {encoding!r} is not an encoding Python knows (try utf-8, cp437, cp1252)") from None
    if codec.name == "utf-8" and info.bom != "utf-8-sig":
        yield info.path
        return
    fd, tmp = tempfile.mkstemp(prefix="unionhall-transcode-", suffix=".csv")
    try:
        decoder = codec.incrementaldecoder(errors="strict")
        probe = codecs.getincrementaldecoder("utf-8")(errors="strict")
        utf8_ok, non_ascii = True, False
        line = 1
        with os.fdopen(fd, "wb") as out, info.path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                if reject_utf8_lookalike and utf8_ok:
                    non_ascii = non_ascii or not chunk.isascii()
                    try:
                        probe.decode(chunk)
                    except UnicodeDecodeError:
                        utf8_ok = False
                try:
                    text = decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    at = line + chunk.count(b"\n", 0, exc.start)
                    raise UserError(
                        f"{info.name}: row {at}: bytes that are not valid {encoding} text — "
                        "pass the file's real encoding with --encoding"
                    ) from None
                line += chunk.count(b"\n")
                out.write(text.lstrip("\ufeff").encode("utf-8") if line == 1 else text.encode("utf-8"))
            out.write(decoder.decode(b"", final=True).encode("utf-8"))
        if reject_utf8_lookalike and utf8_ok and non_ascii:
            raise UserError(
                f"{info.name}: the file is UTF-8 encoded, but NCSBE writes this file in {encoding} — "
                "pass --encoding utf-8 if the file really is UTF-8"
            )
        yield Path(tmp)
    finally:
        Path(tmp).unlink(missing_ok=True)


# DuckDB may use up to 80% of RAM by default; big imports would take it. While an import
# runs, cap it so temp tables spill to disk instead (restored afterwards).
IMPORT_MEMORY_LIMIT = "2GB"


@contextmanager
def memory_cap(cur: duckdb.DuckDBPyConnection, limit: str = IMPORT_MEMORY_LIMIT) -> Iterator[None]:
    """Lower DuckDB's memory limit to `limit` for the block (never raise it). A DuckDB
    setting: nothing on a PostgreSQL warehouse."""
    if is_postgres(cur):
        yield
        return
    row = cur.execute("SELECT current_setting('memory_limit')").fetchone()
    before = str(row[0]) if row else ""
    cur.execute(f"SET memory_limit = '{limit}'")  # constant, not user input
    lowered = _bytes(cur) < _bytes_of(before)
    if not lowered:
        cur.execute(f"SET memory_limit = '{before}'")
    try:
        yield
    finally:
        if lowered:
            cur.execute(f"SET memory_limit = '{before}'")


_P = ParamSpec("_P")
_R = TypeVar("_R")


def memory_capped(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run an import (called with `warehouse=` by keyword) under `memory_cap`."""

    @functools.wraps(fn)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        warehouse: Any = kwargs["warehouse"]
        with memory_cap(warehouse.cursor()):
            return fn(*args, **kwargs)

    return run


def _bytes(cur: duckdb.DuckDBPyConnection) -> int:
    row = cur.execute("SELECT current_setting('memory_limit')").fetchone()
    return _bytes_of(str(row[0]) if row else "")


def _bytes_of(text: str) -> int:
    units = {"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
             "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "b": 1}
    t = text.strip().lower().replace(" ", "")
    for unit, mult in units.items():
        if t.endswith(unit):
            try:
                return int(float(t[: -len(unit)]) * mult)
            except ValueError:
                return 1 << 62
    return 1 << 62


@dataclass
class Reject:
    """A line the CSV reader could not take."""

    line: int
    column: str | None
    error_type: str
    message: str
    raw: str


@dataclass
class Staged:
    """Rows of a file staged in a temp table `table`, with `_line` for every row."""

    table: str
    raw_table: str
    accepted: int
    rejects: list[Reject]
    columns: list[str]
    skipped: list[int] = field(default_factory=list)
    """Line numbers the reader did not return (rejected and blank lines), ascending."""
    padded: frozenset[str] | None = None
    """Columns where `trim` may change a value (None: not checked, assume all)."""

    @property
    def rows_read(self) -> int:
        return self.accepted + len(self.rejects)

    def row_index(self, line: int) -> int:
        """The 0-based position among accepted rows of the row on `line` (see `csv_rows_sql`)."""
        return line - 2 - bisect.bisect_left(self.skipped, line)


def _csv_options(columns: list[str]) -> str:
    cols = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in columns) + "}"
    return (
        "$path, delim = $delim, quote = '\"', escape = '\"', header = true, auto_detect = false, "
        f"columns = {cols}, all_varchar = true, strict_mode = true, null_padding = false, "
        "ignore_errors = true, max_line_size = 10000000"
    )


def csv_rows_sql(columns: list[str], *, numbered: bool = False) -> str:
    """A subquery over the accepted rows of a delimited file, in file order, as text.

    Binds `$path` and `$delim`. The reader skips exactly the rows `stage_csv` rejected
    (same options), so a second read sees the same rows. With `numbered`, column `_k` is
    the row's 0-based position among accepted rows (`Staged.row_index` of its line); the
    numbering runs on one thread, so read without it when no row needs to be picked out.
    """
    scan = f"read_csv({_csv_options(columns)})"
    if numbered:
        return f"(SELECT row_number() OVER () - 1 AS _k, * FROM {scan})"  # noqa: S608  (header names; values bound)
    return f"(SELECT * FROM {scan})"  # noqa: S608


# Above this many skipped lines, line numbers come from an ASOF join instead of a CASE.
_CASE_SKIPS = 64


def stage_csv(
    cur: duckdb.DuckDBPyConnection,
    *,
    info: FileInfo,
    utf8_path: Path,
    table: str,
    columns: list[str],
    delimiter: str,
    project: str | None = None,
    check_padding: bool = False,
) -> Staged:
    """Read a delimited, quoted file into temp table `table` (all text) with line numbers.

    Rows the reader cannot parse are returned as rejects, one per line. A rejected last
    row of a file that does not end with a newline is a truncated file: UserError. Bytes
    that are not UTF-8 are a wrong encoding: UserError naming the first row and column.

    `project` (a SELECT list over the file's columns) keeps only what it selects instead
    of every column: every column is still read and checked, so rejects are the same.
    With `project` or `check_padding`, `Staged.padded` says which columns need trimming
    (checked while reading, where the values are at hand).

    On a PostgreSQL warehouse the file is read the same way by a scratch in-memory DuckDB,
    and the staged rows (`_line` and all) are copied into a PostgreSQL temp table `table`;
    with `project`, every row in full goes to `raw_table` too (`staged_rows_sql`), since
    PostgreSQL cannot read the file a second time.
    """
    if is_postgres(cur):
        return _stage_csv_via_duckdb(
            cur, info=info, utf8_path=utf8_path, table=table, columns=columns, delimiter=delimiter,
            project=project, check_padding=check_padding,
        )
    raw = f"{table}_csv"
    cur.execute(f"DROP VIEW IF EXISTS {table}")
    for t in (raw, "_el_rej_errors", "_el_rej_scans"):
        cur.execute(f"DROP TABLE IF EXISTS {t}")
    masks = _edge_masks(columns) if project is not None or check_padding else []
    if project is None:
        select = ", ".join(["*", *(f"{sql} AS _el_edges{i}" for i, sql in enumerate(masks))])
    else:
        # The reader only decodes (and so only rejects bad bytes in) columns a query uses;
        # the padding masks use every column, and say which columns need trimming.
        select = f"{project}, " + ", ".join(f"{sql} AS _el_edges{i}" for i, sql in enumerate(masks))
    cur.execute(
        f"""
        CREATE TEMP TABLE {raw} AS SELECT {select} FROM read_csv(
          {_csv_options(columns)}, store_rejects = true,
          rejects_table = '_el_rej_errors', rejects_scan = '_el_rej_scans'
        )
        """,  # noqa: S608  (names come from the validated header, values are bound)
        {"path": str(utf8_path), "delim": delimiter},
    )
    rows = cur.execute(
        """
        SELECT line, column_name, error_type, error_message, csv_line
        FROM _el_rej_errors ORDER BY line, column_idx
        """
    ).fetchall()
    rejects: dict[int, Reject] = {}
    for line, col, etype, msg, csv_line in rows:
        if int(line) not in rejects:
            rejects[int(line)] = Reject(
                line=int(line), column=col, error_type=str(etype), message=str(msg),
                raw=str(csv_line or "").lstrip("\r\n"),
            )
    for t in ("_el_rej_errors", "_el_rej_scans"):
        cur.execute(f"DROP TABLE IF EXISTS {t}")
    bad_encoding = [r for r in rejects.values() if r.error_type == "INVALID ENCODING"]
    if bad_encoding:
        r = bad_encoding[0]
        raise UserError(
            f"{info.name}: row {r.line}, column {r.column}: bytes that are not valid UTF-8 text "
            f"({len(bad_encoding)} row(s) like this) — the file is in another encoding; "
            "pass it with --encoding (e.g. cp1252 or latin-1)"
        )
    last = info.last_line
    if not info.ends_with_newline and last in rejects:
        r = rejects[last]
        raise UserError(
            f"{info.name}: row {r.line}, column {r.column}: the file ends in the middle of a row "
            "(it looks truncated) — download or copy the whole file again"
        )
    # Lines the reader skipped (blank lines, rejected rows) shift the line number of every
    # later accepted row: line = row index + 2 + (skipped lines before it).
    skipped = sorted(set(rejects) | set(info.blank_lines))
    count, first = cur.execute(f"SELECT count(*), coalesce(min(rowid), 0) FROM {raw}").fetchone()  # type: ignore[misc]  # noqa: S608
    accepted, base = int(count), int(first)
    # Rows are stored in file order (DuckDB preserves insertion order); rowids are
    # contiguous but start at an offset inside a transaction, hence `- base`.
    cur.execute("DROP TABLE IF EXISTS _el_skip")
    padded = None
    keep = "*"
    if masks:
        bits = cur.execute(
            "SELECT " + ", ".join(f"coalesce(bit_or(_el_edges{i}), 0)" for i in range(len(masks))) + f" FROM {raw}"  # noqa: S608
        ).fetchone()
        padded = _padded_from_bits(columns, [int(b) for b in bits or ()])
        keep = "* EXCLUDE (" + ", ".join(f"_el_edges{i}" for i in range(len(masks))) + ")"
    if len(skipped) > _CASE_SKIPS:
        # Row k follows every skipped line j with t_j = line_j - 2 - j <= k.
        shift: dict[int, int] = {}
        for j, line in enumerate(skipped):
            shift[line - 2 - j] = j + 1
        cur.execute("CREATE TEMP TABLE _el_skip (t BIGINT, c BIGINT)")
        cur.executemany("INSERT INTO _el_skip VALUES (?, ?)", sorted(shift.items()))
        cur.execute(
            f"""
            CREATE TEMP VIEW {table} AS
            SELECT r.k + 2 + coalesce(s.c, 0) AS _line, r.* EXCLUDE (k)
            FROM (SELECT rowid - {base} AS k, {keep} FROM {raw}) r ASOF LEFT JOIN _el_skip s ON r.k >= s.t
            """  # noqa: S608
        )
    else:
        cur.execute(
            f"CREATE TEMP VIEW {table} AS SELECT {_line_sql(f'(rowid - {base})', skipped)} AS _line, {keep} FROM {raw}"  # noqa: S608
        )
    return Staged(
        table=table, raw_table=raw, accepted=accepted,
        rejects=[rejects[k] for k in sorted(rejects)], columns=list(columns), skipped=skipped,
        padded=padded,
    )


def _stage_csv_via_duckdb(
    cur: Any, *, info: FileInfo, utf8_path: Path, table: str, columns: list[str], delimiter: str,
    project: str | None, check_padding: bool,
) -> Staged:
    scratch = duckdb.connect()
    try:
        staged = stage_csv(
            scratch, info=info, utf8_path=utf8_path, table=table, columns=columns, delimiter=delimiter,
            project=project, check_padding=check_padding,
        )
        if project is None:
            staged_padded(scratch, staged)  # the raw table is here, not on PostgreSQL
        cur.register(table, scratch.execute(f"SELECT * FROM {table}").fetch_arrow_table())  # noqa: S608
        if project is not None:
            rows = scratch.execute(
                f"SELECT * FROM {csv_rows_sql(columns, numbered=True)}",  # noqa: S608
                {"path": str(utf8_path), "delim": delimiter},
            ).fetch_arrow_table()
            cur.register(staged.raw_table, rows)
        return staged
    finally:
        scratch.close()


def staged_rows_sql(cur: Any, staged: Staged, *, numbered: bool = False) -> str:
    """`csv_rows_sql` of a staged file: a second read of the file on DuckDB; on PostgreSQL
    the rows `stage_csv` kept in `raw_table` (staged with `project`; `_k` always there)."""
    if is_postgres(cur):
        return f"(SELECT * FROM {staged.raw_table})"  # noqa: S608
    return csv_rows_sql(staged.columns, numbered=numbered)


_MASK_BITS = 62


def edge_space_sql(col: str) -> str:
    """True where `trim(col)` may differ from `col`: a space at either end, or any non-ASCII
    letter (the other space characters `trim` removes are all non-ASCII)."""
    return f"(prefix({col}, ' ') OR suffix({col}, ' ') OR strlen({col}) <> length({col}))"


def _edge_masks(columns: list[str]) -> list[str]:
    """BIGINT expressions whose bit j is set when column j of each group needs trimming."""
    out = []
    for start in range(0, len(columns), _MASK_BITS):
        group = columns[start : start + _MASK_BITS]
        out.append(" + ".join(f"(CASE WHEN {edge_space_sql(c)} THEN {1 << j} ELSE 0 END)::BIGINT"
                              for j, c in enumerate(group)))
    return out


def _padded_from_bits(columns: list[str], bits: list[int]) -> frozenset[str]:
    return frozenset(
        c for i, c in enumerate(columns) if bits[i // _MASK_BITS] >> (i % _MASK_BITS) & 1
    )


def staged_padded(cur: duckdb.DuckDBPyConnection, staged: Staged) -> frozenset[str]:
    """Columns of a staged file where `trim` may change a value (one scan; cached)."""
    if staged.padded is None:
        checks = ", ".join(f"coalesce(bool_or({edge_space_sql(c)}), false)" for c in staged.columns)
        row = cur.execute(f"SELECT {checks} FROM {staged.raw_table}").fetchone()  # noqa: S608
        staged.padded = frozenset(c for c, hit in zip(staged.columns, row or (), strict=True) if hit)
    return staged.padded


def _line_sql(k: str, skipped: list[int]) -> str:
    """Line number of accepted row `k` (0-based) given the few skipped lines before it."""
    if not skipped:
        return f"{k} + 2"
    cases = " ".join(
        f"WHEN {k} >= {line - 2 - j} THEN {j + 1}" for j, line in reversed(list(enumerate(skipped)))
    )
    return f"{k} + 2 + CASE {cases} ELSE 0 END"


def staged_drop(cur: duckdb.DuckDBPyConnection, staged: Staged) -> None:
    """Drop a staged file's temp view and table (both tables on PostgreSQL)."""
    relation_drop(cur, staged.table)
    cur.execute(f"DROP TABLE IF EXISTS {staged.raw_table}")
    cur.execute("DROP TABLE IF EXISTS _el_skip")


def relation_drop(cur: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Drop temp tables or views by name, whichever each is (missing ones are fine)."""
    for name in names:
        row = cur.execute(
            "SELECT (SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = $n), "
            "(SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = $n)",
            {"n": name},
        ).fetchone()
        if row and row[0]:
            cur.execute(f"DROP VIEW {name}")
        if row and row[1]:
            cur.execute(f"DROP TABLE {name}")


def drop_temp(cur: duckdb.DuckDBPyConnection, *tables: str) -> None:
    """Drop temp tables (missing ones are fine)."""
    for t in tables:
        cur.execute(f"DROP TABLE IF EXISTS {t}")
