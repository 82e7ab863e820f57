"""Job kinds of identity."""

from __future__ import annotations

from typing import Any

from unionhall.identity.services import identity_match_run
from unionhall.identity.settings import MatchSettings
from unionhall.jobs.registry import job_kind
from unionhall.jobs.runner import JobContext


@job_kind("identity.match", title="Match records to persons")
def match(ctx: JobContext, **params: Any) -> dict[str, Any]:
    """Match new and changed member records and voters; see `identity_match_run`."""
    result = identity_match_run(
        warehouse=ctx.warehouse, settings=MatchSettings.from_params(params), job_id=ctx.job.pk,
        progress=ctx.progress, log=ctx.log,
    )
    ctx.log(
        f"links {result['links']:,}, persons {result['persons']:,}, dual members "
        f"{result['dual_members']:,}, within-list duplicates {result['within_list_duplicates']:,}, "
        f"review {result['review_pairs']:,}"
    )
    return result
