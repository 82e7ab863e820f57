"""Poll pages: the list with the upload form; a poll with its rejected rows, the
weighting form and its report (achieved against target margins, design effect),
every question's topline with its margin of error, and a crosstab picker. For
analysts, data managers and administrators; a poll of a committee the user does no
analytics for is "not found", like one that does not exist."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render

from unionhall.analytics.models import Poll
from unionhall.analytics.polls import (
    QUARANTINE_PAGE,
    UNIVERSE_VOTERS,
    VARIABLES,
    QuestionResult,
    poll_get,
    poll_import,
    poll_quarantine_page,
    poll_questions,
    poll_rake,
    poll_topline,
    poll_unweight,
    poll_variables,
    polls_visible,
)
from unionhall.analytics.selectors import analytics_committees, analytics_view
from unionhall.errors import UserError


def _poll_or_404(request: HttpRequest, poll_id: int) -> Poll:
    try:
        return poll_get(user=request.user, poll_id=poll_id)
    except Poll.DoesNotExist:
        raise Http404("No such poll") from None


def _pct(x: float) -> str:
    return "" if x is None or math.isnan(x) else f"{100 * x:.1f}%"


def _pts(x: float) -> str:
    return "" if x is None or math.isnan(x) else f"±{100 * x:.1f}"


@analytics_view
def poll_index(request: HttpRequest) -> HttpResponse:
    """The polls the user may see and the upload form."""
    committees = analytics_committees(request.user)
    error = ""
    if request.method == "POST":
        f = request.FILES.get("file")
        name = request.POST.get("name", "").strip()
        chosen = next((c for c in committees if str(c.pk) == request.POST.get("committee", "")), None)
        if f is None or not name:
            error = "Choose a file and give the poll a name."
        elif chosen is None:
            error = "Choose one of the committees you do analytics for."
        else:
            with tempfile.TemporaryDirectory(prefix="uh-poll-") as tmp:
                path = Path(tmp) / "upload"
                with path.open("wb") as out:
                    for chunk in f.chunks():
                        out.write(chunk)
                try:
                    result = poll_import(user=request.user, committee=chosen, path=path, name=name,
                                         file_name=Path(f.name or "poll").name)
                except UserError as exc:
                    error = exc.message.replace(str(path), Path(f.name or "poll").name)
                else:
                    return redirect("analytics-poll", poll_id=result.poll.pk)
    return render(request, "analytics/polls/index.html", {
        "committees": committees, "polls": list(polls_visible(user=request.user)[:200]), "error": error,
    }, status=400 if error else 200)


def _universes(request: HttpRequest) -> list[tuple[str, str]]:
    out = [(UNIVERSE_VOTERS, "Registered voters (active and inactive) in your scope")]
    slugs = sorted({c.source_slug for c in analytics_committees(request.user) if c.source_slug})
    out += [(f"members:{s}", f"Members of {s}") for s in slugs]
    return out


def _topline_rows(result: QuestionResult) -> list[dict[str, Any]]:
    table = result.tables[0]
    return [{"category": s.category, "n": s.n, "pct": _pct(s.share), "moe": _pts(s.moe), "se": s.se,
             "ci": f"{_pct(s.ci_low)} to {_pct(s.ci_high)}"} for s in table.shares]


def _crosstab(result: QuestionResult) -> dict[str, Any]:
    return {"question": result.question, "by": result.by, "categories": result.categories,
            "rows": [{"domain": t.domain, "n": t.n, "cells": [{"pct": _pct(s.share), "moe": _pts(s.moe)}
                                                              for s in t.shares]} for t in result.tables]}


@analytics_view
def poll_detail(request: HttpRequest, poll_id: int) -> HttpResponseBase:
    """A poll: its counts and rejected rows, weighting, toplines and a crosstab."""
    poll = _poll_or_404(request, poll_id)
    error = request.session.pop(f"poll-{poll.pk}-error", "")
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    quarantine = poll_quarantine_page(user=request.user, poll=poll, page=page)
    pages = max(1, math.ceil(quarantine.total / QUARANTINE_PAGE))
    questions = [q["name"] for q in poll_questions(poll) if not q.get("open")]
    by = request.GET.get("by", "").strip() or None
    crosstab_q = request.GET.get("q", "").strip() or None
    toplines = [{"question": r.question, "rows": _topline_rows(r), "n": r.tables[0].n, "blank": r.blank,
                 "deff": r.deff, "effective_n": r.effective_n}
                for r in poll_topline(user=request.user, poll=poll)]
    crosstabs: list[dict[str, Any]] = []
    if by:
        try:
            crosstabs = [_crosstab(r) for r in poll_topline(user=request.user, poll=poll, by=by,
                                                            questions=[crosstab_q] if crosstab_q else None)]
        except UserError as exc:
            error = exc.message
    weighting = poll.detail.get("weighting") or None
    margins = [{**m, "target_pct": _pct(m["target"]), "achieved_pct": _pct(m["achieved"]),
                "unweighted_pct": _pct(m["unweighted"])} for m in (weighting or {}).get("margins", [])]
    return render(request, "analytics/polls/detail.html", {
        "poll": poll, "detail": poll.detail, "error": error, "quarantine": quarantine, "page": page, "pages": pages,
        "prev": page - 1 if page > 1 else None, "next": page + 1 if page < pages else None,
        "variables": poll_variables(poll), "variable_labels": {v: v.replace("_", " ") for v in VARIABLES},
        "universes": _universes(request), "weighting": weighting, "margins": margins, "toplines": toplines,
        "questions": questions, "by": by, "crosstab_q": crosstab_q, "crosstabs": crosstabs,
        "by_choices": [*poll_variables(poll), *questions],
    })


def _bounds(request: HttpRequest) -> tuple[float, float] | None:
    low, high = request.POST.get("low", "").strip(), request.POST.get("high", "").strip()
    if not low and not high:
        return None
    try:
        return float(low or "0.0001"), float(high or "1e9")
    except ValueError:
        raise UserError(f"weight bounds must be numbers, not {low!r} and {high!r}") from None


@analytics_view
def poll_weight(request: HttpRequest, poll_id: int) -> HttpResponseBase:
    """Rake the poll (or go back to its base weights), then show the poll."""
    poll = _poll_or_404(request, poll_id)
    if request.method != "POST":
        return redirect("analytics-poll", poll_id=poll.pk)
    try:
        if request.POST.get("action") == "unweight":
            poll_unweight(user=request.user, poll=poll)
        else:
            poll_rake(user=request.user, poll=poll, by=request.POST.getlist("by"),
                      universe=request.POST.get("universe", UNIVERSE_VOTERS), bounds=_bounds(request))
    except UserError as exc:
        request.session[f"poll-{poll.pk}-error"] = exc.message
    return redirect("analytics-poll", poll_id=poll.pk)
