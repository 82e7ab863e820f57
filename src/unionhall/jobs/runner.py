"""Running jobs: in the foreground (CLI) or on worker threads (`unionhall serve`, or
`unionhall worker` processes; the queue and its claim are in `unionhall.jobs.queue`).

The contract a job function relies on:

* Warehouse writes made through ``ctx.warehouse`` happen inside one DuckDB transaction
  that commits only if the whole function returns; any exception rolls it back.
* App-database writes are handed to ``ctx.defer_app_write(fn)``; they run in one
  Django transaction after the function returns, with the warehouse commit as the last
  statement inside it. So a job that fails halfway leaves both stores as they were.
* Progress (``ctx.progress``) and log lines are written to the Job row as they happen,
  outside those transactions, so the job page can show them live.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import traceback
from collections.abc import Callable, Collection
from typing import Any

from django.db import close_old_connections, connections, transaction
from django.utils import timezone

from unionhall.config import get_config
from unionhall.errors import UserError
from unionhall.jobs.models import Job
from unionhall.jobs.queue import heartbeat, job_claim, job_claim_next, jobs_recover, worker_name
from unionhall.jobs.registry import after_job_hooks, get_job_kind, job_kinds
from unionhall.warehouse import Warehouse, get_warehouse

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, str], None]

_PROGRESS_INTERVAL = 0.5  # seconds between progress writes to the app database
# Warehouse jobs of one process run one at a time: DuckDB aborts one of two transactions
# that write the same rows or tables, and two big jobs on two cores gain nothing.
_WAREHOUSE_JOBS = threading.Lock()


class JobContext:
    """What a running job function gets: its Job, the warehouse, progress and log."""

    def __init__(
        self, job: Job, warehouse: Warehouse | None, on_progress: ProgressCallback | None
    ) -> None:
        self.job = job
        self._warehouse = warehouse
        self._on_progress = on_progress
        self._deferred: list[Callable[[], None]] = []
        self._log: list[str] = []
        self._last_write = 0.0
        self._percent = 0
        self._message = ""

    @property
    def warehouse(self) -> Warehouse:
        if self._warehouse is None:
            raise RuntimeError(f"job kind {self.job.kind!r} was registered without the warehouse")
        return self._warehouse

    @property
    def user(self) -> Any:
        return self.job.created_by

    def progress(self, percent: float, message: str = "") -> None:
        """Report progress (0-100) with a short message; cheap to call often."""
        self._percent = max(0, min(100, int(percent)))
        self._message = message[:300]
        if self._on_progress is not None:
            self._on_progress(self._percent, self._message)
        now = time.monotonic()
        if now - self._last_write >= _PROGRESS_INTERVAL:
            self._last_write = now
            self._flush()

    def log(self, line: str) -> None:
        """Append a line to the job's log."""
        stamp = timezone.now().strftime("%H:%M:%S")
        self._log.append(f"{stamp} {line}")
        logger.info("job %s: %s", self.job.pk, line)

    def defer_app_write(self, fn: Callable[[], None]) -> None:
        """Run `fn` in the job's final app-database transaction (only if the job succeeds)."""
        self._deferred.append(fn)

    def log_text(self) -> str:
        return "\n".join(self._log)

    def _flush(self) -> None:
        Job.objects.filter(pk=self.job.pk).update(
            progress=self._percent, message=self._message, log=self.log_text()
        )


def job_submit(*, kind: str, params: dict[str, Any] | None = None, user: Any = None) -> Job:
    """Queue a job for the worker threads (or for `job_run` in the foreground)."""
    get_job_kind(kind)  # fail now, not on the worker, for an unknown kind
    return Job.objects.create(
        kind=kind,
        params=params or {},
        created_by=user if getattr(user, "pk", None) else None,
    )


def job_run(
    *,
    job: Job,
    warehouse: Warehouse | None = None,
    on_progress: ProgressCallback | None = None,
) -> Job:
    """Run a queued job in this thread and return it finished (succeeded or failed).

    Never raises for a failure of the job itself: the error is stored on the Job.
    """
    worker = worker_name()
    if not job_claim(job.pk, worker=worker):
        raise RuntimeError(f"job {job.pk} is not queued (another worker took it?)")
    job.refresh_from_db()
    return job_execute(job=job, worker=worker, warehouse=warehouse, on_progress=on_progress)


def job_execute(
    *,
    job: Job,
    worker: str,
    warehouse: Warehouse | None = None,
    on_progress: ProgressCallback | None = None,
) -> Job:
    """Run a job already claimed by `worker` (`unionhall.jobs.queue`), beating its heartbeat."""
    try:
        spec = get_job_kind(job.kind)
    except UserError as exc:  # a kind this worker's code does not know (older release?)
        _finish_failed(job, worker, f"{exc.message}; this worker ({worker}) cannot run it", "")
        job.refresh_from_db()
        return job
    try:
        wh = (warehouse or get_warehouse()) if spec.uses_warehouse else None
    except UserError as exc:  # e.g. the warehouse file is held by another process
        _finish_failed(job, worker, f"{exc.message}; nothing was changed", "")
        job.refresh_from_db()
        return job
    ctx = JobContext(job, wh, on_progress)
    every = max(0.2, get_config().job_heartbeat_timeout / 3)
    # The heartbeat starts first: waiting for this process's warehouse turn is running too.
    with (
        heartbeat(job.pk, worker=worker, every=every),
        _WAREHOUSE_JOBS if wh is not None else contextlib.nullcontext(),
    ):
        return _run_body(job, spec.fn, ctx, wh, worker)


def _finish_failed(job: Job, worker: str, error: str, log: str) -> None:
    # Only while the job is still this worker's: a job already marked failed as stale
    # keeps that message.
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, worker=worker[:200]).update(
        status=Job.Status.FAILED,
        error=error,
        message="failed",
        log=log,
        finished_at=timezone.now(),
    )


def _run_body(
    job: Job, fn: Callable[..., Any], ctx: JobContext, wh: Warehouse | None, worker: str
) -> Job:
    ctx.log(f"started {job.kind}")
    cur = wh.cursor() if wh is not None else None
    try:
        if cur is not None:
            cur.execute("BEGIN TRANSACTION")
        result = fn(ctx, **job.params) or {}
        for hook in after_job_hooks(job.kind):
            hook(ctx)
        ctx.log("finished")
        with transaction.atomic():
            for write in ctx._deferred:
                write()
            mine = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, worker=worker[:200])
            if not mine.update(
                status=Job.Status.SUCCEEDED,
                progress=100,
                message="done",
                result=result,
                log=ctx.log_text(),
                finished_at=timezone.now(),
            ):
                # Marked failed as stale meanwhile (this worker was too slow to beat):
                # keep the promise that message made, and commit nothing.
                raise RuntimeError(f"job {job.pk} is no longer this worker's ({worker})")
            if cur is not None:
                # Last statement of the app transaction: if the warehouse commit fails,
                # the app-database changes roll back with it.
                cur.execute("COMMIT")
                cur = None
        if wh is not None:
            wh.statistics_refresh()
    except Exception as exc:
        if cur is not None:
            try:
                cur.execute("ROLLBACK")
            except Exception:  # the transaction may already be aborted
                logger.debug("rollback after failure", exc_info=True)
        if isinstance(exc, UserError):
            error = exc.message
        else:
            error = f"internal error ({type(exc).__name__}: {exc}); nothing was changed"
            ctx.log(traceback.format_exc())
        ctx.log(f"failed: {error}")
        _finish_failed(job, worker, error, ctx.log_text())
    job.refresh_from_db()
    return job


def jobs_recover_interrupted() -> int:
    """Mark jobs of workers that stopped as failed (`unionhall.jobs.queue.jobs_recover`).
    Returns how many.

    Call it after opening the warehouse and before running jobs: while this process holds
    the embedded DuckDB warehouse no other live process can be running a warehouse job,
    so those are failed at once; otherwise only jobs whose heartbeat is stale.
    """
    return jobs_recover(get_warehouse())


class WorkerPool:
    """Worker threads that run queued jobs: inside `unionhall serve` (embedded mode) or
    a `unionhall worker` process. They claim through `unionhall.jobs.queue`."""

    def __init__(
        self,
        size: int,
        *,
        poll_seconds: float = 0.5,
        kinds: Collection[str] | None = None,
        worker: str | None = None,
    ) -> None:
        self.size = size
        self.poll_seconds = poll_seconds
        self.kinds = kinds  # None: every kind
        self.worker = worker or worker_name()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for i in range(self.size):
            t = threading.Thread(target=self._loop, name=f"unionhall-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout: float | None = 5.0) -> None:
        """Claim no more jobs; wait up to `timeout` seconds (None: for ever) for the
        running ones to finish."""
        self._stop.set()
        for t in self._threads:
            t.join(timeout)

    @property
    def busy(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def _claimable(self) -> Collection[str] | None:
        if not _WAREHOUSE_JOBS.locked():
            return self.kinds
        # This process runs one warehouse job at a time: while one runs, leave the other
        # warehouse jobs to other workers and take only jobs that do not need it.
        free = {k.kind for k in job_kinds() if not k.uses_warehouse}
        return free if self.kinds is None else free & set(self.kinds)

    def _loop(self) -> None:
        try:
            self._work()
        finally:
            connections.close_all()  # this thread's connections; PostgreSQL counts them

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                close_old_connections()
                job = job_claim_next(worker=self.worker, kinds=self._claimable())
                if job is None:
                    self._stop.wait(self.poll_seconds)
                    continue
                job_execute(job=job, worker=self.worker)
            except Exception:
                logger.exception("worker loop error")
                self._stop.wait(self.poll_seconds)
