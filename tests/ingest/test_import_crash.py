"""Crash safety: SIGKILL in the middle of an import leaves the previous member data
intact; running the import again completes with the right counts."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from tests.backends import ENGINE, postgres_location
from tests.conftest import run_cli

from unionhall.warehouse.backends import parse_warehouse_url, postgres_connect

ROWS = 120_000


def _write(path: Path, n: int, offset: int = 0) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Member ID", "First Name", "Last Name", "Address", "City", "State", "Zip", "Phone"])
        for i in range(offset, offset + n):
            w.writerow([f"M{i:07d}", f"First{i % 997}", f"Last{i % 1999}", f"{i % 9000 + 1} Main St",
                        "Raleigh", "NC", "27601", f"919555{i % 10000:04d}"])
    return path


def _job_progress(db: Path) -> tuple[str, int] | None:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            row = con.execute(
                "SELECT status, progress FROM jobs_job WHERE kind='ingest.import_members' ORDER BY id DESC LIMIT 1"
            ).fetchone()
    except sqlite3.Error:
        return None
    return (str(row[0]), int(row[1])) if row else None


def _members(data: Path) -> tuple[int, int]:
    """(active, all) member records of the source, read from outside the CLI processes: the
    DuckDB file read-only, or the PostgreSQL schema of their data directory (tests/backends.py)."""
    sql = "SELECT count(*) FILTER (WHERE status='active'), count(*) FROM member_record WHERE source='crash-test'"
    if ENGINE == "postgres":
        url = parse_warehouse_url(postgres_location(key=str(data)))
        pg = postgres_connect(url)
        try:
            row = pg.execute(sql).fetchone()
        finally:
            pg.close()
    else:
        with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
            row = con.execute(sql).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_sigkill_mid_import_keeps_previous_snapshot(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"UNIONHALL_DATA_DIR": str(data)}
    if ENGINE == "postgres":
        # No process owns a PostgreSQL warehouse, so a killed worker's job is failed once its
        # heartbeat is stale (docs/jobs.md), not at the next start: a short timeout here.
        env["UNIONHALL_JOB_HEARTBEAT_TIMEOUT"] = "3"
        env["UNIONHALL_WAREHOUSE_URL"] = postgres_location(key=str(data))  # the run's own schema
    assert run_cli("migrate", env=env).returncode == 0
    first = run_cli("import", "members", str(_write(tmp_path / "v1.csv", 500)), "--affiliate", "Crash Test",
                    "--json", env=env)
    assert first.returncode == 0, first.stderr
    assert _members(data) == (500, 500)

    big = _write(tmp_path / "v2.csv", ROWS, offset=250)
    full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env
    proc = subprocess.Popen(
        [sys.executable, "-m", "unionhall", "import", "members", str(big), "--affiliate", "Crash Test", "--json"],
        env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 300
    killed_at = None
    while time.monotonic() < deadline and proc.poll() is None:
        state = _job_progress(data / "app.sqlite3")
        if state and state[0] == "running" and 10 <= state[1] < 85:
            os.kill(proc.pid, signal.SIGKILL)
            killed_at = state[1]
            break
        time.sleep(0.05)
    proc.wait(timeout=30)
    assert killed_at is not None, "the import finished before it could be killed; make the file bigger"
    assert proc.returncode == -signal.SIGKILL

    # The previous snapshot is intact: no half-loaded rows, nobody dropped.
    assert _members(data) == (500, 500)
    if ENGINE == "postgres":
        # The killed job's last heartbeat is from before the kill: past the timeout it is
        # stale, and the next job's start fails it.
        time.sleep(float(env["UNIONHALL_JOB_HEARTBEAT_TIMEOUT"]) + 1)

    again = run_cli("import", "members", str(big), "--affiliate", "Crash Test", "--json", env=env, timeout=600)
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    assert result["rows_read"] == ROWS == result["rows_loaded"] + result["rows_quarantined"]
    assert (result["new"], result["updated"], result["dropped"]) == (ROWS - 250, 0, 250)
    assert _members(data) == (ROWS, ROWS + 250)
    jobs = run_cli("jobs", "list", env=env)
    assert "failed" in jobs.stdout  # the killed job is recorded as interrupted, not left running
