"""A committee with survey questions and activist codes, persons in and out of its
scope, and helpers to upload a vendor result file and run its import job."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings

import unionhall.field.results_tasks  # noqa: F401  (registers field.import_results; field/tasks.py will)
from tests.access.factories import committee_tree, load_persons, user_with
from unionhall.field.models import ActivistCode, ContactUpload, SurveyQuestion, SurveyResponse
from unionhall.field.results_import import JOB_KIND, results_upload_create
from unionhall.jobs.models import Job
from unionhall.jobs.runner import job_run, job_submit
from unionhall.warehouse import Warehouse

# In Nurses United's scope: persons 1, 2 and 6 (its members); 3 and 4 are teachers,
# 5 and 7 registered voters only (tests/access/factories.py).
IN_SCOPE = (1, 2, 6)
NCIDS = {"AA100": 1, "AA300": 3}


def field_world(wh: Warehouse) -> dict[str, Any]:
    """The committee tree, an organizer of Nurses United, its question and codes, persons."""
    tree = committee_tree()
    nurses = tree["affiliate"]
    q = SurveyQuestion.objects.create(committee=nurses, code="support", text="Will you support the contract?")
    for order, (code, label) in enumerate([("Y", "Yes"), ("N", "No"), ("U", "Undecided")]):
        SurveyResponse.objects.create(question=q, code=code, label=label, order=order)
    q2 = SurveyQuestion.objects.create(committee=nurses, code="vote-plan", text="Do you have a plan to vote?")
    for order, (code, label) in enumerate([("1", "Early"), ("2", "Election day"), ("3", "By mail")]):
        SurveyResponse.objects.create(question=q2, code=code, label=label, order=order)
    for name in ("Volunteer", "Petition signer"):
        ActivistCode.objects.create(committee=nurses, name=name)
    load_persons(wh)
    cur = wh.cursor()
    for ncid, pid in NCIDS.items():
        cur.execute("INSERT INTO voter_person VALUES (?, ?)", [ncid, pid])
    organizer = user_with("organizer", nurses, "nurse-organizer")
    return {"tree": tree, "committee": nurses, "organizer": organizer}


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    out.write(",".join(header) + "\r\n")
    for r in rows:
        out.write(",".join(r) + "\r\n")
    return out.getvalue()


def upload(*, user: Any, committee: Any, data: bytes, name: str = "results.csv", vendor: str = "Acme Dialers",
           channel: str = "phone") -> ContactUpload:
    return results_upload_create(user=user, committee=committee, vendor=vendor, channel=channel, name=name,
                                 chunks=[data], data_dir=settings.UNIONHALL.data_dir)


def run_import(wh: Warehouse, up: ContactUpload, *, user: Any, mapping_json: str | None = None) -> Job:
    params: dict[str, Any] = {"upload_id": up.pk}
    if mapping_json is not None:
        params["mapping_json"] = mapping_json
    job = job_submit(kind=JOB_KIND, params=params, user=user)
    return job_run(job=job, warehouse=wh)


def quarantine_of(wh: Warehouse, upload_id: int) -> dict[int, tuple[str, str | None, str]]:
    """row number -> (code, column, reason), read straight from the warehouse."""
    rows = wh.cursor().execute(
        "SELECT row_number, code, column_name, reason FROM contact_quarantine WHERE upload_id = ? "
        "ORDER BY row_number", [upload_id]).fetchall()
    return {int(r[0]): (str(r[1]), r[2], str(r[3])) for r in rows}


def history_count(wh: Warehouse) -> int:
    row = wh.cursor().execute("SELECT count(*) FROM contact_history").fetchone()
    return int(row[0]) if row else 0


def clear_contact_tables(wh: Warehouse) -> None:
    """The session's warehouse outlives each test's app database: ids repeat."""
    cur = wh.cursor()
    for table in ("contact_history", "contact_response", "contact_quarantine", "voter_person"):
        cur.execute(f"DELETE FROM {table}")
