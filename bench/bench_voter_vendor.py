"""Benchmark: the generic (other states / vendors) voter-file import on an L2-style CSV.

    .venv/bin/python bench/bench_voter_vendor.py                  # 200,000 voters
    .venv/bin/python bench/bench_voter_vendor.py --voters 1000000

Writes a vendor-style CSV once (Windows-1252, L2-like headers, a combined name column,
MM/DD/YYYY dates, a few unmapped columns) into a cache directory, then in separate child
processes:

* baseline: DuckDB's plain `read_csv` of the same file into a table (all text);
* ours: `vendor_voterfile_import` into a fresh migrated warehouse in one transaction, as
  the job runs it (mapping suggestion, reading through the ingest readers, normalization,
  flags, duplicate check, county ids, the NC apply step with history, persons, voter_extra);
* ours, reload: the same warehouse, next week's file (5% changed, 2% gone, 2% new).

Prints wall time, rows/s and peak RSS of each child, and the ratio ours / baseline.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

CACHE = Path(tempfile.gettempdir()) / "unionhall-bench-voter-vendor"
HEADER = [
    "LALVOTERID", "Voter Name", "Voters_BirthDate", "Voters_OfficialRegDate", "Residence_Addresses_AddressLine",
    "Residence_Addresses_City", "Residence_Addresses_Zip", "Parties_Description", "Voters_Gender", "Voters_Active",
    "County", "Precinct", "US_Congressional_District", "State_House_District", "State_Senate_District",
    "CommercialData_EstimatedIncome", "Voters_Phone",
]


def write_file(n: int, path: Path, *, week: int) -> Path:
    """Week 0: voters 1..n. Week 1: 2% of them gone, 2% new, 5% moved house (same county)."""
    if path.exists():
        return path
    total = n + n // 50
    rng = np.random.default_rng(11)  # one draw per voter: attributes stay put between weeks
    first = np.array(["James", "Mary", "Robert", "Patricia", "José", "Renée", "Michael", "Linda", "David", "María"])
    last = np.array(["Smith", "Johnson", "Williams", "Brown", "Jones", "García", "Miller", "Davis", "O'Neil", "Brontë"])
    streets = np.array(["Main St", "Oak Ave", "Elm St", "Pine Rd", "Maple Dr", "Cedar Ln", "Hill St", "Lake Rd"])
    counties = np.array(["Philadelphia", "Allegheny", "Montgomery", "Bucks", "Delaware", "Lancaster", "Erie"])
    parties = np.array(["Democratic", "Republican", "Non-Partisan", "Libertarian", "Green"])
    house = rng.integers(1, 9999, total)
    df = pl.DataFrame({
        "LALVOTERID": [f"LALPA{i:09d}" for i in range(1, total + 1)],
        "Voter Name": [f"{a}, {b}" for a, b in zip(last[rng.integers(0, 10, total)],
                                                 first[rng.integers(0, 10, total)], strict=True)],
        "Voters_BirthDate": [f"{mo:02d}/{d:02d}/{y}" for mo, d, y in zip(
            rng.integers(1, 13, total), rng.integers(1, 29, total), rng.integers(1930, 2006, total), strict=True)],
        "Voters_OfficialRegDate": [f"{mo:02d}/{d:02d}/{y}" for mo, d, y in zip(
            rng.integers(1, 13, total), rng.integers(1, 29, total), rng.integers(1970, 2026, total), strict=True)],
        "Residence_Addresses_AddressLine": [f"{h} {s}" for h, s in zip(
            house, streets[rng.integers(0, 8, total)], strict=True)],
        "Residence_Addresses_City": ["Springfield"] * total,
        "Residence_Addresses_Zip": [f"19{z:03d}" for z in rng.integers(0, 999, total)],
        "Parties_Description": parties[rng.integers(0, 5, total)],
        "Voters_Gender": np.array(["M", "F", "U"])[rng.integers(0, 3, total)],
        "Voters_Active": np.array(["A", "I"])[(rng.random(total) < 0.1).astype(int)],
        "County": counties[rng.integers(0, len(counties), total)],
        "Precinct": [f"PCT-{p}" for p in rng.integers(1, 2000, total)],
        "US_Congressional_District": [f"{c:02d}" for c in rng.integers(1, 18, total)],
        "State_House_District": rng.integers(1, 204, total).astype(str),
        "State_Senate_District": rng.integers(1, 51, total).astype(str),
        "CommercialData_EstimatedIncome": [f"${i}000-{i + 25}000" for i in rng.integers(10, 200, total)],
        "Voters_Phone": [f"(215) 555-{p:04d}" for p in rng.integers(0, 10000, total)],
    })
    week_rng = np.random.default_rng(100 + week)
    if week == 0:
        df = df.head(n)
    else:
        kept = np.concatenate([week_rng.random(n) >= 0.02, np.ones(total - n, dtype=bool)])
        moved = week_rng.random(total) < 0.05
        df = df.with_columns(
            pl.when(pl.Series(moved)).then(pl.lit("1 New St")).otherwise(pl.col("Residence_Addresses_AddressLine"))
            .alias("Residence_Addresses_AddressLine")
        ).filter(pl.Series(kept))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(df.write_csv().encode("cp1252"))
    return path


def child(which: str, path: str, wh_path: str) -> None:
    start = time.perf_counter()
    if which == "baseline":
        import duckdb

        con = duckdb.connect(wh_path)
        con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, all_varchar = true, encoding = 'latin-1')", [path])
        rows = int(con.execute("SELECT count(*) FROM t").fetchone()[0])  # type: ignore[index]
        extra: dict[str, object] = {}
    else:
        from unionhall.elections.vendor import vendor_voterfile_import
        from unionhall.warehouse import Warehouse

        wh = Warehouse(Path(wh_path))
        wh.migrate()
        with wh.transaction():
            rec = vendor_voterfile_import(warehouse=wh, path=path, state="PA")
        rec.check()
        rows = rec.rows_read
        extra = {"new": rec.new, "changed": rec.changed, "removed": rec.removed, "flagged": rec.rows_flagged}
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "seconds": seconds, "rss_mb": rss, **extra}))


def run(which: str, path: Path, wh_path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", which, str(path), str(wh_path)],
                         capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--voters", type=int, default=200_000)
    ap.add_argument("--child", nargs=3)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    week1 = write_file(args.voters, CACHE / f"pa_vendor_{args.voters}_20261001.csv", week=0)
    week2 = write_file(args.voters, CACHE / f"pa_vendor_{args.voters}_20261008.csv", week=1)
    with tempfile.TemporaryDirectory() as tmp:
        base = run("baseline", week1, Path(tmp) / "baseline.duckdb")
        ours = run("ours", week1, Path(tmp) / "wh.duckdb")
        reload = run("ours", week2, Path(tmp) / "wh.duckdb")
    for name, r in (("duckdb read_csv", base), ("ours, first load", ours), ("ours, reload", reload)):
        rate = r["rows"] / r["seconds"]
        more = {k: r[k] for k in ("new", "changed", "removed", "flagged") if k in r}
        print(f"{name:<18} {r['rows']:>10,} rows {r['seconds']:8.1f} s {rate:12,.0f} rows/s "
              f"peak {r['rss_mb']:7,.0f} MB {more or ''}")
    print(f"ratio ours / baseline (first load): {ours['seconds'] / base['seconds']:.1f}x slower")


if __name__ == "__main__":
    main()
