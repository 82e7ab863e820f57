"""Process set-up shared by CLI commands: configuration, Django, stores, foreground jobs."""

from __future__ import annotations

import os
import sys
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from unionhall.config import Config, get_config, mask_url
from unionhall.errors import ConfigError, UserError

err_console = Console(stderr=True, soft_wrap=True)
out_console = Console(soft_wrap=True)


def setup_django(*, check_database: bool = True) -> Config:
    """Load the configuration, start Django and make sure the app database answers."""
    cfg = get_config()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionhall.web.settings")
    import django

    django.setup()
    if check_database:
        check_app_database(cfg)
    return cfg


def check_app_database(cfg: Config) -> None:
    """Raise ConfigError with a one-line fix when the app database cannot be reached."""
    from django.db import connection
    from django.db.utils import OperationalError

    try:
        connection.ensure_connection()
    except OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if cfg.database_kind == "postgresql":
            raise ConfigError(
                f"cannot reach PostgreSQL at {mask_url(cfg.database_url)} ({first}): "
                "start the server, or fix DATABASE_URL (unset it to use the embedded SQLite file)"
            ) from None
        raise ConfigError(
            f"cannot open the app database {cfg.database_url} ({first}): "
            "check the data directory, or set DATABASE_URL"
        ) from None


def migrate_app_database(*, verbose: bool = False) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1 if verbose else 0)


def run_job_foreground(
    kind: str, params: dict[str, Any] | None = None, *, user: Any = None, quiet: bool = False, job: Any = None
) -> Any:
    """Run a registered job in this process with a Rich progress bar; raise on failure.
    `job`: one already submitted (by a service that records it), else a new one."""
    from unionhall.jobs.registry import get_job_kind
    from unionhall.jobs.runner import job_run, job_submit, jobs_recover_interrupted

    if get_job_kind(kind).uses_warehouse:
        from unionhall.warehouse import open_warehouse

        open_warehouse()  # hold it first: then stale "running" jobs are certainly dead
        jobs_recover_interrupted()
    if job is None:
        job = job_submit(kind=kind, params=params or {}, user=user)
    disable = quiet or not sys.stderr.isatty()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[message]}"),
        TimeElapsedColumn(),
        console=err_console,
        disable=disable,
        transient=False,
    ) as bar:
        task = bar.add_task(kind, total=100, message="")

        def on_progress(pct: int, message: str) -> None:
            bar.update(task, completed=pct, message=message)

        job = job_run(job=job, on_progress=on_progress)
        if job.status == job.Status.SUCCEEDED:
            bar.update(task, completed=100, message="done")
    if job.status != job.Status.SUCCEEDED:
        raise UserError(f"job {job.pk} ({kind}) failed: {job.error}")
    return job
