"""Import pages: upload, mapping screen, history, quarantine browser."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify

from unionhall.access.roles import member_sources_loadable
from unionhall.errors import ScopeError, UserError
from unionhall.ingest.mapping import (
    CUSTOM,
    MEMBER_SCHEMA,
    PHONE_TYPES,
    SKIP,
    ColumnMapping,
    ColumnRule,
)
from unionhall.ingest.models import ImportRun, Source, Upload
from unionhall.ingest.readers import open_source
from unionhall.ingest.selectors import (
    QUARANTINE_PAGE,
    import_failures,
    import_run_list,
    quarantine_page,
    quarantine_rows,
)
from unionhall.ingest.services import import_submit, mapping_resolve, upload_create
from unionhall.web.csvsafe import csv_lines
from unionhall.web.decorators import data_manager_view


@data_manager_view
def import_history(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "ingest/history.html",
        {"runs": import_run_list(user=request.user)[:200], "failures": import_failures(user=request.user)},
    )


def _loadable_sources(request: HttpRequest) -> QuerySet[Source]:
    sources = Source.objects.filter(kind=Source.Kind.AFFILIATE)
    loadable = member_sources_loadable(request.user)
    return sources if loadable is None else sources.filter(slug__in=sorted(loadable))


@data_manager_view
def upload(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        f = request.FILES.get("file")
        source_name = request.POST.get("affiliate", "").strip()
        loadable = member_sources_loadable(request.user)
        if f is None or not source_name:
            error = "Choose a file and say which affiliate sent it."
        elif loadable is not None and slugify(source_name) not in loadable:
            error = (f"You load member lists for {', '.join(sorted(loadable)) or 'no affiliate'} only; "
                     "ask the federation's data team to load another affiliate's list.")
        else:
            try:
                up = upload_create(
                    name=f.name or "upload", chunks=f.chunks(), source_name=source_name,
                    user=request.user, data_dir=settings.UNIONHALL.data_dir,
                )
            except UserError as exc:
                error = exc.message
            else:
                return redirect("import-map", token=up.token)
    return render(
        request, "ingest/upload.html", {"sources": _loadable_sources(request), "error": error},
        status=400 if error else 200,
    )


def _mapping_from_post(request: HttpRequest, header: list[str], base: ColumnMapping) -> ColumnMapping:
    columns = {}
    for i, col in enumerate(header):
        field = request.POST.get(f"field_{i}", CUSTOM)
        ptype = request.POST.get(f"ptype_{i}") or None
        columns[col] = ColumnRule(field, phone_type=ptype if field == "phone" else None)
    return ColumnMapping(columns=columns, date_order=request.POST.get("date_order", base.date_order),
                         source=base.source)


@data_manager_view
def mapping_screen(request: HttpRequest, token: str) -> HttpResponse:
    up = get_object_or_404(Upload, token=token, uploaded_by=request.user)
    if up.job_id:
        return redirect("job-detail", job_id=up.job_id)
    errors: list[str] = []
    try:
        reader = open_source(up.path)
        resolved = mapping_resolve(reader=reader, source_name=up.source_name)
    except UserError as exc:
        return render(request, "ingest/upload.html", {"sources": _loadable_sources(request), "error": exc.message},
                      status=400)
    mapping = resolved.mapping
    if request.method == "POST":
        try:
            mapping = _mapping_from_post(request, reader.header, mapping)
            mode = request.POST.get("mode", ImportRun.Mode.SNAPSHOT)
            job = import_submit(upload=up, mapping=mapping, user=request.user, mode=mode)
        except UserError as exc:
            errors = exc.message.split("; ")
        else:
            return redirect("job-detail", job_id=job.pk)
    samples = reader.sample_rows(5)
    rows = [
        {
            "index": i,
            "column": col,
            "rule": mapping.rule(col),
            "samples": [r[i] for r in samples if i < len(r) and r[i]][:3],
        }
        for i, col in enumerate(reader.header)
    ]
    return render(
        request,
        "ingest/mapping.html",
        {
            "upload": up, "rows": rows, "origin": resolved.origin, "notes": [*reader.notes, *resolved.notes],
            "fields": [(k, v) for k, v in MEMBER_SCHEMA.items()], "custom": CUSTOM, "skip": SKIP,
            "phone_types": PHONE_TYPES, "date_order": mapping.date_order, "errors": errors,
            "modes": ImportRun.Mode.choices,
        },
        status=400 if errors else 200,
    )


@data_manager_view
def import_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(import_run_list(user=request.user), pk=run_id)
    mapping = ColumnMapping.from_json(run.mapping_json)
    return render(request, "ingest/detail.html", {"run": run, "mapping": mapping.columns.items()})


@data_manager_view
def quarantine(request: HttpRequest, run_id: int) -> HttpResponse | StreamingHttpResponse:
    run = get_object_or_404(import_run_list(user=request.user), pk=run_id)
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    try:
        if request.GET.get("download") == "csv":
            return _quarantine_csv(run, quarantine_rows(user=request.user, run=run))
        rows, total = quarantine_page(user=request.user, run=run, page=page)
    except ScopeError:
        raise Http404("No quarantine you may see for this import") from None
    pages = max(1, -(-total // QUARANTINE_PAGE))
    return render(
        request, "ingest/quarantine.html",
        {"run": run, "rows": rows, "total": total, "page": page, "pages": pages,
         "prev": page - 1 if page > 1 else None, "next": page + 1 if page < pages else None},
    )


def _quarantine_csv(run: ImportRun, rows: Iterator[tuple[Any, ...]]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(["row", "code", "reason", "raw"], rows),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="quarantine-{run.pk}-{run.source.slug}.csv"'
    return response
