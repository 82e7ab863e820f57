"""The import pages: upload, confirm the suggested mapping, history, quarantine + CSV."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from tests.access.factories import committee_tree, login_verified, user_with

from unionhall.ingest.models import ImportRun, Upload
from unionhall.jobs.models import Job
from unionhall.jobs.runner import job_run

pytestmark = pytest.mark.django_db

CSV = (
    "Member #,Last,First,Street,City,ST,Zip,Cell,E-mail,Birth Date\r\n"
    "7,Diaz,Ana,12 Main St,Raleigh,NC,27601,919-555-0101,ana@example.org,03/04/1980\r\n"
    "8,Lee,Bo,400 Oak Ave,Durham,NC,27701,919-555-0102,bo@example.org,12/01/1975\r\n"
    "9,=HYPERLINK(\"http://x\"),,1 Evil Rd,Cary,NC,27511,,,\r\n"
    "Member #,Last,First,Street,City,ST,Zip,Cell,E-mail,Birth Date\r\n"
    "=cmd|' /C calc'!A0,,,2 Evil Rd,Cary,NC,27511,,,\r\n"
)


@pytest.fixture
def staff_client(client: Client) -> Client:
    """The national office's data coordinator: loads every affiliate's list."""
    login_verified(client, user_with("data_manager", committee_tree()["national"], "coord"))
    return client


def test_import_pages_are_for_data_managers(client: Client) -> None:
    for url in ["/imports/", "/imports/upload/"]:
        assert client.get(url).status_code == 302  # log in first
    tree = committee_tree()
    login_verified(client, user_with("organizer", tree["affiliate"]))
    for url in ["/imports/", "/imports/upload/"]:
        assert client.get(url).status_code == 403


def test_an_affiliate_data_manager_loads_only_its_own_list(client: Client) -> None:
    tree = committee_tree()  # the affiliate's source is "nurses"
    login_verified(client, user_with("data_manager", tree["affiliate"]))
    refused = client.post("/imports/upload/", {"affiliate": "Teachers Assn",
                                               "file": SimpleUploadedFile("t.csv", CSV.encode())})
    assert refused.status_code == 400 and b"You load member lists for nurses only" in refused.content
    assert not Upload.objects.exists()
    ok = client.post("/imports/upload/", {"affiliate": "Nurses", "file": SimpleUploadedFile("n.csv", CSV.encode())})
    assert ok.status_code == 302 and Upload.objects.get().source_name == "Nurses"


def test_upload_map_import_and_browse_quarantine(staff_client: Client, warehouse) -> None:  # type: ignore[no-untyped-def]
    resp = staff_client.post(
        "/imports/upload/",
        {"affiliate": "Carolina Nurses", "file": SimpleUploadedFile("nurses.csv", CSV.encode())},
    )
    assert resp.status_code == 302
    upload = Upload.objects.get()
    page = staff_client.get(resp["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    # the suggestion is shown for confirmation, e.g. E-mail -> email, Cell -> phone/cell
    assert re.search(r'name="field_8"[^>]*>.*?<option value="email"[^>]*selected', html, re.S)
    assert re.search(r'name="ptype_7"[^>]*>.*?<option value="cell" selected', html, re.S)

    fields = {f"field_{i}": f for i, f in enumerate(
        ["member_id", "last_name", "first_name", "addr_line1", "city", "state", "zip", "phone", "email", "dob"])}
    resp = staff_client.post(resp["Location"], {**fields, "ptype_7": "cell", "date_order": "MDY", "mode": "snapshot"})
    assert resp.status_code == 302
    job = Job.objects.get(kind="ingest.import_members")
    assert resp["Location"] == f"/jobs/{job.pk}/"
    upload.refresh_from_db()
    assert upload.job_id == job.pk
    job = job_run(job=job, warehouse=warehouse)
    assert job.status == "succeeded", job.error
    run = ImportRun.objects.get()
    assert (run.rows_read, run.rows_loaded, run.rows_quarantined) == (5, 3, 2)

    history = staff_client.get("/imports/")
    assert b"Carolina Nurses" in history.content and b"nurses.csv" in history.content
    detail = staff_client.get(f"/imports/{run.pk}/")
    assert b"5 read = 3 loaded + 2 quarantined" in detail.content


def test_quarantine_csv_is_formula_safe(staff_client: Client, warehouse, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import unionhall.access.gateway as gateway

    monkeypatch.setattr(gateway, "get_warehouse", lambda: warehouse)
    staff_client.post("/imports/upload/", {"affiliate": "Nurses", "file": SimpleUploadedFile("n.csv", CSV.encode())})
    upload = Upload.objects.get()
    staff_client.post(f"/imports/map/{upload.token}/", {
        **{f"field_{i}": f for i, f in enumerate(
            ["member_id", "last_name", "first_name", "addr_line1", "city", "state", "zip", "phone", "email", "dob"])},
        "mode": "snapshot"})
    job_run(job=Job.objects.get(), warehouse=warehouse)
    run = ImportRun.objects.get()
    page = staff_client.get(f"/imports/{run.pk}/quarantine/")
    assert page.status_code == 200
    assert b"repeated header" in page.content.lower() or b"header" in page.content
    resp = staff_client.get(f"/imports/{run.pk}/quarantine/?download=csv")
    assert resp["Content-Type"].startswith("text/csv")
    text = b"".join(resp.streaming_content).decode()  # type: ignore[attr-defined]
    lines = list(io.StringIO(text))
    assert lines[0].strip() == "row,code,reason,raw"
    assert len(lines) == 1 + run.rows_quarantined
    # the raw text of the nameless row starts with a formula: written as text, not a formula
    assert "'=cmd|" in text
    assert ",=" not in text and '"=' not in text
