"""Output requests over the small synthetic state (tests/field/state.py): asked for,
approved by someone else, written by the job, downloaded before the link expires,
every step audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.access.factories import login_verified, user_with
from unionhall.access.models import AuditEvent, UsageEvent
from unionhall.errors import UserError
from unionhall.exports import services
from unionhall.exports.models import ExportRequest, Vendor
from unionhall.exports.seeds import seed_count
from unionhall.field import services as field_services
from unionhall.field.lists import ListDefinition
from unionhall.jobs.runner import job_run
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db
FIELDS = ["first_name", "last_name", "addr_line1", "addr_line2", "city", "state", "zip5", "phone", "age", "party"]


def _one(wh: Warehouse, sql: str, params: list[Any] | None = None) -> Any:
    row = wh.cursor().execute(sql, params or []).fetchone()
    return row[0] if row else None


def people(tree: dict[str, Any]) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:5]
    return {"organizer": user_with("organizer", tree["clc"], f"org-{tag}"),
            "dm": user_with("data_manager", tree["clc"], f"dm-{tag}"),
            "fed_dm": user_with("data_manager", tree["state_federation"], f"fed-{tag}"),
            "other_dm": user_with("data_manager", tree["affiliate"], f"aff-{tag}")}


def county_list(wh: Warehouse, tree: dict[str, Any], user: Any, name: str = "County") -> Any:
    return field_services.saved_list_create(user=user, name=name, committee=tree["clc"], warehouse=wh,
                                            definition=ListDefinition(counties=(tree["counties"][0],)))


def approved_export(wh: Warehouse, saved: Any, requester: Any, approver: Any, *, fmt: str = "csv",
                    fields: list[str] | None = None, vendor: Vendor | None = None) -> ExportRequest:
    er = services.export_request_create(user=requester, saved_list=saved, fields=fields or FIELDS, fmt=fmt,
                                        purpose="Mail piece for the county GOTV program", vendor=vendor)
    er = services.export_request_decide(user=approver, er=er, approve=True)
    assert er.job is not None
    job = job_run(job=er.job, warehouse=wh)
    assert job.status == "succeeded", job.error
    er.refresh_from_db()
    assert er.status == ExportRequest.Status.READY
    return er


def read_csv(path: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_bad_requests_say_what_to_do(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    p = people(tree)
    saved = county_list(field_wh, tree, p["organizer"])
    ask = {"user": p["organizer"], "saved_list": saved, "fields": FIELDS, "fmt": "csv",
           "purpose": "Phone bank for the county", "vendor": None}
    with pytest.raises(UserError, match="unknown export field.*'ssn'"):
        services.export_request_create(**{**ask, "fields": ["first_name", "ssn"]})
    with pytest.raises(UserError, match="unknown format 'pdf'"):
        services.export_request_create(**{**ask, "fmt": "pdf"})
    with pytest.raises(UserError, match="say what the file is for"):
        services.export_request_create(**{**ask, "purpose": "x"})
    with pytest.raises(UserError, match="last day must be between today"):
        services.export_request_create(**ask, expires_on=timezone.localdate() + dt.timedelta(days=400))
    with pytest.raises(UserError, match="cannot see the list"):
        services.export_request_create(**{**ask, "user": p["other_dm"]})
    elsewhere = Vendor.objects.create(name=f"Affiliate's mail house {uuid.uuid4().hex[:4]}",
                                      committee=tree["affiliate"])
    with pytest.raises(UserError, match="not an active vendor of"):
        services.export_request_create(**{**ask, "vendor": elsewhere})
    assert not ExportRequest.objects.filter(saved_list=saved).exists()


def test_requester_cannot_approve_their_own_request_and_outsiders_cannot_either(
        field_wh: Warehouse, tree: dict[str, Any]) -> None:
    p = people(tree)
    saved = county_list(field_wh, tree, p["dm"])
    er = services.export_request_create(user=p["dm"], saved_list=saved, fields=FIELDS, fmt="csv",
                                        purpose="Mail piece for the county GOTV program", vendor=None)
    # A data manager of the committee asking: still not theirs to approve.
    assert services.may_decide(p["dm"], er) is False
    with pytest.raises(UserError, match="someone else must approve"):
        services.export_request_decide(user=p["dm"], er=er, approve=True)
    with pytest.raises(UserError, match="for its data managers and administrators"):
        services.export_request_decide(user=p["other_dm"], er=er, approve=True)
    with pytest.raises(UserError, match="for its data managers and administrators"):
        services.export_request_decide(user=p["organizer"], er=er, approve=True)
    er.refresh_from_db()
    assert er.status == ExportRequest.Status.PENDING and er.job is None
    # The web page refuses too, and shows no approve button to the requester.
    c = Client()
    login_verified(c, p["dm"])
    page = c.get(f"/exports/{er.pk}/")
    assert page.status_code == 200 and b'value="approve"' not in page.content and b'value="cancel"' in page.content
    assert c.post(f"/exports/{er.pk}/decide", {"decision": "approve"}).status_code == 400
    er.refresh_from_db()
    assert er.status == ExportRequest.Status.PENDING
    # A data manager of the federation above approves it.
    done = services.export_request_decide(user=p["fed_dm"], er=er, approve=True)
    assert done.status == ExportRequest.Status.APPROVED and done.decided_by == p["fed_dm"]
    actions = list(AuditEvent.objects.filter(detail__export=er.pk).order_by("at", "id").values_list("action", flat=True))
    assert actions == ["export_request", "export_approve"]


def test_every_export_is_in_the_audit_log_with_its_persons(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    p = people(tree)
    saved = county_list(field_wh, tree, p["organizer"])
    er = approved_export(field_wh, saved, p["organizer"], p["dm"])
    path = services.export_dir(er) / er.file_name
    rows = read_csv(path)
    # The file: the list's persons (as the requester sees them) and the seeds, nothing else.
    in_list = _one(field_wh, "SELECT count(*) FROM list_person WHERE list_id = ? AND version = ?",
                   [saved.pk, er.list_version])
    assert er.persons == in_list == saved.people
    assert er.seeds == seed_count(er.persons) and len(rows) == er.persons + er.seeds
    assert list(rows[0]) == ["uh_key", *FIELDS]
    # Every key in the file is a person of the export or one of its seeds, each once.
    keys = [r["uh_key"] for r in rows]
    assert len(set(keys)) == len(keys)
    stored = {k for (k,) in field_wh.cursor().execute(
        "SELECT export_key FROM export_person WHERE export_id = ?", [er.pk]).fetchall()}
    seeds = {k for (k,) in field_wh.cursor().execute(
        "SELECT export_key FROM export_seed WHERE export_id = ?", [er.pk]).fetchall()}
    assert set(keys) == stored | seeds and not stored & seeds and len(seeds) == er.seeds
    assert _one(field_wh, "SELECT count(*) FROM export_person e JOIN list_person l USING (person_id) WHERE "
                          "e.export_id = ? AND l.list_id = ? AND l.version = ?",
                [er.pk, saved.pk, er.list_version]) == er.persons
    # The audit trail names the persons; the usage log counts them for the requester.
    ready = AuditEvent.objects.get(action="export_ready", detail__export=er.pk)
    assert ready.detail["persons"] == er.persons and ready.detail["sha256"] == er.file_sha256
    assert ready.subject == p["organizer"] and ready.actor == p["dm"]
    usage = UsageEvent.objects.get(action="export", detail__export=er.pk)
    assert usage.user == p["organizer"] and usage.persons == er.persons
    assert usage.detail["kind"] == "export request"


def test_seeds_are_nobody_and_look_like_the_list(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    p = people(tree)
    saved = county_list(field_wh, tree, p["organizer"])
    er = approved_export(field_wh, saved, p["organizer"], p["dm"], fields=[*FIELDS, "email", "voter_reg_num"])
    rows = {r["uh_key"]: r for r in read_csv(services.export_dir(er) / er.file_name)}
    seeds = field_wh.cursor().execute("SELECT export_key, first_name, last_name, addr_line1, zip5 FROM export_seed "
                                      "WHERE export_id = ?", [er.pk]).fetchall()
    real_cities = {r["city"].upper() for k, r in rows.items() if k not in {s[0] for s in seeds}}
    for key, first, last, addr, zip5 in seeds:
        row = rows[key]
        assert (row["first_name"], row["last_name"]) == (first, last)
        assert _one(field_wh, "SELECT count(*) FROM person WHERE upper(first_name) = upper(?) AND "
                              "upper(last_name) = upper(?)", [first, last]) == 0
        assert _one(field_wh, "SELECT count(*) FROM person WHERE upper(addr_line1) = upper(?) AND zip5 = ?",
                    [addr, zip5]) == 0
        if row["voter_reg_num"]:
            assert _one(field_wh, "SELECT count(*) FROM person WHERE voter_reg_num = ?", [row["voter_reg_num"]]) == 0
        assert row["city"].upper() in real_cities and row["state"] == "NC"
        assert row["email"].endswith("@example.net")
        assert row["phone"] == "" or "55501" in row["phone"].replace("-", "").replace(".", "").replace(" ", "")


def test_download_expired_link_refused_and_vendor_sees_only_its_exports(
        field_wh: Warehouse, tree: dict[str, Any]) -> None:
    p = people(tree)
    tag = uuid.uuid4().hex[:4]
    ours = Vendor.objects.create(name=f"Carolina Mail {tag}", committee=tree["state_federation"])
    theirs = Vendor.objects.create(name=f"Other Dialer {tag}")
    ours_user = user_with("vendor", tree["clc"], f"mailhouse-{tag}")
    theirs_user = user_with("vendor", tree["clc"], f"dialer-{tag}")
    ours.users.add(ours_user)
    theirs.users.add(theirs_user)
    saved = county_list(field_wh, tree, p["organizer"])
    mine = approved_export(field_wh, saved, p["organizer"], p["dm"], vendor=ours)
    other = approved_export(field_wh, saved, p["organizer"], p["dm"], vendor=theirs, fmt="xlsx")

    c = Client()
    login_verified(c, ours_user)
    page = c.get("/exports/deliveries/")
    assert page.status_code == 200
    assert mine.reference.encode() in page.content and other.reference.encode() not in page.content
    got = c.get(f"/exports/{mine.pk}/download")
    assert got.status_code == 200
    body = b"".join(got.streaming_content)  # type: ignore[attr-defined]
    assert body.startswith(b"uh_key,") and body.count(b"\n") == mine.persons + mine.seeds + 1
    assert c.get(f"/exports/{other.pk}/download").status_code == 403
    assert c.get(f"/exports/{other.pk}/").status_code == 404  # not even its page
    assert AuditEvent.objects.filter(action="export_download", actor=ours_user, detail__export=mine.pk).count() == 1
    assert AuditEvent.objects.filter(action="export_refused", actor=ours_user, detail__export=other.pk).count() == 1

    # The link's last day passes: refused with 410, and the refusal is audited.
    ExportRequest.objects.filter(pk=mine.pk).update(expires_on=timezone.localdate() - dt.timedelta(days=1))
    late = c.get(f"/exports/{mine.pk}/download")
    assert late.status_code == 410 and b"expired" in late.content
    assert AuditEvent.objects.filter(action="export_refused", actor=ours_user, detail__export=mine.pk).count() == 1
    assert mine.reference.encode() not in c.get("/exports/deliveries/").content
    # An organizer of the committee who did not ask is refused too.
    c2 = Client()
    colleague = user_with("organizer", tree["clc"], f"colleague-{tag}")
    login_verified(c2, colleague)
    assert c2.get(f"/exports/{other.pk}/download").status_code == 403


def test_export_of_a_list_refreshed_away_fails_and_leaves_nothing(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    p = people(tree)
    saved = county_list(field_wh, tree, p["organizer"])
    er = services.export_request_create(user=p["organizer"], saved_list=saved, fields=FIELDS, fmt="csv",
                                        purpose="Mail piece for the county GOTV program", vendor=None)
    er = services.export_request_decide(user=p["dm"], er=er, approve=True)
    field_wh.cursor().execute("DELETE FROM list_person WHERE list_id = ?", [saved.pk])
    assert er.job is not None
    job = job_run(job=er.job, warehouse=field_wh)
    assert job.status == "failed" and "ask again" in job.error
    er.refresh_from_db()
    assert er.status == ExportRequest.Status.APPROVED and not er.file_name
    assert _one(field_wh, "SELECT count(*) FROM export_person WHERE export_id = ?", [er.pk]) == 0
    assert not AuditEvent.objects.filter(action="export_ready", detail__export=er.pk).exists()


def test_a_refresh_keeps_the_version_an_export_waits_for(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    p = people(tree)
    saved = county_list(field_wh, tree, p["organizer"])
    asked = _one(field_wh, "SELECT count(*) FROM list_person WHERE list_id = ? AND version = 1", [saved.pk])
    er = services.export_request_create(user=p["organizer"], saved_list=saved, fields=FIELDS, fmt="csv",
                                        purpose="Mail piece for the county GOTV program", vendor=None)
    for _ in range(2):  # two refreshes: version 1 is neither current nor the one before
        saved = field_services.saved_list_refresh(user=p["organizer"], saved_list=saved, warehouse=field_wh)
    assert saved.version == 3 and er.list_version == 1
    assert _one(field_wh, "SELECT count(*) FROM list_person WHERE list_id = ? AND version = 1", [saved.pk]) == asked
    er = services.export_request_decide(user=p["dm"], er=er, approve=True)
    assert er.job is not None
    assert job_run(job=er.job, warehouse=field_wh).status == "succeeded"
    er.refresh_from_db()
    assert er.persons == asked
    # Written: the version is no longer held; the next refresh lets it go.
    field_services.saved_list_refresh(user=p["organizer"], saved_list=saved, warehouse=field_wh)
    assert _one(field_wh, "SELECT count(*) FROM list_person WHERE list_id = ? AND version = 1", [saved.pk]) == 0


@pytest.mark.parametrize("fmt", ["xlsx", "fixed", "van"])
def test_each_format_holds_the_same_cells_formula_safe(field_wh: Warehouse, tree: dict[str, Any], fmt: str) -> None:
    from unionhall.exports.fields import fields_check
    from unionhall.exports.formats import header
    from unionhall.ingest.readers import FixedWidthLayout, open_source

    p = people(tree)
    saved = county_list(field_wh, tree, p["organizer"])
    pid = _one(field_wh, "SELECT person_id FROM list_person WHERE list_id = ? ORDER BY person_id LIMIT 1", [saved.pk])
    field_wh.cursor().execute("UPDATE person SET first_name = '=HYPERLINK(1)' WHERE person_id = ?", [pid])
    er = approved_export(field_wh, saved, p["organizer"], p["dm"], fmt=fmt)
    path = services.export_dir(er) / er.file_name
    layout = None
    if fmt == "fixed":
        layout_path = path.with_name(f"{path.stem}-layout.csv")
        layout = FixedWidthLayout.parse(layout_path.read_text())
    reader = open_source(path, layout=layout)
    if fmt != "fixed":
        assert reader.header == header(fields_check(FIELDS), fmt)
    frame = next(reader.batches(size=100_000)).frame
    assert frame.height == er.persons + er.seeds
    first = frame.get_column(frame.columns[1]).to_list()
    assert "'=HYPERLINK(1)" in [v.upper() for v in first] and not any(v.startswith("=") for v in first)
