"""Experiment pages: the list of experiments, the design form for a saved list, one
experiment with its design (counts by arm, balance, MDE) and its analysis form and
results (ITT and CACE with standard errors, intervals, p-values, contact rates). For
analysts, data managers and administrators; an experiment of a committee the user does
no analytics for is "not found", like one that does not exist."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from unionhall.analytics.experiments import (
    BLOCK_COLUMNS,
    experiment_analyze,
    experiment_create,
    experiment_get,
    experiments_visible,
)
from unionhall.analytics.models import Experiment
from unionhall.analytics.selectors import analytics_committees, analytics_view
from unionhall.errors import UserError
from unionhall.field.selectors import saved_lists_visible


def _experiment_or_404(request: HttpRequest, pk: int) -> Experiment:
    try:
        return experiment_get(user=request.user, pk=pk)
    except UserError:
        raise Http404("no such experiment") from None


def _floats(text: str) -> list[float]:
    try:
        return [float(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise UserError(f"shares {text!r}: write numbers separated by commas, e.g. 0.5,0.5") from None


def _date(text: str, what: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"{what} {text!r} is not a date (YYYY-MM-DD)") from None


@analytics_view
def experiment_index(request: HttpRequest) -> HttpResponse:
    committees = analytics_committees(request.user)
    lists = saved_lists_visible(request.user).filter(committee__in=committees).order_by("name")[:200]
    return render(request, "analytics/experiments/index.html", {
        "experiments": experiments_visible(request.user)[:200], "lists": lists})


@analytics_view
@require_http_methods(["GET", "POST"])
def experiment_new(request: HttpRequest) -> HttpResponseBase:
    list_id = request.GET.get("list") or request.POST.get("list") or ""
    if not list_id.isdigit():
        return redirect("analytics-experiments")
    saved = get_object_or_404(saved_lists_visible(request.user).filter(
        committee__in=analytics_committees(request.user)), pk=int(list_id))
    post: dict[str, Any] = {"name": "", "arms": "control,treatment", "shares": "", "block_by": "",
                            "households": True, "seed": ""}
    error = None
    if request.method == "POST":
        post = {k: request.POST.get(k, "") for k in ("name", "arms", "shares", "block_by", "seed")}
        post["households"] = request.POST.get("households") == "on"
        try:
            seed = post["seed"].strip()
            if seed and not seed.isdigit():
                raise UserError(f"seed {seed!r} must be a whole number from 0 (or leave it empty)")
            exp = experiment_create(
                user=request.user, saved_list=saved, name=post["name"], arms=post["arms"].split(","),
                shares=_floats(post["shares"]) or None, block_by=post["block_by"] or None,
                cluster_households=post["households"], seed=int(seed) if seed else None)
        except UserError as exc:
            error = exc.message
        else:
            return redirect("analytics-experiment", pk=exp.pk)
    return render(request, "analytics/experiments/new.html", {
        "list": saved, "post": post, "error": error, "block_columns": BLOCK_COLUMNS},
        status=400 if error else 200)


def _points(v: Any) -> float | None:
    return None if v is None else 100 * float(v)


def _effect_rows(effects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Effects in percentage points, as the page shows them."""
    return [{**e, **{f"{k}_pts": _points(e.get(k)) for k in ("estimate", "se", "ci_low", "ci_high", "control_mean")}}
            for e in effects]


def _rows(exp: Experiment) -> dict[str, Any]:
    """The design's and the results' tables shaped for the template."""
    d, r = exp.design, exp.results
    arms = d.get("arms", [])
    power = d.get("power", {})
    return {"arms": arms, "treated_arms": arms[1:],
            "counts": [{**c, "share": share} for c, share in zip(d.get("counts", []), d.get("shares", []), strict=False)],
            "balance": [{"covariate": b["covariate"], "cells": list(b["means"]), "diffs": list(b["std_diffs"])}
                        for b in d.get("balance", [])],
            "mdes": [{**m, "itt_pts": _points(m["itt"]), "cace_pts": _points(m["cace"])}
                     for m in power.get("mde", [])],
            "base_rate_pct": _points(power.get("base_rate")),
            "contact_rate_pct": _points(power.get("contact_rate")),
            "itt": _effect_rows(r.get("itt", [])), "cace": _effect_rows(r.get("cace", [])),
            "compliance": [{**c, "contact_pct": _points(c.get("contact_rate")),
                            "outcome_pct": _points(c.get("outcome_mean"))} for c in r.get("compliance", [])]}


def _detail_page(request: HttpRequest, exp: Experiment, *, error: str | None = None,
                 form: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    form = form or {"outcome": exp.results.get("outcome", ""), "since": "", "until": "",
                    "block_effects": bool(exp.results.get("block_effects"))}
    return render(request, "analytics/experiments/detail.html", {
        "exp": exp, "design": exp.design, "results": exp.results, "error": error, "form": form, **_rows(exp)},
        status=status)


@analytics_view
def experiment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _experiment_or_404(request, pk))


@analytics_view
@require_POST
def experiment_analysis(request: HttpRequest, pk: int) -> HttpResponseBase:
    exp = _experiment_or_404(request, pk)
    outcome, since, until = (request.POST.get(k, "") for k in ("outcome", "since", "until"))
    block_effects = request.POST.get("block_effects") == "on"
    form = {"outcome": outcome, "since": since, "until": until, "block_effects": block_effects}
    try:
        experiment_analyze(user=request.user, experiment=exp, outcome=outcome, since=_date(since, "first day"),
                           until=_date(until, "last day"), block_effects=block_effects)
    except UserError as exc:
        return _detail_page(request, exp, error=exc.message, form=form, status=400)
    return redirect("analytics-experiment", pk=exp.pk)
