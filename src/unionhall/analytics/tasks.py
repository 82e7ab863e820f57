"""Job kinds of analytics."""

from __future__ import annotations

from typing import Any

from unionhall.jobs.registry import job_kind
from unionhall.jobs.runner import JobContext


@job_kind("analytics.train_model", title="Train, judge and score a targeting model")
def train_model(ctx: JobContext, model_id: int, seed: int = 1) -> dict[str, Any]:
    from unionhall.analytics.services import model_train_run

    ctx.progress(5, "reading features through your scope")
    return model_train_run(model_id=model_id, seed=seed, warehouse=ctx.warehouse, log=ctx.log,
                           defer=ctx.defer_app_write)


@job_kind("analytics.impute", title="Impute race/ethnicity (BISG) and age bands")
def impute(ctx: JobContext, seed: int = 1) -> dict[str, Any]:
    from unionhall.analytics.impute import impute_run
    from unionhall.errors import UserError

    user = ctx.job.created_by
    if user is None:
        raise UserError("imputation runs as the user who asked for it: submit it with a user")
    ctx.progress(5, f"reading the people {user.get_username()} may see")
    return impute_run(user=user, warehouse=ctx.warehouse, seed=seed, log=ctx.log).as_dict()
