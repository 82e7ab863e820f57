"""Job kinds of member imports."""

from __future__ import annotations

from typing import Any

from unionhall.ingest.services import member_import_run
from unionhall.jobs.registry import job_kind
from unionhall.jobs.runner import JobContext


@job_kind("ingest.import_members", title="Import a member list")
def import_members(ctx: JobContext, **params: Any) -> dict[str, Any]:
    """Import one affiliate member file (see `member_import_run`)."""
    return member_import_run(ctx, **params)
