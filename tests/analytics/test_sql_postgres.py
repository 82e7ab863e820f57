"""The SQL page on a PostgreSQL warehouse: the analyst's DuckDB SQL runs there, through
the gateway (compiled by ibis for PostgreSQL), in a READ ONLY transaction; functions
DuckDB lacks are refused (PostgreSQL's `table_to_xml` would read a table around the
gateway); analysts' aggregate-only mode fails closed there for now. The loaded state
is copied into a PostgreSQL schema, whatever this pass's engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.access.factories import user_with
from tests.backends import needs_postgres, postgres_location
from unionhall.access.gateway import person_base
from unionhall.analytics.sql import SqlError, run_sql
from unionhall.warehouse import Warehouse
from unionhall.warehouse.transfer import copy_warehouse

pytestmark = [*needs_postgres, pytest.mark.django_db]


@pytest.fixture
def pg(field_wh: Warehouse, tree: dict[str, Any], tmp_path: Path) -> Any:
    wh = Warehouse(postgres_location())
    copy_warehouse(field_wh, wh)
    yield wh, tree
    wh.close()


def test_a_data_managers_query_sees_the_scope_and_nothing_around_it(pg: Any) -> None:
    wh, tree = pg
    manager = user_with("data_manager", tree["clc"], "clc-manager-pg")
    everyone = wh.cursor().execute("SELECT count(*) FROM person").fetchone()[0]
    scoped = person_base(user=manager, warehouse=wh).count().execute()
    assert 0 < scoped < everyone
    [(n,)] = run_sql(user=manager, sql="SELECT count(*) FROM person WHERE len(member_sources) >= 0 "
                     "OR member_sources IS NULL", warehouse=wh).rows
    assert n == scoped
    with pytest.raises(SqlError) as refused:
        run_sql(user=manager, sql="SELECT table_to_xml('person', true, false, '')", warehouse=wh)
    assert refused.value.kind == "unknown" and "table_to_xml" in refused.value.message
    with pytest.raises(SqlError) as missing:
        run_sql(user=manager, sql="SELECT nosuch FROM person", warehouse=wh)
    assert missing.value.kind == "unknown" and "nosuch" in missing.value.message


def test_analysts_aggregate_only_mode_fails_closed_on_postgres(pg: Any) -> None:
    wh, tree = pg
    analyst = user_with("analyst", tree["clc"], "clc-analyst-pg")
    with pytest.raises(SqlError, match="DuckDB warehouse only") as refused:
        run_sql(user=analyst, sql="SELECT county, count(*) FROM person GROUP BY county", warehouse=wh)
    assert refused.value.kind == "refused"
