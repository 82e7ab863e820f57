"""The JSON API's people endpoints go through the scope, and every read is logged."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.access.factories import committee_tree, load_persons, login_verified, user_with
from unionhall.access.models import UsageEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(process_warehouse):  # type: ignore[no-untyped-def]
    load_persons(process_warehouse)
    return committee_tree()


def test_people_list_is_scoped_and_masked(client: Client, tree) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, user_with("organizer", tree["clc"]))
    body = client.get("/api/people").json()
    assert body["count"] == 3
    assert sorted(r["person_id"] for r in body["results"]) == [1, 3, 5]
    assert all(r["phone"] is None and r["email"] is None for r in body["results"])
    assert {r["first_name"] for r in body["results"]} == {"Ana", "Cy", "Ed"}
    filtered = client.get("/api/people?county=wake&registered=true").json()
    assert sorted(r["person_id"] for r in filtered["results"]) == [1, 3]


def test_other_committees_person_is_not_found_like_a_missing_one(client: Client, tree) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, user_with("organizer", tree["other_affiliate"]))
    mine = client.get("/api/people/3")
    assert mine.status_code == 200 and mine.json()["phone"] == "+19195550103"
    theirs = client.get("/api/people/2")  # a nurse, outside a teachers' organizer's scope
    missing = client.get("/api/people/999999")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


def test_vendor_and_anonymous_get_nothing(client: Client, tree) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/people").status_code in (401, 403)
    login_verified(client, user_with("vendor", tree["national"]))
    assert client.get("/api/people").json()["count"] == 0
    assert client.get("/api/people/1").status_code == 404


def test_reads_are_in_the_usage_log(client: Client, tree) -> None:  # type: ignore[no-untyped-def]
    user = user_with("organizer", tree["affiliate"])
    login_verified(client, user)
    client.get("/api/people?last_name=di")
    client.get("/api/people/1")
    client.get("/api/people/4")  # out of scope: not found, and no person was touched
    events = list(UsageEvent.objects.filter(user=user).order_by("id").values_list("action", "persons", "detail"))
    assert [e[0] for e in events] == ["login", "search", "person_view"]
    assert events[1][1] == 1 and events[1][2]["filters"] == {"last_name": "di"}
    assert events[2] == ("person_view", 1, {"person_id": 1})
    assert UsageEvent.objects.filter(user=user).first().committee == tree["affiliate"]  # type: ignore[union-attr]


def test_people_page_shows_the_same_scope_as_the_api(client: Client, tree) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, user_with("organizer", tree["state_federation"]))
    page = client.get("/people/?registered=yes")
    assert page.status_code == 200
    html = page.content.decode()
    for visible in ("Diaz", "Ng", "Fox", "Hall"):
        assert visible in html
    for hidden in ("Ray", "Cruz", "+19195550101", "ana@example.org"):  # out of scope, or masked
        assert hidden not in html
    api = client.get("/api/people?registered=true").json()
    assert api["count"] == html.count("/elections/people/")
