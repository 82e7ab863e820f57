"""Output requests: asked for, decided by someone else, run as a job, downloaded
before the link expires. Every step is written to the audit log in the transaction
that makes it.

Who may do what:
* ask: the committee's organizers, data managers and administrators, for a saved
  list they can see; the file holds what the requester sees on screen (their scope's
  persons, with their masks);
* approve or reject: a data manager or administrator of the list's committee or a
  committee above it (or a platform administrator) who is not the requester;
* download: the requester, and the users of the vendor it was approved for; never
  after the link's last day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from unionhall.access.models import AuditEvent, Committee
from unionhall.access.roles import committees_managed
from unionhall.access.services import usage_record
from unionhall.errors import UserError
from unionhall.exports import formats, store
from unionhall.exports.fields import ExportField, fields_check
from unionhall.exports.models import MAX_DAYS, ExportRequest, Vendor
from unionhall.exports.seeds import seed_count, seeds_make
from unionhall.exports.watermark import cell_values, export_keys, keyed_hash, vary
from unionhall.field.models import SavedList
from unionhall.field.selectors import field_committees, saved_list_persons, saved_lists_visible
from unionhall.warehouse import Warehouse

JOB_KIND = "exports.run"
SORT = ("zip5", "addr_line1", "last_name", "first_name")


def _audit(actor: Any, action: str, er: ExportRequest, **detail: Any) -> None:
    AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=actor.get_username() if getattr(actor, "pk", None) else str(actor),
        action=action, subject=er.requested_by,
        detail={"export": er.pk, "reference": er.reference, "list": er.saved_list_id,
                "committee": er.committee.name, **detail})


def _ancestors(c: Committee) -> list[Committee]:
    out = []
    node: Committee | None = c
    while node is not None:
        out.append(node)
        node = node.parent
    return out


def may_decide(user: Any, er: ExportRequest) -> bool:
    """A data manager or administrator of the list's committee or one above it, or a
    platform administrator; never the requester."""
    if not getattr(user, "is_authenticated", False) or user.pk == er.requested_by_id:
        return False
    return bool(user.is_superuser) or er.committee in committees_managed(user)


def vendors_for(committee: Committee) -> QuerySet[Vendor]:
    """The active vendors a committee may send a file to: its own, those of the
    committees above it, and the movement-wide ones."""
    return Vendor.objects.filter(Q(committee__isnull=True) | Q(committee__in=_ancestors(committee)), active=True)


@transaction.atomic
def export_request_create(
    *, user: Any, saved_list: SavedList, fields: list[str], fmt: str, purpose: str, vendor: Vendor | None,
    expires_on: dt.date | None = None,
) -> ExportRequest:
    """Ask for a file of a saved list's current version. Clear errors for every bad
    choice; audited."""
    if not saved_lists_visible(user).filter(pk=saved_list.pk).exists():
        raise UserError(f"you cannot see the list {saved_list.name!r}")
    if saved_list.committee not in field_committees(user):
        raise UserError(f"you do not organize for {saved_list.committee.name}: exports of its lists are asked for "
                        "by its organizers and data team")
    try:
        chosen = fields_check(fields)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if fmt not in ExportRequest.Format.values:
        raise UserError(f"unknown format {fmt!r}; choose one of {', '.join(ExportRequest.Format.values)}")
    purpose = purpose.strip()
    if len(purpose) < 10:
        raise UserError("say what the file is for (at least a few words): the approver decides on it")
    if vendor is not None and not vendors_for(saved_list.committee).filter(pk=vendor.pk).exists():
        raise UserError(f"{vendor.name} is not an active vendor of {saved_list.committee.name}")
    today = timezone.localdate()
    expires_on = expires_on or ExportRequest.default_expiry()
    if not today <= expires_on <= today + dt.timedelta(days=MAX_DAYS):
        raise UserError(f"the link's last day must be between today and {MAX_DAYS} days from now "
                        f"({today + dt.timedelta(days=MAX_DAYS):%Y-%m-%d})")
    if saved_list.people == 0:
        raise UserError(f"the list {saved_list.name!r} holds no one")
    er = ExportRequest.objects.create(
        saved_list=saved_list, list_version=saved_list.version, committee=saved_list.committee, requested_by=user,
        fields=[f.name for f in chosen[1:]], format=fmt, purpose=purpose, vendor=vendor, expires_on=expires_on,
        people=saved_list.people)
    _audit(user, AuditEvent.Action.EXPORT_REQUEST, er, fields=er.fields, format=fmt,
           vendor=vendor.name if vendor else None, people=er.people, expires_on=str(expires_on))
    return er


def _pending(er: ExportRequest) -> ExportRequest:
    locked = ExportRequest.objects.select_for_update().select_related("committee", "requested_by").get(pk=er.pk)
    if locked.status != ExportRequest.Status.PENDING:
        raise UserError(f"{locked.reference} is {locked.get_status_display().lower()}, not waiting for a decision")
    return locked


@transaction.atomic
def export_request_decide(*, user: Any, er: ExportRequest, approve: bool, note: str = "") -> ExportRequest:
    """Approve (the file is written by a job) or reject, by someone who may decide."""
    from unionhall.jobs.runner import job_submit

    er = _pending(er)
    if user.pk == er.requested_by_id:
        raise UserError("you asked for this export: someone else must approve or reject it")
    if not may_decide(user, er):
        raise UserError(f"approving exports of {er.committee.name} is for its data managers and administrators "
                        "(or those of a committee above it)")
    if not approve and not note.strip():
        raise UserError("say why you reject it (the requester reads this)")
    er.decided_by, er.decided_at, er.decision_note = user, timezone.now(), note.strip()
    if approve:
        er.status = ExportRequest.Status.APPROVED
        er.job = job_submit(kind=JOB_KIND, params={"export_id": er.pk}, user=user)
    else:
        er.status = ExportRequest.Status.REJECTED
    er.save(update_fields=["decided_by", "decided_at", "decision_note", "status", "job"])
    _audit(user, AuditEvent.Action.EXPORT_APPROVE if approve else AuditEvent.Action.EXPORT_REJECT, er,
           note=er.decision_note)
    return er


@transaction.atomic
def export_request_cancel(*, user: Any, er: ExportRequest) -> ExportRequest:
    er = _pending(er)
    if user.pk != er.requested_by_id:
        raise UserError("only the requester can cancel a request (an approver rejects it)")
    er.status = ExportRequest.Status.CANCELLED
    er.save(update_fields=["status"])
    _audit(user, AuditEvent.Action.EXPORT_CANCEL, er)
    return er


# -- the job ----------------------------------------------------------------------------


def export_dir(er: ExportRequest) -> Path:
    from unionhall.config import get_config

    return get_config().data_dir / "exports" / str(er.pk)


def _file_name(er: ExportRequest) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", er.saved_list.name).strip("-")[:40] or "list"
    return f"{er.reference}-{slug}.{formats.EXTENSIONS[er.format]}"


def export_rows(*, er: ExportRequest, warehouse: Warehouse) -> tuple[pl.DataFrame, list[ExportField]]:
    """The requested fields of the list version's persons, as the requester sees them."""
    fields = fields_check(list(er.fields))
    t = saved_list_persons(user=er.requested_by, saved_list=er.saved_list, version=er.list_version,
                           warehouse=warehouse)
    wanted = ["person_id", *(f.name for f in fields[1:])]
    rows = t.select(*dict.fromkeys([*wanted, *(c for c in SORT if c in t.columns)])).to_polars()
    if rows.height == 0:
        raise UserError(f"version {er.list_version} of the list {er.saved_list.name!r} holds no one "
                        f"{er.requested_by.get_username()} may see now (refreshed since the request?); ask again")
    return rows, fields


def export_run(*, er: ExportRequest, warehouse: Warehouse, log: Any, defer: Any) -> dict[str, Any]:
    """Write the approved export: persons with their keys and variations, the seeds,
    the file (renamed into place), and the export's keys, seeds and marks in the
    warehouse; the request is marked ready when the job commits."""
    if er.status != ExportRequest.Status.APPROVED:
        raise UserError(f"{er.reference} is {er.get_status_display().lower()}, not approved")
    rows, fields = export_rows(er=er, warehouse=warehouse)
    ids = rows.get_column("person_id").to_numpy()
    rows = rows.with_columns(pl.Series("export_key", export_keys(ids, er.mark_seed), dtype=pl.Utf8))
    n_seeds = seed_count(rows.height)
    seeds = seeds_make(wh=warehouse, rows=rows, n=n_seeds, seed=er.mark_seed, today=timezone.localdate(),
                       taken_keys=set(rows.get_column("export_key").to_list()))
    both = pl.concat([rows.with_columns(pl.lit(False).alias("_seed")),
                      seeds.select(rows.columns).with_columns(pl.lit(True).alias("_seed"))], how="vertical_relaxed")
    # Variation bits: keyed by person for real rows, by key for seeds.
    basis = np.where(both.get_column("_seed").to_numpy(),
                     keyed_hash(np.arange(both.height, dtype=np.int64), er.mark_seed ^ 0xA5A5).astype(np.int64),
                     both.get_column("person_id").fill_null(0).to_numpy())
    varied = vary(both, keyed_hash(basis.astype(np.int64), er.mark_seed ^ 0x3C3C))
    order = [c for c in SORT if c in varied.columns]
    varied = varied.with_columns(pl.Series("_tie", keyed_hash(np.arange(varied.height, dtype=np.int64),
                                                              er.mark_seed).astype(np.int64)))
    varied = varied.sort([*order, "_tie"], nulls_last=True)
    cells = formats.cells_frame(varied, fields, er.format)
    log(f"{rows.height:,} persons and {n_seeds} seed records, {len(fields)} columns, format {er.format}")

    folder = export_dir(er)
    folder.mkdir(parents=True, exist_ok=True)
    name = _file_name(er)
    tmp = folder / f".{name}.part"
    formats.write(cells, fields, er.format, tmp)
    if er.format == "fixed":
        (folder / f"{Path(name).stem}-layout.csv").write_text(formats.layout_text(fields), encoding="utf-8")
    digest = hashlib.sha256()
    with tmp.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    os.replace(tmp, folder / name)
    size = (folder / name).stat().st_size

    seed_mask = varied.get_column("_seed")
    seed_cells = cells.filter(seed_mask).rename({"uh_key": "export_key"})
    store.export_write(warehouse, export_id=er.pk, persons=rows.select("person_id", "export_key"),
                       seeds=seed_cells, cells=cell_values(cells))
    result = {"export": er.pk, "file": name, "persons": rows.height, "seeds": n_seeds, "bytes": size,
              "sha256": digest.hexdigest()}

    def _ready() -> None:
        ExportRequest.objects.filter(pk=er.pk).update(
            status=ExportRequest.Status.READY, file_name=name, file_sha256=result["sha256"], file_bytes=size,
            persons=rows.height, seeds=n_seeds, ready_at=timezone.now())
        _audit(er.decided_by, AuditEvent.Action.EXPORT_READY, er, persons=rows.height, seeds=n_seeds, file=name,
               sha256=result["sha256"], vendor=er.vendor.name if er.vendor else None)
        usage_record(user=er.requested_by, action="export", persons=rows.height, committee=er.committee,
                     detail={"kind": "export request", "export": er.pk, "list": er.saved_list_id,
                             "format": er.format, "vendor": er.vendor.name if er.vendor else None,
                             "fields": list(er.fields)})

    defer(_ready)
    return result


# -- downloads ----------------------------------------------------------------------------


class DownloadRefused(Exception):
    """Why a download was refused: `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def may_download(user: Any, er: ExportRequest) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return user.pk == er.requested_by_id or (er.vendor is not None and er.vendor.users.filter(pk=user.pk).exists())


def export_download(*, user: Any, er: ExportRequest, part: str = "file") -> Path:
    """The file's path, for the requester or the vendor's users while the link lives.
    Refusals are audited too (an expired link tried is worth knowing about)."""
    from unionhall.access.gate import access_block_reason

    reason: tuple[str, int] | None = None
    if not may_download(user, er):
        reason = ("this export is for its requester and the vendor it was approved for", 403)
    elif (block := access_block_reason(user)) is not None:
        reason = (block, 403)
    elif er.status != ExportRequest.Status.READY:
        reason = (f"{er.reference} is {er.get_status_display().lower()}", 409)
    elif er.expired:
        reason = (f"the link to {er.reference} expired after {er.expires_on:%Y-%m-%d}; ask for a new export", 410)
    if reason is not None:
        _audit(user, AuditEvent.Action.EXPORT_REFUSED, er, reason=reason[0])
        raise DownloadRefused(*reason)
    path = export_dir(er) / er.file_name
    if part == "layout":
        path = path.with_name(f"{path.stem}-layout.csv")
    if not path.is_file():
        raise DownloadRefused(f"the file of {er.reference} is missing from the data directory; ask the data team", 404)
    with transaction.atomic():
        ExportRequest.objects.filter(pk=er.pk).update(downloads=er.downloads + 1)
        _audit(user, AuditEvent.Action.EXPORT_DOWNLOAD, er, persons=er.persons, part=part,
               as_vendor=user.pk != er.requested_by_id)
    return path


# -- reads for the pages -------------------------------------------------------------------


def requests_for(user: Any) -> dict[str, QuerySet[ExportRequest]]:
    """The user's own requests, those waiting for their decision, and their vendors'
    deliveries."""
    base = ExportRequest.objects.select_related("saved_list", "committee", "requested_by", "decided_by", "vendor")
    if user.is_superuser:
        decide = base.filter(status=ExportRequest.Status.PENDING).exclude(requested_by=user)
    else:
        decide = base.filter(status=ExportRequest.Status.PENDING, committee__in=committees_managed(user)).exclude(
            requested_by=user)
    return {
        "mine": base.filter(requested_by=user),
        "to_decide": decide,
        "deliveries": base.filter(vendor__users=user, status=ExportRequest.Status.READY,
                                  expires_on__gte=timezone.localdate()),
    }
