"""Benchmark the synthetic state generator against a naive Faker baseline, in one run.

    python bench/bench_synth.py [--voters 1000000] [--members 100000] [--baseline-rows 20000]

Prints wall time, rows/s, peak RSS and stage timings for `unionhall.synth.generate`, then
the rows/s of a naive generator (one Faker call per field per row, written with the csv
module) over `--baseline-rows` rows, and the ratio of the two. Rows are voter-file rows
plus member-file rows for the generator, and voter-like rows of the same core fields for
the baseline. Targets for 1,000,000 voters + 100,000 members: <= 60 s, <= 4 GB.
"""

from __future__ import annotations

import argparse
import csv
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

BASELINE_FIELDS = (
    "first_name", "middle_name", "last_name", "street_address", "city", "state", "zipcode",
    "phone_number", "date_of_birth", "registration_date", "party", "sex", "race", "email", "ncid",
)


def run_synth(voters: int, members: int, seed: int, keep: Path | None) -> dict[str, float]:
    """Generate one state; return timings and counts."""
    from unionhall.synth import SynthParams, generate

    parent = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    out = keep or parent / "state"
    stages: list[tuple[float, str]] = []
    start = time.perf_counter()
    try:
        summary = generate(
            SynthParams(voters=voters, members=members, seed=seed),
            out,
            progress=lambda _p, msg: stages.append((time.perf_counter() - start, msg)),
        )
        wall = time.perf_counter() - start
    finally:
        if keep is None:
            shutil.rmtree(parent, ignore_errors=True)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("stage timings (s since start):")
    for t, msg in stages:
        print(f"  {t:7.1f}  {msg}")
    rows = summary.counts["voters"] + summary.counts["member_file_rows"]
    return {
        "wall": wall,
        "rows": rows,
        "history_rows": summary.counts["vote_history_rows"],
        "peak_mb": peak_kb / 1024,
    }


def run_baseline(rows: int, seed: int) -> float:
    """One Faker call per field per row; returns rows/s."""
    from faker import Faker

    fake = Faker("en_US")
    Faker.seed(seed)
    calls = {
        "first_name": fake.first_name,
        "middle_name": fake.first_name,
        "last_name": fake.last_name,
        "street_address": fake.street_address,
        "city": fake.city,
        "state": fake.state_abbr,
        "zipcode": fake.zipcode,
        "phone_number": fake.phone_number,
        "date_of_birth": lambda: fake.date_of_birth(minimum_age=18, maximum_age=95).strftime("%m/%d/%Y"),
        "registration_date": lambda: fake.date_between("-40y", "today").strftime("%m/%d/%Y"),
        "party": lambda: fake.random_element(("DEM", "REP", "UNA", "LIB")),
        "sex": lambda: fake.random_element(("M", "F")),
        "race": lambda: fake.random_element(("W", "B", "A", "I", "M", "O", "U")),
        "email": fake.email,
        "ncid": lambda: fake.bothify("??######").upper(),
    }
    with tempfile.TemporaryDirectory(prefix="bench-faker-") as tmp:
        start = time.perf_counter()
        with open(Path(tmp) / "faker.txt", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, delimiter="\t", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
            writer.writerow(BASELINE_FIELDS)
            for _ in range(rows):
                writer.writerow([calls[f]() for f in BASELINE_FIELDS])
        return rows / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--voters", type=int, default=1_000_000)
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--baseline-rows", type=int, default=20_000)
    ap.add_argument("--keep", type=Path, default=None, help="write the state here and keep it")
    args = ap.parse_args(argv)

    print(f"synth: {args.voters:,} voters + {args.members:,} members (seed {args.seed})")
    s = run_synth(args.voters, args.members, args.seed, args.keep)
    synth_rate = s["rows"] / s["wall"]
    print(f"wall            {s['wall']:.1f} s   (target <= 60 s)")
    print(f"peak RSS        {s['peak_mb']:,.0f} MB (target <= 4096 MB)")
    print(f"rows            {s['rows']:,.0f} voter + member file rows (+{s['history_rows']:,.0f} history rows)")
    print(f"rows/s          {synth_rate:,.0f}")
    print(f"baseline: Faker, one call per field ({len(BASELINE_FIELDS)} fields), {args.baseline_rows:,} rows")
    base_rate = run_baseline(args.baseline_rows, args.seed)
    print(f"baseline rows/s {base_rate:,.0f}")
    print(f"ratio           {synth_rate / base_rate:.1f}x faster than the naive baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
