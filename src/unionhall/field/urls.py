"""Field pages under /field/: each area's module has its own `urlpatterns`."""

from importlib import import_module
from importlib.util import find_spec

from django.urls import URLPattern, URLResolver, include, path

AREAS = ("lists", "scripts", "canvass", "uploads")

urlpatterns: list[URLPattern | URLResolver] = []
for area in AREAS:
    module = f"unionhall.field.urls_{area}"
    if find_spec(module) is not None:
        urlpatterns.append(path("", include(import_module(module))))
