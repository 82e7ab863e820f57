"""Run every benchmark under bench/ and print their figures.

    .venv/bin/python bench/run_all.py            # all, at their default sizes
    .venv/bin/python bench/run_all.py jobs synth # only those whose name contains a word

Each `bench/bench_*.py` is a standalone script that prints its own figures, including a
ratio against a baseline measured in the same run (absolute times on shared machines
are noise; ratios are what we compare).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if any(word in s.stem for word in argv)]
    failed = []
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        start = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script)])
        print(f"--- {script.stem}: exit {rc}, {time.perf_counter() - start:.1f} s wall", flush=True)
        if rc:
            failed.append(script.stem)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    print(f"\n{len(scripts)} benchmark(s) ran")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
