"""The SQL page: for analytics users only (an organizer gets 403), a result table,
the reason a query was not run shown in place, small groups shown as "<N" for
analysts, and no POST without the CSRF token."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tests.access.factories import login_verified, user_with
from unionhall.access.gateway import person_base
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db


def client_of(user: Any, **kw: Any) -> Client:
    c = Client(**kw)
    login_verified(c, user)
    return c


def test_only_analytics_users_open_the_page(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    organizer = client_of(user_with("organizer", tree["clc"], "clc-organizer"))
    assert organizer.get("/analytics/sql/").status_code == 403
    assert organizer.post("/analytics/sql/", {"sql": "SELECT count(*) FROM person"}).status_code == 403
    page = client_of(user_with("analyst", tree["clc"], "clc-analyst")).get("/analytics/sql/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "<textarea" in text and "vote_history" in text and "member_quarantine" not in text
    assert "Nothing here can be downloaded" in text


def test_results_and_errors_in_place(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    manager = user_with("data_manager", tree["clc"], "clc-manager")
    c = client_of(manager)
    n = person_base(user=manager, warehouse=field_wh).count().execute()
    page = c.post("/analytics/sql/", {"sql": "SELECT count(*) AS persons FROM person"}).content.decode()
    assert "<th>persons</th>" in page and f"<td>{n}</td>" in page
    page = c.post("/analytics/sql/", {"sql": "SELECT frist_name FROM person"}).content.decode()
    assert 'class="error"' in page and "frist_name" in page and "line 1, column 8" in page
    assert "SELECT frist_name FROM person</textarea>" in page  # the query stays to be fixed
    page = c.post("/analytics/sql/", {"sql": "DROP TABLE person"}).content.decode()
    assert "the SQL page only reads: DROP" in page
    assert field_wh.cursor().execute("SELECT count(*) FROM person").fetchone()[0] > n


def test_analysts_see_small_groups_as_under_the_minimum(field_wh: Warehouse, tree: dict[str, Any],
                                                         settings: Any) -> None:
    settings.UNIONHALL_MIN_CELL = 10**9  # every group is small
    c = client_of(user_with("analyst", tree["clc"], "clc-analyst"))
    page = c.post("/analytics/sql/", {"sql": "SELECT county, count(*) FROM person GROUP BY county"}).content.decode()
    assert re.search(r"\d+ groups? of &lt;1000000000 persons: not shown", page)
    page = c.post("/analytics/sql/", {"sql": "SELECT first_name FROM person"}).content.decode()
    assert "analysts see aggregates only" in page


def test_a_post_needs_the_csrf_token(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    c = client_of(user_with("data_manager", tree["clc"], "clc-manager"), enforce_csrf_checks=True)
    assert c.post("/analytics/sql/", {"sql": "SELECT 1"}).status_code == 403
    page = c.get("/analytics/sql/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    r = c.post("/analytics/sql/", {"sql": "SELECT 41 + 1 AS answer", "csrfmiddlewaretoken": token.group(1)})
    assert r.status_code == 200 and "<td>42</td>" in r.content.decode()
