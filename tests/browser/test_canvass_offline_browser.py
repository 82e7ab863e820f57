"""The canvass page on a phone with a bad connection (issue 11), in real Chromium.

A canvasser on a 390x844 screen records a result at door 1, loses the connection,
records doors 2 and 3 (they wait on the phone), gets it back, and the first answer of
the server is lost on the way (the server stored the batch, the phone never heard):
the phone sends again and the server counts each result once. A reload that resends
the whole queue once more changes nothing. The app database holds exactly 3 results.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import log_in, off_loop, totp_device
from tests.conftest import ARTIFACTS
from tests.field.test_canvass import build_field, clear_field
from unionhall.warehouse import Warehouse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def results() -> list[tuple[int, str]]:
    from unionhall.field.models import ContactResult

    return sorted(ContactResult.objects.values_list("person_id", "result_code__code"))


@pytest.fixture
def turf(process_warehouse: Warehouse) -> Iterator[dict[str, Any]]:
    clear_field(process_warehouse)
    f = build_field(process_warehouse)
    yield {"id": f["turf"].pk, "device": totp_device(f["canvasser"]), "list": f["calls"].pk,
           "caller_device": totp_device(f["caller"])}
    clear_field(process_warehouse)


def status(page: Any) -> str:
    return str(page.inner_text("#cv-status"))


def test_results_survive_a_lost_connection_and_a_lost_answer(live_server: Any, turf: dict[str, Any],
                                                             browser: Any) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    url = f"{live_server.url}/field/canvass/{turf['id']}/"
    log_in(page, live_server.url, "walker", "a-long-passw0rd!", turf["device"], then=url)
    page.goto(url)
    page.wait_for_selector("#cv-address:has-text('10 ELM ST')")
    assert page.inner_text("#cv-progress") == "0 of 3 doors done"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "canvass-phone.png"))  # what the phone shows
    page.screenshot(path=str(ARTIFACTS / "canvass-phone-full.png"), full_page=True)

    # Nothing wider than the phone, and every button big enough for a thumb.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    small = page.evaluate("""() => [...document.querySelectorAll('#canvass button, #canvass a')]
        .filter(b => b.offsetParent !== null && b.getBoundingClientRect().height < 44)
        .map(b => b.textContent.trim())""")
    assert small == []

    # Door 1 (two people): Ana answers the script; Bo is not there, so on to the next door.
    page.click("#cv-people button:has-text('Ana Diaz')")
    page.click("#cv-questions button:has-text('Yes')")
    page.click("#cv-codes button:has-text('Will volunteer')")
    assert page.get_attribute("#cv-questions button:has-text('Yes')", "aria-pressed") == "true"
    page.locator("#cv-canvassed").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "canvass-phone-script.png"))
    page.click("#cv-canvassed")
    page.wait_for_selector("#cv-result-for:has-text('Bo Diaz')")  # still at door 1, for Bo
    page.wait_for_selector("#cv-status:has-text('all sent')")
    assert off_loop(results) == [(101, "CV")]
    page.click("#cv-skip")
    page.wait_for_selector("#cv-address:has-text('12 ELM ST')")

    # Doors 2 and 3 without a connection: kept on the phone.
    page.context.set_offline(True)
    page.click("#cv-results button[data-code=RF]")
    page.wait_for_selector("#cv-address:has-text('14 ELM ST')")
    page.click("#cv-nobody-home")
    page.wait_for_selector("#cv-finished:not([hidden])")
    assert "2 results waiting to send" in status(page)
    assert page.inner_text("#cv-progress") == "3 of 3 doors done"
    page.screenshot(path=str(ARTIFACTS / "canvass-phone-offline.png"), full_page=True)
    queued = page.evaluate("""() => Object.keys(localStorage).filter(k => k.endsWith('.queue'))
        .map(k => [k, localStorage.getItem(k)])""")
    assert len(queued) == 1
    assert off_loop(results) == [(101, "CV")]

    # Back online; the server's first answer is lost on the way back to the phone.
    posts: list[int] = []

    def lose_first_answer(route: Any) -> None:
        posts.append(len(posts) + 1)
        if len(posts) == 1:
            route.fetch()  # the server gets the batch and stores it...
            route.abort("connectionreset")  # ...and the phone never hears so
        else:
            route.continue_()

    page.route("**/field/api/results", lose_first_answer)
    page.context.set_offline(False)
    page.wait_for_selector("#cv-status:has-text('all sent')", timeout=30_000)
    assert len(posts) >= 2
    assert off_loop(results) == [(101, "CV"), (103, "RF"), (104, "NH")]

    # A phone that reloads with the whole queue still on it sends it again: all duplicates.
    page.unroute("**/field/api/results")
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", queued[0])
    page.reload()
    page.wait_for_selector("#cv-finished:not([hidden])")
    page.wait_for_selector("#cv-status:has-text('all sent')", timeout=30_000)
    assert off_loop(results) == [(101, "CV"), (103, "RF"), (104, "NH")]
    page.screenshot(path=str(ARTIFACTS / "canvass-phone-finished.png"), full_page=True)

    # The door list shows each door and what happened there.
    page.click("#cv-toggle-list")
    doors = page.inner_text("#cv-doors")
    assert "Ana Diaz (CV)" in doors and "Cy Ng (RF)" in doors and "Di Ray (NH)" in doors
    page.screenshot(path=str(ARTIFACTS / "canvass-phone-doors.png"), full_page=True)
    page.click("#cv-doors button:has-text('12 ELM ST')")
    page.wait_for_selector("#cv-address:has-text('12 ELM ST')")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # My turfs counts the doors done.
    page.goto(f"{live_server.url}/field/canvass/")
    assert "3 of 3 doors done" in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "canvass-turfs-phone.png"))


def test_phone_bank_on_a_phone(live_server: Any, turf: dict[str, Any], browser: Any) -> None:
    """The phone-bank page is a plain form; it still has to fit a phone."""
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    url = f"{live_server.url}/field/lists/{turf['list']}/call/"
    log_in(page, live_server.url, "nurses-organizer", "a-long-passw0rd!", turf["caller_device"], then=url)
    page.goto(url)
    assert page.get_attribute("a.cv-call", "href") == "tel:+19195550101"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.click("label.cv-radio:has-text('Yes')")
    page.screenshot(path=str(ARTIFACTS / "phone-bank-phone.png"), full_page=True)
    page.click("button[value=CV]")
    page.wait_for_selector("text=Recorded Canvassed (talked to the person) for Ana Diaz.")
    assert "Cy Ng" in page.inner_text("#cv-callee")
    assert off_loop(results) == [(101, "CV")]


def test_a_refused_result_is_shown_and_its_door_opens_again(live_server: Any, turf: dict[str, Any],
                                                            process_warehouse: Warehouse, browser: Any) -> None:
    """The organizer moved a door to another turf after the phone loaded its copy: the
    result tapped there is refused, the canvasser sees why, and nothing is resent."""
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    url = f"{live_server.url}/field/canvass/{turf['id']}/"
    log_in(page, live_server.url, "walker", "a-long-passw0rd!", turf["device"], then=url)
    page.goto(url)
    page.wait_for_selector("#cv-address:has-text('10 ELM ST')")
    process_warehouse.cursor().execute("UPDATE turf_person SET turf_no = 2 WHERE person_id = 104")
    page.click("#cv-toggle-list")
    page.click("#cv-doors button:has-text('14 ELM ST')")
    page.click("#cv-nobody-home")
    page.wait_for_selector("#cv-errors li")
    assert "Di Ray, 14 ELM ST — Not Home: not recorded, person 104 is not on your turf" in page.inner_text(
        "#cv-errors")
    assert status(page) == "all sent" and page.inner_text("#cv-progress") == "0 of 3 doors done"
    page.screenshot(path=str(ARTIFACTS / "canvass-phone-refused.png"))
    page.click("#cv-errors button:has-text('OK')")
    assert page.is_hidden("#cv-errors")
    assert off_loop(results) == []
