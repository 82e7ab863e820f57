"""The identity match's engine layer: where Splink runs (DuckDB, PostgreSQL or Spark).

Every difference between the three engines the identity model runs on lives here, and
only here (the project rule: backend differences live in one module; the warehouse has
its own layer in `unionhall.warehouse.backends`, this one is self-contained):

* making the connection or session (an in-memory DuckDB; a private schema
  ``splink_<random>`` in PostgreSQL, dropped at the end; one local SparkSession per
  process, made on first use and reused),
* loading the Arrow input tables (DuckDB scans them; PostgreSQL gets them by COPY;
  Spark builds DataFrames from them: nothing is downloaded, Splink's own PostgreSQL
  registration would fetch DuckDB's postgres extension),
* the SQL of the comparison levels: `model.settings_for` writes DuckDB SQL (also what
  saved models hold); :func:`translate` rewrites it for the engine. The two string
  functions give DuckDB's results on every engine: in PostgreSQL as SQL functions
  created in the private schema (:data:`PG_FUNCTIONS`), in Spark as Arrow UDFs. Splink's
  jar UDFs (``jaro_winkler``, ``damerau_levenshtein``) are registered too but not used
  by the model: their Jaro-Winkler counts transpositions differently and both work on
  characters, where DuckDB works on UTF-8 bytes, so levels at 0.80-0.92 would differ,
* PostgreSQL's planning of Splink's SQL (:func:`_pg_planned`): every table Splink makes
  is ANALYZEd (without statistics the planner guessed billions of rows and crossed every
  voter with every voter: a 1M-voter predict ran for hours); the comparison vectors are
  a MATERIALIZED CTE, else PostgreSQL inlines each comparison's CASE into every one of
  its match-weight branches and calls the string functions up to eight times a pair;
  JIT is off (it compiled those expressions for seconds on every query),
* reading a result table back as Arrow (:meth:`EngineSession.fetch_arrow`).

Choosing the engine: ``predict(engine=...)``, else ``UNIONHALL_MATCH_ENGINE``
(duckdb | postgres | spark), else DuckDB. PostgreSQL's URL:
``UNIONHALL_MATCH_POSTGRES_URL``, else ``UNIONHALL_WAREHOUSE_URL`` when it is a
``postgresql://`` URL.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import threading
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa

from unionhall.warehouse import backends

ENGINES = ("duckdb", "postgres", "spark")
ENGINE_ENV = "UNIONHALL_MATCH_ENGINE"
POSTGRES_URL_ENV = "UNIONHALL_MATCH_POSTGRES_URL"
WAREHOUSE_URL_ENV = "UNIONHALL_WAREHOUSE_URL"


def choose_engine(engine: str | None = None) -> str:
    """The engine to run on: the argument, else UNIONHALL_MATCH_ENGINE, else the
    configuration's ``match_engine`` if it has one, else DuckDB."""
    name = engine or os.environ.get(ENGINE_ENV, "").strip().lower() or _configured_engine() or "duckdb"
    if name not in ENGINES:
        raise ValueError(f"unknown match engine {name!r}: use one of {', '.join(ENGINES)}")
    return name


def _configured_engine() -> str | None:
    try:
        from unionhall.config import get_config

        value = getattr(get_config(), "match_engine", None)
    except Exception:  # no usable configuration: the default engine
        return None
    return str(value).lower() if value else None


def postgres_url(url: str | None = None) -> str:
    """The PostgreSQL URL (``postgresql://...``) the postgres engine connects to."""
    url = url or os.environ.get(POSTGRES_URL_ENV) or ""
    if not url:
        wh = os.environ.get(WAREHOUSE_URL_ENV, "")
        if wh.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            url = wh
    if not url:
        raise ValueError(f"the postgres match engine needs {POSTGRES_URL_ENV} "
                         f"(or a postgresql:// {WAREHOUSE_URL_ENV})")
    return re.sub(r"^(postgresql\+psycopg|postgres)://", "postgresql://", url)


# --- SQL of the comparison levels -------------------------------------------------------

# DuckDB SQL (settings_for, saved models) -> the engine's SQL. Each rule is applied to
# every sql_condition and blocking rule of the settings.
_ARG = r"([\w.]+)"
_RULES: dict[str, list[tuple[str, str]]] = {
    # back from either engine's words (a model saved on PostgreSQL or Spark is stored in
    # DuckDB's, like every other); DuckDB's own text is left as it is
    "duckdb": [
        (rf"\({_ARG} = ANY\({_ARG}\)\)", r"list_contains(\2, \1)"),
        (rf"CAST\(extract\((year|month|day) FROM {_ARG}\) AS INTEGER\)", r"\1(\2)"),
        (r"\barray_contains\(", "list_contains("),
        (r"(\bregexp_replace\([^()]*, '[^']*', '')\)", r"\1, 'g')"),
        (r"\buh_jaro_winkler_similarity\(", "jaro_winkler_similarity("),
        (r"\buh_damerau_levenshtein\(", "damerau_levenshtein("),
    ],
    "postgres": [
        (rf"\blist_contains\({_ARG}, {_ARG}\)", r"(\2 = ANY(\1))"),
        (rf"\b(year|month|day)\({_ARG}\)", r"CAST(extract(\1 FROM \2) AS INTEGER)"),
    ],
    "spark": [
        (r"\blist_contains\(", "array_contains("),
        # Java regexes replace every match; the 4th argument is a position in Spark
        (r"(\bregexp_replace\([^()]*), 'g'\)", r"\1)"),
        (r"\bjaro_winkler_similarity\(", "uh_jaro_winkler_similarity("),
        (r"\bdamerau_levenshtein\(", "uh_damerau_levenshtein("),
    ],
}
_DIALECT = {"duckdb": "duckdb", "postgres": "postgres", "spark": "spark"}


def translate_sql(sql: str, engine: str) -> str:
    for pattern, repl in _RULES[engine]:
        sql = re.sub(pattern, repl, sql)
    return sql


def translate(settings: Any, engine: str) -> Any:
    """A copy of a Splink settings dict (or saved model) with its SQL in `engine`'s words."""
    if isinstance(settings, dict):
        out = {}
        for k, v in settings.items():
            if k in ("sql_condition", "blocking_rule") and isinstance(v, str):
                out[k] = translate_sql(v, engine)
            elif k == "sql_dialect" and isinstance(v, str):
                out[k] = _DIALECT[engine]
            else:
                out[k] = translate(v, engine)
        return out
    if isinstance(settings, list):
        out_list = []
        for v in settings:
            out_list.append(translate_sql(v, engine) if isinstance(v, str) else translate(v, engine))
        return out_list
    return settings


# DuckDB's jaro_winkler_similarity and damerau_levenshtein in PostgreSQL, on UTF-8 bytes
# like DuckDB's (tests/identity/test_engines.py checks them against DuckDB):
# * Jaro-Winkler as DuckDB's (rapidfuzz's): the match window is max(len)/2 - 1 and the
#   longer string is cut to the shorter's length + window; half the transpositions are
#   counted with integer division; two strings of one byte are equal or not; an empty
#   string scores 0; the prefix boost (at most 4 bytes, weight 0.1) applies above 0.7.
# * Damerau-Levenshtein is the unrestricted one (Lowrance-Wagner: a transposed pair
#   may also be edited in between: 'CA' -> 'ABC' is 2), not optimal string alignment.
PG_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION {schema}.jaro_winkler_similarity(a text, b text)
RETURNS double precision LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $f$
DECLARE
  p bytea := convert_to(a, 'UTF8');
  t bytea := convert_to(b, 'UTF8');
  plen int := length(p);
  tlen int := length(t);
  pl int := plen;
  tl int := tlen;
  bound int;
  pflag boolean[];
  tflag boolean[];
  common int := 0;
  trans int := 0;
  prefix int := 0;
  i int;
  j int;
  k int;
  c int;
  sim double precision;
BEGIN
  IF plen = 0 OR tlen = 0 THEN
    RETURN 0.0;
  END IF;
  WHILE prefix < least(plen, tlen, 4) AND get_byte(p, prefix) = get_byte(t, prefix) LOOP
    prefix := prefix + 1;
  END LOOP;
  IF plen = 1 AND tlen = 1 THEN
    sim := CASE WHEN get_byte(p, 0) = get_byte(t, 0) THEN 1.0 ELSE 0.0 END;
  ELSE
    IF tlen > plen THEN
      bound := tlen / 2 - 1;
      IF tlen > plen + bound THEN tl := plen + bound; END IF;
    ELSE
      bound := plen / 2 - 1;
      IF plen > tlen + bound THEN pl := tlen + bound; END IF;
    END IF;
    pflag := array_fill(false, ARRAY[pl]);
    tflag := array_fill(false, ARRAY[tl]);
    FOR j IN 0 .. tl - 1 LOOP
      c := get_byte(t, j);
      FOR i IN greatest(0, j - bound) .. least(pl - 1, j + bound) LOOP
        IF NOT pflag[i + 1] AND get_byte(p, i) = c THEN
          pflag[i + 1] := true;
          tflag[j + 1] := true;
          common := common + 1;
          EXIT;
        END IF;
      END LOOP;
    END LOOP;
    IF common = 0 THEN
      RETURN 0.0;
    END IF;
    k := 0;
    FOR j IN 0 .. tl - 1 LOOP
      IF tflag[j + 1] THEN
        WHILE NOT pflag[k + 1] LOOP
          k := k + 1;
        END LOOP;
        IF get_byte(p, k) <> get_byte(t, j) THEN
          trans := trans + 1;
        END IF;
        k := k + 1;
      END IF;
    END LOOP;
    trans := trans / 2;
    sim := ((common::float8 / plen::float8 + common::float8 / tlen::float8)
            + (common - trans)::float8 / common::float8) / 3.0::float8;
  END IF;
  IF sim > 0.7::float8 THEN
    sim := sim + prefix::float8 * 0.1::float8 * (1.0::float8 - sim);
  END IF;
  RETURN sim;
END
$f$;

CREATE OR REPLACE FUNCTION {schema}.damerau_levenshtein(a text, b text)
RETURNS bigint LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $f$
DECLARE
  s bytea := convert_to(a, 'UTF8');
  t bytea := convert_to(b, 'UTF8');
  m int := length(s);
  n int := length(t);
  w int := length(t) + 2;
  maxd int := length(s) + length(t);
  d int[];
  da int[] := array_fill(0, ARRAY[256]);
  i int;
  j int;
  db int;
  k int;
  l int;
  sc int;
  tc int;
  cost int;
BEGIN
  IF m = 0 THEN RETURN n; END IF;
  IF n = 0 THEN RETURN m; END IF;
  -- d[i][j] for i in -1..m, j in -1..n is d[(i + 1) * w + (j + 1) + 1]
  d := array_fill(0, ARRAY[(m + 2) * w]);
  d[1] := maxd;
  FOR i IN 0 .. m LOOP
    d[(i + 1) * w + 1] := maxd;
    d[(i + 1) * w + 2] := i;
  END LOOP;
  FOR j IN 0 .. n LOOP
    d[j + 2] := maxd;
    d[w + j + 2] := j;
  END LOOP;
  FOR i IN 1 .. m LOOP
    db := 0;
    sc := get_byte(s, i - 1);
    FOR j IN 1 .. n LOOP
      tc := get_byte(t, j - 1);
      k := da[tc + 1];
      l := db;
      IF sc = tc THEN
        cost := 0;
        db := j;
      ELSE
        cost := 1;
      END IF;
      d[(i + 1) * w + j + 2] := least(
        d[i * w + j + 1] + cost,
        d[(i + 1) * w + j + 1] + 1,
        d[i * w + j + 2] + 1,
        d[k * w + l + 1] + (i - k - 1) + 1 + (j - l - 1));
    END LOOP;
    da[sc + 1] := i;
  END LOOP;
  RETURN d[(m + 1) * w + n + 2];
END
$f$;
"""


def create_pg_functions(cur: Any, schema: str) -> None:
    """Create DuckDB's two string functions in `schema` (a psycopg cursor)."""
    cur.execute(PG_FUNCTIONS.replace("{schema}", schema))


# --- sessions ---------------------------------------------------------------------------


class EngineSession:
    """One predict's place to run Splink: its DatabaseAPI, input loading, reading back."""

    engine = "duckdb"

    def __init__(self) -> None:
        self.db_api: Any = None

    def load(self, name: str, table: pa.Table) -> str:
        """Make `table` available to Splink; returns the name to register it by."""
        raise NotImplementedError

    def fetch_arrow(self, table: str, columns: list[str]) -> pa.Table:
        """`columns` of a table Splink made (e.g. the predictions), as Arrow."""
        raise NotImplementedError

    def columns(self, table: str) -> list[str]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class DuckDBSession(EngineSession):
    engine = "duckdb"

    def __init__(self) -> None:
        from splink import DuckDBAPI

        super().__init__()
        self.con = duckdb.connect()
        self.con.execute("SET threads TO 2")
        self.db_api = DuckDBAPI(connection=self.con)

    def load(self, name: str, table: pa.Table) -> str:
        self.con.register(f"{name}_arrow", table)
        self.con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_arrow")  # noqa: S608
        self.con.unregister(f"{name}_arrow")
        return name

    def columns(self, table: str) -> list[str]:
        return [r[0] for r in self.con.execute(f"DESCRIBE {table}").fetchall()]

    def fetch_arrow(self, table: str, columns: list[str]) -> pa.Table:
        sql = f"SELECT {', '.join(columns)} FROM {table}"  # noqa: S608  (Splink's names)
        return self.con.execute(sql).fetch_arrow_table()

    def close(self) -> None:
        self.con.close()


_PG_TYPES = {
    pa.string(): "text", pa.large_string(): "text", pa.bool_(): "boolean",
    pa.int8(): "smallint", pa.int16(): "smallint", pa.int32(): "integer", pa.int64(): "bigint",
    pa.float32(): "real", pa.float64(): "double precision", pa.date32(): "date",
    pa.null(): "text",
}


def _pg_type(t: pa.DataType) -> str:
    if t in _PG_TYPES:
        return _PG_TYPES[t]
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _pg_type(t.value_type) + "[]"
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    if pa.types.is_decimal(t):
        return "numeric"
    raise TypeError(f"no PostgreSQL type for Arrow {t}")


class PostgresSession(EngineSession):
    """A private schema ``splink_<random>``: the inputs, Splink's tables and the two
    string functions live there; the schema is dropped at the end."""

    engine = "postgres"

    def __init__(self, url: str | None = None) -> None:
        import psycopg
        from sqlalchemy import create_engine

        super().__init__()
        self.url = postgres_url(url)
        self.schema = f"splink_{secrets.token_hex(6)}"
        self.con = psycopg.connect(self.url, autocommit=True)
        with self.con.cursor() as cur:
            with contextlib.suppress(psycopg.Error):  # present already, or not ours to add
                cur.execute("CREATE EXTENSION IF NOT EXISTS fuzzystrmatch SCHEMA public")
            cur.execute(f"CREATE SCHEMA {self.schema}")
            create_pg_functions(cur, self.schema)
        self.con.execute(f"SET search_path TO {self.schema}, public")
        # every pooled connection searches the private schema first
        self.sa_engine = create_engine(
            "postgresql+psycopg://" + self.url.removeprefix("postgresql://"),
            connect_args={"options": f"-c search_path={self.schema},public -c jit=off"},
        )
        try:
            self.db_api = _postgres_api(self, self.sa_engine)
        except Exception:
            self.close()
            raise

    def load(self, name: str, table: pa.Table) -> str:
        # Splink finds a table's columns by its name alone, in every schema: a name no other
        # schema has (another match running at the same time loads "members" too).
        return self.copy_in(f"{self.schema}_{name}", table)

    def copy_in(self, name: str, table: pa.Table) -> str:
        """`table` as table `name` of the private schema (COPY)."""
        with self.con.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {self.schema}.{name}")
        cols = ", ".join(f'"{f.name}" {_pg_type(f.type)}' for f in table.schema)
        names = ", ".join(f'"{f.name}"' for f in table.schema)
        with self.con.cursor() as cur:
            cur.execute(f"CREATE TABLE {self.schema}.{name} ({cols})")
            with cur.copy(f"COPY {self.schema}.{name} ({names}) FROM STDIN") as copy:
                for batch in table.to_batches(50_000):
                    for row in zip(*(c.to_pylist() for c in batch.columns), strict=True):
                        copy.write_row(row)
            cur.execute(f"ANALYZE {self.schema}.{name}")
        return name

    def columns(self, table: str) -> list[str]:
        rows = self.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = %s ORDER BY ordinal_position", [self.schema, table]).fetchall()
        return [str(r[0]) for r in rows]

    def fetch_arrow(self, table: str, columns: list[str]) -> pa.Table:
        with self.con.cursor() as cur:
            cur.execute(f"SELECT {', '.join(columns)} FROM {self.schema}.{table}")  # noqa: S608
            rows = cur.fetchall()
            types = [d.type_code for d in cur.description or []]
        out = {}
        for i, col in enumerate(columns):
            values = [r[i] for r in rows]
            out[col] = pa.array(values, type=_arrow_of_pg(types[i], values))
        return pa.table(out)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.sa_engine.dispose()
        with contextlib.suppress(Exception):
            self.con.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        with contextlib.suppress(Exception):
            self.con.close()


def _postgres_api(session: PostgresSession, sa_engine: Any) -> Any:
    """Splink's PostgresAPI, except that the tables Splink registers itself (e.g. the
    u-estimation counts) are loaded by COPY: Splink would load them through DuckDB's
    postgres extension, which it tries to download."""
    from splink.backends.postgres import PostgresAPI

    class _PostgresAPI(PostgresAPI):
        def _table_registration(self, input: Any, table_name: str) -> None:
            session.copy_in(table_name, _as_arrow(input))

        def _execute_sql_against_backend(self, final_sql: str, templated_name: str | None = None,
                                         physical_name: str | None = None) -> Any:
            res = super()._execute_sql_against_backend(_pg_planned(final_sql), templated_name, physical_name)
            made = _PG_CREATED.match(final_sql)
            if made:
                with session.con.cursor() as cur:
                    cur.execute(f"ANALYZE {session.schema}.{made.group(1)}")
            return res

    return _PostgresAPI(engine=sa_engine, schema=session.schema)


_PG_CREATED = re.compile(r"\s*CREATE TABLE\s+(__splink__\w+)\s+AS\b", re.IGNORECASE)
_PG_INLINED = re.compile(r"\b(__splink__df_comparison_vectors)\s+as\s+\(", re.IGNORECASE)


def _pg_planned(sql: str) -> str:
    """Splink's SQL as PostgreSQL plans it well: the comparison vectors computed once."""
    return _PG_INLINED.sub(r"\1 AS MATERIALIZED (", sql)


def _as_arrow(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, dict):
        return pa.table(data)
    if isinstance(data, list | tuple):
        return pa.Table.from_pylist(list(data))
    return pa.Table.from_pandas(data, preserve_index=False)


def _arrow_of_pg(oid: int, values: list[Any]) -> pa.DataType | None:
    # text, float8, float4, int8, int4, int2, numeric, bool
    known = {25: pa.string(), 1043: pa.string(), 701: pa.float64(), 700: pa.float64(),
             20: pa.int64(), 23: pa.int64(), 21: pa.int64(), 1700: pa.float64(), 16: pa.bool_()}
    if oid == 1700:
        values[:] = [None if v is None else float(v) for v in values]
    return known.get(oid)


# Spark: the process's one local session (warehouse/backends.py), with DuckDB's string
# functions registered on it once.
_UDFS_ON: set[int] = set()
_UDFS_LOCK = threading.Lock()


def spark_session() -> Any:
    """The process's SparkSession with Splink's comparisons able to call DuckDB's
    jaro_winkler_similarity and damerau_levenshtein (see `_register_spark_udfs`)."""
    spark = backends.spark_session()
    with _UDFS_LOCK:
        if id(spark) not in _UDFS_ON:
            _register_spark_udfs(spark)
            _UDFS_ON.add(id(spark))
    return spark


stop_spark = backends.stop_spark


_UDF_CON: dict[int, duckdb.DuckDBPyConnection] = {}


def _duckdb_pairs(fn: str, a: Any, b: Any) -> Any:
    """DuckDB's `fn` over two pandas Series (runs in Spark's Python workers)."""
    pid = os.getpid()
    con = _UDF_CON.get(pid)
    if con is None:
        con = _UDF_CON[pid] = duckdb.connect()
        con.execute("SET threads TO 1")
    tbl = pa.table({"a": pa.array(a, pa.string(), from_pandas=True),
                    "b": pa.array(b, pa.string(), from_pandas=True)})
    con.register("_uh_pairs", tbl)
    try:
        return con.execute(f"SELECT {fn}(a, b) AS v FROM _uh_pairs").df()["v"]  # noqa: S608
    finally:
        con.unregister("_uh_pairs")


def _jw_pandas(a: Any, b: Any) -> Any:
    return _duckdb_pairs("jaro_winkler_similarity", a, b).astype("float64")


def _dl_pandas(a: Any, b: Any) -> Any:
    return _duckdb_pairs("damerau_levenshtein", a, b).astype("Int64")


def _register_spark_udfs(spark: Any) -> None:
    """DuckDB's jaro_winkler_similarity and damerau_levenshtein as Spark SQL functions
    (Arrow-batched Python UDFs that ask DuckDB itself: the same numbers by construction)."""
    import pandas as pd
    from pyspark.sql.functions import pandas_udf

    for fn, name, kind in ((_jw_pandas, "uh_jaro_winkler_similarity", "double"),
                           (_dl_pandas, "uh_damerau_levenshtein", "long")):
        fn.__annotations__ = {"a": pd.Series, "b": pd.Series, "return": pd.Series}
        spark.udf.register(name, pandas_udf(fn, kind))  # type: ignore[call-overload]


class SparkSession_(EngineSession):
    """Temp views in the process's SparkSession; dropped (and uncached) at the end."""

    engine = "spark"

    def __init__(self) -> None:
        from splink.backends.spark import SparkAPI

        super().__init__()
        self.spark = spark_session()
        self.prefix = f"uh_{secrets.token_hex(4)}_"
        self.views: list[str] = []
        self.db_api = SparkAPI(spark_session=self.spark, break_lineage_method="persist",
                               num_partitions_on_repartition=4)

    def load(self, name: str, table: pa.Table) -> str:
        view = self.prefix + name
        self.spark.createDataFrame(table).createOrReplaceTempView(view)
        self.views.append(view)
        return view

    def columns(self, table: str) -> list[str]:
        return list(self.spark.table(table).columns)

    def fetch_arrow(self, table: str, columns: list[str]) -> pa.Table:
        return self.spark.table(table).select(*columns).toArrow()

    def close(self) -> None:
        for t in self.spark.catalog.listTables():
            if t.isTemporary and (t.name.startswith("__splink__") or t.name in self.views):
                with contextlib.suppress(Exception):
                    self.spark.catalog.dropTempView(t.name)
        self.spark.catalog.clearCache()


_SESSION_LOCK = threading.Lock()


@contextlib.contextmanager
def open_session(engine: str, *, postgres: str | None = None) -> Iterator[EngineSession]:
    """An engine session for one predict; closed (schema dropped, views gone) after."""
    s: EngineSession
    lock = _SESSION_LOCK if engine == "spark" else contextlib.nullcontext()
    with lock:  # Splink's Spark tables are session-wide: one predict at a time
        if engine == "duckdb":
            s = DuckDBSession()
        elif engine == "postgres":
            s = PostgresSession(postgres)
        elif engine == "spark":
            s = SparkSession_()
        else:
            raise ValueError(f"unknown match engine {engine!r}")
        try:
            yield s
        finally:
            s.close()
