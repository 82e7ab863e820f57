from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token

from unionhall.jobs.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user():  # type: ignore[no-untyped-def]
    return get_user_model().objects.create_superuser("boss", "boss@example.org", "a-long-passw0rd!")


def test_pages_need_login(client: Client) -> None:
    for url in ["/", "/jobs/", "/jobs/1/"]:
        resp = client.get(url)
        assert resp.status_code == 302
        assert resp["Location"].startswith("/login/")


def test_login_then_home(client: Client, admin_user) -> None:  # type: ignore[no-untyped-def]
    resp = client.post("/login/", {"username": "boss", "password": "wrong"})
    assert resp.status_code == 200
    assert b"didn't match" in resp.content
    resp = client.post("/login/", {"username": "boss", "password": "a-long-passw0rd!"})
    assert resp.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert b"Recent jobs" in home.content
    assert b"htmx" in home.content


def test_passwords_are_hashed_with_argon2(admin_user) -> None:  # type: ignore[no-untyped-def]
    assert admin_user.password.startswith("argon2")


def test_job_page_polls_until_finished(client: Client, admin_user) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_user)
    running = Job.objects.create(kind="warehouse.migrate", status=Job.Status.RUNNING, progress=40, message="working")
    page = client.get(f"/jobs/{running.pk}/")
    assert page.status_code == 200
    assert b'hx-trigger="every 1s"' in page.content
    assert b"40%" in page.content
    failed = Job.objects.create(kind="warehouse.migrate", status=Job.Status.FAILED, error="the file was empty")
    part = client.get(f"/jobs/{failed.pk}/status")
    assert part.status_code == 200
    assert b"the file was empty" in part.content
    assert b"hx-trigger" not in part.content
    assert client.get("/jobs/99999/").status_code == 404


def test_other_users_jobs_are_not_found(client: Client, admin_user) -> None:  # type: ignore[no-untyped-def]
    staffless = get_user_model().objects.create_user("org", password="a-long-passw0rd!")
    job = Job.objects.create(kind="warehouse.migrate", created_by=admin_user)
    client.force_login(staffless)
    assert client.get(f"/jobs/{job.pk}/").status_code == 404


def test_healthz(client: Client) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "database": "ok", "warehouse": "ok"}


def test_api_schema_and_token_auth(client: Client, admin_user) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/jobs").status_code in (401, 403)
    token = Token.objects.create(user=admin_user)
    Job.objects.create(kind="warehouse.migrate", created_by=admin_user)
    resp = client.get("/api/jobs", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert resp.status_code == 200
    body = resp.json()
    assert body["count"] == 1
    assert body["results"][0]["kind"] == "warehouse.migrate"
    schema = client.get("/api/schema/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert schema.status_code == 200
    assert b"openapi" in schema.content
    assert b"/api/jobs" in schema.content
    root = client.get("/api/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert "schema" in root.json()


def test_admin_is_for_staff(client: Client, admin_user) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200
