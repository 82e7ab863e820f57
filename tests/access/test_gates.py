"""An expired account, an unaccepted agreement version, or missing 2FA blocks all
member data with a clear message and a way forward."""

from __future__ import annotations

import base64
import datetime as dt
import re
import time

import pytest
from django.test import Client
from django.utils import timezone

from tests.access.factories import committee_tree, load_persons, login_verified, user_with
from unionhall.access.gateway import person_base
from unionhall.access.models import AgreementText, ApprovedUser
from unionhall.errors import ScopeError

pytestmark = pytest.mark.django_db


@pytest.fixture
def organizer(process_warehouse):  # type: ignore[no-untyped-def]
    load_persons(process_warehouse)
    return user_with("organizer", committee_tree()["affiliate"])


def test_missing_two_factor_blocks_then_setup_unblocks(client: Client, organizer) -> None:  # type: ignore[no-untyped-def]
    from django_otp.oath import totp

    client.force_login(organizer)  # password only
    resp = client.get("/api/people")
    assert resp.status_code == 403
    assert "two-factor" in resp.json()["detail"] and "/account/two-factor/" in resp.json()["detail"]
    blocked_page = client.get("/people/?last_name=d")
    assert blocked_page.status_code == 403
    assert b"Member data needs two-factor authentication." in blocked_page.content
    assert b'href="/account/two-factor/?next=' in blocked_page.content
    page = client.get("/account/two-factor/?next=/api/people")
    assert page.status_code == 200 and b"<svg" in page.content  # the QR code to scan
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=organizer)
    bad = client.post("/account/two-factor/", {"token": "000000", "next": "/api/people"})
    assert bad.status_code == 400 and b"not right" in bad.content
    time.sleep(1.1)  # django-otp throttles the next try after a wrong code (1 s, then doubling)
    # The key for typing into an app by hand is the one the QR code carries, in base32.
    shown = re.search(rb"Enter this key by hand: <code>([A-Z2-7 ]+)</code>", page.content)
    assert shown is not None
    typed = base64.b32decode(shown.group(1).replace(b" ", b"") + b"=" * (-len(shown.group(1).replace(b" ", b"")) % 8))
    assert typed == device.bin_key
    good = client.post("/account/two-factor/", {"token": f"{totp(typed):06d}", "next": "/api/people"})
    assert good.status_code == 302 and good["Location"] == "/api/people"
    assert client.get("/api/people").json()["count"] == 3


def test_unaccepted_agreement_version_blocks_until_accepted(client: Client, organizer) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, organizer)
    assert client.get("/api/people").status_code == 200
    AgreementText.objects.create(version=2, text="Member data is used only for the labor movement.")
    blocked = client.get("/api/people")
    assert blocked.status_code == 403
    assert "version 2" in blocked.json()["detail"] and "/account/agreement/" in blocked.json()["detail"]
    with pytest.raises(ScopeError, match="version 2"):
        person_base(user=organizer)
    page = client.get("/account/agreement/")
    assert b"labor movement" in page.content
    client.post("/account/agreement/", {"accept": "2", "next": "/"})
    assert client.get("/api/people").status_code == 200
    AgreementText.objects.create(version=3, text="Changed text.")  # re-acceptance when the text changes
    assert client.get("/api/people").status_code == 403


def test_expired_or_deactivated_account_is_blocked_everywhere(client: Client, organizer) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, organizer)
    approval = ApprovedUser.objects.create(user=organizer, expires_on=timezone.localdate() - dt.timedelta(days=1))
    resp = client.get("/api/people")
    assert resp.status_code == 403 and "expired" in resp.json()["detail"] and "renew" in resp.json()["detail"]
    with pytest.raises(ScopeError, match="expired"):
        person_base(user=organizer)
    approval.expires_on = None
    approval.deactivated_at = timezone.now()
    approval.save()
    assert "deactivated" in client.get("/api/people/1").json()["detail"]


def test_lockout_after_repeated_failed_logins(client: Client, organizer) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        client.post("/login/", {"username": organizer.username, "password": "wrong"})
    locked = client.post("/login/", {"username": organizer.username, "password": "a-long-passw0rd!"})
    assert locked.status_code == 429
    assert b"locked" in locked.content
    from unionhall.access.models import UsageEvent

    assert UsageEvent.objects.filter(action="login_failed", username=organizer.username).count() >= 5


def test_security_headers(client: Client) -> None:
    resp = client.get("/login/")
    assert "default-src 'self'" in resp["Content-Security-Policy"]
    assert resp["X-Frame-Options"] == "DENY"
    assert resp["X-Content-Type-Options"] == "nosniff"
    secure = client.get("/login/", secure=True)
    assert "max-age=31536000" in secure["Strict-Transport-Security"]
    assert "Strict-Transport-Security" not in resp
