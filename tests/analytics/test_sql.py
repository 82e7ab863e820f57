"""The SQL page's engine (`unionhall.analytics.sql.run_sql`): it cannot read outside the
user's scope, cannot write, and says clearly what is wrong with bad SQL.

Every count is checked against the gateway (`person_base` / `person_rows`) for the same
user, and against the whole table, so "in scope" means something: the CLC's users see
fewer persons than the warehouse holds. Refusals are checked with the warehouse's row
counts before and after.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.access.factories import user_with
from unionhall.access.gateway import person_base, person_rows
from unionhall.access.models import RoleGrant, UsageEvent
from unionhall.analytics.sql import SqlError, readable_tables, run_sql
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(field_wh: Warehouse, tree: dict[str, Any]) -> dict[str, Any]:
    clc = tree["clc"]
    both = user_with("organizer", clc, "clc-organizer-analyst")
    RoleGrant.objects.create(user=both, committee=clc, role="analyst")
    return {
        "wh": field_wh, "tree": tree,
        "analyst": user_with("analyst", clc, "clc-analyst"),
        "manager": user_with("data_manager", clc, "clc-manager"),
        "organizer_analyst": both,
        "organizer": user_with("organizer", clc, "clc-organizer"),
    }


def one(user: Any, sql: str, wh: Warehouse, **kw: Any) -> Any:
    [row] = run_sql(user=user, sql=sql, warehouse=wh, **kw).rows
    return row[0] if len(row) == 1 else row


def table_counts(wh: Warehouse) -> dict[str, int]:
    cur = wh.cursor()
    names = [r[0] for r in cur.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
    return {n: cur.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


# -- scope ----------------------------------------------------------------------------------


def test_a_count_equals_the_gateway_and_is_smaller_than_the_table(users: dict[str, Any]) -> None:
    wh = users["wh"]
    everyone = wh.cursor().execute("SELECT count(*) FROM person").fetchone()[0]
    for who in ("analyst", "manager", "organizer_analyst"):
        user = users[who]
        scoped = person_base(user=user, warehouse=wh).count().execute()
        assert 0 < scoped < everyone, who
        assert one(user, "SELECT count(*) FROM person", wh) == scoped, who


TRICKS_EQUAL = [
    'SELECT count(*) FROM "person"',
    'SELECT count(*) FROM "PERSON"',
    "SELECT count(*) FROM Person",
    "SELECT count(*) FROM main.person",
    'SELECT count(*) FROM "main"."person"',
    "SELECT count(*) FROM warehouse.main.person",
    "SELECT count(*) FROM memory.main.person",
    "FROM main.person SELECT count(*)",
    "SELECT count(*) FROM (SELECT * FROM main.person) s",
    "SELECT (SELECT count(*) FROM main.person)",
    "WITH person AS (SELECT * FROM main.person) SELECT count(*) FROM person",
    "WITH p AS (SELECT * FROM person) SELECT count(*) FROM p",
    "WITH member_quarantine AS (SELECT * FROM person) SELECT count(*) FROM member_quarantine",
    "WITH a AS (SELECT * FROM person), person AS (SELECT * FROM a) SELECT count(*) FROM person",
    "SELECT count(DISTINCT person_id) FROM (SELECT person_id FROM person UNION SELECT person_id FROM main.person)",
    "SELECT max(l.c) FROM (SELECT 1) t, LATERAL (SELECT count(*) AS c FROM main.person) l",
    "SELECT count(*) FROM person p WHERE p.person_id IN (SELECT person_id FROM main.person)",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) "
    "SELECT count(*) FROM person, (SELECT max(n) AS m FROM r) WHERE m = 3",
]


@pytest.mark.parametrize("sql", TRICKS_EQUAL)
def test_every_way_of_naming_person_reads_the_scoped_rows(users: dict[str, Any], sql: str) -> None:
    wh, user = users["wh"], users["manager"]
    scoped = person_base(user=user, warehouse=wh).count().execute()
    assert one(user, sql, wh) == scoped


def test_unions_joins_and_shadowing_never_exceed_scope(users: dict[str, Any]) -> None:
    wh, user = users["wh"], users["manager"]
    n = person_base(user=user, warehouse=wh).count().execute()
    assert one(user, "SELECT count(*) FROM (SELECT person_id FROM person UNION ALL "
                     "SELECT person_id FROM main.person)", wh) == 2 * n
    assert one(user, "SELECT count(DISTINCT a.person_id), count(DISTINCT b.person_id) "
                     "FROM person a, main.person b", wh) == (n, n)
    # a CTE shadowing person in one subquery does not change what person is elsewhere
    assert one(user, "SELECT (WITH person AS (SELECT 1 AS x) SELECT count(*) FROM person) "
                     "+ (SELECT count(*) FROM person)", wh) == 1 + n
    # vote history: only the scope's persons' votes, every one of them a scoped person
    votes = person_rows(user=user, table="vote_history", warehouse=wh)
    everyone = wh.cursor().execute("SELECT count(*) FROM vote_history").fetchone()[0]
    assert one(user, "SELECT count(*) FROM vote_history", wh) == votes.count().execute() < everyone
    assert one(user, "SELECT count(*) FROM vote_history v WHERE v.person_id NOT IN "
                     "(SELECT person_id FROM person)", wh) == 0
    joined = one(user, "SELECT count(DISTINCT p.person_id) FROM person p JOIN main.vote_history v "
                       "ON v.person_id = p.person_id", wh)
    assert 0 < joined <= n
    # `FROM person, main.person` without aliases: DuckDB calls them both person
    try:
        both = one(user, "SELECT count(*) FROM person, main.person", wh)
    except SqlError as exc:
        assert "person" in exc.message
    else:
        assert both <= n * n


def test_a_cte_out_of_its_scope_is_not_a_door_to_the_table_it_is_named_after(users: dict[str, Any]) -> None:
    wh, user = users["wh"], users["manager"]
    with pytest.raises(SqlError, match="member_quarantine") as exc:
        run_sql(user=user, warehouse=wh, sql="SELECT (SELECT count(*) FROM (WITH member_quarantine AS "
                "(SELECT * FROM person) SELECT 1) x), (SELECT count(*) FROM member_quarantine)")
    assert exc.value.kind == "refused"


def test_masked_fields_stay_masked(users: dict[str, Any]) -> None:
    wh = users["wh"]
    # analysts see no contact details for anyone
    assert one(users["analyst"], "SELECT count(phone), count(addr_line1), count(email), count(*) > 0 "
                                 "FROM person", wh) == (0, 0, 0, True)
    # a data manager sees phones where their scope grants them, and only there
    manager = users["manager"]
    base = person_base(user=manager, warehouse=wh)
    assert one(manager, "SELECT count(*) FROM person WHERE phone IS NOT NULL", wh) == \
        base.filter(base.phone.notnull()).count().execute()
    shown = {r[0]: r[1] for r in run_sql(user=manager, warehouse=wh, max_rows=100_000,
                                         sql="SELECT person_id, phone FROM person").rows}
    expected = {r["person_id"]: r["phone"] for r in base.select("person_id", "phone").to_pyarrow().to_pylist()}
    assert shown == expected


def test_rows_are_limited_and_truncation_reported(users: dict[str, Any], settings: Any) -> None:
    wh, user = users["wh"], users["manager"]
    r = run_sql(user=user, warehouse=wh, sql="SELECT person_id, first_name FROM person ORDER BY person_id",
                max_rows=5)
    assert r.columns == ["person_id", "first_name"] and len(r.rows) == 5 and r.truncated
    ids = [row[0] for row in r.rows]
    assert ids == sorted(ids)
    settings.UNIONHALL_SQL_MAX_ROWS = 3
    r = run_sql(user=user, warehouse=wh, sql="SELECT person_id FROM person LIMIT 2")
    assert len(r.rows) == 2 and not r.truncated
    r = run_sql(user=user, warehouse=wh, sql="SELECT person_id FROM person LIMIT 50")
    assert len(r.rows) == 3 and r.truncated


def test_reference_tables_and_values(users: dict[str, Any]) -> None:
    wh, user = users["wh"], users["manager"]
    assert one(user, "SELECT count(*) FROM polling_place", wh) == \
        wh.cursor().execute("SELECT count(*) FROM polling_place").fetchone()[0]
    r = run_sql(user=user, warehouse=wh, sql="VALUES (1, 'a'), (2, 'b')")
    assert r.rows == [(1, "a"), (2, "b")]
    tables = readable_tables(warehouse=wh)
    assert "person" in tables and "vote_history" in tables and "polling_place" in tables
    assert "member_quarantine" not in tables and "member_source_bits" not in tables["person"]
    assert "person_id" in tables["vote_history"] and "file_path" not in tables["election_load"]


# -- no writes, no files, no catalogs ---------------------------------------------------------

REFUSED = [
    "INSERT INTO person (person_id) VALUES (999999)",
    "UPDATE person SET first_name = 'X'",
    "DELETE FROM person",
    "DELETE FROM vote_history WHERE true",
    "TRUNCATE person",
    "CREATE TABLE leak AS SELECT * FROM person",
    "CREATE VIEW leak AS SELECT * FROM person",
    "CREATE MACRO leak() AS 1",
    "DROP TABLE person",
    "ALTER TABLE person ADD COLUMN x INTEGER",
    "COPY person TO '/tmp/leak.csv'",
    "COPY (SELECT * FROM person) TO '/tmp/leak.csv'",
    "ATTACH '/tmp/other.duckdb' AS other",
    "DETACH warehouse",
    "PRAGMA table_info('person')",
    "PRAGMA enable_profiling",
    "SET threads = 1",
    "RESET threads",
    "INSTALL httpfs",
    "LOAD httpfs",
    "CALL pragma_version()",
    "EXPORT DATABASE '/tmp/leak'",
    "IMPORT DATABASE '/tmp/leak'",
    "CHECKPOINT",
    "VACUUM",
    "BEGIN TRANSACTION",
    "COMMIT",
    "DESCRIBE person",
    "SUMMARIZE person",
    "SHOW TABLES",
    "EXPLAIN SELECT 1",
    "USE memory",
    "PREPARE p AS SELECT 1",
    "SELECT 1; DROP TABLE person",
    "SELECT count(*) FROM person; SELECT count(*) FROM person",
    "SELECT * INTO leak FROM person",
    "WITH x AS (INSERT INTO person (person_id) VALUES (999999) RETURNING *) SELECT * FROM x",
    "SELECT * FROM member_quarantine",
    "SELECT * FROM election_quarantine",
    "SELECT * FROM identity_pair",
    "SELECT * FROM poll_response",
    "SELECT * FROM _warehouse_migrations",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM information_schema.columns",
    "SELECT * FROM pg_catalog.pg_class",
    "SELECT * FROM sqlite_master",
    "SELECT * FROM system.main.duckdb_tables",
    "SELECT * FROM other.person",
    "SELECT * FROM duckdb_tables()",
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM read_parquet('/tmp/x.parquet')",
    "SELECT * FROM read_json('/tmp/x.json')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM glob('/*')",
    "SELECT * FROM query_table('person')",
    "SELECT * FROM query('SELECT * FROM person')",
    "SELECT * FROM json_execute_serialized_sql('x')",
    "SELECT * FROM sniff_csv('/etc/passwd')",
    "SELECT * FROM pragma_table_info('person')",
    "SELECT getenv('HOME')",
    "SELECT main.getenv('HOME')",
    "SELECT current_setting('threads')",
    "SELECT nextval('seq')",
    "SELECT write_log('x')",
    "SELECT count(*) FROM person WHERE current_setting('threads') IS NOT NULL",
    "SELECT (SELECT count(*) FROM read_csv('/etc/passwd'))",
]


def test_writes_files_and_catalogs_are_refused_and_nothing_changes(users: dict[str, Any]) -> None:
    wh, user = users["wh"], users["manager"]
    before = table_counts(wh)
    tables = sorted(before)
    not_refused = {}
    for sql in REFUSED:
        try:
            run_sql(user=user, warehouse=wh, sql=sql)
        except SqlError as exc:
            if exc.kind != "refused" or not exc.message.startswith("the SQL page only reads"):
                not_refused[sql] = exc.message
        else:
            not_refused[sql] = "ran"
    assert not not_refused
    assert table_counts(wh) == before and sorted(table_counts(wh)) == tables


def test_a_refusal_names_the_thing_and_the_readable_tables(users: dict[str, Any]) -> None:
    wh, user = users["wh"], users["manager"]
    with pytest.raises(SqlError) as exc:
        run_sql(user=user, warehouse=wh, sql="SELECT 1; DROP TABLE person")
    assert "one statement" in exc.value.message
    with pytest.raises(SqlError) as exc:
        run_sql(user=user, warehouse=wh, sql="DROP TABLE person")
    assert "DROP" in exc.value.message
    with pytest.raises(SqlError) as exc:
        run_sql(user=user, warehouse=wh, sql="SELECT *\nFROM  information_schema.tables")
    m = exc.value.message
    assert "information_schema.tables" in m and "line 2, column 7" in m and "person" in m and "vote_history" in m
    with pytest.raises(SqlError) as exc:
        run_sql(user=user, warehouse=wh, sql="SELECT * FROM read_csv('/etc/passwd')")
    assert "read_csv" in exc.value.message
    with pytest.raises(SqlError) as exc:
        run_sql(user=user, warehouse=wh, sql="SELECT getenv('HOME')")
    assert "getenv" in exc.value.message


def test_harmless_table_functions_still_work(users: dict[str, Any]) -> None:
    wh, user = users["wh"], users["manager"]
    assert one(user, "SELECT count(*) FROM range(10)", wh) == 10
    assert one(user, "SELECT sum(x) FROM unnest([1, 2, 3]) AS t(x)", wh) == 6
    assert one(user, "SELECT count(*) FROM generate_series(1, 5)", wh) == 5


def test_a_query_that_runs_too_long_is_stopped(users: dict[str, Any]) -> None:
    wh, user = users["wh"], users["manager"]
    before = table_counts(wh)
    with pytest.raises(SqlError) as exc:
        run_sql(user=user, warehouse=wh, timeout=0.05,
                sql="SELECT count(*) FROM person a, person b, person c, person d")
    assert exc.value.kind == "timeout" and "stopped" in exc.value.message
    assert table_counts(wh) == before
    assert one(user, "SELECT count(*) FROM range(3)", wh) == 3  # the warehouse still answers


# -- bad SQL ------------------------------------------------------------------------------


def test_bad_sql_says_where_and_what(users: dict[str, Any]) -> None:
    wh, user = users["wh"], users["manager"]
    cases = {
        "SELEC 1": ("syntax", ["line 1"]),
        "SELECT * FROM person WHERE": ("syntax", ["line 1"]),
        "SELECT 'unclosed FROM person": ("syntax", ["quote"]),
        "SELECT frist_name\nFROM person": ("unknown", ["frist_name", "line 1, column 8", "first_name"]),
        "SELECT p.frist_name FROM person p": ("unknown", ["frist_name", "line 1, column 10", "first_name"]),
        "SELECT count(*)\n  FROM persn": ("refused", ["persn", "line 2, column 8", "person", "vote_history"]),
        "SELECT frobnicate(county) FROM person": ("unknown", ["frobnicate", "line 1, column 8"]),
        "": ("syntax", ["no SQL"]),
        "SELECT 'x'::INTEGER": ("failed", ["Could not convert"]),
    }
    for sql, (kind, words) in cases.items():
        with pytest.raises(SqlError) as exc:
            run_sql(user=user, warehouse=wh, sql=sql)
        assert exc.value.kind == kind, (sql, exc.value.message)
        for w in words:
            assert w in exc.value.message, (sql, w, exc.value.message)
        assert "__uh" not in exc.value.message and "LINE" not in exc.value.message


# -- analysts: aggregates only, small cells suppressed ----------------------------------------


def test_analysts_see_aggregates_with_small_cells_suppressed(users: dict[str, Any], settings: Any) -> None:
    wh, analyst = users["wh"], users["analyst"]
    base = person_base(user=analyst, warehouse=wh)
    truth = {r["precinct"]: r["n"] for r in base.group_by("precinct").agg(n=base.count()).to_pyarrow().to_pylist()}
    counts = sorted(truth.values())
    k = counts[len(counts) // 2]  # about half of the precincts are under it
    if k == counts[0]:
        k += 1  # (the smallest groups are always under it)
    settings.UNIONHALL_MIN_CELL = k
    r = run_sql(user=analyst, warehouse=wh, sql="SELECT precinct, count(*) AS n FROM person GROUP BY precinct "
                                                "ORDER BY precinct NULLS FIRST")
    assert r.columns == ["precinct", "n"]
    shown = dict(r.rows)
    assert shown == {p: n for p, n in truth.items() if n >= k}
    assert r.suppressed_rows == sum(1 for n in truth.values() if n < k) > 0
    assert any(f"fewer than {k}" in note for note in r.notes)
    # the same with GROUP BY ALL and a position
    assert dict(run_sql(user=analyst, warehouse=wh,
                        sql="SELECT precinct, count(*) FROM person GROUP BY ALL").rows) == shown
    assert dict(run_sql(user=analyst, warehouse=wh,
                        sql="SELECT precinct, count(*) FROM person GROUP BY 1").rows) == shown
    # one small global count: no row, one suppressed
    pid = base.select("person_id").limit(1).to_pyarrow().to_pylist()[0]["person_id"]
    r = run_sql(user=analyst, warehouse=wh, sql=f"SELECT count(*), avg(birth_year) FROM person WHERE person_id = {pid}")
    assert r.rows == [] and r.suppressed_rows == 1
    # small groups inside a subquery are dropped too (their counts cannot become keys)
    assert one(analyst, f"SELECT count(*) FROM (SELECT precinct, count(*) AS n FROM person GROUP BY precinct) s "
                        f"WHERE n < {k}", wh) == 0
    # a join has a row per vote, but a group is as small as its persons
    votes = person_rows(user=analyst, table="vote_history", warehouse=wh)
    per_person = votes.group_by("person_id").agg(n=votes.count())
    settings.UNIONHALL_MIN_CELL = 2
    many = per_person.filter(per_person.n >= 2).count().execute()
    assert many > 0
    r = run_sql(user=analyst, warehouse=wh, sql="SELECT p.person_id, p.first_name, count(*) FROM person p "
                                                "JOIN vote_history v ON v.person_id = p.person_id GROUP BY 1, 2")
    assert r.rows == [] and r.suppressed_rows >= many
    settings.UNIONHALL_MIN_CELL = k
    # allowed aggregates
    r = run_sql(user=analyst, warehouse=wh, sql="SELECT county, count(DISTINCT precinct), sum(votes_total), "
                                                "avg(age), stddev(age), variance(age) FROM person GROUP BY county")
    assert r.rows


ANALYST_REFUSED = {
    "SELECT first_name, last_name FROM person": "aggregates only",
    "SELECT * FROM person": "aggregates only",
    "SELECT county FROM person": "aggregates only",
    "SELECT county, max(birth_year) FROM person GROUP BY county": "max",
    "SELECT min(birth_date) FROM person": "min",
    "SELECT list(first_name) FROM person": "list",
    "SELECT string_agg(first_name, ',') FROM person GROUP BY county": "string_agg",
    "SELECT any_value(first_name) FROM person": "any_value",
    "SELECT arbitrary(first_name) FROM person": "arbitrary",
    "SELECT first(first_name) FROM person": "first",
    "SELECT median(age) FROM person": "median",
    "SELECT mode(age) FROM person": "mode",
    "SELECT count(*) FROM (SELECT lag(birth_year) OVER () AS x FROM person) s": "lag",
    "SELECT county, sum(count(*)) OVER () FROM person GROUP BY county": "window",
    "SELECT count(*) FROM person UNION ALL SELECT count(*) FROM vote_history": "outermost",
}


def test_analysts_row_level_and_revealing_aggregates_are_refused(users: dict[str, Any], settings: Any) -> None:
    wh, analyst = users["wh"], users["analyst"]
    settings.UNIONHALL_MIN_CELL = 10
    for sql, word in ANALYST_REFUSED.items():
        with pytest.raises(SqlError) as exc:
            run_sql(user=analyst, warehouse=wh, sql=sql)
        assert exc.value.kind == "refused" and word in exc.value.message, (sql, exc.value.message)
    # someone who may see rows (organizer and analyst) may select rows and use min/max
    both = users["organizer_analyst"]
    assert run_sql(user=both, warehouse=wh, sql="SELECT first_name FROM person LIMIT 3").rows
    assert one(both, "SELECT max(birth_year) > 0 FROM person", wh)


def test_only_analytics_users_and_usage_is_recorded(users: dict[str, Any]) -> None:
    wh = users["wh"]
    with pytest.raises(SqlError) as exc:
        run_sql(user=users["organizer"], warehouse=wh, sql="SELECT count(*) FROM person")
    assert exc.value.kind == "forbidden" and "analysts" in exc.value.message
    manager = users["manager"]
    run_sql(user=manager, warehouse=wh, sql="SELECT person_id FROM person LIMIT 4")
    with pytest.raises(SqlError):
        run_sql(user=manager, warehouse=wh, sql="DROP TABLE person")
    events = list(UsageEvent.objects.filter(user=manager, action="sql").order_by("pk"))
    assert [e.detail["sql"] for e in events] == ["SELECT person_id FROM person LIMIT 4", "DROP TABLE person"]
    assert events[0].detail["rows"] == 4 and events[0].persons == 4
    assert events[1].detail["rows"] == 0 and events[1].detail["error"] == "refused"
    assert UsageEvent.objects.filter(user=users["organizer"], action="sql").count() == 1
