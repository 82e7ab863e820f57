"""The people-search CSV download: administrators and data managers only, through the
scope of those grants, small, formula-safe and logged as an export."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from tests.access.factories import committee_tree, load_persons, login_verified, user_with
from unionhall.access.models import RoleGrant, UsageEvent
from unionhall.access.selectors import DownloadRefused, PersonFilter, person_download
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db


def _ids(body: bytes) -> set[int]:
    return {int(r["person_id"]) for r in csv.DictReader(io.StringIO(body.decode()))}


def test_download_uses_only_the_grants_that_may_download(client: Client, process_warehouse: Warehouse) -> None:
    load_persons(process_warehouse)
    tree = committee_tree()
    user = user_with("organizer", tree["other_affiliate"])  # teachers 3, 4: may search, not download
    RoleGrant.objects.create(user=user, committee=tree["local"], role="data_manager")  # nurses local 1: 1, 6
    login_verified(client, user)
    assert client.get("/api/people").json()["count"] == 4
    response = client.get("/people/?download=csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="people-search.csv"'
    assert _ids(response.content) == {1, 6}


def test_download_follows_the_search_filters(client: Client, process_warehouse: Warehouse) -> None:
    load_persons(process_warehouse)
    user = user_with("data_manager", committee_tree()["affiliate"])
    login_verified(client, user)
    assert _ids(client.get("/people/?county=wake&download=csv").content) == {1}
    page = client.get("/people/?county=wake").content.decode()
    assert "county=wake&amp;download=csv" in page  # the page offers the same search as CSV
    event = UsageEvent.objects.get(user=user, action="export")
    assert event.persons == 1 and event.detail["filters"] == {"county": "wake"}


def test_a_large_download_is_refused_and_not_logged(process_warehouse: Warehouse) -> None:
    load_persons(process_warehouse)
    user = user_with("data_manager", committee_tree()["affiliate"])
    with pytest.raises(DownloadRefused, match="at most 2"):
        person_download(user=user, filters=PersonFilter(), limit=2)
    assert not UsageEvent.objects.filter(action="export").exists()


def test_organizers_see_no_download_link(client: Client, process_warehouse: Warehouse) -> None:
    load_persons(process_warehouse)
    login_verified(client, user_with("organizer", committee_tree()["affiliate"]))
    page = client.get("/people/?county=wake").content.decode()
    assert "download=csv" not in page
    refused = client.get("/people/?download=csv")
    assert refused.status_code == 403 and "export request" in refused.content.decode()


def test_a_search_over_the_limit_offers_no_link_but_says_how(
    client: Client, process_warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_persons(process_warehouse)
    monkeypatch.setattr("unionhall.access.views.DOWNLOAD_LIMIT", 1)
    login_verified(client, user_with("data_manager", committee_tree()["affiliate"]))
    wide = client.get("/people/?registered=yes").content.decode()  # nurses 1 and 6
    assert "download=csv" not in wide and "Narrow the search to 1 people or fewer" in wide
    narrow = client.get("/people/?county=wake").content.decode()
    assert "county=wake&amp;download=csv" in narrow
