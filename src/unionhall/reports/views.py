"""Report pages and their downloads: parse the query, call one selector, render.

Bad input (a date that is not one, an unknown grouping, a list or committee that is
not the user's) is a 400 page with the message and the form to fix it, never a 500.
Downloads log an export of the report (no person rows: aggregates only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.safestring import mark_safe

from unionhall.access.roles import manages_data
from unionhall.access.services import usage_record
from unionhall.errors import ScopeError, UserError
from unionhall.reports.charts import chart_png, chart_svg
from unionhall.reports.filters import (
    CHANNEL_TITLES,
    USAGE_GROUPS,
    contact_filters_from,
    early_vote_filters_from,
    usage_filters_from,
)
from unionhall.reports.render import report_csv, report_pdf
from unionhall.reports.report import Report
from unionhall.reports.selectors import (
    contact_report,
    contact_report_options,
    early_vote_progress,
    reports_allowed,
    usage_flagged,
)
from unionhall.web.decorators import data_manager_view, role_view

FORMATS = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf", "png": "image/png"}


def report_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """For users with a person-data role in some committee."""
    return role_view(reports_allowed, "organizers, data managers, administrators and analysts")(view)


def _context(request: HttpRequest, report: Report | None) -> dict[str, Any]:
    query = request.GET.copy()
    query.pop("table", None)
    out: dict[str, Any] = {"q": request.GET, "query": query.urlencode(), "report": report}
    if report is not None:
        out["chart"] = mark_safe(chart_svg(report.chart))  # noqa: S308 (matplotlib's SVG; labels escaped)
    return out


def _download(request: HttpRequest, report: Report, fmt: str) -> HttpResponse:
    table = request.GET.get("table") or None
    if fmt == "csv" and table is not None and table not in {t.key for t in report.tables}:
        raise UserError(f"table: {table[:40]!r} is not a table of this report; use one of "
                        f"{', '.join(t.key for t in report.tables)}")
    if fmt == "csv":
        body = "".join(report_csv(report, table)).encode("utf-8")
        name = f"{report.slug}{'-' + table if table else ''}.csv"
    elif fmt == "pdf":
        body, name = report_pdf(report, username=request.user.get_username()), f"{report.slug}.pdf"
    else:
        body, name = chart_png(report.chart), f"{report.slug}.png"
    usage_record(user=request.user, action="export", persons=0, detail={
        "kind": "report download", "report": report.kind, "format": fmt, "table": table,
        "filters": dict(report.filters)})
    response = HttpResponse(body, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def _blocked(request: HttpRequest, exc: ScopeError) -> HttpResponse:
    return render(request, "access/blocked.html", {"gate": {"reason": str(exc)}}, status=403)


@report_view
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/index.html", {"channels": CHANNEL_TITLES, "usage": manages_data(request.user)})


def _tabs(request: HttpRequest) -> list[tuple[str, str, str]]:
    """(channel, title, query) of the three contact report templates, keeping the
    other filters."""
    out = []
    for key, title in CHANNEL_TITLES.items():
        q = request.GET.copy()
        q.pop("table", None)
        q["channel"] = key
        out.append((key, title, q.urlencode()))
    return out


@report_view
def contacts(request: HttpRequest, fmt: str | None = None) -> HttpResponse:
    """A contact report (walks, phones, mail), or one of its downloads (`fmt`)."""
    options = {**contact_report_options(user=request.user), "tabs": _tabs(request)}
    try:
        filters = contact_filters_from(request.GET)
        report = contact_report(user=request.user, filters=filters, committees=options["committees"])
        if fmt is not None:
            return _download(request, report, fmt)
    except UserError as exc:
        return render(request, "reports/contacts.html", {**_context(request, None), **options, "error": exc.message,
                                                         "channel": request.GET.get("channel", "walk")}, status=400)
    except ScopeError as exc:
        return _blocked(request, exc)
    return render(request, "reports/contacts.html", {**_context(request, report), **options, "filters": filters,
                                                     "channel": filters.channel})


@report_view
def early_vote(request: HttpRequest, fmt: str | None = None) -> HttpResponse:
    """Early-vote progress of a saved list, or one of its downloads."""
    from unionhall.elections.selectors import ballot_elections
    from unionhall.field.selectors import saved_lists_visible

    try:
        elections = ballot_elections(user=request.user)
    except ScopeError as exc:
        return _blocked(request, exc)
    options = {"lists": list(saved_lists_visible(request.user)[:500]), "elections": elections}
    try:
        filters = early_vote_filters_from(request.GET)
        if filters.list_id is None and fmt is None:
            return render(request, "reports/early_vote.html", {**_context(request, None), **options})
        report = early_vote_progress(user=request.user, filters=filters)
        if fmt is not None:
            return _download(request, report, fmt)
    except UserError as exc:
        return render(request, "reports/early_vote.html", {**_context(request, None), **options,
                                                           "error": exc.message}, status=400)
    except ScopeError as exc:
        return _blocked(request, exc)
    return render(request, "reports/early_vote.html", {**_context(request, report), **options, "filters": filters})


@data_manager_view
def usage(request: HttpRequest, fmt: str | None = None) -> HttpResponse:
    """The usage report flagged against the data agreement (data managers and
    administrators), or one of its downloads."""
    try:
        filters = usage_filters_from(request.GET)
        report = usage_flagged(user=request.user, filters=filters)
        if fmt is not None:
            return _download(request, report, fmt)
    except UserError as exc:
        return render(request, "reports/usage.html", {**_context(request, None), "groups": USAGE_GROUPS,
                                                      "error": exc.message}, status=400)
    return render(request, "reports/usage.html", {**_context(request, report), "groups": USAGE_GROUPS,
                                                  "filters": filters})

