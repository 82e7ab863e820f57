"""Browser fixtures: Debian's headless Chromium driven by Playwright, and logging in
through the real pages (password, then the 6-digit code of a TOTP device)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

CHROMIUM = Path("/usr/bin/chromium")
T = TypeVar("T")


def off_loop(fn: Callable[[], T]) -> T:
    """Run an ORM (or warehouse) call in a thread of its own: Playwright's sync API keeps
    an event loop running in the test's thread, where Django refuses the ORM."""

    def run() -> T:
        from django.db import connection

        try:
            return fn()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def until(ok: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait for `ok()` (say, a job's result in the database) to become true."""
    import time

    deadline = time.monotonic() + timeout
    while not ok():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


@pytest.fixture
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run the README's test command (it installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield b
        finally:
            b.close()


def totp_device(user: Any) -> Any:
    """A confirmed authenticator for `user` (made before Playwright starts: its sync API
    runs an event loop, where the ORM refuses to run)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def current_code(device: Any) -> str:
    """The 6 digits the user's app shows now (computed as the app does)."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def log_in(page: Any, base: str, username: str, password: str, device: Any, *, then: str = "/") -> None:
    """Log in through the login page, then answer the two-factor prompt that the first
    member-data page (`then`) asks for."""
    page.goto(f"{base}/login/?next={then}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    if "/account/two-factor/" not in page.url and page.locator("a[href^='/account/two-factor/']").count():
        page.click("a[href^='/account/two-factor/']")
    if "/account/two-factor/" in page.url:
        page.fill("#id_token", current_code(device))
        page.click("main button[type=submit]")  # not the menu's "Log out" button
        page.wait_for_load_state()
