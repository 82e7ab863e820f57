"""Experiment pages, under /analytics/experiments/."""

from __future__ import annotations

from django.urls import path

from unionhall.analytics.views import experiments

urlpatterns = [
    path("", experiments.experiment_index, name="analytics-experiments"),
    path("new/", experiments.experiment_new, name="analytics-experiment-new"),
    path("<int:pk>/", experiments.experiment_detail, name="analytics-experiment"),
    path("<int:pk>/analyze/", experiments.experiment_analysis, name="analytics-experiment-analyze"),
]
