"""Person page and early-vote report: scoped through person_base, 404 alike when out of scope."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.access.factories import login_verified
from tests.elections.conftest import q
from tests.elections.nc_factory import (
    ballot,
    polling,
    vote,
    voter,
    write_absentee,
    write_ncvhis,
    write_ncvoter,
    write_polling,
)
from unionhall.warehouse import Warehouse, core

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(tmp_path: Path, load, warehouse: Warehouse) -> Iterator[Warehouse]:
    load("voterfile", write_ncvoter(tmp_path / "ncvoter_20261001.txt", [voter(1), voter(2, age_at_year_end=23)]))
    load("history", write_ncvhis(tmp_path / "ncvhis_20261001.txt", [
        vote(1, "11/05/2024", "ABSENTEE ONESTOP"), vote(1, "03/05/2024", "IN-PERSON"), vote(1, "11/08/2022", "ABSENTEE BY MAIL")]))
    load("polling", write_polling(tmp_path / "polling_place_20261103.csv", [polling("NEW BERN 1")]))
    load("absentee", write_absentee(tmp_path / "absentee_20261008.csv", [
        ballot(1, ballot_send_dt="09/20/2026", ballot_rtn_dt="10/05/2026", ballot_rtn_status="ACCEPTED"),
        ballot(2, ballot_req_type="ONE-STOP", ballot_req_dt="10/08/2026", ballot_send_dt="10/08/2026",
               ballot_rtn_dt="10/08/2026", ballot_rtn_status="ACCEPTED", age="23", voter_party_code="UNA")]))
    saved = core._current
    core._current = warehouse
    yield warehouse
    core._current = saved


def _pid(wh: Warehouse, ncid: str) -> int:
    return int(q(wh, "SELECT person_id FROM voter_person WHERE ncid = ?", ncid)[0][0])


def test_person_page_shows_registration_polling_place_history_and_ballot(client: Client, admin_user, loaded: Warehouse) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, admin_user)
    resp = client.get(f"/elections/people/{_pid(loaded, 'NC1')}/")
    assert resp.status_code == 200
    html = resp.content.decode()
    for text in ("VOTER1", "ACTIVE", "NEW BERN LIBRARY", "400 JOHNSON ST", "Early in person", "By mail",
                 "Mail ballot returned and accepted", "already voted", "2 of 2", "NEW BERN 1"):
        assert text in html, text


def test_person_page_is_404_for_missing_and_out_of_scope(client: Client, loaded: Warehouse) -> None:
    user = User.objects.create_user("organizer", password="pw-12345-long")
    client.force_login(user)
    out_of_scope = client.get(f"/elections/people/{_pid(loaded, 'NC1')}/")
    missing = client.get("/elections/people/999999/")
    assert out_of_scope.status_code == missing.status_code == 404


def test_early_vote_report_with_chart(client: Client, admin_user, loaded: Warehouse) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, admin_user)
    resp = client.get("/elections/early-vote/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "<svg" in html and "Ballots cast per day" in html
    report = resp.context["total"]
    assert report == {"voted": 2, "mail": 1, "early": 1, "outstanding": 0, "needs_cure": 0, "people": 2}
    assert [(r["key"], r["voted"]) for r in resp.context["by_age"]] == [("18-25", 1), ("41-65", 1)]
    assert [(str(d["day"]), d["cumulative"]) for d in resp.context["by_day"]] == [("2026-10-05", 1), ("2026-10-08", 2)]
    # a user who sees no one gets a report of zeros, not other people's numbers
    user = User.objects.create_user("organizer", password="pw-12345-long")
    login_verified(client, user)
    resp = client.get("/elections/early-vote/")
    assert resp.context["total"]["voted"] == 0


def test_blocked_account_sees_why_not_numbers(client: Client, admin_user, loaded: Warehouse) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_user)  # no second factor
    resp = client.get("/elections/early-vote/")
    assert resp.status_code == 403
    html = resp.content.decode()
    assert "two-factor" in html and "/account/two-factor/" in html and "total" not in resp.context
    # the account-level block answers the same for an existing and a missing person
    existing = client.get(f"/elections/people/{_pid(loaded, 'NC1')}/")
    missing = client.get("/elections/people/999999999/")
    assert existing.status_code == missing.status_code == 403
    def main(r):  # type: ignore[no-untyped-def]  # the page body (the CSRF token differs per response)
        html = r.content.decode()
        return html[html.index("<main"):html.index("</main>")].replace(str(r.request["PATH_INFO"]), "")

    assert main(existing) == main(missing) and "/account/two-factor/" in main(existing)


def test_next_day_file_updates_the_report(tmp_path: Path, client: Client, admin_user, load, loaded: Warehouse) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, admin_user)
    before = client.get("/elections/early-vote/").context["total"]["voted"]
    load("absentee", write_absentee(tmp_path / "absentee_20261009.csv", [
        ballot(3, ballot_req_type="ONE-STOP", ballot_req_dt="10/09/2026", ballot_send_dt="10/09/2026",
               ballot_rtn_dt="10/09/2026", ballot_rtn_status="ACCEPTED")]))
    load("voterfile", write_ncvoter(tmp_path / "ncvoter_20261009.txt", [voter(1), voter(2, age_at_year_end=23), voter(3)]))
    after = client.get("/elections/early-vote/").context
    assert after["total"]["voted"] == before + 1
    assert str(after["by_day"][-1]["day"]) == "2026-10-09"


def test_loads_page(client: Client, admin_user, loaded: Warehouse) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, admin_user)
    html = client.get("/elections/").content.decode()
    assert "ncvoter_20261001.txt" in html and "absentee_20261008.csv" in html
