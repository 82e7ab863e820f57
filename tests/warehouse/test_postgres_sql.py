"""DuckDB SQL the system jobs write gives the same rows on a PostgreSQL warehouse
(`to_postgres`, `_PG_FUNCTIONS`, `PostgresCursor`). Each case runs on DuckDB and on a
fresh PostgreSQL schema; skipped only when the server is unreachable."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from unionhall.warehouse.backends import (
    PostgresCursor,
    parse_warehouse_url,
    postgres_connect,
    postgres_drop_schema,
    postgres_prepare,
    to_postgres,
)

PG_URL = os.environ.get("UNIONHALL_TEST_WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except Exception:
        return False


pytestmark = [pytest.mark.warehouse_postgres,
              pytest.mark.skipif(not _pg_reachable(), reason=f"PostgreSQL unreachable at {PG_URL}")]

_SETUP = [
    "CREATE TABLE t (id INTEGER, a VARCHAR, d DATE, n INTEGER)",
    "INSERT INTO t VALUES (1, ' 12 ', DATE '2000-12-31', 3), (2, 'x1', DATE '2001-01-01', NULL), "
    "(3, NULL, NULL, 5), (4, '03/07/2020', DATE '1999-02-28', 5)",
]


@pytest.fixture(scope="module")
def engines() -> Iterator[tuple[Any, Any]]:
    url = parse_warehouse_url(f"{PG_URL}?schema=uht_sql_{uuid.uuid4().hex[:10]}")
    con = postgres_connect(url)
    postgres_prepare(con, url)
    pg = PostgresCursor(con)
    duck = duckdb.connect()
    for sql in _SETUP:
        pg.execute(sql)
        duck.execute(sql)
    yield duck, pg
    duck.close()
    pg.close()
    postgres_drop_schema(url)


def _both(engines: tuple[Any, Any], sql: str, params: Any = None) -> tuple[list[Any], list[Any]]:
    duck, pg = engines
    return ([tuple(r) for r in duck.execute(sql, params).fetchall()],
            [tuple(r) for r in pg.execute(sql, params).fetchall()])


CASES = [
    # DuckDB's range() stops before its end; generate_series includes it.
    "SELECT range FROM range(3) ORDER BY 1",
    "SELECT i FROM range(1, 10, 3) t(i) ORDER BY 1",
    "SELECT i FROM range(5, 0, -2) t(i) ORDER BY 1",
    "SELECT len(range(4)), list_contains(range(3), 3)",
    "SELECT id, TRY_CAST(trim(a) AS INTEGER), TRY_CAST(a AS INTEGER), TRY_CAST(a AS DATE) FROM t ORDER BY id",
    "SELECT id, try_strptime(a, '%m/%d/%Y')::DATE, try_strptime('13/45/2020', '%m/%d/%Y'), "
    "try_strptime('3/7/2020x', '%m/%d/%Y') FROM t ORDER BY id",
    "SELECT arg_max(id, n), arg_min(id, n), arg_max(a, d) FROM t",
    "SELECT id, contains(a, '1'), prefix(a, ' '), suffix(a, ' '), strlen('é'), strip_accents('Éloïse') FROM t ORDER BY id",
    r"SELECT regexp_extract('12 MAIN ST', '^(\d+)\b', 1), regexp_matches('PO BOX 1', '^PO\b'), "
    r"regexp_replace('a b', '\b', '|', 'g')",
    "SELECT id, year(d), month(d), day(d), date_diff('year', d, DATE '2001-01-01'), "
    "date_diff('month', d, DATE '2001-01-01'), date_diff('day', d, DATE '2001-01-01') FROM t ORDER BY id",
    "SELECT ('0x' || substr(md5('voter:AB1'), 1, 15))::BIGINT",
    # export marks: stored on one engine, compared on the other (high bit set and not)
    "SELECT md5_number_lower(v) FROM (VALUES ('abc'), ('hello world'), (''), ('Éloïse'), ('919-555-0101')) s(v) "
    "ORDER BY 1",
    "SELECT string_split('a,b,c', ',')[2:], string_split('a,b,c', ',')[1]",
    "SELECT json_extract_string(j, '$.first_name[0]') FROM (SELECT '{\"first_name\": [\"same\", 1]}' AS j) s",
    # QUALIFY with qualified columns and with a select alias; GROUP BY ALL.
    "SELECT t.id, t.n FROM t QUALIFY t.id = max(t.id) OVER (PARTITION BY t.n) ORDER BY 1",
    "SELECT n, row_number() OVER (PARTITION BY n ORDER BY id) AS k FROM t QUALIFY k = 1 ORDER BY n NULLS LAST",
    "SELECT n, count(*) AS c FROM t GROUP BY ALL ORDER BY n NULLS LAST",
    "SELECT count(*) FROM (SELECT hash(id, a) AS h FROM t GROUP BY 1)",
    "SELECT id FROM t WHERE rowid IN (SELECT rowid FROM t WHERE n = 5) ORDER BY id",
    "SELECT list_sort(list_distinct(list(n))), len(list(a ORDER BY id)), list(a ORDER BY id)[1] FROM t",
    "SELECT list_max(list(n)), list_min(list(n)), list_sum(list(n)), list_sum([0.5, 0.25, NULL]), "
    "list_max(list(a)) FROM t",
    "SELECT id, trim(a || chr(160)), ltrim(chr(8195) || 'x'), rtrim('x ' || chr(9)) FROM t ORDER BY id",
]


@pytest.mark.parametrize("sql", CASES)
def test_same_rows_on_both_engines(engines: tuple[Any, Any], sql: str) -> None:
    duck, pg = _both(engines, sql)
    assert pg == duck, to_postgres(sql)


def test_parameters_lists_and_row_counts(engines: tuple[Any, Any]) -> None:
    duck, pg = _both(engines, "SELECT id FROM t WHERE a IN (SELECT unnest(?)) ORDER BY id", [["x1", " 12 "]])
    assert pg == duck == [(1,), (2,)]
    duck, pg = _both(engines, "SELECT id FROM t WHERE list_contains($ids, id) AND d < $day ORDER BY id",
                     {"ids": [1, 2, 4], "day": dt.date(2001, 1, 1)})
    assert pg == duck == [(1,), (4,)]
    for cur in engines:  # DML gives its row count as a row, as DuckDB does
        assert cur.execute("UPDATE t SET n = n WHERE n = ?", [5]).fetchall() == [(2,)]


def test_create_or_replace_with_parameters_and_relation_drop(engines: tuple[Any, Any]) -> None:
    from unionhall.elections.files import relation_drop

    for cur in engines:
        cur.execute("CREATE OR REPLACE TEMP TABLE _x AS SELECT id FROM t WHERE n = ?", [5])
        cur.execute("CREATE OR REPLACE TEMP TABLE _x AS SELECT id FROM t WHERE n = ?", [3])
        assert cur.execute("SELECT id FROM _x").fetchall() == [(1,)]
        cur.execute("CREATE TEMP VIEW _v AS SELECT * FROM _x")
        relation_drop(cur, "_v", "_x", "_missing")
        assert cur.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name IN ('_x', '_v')").fetchone() == (0,)


def test_list_contains_takes_a_parameter(engines: tuple[Any, Any]) -> None:
    sql = "SELECT v, list_contains(['a', 'b'], v), list_contains(['a', 'b'], ?) FROM (VALUES ('a'), ('c')) s(v) ORDER BY v"
    duck, pg = _both(engines, sql, ["b"])
    assert duck == pg == [("a", True, True), ("c", False, True)]


def test_registered_arrow_tables_keep_values(engines: tuple[Any, Any]) -> None:
    table = pa.table({"k": pa.array([1, 2], pa.int64()), "s": ["a\tb\\c", None],
                      "l": pa.array([["x", 'y"z'], []], pa.list_(pa.string()))})
    duck, pg = engines
    duck.register("_arrow", table)
    pg.register("_arrow", table)
    sql = "SELECT k, s, len(l), l[2] FROM _arrow ORDER BY k"
    assert [tuple(r) for r in pg.execute(sql).fetchall()] == [tuple(r) for r in duck.execute(sql).fetchall()]
