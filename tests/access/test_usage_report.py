"""The usage log and report reconcile exactly with a scripted session's actions."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from tests.access.factories import committee_tree, load_persons, login_verified, user_with

pytestmark = pytest.mark.django_db


def test_usage_report_matches_a_scripted_session(process_warehouse) -> None:  # type: ignore[no-untyped-def]
    load_persons(process_warehouse)
    tree = committee_tree()
    alice = user_with("organizer", tree["affiliate"], "alice")
    bob = user_with("organizer", tree["clc"], "bob")
    a, b = Client(), Client()
    login_verified(a, alice)  # 1 login
    login_verified(b, bob)  # 1 login
    a.get("/api/people?last_name=d")  # alice: search touching 1 (Diaz)
    a.get("/api/people")  # alice: search touching 3
    a.get("/api/people/1")  # alice: person view
    a.get("/api/people/2")  # alice: person view
    a.get("/api/people/5")  # out of alice's scope: 404, not logged as a view
    b.get("/api/people?county=durham")  # bob: search touching 1
    b.get("/api/people/5")  # bob: person view
    Client().post("/login/", {"username": "alice", "password": "wrong"})  # a failed login

    coordinator = user_with("data_manager", tree["national"], "coord")  # the national data team
    c = Client()
    login_verified(c, coordinator)
    resp = c.get("/account/usage/?by=user&download=csv")
    rows = {r["group"]: r for r in csv.DictReader(io.StringIO(b"".join(resp.streaming_content).decode()))}
    assert rows["alice"]["login"] == "1" and rows["alice"]["login_failed"] == "1"
    assert rows["alice"]["search"] == "2" and rows["alice"]["person_view"] == "2"
    assert rows["alice"]["persons_touched"] == str(1 + 3 + 1 + 1)
    assert rows["bob"]["search"] == "1" and rows["bob"]["person_view"] == "1"
    assert rows["bob"]["persons_touched"] == "2"
    assert rows["bob"]["events"] == "3"

    by_committee = c.get("/account/usage/?by=committee")
    assert by_committee.status_code == 200
    assert b"Nurses United" in by_committee.content and b"Triangle CLC" in by_committee.content
    weekly = list(csv.DictReader(io.StringIO(b"".join(
        c.get("/account/usage/?by=week&download=csv").streaming_content).decode())))
    total_events = sum(int(r["events"]) for r in weekly)
    assert total_events == sum(int(r["events"]) for r in rows.values())
    organizer_page = Client()
    login_verified(organizer_page, user_with("organizer", tree["local"], "carol"))
    assert organizer_page.get("/account/usage/").status_code == 403  # the report is for data managers

    # A CLC's data manager monitors the CLC's users, not the affiliate's.
    clc_dm = Client()
    login_verified(clc_dm, user_with("data_manager", tree["clc"], "dana"))
    clc_rows = {r["group"] for r in csv.DictReader(io.StringIO(b"".join(
        clc_dm.get("/account/usage/?by=user&download=csv").streaming_content).decode()))}
    assert "bob" in clc_rows and "alice" not in clc_rows
