"""The people endpoints' input handling: bad paging, blocked accounts, the schema."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.access.factories import committee_tree, load_persons, login_verified, user_with

pytestmark = pytest.mark.django_db


def test_paging_must_be_whole_numbers_and_is_capped(client: Client, process_warehouse) -> None:  # type: ignore[no-untyped-def]
    load_persons(process_warehouse)
    login_verified(client, user_with("organizer", committee_tree()["affiliate"]))
    bad = client.get("/api/people?limit=ten")
    assert bad.status_code == 400 and "whole numbers" in bad.json()["detail"]
    capped = client.get("/api/people?limit=100000&offset=-5").json()
    assert (capped["limit"], capped["offset"], capped["count"]) == (500, 0, 3)
    page = client.get("/api/people?limit=1&offset=1").json()
    assert page["count"] == 3 and len(page["results"]) == 1


def test_an_account_without_two_factor_gets_the_reason(client: Client, process_warehouse) -> None:  # type: ignore[no-untyped-def]
    load_persons(process_warehouse)
    client.force_login(user_with("organizer", committee_tree()["affiliate"]))  # no verified device
    for url in ("/api/people", "/api/people/1"):
        response = client.get(url)
        assert response.status_code == 403
        assert "two-factor" in response.json()["detail"].lower()


def test_schema_lists_the_people_endpoints(client: Client) -> None:
    login_verified(client, user_with("organizer", committee_tree()["affiliate"]))
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert {"/api/people", "/api/people/{person_id}"} <= set(schema["paths"])


def test_a_merged_persons_old_id_resolves_within_scope(client: Client, process_warehouse) -> None:  # type: ignore[no-untyped-def]
    """Identity retires an id when it merges two persons; a saved link to the old id
    reaches the survivor, and is refused exactly like a missing id when the survivor is
    outside the user's scope."""
    load_persons(process_warehouse)
    cur = process_warehouse.cursor()
    cur.execute("INSERT INTO person_alias (old_person_id, person_id, reason, run_id, created_at) "
                "VALUES (901, 1, 'merge', 1, now()), (903, 3, 'merge', 1, now())")
    tree = committee_tree()
    login_verified(client, user_with("organizer", tree["affiliate"]))
    merged = client.get("/api/people/901")
    assert merged.status_code == 200 and merged.json()["person_id"] == 1
    missing, forbidden = client.get("/api/people/999"), client.get("/api/people/903")  # 3 is a teacher
    assert missing.status_code == forbidden.status_code == 404
    assert missing.json() == forbidden.json()
