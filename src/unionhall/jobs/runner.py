"""Running jobs: in the foreground (CLI) or on worker threads (`unionhall serve`).

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
from collections.abc import Callable
from typing import Any

from django.db import close_old_connections, connections, transaction
from django.utils import timezone

from unionhall.errors import UserError
from unionhall.jobs.models import Job
from unionhall.jobs.registry import after_job_hooks, get_job_kind
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
    claimed = Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), progress=0
    )
    if not claimed:
        raise RuntimeError(f"job {job.pk} is not queued (another worker took it?)")
    job.refresh_from_db()
    spec = get_job_kind(job.kind)
    wh = (warehouse or get_warehouse()) if spec.uses_warehouse else None
    ctx = JobContext(job, wh, on_progress)
    with _WAREHOUSE_JOBS if wh is not None else contextlib.nullcontext():
        return _run_body(job, spec.fn, ctx, wh)


def _run_body(job: Job, fn: Callable[..., Any], ctx: JobContext, wh: Warehouse | None) -> Job:
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
            Job.objects.filter(pk=job.pk).update(
                status=Job.Status.SUCCEEDED,
                progress=100,
                message="done",
                result=result,
                log=ctx.log_text(),
                finished_at=timezone.now(),
            )
            if cur is not None:
                # Last statement of the app transaction: if the warehouse commit fails,
                # the app-database changes roll back with it.
                cur.execute("COMMIT")
                cur = None
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
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED,
            error=error,
            message="failed",
            log=ctx.log_text(),
            finished_at=timezone.now(),
        )
    job.refresh_from_db()
    return job


def jobs_recover_interrupted() -> int:
    """Mark warehouse jobs left running by a process that died as failed. Returns how many.

    Call it only while holding the warehouse: then no other live process can be running
    a warehouse job. Their transaction never committed, so nothing they did was kept.
    """
    from unionhall.jobs.registry import job_kinds

    kinds = [k.kind for k in job_kinds() if k.uses_warehouse]
    return Job.objects.filter(status=Job.Status.RUNNING, kind__in=kinds).update(
        status=Job.Status.FAILED,
        error="interrupted: the process running this job stopped; nothing it did was kept. "
        "Run it again.",
        message="interrupted",
        finished_at=timezone.now(),
    )


class WorkerPool:
    """Background worker threads that run queued jobs (embedded mode)."""

    def __init__(self, size: int, *, poll_seconds: float = 0.5) -> None:
        self.size = size
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._claim_lock = threading.Lock()

    def start(self) -> None:
        for i in range(self.size):
            t = threading.Thread(target=self._loop, name=f"unionhall-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout)

    def _next_job(self) -> Job | None:
        with self._claim_lock:
            return Job.objects.filter(status=Job.Status.QUEUED).order_by("created_at", "id").first()

    def _loop(self) -> None:
        try:
            self._work()
        finally:
            connections.close_all()  # this thread's connections; PostgreSQL counts them

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                close_old_connections()
                job = self._next_job()
                if job is None:
                    self._stop.wait(self.poll_seconds)
                    continue
                try:
                    job_run(job=job)
                except RuntimeError:
                    continue  # another worker claimed it first
            except Exception:
                logger.exception("worker loop error")
                self._stop.wait(self.poll_seconds)
