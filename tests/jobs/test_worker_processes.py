"""Real `unionhall worker` processes on the test's app database: the claim, a worker
killed mid-job, a graceful stop. (They run again on PostgreSQL in the app-database pass.)"""

from __future__ import annotations

import collections
import signal
from pathlib import Path

import pytest

import tests.jobs.worker_kinds  # noqa: F401  (the test job kinds)
from tests.backends import warehouse_location
from tests.jobs.workers import wait_until, workers
from unionhall.jobs.models import Job
from unionhall.jobs.runner import job_submit
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db(transaction=True)


def _fresh_warehouse(tmp_path: Path) -> Path | str:
    """A migrated warehouse for the workers, closed again: the worker process owns it."""
    location = warehouse_location(tmp_path)
    wh = Warehouse(location)
    wh.migrate()
    wh.close()
    return location


def _people(location: Path | str) -> int:
    wh = Warehouse(location)
    try:
        return int(wh.unscoped_table("person").count().execute())
    finally:
        wh.close()


def _statuses(ids: list[int]) -> dict[int, str]:
    return dict(Job.objects.filter(pk__in=ids).values_list("pk", "status"))


def test_two_worker_processes_run_every_job_exactly_once(tmp_path: Path) -> None:
    runs = tmp_path / "runs.txt"
    ids = [
        job_submit(kind="test.worker.record", params={"path": str(runs), "sleep": 0.02}).pk
        for _ in range(20)
    ]
    args = ["--threads", "2", "--no-warehouse"]
    with workers(tmp_path, tmp_path / "unused.duckdb", args, args) as (a, b):
        wait_until(lambda: set(_statuses(ids).values()) == {"succeeded"}, 45, a, b)
        assert a.stop() == 0 and b.stop() == 0
    lines = runs.read_text().splitlines()
    counts = collections.Counter(int(line.split()[0]) for line in lines)
    assert counts == {pk: 1 for pk in ids}  # no job run twice, none skipped
    owners = {line.split()[1] for line in lines}
    assert owners <= {a.name, b.name}
    jobs = Job.objects.filter(pk__in=ids)
    assert all(j.worker in (a.name, b.name) and j.result == {"worker": j.worker} for j in jobs)


def test_a_killed_worker_leaves_no_trace_and_its_job_is_failed(tmp_path: Path) -> None:
    location = _fresh_warehouse(tmp_path)
    marker = tmp_path / "wrote"
    job = job_submit(
        kind="test.worker.write_then_sleep",
        params={"rows": 500, "marker": str(marker), "sleep": 120},
    )
    env = {"UNIONHALL_JOB_HEARTBEAT_TIMEOUT": "2"}
    with workers(tmp_path, location, [], env=env) as (doomed,):
        wait_until(marker.exists, 30, doomed)  # its 500 rows are written, not committed
        job.refresh_from_db()
        assert (job.status, job.worker) == (Job.Status.RUNNING, doomed.name)
        doomed.proc.send_signal(signal.SIGKILL)
        doomed.proc.wait(10)
    assert _people(location) == 0  # the warehouse has no trace of the killed job
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING  # nobody has noticed yet

    # A worker that does not hold the warehouse notices by the heartbeat timeout alone.
    with workers(tmp_path, location, ["--no-warehouse"], env=env) as (rescuer,):
        rescuer.wait_ready()
        wait_until(lambda: _statuses([job.pk])[job.pk] == "failed", 30, rescuer)
        assert rescuer.stop() == 0
    job.refresh_from_db()
    assert job.error == (
        f"worker {doomed.name} stopped while running this job; the warehouse was left as "
        "before (the job's transaction was rolled back); resubmit"
    )
    assert job.message == "interrupted" and job.finished_at is not None
    assert "marked 1 job(s) of stopped workers as failed" in rescuer.output()
    assert _people(location) == 0


def test_sigterm_finishes_the_running_job_and_claims_no_more(tmp_path: Path) -> None:
    location = _fresh_warehouse(tmp_path)
    marker = tmp_path / "wrote"
    first = job_submit(
        kind="test.worker.write_then_sleep",
        params={"rows": 30, "marker": str(marker), "sleep": 1.5},
    )
    second = job_submit(
        kind="test.worker.write_then_sleep",
        params={"rows": 7, "marker": str(tmp_path / "second"), "sleep": 0},
    )
    with workers(tmp_path, location, []) as (w,):
        wait_until(marker.exists, 30, w)
        w.proc.send_signal(signal.SIGTERM)  # mid-job
        assert w.proc.wait(30) == 0, w.output()
    assert "finishing the running job(s)" in w.output()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Job.Status.SUCCEEDED, first.error
    assert second.status == Job.Status.QUEUED  # claimed by nobody after the signal
    assert _people(location) == 30
