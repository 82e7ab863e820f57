"""The usage report flagged against the data agreement: a scripted history of users,
agreement versions and events gives exactly the expected flags; the table is the
access app's usage report; the scope is the data manager's."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.utils import timezone

from tests.access.factories import committee_tree, user_with
from tests.reports.conftest import client_of
from unionhall.access.models import (
    AgreementAcceptance,
    AgreementText,
    ApprovedUser,
    DataAgreement,
    UsageEvent,
)
from unionhall.access.selectors import usage_report
from unionhall.access.services import usage_record
from unionhall.reports.filters import UsageFilters
from unionhall.reports.selectors import usage_flagged

pytestmark = pytest.mark.django_db


def _ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def _event(user: Any, action: str, persons: int, days: float, **detail: Any) -> UsageEvent:
    e = usage_record(user=user, action=action, persons=persons, detail=detail)
    UsageEvent.objects.filter(pk=e.pk).update(at=_ago(days))
    return e


def _accept(user: Any, agreement: AgreementText, days: float) -> None:
    a = AgreementAcceptance.objects.create(user=user, agreement=agreement)
    AgreementAcceptance.objects.filter(pk=a.pk).update(accepted_at=_ago(days))


@pytest.fixture
def history() -> dict[str, Any]:
    tree = committee_tree()
    v1 = AgreementText.objects.create(version=1, text="Version 1")
    v2 = AgreementText.objects.create(version=2, text="Version 2")
    AgreementText.objects.filter(pk=v1.pk).update(published_at=_ago(30))
    AgreementText.objects.filter(pk=v2.pk).update(published_at=_ago(5))
    today = timezone.localdate()
    u = {
        "alice": user_with("organizer", tree["affiliate"], "alice"),
        "bob": user_with("organizer", tree["clc"], "bob"),
        "carol": user_with("data_manager", tree["clc"], "carol"),
        "dave": user_with("organizer", tree["affiliate"], "dave"),
        "eve": user_with("data_manager", tree["affiliate"], "eve"),
        "coord": user_with("data_manager", tree["national"], "coord"),
    }
    for name in ("alice", "carol", "dave", "eve", "coord"):
        ApprovedUser.objects.create(user=u[name], sponsor=tree["state_federation"],
                                    expires_on=today - dt.timedelta(days=10) if name == "carol"
                                    else today + dt.timedelta(days=200))
    for name in ("alice", "bob", "carol", "dave", "eve", "coord"):
        _accept(u[name], v1, 29)
    for name, days in (("alice", 4), ("bob", 4), ("carol", 4.5), ("eve", 4), ("coord", 4)):
        _accept(u[name], v2, days)
    _event(u["alice"], "search", 20, 20, filters={"last_name": "d"})
    _event(u["alice"], "export", 30, 6, kind="walk sheet")  # v1 in force then, accepted
    _event(u["alice"], "export", 30, 3, kind="call sheet")  # v2 accepted a day before
    _event(u["dave"], "export", 12, 8, kind="mail file")  # v1 in force, accepted
    _event(u["dave"], "export", 14, 2, kind="mail file")  # v2 in force, never accepted
    _event(u["carol"], "export", 40, 3, kind="people search download")  # account expired 10 days ago
    _event(u["bob"], "search", 5, 1)
    _event(u["bob"], "person_view", 1, 1)
    _event(u["eve"], "export", 5000, 1, kind="walk sheet")  # far above anyone's usual week
    DataAgreement.objects.create(affiliate=tree["other_affiliate"], grantee=tree["clc"], fields=["name"],
                                 ends_on=today - dt.timedelta(days=3))
    return {"tree": tree, "users": u}


EXPECTED = {("bob", "not an approved user"), ("carol", "account expired"),
            ("carol", "export after the account expired"), ("dave", "agreement not accepted"),
            ("dave", "export without the agreement"), ("eve", "unusual volume")}


def test_the_flags_are_exactly_the_scripted_problems(history: dict[str, Any]) -> None:
    coord = history["users"]["coord"]
    report = usage_flagged(user=coord, filters=UsageFilters(group_by="user"))
    assert {(f["user"], f["flag"]) for f in report.table("flags").rows} == EXPECTED
    exports = report.table("exports").rows
    assert len(exports) == UsageEvent.objects.filter(action="export").count() == 6
    flagged = {(e["user"], e["persons"]) for e in exports if e["flagged"]}
    assert flagged == {("dave", 14), ("carol", 40)}
    assert all(e["check"] == "ok" for e in exports if not e["flagged"])
    groups = {r["group"]: r for r in report.table("groups").rows}
    assert {name: groups[name]["flags"] for name in groups} == {
        "alice": 0, "bob": 1, "carol": 2, "dave": 2, "eve": 1}
    agreements = {(a["affiliate"], a["grantee"]): a for a in report.table("agreements").rows}
    assert agreements[("Teachers Assn", "Triangle CLC")]["flagged"]
    assert agreements[("Nurses United", "North Carolina AFL-CIO")]["status"] == "in force"


@pytest.mark.parametrize("group_by", ["user", "committee", "week"])
def test_the_table_is_the_access_usage_report_and_counts_the_log(history: dict[str, Any], group_by: str) -> None:
    coord = history["users"]["coord"]
    report = usage_flagged(user=coord, filters=UsageFilters(group_by=group_by))
    base = usage_report(user=coord, group_by=group_by)
    actions = [a for a, _ in UsageEvent.Action.choices]
    assert [(r["group"], r["events"], *[r[a] for a in actions]) for r in report.table("groups").rows] == [
        (r["group"], r["events"], *[r[a] for a in actions]) for r in base]
    assert sum(r["events"] for r in report.table("groups").rows) == UsageEvent.objects.count()
    assert sum(r["export"] for r in report.table("groups").rows) == UsageEvent.objects.filter(action="export").count()
    # Every flag lands in one group (account flags have no committee or week).
    account = {"not an approved user", "account expired", "agreement not accepted"}
    placed = sum(r["flags"] for r in report.table("groups").rows)
    flags = report.table("flags").rows
    assert placed == (len(flags) if group_by == "user" else
                      sum(1 for f in flags if f["flag"] not in account and (group_by == "week" or f["committee"])))


def test_a_clc_data_manager_sees_only_the_clcs_users(history: dict[str, Any]) -> None:
    # (Her account has expired, so the page would stop her at the gate; the report's
    # scope is what is tested here.)
    carol = history["users"]["carol"]
    report = usage_flagged(user=carol, filters=UsageFilters(group_by="user"))
    assert {r["group"] for r in report.table("groups").rows} == {"bob", "carol"}
    assert {(f["user"], f["flag"]) for f in report.table("flags").rows} == {
        ("bob", "not an approved user"), ("carol", "account expired"), ("carol", "export after the account expired")}
    assert {(a["affiliate"], a["grantee"]) for a in report.table("agreements").rows} == {("Teachers Assn",
                                                                                         "Triangle CLC")}


def test_page_downloads_permission_and_bad_input(history: dict[str, Any]) -> None:
    coord = history["users"]["coord"]
    c = client_of(coord)
    page = c.get("/reports/usage/?by=user")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('<tr class="flagged">') >= 2 and "export without the agreement" in html
    assert '<svg class="report-chart-svg"' in html
    rows = {r["group"]: r for r in csv.DictReader(io.StringIO(c.get("/reports/usage.csv?by=user").content.decode()))}
    assert rows["dave"]["flags"] == "2" and rows["eve"]["export"] == "1" and rows["eve"]["persons_touched"] == "5000"
    flags = list(csv.DictReader(io.StringIO(c.get("/reports/usage.csv?by=user&table=flags").content.decode())))
    assert {(f["user"], f["flag"]) for f in flags} == EXPECTED
    assert c.get("/reports/usage.pdf?by=week").content.startswith(b"%PDF")
    assert c.get("/reports/usage.png?by=committee").content.startswith(b"\x89PNG")
    for query, message in {"by=month": "use one of user, committee, week", "from=last-week": "is not a date",
                           "from=2026-10-09&to=2026-10-01": "is after To"}.items():
        resp = c.get(f"/reports/usage/?{query}")
        assert resp.status_code == 400 and message in resp.content.decode()
    alice = history["users"]["alice"]
    assert client_of(alice).get("/reports/usage/").status_code == 403  # for data managers and administrators
    assert client_of(alice).get("/reports/").status_code == 200
