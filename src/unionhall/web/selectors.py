"""Reads behind the general pages (home, health)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import connection

from unionhall.warehouse import get_warehouse


def health_check() -> dict[str, Any]:
    """Is each store answering? Used by /healthz and `unionhall config --check`."""
    report: dict[str, Any] = {"status": "ok"}
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        report["database"] = "ok"
    except Exception as exc:
        report["database"] = f"error: {type(exc).__name__}"
        report["status"] = "error"
    try:
        get_warehouse().cursor().execute("SELECT 1").fetchone()
        report["warehouse"] = "ok"
    except Exception as exc:
        report["warehouse"] = f"error: {type(exc).__name__}"
        report["status"] = "error"
    return report


def synth_manifest() -> dict[str, Any] | None:
    """The manifest of the synthetic state in the data directory, if one was generated."""
    path = settings.UNIONHALL.data_dir / "synth" / "manifest.json"
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def home_summary(*, user: Any) -> dict[str, Any]:
    """Aggregate figures for the home page: member counts over the user's scope."""
    from unionhall.ingest.selectors import member_totals

    wh = get_warehouse()
    migrations = wh.applied_migrations()
    members = member_totals(user=user)
    return {
        "members": members,
        "members_active": sum(m["active"] for m in members),
        "warehouse_tables": len([t for t in wh.tables() if not t.startswith("_")]),
        "warehouse_version": migrations[-1][0] if migrations else 0,
        "database_kind": settings.UNIONHALL.database_kind,
        "synth": synth_manifest(),
    }
