"""Account pages: the data agreement and two-factor authentication."""

from __future__ import annotations

import base64

import segno
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from unionhall.access.gate import current_agreement
from unionhall.access.models import UsageEvent
from unionhall.access.selectors import (
    DOWNLOAD_LIMIT,
    USAGE_GROUPS,
    DownloadRefused,
    PersonFilter,
    download_allowed,
    person_download,
    person_search,
    usage_report,
)
from unionhall.access.services import agreement_accept, totp_device_for, totp_verify
from unionhall.web.csvsafe import csv_lines
from unionhall.web.decorators import data_manager_view, member_data_view


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    return target if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) else "/"


@login_required
def agreement(request: HttpRequest) -> HttpResponse:
    current = current_agreement()
    if current is None:
        return render(request, "access/agreement.html", {"agreement": None})
    if request.method == "POST" and request.POST.get("accept") == str(current.version):
        agreement_accept(user=request.user, version=current.version)
        return redirect(_next(request))
    accepted = current.agreementacceptance_set.filter(user__username=request.user.get_username()).first()
    return render(request, "access/agreement.html", {"agreement": current, "accepted": accepted,
                                                     "next": _next(request)})


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    device = totp_device_for(user=request.user)
    error = ""
    if request.method == "POST":
        if totp_verify(request=request, token=request.POST.get("token", "")):
            return redirect(_next(request))
        error = "That code is not right (or has expired). Enter the 6 digits your app shows now."
    qr_svg = ""
    if not device.confirmed:
        qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4)
    return render(
        request, "access/two_factor.html",
        {"device": device, "qr_svg": qr_svg, "error": error, "next": _next(request),
         "secret": _manual_key(device.bin_key) if not device.confirmed else ""},
        status=400 if error else 200,
    )


@data_manager_view
def usage(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    group_by = request.GET.get("by", "user")
    if group_by not in USAGE_GROUPS:
        group_by = "user"
    rows = usage_report(user=request.user, group_by=group_by)
    columns = ["group", "events", "persons_touched", *[a for a, _ in UsageEvent.Action.choices]]
    if request.GET.get("download") == "csv":
        response = StreamingHttpResponse(
            csv_lines(columns, ([r[c] for c in columns] for r in rows)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="usage-by-{group_by}.csv"'
        return response
    return render(request, "access/usage.html", {
        "rows": rows, "columns": columns, "group_by": group_by, "groups": USAGE_GROUPS,
        "labels": dict(UsageEvent.Action.choices),
    })


@member_data_view
def people_search(request: HttpRequest) -> HttpResponse:
    q = request.GET
    registered = {"yes": True, "no": False}.get(q.get("registered", ""))
    filters = PersonFilter(
        last_name=q.get("last_name") or None, first_name=q.get("first_name") or None,
        county=q.get("county") or None, zip5=q.get("zip5") or None, registered=registered,
        member_of=q.get("member_of") or None,
    )
    if q.get("download") == "csv":
        return _people_download(request, filters)
    searched = any(v is not None for v in filters.as_dict().values())
    total, rows = person_search(user=request.user, filters=filters, limit=100) if searched else (0, [])
    download = q.copy()
    download["download"] = "csv"
    return render(request, "access/people.html", {
        "rows": rows, "total": total, "searched": searched, "q": q,
        "can_download": download_allowed(user=request.user), "download_query": download.urlencode(),
        "download_limit": DOWNLOAD_LIMIT,
    })


def _people_download(request: HttpRequest, filters: PersonFilter) -> HttpResponse:
    """The search results as a formula-safe CSV (administrators and data managers)."""
    try:
        header, rows = person_download(user=request.user, filters=filters)
    except DownloadRefused as exc:
        return render(request, "access/download_refused.html", {"reason": str(exc)}, status=403)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="people-search.csv"'
    response["Cache-Control"] = "no-store"
    response.writelines(csv_lines(header, rows))
    return response


def _manual_key(key: bytes) -> str:
    """The TOTP key as authenticator apps take it typed in: base32, in groups of four."""
    text = base64.b32encode(key).decode("ascii").rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))
