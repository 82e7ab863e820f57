"""Poll pages, under /analytics/polls/."""

from __future__ import annotations

from django.urls import path

from unionhall.analytics.views import polls

urlpatterns = [
    path("", polls.poll_index, name="analytics-polls"),
    path("<int:poll_id>/", polls.poll_detail, name="analytics-poll"),
    path("<int:poll_id>/weight/", polls.poll_weight, name="analytics-poll-weight"),
]
