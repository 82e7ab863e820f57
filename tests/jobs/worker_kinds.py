"""Job kinds for the worker-process tests, registered in the test process and (through
`tests.jobs.workers.BOOT`) in the `unionhall worker` subprocesses."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from unionhall.jobs.registry import job_kind


def _append(path: str, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode() + b"\n")
    finally:
        os.close(fd)


@job_kind("test.worker.record", title="test: note each run in a file", uses_warehouse=False)
def record(ctx: Any, *, path: str, sleep: float = 0.0) -> dict[str, Any]:
    """One line per run: a job that ran twice shows up twice."""
    _append(path, f"{ctx.job.pk} {ctx.job.worker}")
    time.sleep(sleep)
    return {"worker": ctx.job.worker}


@job_kind("test.worker.write_then_sleep", title="test: write the warehouse, then sleep")
def write_then_sleep(ctx: Any, *, rows: int, marker: str, sleep: float) -> dict[str, Any]:
    # (executemany, not range(): on the PostgreSQL warehouse range(n) gives n + 1 rows today)
    ctx.warehouse.cursor().executemany(
        "INSERT INTO person (person_id, last_name) VALUES (?, 'W')", [(i,) for i in range(rows)]
    )
    Path(marker).write_text(ctx.job.worker)  # "the writes are done, now I sleep"
    time.sleep(sleep)
    return {"rows": rows}
