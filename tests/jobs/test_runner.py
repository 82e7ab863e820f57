from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group

from tests.backends import needs_postgres, postgres_location
from unionhall.jobs.models import Job
from unionhall.jobs.registry import job_kind
from unionhall.jobs.runner import JobContext, job_run, job_submit, jobs_recover_interrupted
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db


def _insert_people(ctx: JobContext, n: int) -> None:
    ctx.warehouse.cursor().execute(
        "INSERT INTO person (person_id, last_name) SELECT i, 'X' FROM range(?) t(i)", [n]
    )


@job_kind("test.load", title="test: load people")
def _load(ctx: JobContext, n: int) -> dict[str, Any]:
    _insert_people(ctx, n)
    ctx.progress(50, "half way")
    ctx.defer_app_write(lambda: Group.objects.create(name="loaded"))
    return {"rows": n}


@job_kind("test.half_then_fail", title="test: fail half way")
def _half_then_fail(ctx: JobContext, n: int) -> None:
    _insert_people(ctx, n)
    ctx.defer_app_write(lambda: Group.objects.create(name="should-not-exist"))
    ctx.progress(50, "half way")
    raise RuntimeError("disk on fire")


def _people(wh: Warehouse) -> int:
    return int(wh.unscoped_table("person").count().execute())


def test_successful_job_commits_both_stores(warehouse: Warehouse) -> None:
    seen: list[tuple[int, str]] = []
    job = job_run(job=job_submit(kind="test.load", params={"n": 25}), warehouse=warehouse,
                  on_progress=lambda p, m: seen.append((p, m)))
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result == {"rows": 25}
    assert job.progress == 100
    assert job.started_at is not None and job.finished_at is not None
    assert _people(warehouse) == 25
    assert Group.objects.filter(name="loaded").exists()
    assert (50, "half way") in seen
    assert "finished" in job.log


def test_job_failing_halfway_leaves_both_stores_unchanged(warehouse: Warehouse) -> None:
    job_run(job=job_submit(kind="test.load", params={"n": 10}), warehouse=warehouse)
    before = _people(warehouse)
    job = job_run(job=job_submit(kind="test.half_then_fail", params={"n": 1000}), warehouse=warehouse)
    assert job.status == Job.Status.FAILED
    assert "disk on fire" in job.error
    assert "nothing was changed" in job.error
    assert _people(warehouse) == before == 10
    assert not Group.objects.filter(name="should-not-exist").exists()
    assert "Traceback" in job.log  # the log keeps the detail for the maintainers


def test_unknown_kind_is_refused_at_submit() -> None:
    from unionhall.errors import UserError

    with pytest.raises(UserError, match="unknown job kind 'nope'"):
        job_submit(kind="nope")


def test_a_job_runs_once(warehouse: Warehouse) -> None:
    job = job_submit(kind="test.load", params={"n": 1})
    job_run(job=job, warehouse=warehouse)
    with pytest.raises(RuntimeError, match="not queued"):
        job_run(job=job, warehouse=warehouse)
    assert _people(warehouse) == 1


def test_interrupted_jobs_are_marked_failed() -> None:
    job = Job.objects.create(kind="test.load", status=Job.Status.RUNNING)
    assert jobs_recover_interrupted() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "stopped while running this job" in job.error and "resubmit" in job.error



@pytest.mark.parametrize("_pg", [pytest.param(None, marks=needs_postgres)])
def test_a_job_leaves_planner_statistics_on_postgres(_pg: None) -> None:
    """Jobs follow each other faster than autovacuum analyzes: without statistics
    PostgreSQL planned the demo's turf cut (3,000 voters) as nested loops that did not
    finish in minutes. A committed job leaves every table of the schema analyzed."""
    wh = Warehouse(postgres_location())
    wh.migrate()
    try:
        job = job_run(job=job_submit(kind="test.load", params={"n": 1234}), warehouse=wh)
        assert job.status == Job.Status.SUCCEEDED
        rows = dict(wh.cursor().execute(
            "SELECT c.relname, c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r'").fetchall())
    finally:
        wh.close()
    assert rows["person"] == 1234  # -1 (never analyzed) without the refresh
    assert all(v >= 0 for v in rows.values()), rows
