"""Role x committee kind: which persons and which fields each path returns — the scoped
expression itself, the JSON API (list, count, one person by id, including another
committee's), the people page and the people-search CSV download."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client

from tests.access.factories import PERSONS, committee_tree, load_persons, login_verified, user_with
from unionhall.access.gateway import person_base
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db

EVERYTHING = {"name", "address", "phone", "email"}
VOTER = {"name", "address"}

# committee key, role -> {person id: visible field groups}
MATRIX = {
    ("affiliate", "organizer"): {1: EVERYTHING, 2: EVERYTHING, 6: EVERYTHING},
    ("affiliate", "data_manager"): {1: EVERYTHING, 2: EVERYTHING, 6: EVERYTHING},
    ("affiliate", "administrator"): {1: EVERYTHING, 2: EVERYTHING, 6: EVERYTHING},
    ("local", "data_manager"): {1: EVERYTHING, 6: EVERYTHING},
    ("affiliate", "analyst"): {1: {"name"}, 2: {"name"}, 6: {"name"}},
    ("affiliate", "canvasser"): {},
    ("affiliate", "vendor"): {},
    ("local", "organizer"): {1: EVERYTHING, 6: EVERYTHING},
    ("other_affiliate", "organizer"): {3: EVERYTHING, 4: EVERYTHING},
    # NC: voters of the state (name, address) + nurses in NC under the agreement (name, address)
    ("state_federation", "organizer"): {1: VOTER, 2: VOTER, 3: VOTER, 5: VOTER, 7: VOTER},
    ("state_federation", "analyst"): {1: {"name"}, 2: {"name"}, 3: {"name"}, 5: {"name"}, 7: {"name"}},
    ("state_federation", "administrator"): {1: VOTER, 2: VOTER, 3: VOTER, 5: VOTER, 7: VOTER},
    ("clc", "organizer"): {1: VOTER, 3: VOTER, 5: VOTER},
    ("clc", "data_manager"): {1: VOTER, 3: VOTER, 5: VOTER},
    ("clc", "vendor"): {},
    ("national", "organizer"): {1: VOTER, 3: VOTER, 5: VOTER, 6: VOTER, 7: VOTER},
    ("national", "data_manager"): {1: VOTER, 3: VOTER, 5: VOTER, 6: VOTER, 7: VOTER},
    ("national", "canvasser"): {},
}
COLUMNS = {"name": "first_name", "address": "addr_line1", "phone": "phone", "email": "email"}
TRUTH = {p[0]: p for p in PERSONS}


def _has_value(pid: int, group: str) -> bool:
    """Does the person's source data have a value in this field group at all?"""
    return {"phone": TRUTH[pid][5], "email": TRUTH[pid][6]}.get(group, "x") is not None


@pytest.mark.parametrize(("committee", "role"), list(MATRIX))
def test_scope_matrix(warehouse: Warehouse, committee: str, role: str) -> None:
    load_persons(warehouse)
    user = user_with(role, committee_tree()[committee])
    rows = {r["person_id"]: r for r in person_base(user=user, warehouse=warehouse).to_pyarrow().to_pylist()}
    expected = MATRIX[(committee, role)]
    assert set(rows) == set(expected)
    for pid, granted in expected.items():
        for group, column in COLUMNS.items():
            if group in granted and _has_value(pid, group):
                assert rows[pid][column] is not None, (pid, group)
            if group not in granted:
                assert rows[pid][column] is None, (pid, group)


def _check_fields(rows: dict[int, dict[str, Any]], expected: dict[int, set[str]]) -> None:
    assert set(rows) == set(expected)
    for pid, granted in expected.items():
        for group, column in COLUMNS.items():
            if group in granted and _has_value(pid, group):
                assert rows[pid][column] not in (None, ""), (pid, group)
            if group not in granted:
                assert rows[pid][column] in (None, ""), (pid, group)


@pytest.mark.parametrize(("committee", "role"), list(MATRIX))
def test_scope_matrix_through_every_door(client: Client, process_warehouse: Warehouse, committee: str,
                                         role: str) -> None:
    from unionhall.access.models import UsageEvent
    from unionhall.access.selectors import DOWNLOAD_ROLES

    load_persons(process_warehouse)
    user = user_with(role, committee_tree()[committee])
    login_verified(client, user)
    expected = MATRIX[(committee, role)]

    api = client.get("/api/people?limit=500").json()
    assert api["count"] == len(expected)
    _check_fields({r["person_id"]: r for r in api["results"]}, expected)

    missing = client.get("/api/people/999999")
    assert missing.status_code == 404
    for pid in TRUTH:  # every person by id, in scope or another committee's
        one = client.get(f"/api/people/{pid}")
        if pid in expected:
            assert one.status_code == 200
            _check_fields({pid: one.json()}, {pid: expected[pid]})
        else:
            assert (one.status_code, one.content) == (missing.status_code, missing.content)

    registered = {pid for pid in expected if TRUTH[pid][7] is not None}
    page = client.get("/people/?registered=yes")
    assert page.status_code == 200
    html = page.content.decode()
    assert {pid for pid in TRUTH if f"/elections/people/{pid}/" in html} == registered

    download = client.get("/people/?download=csv")
    if role not in DOWNLOAD_ROLES:
        assert download.status_code == 403
        assert not UsageEvent.objects.filter(user=user, action="export").exists()
        return
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    for r in rows:  # a phone like +1919... would run as a formula: it is written '+1919...
        assert r["phone"] == "" or r["phone"].startswith("'+"), r
    _check_fields({int(r["person_id"]): r for r in rows}, expected)
    event = UsageEvent.objects.get(user=user, action="export")
    assert event.persons == len(expected) and event.detail["kind"] == "people search download"


def test_membership_is_shown_only_where_granted(warehouse: Warehouse) -> None:
    load_persons(warehouse)
    tree = committee_tree()
    fed = user_with("organizer", tree["state_federation"])
    rows = {r["person_id"]: r for r in person_base(user=fed, warehouse=warehouse).to_pyarrow().to_pylist()}
    assert rows[1]["member_sources"] == ["nurses"]  # shared by the nurses' agreement
    assert rows[3]["member_sources"] == []  # a teacher, seen only as a voter: membership hidden
    assert rows[1]["member_locals"] == []


def test_several_grants_add_up(warehouse: Warehouse) -> None:
    load_persons(warehouse)
    tree = committee_tree()
    user = user_with("organizer", tree["local"])
    from unionhall.access.models import RoleGrant

    RoleGrant.objects.create(user=user, committee=tree["other_affiliate"], role="analyst")
    rows = {r["person_id"]: r for r in person_base(user=user, warehouse=warehouse).to_pyarrow().to_pylist()}
    assert set(rows) == {1, 3, 4, 6}
    assert rows[1]["phone"] == "+19195550101"
    assert rows[3]["phone"] is None and rows[3]["first_name"] == "Cy"


def test_analyst_aggregates_suppress_small_cells(warehouse: Warehouse) -> None:
    from unionhall.access.selectors import PersonFilter, person_aggregate

    load_persons(warehouse)
    tree = committee_tree()
    analyst = user_with("analyst", tree["state_federation"])
    organizer = user_with("organizer", tree["state_federation"])
    f = PersonFilter()
    by_county = {r["county"]: r["persons"] for r in person_aggregate(user=analyst, by=["county"], filters=f,
                                                                      min_cell=2, warehouse=warehouse)}
    assert by_county == {"WAKE": 2, "ORANGE": None, "DURHAM": None, "MECKLENBURG": None}
    plain = {r["county"]: r["persons"] for r in person_aggregate(user=organizer, by=["county"], filters=f,
                                                                  min_cell=2, warehouse=warehouse)}
    assert plain == {"WAKE": 2, "ORANGE": 1, "DURHAM": 1, "MECKLENBURG": 1}
