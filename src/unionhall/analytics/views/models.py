"""Targeting model pages: the models of the user's committees with a form to train one,
and one model's card (evaluation on held-out people, calibration, lift, features)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from unionhall.analytics import services
from unionhall.analytics.selectors import analytics_committees, analytics_view
from unionhall.errors import UserError


@analytics_view
def model_index(request: HttpRequest) -> HttpResponse:
    committees = analytics_committees(request.user)
    error, form = "", request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            chosen = next((c for c in committees if str(c.pk) == request.POST.get("committee", "")), None)
            if chosen is None:
                raise UserError("choose one of your committees")
            kind = request.POST.get("kind", "turnout")
            target: dict[str, Any] = ({"question": request.POST.get("question", "").strip(),
                                       "response": request.POST.get("response", "").strip()}
                                      if kind == "support" else
                                      {"heldout": request.POST["heldout"]} if request.POST.get("heldout") else {})
            m = services.model_train_submit(user=request.user, committee=chosen, kind=kind,
                                            name=request.POST.get("name", ""), slot=request.POST.get("slot", kind),
                                            target=target)
            return redirect("analytics-model", pk=m.pk)
        except UserError as exc:
            error = exc.message
    return render(request, "analytics/models/index.html", {
        "models": services.models_visible(request.user)[:100], "committees": committees, "error": error,
        "form": form}, status=400 if error else 200)


@analytics_view
def model_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        m = services.model_get(request.user, pk)
    except UserError:
        raise Http404("no such model") from None
    return render(request, "analytics/models/detail.html", {"m": m, "card": m.card,
                                                             "ev": m.card.get("evaluation", {})})
