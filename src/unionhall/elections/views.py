"""Election pages: thin over selectors."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from unionhall.elections.charts import daily_returns_svg
from unionhall.elections.selectors import early_vote_report, election_loads, person_election_detail
from unionhall.errors import ScopeError
from unionhall.web.decorators import member_data_view


@member_data_view
def person_page(request: HttpRequest, person_id: int) -> HttpResponse:
    try:
        detail = person_election_detail(user=request.user, person_id=person_id)
    except ScopeError:
        detail = None
    if detail is None:
        raise Http404("No such person")
    return render(request, "elections/person.html", detail)


@member_data_view
def early_vote_page(request: HttpRequest) -> HttpResponse:
    election: dt.date | None = None
    raw = request.GET.get("election", "")
    if raw:
        try:
            election = dt.date.fromisoformat(raw)
        except ValueError:
            raise Http404("No such election") from None
    try:
        report = early_vote_report(user=request.user, election_dt=election)
    except ScopeError as exc:
        # Blocked accounts (2FA, agreement, expiry) see why, never other people's numbers.
        return render(request, "elections/early_vote.html", {"blocked": str(exc)}, status=403)
    report["chart"] = mark_safe(daily_returns_svg(report["by_day"]))  # noqa: S308 (built with escape())
    return render(request, "elections/early_vote.html", report)


@login_required
def loads_page(request: HttpRequest) -> HttpResponse:
    return render(request, "elections/loads.html", {"loads": election_loads()})
