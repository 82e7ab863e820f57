"""Starting real `unionhall worker` processes on the test's app database."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

REPO = Path(__file__).resolve().parents[2]
# The worker command, with the test job kinds registered first.
_numbers = itertools.count()
BOOT = "import sys, tests.jobs.worker_kinds; from unionhall.cli import main; main(sys.argv[1:])"


def app_database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test database)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def warehouse_url(location: Path | str) -> str:
    return f"duckdb:///{location}" if isinstance(location, Path) else location


class Worker:
    def __init__(self, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.proc = proc
        self.log = log
        self.name = f"{os.uname().nodename}:{proc.pid}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self, timeout: float = 30) -> None:
        wait_until(lambda: "Ctrl+C or SIGTERM" in self.output(), timeout, self)

    def stop(self, timeout: float = 30) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)


def wait_until(cond: Callable[[], bool], timeout: float, *workers: Worker) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        for w in workers:
            if w.proc.poll() is not None:
                raise AssertionError(f"worker exited ({w.proc.returncode}): {w.output()}")
        if time.monotonic() > deadline:
            raise AssertionError("timed out; " + " | ".join(w.output() for w in workers))
        time.sleep(0.05)


@contextmanager
def workers(
    tmp_path: Path, warehouse: Path | str, *args_per_worker: list[str], env: dict[str, str] | None = None
) -> Iterator[list[Worker]]:
    """Start one `unionhall worker ARGS` per argument list; kill what is left at the end."""
    full_env = {k: v for k, v in os.environ.items() if k != "UNIONHALL_TEST_PASS"}
    full_env |= {
        "DATABASE_URL": app_database_url(),
        "UNIONHALL_WAREHOUSE_URL": warehouse_url(warehouse),
        "PYTHONPATH": str(REPO),
        **(env or {}),
    }
    started: list[Worker] = []
    try:
        for args in args_per_worker:
            log = tmp_path / f"worker-{next(_numbers)}.log"
            with log.open("wb") as fh:
                proc = subprocess.Popen(
                    [sys.executable, "-c", BOOT, "worker", *args],
                    env=full_env, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT,
                )
            started.append(Worker(proc, log))
        yield started
    finally:
        for w in started:
            if w.proc.poll() is None:
                w.proc.kill()
                w.proc.wait(10)
