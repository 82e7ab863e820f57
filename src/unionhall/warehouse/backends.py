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

Nothing outside this module branches on the engine, but for the few steps that cannot be
the same SQL, which ask `is_postgres(cursor)`: files are parsed by DuckDB's CSV reader
(its rejects give the row and column of every bad line), on a scratch in-memory DuckDB
when the warehouse is PostgreSQL, whose staged rows are then copied in by `register`
(`unionhall.elections.files.stage_csv`); and DuckDB's own settings (memory limit,
threads, row-group buffering) are left alone there.
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

# TRY_CAST's target types: the name in `_uh_try_<name>` and the PostgreSQL type.
_TRY_CASTS = {
    "integer": "integer", "bigint": "bigint", "smallint": "smallint", "double": "double precision",
    "real": "real", "numeric": "numeric", "date": "date", "timestamp": "timestamp", "boolean": "boolean",
}
_TRY_TYPE = {
    "INT": "integer", "INTEGER": "integer", "BIGINT": "bigint", "SMALLINT": "smallint", "TINYINT": "smallint",
    "DOUBLE": "double", "FLOAT": "real", "DECIMAL": "numeric", "DATE": "date", "TIMESTAMP": "timestamp",
    "DATETIME": "timestamp", "BOOLEAN": "boolean",
}

# DuckDB functions the system jobs use that PostgreSQL lacks, created in each schema.
_PG_FUNCTIONS = (
    # DuckDB's hash() is an unsigned 64-bit hash (UBIGINT: row hashes are stored, and copied
    # between engines); any stable one will do: PostgreSQL's, shifted into 0 .. 2^64 - 1.
    # (An earlier version returned a signed bigint; its return type cannot be replaced.)
    "DO $$ BEGIN IF (SELECT prorettype = 'bigint'::regtype FROM pg_proc "
    "WHERE oid = to_regprocedure('{schema}.hash(anyelement)')) THEN DROP FUNCTION {schema}.hash(anyelement); "
    "END IF; END $$",
    "CREATE OR REPLACE FUNCTION {schema}.hash(v anyelement) RETURNS numeric "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT hashtextextended(v::text, 0)::numeric + 9223372036854775808 $$",
    # DuckDB's md5_number_lower: bytes 8-15 of the MD5, little-endian, unsigned (export
    # marks are stored and compared across engines, so the very same number).
    "CREATE OR REPLACE FUNCTION {schema}.md5_number_lower(s text) RETURNS numeric "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN v < 0 THEN v::numeric + 18446744073709551616 "
    "ELSE v::numeric END FROM (SELECT ('x' || substr(h, 31, 2) || substr(h, 29, 2) || substr(h, 27, 2) "
    "|| substr(h, 25, 2) || substr(h, 23, 2) || substr(h, 21, 2) || substr(h, 19, 2) || substr(h, 17, 2))"
    "::bit(64)::bigint AS v FROM (SELECT md5(s) AS h) m) b $$",
    # DuckDB's list aggregates over a list's elements (NULLs skipped).
    "CREATE OR REPLACE FUNCTION {schema}.list_max(a anyarray) RETURNS anyelement "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT max(x) FROM unnest(a) x $$",
    "CREATE OR REPLACE FUNCTION {schema}.list_min(a anyarray) RETURNS anyelement "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT min(x) FROM unnest(a) x $$",
    "CREATE OR REPLACE FUNCTION {schema}.list_sum(a double precision[]) RETURNS double precision "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT sum(x) FROM unnest(a) x $$",
    "CREATE OR REPLACE FUNCTION {schema}.list_sum(a integer[]) RETURNS bigint "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT sum(x) FROM unnest(a) x $$",
    "CREATE OR REPLACE FUNCTION {schema}.list_sum(a bigint[]) RETURNS numeric "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT sum(x) FROM unnest(a) x $$",
    # list_contains(list, ?): sqlglot writes the needle twice, which a parameter cannot be.
    "CREATE OR REPLACE FUNCTION {schema}.list_contains(a anyarray, e anyelement) RETURNS boolean "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN e IS NULL THEN NULL "
    "ELSE coalesce(e = ANY(a), false) END $$",
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
    # DuckDB's string predicates and byte length.
    "CREATE OR REPLACE FUNCTION {schema}.contains(s text, t text) RETURNS boolean "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT strpos(s, t) > 0 $$",
    "CREATE OR REPLACE FUNCTION {schema}.prefix(s text, t text) RETURNS boolean "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT starts_with(s, t) $$",
    "CREATE OR REPLACE FUNCTION {schema}.suffix(s text, t text) RETURNS boolean "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT right(s, length(t)) = t $$",
    "CREATE OR REPLACE FUNCTION {schema}.strlen(s text) RETURNS bigint "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT octet_length(s)::bigint $$",
    # TRY_CAST (to_postgres writes TRY_CAST(x AS T) as _uh_try_T(x::text)): NULL where the
    # cast fails. Plain integers take the fast path; anything else a guarded cast.
    *(
        f"CREATE OR REPLACE FUNCTION {{schema}}._uh_try_{name}_slow(v text) RETURNS {pg} "
        f"LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$ BEGIN RETURN v::{pg}; "
        "EXCEPTION WHEN others THEN RETURN NULL; END $$"
        for name, pg in _TRY_CASTS.items()
    ),
    *(
        f"CREATE OR REPLACE FUNCTION {{schema}}._uh_try_{name}(v text) RETURNS {pg} "
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN v IS NULL THEN NULL "
        f"WHEN v ~ '^\\s*[-+]?[0-9]{{{{1,9}}}}\\s*$' THEN v::{pg} ELSE {{schema}}._uh_try_{name}_slow(v) END $$"
        for name, pg in _TRY_CASTS.items() if name in ("integer", "bigint", "numeric", "double")
    ),
    *(
        f"CREATE OR REPLACE FUNCTION {{schema}}._uh_try_{name}(v text) RETURNS {pg} "
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT {{schema}}._uh_try_{name}_slow(v) $$"
        for name, pg in _TRY_CASTS.items() if name in ("smallint", "real", "boolean")
    ),
    # DuckDB reads dates and timestamps as ISO text only (PostgreSQL also takes 03/07/2020).
    "CREATE OR REPLACE FUNCTION {schema}._uh_try_date(v text) RETURNS date "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN v ~ '^\\s*-?[0-9]{{1,}}-[0-9]{{1,2}}-[0-9]{{1,2}}\\s*$' "
    "THEN {schema}._uh_try_date_slow(v) END $$",
    "CREATE OR REPLACE FUNCTION {schema}._uh_try_timestamp(v text) RETURNS timestamp "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN v ~ "
    "'^\\s*-?[0-9]{{1,}}-[0-9]{{1,2}}-[0-9]{{1,2}}([ T][0-9]{{1,2}}:[0-9]{{2}}(:[0-9]{{2}}(\\.[0-9]*)?)?)?\\s*$' "
    "THEN {schema}._uh_try_timestamp_slow(v) END $$",
    # DuckDB's try_strptime for the %-formats the importers use: the text must match the
    # format exactly (1- or 2-digit day and month, 4-digit year), else NULL.
    "CREATE OR REPLACE FUNCTION {schema}.try_strptime(s text, f text) RETURNS timestamp "
    "LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$ DECLARE pat text; fmt text; BEGIN "
    "IF s IS NULL OR f IS NULL THEN RETURN NULL; END IF; "
    "pat := '^' || replace(replace(replace(replace(replace(replace(replace(replace(regexp_replace(f, "
    "'([.^$*+?()\\[\\]{{}}|\\\\])', '\\\\\\1', 'g'), "
    "'%Y', '[0-9]{{4}}'), '%m', '[0-9]{{1,2}}'), '%d', '[0-9]{{1,2}}'), '%H', '[0-9]{{1,2}}'), "
    "'%M', '[0-9]{{1,2}}'), '%S', '[0-9]{{1,2}}'), '%y', '[0-9]{{2}}'), '%%', '%') || '$'; "
    "IF s !~ pat THEN RETURN NULL; END IF; "
    "fmt := replace(replace(replace(replace(replace(replace(replace(f, '%Y', 'YYYY'), '%m', 'MM'), "
    "'%d', 'DD'), '%H', 'HH24'), '%M', 'MI'), '%S', 'SS'), '%y', 'YY'); "
    "RETURN to_timestamp(s, fmt)::timestamp; "
    "EXCEPTION WHEN others THEN RETURN NULL; END $$",
    # DuckDB's strip_accents: the letters without their combining marks.
    "CREATE OR REPLACE FUNCTION {schema}.strip_accents(s text) RETURNS text "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT normalize(regexp_replace(normalize(s, NFD), "
    "'[\\u0300-\\u036f]', '', 'g'), NFC) $$",
    # len()/length() of a list (sqlglot writes DuckDB's len as LENGTH): its number of elements.
    "CREATE OR REPLACE FUNCTION {schema}.length(a anyarray) RETURNS bigint "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT cardinality(a)::bigint $$",
    # ... and of a list of structs, a JSON array here (`_STRUCT_LIST_RE`).
    "CREATE OR REPLACE FUNCTION {schema}.length(j json) RETURNS bigint "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT json_array_length(j)::bigint $$",
    "CREATE OR REPLACE FUNCTION {schema}.length(j jsonb) RETURNS bigint "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT jsonb_array_length(j)::bigint $$",
    # DuckDB's list_sort (as sqlglot writes it) and list_distinct (NULLs dropped).
    "CREATE OR REPLACE FUNCTION {schema}.sort_array(a anyarray) RETURNS anyarray "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN a IS NULL THEN NULL "
    "ELSE ARRAY(SELECT x FROM unnest(a) x ORDER BY x) END $$",
    "CREATE OR REPLACE FUNCTION {schema}.list_distinct(a anyarray) RETURNS anyarray "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN a IS NULL THEN NULL "
    "ELSE ARRAY(SELECT DISTINCT x FROM unnest(a) x WHERE x IS NOT NULL) END $$",
    # DuckDB's JSON functions take JSON text (a VARCHAR column): so do these.
    "CREATE OR REPLACE FUNCTION {schema}.json_extract_path_text(j text, VARIADIC p text[]) RETURNS text "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT pg_catalog.json_extract_path_text(j::json, VARIADIC p) $$",
    "CREATE OR REPLACE FUNCTION {schema}.json_extract_path(j text, VARIADIC p text[]) RETURNS json "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT pg_catalog.json_extract_path(j::json, VARIADIC p) $$",
    # DuckDB's catalog of temporary and schema views and tables (what `relation_drop` asks).
    *(
        f"CREATE OR REPLACE FUNCTION {{schema}}.duckdb_{kind}s() "  # noqa: S608  (constants)
        f"RETURNS TABLE ({kind}_name text, schema_name text, temporary boolean) "
        "LANGUAGE sql STABLE AS $$ SELECT c.relname::text, n.nspname::text, n.oid = pg_my_temp_schema() "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE c.relkind IN ({rel}) AND (n.oid = pg_my_temp_schema() OR n.nspname = '{{schema}}') $$"
        for kind, rel in (("view", "'v', 'm'"), ("table", "'r', 'p'"))
    ),
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
    for n, parsed in enumerate(t for t in trees if t is not None):
        tree: Any = parsed
        # DuckDB lets a subquery in FROM go without a name; PostgreSQL does not.
        # Aggregates skip NULLs on PostgreSQL: IGNORE NULLS is implied (and refused).
        for node in list(tree.find_all(exp.IgnoreNulls)):
            node.replace(node.this)
        for part in reversed(list(tree.find_all(exp.Year, exp.Month, exp.Day, exp.DateDiff))):  # inner first
            part.replace(_pg_date_part(part, exp))
        for select in reversed(list(tree.find_all(exp.Select))):  # inner first
            _pg_group_by_all(select, exp)
            done = _pg_qualify(select, exp)
            tree = done if select is tree else tree
        rewritten = (exp.RegexpExtract, exp.RegexpReplace, exp.RegexpLike, exp.RegexpILike, exp.RegexpSplit,
                     exp.TryCast, exp.ArgMax, exp.ArgMin, exp.Anonymous, exp.GenerateSeries, exp.Cast,
                     exp.List, exp.Trim, exp.Bracket, exp.Column, exp.ArrayContains)
        for expr in reversed(list(tree.find_all(*rewritten))):  # inner first
            _pg_rewrite(expr, exp)
        for i, sub in enumerate(tree.find_all(exp.Subquery)):
            if not sub.alias and isinstance(sub.parent, (exp.From, exp.Join)):
                sub.set("alias", exp.TableAlias(this=exp.to_identifier(f"_q{n}_{i}")))
        statements.append(tree.sql(dialect="postgres"))
    out = ";\n".join(statements)
    out = _PG_TYPE_RE.sub(lambda m: _PG_TYPES[m.group(1)], out)
    out = out.replace("ARRAY[]", "'{}'")  # an empty list: PostgreSQL types the literal from its use
    return re.sub(r"\bCREATE OR REPLACE (TEMPORARY )?TABLE (\w+)", r"DROP TABLE IF EXISTS \2; CREATE \1TABLE \2", out)


def _pg_group_by_all(select: Any, exp: Any) -> None:
    """GROUP BY ALL: by the position of every selected expression without an aggregate."""
    group = select.args.get("group")
    if group is None or not group.args.get("all"):
        return
    keys = [exp.Literal.number(i + 1) for i, p in enumerate(select.expressions)
            if not any(isinstance(n, (exp.AggFunc, exp.Window)) for n in p.walk())]
    select.set("group", exp.Group(expressions=keys) if keys else None)


def _pg_qualify(select: Any, exp: Any) -> Any:
    """SELECT ... QUALIFY cond as SELECT <its columns> FROM (SELECT ..., cond AS _uh_q) WHERE _uh_q.

    sqlglot's own rewrite loses table-qualified columns (``v.x = max(v.x) OVER w``); this
    one keeps the condition where it was written, with the select's aliases expanded
    (DuckDB lets QUALIFY name them). Selects it cannot name every column of (``*``,
    repeated names) are left to sqlglot.
    """
    qualify = select.args.get("qualify")
    if qualify is None:
        return select
    names = [p.alias_or_name for p in select.expressions]
    if (any(isinstance(p, exp.Star) or (isinstance(p, exp.Column) and isinstance(p.this, exp.Star))
            for p in select.expressions)
            or "" in names or len(set(names)) != len(names)):
        return select
    aliases = {p.alias: p.this for p in select.expressions if isinstance(p, exp.Alias)}
    cond = qualify.this.copy()
    for col in list(cond.find_all(exp.Column)):
        if not col.table and col.name in aliases:
            col.replace(exp.paren(aliases[col.name].copy()))
    inner = select.copy()
    inner.set("qualify", None)
    with_, distinct = inner.args.get("with"), inner.args.get("distinct")
    limit, offset = inner.args.get("limit"), inner.args.get("offset")
    inner.set("with", None)
    inner.set("distinct", None)
    # ORDER BY stays inside, where its columns are (a filter over a subquery keeps its
    # order on PostgreSQL); LIMIT and OFFSET apply after the filter.
    inner.set("limit", None)
    inner.set("offset", None)
    inner.append("expressions", exp.alias_(cond, "_uh_q"))
    outer = exp.select(*[exp.column(exp.to_identifier(n, quoted=not _IDENT.match(n)), table="_uh_q")
                         for n in names]).from_(inner.subquery("_uh_q")).where(exp.column("_uh_q", table="_uh_q"))
    if with_ is not None:
        outer.set("with", with_)
    if distinct is not None:
        outer.set("distinct", distinct)
    if limit is not None:
        outer.set("limit", limit)
    if offset is not None:
        outer.set("offset", offset)
    select.replace(outer)
    return outer


# Unicode category Zs: what DuckDB's trim, ltrim and rtrim remove.
_SPACE_SEPARATORS = " \u00a0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B)) + "\u202f\u205f\u3000"
_RE2_BOUNDARY = re.compile(r"(?<!\\)((?:\\\\)*)\\([bB])")


def _pg_regex(node: Any, exp: Any) -> None:
    """A literal RE2 pattern (DuckDB's) as a PostgreSQL one: the word boundary ``\\b`` is
    ``\\y`` there (``\\b`` is a backspace), ``\\B`` is ``\\Y``."""
    pattern = node.expression
    if isinstance(pattern, exp.Literal) and pattern.is_string and "\\" in pattern.this:
        fixed = _RE2_BOUNDARY.sub(lambda m: m.group(1) + ("\\y" if m.group(2) == "b" else "\\Y"), pattern.this)
        if fixed != pattern.this:
            pattern.replace(exp.Literal.string(fixed))


def _pg_rewrite(node: Any, exp: Any) -> None:
    """One DuckDB construct PostgreSQL lacks, rewritten in place (see `to_postgres`)."""
    if isinstance(node, (exp.RegexpExtract, exp.RegexpReplace, exp.RegexpLike, exp.RegexpILike, exp.RegexpSplit)):
        _pg_regex(node, exp)
    elif isinstance(node, exp.TryCast):
        # TRY_CAST(x AS T): NULL where the cast fails (`_uh_try_*` in `_PG_FUNCTIONS`).
        name = _TRY_TYPE.get(node.to.this.name)
        if name is not None:
            node.replace(exp.Anonymous(this=f"_uh_try_{name}", expressions=[exp.cast(node.this.copy(), "TEXT")]))
    elif isinstance(node, (exp.ArgMax, exp.ArgMin)):
        # arg_max(x, by): x of the row with the largest `by`, rows with a NULL `by` skipped.
        order = "DESC" if isinstance(node, exp.ArgMax) else "ASC"
        x, by = node.this.sql(dialect="postgres"), node.expression.sql(dialect="postgres")
        node.replace(_sqlglot_parse(
            f"(ARRAY_AGG({x} ORDER BY {by} {order}) FILTER (WHERE ({by}) IS NOT NULL))[1]"))
    elif isinstance(node, exp.ArrayContains) and isinstance(node.expression, exp.Placeholder):
        node.replace(exp.Anonymous(this="list_contains", expressions=[node.this.copy(), node.expression.copy()]))
    elif isinstance(node, exp.Anonymous) and node.name.lower() == "hash" and len(node.expressions) > 1:
        # hash(a, b, ...): one hash of the row of values.
        row = exp.Anonymous(this="ROW", expressions=[e.copy() for e in node.expressions])
        node.set("expressions", [row])
    elif isinstance(node, exp.GenerateSeries) and node.args.get("is_end_exclusive"):
        # DuckDB's range(a, b[, step]) stops before b; generate_series includes it.
        step = node.args.get("step")
        negative = step is not None and step.sql().lstrip("(").startswith("-")
        if step is None or isinstance(step, (exp.Literal, exp.Neg)):
            end = node.args["end"]
            node.set("end", (exp.Add if negative else exp.Sub)(this=exp.paren(end.copy()),
                                                                expression=exp.Literal.number(1)))
            node.set("is_end_exclusive", False)
    if isinstance(node, exp.GenerateSeries):
        if not isinstance(node.parent, exp.Table):  # a list where DuckDB has a value
            series = node.copy()
            node.replace(exp.Array(expressions=[exp.select(series)]))
        elif not node.parent.alias:  # DuckDB names range()'s column "range"
            node.parent.set("alias", exp.TableAlias(this=exp.to_identifier("range"),
                                                    columns=[exp.to_identifier("range")]))
    elif isinstance(node, exp.Cast) and node.to.this in (exp.DataType.Type.BIGINT, exp.DataType.Type.INT):
        # ('0x' || hex)::BIGINT: DuckDB reads hexadecimal text; PostgreSQL through bits.
        inner = node.this.unnest() if isinstance(node.this, exp.Paren) else node.this
        if (isinstance(inner, exp.DPipe) and isinstance(inner.this, exp.Literal)
                and inner.this.is_string and inner.this.this.lower() == "0x"):
            bits = 64 if node.to.this == exp.DataType.Type.BIGINT else 32
            hexdigits = inner.expression.sql(dialect="postgres")
            node.replace(_sqlglot_parse(
                f"CAST(CAST(('x' || LPAD({hexdigits}, {bits // 4}, '0')) AS BIT({bits})) AS {node.to.sql('postgres')})"))
    elif isinstance(node, exp.List) and len(node.expressions) == 1:
        # The list() aggregate is array_agg.
        node.replace(exp.ArrayAgg(this=node.expressions[0].copy()))
    elif isinstance(node, exp.Trim) and node.args.get("expression") is None:
        # DuckDB's trim() removes every Unicode space separator (a no-break space too);
        # PostgreSQL's only the ASCII space.
        node.set("expression", exp.Literal.string(_SPACE_SEPARATORS))
    elif isinstance(node, exp.Bracket) and isinstance(node.this, exp.Func):
        # f(x)[i]: PostgreSQL subscripts a function's result only in parentheses.
        node.set("this", exp.paren(node.this.copy()))
    elif isinstance(node, exp.Column) and node.name.lower() == "rowid" and not node.this.quoted:
        # A row's identity within a statement.
        node.set("this", exp.to_identifier("ctid"))


def _sqlglot_parse(sql: str) -> Any:
    import sqlglot

    return sqlglot.parse_one(sql, read="postgres")


def _pg_date_part(node: Any, exp: Any) -> Any:
    """DuckDB's year()/month()/day() (BIGINT) and date_diff for year, month and day,
    which counts the unit's boundaries crossed (date_diff('year', DATE '2000-12-31',
    DATE '2001-01-01') is 1), where sqlglot's AGE() counts whole units."""

    def part(unit: str, e: Any) -> Any:
        return exp.Extract(this=exp.var(unit), expression=e.copy())

    if not isinstance(node, exp.DateDiff):
        return exp.cast(part(type(node).__name__.upper(), node.this), "BIGINT")
    unit = (node.text("unit") or "DAY").upper()
    end, start = node.this, node.expression
    if unit in ("YEAR", "YEARS", "Y", "YR", "YRS"):
        diff = exp.Sub(this=part("YEAR", end), expression=part("YEAR", start))
    elif unit in ("MONTH", "MONTHS", "MON", "MONS"):
        def months(e: Any) -> Any:
            return exp.Add(this=exp.Mul(this=part("YEAR", e), expression=exp.Literal.number(12)),
                           expression=part("MONTH", e))
        diff = exp.Sub(this=exp.paren(months(end)), expression=exp.paren(months(start)))
    elif unit in ("DAY", "DAYS", "D"):
        diff = exp.Sub(this=exp.cast(end.copy(), "DATE"), expression=exp.cast(start.copy(), "DATE"))
    else:
        return node
    return exp.cast(exp.paren(diff), "BIGINT")


_NAMED = re.compile(r"\$([A-Za-z_]\w*)")
_DROP_FIRST = re.compile(r"(DROP TABLE IF EXISTS \w+); ")


def _with_placeholders(sql: str) -> str:
    # With parameters psycopg reads every % as a placeholder: a literal one is %%.
    # sqlglot writes DuckDB's $name as %(name)s.
    return re.sub(r"%%\((\w+)\)s", r"%(\1)s", sql.replace("%", "%%").replace("%%s", "%s"))


_PLACEHOLDER = re.compile(r"%%|%s|%\((\w+)\)s")


def _is_text_list(v: Any) -> bool:
    return isinstance(v, (list, tuple)) and any(isinstance(x, str) for x in v)


def _text_lists_binary(sql: str, parameters: Sequence[Any] | Mapping[str, Any]) -> str:
    """Bind lists of strings in binary (``%b``): psycopg then sends them as ``text[]``, where
    in text format their type is left unknown (``unnest(?)`` would be ambiguous)."""
    if isinstance(parameters, Mapping):
        names = {k for k, v in parameters.items() if _is_text_list(v)}
        positions: set[int] = set()
    else:
        names = set()
        positions = {i for i, v in enumerate(parameters) if _is_text_list(v)}
    if not names and not positions:
        return sql
    count = 0

    def one(m: re.Match[str]) -> str:
        nonlocal count
        placeholder = m.group(0)
        if placeholder == "%s":
            count += 1
            return "%b" if count - 1 in positions else placeholder
        if m.group(1) in names:
            return f"%({m.group(1)})b"
        return placeholder

    return _PLACEHOLDER.sub(one, sql)


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
        # PostgreSQL text cannot hold NUL characters (DuckDB's VARCHAR can): they are dropped.
        return (e.str.replace_all("\x00", "", literal=True).str.replace_all("\\", "\\\\", literal=True)
                .str.replace_all("\t", "\\t", literal=True).str.replace_all("\n", "\\n", literal=True).str.replace_all("\r", "\\r", literal=True))

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
        pg = to_postgres(sql)
        if parameters is None:
            self._cur = self.con.execute(pg)
            return self
        # CREATE OR REPLACE TABLE became DROP; CREATE: a statement with parameters must be one.
        drop = _DROP_FIRST.match(pg)
        if drop:
            self.con.execute(drop.group(1))
            pg = pg[drop.end():]
        if isinstance(parameters, Mapping):  # DuckDB's $name parameters
            named = _NAMED.sub(r"%(\1)s", _with_placeholders(pg))
            self._cur = self.con.execute(_text_lists_binary(named, parameters), dict(parameters))
        else:
            self._cur = self.con.execute(_text_lists_binary(_with_placeholders(pg), parameters), list(parameters))
        return self

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> PostgresCursor:
        cur = self.con.cursor()
        cur.executemany(_with_placeholders(to_postgres(sql)), [list(r) for r in rows])
        self._cur = cur
        return self

    def _no_records(self) -> bool:
        return self._cur.description is None

    def fetchall(self) -> list[tuple[Any, ...]]:
        if self._no_records():  # INSERT/UPDATE/DELETE: DuckDB returns the row count as a row
            return [(self._cur.rowcount,)] if self._cur.rowcount >= 0 else []
        return list(self._cur.fetchall())

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._no_records():
            return (self._cur.rowcount,) if self._cur.rowcount >= 0 else None
        row = self._cur.fetchone()
        return None if row is None else tuple(row)

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        return [] if self._no_records() else [tuple(r) for r in self._cur.fetchmany(size)]

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
            # Autovacuum never analyzes temporary tables: without statistics the planner
            # takes a file of a million rows for one row.
            self.con.execute(f"ANALYZE {name}")
        return self

    def unregister(self, name: str) -> PostgresCursor:
        self.con.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
        return self

    def close(self) -> None:
        self.con.close()


def flag(cond: Any) -> Any:
    """An ibis condition as int8 0/1 (NULL stays NULL) on every engine: PostgreSQL casts
    boolean to integer but not to smallint, which is what ibis writes for int8."""
    return cond.cast("int32").cast("int8")


def is_postgres(cur: Any) -> bool:
    """Whether a warehouse cursor is on PostgreSQL (for the few steps that must differ:
    file parsing runs on a scratch DuckDB there, see `unionhall.elections.files`)."""
    return isinstance(cur, PostgresCursor)


def postgres_analyze(cur: PostgresCursor) -> None:
    """ANALYZE every table of the warehouse schema. Autovacuum analyzes a table a minute
    or more after it changes; jobs follow each other faster (import, match, list, cut),
    and without statistics PostgreSQL plans a 3,000-voter demo's turf cut as nested
    loops that ran for many minutes. Sampled (at most 30,000 rows a table): a second or
    two on a million-person warehouse."""
    rows = cur.con.execute(
        "SELECT quote_ident(schemaname) || '.' || quote_ident(relname) FROM pg_stat_user_tables "
        "WHERE schemaname = current_schema()").fetchall()
    if rows:
        cur.con.execute("ANALYZE " + ", ".join(str(r[0]) for r in rows))


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
    "is_postgres", "parse_warehouse_url", "postgres_connect", "postgres_drop_schema", "postgres_prepare", "spark_backend",
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
        for t in tables:  # statistics now: autovacuum gets to a new schema only later
            con.execute(f'ANALYZE {target.schema}."{t}"')
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
