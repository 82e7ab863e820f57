"""The demo's exports: the CLC's mail house and two requests of its GOTV list.

A vendor ("Piedmont Mail House", for the demo's first central labor council, with the
demo's `vendor-clc` user), one export asked for by `organizer-clc` and approved and
written by `datamanager-clc` (so the vendor has a delivery and the trace page has a
file to find), and one waiting for the data manager's decision. Idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model

from unionhall.exports.fields import DEFAULT_FIELDS
from unionhall.exports.models import ExportRequest, Vendor
from unionhall.field.demo import LIST_NAME
from unionhall.field.models import SavedList

VENDOR = "Piedmont Mail House"


def demo_exports_ensure(*, say: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    from unionhall.exports import services
    from unionhall.jobs.runner import job_run

    users = {u.username: u for u in get_user_model().objects.filter(
        username__in=["organizer-clc", "datamanager-clc", "vendor-clc"])}
    saved = SavedList.objects.select_related("committee").filter(name=LIST_NAME).first()
    if saved is None or len(users) < 3:
        return {}
    vendor, _ = Vendor.objects.get_or_create(name=VENDOR, committee=saved.committee,
                                             defaults={"contact_email": "jobs@piedmont-mail.example.org"})
    vendor.users.add(users["vendor-clc"])
    if ExportRequest.objects.filter(saved_list=saved).exists():
        return {"vendor": vendor.pk}
    organizer, manager = users["organizer-clc"], users["datamanager-clc"]
    er = services.export_request_create(user=organizer, saved_list=saved, fields=DEFAULT_FIELDS, fmt="csv",
                                        purpose="GOTV mail piece: early-vote reminder, one drop", vendor=vendor)
    er = services.export_request_decide(user=manager, er=er, approve=True, note="OK for the early-vote drop")
    assert er.job is not None
    job = job_run(job=er.job)
    if job.status != "succeeded":
        raise RuntimeError(f"demo export failed: {job.error}")
    waiting = services.export_request_create(
        user=organizer, saved_list=saved, fields=[*DEFAULT_FIELDS, "email"], fmt="xlsx", vendor=None,
        purpose="Volunteer recruitment calls from the hall, second week of early vote")
    say(f"exports: {er.reference} written for {vendor.name} ({job.result['persons']:,} people, "
        f"{job.result['seeds']} seed records); {waiting.reference} waits for datamanager-clc")
    return {"vendor": vendor.pk, "written": er.pk, "waiting": waiting.pk}
