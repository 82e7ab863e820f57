"""The claim, heartbeats and stale-worker recovery in one process (fast); the same with
real processes is in test_worker_processes.py."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import free_port, run_cli
from unionhall.config import load_config
from unionhall.errors import ConfigError
from unionhall.jobs.models import Job
from unionhall.jobs.queue import job_claim_next, jobs_fail_stale, stopped_message
from unionhall.jobs.registry import job_kind
from unionhall.jobs.runner import JobContext, job_run, job_submit
from unionhall.warehouse import Warehouse


@job_kind("test.queue.noop", title="test: nothing", uses_warehouse=False)
def _noop(ctx: JobContext) -> None:
    return None


@job_kind("test.queue.taken_away", title="test: declared stale while running")
def _taken_away(ctx: JobContext) -> dict[str, Any]:
    ctx.warehouse.cursor().execute("INSERT INTO person (person_id, last_name) VALUES (1, 'T')")
    # Another worker's recovery decides this worker stopped (it was paused too long).
    Job.objects.filter(pk=ctx.job.pk).update(
        status=Job.Status.FAILED, error=stopped_message(ctx.job.worker)
    )
    return {"rows": 1}


@pytest.mark.django_db(transaction=True)
def test_threads_claiming_at_once_take_each_job_once() -> None:
    ids = {job_submit(kind="test.queue.noop").pk for _ in range(30)}
    got: list[int] = []
    lock = threading.Lock()

    def claim(n: int) -> None:
        try:
            while (job := job_claim_next(worker=f"t:{n}", kinds=["test.queue.noop"])) is not None:
                with lock:
                    got.append(job.pk)
        finally:
            from django.db import connection

            connection.close()

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(got) == sorted(ids)
    claimed = Job.objects.filter(pk__in=ids)
    assert all(j.status == Job.Status.RUNNING and j.heartbeat_at and j.worker for j in claimed)


@pytest.mark.django_db
def test_only_jobs_with_a_stale_heartbeat_are_failed() -> None:
    now = timezone.now()
    fresh = Job.objects.create(kind="test.queue.noop", status="running", worker="h:1",
                               started_at=now - timedelta(hours=1), heartbeat_at=now)
    stale = Job.objects.create(kind="test.queue.noop", status="running", worker="h:2",
                               started_at=now - timedelta(hours=1),
                               heartbeat_at=now - timedelta(seconds=90))
    done = Job.objects.create(kind="test.queue.noop", status="succeeded", worker="h:3",
                              heartbeat_at=now - timedelta(hours=2))
    assert jobs_fail_stale(timeout=60) == 1
    for job in (fresh, stale, done):
        job.refresh_from_db()
    assert (fresh.status, stale.status, done.status) == ("running", "failed", "succeeded")
    assert stale.error.startswith("worker h:2 stopped while running this job")


@pytest.mark.django_db
def test_a_job_declared_stale_meanwhile_commits_nothing(warehouse: Warehouse) -> None:
    job = job_run(job=job_submit(kind="test.queue.taken_away"), warehouse=warehouse)
    assert job.status == Job.Status.FAILED
    assert "stopped while running this job" in job.error  # the recovery's word stands
    assert int(warehouse.unscoped_table("person").count().execute()) == 0


def test_job_worker_settings(tmp_path: Path) -> None:
    cfg = load_config({"UNIONHALL_DATA_DIR": str(tmp_path)})
    assert (cfg.job_workers, cfg.job_heartbeat_timeout) == ("threads", 60.0)
    cfg = load_config({"UNIONHALL_DATA_DIR": str(tmp_path), "UNIONHALL_JOB_WORKERS": "External",
                       "UNIONHALL_JOB_HEARTBEAT_TIMEOUT": "15"})
    assert (cfg.job_workers, cfg.job_heartbeat_timeout) == ("external", 15.0)
    with pytest.raises(ConfigError, match="UNIONHALL_JOB_WORKERS='celery' is not one of"):
        load_config({"UNIONHALL_DATA_DIR": str(tmp_path), "UNIONHALL_JOB_WORKERS": "celery"})
    with pytest.raises(ConfigError, match="UNIONHALL_JOB_HEARTBEAT_TIMEOUT"):
        load_config({"UNIONHALL_DATA_DIR": str(tmp_path), "UNIONHALL_JOB_HEARTBEAT_TIMEOUT": "0"})


def test_serve_refuses_external_workers_with_the_duckdb_warehouse_it_holds(tmp_path: Path) -> None:
    result = run_cli("serve", "--port", str(free_port()), env={
        "UNIONHALL_DATA_DIR": str(tmp_path),
        "UNIONHALL_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'w.duckdb'}",
        "UNIONHALL_JOB_WORKERS": "external",
    })
    assert result.returncode != 0
    assert "UNIONHALL_JOB_WORKERS=external needs a server warehouse" in result.stderr
