"""The voter-file pages: upload, the ingest mapping screen with the voter schema, saved layouts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.access.factories import committee_tree, login_verified, user_with
from tests.elections.conftest import q
from tests.elections.vendor_factory import OHIO_HEADER, ohio_row
from unionhall.jobs.models import Job
from unionhall.jobs.runner import job_run
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db


def _csv(rows: list[dict[str, str]]) -> bytes:
    lines = [",".join(OHIO_HEADER)] + [",".join(r[h] for h in OHIO_HEADER) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture
def staff_client(client: Client) -> Client:
    """The state federation's data manager: voter files are theirs to load."""
    login_verified(client, user_with("data_manager", committee_tree()["state_federation"], "coord"))
    return client


@pytest.mark.parametrize(("role", "committee"), [("organizer", "state_federation"), ("data_manager", "affiliate"),
                                                 ("data_manager", "clc")])
def test_voter_file_pages_are_for_the_federation_data_team(client: Client, role: str, committee: str) -> None:
    assert client.get("/elections/voter-files/").status_code == 302  # log in first
    login_verified(client, user_with(role, committee_tree()[committee]))
    page = client.get("/elections/voter-files/")
    assert page.status_code == 403 and b"data managers and administrators of a state federation" in page.content


def test_upload_map_load_and_reuse_the_saved_layout(staff_client: Client, warehouse: Warehouse) -> None:
    page = staff_client.get("/elections/voter-files/")
    assert page.status_code == 200 and b"No layouts saved yet" in page.content
    bad = staff_client.post("/elections/voter-files/", {
        "state": "ZZ", "file": SimpleUploadedFile("oh.csv", _csv([ohio_row(1)]))})
    assert bad.status_code == 400 and b"is not a US state code" in bad.content

    resp = staff_client.post("/elections/voter-files/", {
        "state": "OH", "file": SimpleUploadedFile("oh_20261001.csv", _csv([ohio_row(1), ohio_row(2)]))})
    assert resp.status_code == 302
    page = staff_client.get(resp["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and "a OH voter file" in html
    # The ingest mapping screen, with the voter fields and no phone-type column.
    assert re.search(r'name="field_0"[^>]*>.*?<option value="registration_id"[^>]*selected', html, re.S)
    assert "ptype_0" not in html and 'name="layout_name"' in html

    fields = {f"field_{i}": r for i, r in enumerate(
        ["custom", "county", "last_name", "first_name", "middle_name", "suffix", "dob", "registration_date",
         "status", "party", "addr_line1", "addr_line2", "city", "state", "zip", "precinct_name", "precinct",
         "congressional_district", "state_house_district", "state_senate_district"])}
    refused = staff_client.post(resp["Location"], {**fields, "date_order": "MDY"})
    assert refused.status_code == 400 and b"registration id" in refused.content

    fields["field_0"] = "registration_id"
    done = staff_client.post(resp["Location"], {**fields, "date_order": "MDY", "layout_name": "Ohio SOS"})
    assert done.status_code == 302
    job = job_run(job=Job.objects.get(kind="elections.import_voterfile_vendor"), warehouse=warehouse)
    assert job.status == "succeeded", job.error
    assert (job.result["rows_read"], job.result["rows_loaded"], job.result["saved_layout"]) == (2, 2, "Ohio SOS")
    assert q(warehouse, "SELECT count(*) FROM voter WHERE ncid LIKE 'OH:%'") == [(2,)]

    page = staff_client.get("/elections/voter-files/")
    assert b"Ohio SOS" in page.content
    resp2 = staff_client.post("/elections/voter-files/", {
        "layout": "Ohio SOS", "file": SimpleUploadedFile("oh_20261008.csv", _csv([ohio_row(1)]))})
    assert resp2.status_code == 302
    html2 = staff_client.get(resp2["Location"]).content.decode()
    assert "Using the saved layout <strong>Ohio SOS</strong>" in html2


def test_person_page_works_for_another_states_voter(
    client: Client, admin_user, load, warehouse: Warehouse, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    from tests.access.factories import login_verified
    from tests.elections.nc_factory import polling, write_polling
    from tests.elections.vendor_factory import load_vendor, write_csv
    from unionhall.warehouse import core

    path = write_csv(tmp_path / "oh_20261001.csv", OHIO_HEADER,
                     [ohio_row(7, COUNTY_NUMBER="Franklin", FIRST_NAME="OLIVE", PRECINCT_NAME="Columbus 1-A")])
    load_vendor(warehouse, path, state="OH")
    load("polling", write_polling(tmp_path / "polling_place_20261103.csv", [
        polling("COLUMBUS 1-A", county_name="FRANKLIN", polling_place_name="FRANKLIN PARK CONSERVATORY",
                city="COLUMBUS", state="OH")]))
    pid = q(warehouse, "SELECT person_id FROM voter_person WHERE ncid = 'OH:OH0000000007'")[0][0]
    saved = core._current
    core._current = warehouse
    try:
        login_verified(client, admin_user)
        resp = client.get(f"/elections/people/{pid}/")
    finally:
        core._current = saved
    assert resp.status_code == 200
    html = resp.content.decode()
    for text in ("OLIVE", "ACTIVE", "FRANKLIN PARK CONSERVATORY", "COLUMBUS 1-A", "OH0000000007"):
        assert text in html, text
