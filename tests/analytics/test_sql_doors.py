"""The SQL path as one more door of the every-door world (tests/access/world.py): for
every role x committee kind, every readable table, read whole through the SQL page's
engine, shows no token outside the user's scope (persons, fields, memberships,
quarantined rows), and shows the tokens inside it. Analysts read through group keys
with the minimum cell set to 1, so every value their aggregates could show is
checked; the roles without analytics are refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from tests.access import world
from tests.access.factories import committee_tree, user_with
from tests.access.test_every_door import EXPECT, allowed
from unionhall.analytics.sql import SqlError, readable_tables, run_sql
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db

ANALYTICS_ROLES = {"administrator", "data_manager", "analyst", "superuser"}


@pytest.fixture
def sql_world(process_warehouse: Warehouse) -> Iterator[dict[str, Any]]:
    world.clear_world(process_warehouse)
    yield world.load_world(process_warehouse)
    world.clear_world(process_warehouse)


def _user(key: tuple[str, str]) -> Any:
    committee, role = key
    if role == "superuser":
        return get_user_model().objects.create_superuser("root", password="a-long-passw0rd!")
    return user_with(role, committee_tree()[committee])


@pytest.mark.parametrize("key", list(EXPECT), ids=["-".join(k) for k in EXPECT])
def test_the_sql_door_shows_only_the_scope(sql_world: dict[str, Any], key: tuple[str, str],
                                          settings: Any) -> None:
    settings.UNIONHALL_MIN_CELL = 1
    user = _user(key)
    tables = readable_tables()
    if key[1] not in ANALYTICS_ROLES:
        with pytest.raises(SqlError) as exc:
            run_sql(user=user, sql="SELECT count(*) FROM person")
        assert exc.value.kind == "forbidden"
        return
    tokens = world.sentinels()
    seen: set[str] = set()
    for name, columns in tables.items():
        if key[1] == "analyst":
            cast = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in columns)
            sql = f"SELECT {cast}, count(*) FROM {name} GROUP BY ALL"  # names from the catalog
        else:
            sql = f"SELECT * FROM {name}"
        result = run_sql(user=user, sql=sql, max_rows=100_000)
        assert not result.truncated and result.suppressed_rows == 0
        body = " ".join(str(v) for row in result.rows for v in row).lower()
        leaked = [s.text for s in tokens if not allowed(key, s) and s.text.lower() in body]
        assert not leaked, (name, leaked)
        seen |= {s.text for s in tokens if s.text.lower() in body}
    # it is a real door: every token of the scope that is not a quarantined row shows
    missing = {s.text for s in tokens if allowed(key, s) and s.quarantine is None} - seen
    assert not missing
