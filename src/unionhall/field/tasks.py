"""Job kinds of the field program, and the targeting attributes kept in step with every
load that changes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from unionhall.field import results_tasks  # noqa: F401  (registers field.import_results)
from unionhall.jobs.registry import after_jobs, job_kind
from unionhall.jobs.runner import JobContext

FACTS_INPUTS = (
    "elections.import_voterfile", "elections.import_voterfile_vendor", "elections.import_history",
    "elections.import_absentee", "identity.match", "field.import_address_points",
)


@after_jobs(*FACTS_INPUTS)
def refresh_person_facts(ctx: JobContext) -> None:
    """Precinct, districts, participation, ballot and door of every person, recomputed
    in the same transaction as the load that changed them."""
    from unionhall.field.facts import person_facts_refresh

    ctx.progress(99, "updating the targeting attributes of persons")
    n = person_facts_refresh(ctx.warehouse.cursor())
    ctx.log(f"targeting attributes updated for {n:,} persons")


@job_kind("field.import_address_points", title="Import address points (coordinates of addresses)")
def import_address_points(ctx: JobContext, path: str) -> dict[str, Any]:
    from unionhall.field.address_points import address_points_load

    ctx.progress(5, f"reading {Path(path).name}")
    result = address_points_load(warehouse=ctx.warehouse, path=Path(path), load_id=ctx.job.pk, log=ctx.log)
    ctx.log(f"{result['rows_read']:,} rows read, {result['rows_loaded']:,} loaded, "
            f"{result['rows_skipped']:,} not loaded {result['skipped_by_reason'] or ''}")
    return result


@job_kind("field.cut_turfs", title="Cut a list into turfs")
def cut_turfs(ctx: JobContext, cut_id: int) -> dict[str, Any]:
    """Cut a saved list into balanced, compact turfs in walk order (`turf_cut_run`)."""
    from unionhall.field.models import TurfCut
    from unionhall.field.services import turf_cut_run

    cut = TurfCut.objects.select_related("saved_list", "saved_list__committee").get(pk=cut_id)
    result = turf_cut_run(user=ctx.user, cut=cut, warehouse=ctx.warehouse, progress=ctx.progress,
                          defer=ctx.defer_app_write)
    ctx.log(f"{result['turfs']} turfs of {result['smallest']}-{result['largest']} doors from "
            f"{result['doors']:,} doors ({result['people']:,} people)")
    return result
