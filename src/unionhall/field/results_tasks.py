"""Job kind of vendor result uploads (`field.import_results`).

Not a `tasks` module of its own: `field/tasks.py` imports it, so the jobs app's
autodiscovery registers it with the other field jobs.
"""

from __future__ import annotations

from typing import Any

from unionhall.jobs.registry import job_kind
from unionhall.jobs.runner import JobContext


@job_kind("field.import_results", title="Import a vendor's contact results")
def import_results(ctx: JobContext, **params: Any) -> dict[str, Any]:
    """Check and post one uploaded result file (see `results_import_run`)."""
    from unionhall.field.results_import import results_import_run

    return results_import_run(ctx, **params)
