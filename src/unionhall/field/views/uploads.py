"""Vendor result uploads: the upload form with the history of uploads, the column
mapping confirmation, and an upload's detail with its quarantine (paged, and as a
formula-safe CSV). For users who do field work for a committee; an upload shows to
that committee's field roles and to its uploader, and is "not found" alike for
everyone else and for an id that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render

from unionhall.errors import ScopeError, UserError
from unionhall.field.models import ContactUpload
from unionhall.field.results_import import (
    ANSWER,
    CHANNELS,
    QUARANTINE_CSV_HEADER,
    QUARANTINE_PAGE,
    RESULT_FIELDS,
    contact_upload_get,
    contact_uploads_visible,
    quarantine_code_text,
    result_mapping_resolve,
    results_import_submit,
    results_upload_create,
    upload_path,
    upload_quarantine_by_code,
    upload_quarantine_page,
    upload_quarantine_rows,
    vendors_known,
    vocabulary_for,
)
from unionhall.field.selectors import field_committees
from unionhall.ingest.mapping import CUSTOM, ColumnMapping, ColumnRule
from unionhall.ingest.readers import open_source
from unionhall.web.csvsafe import csv_lines

HISTORY_ROWS = 200


def field_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """For users who organize for at least one committee."""
    from unionhall.web.decorators import role_view

    return role_view(lambda u: bool(field_committees(u)), "organizers, data managers and administrators")(view)


def _upload_or_404(request: HttpRequest, upload_id: int) -> ContactUpload:
    try:
        return contact_upload_get(user=request.user, upload_id=upload_id)
    except ContactUpload.DoesNotExist:
        raise Http404("No such upload") from None


@field_view
def uploads(request: HttpRequest) -> HttpResponse:
    """The upload form and the history of uploads."""
    committees = field_committees(request.user)
    error = ""
    if request.method == "POST":
        f = request.FILES.get("file")
        chosen = next((c for c in committees if str(c.pk) == request.POST.get("committee", "")), None)
        if f is None or not request.POST.get("vendor", "").strip():
            error = "Choose a file and say which vendor sent it."
        elif chosen is None:
            error = "Choose one of the committees you organize for."
        else:
            try:
                up = results_upload_create(
                    user=request.user, committee=chosen, vendor=request.POST["vendor"],
                    channel=request.POST.get("channel", "phone"), name=f.name or "results", chunks=f.chunks(),
                    data_dir=settings.UNIONHALL.data_dir)
            except UserError as exc:
                error = exc.message
            else:
                return redirect("field-results-map", upload_id=up.pk)
    history = list(contact_uploads_visible(user=request.user)[:HISTORY_ROWS])
    return render(request, "field/uploads_list.html", {
        "committees": committees, "channels": CHANNELS, "vendors": vendors_known(user=request.user),
        "uploads": history, "error": error}, status=400 if error else 200)


def _field_choices(vocab: Any) -> list[tuple[str, str]]:
    out = [(name, desc) for name, desc in RESULT_FIELDS.items() if name != ANSWER]
    out += [(f"{ANSWER}:{code}", f"answers to question {code}") for code in vocab.question_codes]
    return out


def _mapping_from_post(request: HttpRequest, header: list[str], base: ColumnMapping) -> ColumnMapping:
    columns: dict[str, ColumnRule] = {}
    for i, col in enumerate(header):
        value = request.POST.get(f"field_{i}", CUSTOM)
        if value.startswith(f"{ANSWER}:"):
            columns[col] = ColumnRule(ANSWER, custom_name=value.split(":", 1)[1])
        else:
            columns[col] = ColumnRule(value)
    return ColumnMapping(columns=columns, date_order=request.POST.get("date_order", base.date_order),
                         source=base.source, schema="results")


@field_view
def mapping_screen(request: HttpRequest, upload_id: int) -> HttpResponseBase:
    """Confirm (or change) the columns of an uploaded file, then import it."""
    up = _upload_or_404(request, upload_id)
    if up.uploaded_by_id != request.user.pk:
        raise Http404("No such upload")  # only whoever uploaded the file maps it
    if up.job_id is not None and up.job is not None and up.job.status != "failed":
        return redirect("field-results-detail", upload_id=up.pk)
    errors: list[str] = []
    try:
        reader = open_source(upload_path(up, settings.UNIONHALL.data_dir))
        resolved = result_mapping_resolve(reader=reader, committee=up.committee, vendor=up.vendor,
                                          exclude_upload=up.pk)
    except UserError as exc:
        return render(request, "field/uploads_map.html", {"upload": up, "fatal": exc.message}, status=400)
    mapping = resolved.mapping
    if request.method == "POST":
        try:
            mapping = _mapping_from_post(request, reader.header, mapping)
            results_import_submit(upload=up, mapping=mapping, user=request.user)
        except UserError as exc:
            errors = exc.message.split("; ")
        else:
            return redirect("field-results-detail", upload_id=up.pk)
    samples = reader.sample_rows(5)
    rows = []
    for i, col in enumerate(reader.header):
        rule = mapping.rule(col)
        rows.append({"index": i, "column": col, "reason": rule.reason,
                     "value": f"{ANSWER}:{rule.custom_name}" if rule.field == ANSWER else rule.field,
                     "samples": [r[i] for r in samples if i < len(r) and r[i]][:3]})
    return render(request, "field/uploads_map.html", {
        "upload": up, "rows": rows, "origin": resolved.origin, "notes": [*reader.notes, *resolved.notes],
        "fields": _field_choices(vocabulary_for(up.committee)), "custom": CUSTOM, "date_order": mapping.date_order,
        "errors": errors}, status=400 if errors else 200)


def _page(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


@field_view
def upload_detail(request: HttpRequest, upload_id: int) -> HttpResponse:
    """Counts and reconciliation of one upload, its job, the mapping used, and its
    quarantine a page at a time."""
    up = _upload_or_404(request, upload_id)
    page = _page(request)
    try:
        rows, total, raw = upload_quarantine_page(user=request.user, upload=up, page=page)
        by_code = upload_quarantine_by_code(user=request.user, upload=up)
    except ScopeError:
        raise Http404("No such upload") from None
    pages = max(1, -(-total // QUARANTINE_PAGE))
    mapping = ColumnMapping.from_json(up.mapping_json).columns.items() if up.mapping_json else []
    own_job = up.job is not None and (request.user.is_superuser or up.job.created_by_id == request.user.pk)
    return render(request, "field/uploads_detail.html", {
        "upload": up, "rows": rows, "total": total, "raw_shown": raw, "page": page, "pages": pages,
        "prev": page - 1 if page > 1 else None, "next": page + 1 if page < pages else None,
        "by_code": [(code, n, quarantine_code_text(code)) for code, n in by_code], "mapping": mapping,
        "job": up.job, "own_job": own_job})


@field_view
def quarantine_csv(request: HttpRequest, upload_id: int) -> StreamingHttpResponse:
    """The whole quarantine of an upload as CSV (spreadsheet-formula-safe)."""
    up = _upload_or_404(request, upload_id)
    try:
        rows = upload_quarantine_rows(user=request.user, upload=up)
    except ScopeError:
        raise Http404("No such upload") from None
    response = StreamingHttpResponse(csv_lines(QUARANTINE_CSV_HEADER, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="results-quarantine-{up.pk}.csv"'
    return response
