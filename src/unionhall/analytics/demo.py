"""The demo's analytics: the state federation's turnout model (back-tested on the latest
general against "voted in the last two generals", scoring everyone into the ``turnout``
slot the list builder filters on) and imputed race/ethnicity and age bands. Idempotent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model

from unionhall.access.models import Committee


def demo_analytics_ensure(*, say: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    from unionhall.analytics.cli_models import card_lines
    from unionhall.analytics.models import ScoreModel
    from unionhall.analytics.services import model_train_submit
    from unionhall.jobs.runner import job_run, job_submit

    users = {u.username: u for u in get_user_model().objects.filter(
        username__in=["analyst-statefederation", "datamanager-statefederation"])}
    federation = Committee.objects.filter(kind=Committee.Kind.STATE_FEDERATION).order_by("pk").first()
    if federation is None or len(users) < 2:
        return {}
    out: dict[str, Any] = {}
    model = ScoreModel.objects.filter(committee=federation, slot="turnout", status=ScoreModel.Status.ACTIVE).first()
    if model is None:
        say("analytics: training the state federation's turnout model")
        model = model_train_submit(user=users["analyst-statefederation"], committee=federation, kind="turnout",
                                   name="Turnout (next general)", slot="turnout")
        assert model.job is not None
        job = job_run(job=model.job)
        if job.status != "succeeded":
            raise RuntimeError(f"demo turnout model failed: {job.error}")
        model.refresh_from_db()
        for line in card_lines(model.card):
            say(f"analytics: {line.strip()}")
    out["model"] = model.pk
    from unionhall.jobs.models import Job

    if not Job.objects.filter(kind="analytics.impute", status=Job.Status.SUCCEEDED).exists():
        job = job_run(job=job_submit(kind="analytics.impute", params={}, user=users["datamanager-statefederation"]))
        if job.status != "succeeded":
            raise RuntimeError(f"demo imputation failed: {job.error}")
        r = job.result
        imputed = sum(n for method, n in r["race_by_method"].items() if method != "none")
        say(f"analytics: race/ethnicity imputed for {imputed:,} people (BISG agrees with the voter file's "
            f"self-reported race for {r['race_agreement_bisg']:.0%})")
    return out
