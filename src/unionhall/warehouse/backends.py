"""Where the warehouse's engines differ: the one module that knows (STYLE.md rule 5).

Union Hall's warehouse code is written once: ibis expressions (the gateway, lists,
counts) compile to each engine's SQL by ibis itself, and the hand-written SQL of the
system jobs is written in DuckDB's dialect. This module holds everything else:

* ``duckdb:///path`` — the embedded default. A cursor is DuckDB's own.
* ``postgresql://user@host:5432/db?schema=NAME`` — the warehouse in a PostgreSQL
  schema (created if missing; ``public`` without ``schema=``). `PostgresCursor` gives
  the system jobs the part of DuckDB's cursor they use: ``?`` parameters, DuckDB SQL
  translated by sqlglot (`to_postgres`, cached), ``register`` of an Arrow table as a
  temporary table loaded by COPY, ``fetch_arrow_table``. The few DuckDB functions and
  types PostgreSQL lacks are created or rewritten here (`_PG_FUNCTIONS`, `_PG_TYPES`).
* Spark (`spark_session`, `spark_backend`) — a compute engine over a snapshot of the
  warehouse's tables in Parquet: list counts run on it through ibis's PySpark backend
  (the same gateway expression), identity through Splink's Spark backend
  (`unionhall.identity.engines`).

Nothing outside this module branches on the engine.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pyarrow as pa

from unionhall.errors import ConfigError

DUCKDB = "duckdb"
POSTGRES = "postgres"
SPARK = "spark"

_POSTGRES_SCHEMES = ("postgresql", "postgres")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class WarehouseURL:
    """A parsed ``UNIONHALL_WAREHOUSE_URL``."""

    kind: str  # DUCKDB or POSTGRES
    path: Path | None  # DuckDB file
    dsn: str | None  # PostgreSQL connection string without our ``schema=``
    schema: str | None  # PostgreSQL schema

    @property
    def label(self) -> str:
        """What names this warehouse in caches and messages (no password)."""
        if self.kind == DUCKDB:
            return str(self.path)
        parts = urlsplit(self.dsn or "")
        host = parts.hostname or "localhost"
        return f"postgresql://{host}:{parts.port or 5432}{parts.path}?schema={self.schema}"


def parse_warehouse_url(url: str | Path) -> WarehouseURL:
    if isinstance(url, Path):
        return WarehouseURL(DUCKDB, url, None, None)
    parts = urlsplit(url)
    if parts.scheme == "duckdb" and parts.path not in ("", "/"):
        return WarehouseURL(DUCKDB, Path(parts.path[1:]), None, None)
    if parts.scheme == "spark" and parts.path not in ("", "/"):
        return WarehouseURL(SPARK, Path(parts.path[1:]), None, None)
    if parts.scheme in _POSTGRES_SCHEMES and parts.path not in ("", "/"):
        query = parse_qs(parts.query)
        schema = (query.pop("schema", ["public"]) or ["public"])[0]
        if not _IDENT.match(schema):
            raise ConfigError(f"UNIONHALL_WAREHOUSE_URL: schema {schema!r} is not a plain SQL name (letters, digits, _)")
        dsn = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(query, doseq=True), ""))
        return WarehouseURL(POSTGRES, None, dsn, schema)
    if not parts.scheme and url:
        return WarehouseURL(DUCKDB, Path(url), None, None)
    raise ConfigError(
        f"UNIONHALL_WAREHOUSE_URL {url!r} is not supported: use duckdb:////path/warehouse.duckdb, "
        "postgresql://USER@HOST:5432/DBNAME?schema=warehouse, or unset it for the embedded default"
    )


# -- PostgreSQL ------------------------------------------------------------------------

# DuckDB types PostgreSQL has no name for.
_PG_TYPES = {"UBIGINT": "NUMERIC(20)", "INT128": "NUMERIC(39)", "HUGEINT": "NUMERIC(39)", "UINTEGER": "BIGINT"}
_STRUCT_LIST_RE = re.compile(r"\bSTRUCT\s*\([^()]*\)\s*\[\]", re.IGNORECASE)
_PG_TYPE_RE = re.compile(r"\b(" + "|".join(_PG_TYPES) + r")\b")

# DuckDB functions the system jobs use that PostgreSQL lacks, created in each schema.
_PG_FUNCTIONS = (
    # DuckDB's hash() is a 64-bit hash used only to bucket and sample; any stable one will do.
    "CREATE OR REPLACE FUNCTION {schema}.hash(v anyelement) RETURNS bigint "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT hashtextextended(v::text, 0) $$",
    # any_value (PostgreSQL 16 has it; 15 does not): the first non-NULL value.
    "CREATE OR REPLACE FUNCTION {schema}._uh_first(a anyelement, b anyelement) RETURNS anyelement "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT coalesce(a, b) $$",
    "DO $$ BEGIN IF to_regproc('pg_catalog.any_value') IS NULL AND to_regproc('{schema}.any_value') IS NULL THEN "
    "CREATE AGGREGATE {schema}.any_value(anyelement) (SFUNC = {schema}._uh_first, STYPE = anyelement); "
    "END IF; END $$",
    # DuckDB's regexp_extract: group g of the first match ('' when none; NULL on NULL).
    "CREATE OR REPLACE FUNCTION {schema}.regexp_extract(s text, p text, g integer DEFAULT 0) RETURNS text "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN s IS NULL THEN NULL ELSE coalesce("
    "(regexp_match(s, CASE WHEN g = 0 THEN '(' || p || ')' ELSE p END))[greatest(g, 1)], '') END $$",
)


@functools.lru_cache(maxsize=4096)
def to_postgres(sql: str) -> str:
    """DuckDB-dialect SQL as PostgreSQL SQL (``?`` parameters become ``%s``)."""
    import sqlglot

    # Lists of structs (a member's phones and emails) are JSON documents on PostgreSQL.
    sql = _STRUCT_LIST_RE.sub("JSON", sql)
    from sqlglot import exp

    try:
        trees = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return sql  # already PostgreSQL (ibis's compiled SQL, say): run it as written
    statements = []
    for n, tree in enumerate(t for t in trees if t is not None):
        # DuckDB lets a subquery in FROM go without a name; PostgreSQL does not.
        # Aggregates skip NULLs on PostgreSQL: IGNORE NULLS is implied (and refused).
        for node in list(tree.find_all(exp.IgnoreNulls)):
            node.replace(node.this)
        for i, sub in enumerate(tree.find_all(exp.Subquery)):
            if not sub.alias and isinstance(sub.parent, (exp.From, exp.Join)):
                sub.set("alias", exp.TableAlias(this=exp.to_identifier(f"_q{n}_{i}")))
        statements.append(tree.sql(dialect="postgres"))
    out = ";\n".join(statements)
    out = _PG_TYPE_RE.sub(lambda m: _PG_TYPES[m.group(1)], out)
    out = out.replace("ARRAY[]", "'{}'")  # an empty list: PostgreSQL types the literal from its use
    return re.sub(r"\bCREATE OR REPLACE (TEMPORARY )?TABLE (\w+)", r"DROP TABLE IF EXISTS \2; CREATE \1TABLE \2", out)


_NAMED = re.compile(r"\$([A-Za-z_]\w*)")


def _with_placeholders(sql: str) -> str:
    # With parameters psycopg reads every % as a placeholder: a literal one is %%.
    return sql.replace("%", "%%").replace("%%s", "%s")


def _pg_type(t: pa.DataType) -> str:
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_int8(t) or pa.types.is_int16(t):
        return "SMALLINT"
    if pa.types.is_int32(t):
        return "INTEGER"
    if pa.types.is_integer(t):
        return "BIGINT"
    if pa.types.is_floating(t):
        return "DOUBLE PRECISION"
    if pa.types.is_decimal(t):
        return f"NUMERIC({t.precision}, {t.scale})"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return "JSONB" if pa.types.is_struct(t.value_type) else _pg_type(t.value_type) + "[]"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "BYTEA"
    return "TEXT"


def _as_arrow(obj: Any) -> pa.Table:
    if isinstance(obj, pa.Table):
        return obj
    if isinstance(obj, pa.RecordBatchReader):
        return obj.read_all()
    if hasattr(obj, "to_arrow"):  # polars
        return obj.to_arrow()
    return pa.Table.from_pandas(obj, preserve_index=False)


def _copy_text(table: pa.Table) -> bytes:
    """The rows of `table` in COPY's text format (tab separated, ``\\N`` for NULL)."""
    import polars as pl

    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)

    def esc(e: pl.Expr) -> pl.Expr:
        return (e.str.replace_all("\\", "\\\\", literal=True).str.replace_all("\t", "\\t", literal=True)
                .str.replace_all("\n", "\\n", literal=True).str.replace_all("\r", "\\r", literal=True))

    cols = []
    for name, dtype in frame.schema.items():
        c = pl.col(name)
        if isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
            cols.append(esc(pl.when(c.is_null()).then(None).otherwise(c.list.eval(
                pl.element().struct.json_encode()).list.join(","))).pipe(lambda e: pl.lit("[") + e + pl.lit("]")).alias(name))
        elif isinstance(dtype, pl.List):
            inner = c.list.eval(
                pl.when(pl.element().is_null()).then(pl.lit("NULL"))
                .otherwise(pl.lit('"') + pl.element().cast(pl.Utf8).str.replace_all("\\", "\\\\", literal=True)
                           .str.replace_all('"', '\\"', literal=True) + pl.lit('"'))
            )
            cols.append(esc(pl.lit("{") + inner.list.join(",") + pl.lit("}")).alias(name))
        elif dtype == pl.Boolean:
            cols.append(pl.when(c.is_null()).then(pl.lit(None, pl.Utf8)).when(c).then(pl.lit("t"))
                        .otherwise(pl.lit("f")).alias(name))
        elif dtype == pl.Utf8:
            cols.append(esc(c).alias(name))
        else:
            cols.append(c.cast(pl.Utf8).alias(name))
    text = frame.select(cols).write_csv(separator="\t", include_header=False, null_value="\\N", quote_style="never")
    return text.encode()


_ARROW_OF = {
    "bool": pa.bool_(), "int2": pa.int16(), "int4": pa.int32(), "int8": pa.int64(), "float4": pa.float32(),
    "float8": pa.float64(), "text": pa.string(), "varchar": pa.string(), "bpchar": pa.string(), "date": pa.date32(),
    "timestamp": pa.timestamp("us"), "timestamptz": pa.timestamp("us", tz="UTC"),
    "_text": pa.list_(pa.string()), "_varchar": pa.list_(pa.string()),
    "_int8": pa.list_(pa.int64()), "_int4": pa.list_(pa.int32()), "bytea": pa.binary(),
}


class PostgresCursor:
    """The part of a DuckDB cursor the warehouse's system jobs use, on one psycopg
    connection (autocommit; `Warehouse.transaction` issues BEGIN/COMMIT itself)."""

    def __init__(self, con: Any) -> None:
        self.con = con
        self._cur: Any = None

    def execute(self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] | None = None) -> PostgresCursor:
        if parameters is None:
            self._cur = self.con.execute(to_postgres(sql))
        elif isinstance(parameters, Mapping):  # DuckDB's $name parameters
            named = _NAMED.sub(r"%(\1)s", _with_placeholders(to_postgres(sql)))
            self._cur = self.con.execute(named, dict(parameters))
        else:
            self._cur = self.con.execute(_with_placeholders(to_postgres(sql)), list(parameters))
        return self

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> PostgresCursor:
        cur = self.con.cursor()
        cur.executemany(_with_placeholders(to_postgres(sql)), [list(r) for r in rows])
        self._cur = cur
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._cur.fetchall())

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cur.fetchone()
        return None if row is None else tuple(row)

    @property
    def description(self) -> Any:
        return self._cur.description

    def fetch_arrow_table(self) -> pa.Table:
        desc = self._cur.description or []
        rows = self._cur.fetchall()
        types = self.con.adapters.types
        arrays, names = [], []
        for i, d in enumerate(desc):
            info = types.get(d.type_code)  # (an array's oid finds its element type's info)
            name = ("_" if info and d.type_code == info.array_oid else "") + (info.name if info else "")
            want = _ARROW_OF.get(name)
            values = [r[i] for r in rows]
            arrays.append(pa.array(values, type=want) if want is not None else pa.array(values))
            names.append(d.name)
        return pa.table(arrays, names=names) if names else pa.table({})

    def pl(self) -> Any:
        import polars as pl

        return pl.from_arrow(self.fetch_arrow_table())

    def register(self, name: str, obj: Any) -> PostgresCursor:
        """`obj` (Arrow, Polars or pandas) as temporary table `name`, replacing one of that name."""
        if not _IDENT.match(name):
            raise ValueError(f"register: {name!r} is not a plain SQL name")
        table = _as_arrow(obj)
        cols = ", ".join(f'"{f.name}" {_pg_type(f.type)}' for f in table.schema)
        self.con.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
        self.con.execute(f"CREATE TEMPORARY TABLE {name} ({cols})")
        if table.num_rows:
            with self.con.cursor().copy(f"COPY {name} FROM STDIN") as copy:
                copy.write(_copy_text(table))
        return self

    def unregister(self, name: str) -> PostgresCursor:
        self.con.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
        return self

    def close(self) -> None:
        self.con.close()


def postgres_connect(url: WarehouseURL) -> Any:
    """A new autocommit psycopg connection whose search path is the warehouse schema."""
    import psycopg

    try:
        con = psycopg.connect(url.dsn or "", autocommit=True)
    except psycopg.OperationalError as exc:
        raise ConfigError(f"cannot reach the warehouse at {url.label}: {str(exc).strip().splitlines()[0]}") from None
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {url.schema}")
    con.execute(f"SET search_path TO {url.schema}, public")
    con.execute("SET TIMEZONE = UTC")
    return con


def postgres_prepare(con: Any, url: WarehouseURL) -> None:
    """Once per warehouse: the functions DuckDB has and PostgreSQL lacks."""
    for sql in _PG_FUNCTIONS:
        con.execute(sql.format(schema=url.schema))


class MigrationBackend:
    """What a migration's ``apply(be)`` receives on PostgreSQL: the ibis backend, with
    ``be.con.execute`` and ``be.raw_sql`` taking DuckDB SQL as they do on DuckDB."""

    def __init__(self, ibis_backend: Any, cursor: PostgresCursor) -> None:
        self._be = ibis_backend
        self.con = cursor

    def raw_sql(self, sql: str) -> PostgresCursor:
        return self.con.execute(sql)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._be, name)


def postgres_drop_schema(url: WarehouseURL) -> None:
    """Drop the warehouse's schema and everything in it (tests; `unionhall` never does)."""
    con = postgres_connect(url)
    try:
        con.execute(f"DROP SCHEMA IF EXISTS {url.schema} CASCADE")
    finally:
        con.close()


# -- Spark -------------------------------------------------------------------------------

_SPARK_LOCK = threading.Lock()
_SPARK: Any = None
_SPARK_DIR: str | None = None


def spark_session() -> Any:
    """This process's local Spark session (``local[2]``; no UI, nothing downloaded), made
    on first use and shared by everything that runs on Spark (list counts, identity).

    Its Python workers run this interpreter (``sys.executable``), so they import the same
    packages, Union Hall included; Splink's similarity jar, shipped in its wheel, is on the
    class path; warehouse, scratch and checkpoint directories are private to the process."""
    global _SPARK, _SPARK_DIR
    with _SPARK_LOCK:
        if _SPARK is not None:
            return _SPARK
        import os
        import sys
        import tempfile

        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location

        _SPARK_DIR = tempfile.mkdtemp(prefix="unionhall-spark-")
        tmp = os.path.join(_SPARK_DIR, "tmp")
        os.makedirs(tmp, exist_ok=True)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        spark = (
            SparkSession.builder.master("local[2]").appName("unionhall")
            .config("spark.jars", similarity_jar_location())
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.default.parallelism", "4")
            .config("spark.sql.adaptive.enabled", "true")
            .config("spark.driver.memory", "4g")
            .config("spark.sql.warehouse.dir", os.path.join(_SPARK_DIR, "warehouse"))
            .config("spark.local.dir", tmp)
            .config("spark.driver.extraJavaOptions",
                    f"-Djava.io.tmpdir={tmp} -Dderby.system.home={_SPARK_DIR}/derby")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.pyspark.python", sys.executable)
            .config("spark.executorEnv.PYTHONPATH", os.pathsep.join(p for p in sys.path if p))
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        spark.sparkContext.setCheckpointDir(os.path.join(_SPARK_DIR, "checkpoints"))
        _SPARK = spark
        return spark


def stop_spark() -> None:
    """Stop this process's Spark session and remove its directories (tests, benchmarks)."""
    global _SPARK, _SPARK_DIR
    import shutil

    with _SPARK_LOCK:
        if _SPARK is not None:
            _SPARK.stop()
            _SPARK = None
        if _SPARK_DIR:
            shutil.rmtree(_SPARK_DIR, ignore_errors=True)
            _SPARK_DIR = None


def spark_backend() -> Any:
    """An ibis backend over this process's Spark session."""
    import ibis

    return ibis.pyspark.connect(spark_session())


class SparkCursor:
    """``execute(...).fetchall()`` on Spark SQL, for the gateway's small lookups."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> SparkCursor:
        if parameters:
            raise ValueError("the Spark warehouse takes no query parameters")
        import sqlglot

        spark_sql = ";".join(sqlglot.transpile(sql, read="duckdb", write="spark"))
        self._rows = [tuple(r) for r in self.session.sql(spark_sql).collect()]
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None


def spark_take_snapshot(cursor: Any, kind: str, tables: Sequence[str], directory: Path) -> None:
    """Write warehouse tables as Parquet files under `directory` (a Spark warehouse is
    opened as ``spark:///directory``): DuckDB writes them itself; from PostgreSQL they
    go through Arrow."""
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    for name in tables:
        if not _IDENT.match(name):
            raise ValueError(f"snapshot: {name!r} is not a plain table name")
        path = directory / f"{name}.parquet"
        if kind == DUCKDB:
            cursor.execute(f"COPY {name} TO '{path}' (FORMAT parquet)")
        else:
            pq.write_table(cursor.execute(f"SELECT * FROM {name}").fetch_arrow_table(), path)  # noqa: S608  (checked name)


def spark_open_snapshot(directory: Path) -> None:
    """Make every Parquet table of a snapshot a view of this process's Spark session."""
    if not directory.is_dir():
        raise ConfigError(f"Spark warehouse {directory} does not exist: take a snapshot first (unionhall warehouse snapshot)")
    session = spark_session()
    import pyarrow.parquet as pq

    for path in sorted(directory.glob("*.parquet")):
        if pq.ParquetFile(path).metadata.num_rows == 0:  # Spark infers no schema from a file with no rows
            table = pq.read_table(path)  # Spark has no unsigned integers: those become wide decimals
            # (and Arrow extension types, DuckDB's JSON say, their plain storage type)
            table = pa.table([
                pa.chunked_array([ch.storage for ch in c.chunks], type=c.type.storage_type)
                if isinstance(c.type, pa.BaseExtensionType) else c for c in table.columns
            ], names=table.column_names)
            table = table.cast(pa.schema([
                f.with_type(pa.decimal128(20, 0)) if pa.types.is_unsigned_integer(f.type) else f for f in table.schema
            ]))
            frame = session.createDataFrame(table)
        else:
            frame = session.read.parquet(str(path))
        frame.createOrReplaceTempView(path.stem)


__all__ = [
    "DUCKDB", "POSTGRES", "SPARK", "MigrationBackend", "PostgresCursor", "SparkCursor", "WarehouseURL",
    "parse_warehouse_url", "postgres_connect", "postgres_drop_schema", "postgres_prepare", "spark_backend",
    "spark_open_snapshot", "spark_session", "spark_take_snapshot", "stop_spark", "to_postgres",
]


def postgres_copy_schema(source: WarehouseURL, target: WarehouseURL) -> None:
    """Copy every table of one warehouse schema into another (constraints, defaults and
    indexes included): what copying the DuckDB file is for the embedded warehouse."""
    con = postgres_connect(target)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_type = 'BASE TABLE'",
            [source.schema],
        ).fetchall()]
        with con.transaction():
            for t in tables:
                con.execute(f'CREATE TABLE {target.schema}."{t}" (LIKE {source.schema}."{t}" INCLUDING ALL)')
                con.execute(f'INSERT INTO {target.schema}."{t}" SELECT * FROM {source.schema}."{t}"')  # noqa: S608  (catalog names)
        postgres_prepare(con, target)
    finally:
        con.close()


def copy_rows_in(cursor: Any, kind: str, table: str, columns: Sequence[str], rows: pa.Table) -> None:
    """Append Arrow `rows` to warehouse table `table` (its `columns`, in that order): COPY
    on PostgreSQL, whose column types parse the text; on DuckDB an insert from the Arrow
    table itself."""
    if not _IDENT.match(table) or not all(_IDENT.match(c) for c in columns):
        raise ValueError(f"copy: {table!r} {list(columns)!r} are not plain SQL names")
    cols = ", ".join(f'"{c}"' for c in columns)
    if kind == POSTGRES:
        with cursor.con.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            copy.write(_copy_text(rows))
        return
    # Nested values arriving as JSON text (PostgreSQL's json columns) parse into DuckDB's
    # STRUCT, LIST and MAP types through its JSON cast.
    kinds = dict(cursor.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall())  # noqa: S608
    select = ", ".join(
        f'CAST(CAST("{c}" AS JSON) AS {kinds[c]})'
        if pa.types.is_string(rows.schema.field(i).type) and re.search(r"STRUCT|\[\]|MAP\(", kinds.get(c, ""))
        else f'"{c}"'
        for i, c in enumerate(columns)
    )
    cursor.register("_uh_copy_rows", rows)
    try:
        cursor.execute(f"INSERT INTO {table} ({cols}) SELECT {select} FROM _uh_copy_rows")  # noqa: S608  (checked names)
    finally:
        cursor.unregister("_uh_copy_rows")
