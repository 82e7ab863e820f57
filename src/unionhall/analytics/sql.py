"""Read-only SQL over the user's scope: the engine of the SQL page and `unionhall sql`.

An analyst writes one query; `run_sql` parses it (SQLGlot, DuckDB dialect) and refuses
anything but a read. Every table it names becomes a CTE compiled from the gateway's
expression for that user (`person_base`, `person_rows`, or a short list of reference
tables), so the query the warehouse runs reaches base tables only through the gateway,
whatever the query does with names:

* each table reference is either a CTE of the user's query (renamed to a fresh name, so
  a reference resolved wrongly here finds no table at all), a readable table (renamed to
  its gateway CTE: `main.person`, `"PERSON"`, `warehouse.main.person` alike), or refused;
* table functions (files, catalogs, `query_table`) and scalar functions that read files,
  settings or sequences are refused by name, as are user-defined macros;
* the SQL that runs is generated from the checked tree, never the text as typed: one
  statement, whatever quoting or comments held.

Analyst-only users (`min_cell_for`) see aggregates only: the outermost query must group
or aggregate, with aggregates that show no one person's value (count, sum, avg,
variance...); groups of fewer than UNIONHALL_MIN_CELL persons are left out and counted,
and groups that small inside subqueries are dropped too. The query runs on its own
cursor in a transaction that is always rolled back, with a time limit (a timer thread
interrupts the cursor) and a row limit; every run, refused or not, is in the usage log.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import duckdb
import ibis
import psycopg
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from unionhall.errors import ScopeError, UserError
from unionhall.warehouse.backends import PostgresCursor, is_postgres, postgres_connect
from unionhall.warehouse.core import Warehouse, get_warehouse

# Non-person tables worth joining to (column -> dropped): public election data.
REFERENCE_TABLES: dict[str, tuple[str, ...]] = {
    "polling_place": (),
    "election_load": ("file_path",),  # a path on the warehouse host says nothing useful
}
PERSON = "person"
# Table functions that read nothing but their arguments.
TABLE_FUNCTIONS_ALLOWED = frozenset({"range", "generate_series", "unnest"})
# Scalar functions that read files, settings, the catalog or sequences, or write a log.
FUNCTIONS_REFUSED = frozenset({
    "getenv", "current_setting", "getvariable", "nextval", "currval", "setseed", "write_log", "sleep_ms",
    "txid_current", "current_query", "current_query_id", "current_connection_id", "current_transaction_id",
    "json_serialize_plan", "get_block_size", "col_description", "obj_description", "shobj_description",
    "parse_duckdb_log_message", "finalize", "combine", "in_search_path", "current_schemas", "glob",
    "query", "query_table", "checkpoint", "force_checkpoint",
})
FUNCTION_PREFIXES_REFUSED = ("read_", "duckdb_", "pragma_", "pg_", "has_", "sqlite_", "postgres_", "mysql_",
                             "parquet_", "iceberg_", "delta_", "sniff_", "json_execute", "inet_", "icu_calendar")
# What an analyst-only user may aggregate with: none of these is one person's value.
ANALYST_AGGREGATES = frozenset({
    "count", "count_star", "count_if", "countif", "sum", "avg", "mean", "stddev", "stddev_samp", "stddev_pop",
    "variance", "var_samp", "var_pop", "approx_count_distinct", "corr", "covar_pop", "covar_samp",
})
# Always "aggregates" to us, whatever DuckDB lists (value window functions).
VALUE_WINDOWS = frozenset({"first_value", "last_value", "nth_value", "lag", "lead"})
# Statement kinds, as a refusal names them.
STATEMENT_NAMES = {
    "insert": "INSERT", "update": "UPDATE", "delete": "DELETE", "merge": "MERGE", "create": "CREATE",
    "drop": "DROP", "alter": "ALTER", "copy": "COPY", "attach": "ATTACH", "detach": "DETACH", "pragma": "PRAGMA",
    "set": "SET", "install": "INSTALL", "describe": "DESCRIBE", "summarize": "SUMMARIZE", "show": "SHOW",
    "use": "USE", "transaction": "BEGIN", "commit": "COMMIT", "rollback": "ROLLBACK", "truncatetable": "TRUNCATE",
    "pivot": "PIVOT", "analyze": "ANALYZE", "export": "EXPORT",
}
WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.Copy, exp.Command,
          exp.Attach, exp.Detach, exp.Pragma, exp.Into, exp.TruncateTable)
HIDDEN = "__uh_suppressed"
GATEWAY_PREFIX = "__uh_t_"
CTE_PREFIX = "__uh_cte_"
KINDS = ("forbidden", "refused", "syntax", "unknown", "timeout", "failed")
READS_ONLY = "the SQL page only reads"

_log = logging.getLogger("sqlglot")


class SqlError(UserError):
    """A query that was not run (refused, bad SQL) or that failed, and why. `kind` is
    one of KINDS: forbidden (not an analytics user), refused (not a read, or outside
    what may be read), syntax, unknown (a column or function that does not exist),
    timeout, failed (the warehouse's error on the data)."""

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        assert kind in KINDS
        self.kind = kind


@dataclass(frozen=True)
class SqlResult:
    """What a query returned: the first rows, whether there were more, and how many
    groups were left out for being too small (analyst-only users)."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool
    suppressed_rows: int
    notes: list[str] = field(default_factory=list)
    min_cell: int | None = None


# -- what can be read ------------------------------------------------------------------------


def readable_tables(*, warehouse: Warehouse | None = None) -> dict[str, list[str]]:
    """The tables the SQL page reads, with their columns: `person` (the scoped golden
    record), every person-bearing table the gateway reads by rows (each with its
    `person_id`), and the reference tables. Quarantine tables (rows of no person yet)
    are not among them. Which rows and values show is the gateway's business."""
    from unionhall.access.gateway import BITS_COLUMN
    from unionhall.warehouse.catalog import person_tables

    out: dict[str, list[str]] = {}
    for name, spec in sorted(person_tables().items()):
        if spec.link == "none":
            continue
        cols = set(spec.columns) - {BITS_COLUMN} if name == PERSON else set(spec.columns) | {"person_id"}
        out[name] = sorted(cols)
    wh = warehouse or get_warehouse()
    for name, dropped in REFERENCE_TABLES.items():
        out[name] = sorted(c for c in wh.table(name).columns if c not in dropped)
    return dict(sorted(out.items()))


def _gateway_expr(user: Any, wh: Warehouse, name: str) -> Any:
    from unionhall.access.gateway import person_base, person_rows

    if name == PERSON:
        return person_base(user=user, warehouse=wh)
    if name in REFERENCE_TABLES:
        t = wh.table(name)
        return t.drop(*REFERENCE_TABLES[name]) if REFERENCE_TABLES[name] else t
    return person_rows(user=user, table=name, warehouse=wh)


_COMPILED: dict[Any, str] = {}
_COMPILED_LOCK = threading.Lock()
_COMPILED_MAX = 256


def _gateway_sql(user: Any, wh: Warehouse, name: str) -> exp.Expression:
    """The gateway's SELECT for `name` as this user sees it, compiled once per scope."""
    from unionhall.access.gateway import scope_signature

    # On PostgreSQL ibis writes the gateway in PostgreSQL's SQL (DuckDB's list lambdas
    # have no translation there); it joins the user's DuckDB SQL as a parsed tree.
    dialect = "postgres" if is_postgres(wh.cursor()) else "duckdb"
    key = (scope_signature(user=user, warehouse=wh), name, dialect)
    with _COMPILED_LOCK:
        sql = _COMPILED.get(key)
    if sql is None:
        sql = str(ibis.to_sql(_gateway_expr(user, wh, name), dialect=dialect))
        with _COMPILED_LOCK:
            if len(_COMPILED) >= _COMPILED_MAX:
                _COMPILED.pop(next(iter(_COMPILED)))
            _COMPILED[key] = sql
    return sqlglot.parse_one(sql, read=dialect)


# -- parsing and checking --------------------------------------------------------------------


def _position(sql: str, start: int | None) -> str:
    if start is None:
        return ""
    before = sql[:start]
    line = before.count("\n") + 1
    col = start - (before.rfind("\n") + 1) + 1
    return f"line {line}, column {col}"


def _at(sql: str, node: exp.Expression, name: str | None = None) -> str:
    """Where a node starts in the user's SQL (its first name's position), or where
    `name` first appears."""
    starts = [i.meta["start"] for i in node.find_all(exp.Identifier) if "start" in i.meta]
    where = _position(sql, min(starts)) if starts else (_locate(sql, name) if name else "")
    return f" ({where})" if where else ""


@contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    """SQLGlot logs a warning for statements it keeps as raw commands: ours is the error."""
    level = _log.level
    _log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        _log.setLevel(level)


_TOKEN = re.compile(r"<Token token_type: [^,]*, text: ([^,]*), [^>]*>")


def _parse(sql: str) -> exp.Expression:
    if not sql.strip():
        raise SqlError("no SQL: write one SELECT over the tables listed", kind="syntax")
    try:
        with _quiet_sqlglot():
            statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except TokenError:
        raise SqlError("the SQL cannot be read: a quote, a quoted name or a comment is not closed",
                       kind="syntax") from None
    except ParseError as exc:
        _refuse_statement_words(sql)
        first = exc.errors[0] if exc.errors else {}
        text = _TOKEN.sub(lambda m: repr(m.group(1)), str(first.get("description") or exc)).splitlines()[0]
        where = f"line {first['line']}, column {first['col']}: " if first.get("line") else ""
        raise SqlError(f"syntax error at {where}{text}", kind="syntax") from None
    if not statements:
        raise SqlError("no SQL: write one SELECT over the tables listed", kind="syntax")
    if len(statements) > 1:
        raise SqlError(f"{READS_ONLY} one statement at a time: this has {len(statements)} (drop the extra "
                       "ones, and the `;` between them)", kind="refused")
    stmt = statements[0]
    if isinstance(stmt, exp.Subquery) and isinstance(stmt.this, exp.Query | exp.Values):
        stmt = stmt.this
    if not isinstance(stmt, exp.Select | exp.SetOperation | exp.Values):
        if isinstance(stmt, exp.Command):
            what = str(stmt.this).upper()
        else:
            what = STATEMENT_NAMES.get(stmt.key) or (sql.split() or ["?"])[0].upper()
        raise SqlError(f"{READS_ONLY}: {what} is not run here; write one SELECT (WITH … SELECT, UNION and VALUES "
                       "are fine)", kind="refused")
    write = stmt.find(*WRITES)
    if write is not None:
        what = "SELECT … INTO" if isinstance(write, exp.Into) else STATEMENT_NAMES.get(write.key, write.key.upper())
        raise SqlError(f"{READS_ONLY}: {what} inside the query is not run here{_at(sql, write)}", kind="refused")
    if isinstance(stmt, exp.Values):
        return exp.select("*").from_(exp.alias_(stmt, "__uh_v", table=True))
    return stmt


# First words of statements that are not reads (for what SQLGlot cannot even parse).
NOT_READS = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP", "ALTER", "COPY", "ATTACH", "DETACH",
                       "PRAGMA", "SET", "RESET", "INSTALL", "LOAD", "FORCE", "CALL", "EXPORT", "IMPORT", "CHECKPOINT",
                       "VACUUM", "ANALYZE", "BEGIN", "START", "COMMIT", "ROLLBACK", "ABORT", "END", "TRUNCATE", "USE",
                       "PREPARE", "EXECUTE", "DEALLOCATE", "DESCRIBE", "SUMMARIZE", "SHOW", "EXPLAIN", "UPSERT"})


def _refuse_statement_words(sql: str) -> None:
    """A statement that starts with a word of NOT_READS is refused as such, even when
    it does not parse: the refusal, not a syntax error, is what the user needs."""
    try:
        tokens = sqlglot.tokenize(sql, read="duckdb")
    except TokenError:
        return
    starts = [0] + [i + 1 for i, t in enumerate(tokens) if t.token_type == sqlglot.TokenType.SEMICOLON]
    for i in starts:
        if i < len(tokens) and tokens[i].text.upper() in NOT_READS:
            raise SqlError(f"{READS_ONLY}: {tokens[i].text.upper()} is not run here; write one SELECT (WITH … "
                           "SELECT, UNION and VALUES are fine)", kind="refused")


def _written_name(sql: str, f: exp.Func) -> str:
    """The function's name as the user wrote it (SQLGlot may spell it its own way:
    string_agg becomes listagg)."""
    name = _fname(f)
    try:
        tokens = sqlglot.tokenize(sql, read="duckdb")
    except TokenError:
        return name
    for tok, nxt in itertools.pairwise(tokens):
        if nxt.token_type != sqlglot.TokenType.L_PAREN or not re.fullmatch(r"\w+", tok.text):
            continue
        if tok.text.lower() == name:
            return name
        try:
            probe = sqlglot.parse_one(f"SELECT {tok.text}(1)", read="duckdb").find(exp.Func)
        except ParseError:
            continue
        if probe is not None and type(probe) is type(f) and not isinstance(f, exp.Anonymous):
            return tok.text.lower()
    return name


def _fname(f: exp.Func) -> str:
    if isinstance(f, exp.Anonymous):
        return str(f.name).lower()
    m = re.match(r"\s*([A-Za-z_][\w]*)\s*\(", f.sql(dialect="duckdb"))
    return (m.group(1) if m else f.sql_name()).lower()


def _refused_function(name: str) -> bool:
    return name in FUNCTIONS_REFUSED or name.startswith(FUNCTION_PREFIXES_REFUSED)


@dataclass
class _Names:
    """The rewriting's state: readable names, the ones used, fresh CTE names."""

    readable: frozenset[str]
    sql: str
    used: set[str] = field(default_factory=set)
    n: int = 0

    def fresh(self, name: str) -> str:
        self.n += 1
        return f"{CTE_PREFIX}{self.n}_{re.sub(r'[^A-Za-z0-9_]', '_', name)[:40]}"

    def refuse(self, what: str, node: exp.Expression, name: str | None = None) -> SqlError:
        return SqlError(f"{READS_ONLY} the tables listed: {what} cannot be read{_at(self.sql, node, name)}; "
                        f"tables: {', '.join(sorted(self.readable))}", kind="refused")


def _children(node: exp.Expression, skip: tuple[str, ...] = ()) -> list[exp.Expression]:
    out: list[exp.Expression] = []
    for key, value in node.args.items():
        if key in skip:
            continue
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, exp.Expression):
                out.append(v)
    return out


def _rewrite(node: exp.Expression, ctes: dict[str, str], names: _Names) -> None:
    """Point every table reference at a renamed CTE of the query or a gateway CTE."""
    with_ = node.args.get("with")
    if isinstance(with_, exp.With):
        local = dict(ctes)
        fresh = {cte.alias_or_name.lower(): names.fresh(cte.alias_or_name) for cte in with_.expressions}
        if with_.args.get("recursive"):
            local.update(fresh)
        for cte in with_.expressions:
            _rewrite(cte.this, local, names)
            key = cte.alias_or_name.lower()
            local[key] = fresh[key]
            cte.args["alias"].set("this", exp.to_identifier(fresh[key], quoted=True))
        for child in _children(node, skip=("with",)):
            _rewrite(child, local, names)
        return
    if isinstance(node, exp.Table):
        _table(node, ctes, names)
        for child in _children(node, skip=("this", "db", "catalog", "alias")):
            _rewrite(child, ctes, names)
        return
    for child in _children(node):
        _rewrite(child, ctes, names)


def _table(t: exp.Table, ctes: dict[str, str], names: _Names) -> None:
    if not isinstance(t.this, exp.Identifier):
        fn = t.this
        fname = _fname(fn) if isinstance(fn, exp.Func) else fn.sql(dialect="duckdb")
        if fname not in TABLE_FUNCTIONS_ALLOWED:
            raise names.refuse(f"the table function {fname}()", fn, fname)
        _rewrite(fn, ctes, names)
        return
    low, db = t.name.lower(), t.db.lower()
    if not db and not t.catalog and low in ctes:
        new = ctes[low]
    elif db and db != "main":
        raise names.refuse(t.sql(dialect="duckdb"), t)
    elif low in names.readable:
        new = GATEWAY_PREFIX + low
        names.used.add(low)
    else:
        raise names.refuse(t.sql(dialect="duckdb"), t)
    original = t.this
    t.set("this", exp.to_identifier(new, quoted=True))
    t.set("db", None)
    t.set("catalog", None)
    if not t.args.get("alias"):
        t.set("alias", exp.TableAlias(this=original.copy()))


_DUCK: dict[str, frozenset[str]] = {}


def _duck_functions(wh: Warehouse) -> tuple[frozenset[str], frozenset[str], frozenset[str] | None]:
    """(DuckDB's aggregate function names, user-defined macro and function names, and on a
    PostgreSQL warehouse every function name DuckDB has, else None).

    On PostgreSQL the query, written in DuckDB's SQL, is translated and run there, where
    functions DuckDB lacks could read around the gateway (`table_to_xml('person', ...)`,
    `query_to_xml`): only DuckDB's names pass. Its catalog is a scratch DuckDB's."""
    postgres = is_postgres(wh.cursor())
    if "all" not in _DUCK:
        with duckdb.connect() as scratch:
            rows = scratch.execute("SELECT DISTINCT function_name, function_type FROM duckdb_functions()").fetchall()
        _DUCK["all"] = frozenset(str(r[0]).lower() for r in rows)
        _DUCK["aggregate"] = frozenset(str(r[0]).lower() for r in rows if r[1] == "aggregate")
    if postgres:
        return _DUCK["aggregate"], frozenset(), _DUCK["all"]
    mine = wh.cursor().execute("SELECT DISTINCT function_name FROM duckdb_functions() WHERE NOT internal").fetchall()
    return _DUCK["aggregate"], frozenset(str(r[0]).lower() for r in mine), None


def _check_functions(stmt: exp.Expression, sql: str, user_defined: frozenset[str],
                     known: frozenset[str] | None = None) -> None:
    for f in stmt.find_all(exp.Func):
        name = _fname(f)
        if _refused_function(name) or name in user_defined:
            raise SqlError(f"{READS_ONLY} the tables listed: {name}() reads outside them (files, settings, the "
                           f"catalog) or changes something{_at(sql, f, name)}", kind="refused")
        if known is not None and isinstance(f, exp.Anonymous) and name not in known:
            where = _locate(sql, name)
            raise SqlError(f"no function {name}() in DuckDB's SQL, the SQL this page takes"
                           f"{f' ({where})' if where else ''}", kind="unknown")


# -- analysts: aggregates only --------------------------------------------------------------


def _is_aggregate(f: exp.Func, aggregates: frozenset[str]) -> bool:
    name = _fname(f)
    return isinstance(f, exp.AggFunc) or name in aggregates or name in VALUE_WINDOWS


def _owner(node: exp.Expression) -> exp.Expression | None:
    return node.find_ancestor(exp.Select)


def _own_aggregates(sel: exp.Select, aggregates: frozenset[str]) -> list[exp.Func]:
    """Aggregates computed by `sel` itself (not in a subquery, not windowed)."""
    return [f for f in sel.find_all(exp.Func) if _is_aggregate(f, aggregates) and _owner(f) is sel
            and not isinstance(f.find_ancestor(exp.Window, exp.Select), exp.Window)]


def _aggregates_only(stmt: exp.Expression, sql: str, min_cell: int, aggregates: frozenset[str]) -> exp.Select:
    """Check an analyst-only user's query, drop small groups in its subqueries, and
    return its outermost SELECT with the explicit grouping the suppression needs."""
    for f in stmt.find_all(exp.Func):
        if _is_aggregate(f, aggregates) and _fname(f) not in ANALYST_AGGREGATES:
            written = _written_name(sql, f)
            raise SqlError(f"{READS_ONLY} aggregates for analysts: {written}() can show one person's value"
                           f"{_at(sql, f, written)}; use {', '.join(sorted(ANALYST_AGGREGATES - {'count_star', 'countif'}))}",
                           kind="refused")
    if not isinstance(stmt, exp.Select):
        raise SqlError(f"{READS_ONLY} aggregates for analysts: the outermost query must be one SELECT with GROUP BY "
                       "or aggregate functions (put a UNION in a subquery and aggregate over it)", kind="refused")
    top = stmt
    own = _own_aggregates(top, aggregates)
    group = top.args.get("group")
    if group is None and not own:
        raise SqlError(f"{READS_ONLY} aggregates for analysts: analysts see aggregates only, so the outermost "
                       "SELECT must use GROUP BY or aggregate functions (count, sum, avg…)", kind="refused")
    if any(_owner(w) is top for w in top.find_all(exp.Window)) or top.args.get("qualify") is not None:
        raise SqlError(f"{READS_ONLY} aggregates for analysts: a window function over the groups would show one "
                       "group's numbers beside another's; put it in a subquery", kind="refused")
    if group is not None and group.args.get("all"):
        keys = []
        for i, e in enumerate(top.expressions, start=1):
            if isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star)):
                raise SqlError(f"{READS_ONLY} aggregates for analysts: name the columns with GROUP BY ALL, not *",
                               kind="refused")
            if not any(_owner(f) is top for f in e.find_all(exp.Func) if _is_aggregate(f, aggregates)):
                keys.append(exp.Literal.number(i))
        top.set("group", exp.Group(expressions=keys) if keys else None)
    for sel in list(stmt.find_all(exp.Select)):
        if sel is not top and (sel.args.get("group") is not None or _own_aggregates(sel, aggregates)):
            sel.having(f"count(*) >= {int(min_cell)}", append=True, copy=False)
    return top


def _person_sources(top: exp.Select) -> list[str]:
    """Aliases of the person-bearing tables the outermost SELECT reads directly."""
    out = []
    for t in top.find_all(exp.Table):
        if (_owner(t) is top and isinstance(t.this, exp.Identifier) and t.name.startswith(GATEWAY_PREFIX)
                and t.name[len(GATEWAY_PREFIX):] not in REFERENCE_TABLES):
            out.append(t.alias_or_name)
    return out


def _small(min_cell: int, sources: list[str]) -> exp.Expression:
    """A group too small to show: fewer than `min_cell` rows, or fewer than `min_cell`
    distinct persons of any person-bearing table it reads (a join to vote history has
    a row per vote: one person with ten votes is still one person)."""
    counts: list[exp.Expression] = [exp.Count(this=exp.Star())]
    counts += [exp.Count(this=exp.Distinct(expressions=[exp.column("person_id", table=exp.to_identifier(a, quoted=True))]))
               for a in sources]
    tests = [exp.Between(this=c, low=exp.Literal.number(1), high=exp.Literal.number(int(min_cell) - 1))
             for c in counts]
    return exp.Paren(this=exp.or_(*tests))


def _suppressing(top: exp.Select, min_cell: int, *, qualify: bool) -> exp.Select:
    """The outermost SELECT with one hidden last column, the number of its groups too
    small to show; with `qualify`, those groups left out."""
    q = top.copy()
    sources = _person_sources(q)
    flag = exp.Case(ifs=[exp.If(this=_small(min_cell, sources), true=exp.Literal.number(1))],
                    default=exp.Literal.number(0))
    q.select(exp.alias_(exp.Window(this=exp.Sum(this=flag)), HIDDEN, quoted=True), append=True, copy=False)
    if qualify:
        q.set("qualify", exp.Qualify(this=exp.Not(this=_small(min_cell, sources))))
    else:
        for key in ("order", "limit", "offset"):
            q.set(key, None)
        q.set("limit", exp.Limit(expression=exp.Literal.number(1)))
    return q


# -- limits and the gateway's CTEs ----------------------------------------------------------


def _limited(stmt: exp.Expression, n: int) -> exp.Expression:
    lim = stmt.args.get("limit")
    if lim is None:
        stmt.set("limit", exp.Limit(expression=exp.Literal.number(n)))
        return stmt
    value = lim.expression if isinstance(lim, exp.Limit) else None
    options = lim.args.get("limit_options") if isinstance(lim, exp.Limit) else None
    if (isinstance(value, exp.Literal) and not value.is_string and value.name.isdigit()
            and not (options is not None and options.args.get("percent"))):
        lim.set("expression", exp.Literal.number(min(int(value.name), n)))
        return stmt
    return exp.select("*").from_(exp.alias_(exp.Subquery(this=stmt), "__uh_q", table=True)).limit(n)


def _with_gateway(stmt: exp.Expression, bodies: dict[str, exp.Expression]) -> exp.Expression:
    if not bodies:
        return stmt
    ctes = [exp.CTE(this=body, alias=exp.TableAlias(this=exp.to_identifier(GATEWAY_PREFIX + name, quoted=True)))
            for name, body in sorted(bodies.items())]
    with_ = stmt.args.get("with")
    if isinstance(with_, exp.With):
        with_.set("expressions", [*ctes, *with_.expressions])
    else:
        stmt.set("with", exp.With(expressions=ctes))
    return stmt


# -- running ---------------------------------------------------------------------------------


def _internal_names(text: str) -> str:
    text = re.sub(rf'"?{GATEWAY_PREFIX}(\w+?)"?(?=\W|$)', r"\1", text)
    return re.sub(rf'"?{CTE_PREFIX}\d+_(\w+?)"?(?=\W|$)', r"\1", text)


def _locate(sql: str, name: str) -> str:
    """Where `name` first appears in the user's SQL, as a word."""
    try:
        tokens = sqlglot.tokenize(sql, read="duckdb")
    except TokenError:
        return ""
    for tok in tokens:
        if tok.text.strip('"').lower() == name.lower():
            return _position(sql, tok.start)
    return ""


def _duck_error(exc: duckdb.Error, sql: str, used: set[str], timeout: float, wh: Warehouse) -> SqlError:
    if isinstance(exc, duckdb.InterruptException):
        return SqlError(f"the query ran longer than {timeout:g} s and was stopped: narrow it (a WHERE, fewer "
                        "joins, an aggregate) or ask for a longer UNIONHALL_SQL_TIMEOUT", kind="timeout")
    text = str(exc).split("\n\nLINE ")[0]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    message = _internal_names("; ".join(lines)) or type(exc).__name__
    name = None
    for pattern in (r'column "([^"]+)" not found', r'does not have a column named "([^"]+)"',
                    r'Function with name "?([\w]+)"? does not exist', r'column "([^"]+)" must appear'):
        m = re.search(pattern, message)
        if m:
            name = m.group(1)
            break
    where = _locate(sql, name) if name else ""
    prefix = f"{where}: " if where else ""
    if isinstance(exc, duckdb.BinderException | duckdb.CatalogException):
        kind = "unknown" if name and "must appear" not in message else "failed"
        if kind == "unknown" and "column" in message.lower():
            tables = readable_tables(warehouse=wh)
            message += "; columns: " + "; ".join(f"{t}: {', '.join(tables[t])}" for t in sorted(used) if t in tables)
        return SqlError(prefix + message, kind=kind)
    if isinstance(exc, duckdb.ParserException):
        return SqlError(prefix + message, kind="syntax")
    return SqlError(prefix + message, kind="failed")


def _execute(wh: Warehouse, main: str, fallback: str | None, *, max_rows: int, timeout: float,
             ) -> tuple[list[str], list[tuple[Any, ...]], list[tuple[Any, ...]] | None]:
    """Run on a cursor of its own, in a transaction rolled back whatever happens, with a
    timer that interrupts the cursor until the run is over (an interrupt before the
    query starts would be lost: it repeats)."""
    cur = wh.cursor().cursor()
    done = threading.Event()
    lock = threading.Lock()

    def watch() -> None:
        if done.wait(timeout):
            return
        while True:
            with lock:
                if done.is_set():
                    return
                cur.interrupt()
            if done.wait(0.02):
                return

    timer = threading.Thread(target=watch, name="uh-sql-timeout", daemon=True)
    timer.start()
    try:
        cur.execute("BEGIN TRANSACTION")
        cur.execute(main)
        columns = [d[0] for d in cur.description or []]
        rows = cur.fetchmany(max_rows + 1)
        extra = None
        if fallback is not None and not rows:
            cur.execute(fallback)
            extra = cur.fetchall()
        return columns, rows, extra
    finally:
        with lock:
            done.set()
        timer.join()
        # No transaction left to roll back when it failed to begin: closing discards it anyway.
        with contextlib.suppress(duckdb.Error):
            cur.execute("ROLLBACK")
        cur.close()


def _execute_postgres(wh: Warehouse, main: str, fallback: str | None, *, max_rows: int, timeout: float,
                      ) -> tuple[list[str], list[tuple[Any, ...]], list[tuple[Any, ...]] | None]:
    """`_execute` on a PostgreSQL warehouse: a connection of its own, a READ ONLY
    transaction rolled back whatever happens, the server's statement_timeout as the limit."""
    cur = PostgresCursor(postgres_connect(wh.url))
    try:
        cur.con.execute("BEGIN TRANSACTION READ ONLY")
        cur.con.execute(f"SET LOCAL statement_timeout = {max(1, round(timeout * 1000))}")
        cur.execute(main)
        columns = [d[0] for d in cur.description or []]
        rows = cur.fetchmany(max_rows + 1)
        extra = None
        if fallback is not None and not rows:
            extra = cur.execute(fallback).fetchall()
        return columns, rows, extra
    finally:
        with contextlib.suppress(psycopg.Error):
            cur.con.execute("ROLLBACK")
        cur.close()


def _pg_error(exc: psycopg.Error, sql: str, used: set[str], timeout: float, wh: Warehouse) -> SqlError:
    """`_duck_error` for PostgreSQL's errors."""
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return _duck_error(duckdb.InterruptException(), sql, used, timeout, wh)
    diag = exc.diag
    message = _internal_names(diag.message_primary or str(exc).splitlines()[0])
    m = re.search(r'column "?([\w.]+?)"? does not exist|function ([\w]+)\(', message)
    name = (m.group(1) or m.group(2)).split(".")[-1] if m else None
    where = _locate(sql, name) if name else ""
    prefix = f"{where}: " if where else ""
    if isinstance(exc, psycopg.errors.UndefinedColumn | psycopg.errors.UndefinedFunction
                  | psycopg.errors.UndefinedTable):
        if isinstance(exc, psycopg.errors.UndefinedColumn):
            tables = readable_tables(warehouse=wh)
            message += "; columns: " + "; ".join(f"{t}: {', '.join(tables[t])}" for t in sorted(used) if t in tables)
        return SqlError(prefix + message, kind="unknown")
    if isinstance(exc, psycopg.errors.SyntaxError):
        return SqlError(prefix + message, kind="syntax")
    return SqlError(prefix + message, kind="failed")


def _check_user(user: Any) -> None:
    from unionhall.access.gateway import user_paths
    from unionhall.analytics.selectors import analytics_allowed

    if not analytics_allowed(user):
        raise SqlError("the SQL page is for analysts, data managers and administrators", kind="forbidden")
    try:
        user_paths(user)
    except ScopeError as exc:
        raise SqlError(f"your account cannot read member data now: {exc}", kind="forbidden") from None


def run_sql(*, user: Any, sql: str, warehouse: Warehouse | None = None, max_rows: int | None = None,
            timeout: float | None = None) -> SqlResult:
    """Run one read-only query over what `user` may see (module docstring). Raises
    SqlError (a UserError, with `kind`) for a refused, bad or failed query; every call
    is recorded in the usage log (action "sql")."""
    from django.conf import settings

    from unionhall.access.services import usage_record

    rows_shown = 0
    persons = 0
    error: str | None = None
    try:
        result = _run(user=user, sql=sql, warehouse=warehouse,
                      max_rows=int(max_rows if max_rows is not None else settings.UNIONHALL_SQL_MAX_ROWS),
                      timeout=float(timeout if timeout is not None else settings.UNIONHALL_SQL_TIMEOUT))
        rows_shown = len(result.rows)
        persons = 0 if result.min_cell is not None else rows_shown
        return result
    except SqlError as exc:
        error = exc.kind
        raise
    except Exception as exc:  # recorded too (a locked warehouse, a bug), then raised as it was
        error = type(exc).__name__
        raise
    finally:
        detail: dict[str, Any] = {"sql": sql, "rows": rows_shown}
        if error is not None:
            detail["error"] = error
        usage_record(user=user, action="sql", detail=detail, persons=persons)


def _run(*, user: Any, sql: str, warehouse: Warehouse | None, max_rows: int, timeout: float) -> SqlResult:
    from unionhall.reports.selectors.common import min_cell_for

    _check_user(user)
    wh = warehouse or get_warehouse()
    max_rows = max(1, max_rows)
    stmt = _parse(sql)
    names = _Names(readable=frozenset(readable_tables(warehouse=wh)), sql=sql)
    _rewrite(stmt, {}, names)
    aggregates, user_defined, known = _duck_functions(wh)
    _check_functions(stmt, sql, user_defined, known)
    min_cell = min_cell_for(user)
    if min_cell is not None and is_postgres(wh.cursor()):
        # The small-cell rewrite (`_suppressing`) is DuckDB SQL PostgreSQL does not take
        # yet: fail closed rather than show what it would not suppress.
        raise SqlError("aggregate-only SQL for analysts runs on the DuckDB warehouse only for now (this one is "
                       "on PostgreSQL): ask a data manager, or use the reports and the poll and model pages",
                       kind="refused")
    bodies = {name: _gateway_sql(user, wh, name) for name in names.used}
    fallback_sql = None
    if min_cell is not None:
        top = _aggregates_only(stmt, sql, min_cell, aggregates)
        main: exp.Expression = _limited(_suppressing(top, min_cell, qualify=True), max_rows + 1)
        fallback_sql = _with_gateway(_suppressing(top, min_cell, qualify=False),
                                     {k: v.copy() for k, v in bodies.items()}).sql(dialect="duckdb")
    else:
        main = _limited(stmt, max_rows + 1)
    main_sql = _with_gateway(main, bodies).sql(dialect="duckdb")
    try:
        run = _execute_postgres if is_postgres(wh.cursor()) else _execute
        columns, rows, extra = run(wh, main_sql, fallback_sql, max_rows=max_rows, timeout=timeout)
    except duckdb.Error as exc:
        raise _duck_error(exc, sql, names.used, timeout, wh) from None
    except psycopg.Error as exc:
        raise _pg_error(exc, sql, names.used, timeout, wh) from None
    truncated = len(rows) > max_rows
    rows = rows[:max_rows]
    notes: list[str] = []
    suppressed = 0
    if min_cell is not None:
        columns = columns[:-1]
        if rows:
            suppressed = int(rows[0][-1] or 0)
        elif extra:
            suppressed = int(extra[0][-1] or 0)
        rows = [tuple(r[:-1]) for r in rows]
        if suppressed:
            notes.append(f"{suppressed} group{'s' if suppressed != 1 else ''} of fewer than {min_cell} persons "
                         f"not shown (<{min_cell}): analysts see no small cells")
    if truncated:
        notes.append(f"only the first {max_rows} rows are shown; add a LIMIT, a WHERE or an aggregate")
    return SqlResult(columns=columns, rows=[tuple(r) for r in rows], truncated=truncated,
                     suppressed_rows=suppressed, notes=notes, min_cell=min_cell)
