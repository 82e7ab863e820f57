from __future__ import annotations

import time

import pytest

from unionhall.jobs.models import Job
from unionhall.jobs.runner import WorkerPool, job_submit

pytestmark = pytest.mark.django_db(transaction=True)


def test_worker_threads_run_queued_jobs() -> None:
    # warehouse.migrate uses the process warehouse in the test data directory
    jobs = [job_submit(kind="warehouse.migrate") for _ in range(3)]
    pool = WorkerPool(2, poll_seconds=0.05)
    pool.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if Job.objects.filter(pk__in=[j.pk for j in jobs], status=Job.Status.SUCCEEDED).count() == 3:
                break
            time.sleep(0.05)
    finally:
        pool.stop()
    statuses = sorted(Job.objects.filter(pk__in=[j.pk for j in jobs]).values_list("status", flat=True))
    assert statuses == ["succeeded"] * 3
