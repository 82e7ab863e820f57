"""A real browser: Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_user():  # type: ignore[no-untyped-def]
    # Made before Playwright starts: its sync API runs an event loop, where the ORM refuses.
    return get_user_model().objects.create_superuser("browser", "b@example.org", "a-long-passw0rd!")


@pytest.fixture
def page(browser_user, browser):  # type: ignore[no-untyped-def]
    return browser.new_page(viewport={"width": 1200, "height": 800})


def test_log_in_and_screenshot(live_server, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
    page.fill("#id_username", "browser")
    page.fill("#id_password", "a-long-passw0rd!")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Recent jobs")
    assert page.url == f"{live_server.url}/"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "home-desktop.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5000
    # the same page on a phone-sized screen keeps its menu reachable
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "home-phone.png"), full_page=True)
    assert page.is_visible("label.nav-burger")
