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


@job_kind("synth.generate", title="Generate a synthetic state", uses_warehouse=False)
def synth_generate(ctx: JobContext, *, out: str, **params: Any) -> dict[str, Any]:
    """Write a synthetic state's files (voter file, history, members, truth) into `out`."""
    from unionhall.synth import SynthParams, generate

    summary = generate(SynthParams(**params), out, progress=ctx.progress)
    return {"out": out, "counts": summary.counts, "member_files": len(summary.member_files)}
