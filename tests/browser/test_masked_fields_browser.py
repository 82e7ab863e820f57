"""Masked fields never reach the browser (issue 15): a state federation organizer,
whose agreement with the nurses shares names and addresses only, opens a nurse's
election person page in real Chromium; the phone numbers (member and registration)
are in neither the rendered text nor the HTML, nor in the JSON or CSV the same session
can fetch — while the name and address the agreement shares are there."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.access import world
from tests.access.factories import committee_tree, user_with
from tests.browser.conftest import log_in, totp_device
from tests.conftest import ARTIFACTS
from unionhall.warehouse import Warehouse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def organizer(process_warehouse: Warehouse) -> Iterator[dict[str, Any]]:
    world.clear_world(process_warehouse)
    world.load_world(process_warehouse)
    user = user_with("organizer", committee_tree()["state_federation"], "fed-organizer")
    yield {"user": user, "device": totp_device(user)}
    world.clear_world(process_warehouse)


def test_election_person_page_never_carries_masked_fields(live_server: Any, organizer: dict[str, Any],
                                                          browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    log_in(page, live_server.url, "fed-organizer", "a-long-passw0rd!", organizer["device"], then="/elections/people/1/")
    page.goto(f"{live_server.url}/elections/people/1/")
    page.wait_for_selector("h1")
    assert page.title().lower().startswith(world.first(1))
    text = page.inner_text("body").lower()
    html = page.content().lower()
    masked = [world.phone(1)[2:], world.voter_phone(1)[2:], str(world.email(1)), world.dob(1).isoformat(),
              world.relative(1)]
    for body in (text, html):
        assert world.first(1) in body and "qz1 st" in body  # shared: name and address
        for value in masked:
            assert value.lower() not in body, value
    assert "phone on file" in text  # the field is there, empty
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "election-person-masked.png"), full_page=True)

    # The same session's JSON and CSV doors.
    api = page.request.get(f"{live_server.url}/api/people/1")
    assert api.status == 200 and api.json()["first_name"] == world.first(1) and api.json()["phone"] is None
    csv_text = page.request.get(f"{live_server.url}/people/?download=csv").text().lower()
    for value in masked:
        assert value.lower() not in api.text().lower() and value.lower() not in csv_text
