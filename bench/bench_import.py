"""Member import end to end: read, map, standardize, validate, load (issue 4).

    .venv/bin/python bench/bench_import.py [--rows 1000000] [--baseline-rows 50000]

Generates a deterministic messy member CSV (the generator of
bench_ingest_standardize.py), then in one process measures:

* the floor: DuckDB's plain `read_csv` of the same file (no mapping, no standardization);
* Union Hall's import job (`ingest.import_members`) on a fresh data directory: the whole
  path, from file to member snapshot in the warehouse, with quarantine and history;
* a naive row-by-row baseline (pandas read, then usaddress-scourgify + phonenumbers +
  nameparser + dateutil per row) on the first `--baseline-rows` rows.

It prints rows/s for each and the ratios, the import's CPU time (all threads: a figure
less sensitive to other work on a shared machine than the wall clock) and the machine's
load. Target: >= 20,000 rows/s end to end.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _scratch import scratch_dir
from bench_ingest_standardize import make_file, run_baseline


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-rows", type=int, default=50_000)
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    work = scratch_dir("uh-bench-import-")
    os.environ["UNIONHALL_DATA_DIR"] = str(work / "data")
    os.environ.pop("DATABASE_URL", None)
    src = work / "members.csv"
    t = time.perf_counter()
    make_file(src, args.rows)
    print(f"generated {args.rows:,} rows ({src.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s")

    import duckdb

    t = time.perf_counter()
    n_floor = duckdb.sql(f"SELECT count(*) FROM read_csv('{src}', all_varchar=true)").fetchone()[0]  # type: ignore[index]
    floor = time.perf_counter() - t

    from unionhall.cli._runtime import migrate_app_database, setup_django

    setup_django()
    migrate_app_database()
    from unionhall.jobs.runner import job_run, job_submit
    from unionhall.warehouse import open_warehouse

    open_warehouse().migrate()
    t = time.perf_counter()
    cpu = time.process_time()
    job = job_run(job=job_submit(kind="ingest.import_members", params={"path": str(src), "source": "Bench Local"}))
    ours = time.perf_counter() - t
    ours_cpu = time.process_time() - cpu  # all threads of this process
    if job.status != "succeeded":
        print(f"import failed: {job.error}")
        return 1
    r = job.result
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    n_base, base = run_baseline(src, args.baseline_rows)

    ours_rate = r["rows_read"] / ours
    base_rate = n_base / base
    print(f"rows read / loaded / quarantined: {r['rows_read']:,} / {r['rows_loaded']:,} / {r['rows_quarantined']:,}")
    print(f"floor  DuckDB read_csv:        {floor:7.2f} s  {n_floor / floor:>12,.0f} rows/s")
    print(f"Union Hall import end to end:  {ours:7.2f} s  {ours_rate:>12,.0f} rows/s   (target >= 20,000)")
    print(f"  CPU time of the import:      {ours_cpu:7.2f} s  {r['rows_read'] / ours_cpu:>12,.0f} rows per CPU-second (all threads)")
    print(f"naive row-by-row baseline:     {base:7.2f} s  {base_rate:>12,.0f} rows/s   ({n_base:,} rows)")
    print(f"ratio import / floor:          {ours / floor * n_floor / r['rows_read']:.1f}x slower than plain read_csv")
    print(f"ratio import / naive:          {ours_rate / base_rate:.1f}x faster than row by row")
    print(f"peak RSS:                      {peak_mb:,.0f} MB")
    # Shared machines are noisy: say how busy this one was (other processes included).
    print(f"machine load (1-min average):  {load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end, "
          f"{os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
