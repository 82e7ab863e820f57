"""Foundation benchmark: what running work as a Job costs.

A job adds a Job row, progress writes, a warehouse transaction and a final app-database
transaction around the work. This measures the per-job overhead of `job_run` for a small
warehouse write against doing the same write directly (the baseline), in one process,
and the cost of 10,000 progress calls (throttled writes).

    .venv/bin/python bench/bench_jobs.py [--jobs 200]
"""

from __future__ import annotations

import argparse
import os
import time

from _scratch import scratch_dir


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=200)
    args = parser.parse_args()
    os.environ["UNIONHALL_DATA_DIR"] = str(scratch_dir("uh-bench-jobs-"))
    os.environ.pop("DATABASE_URL", None)
    from unionhall.cli._runtime import migrate_app_database, setup_django

    setup_django()
    migrate_app_database()
    from unionhall.jobs.registry import job_kind
    from unionhall.jobs.runner import JobContext, job_run, job_submit
    from unionhall.warehouse import open_warehouse

    wh = open_warehouse()
    wh.migrate()
    insert = "INSERT INTO person (person_id, last_name) SELECT i, 'X' FROM range(?, ? + 100) t(i)"

    @job_kind("bench.write", title="bench: write 100 rows")
    def _write(ctx: JobContext, start: int) -> dict[str, int]:
        ctx.warehouse.cursor().execute(insert, [start, start])
        for i in range(50):
            ctx.progress(i * 2, "writing")
        return {"rows": 100}

    n = args.jobs
    t0 = time.perf_counter()
    for i in range(n):
        with wh.transaction() as cur:
            cur.execute(insert, [i * 100, i * 100])
    direct = time.perf_counter() - t0

    t0 = time.perf_counter()
    for i in range(n):
        job = job_run(job=job_submit(kind="bench.write", params={"start": 10_000_000 + i * 100}))
        assert job.status == "succeeded", job.error
    as_jobs = time.perf_counter() - t0

    per_job_ms = (as_jobs - direct) / n * 1000
    print(f"jobs run:                     {n}")
    print(f"direct transactions (baseline): {direct:.3f} s  ({n / direct:,.0f}/s)")
    print(f"same work as jobs:            {as_jobs:.3f} s  ({n / as_jobs:,.0f}/s)")
    print(f"overhead per job:             {per_job_ms:.2f} ms")
    print(f"ratio jobs/direct:            {as_jobs / direct:.1f}x")


if __name__ == "__main__":
    main()
