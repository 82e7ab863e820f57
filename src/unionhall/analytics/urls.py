"""Analytics pages, mounted under /analytics/: each area's ``urls_<area>.py`` under its
prefix."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec

from django.urls import include, path

from unionhall.analytics import views

urlpatterns = [path("", views.index, name="analytics")]
AREAS = {"models/": "models", "experiments/": "experiments", "polls/": "polls", "sql/": "sql"}
for prefix, area in AREAS.items():
    module = f"unionhall.analytics.urls_{area}"
    if find_spec(module) is not None:
        urlpatterns.append(path(prefix, include(import_module(module))))
