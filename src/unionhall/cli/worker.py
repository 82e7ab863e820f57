"""`unionhall worker`: worker threads in their own process, claiming queued jobs from the
app database (docs/jobs.md)."""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

from unionhall.cli._runtime import err_console, setup_django
from unionhall.config import mask_url
from unionhall.errors import UserError

logger = logging.getLogger(__name__)


def check_app_database_migrated() -> None:
    """Workers never migrate (several starting at once would race): they need it done."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise UserError(
            f"the app database has {len(plan)} unapplied migration(s): "
            "run `unionhall migrate` first, then start the workers"
        )


def worker(*, threads: int, no_warehouse: bool = False, poll_seconds: float = 0.5) -> None:
    """Run `threads` worker threads until SIGTERM/SIGINT, then finish the running jobs."""
    cfg = setup_django()
    check_app_database_migrated()
    from django.db import close_old_connections

    from unionhall.jobs.queue import jobs_fail_stale, jobs_recover, worker_name
    from unionhall.jobs.registry import job_kinds
    from unionhall.jobs.runner import WorkerPool
    from unionhall.warehouse import Warehouse, close_warehouse, open_warehouse
    from unionhall.warehouse.migrations import MIGRATIONS

    wh: Warehouse | None = None
    kinds: list[str] | None = None
    if no_warehouse:
        kinds = [k.kind for k in job_kinds() if not k.uses_warehouse]
        what = "jobs that do not use the warehouse (" + (", ".join(kinds) or "none") + ")"
    else:
        # Now, so a warehouse another process holds (the embedded DuckDB file) fails here.
        wh = open_warehouse()
        done = {v for v, _ in wh.applied_migrations()}
        pending = [m for m in MIGRATIONS if m.version not in done]
        if pending:
            raise UserError(
                f"the warehouse has {len(pending)} unapplied migration(s): "
                "run `unionhall migrate` first, then start the workers"
            )
        what = "every job kind"
    name = worker_name()
    recovered = jobs_recover(wh)
    if recovered:
        err_console.print(f"marked {recovered} job(s) of stopped workers as failed")

    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():  # a second Ctrl+C: stop now, like a kill (nothing is committed)
            err_console.print("stopped without finishing the running job(s); they will be marked failed")
            os._exit(130)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    pool = WorkerPool(threads, poll_seconds=poll_seconds, kinds=kinds, worker=name)
    pool.start()
    err_console.print(
        f"worker {name}: {threads} thread(s) running {what} from the app database "
        f"{mask_url(cfg.database_url)}. Ctrl+C or SIGTERM stops after the running job(s).",
        soft_wrap=True, highlight=False,
    )
    check_every = max(0.5, cfg.job_heartbeat_timeout / 2)
    while not stopping.wait(check_every):
        try:
            close_old_connections()
            failed = jobs_fail_stale(timeout=cfg.job_heartbeat_timeout)
            if failed:
                err_console.print(f"marked {failed} job(s) of stopped workers as failed")
        except Exception:
            logger.exception("checking for stopped workers")
    err_console.print("stopping: finishing the running job(s), claiming no more…")
    pool.stop(timeout=None)
    close_warehouse()
    err_console.print(f"worker {name} stopped")
