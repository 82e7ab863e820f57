"""Identity end to end: voter file + member lists imported, then `identity.match` (issue 6).

    .venv/bin/python bench/bench_identity.py [--voters 1000000] [--members 100000] [--seed 7]

Generates a synthetic state (ground truth kept aside), then in one process and a fresh
data directory measures the wall time of each stage (generate, voter file import, member
list imports, matching), the peak RSS, and the accuracy of identity's links against
the truth next to an exact-key baseline measured on the same imported records:

* member -> voter: the one registration with the same first name, last name and birth
  year (the NC file has no full date; a key two voters share links nobody);
* dual members: two records of different affiliates with the same first name, last name
  and full date of birth.

The baseline's time is printed too (it is one SQL join); the point of the comparison
is what probabilistic matching buys in recall at the same precision.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _scratch import scratch_dir


def _run(kind: str, *, show_log: bool = False, **params: Any) -> dict[str, Any]:
    from unionhall.jobs.runner import job_run, job_submit

    job = job_run(job=job_submit(kind=kind, params=params))
    if job.status != "succeeded":
        raise SystemExit(f"{kind} failed: {job.error}")
    if show_log:
        print(job.log, flush=True)
    return dict(job.result)


def _line(name: str, f: dict[str, float]) -> str:
    return (f"{name:<22} links P {f['link_precision']:.4f} R {f['link_recall']:.4f} "
            f"({int(f['links_predicted']):,} of {int(f['links_true']):,} true)   "
            f"duals P {f['dual_precision']:.4f} R {f['dual_recall']:.4f} "
            f"({int(f['dual_pairs_predicted']):,} pairs of {int(f['dual_pairs_true']):,} true)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--voters", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    work = scratch_dir("uh-bench-identity-")
    os.environ["UNIONHALL_DATA_DIR"] = str(work / "data")
    os.environ.pop("DATABASE_URL", None)
    stages: dict[str, float] = {}

    from unionhall.synth import SynthParams, generate

    # The generated state is cached between runs (it only depends on the parameters).
    state = Path(tempfile.gettempdir()) / f"uh-bench-identity-state-{args.voters}-{args.members}-{args.seed}"
    t = time.perf_counter()
    if not (state / "manifest.json").exists():
        generate(SynthParams(voters=args.voters, members=args.members, seed=args.seed), state)
        stages["generate synthetic state"] = time.perf_counter() - t
    else:
        print(f"synthetic state cached in {state}")

    from unionhall.cli._runtime import migrate_app_database, setup_django

    setup_django()
    migrate_app_database()
    from unionhall.identity.evaluate import evaluate, evaluate_exact_key_baseline
    from unionhall.warehouse import get_warehouse, open_warehouse

    open_warehouse().migrate()
    t = time.perf_counter()
    _run("elections.import_voterfile", path=str(state / "ncvoter_synth.txt"))
    stages["import voter file"] = time.perf_counter() - t
    manifest = json.loads((state / "manifest.json").read_text())
    t = time.perf_counter()
    rows = 0
    for f in manifest["member_files"]:
        rows += int(_run("ingest.import_members", path=str(state / f["path"]), source=f["slug"])["rows_read"])
    stages[f"import {len(manifest['member_files'])} member lists"] = time.perf_counter() - t
    t = time.perf_counter()
    counts = _run("identity.match", show_log=True)
    stages["identity.match"] = time.perf_counter() - t
    t = time.perf_counter()
    rerun = _run("identity.match", show_log=True)
    stages["identity.match again (nothing new)"] = time.perf_counter() - t

    wh = get_warehouse()
    ours = evaluate(wh, state)
    t = time.perf_counter()
    base = evaluate_exact_key_baseline(wh, state)
    stages["exact-key baseline (join + scoring)"] = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"synthetic state: {args.voters:,} voters, {args.members:,} members "
          f"({rows:,} member file rows), seed {args.seed}")
    for name, secs in stages.items():
        print(f"  {name:<40} {secs:8.1f} s")
    print(f"  match rate: {counts['member_records'] / stages['identity.match']:,.0f} member records/s; "
          f"re-run scored {rerun['pending_members']} records")
    print(f"peak RSS: {peak_mb:,.0f} MB")
    print(f"counts: links {counts['links']:,}, persons {counts['persons']:,}, dual members "
          f"{counts['dual_members']:,}, review pairs {counts['review_pairs']:,}")
    print(_line("Union Hall (Splink)", ours))
    print(_line("exact-key baseline", base))
    if base["link_recall"]:
        print(f"recall ratio (ours / baseline): links {ours['link_recall'] / base['link_recall']:.2f}x, "
              f"duals {ours['dual_recall'] / max(base['dual_recall'], 1e-9):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
