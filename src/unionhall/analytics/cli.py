"""Analytics commands. Each area's module (``cli_<area>.py``) has
`register(app, import_app)`, like every capability's CLI module."""

from __future__ import annotations

import importlib
from typing import Any

AREAS = ("models", "experiments", "polls", "sql")


def register(app: Any, import_app: Any) -> None:
    for area in AREAS:
        name = f"unionhall.analytics.cli_{area}"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(app, import_app)
