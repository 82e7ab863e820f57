"""`unionhall serve`: waitress + background worker threads in one process (embedded mode),
or only the web app with UNIONHALL_JOB_WORKERS=external (`unionhall worker` runs jobs)."""

from __future__ import annotations

import errno
import signal
import socket
from types import FrameType

from unionhall.cli._runtime import err_console, migrate_app_database, setup_django
from unionhall.errors import ConfigError, UserError


def check_port_free(host: str, port: int) -> None:
    """Fail early, with a fix, when the port is taken (before loading anything heavy)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UserError(
                    f"port {port} on {host} is already in use: stop the program using it "
                    f"or choose another port with --port"
                ) from None
            raise UserError(
                f"cannot listen on {host}:{port} ({exc.strerror}): choose another --host/--port"
            ) from None


def serve(*, host: str, port: int, workers: int | None = None) -> None:
    """Migrate both stores, then serve the web app and run jobs until interrupted."""
    check_port_free(host, port)
    cfg = setup_django()
    external = cfg.job_workers == "external"
    from unionhall.warehouse.backends import DUCKDB, parse_warehouse_url

    if external and parse_warehouse_url(cfg.warehouse_url).kind == DUCKDB:
        raise ConfigError(
            "UNIONHALL_JOB_WORKERS=external needs a server warehouse "
            "(UNIONHALL_WAREHOUSE_URL=postgresql://…): `unionhall serve` holds the embedded "
            "DuckDB file, so no `unionhall worker` could open it and warehouse jobs would wait "
            "for ever; unset UNIONHALL_JOB_WORKERS to run jobs inside serve"
        )
    from waitress.server import create_server

    from unionhall.jobs.runner import WorkerPool, jobs_recover_interrupted
    from unionhall.warehouse import open_warehouse
    from unionhall.web.wsgi import application

    wh = open_warehouse()  # take the warehouse now: a second process gets a clear error
    migrate_app_database()
    wh.migrate()
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (import every page's module now, not during the first request)
    recovered = jobs_recover_interrupted()
    if recovered:
        err_console.print(f"marked {recovered} interrupted job(s) as failed")

    try:
        server = create_server(application, host=host, port=port, threads=8, ident="unionhall")
    except OSError as exc:
        raise UserError(
            f"port {port} on {host} is already in use ({exc.strerror}): "
            "stop the program using it or choose another port with --port"
        ) from None
    pool = WorkerPool(0 if external else workers or cfg.workers)
    pool.start()
    jobs_note = (
        "jobs are run by `unionhall worker` processes" if external else f"{pool.size} job workers"
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    err_console.print(
        f"Union Hall is serving on [bold]http://{host}:{port}/[/bold] "
        f"(data in {cfg.data_dir}; {jobs_note}). Press Ctrl+C to stop.",
        soft_wrap=True,
    )
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        err_console.print("stopping…")
        server.close()
        pool.stop()
