"""Pages of exports: requests (mine, waiting for my decision), a new request from a saved
list, one request with its audit trail, vendors' deliveries, and the leak trace."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from unionhall.access.models import AuditEvent
from unionhall.errors import UserError
from unionhall.exports import services
from unionhall.exports.fields import DEFAULT_FIELDS, EXPORT_FIELDS
from unionhall.exports.models import DEFAULT_DAYS, MAX_DAYS, ExportRequest, Vendor
from unionhall.field.selectors import saved_lists_visible
from unionhall.web.decorators import data_manager_view, member_data_view

_SELECT = ("saved_list", "committee", "requested_by", "decided_by", "vendor", "job")


def _visible(user: Any, pk: int) -> ExportRequest:
    """A request the user asked for, may decide, or delivers (vendors: ready ones)."""
    er = get_object_or_404(ExportRequest.objects.select_related(*_SELECT), pk=pk)
    if user.pk == er.requested_by_id or user.is_superuser or er.committee in _managed(user):
        return er
    if er.status == ExportRequest.Status.READY and services.may_download(user, er):
        return er
    raise Http404("no such export")


def _managed(user: Any) -> list[Any]:
    from unionhall.access.roles import committees_managed

    return committees_managed(user)


@member_data_view
def export_index(request: HttpRequest) -> HttpResponse:
    groups = services.requests_for(request.user)
    return render(request, "exports/index.html", {
        "mine": groups["mine"][:100], "to_decide": groups["to_decide"][:100],
        "deliveries": groups["deliveries"][:100]})


@member_data_view
def deliveries(request: HttpRequest) -> HttpResponse:
    vendors = Vendor.objects.filter(users__pk=request.user.pk or 0)
    return render(request, "exports/deliveries.html", {
        "vendors": vendors, "deliveries": services.requests_for(request.user)["deliveries"]})


@member_data_view
@require_http_methods(["GET", "POST"])
def export_new(request: HttpRequest, list_id: int) -> HttpResponse:
    saved = get_object_or_404(saved_lists_visible(request.user), pk=list_id)
    chosen = request.POST.getlist("fields") if request.method == "POST" else DEFAULT_FIELDS
    error = None
    if request.method == "POST":
        vendor = None
        if request.POST.get("vendor"):
            vendor = services.vendors_for(saved.committee).filter(pk=request.POST["vendor"]).first()
            if vendor is None:
                error = "that vendor is not one of this committee's"
        expires_on = None
        if request.POST.get("expires_on"):
            try:
                expires_on = dt.date.fromisoformat(request.POST["expires_on"])
            except ValueError:
                error = f"last day {request.POST['expires_on']!r} is not a date (YYYY-MM-DD)"
        if error is None:
            try:
                er = services.export_request_create(
                    user=request.user, saved_list=saved, fields=chosen, fmt=request.POST.get("format", ""),
                    purpose=request.POST.get("purpose", ""), vendor=vendor, expires_on=expires_on)
                return redirect("export-detail", er.pk)
            except UserError as exc:
                error = exc.message
    return render(request, "exports/new.html", {
        "list": saved, "fields": EXPORT_FIELDS, "chosen": set(chosen), "formats": ExportRequest.Format.choices,
        "vendors": services.vendors_for(saved.committee), "error": error, "post": request.POST,
        "default_days": DEFAULT_DAYS, "max_days": MAX_DAYS, "default_expiry": ExportRequest.default_expiry(),
    }, status=400 if error else 200)


@member_data_view
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    er = _visible(request.user, pk)
    trail = AuditEvent.objects.filter(detail__export=er.pk).order_by("at", "id")
    return render(request, "exports/detail.html", {
        "er": er, "trail": trail, "can_decide": services.may_decide(request.user, er)
        and er.status == ExportRequest.Status.PENDING,
        "can_cancel": request.user.pk == er.requested_by_id and er.status == ExportRequest.Status.PENDING,
        "can_download": services.may_download(request.user, er) and er.status == ExportRequest.Status.READY
        and not er.expired})


@member_data_view
@require_POST
def export_decide(request: HttpRequest, pk: int) -> HttpResponse:
    er = _visible(request.user, pk)
    decision = request.POST.get("decision")
    try:
        if decision == "cancel":
            services.export_request_cancel(user=request.user, er=er)
        elif decision in ("approve", "reject"):
            services.export_request_decide(user=request.user, er=er, approve=decision == "approve",
                                           note=request.POST.get("note", ""))
        else:
            raise UserError("choose approve, reject or cancel")
    except UserError as exc:
        trail = AuditEvent.objects.filter(detail__export=er.pk).order_by("at", "id")
        return render(request, "exports/detail.html", {"er": er, "trail": trail, "error": exc.message},
                      status=400)
    return redirect("export-detail", er.pk)


@member_data_view
def export_file(request: HttpRequest, pk: int, part: str = "file") -> HttpResponseBase:
    er = get_object_or_404(ExportRequest.objects.select_related(*_SELECT), pk=pk)
    try:
        path = services.export_download(user=request.user, er=er, part=part)
    except services.DownloadRefused as exc:
        return render(request, "exports/refused.html", {"er": er, "reason": exc.message}, status=exc.status)
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)


@data_manager_view
@require_http_methods(["GET", "POST"])
def trace_page(request: HttpRequest) -> HttpResponse:
    from unionhall.exports.trace import trace_file

    report, error = None, None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = "choose the file you found"
        else:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / Path(upload.name or "found").name
                with path.open("wb") as fh:
                    for chunk in upload.chunks():
                        fh.write(chunk)
                try:
                    report = trace_file(path, actor=request.user)
                except UserError as exc:
                    error = exc.message
    return render(request, "exports/trace.html", {"report": report, "error": error},
                  status=400 if error else 200)
