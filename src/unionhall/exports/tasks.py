"""Job kinds of exports."""

from __future__ import annotations

from typing import Any

from unionhall.jobs.registry import job_kind
from unionhall.jobs.runner import JobContext


@job_kind("exports.run", title="Write an approved export")
def run_export(ctx: JobContext, export_id: int) -> dict[str, Any]:
    from unionhall.exports.models import ExportRequest
    from unionhall.exports.services import export_run

    er = ExportRequest.objects.select_related("saved_list", "committee", "requested_by", "decided_by", "vendor").get(
        pk=export_id)
    ctx.progress(5, f"reading {er.saved_list.name} as {er.requested_by.get_username()} sees it")
    return export_run(er=er, warehouse=ctx.warehouse, log=ctx.log, defer=ctx.defer_app_write)
