"""The job queue: the jobs table of the app database, claimed by worker threads and
`unionhall worker` processes.

One claim path for everyone (in-process `WorkerPool` threads, external worker
processes, foreground CLI runs):

* on PostgreSQL the oldest queued row is locked with ``SELECT … FOR UPDATE SKIP LOCKED``
  inside a transaction and set to running there: two workers never get the same row and
  never wait for each other;
* on SQLite (one file, writes serialized) the claim is a conditional
  ``UPDATE … SET status='running' WHERE id=X AND status='queued'``; whoever changes the
  row (rowcount 1) has the job, the loser tries the next one.

A running job carries its worker (``host:pid``) and a heartbeat timestamp that the worker
refreshes while the job runs. A job whose heartbeat is older than
``UNIONHALL_JOB_HEARTBEAT_TIMEOUT`` belonged to a worker that stopped; it is marked failed.
Its warehouse writes were never committed (a job commits its warehouse transaction only
as the last statement of its final app transaction), so nothing it did was kept.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from unionhall.jobs.models import Job

if TYPE_CHECKING:
    from unionhall.warehouse import Warehouse

logger = logging.getLogger(__name__)

_ORDER = ("created_at", "id")


def worker_name() -> str:
    """This process as a worker: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _running(worker: str) -> dict[str, Any]:
    now = timezone.now()
    return {
        "status": Job.Status.RUNNING,
        "started_at": now,
        "heartbeat_at": now,
        "worker": worker[:200],
        "progress": 0,
    }


def job_claim(job_id: int, *, worker: str) -> bool:
    """Claim one given queued job (a foreground run). False when it is not queued."""
    return bool(
        Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(**_running(worker))
    )


def job_claim_next(*, worker: str, kinds: Collection[str] | None = None) -> Job | None:
    """Claim the oldest queued job (of `kinds`, when given) for `worker`; None when the
    queue has none. Safe with any number of worker threads and processes."""
    queued = Job.objects.filter(status=Job.Status.QUEUED)
    if kinds is not None:
        queued = queued.filter(kind__in=list(kinds))
    if connection.vendor == "postgresql":
        with transaction.atomic():
            row = queued.select_for_update(skip_locked=True).order_by(*_ORDER).first()
            if row is None:
                return None
            Job.objects.filter(pk=row.pk).update(**_running(worker))
        row.refresh_from_db()
        return row
    # SQLite: no row locks; the conditional UPDATE is the claim (rowcount says who won).
    for _ in range(100):
        job_id = queued.order_by(*_ORDER).values_list("pk", flat=True).first()
        if job_id is None:
            return None
        if job_claim(job_id, worker=worker):
            return Job.objects.get(pk=job_id)
    return None  # lost 100 races in a row: let the caller poll again


def job_heartbeat(job_id: int, *, worker: str) -> bool:
    """Say `worker` is still running the job. False when the job is no longer its own
    (finished, or marked failed as stale)."""
    return bool(
        Job.objects.filter(pk=job_id, status=Job.Status.RUNNING, worker=worker[:200]).update(
            heartbeat_at=timezone.now()
        )
    )


@contextmanager
def heartbeat(job_id: int, *, worker: str, every: float) -> Iterator[None]:
    """Refresh the job's heartbeat every `every` seconds on a side thread while the block runs."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                try:
                    if not job_heartbeat(job_id, worker=worker):
                        return
                except Exception:
                    logger.warning("job %s: heartbeat failed", job_id, exc_info=True)
        finally:
            connections.close_all()  # this thread's connection

    thread = threading.Thread(target=beat, name=f"unionhall-heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(1.0)  # a beat stuck on a lock ends by itself (daemon; its update is a no-op)


def stopped_message(worker: str) -> str:
    who = f"worker {worker}" if worker else "the worker"
    return (
        f"{who} stopped while running this job; the warehouse was left as before "
        "(the job's transaction was rolled back); resubmit"
    )


def _fail(job: Job, *, unless_heartbeat_after: Any = None) -> bool:
    qs = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, worker=job.worker)
    if unless_heartbeat_after is not None:
        qs = qs.filter(Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=unless_heartbeat_after))
    return bool(
        qs.update(
            status=Job.Status.FAILED,
            error=stopped_message(job.worker),
            message="interrupted",
            finished_at=timezone.now(),
        )
    )


def jobs_fail_stale(*, timeout: float | None = None) -> int:
    """Mark running jobs whose heartbeat is older than `timeout` seconds (default
    UNIONHALL_JOB_HEARTBEAT_TIMEOUT) as failed. Returns how many."""
    if timeout is None:
        from unionhall.config import get_config

        timeout = get_config().job_heartbeat_timeout
    cutoff = timezone.now() - timedelta(seconds=timeout)
    stale = Job.objects.filter(status=Job.Status.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
        | Q(heartbeat_at__isnull=True, started_at__isnull=True)
    )
    # One conditional update per job: a heartbeat that lands meanwhile keeps it running.
    return sum(_fail(job, unless_heartbeat_after=cutoff) for job in stale.only("pk", "worker"))


def jobs_fail_orphaned(warehouse: Warehouse) -> int:
    """While this process holds the embedded DuckDB warehouse, no other live process can
    be running a warehouse job: mark every running warehouse job as failed now, without
    waiting for the heartbeat timeout. Call it before this process starts running jobs."""
    from unionhall.jobs.registry import job_kinds
    from unionhall.warehouse.backends import DUCKDB

    if warehouse.kind != DUCKDB:
        return 0
    kinds = [k.kind for k in job_kinds() if k.uses_warehouse]
    orphans = Job.objects.filter(status=Job.Status.RUNNING, kind__in=kinds).only("pk", "worker")
    return sum(_fail(job) for job in orphans)


def jobs_recover(warehouse: Warehouse | None) -> int:
    """Fail the jobs of workers that stopped: stale heartbeats always, and with the
    embedded warehouse held by this process (`warehouse`) every orphaned warehouse job."""
    return (jobs_fail_orphaned(warehouse) if warehouse is not None else 0) + jobs_fail_stale()
