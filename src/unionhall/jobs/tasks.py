"""Built-in job kinds."""

from __future__ import annotations

from typing import Any

from unionhall.jobs.registry import job_kind
from unionhall.jobs.runner import JobContext
from unionhall.warehouse.migrations import MIGRATIONS, apply_migrations


@job_kind("warehouse.migrate", title="Migrate the warehouse")
def warehouse_migrate(ctx: JobContext) -> dict[str, Any]:
    """Apply pending warehouse migrations (a no-op when up to date)."""
    ctx.progress(5, "checking warehouse migrations")
    applied = apply_migrations(ctx.warehouse, nested=True)
    for name in applied:
        ctx.log(f"applied {name}")
    ctx.progress(100, f"{len(applied)} applied, {len(MIGRATIONS)} known")
    return {"applied": applied, "known": len(MIGRATIONS)}
