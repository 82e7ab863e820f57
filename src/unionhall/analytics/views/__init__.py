"""Analytics pages; each area's views are in ``views/<area>.py``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from unionhall.analytics.models import Experiment, Poll, ScoreModel
from unionhall.analytics.selectors import analytics_committees, analytics_view


@analytics_view
def index(request: HttpRequest) -> HttpResponse:
    committees = analytics_committees(request.user)
    return render(request, "analytics/index.html", {
        "models": ScoreModel.objects.filter(committee__in=committees).select_related("committee")[:20],
        "experiments": Experiment.objects.filter(committee__in=committees).select_related("committee")[:20],
        "polls": Poll.objects.filter(committee__in=committees).select_related("committee")[:20],
    })
