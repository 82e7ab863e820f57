"""Benchmark: cut 100,000 doors into 60-door turfs, against plain k-means in the same run.

    .venv/bin/python bench/bench_turf.py [--doors 100000] [--target 60] [--repeat 3]

Doors come from the synthetic state's geography (`unionhall.synth.geography`: towns of
dense streets and apartment buildings, long rural roads); `--missing` of them lose their
coordinates as failed geocodes do, so imputation is part of the run. Then:

* ours: `cut_turfs(doors, target=60)` (locate, atoms, bisection, repair, refinement,
  walk order of every turf, per-turf figures), `--repeat` times, median wall time;
* baseline: scikit-learn `KMeans` with the same k on the same coordinates (ours after
  imputation, projected to metres), k-means++ and one initialisation.

Prints wall time, turf sizes (min/max, how many outside ±15% of n/k), compactness (RMS
distance of a turf's doors from its centroid: per-turf mean and p90, and over all doors),
and the ratio of the wall times. Target on the 2-core machine: <= 30 s, every turf
within ±15%.
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import sys
import time

import numpy as np
import polars as pl


def build_doors(n: int, seed: int, missing: float) -> pl.DataFrame:
    """About n doors (one per household address) in the synthetic state's layout."""
    from unionhall.synth.geography import build_geography

    counties = int(np.clip(round(n / 12_500), 3, 40))  # as `unionhall synth` sizes a state
    geo = build_geography(seed, counties, n)
    addresses = geo.addresses.join(
        geo.precincts.select("precinct_idx", "zip", "precinct_abbrv"), on="precinct_idx"
    )
    rng = np.random.default_rng(seed)
    lost = pl.Series(rng.random(addresses.height) < missing)
    return addresses.select(
        door_id=pl.col("address_idx").cast(pl.Int64),
        lat=pl.when(lost).then(None).otherwise(pl.col("lat")),
        lon=pl.when(lost).then(None).otherwise(pl.col("lon")),
        street=pl.col("street_name"),
        house_number=pl.col("house_number"),
        unit=pl.col("unit"),
        precinct=pl.col("precinct_abbrv"),
        zip5=pl.col("zip").cast(pl.Utf8),
    )


def figures(name: str, sizes: np.ndarray, comp: np.ndarray, n: int, tol: float) -> dict[str, float]:
    """Print one method's size and compactness figures; return the ones compared."""
    k = sizes.size
    ideal = n / k
    lo = math.ceil(ideal * (1 - tol) - 1e-9)
    hi = math.floor(ideal * (1 + tol) + 1e-9)
    outside = int(np.count_nonzero((sizes < lo) | (sizes > hi)))
    per_door = math.sqrt(float(np.nansum(comp**2 * sizes)) / float(sizes.sum()))
    print(f"  turf sizes      min {sizes.min()}  max {sizes.max()}  (allowed {lo}-{hi}); "
          f"{outside} of {k} outside ±{tol:.0%}")
    print(f"  compactness     mean {np.nanmean(comp):,.0f} m  p90 {np.nanquantile(comp, 0.9):,.0f} m  "
          f"over all doors {per_door:,.0f} m")
    return {"outside": outside, "mean": float(np.nanmean(comp)), "p90": float(np.nanquantile(comp, 0.9))}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--doors", type=int, default=100_000)
    ap.add_argument("--target", type=int, default=60)
    ap.add_argument("--tolerance", type=float, default=0.15)
    ap.add_argument("--missing", type=float, default=0.02, help="share of doors without coordinates")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    from sklearn.cluster import KMeans

    from unionhall.field.turf import compactness, cut_turfs

    doors = build_doors(args.doors, args.seed, args.missing)
    n = doors.height
    print(f"doors           {n:,} ({doors['lat'].null_count():,} without coordinates), "
          f"{doors.filter(pl.col('unit') != '').height:,} of them apartment units")

    times = []
    cut = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        cut = cut_turfs(doors, target=args.target, tolerance=args.tolerance, seed=args.seed)
        times.append(time.perf_counter() - start)
    assert cut is not None
    ours_wall = statistics.median(times)
    t = cut.turfs
    print(f"ours: cut_turfs(target={args.target}, tolerance={args.tolerance})")
    print(f"  wall            {ours_wall:.2f} s median of {args.repeat} (min {min(times):.2f} s)")
    print(f"  k               {cut.k:,}")
    ours = figures("ours", t["doors"].to_numpy(), t["compactness_m"].to_numpy(), n, args.tolerance)
    print(f"  walk            mean {t['walk_m'].mean():,.0f} m a turf, "
          f"{t['walk_m'].sum() / n:,.0f} m a door (straight lines along the walk order)")
    print(f"  kept together   {cut.split_blocks:,} street blocks split between turfs; "
          f"{cut.split_buildings:,} buildings bigger than a turf cut into runs of units")
    sources = cut.assignments["coord_source"].value_counts().sort("coord_source")
    print("  coordinates     " + ", ".join(f"{s} {c:,}" for s, c in sources.iter_rows()))

    # Baseline on the coordinates ours used (after imputation), in the same metres.
    a = cut.assignments.sort("door_id")
    lat, lon = a["lat"].to_numpy(), a["lon"].to_numpy()
    ok = np.isfinite(lat)
    lat0 = float(lat[ok].mean())
    xy = np.column_stack([lon[ok] * 111_320.0 * math.cos(math.radians(lat0)), lat[ok] * 110_574.0])
    start = time.perf_counter()
    km = KMeans(n_clusters=cut.k, n_init=1, random_state=args.seed).fit(xy)
    km_wall = time.perf_counter() - start
    labels = km.labels_.astype(np.int64)
    print(f"baseline: scikit-learn KMeans(n_clusters={cut.k}, n_init=1) on {ok.sum():,} located doors")
    print(f"  wall            {km_wall:.2f} s")
    base = figures("k-means", np.bincount(labels, minlength=cut.k), compactness(lat[ok], lon[ok], labels),
                   int(ok.sum()), args.tolerance)
    print(f"ratio           ours / k-means wall time {ours_wall / km_wall:.2f}; "
          f"compactness ours / k-means: mean {ours['mean'] / base['mean']:.2f}, p90 {ours['p90'] / base['p90']:.2f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS        {peak_mb:,.0f} MB (whole process, k-means included)")
    met = ours_wall <= 30 and ours["outside"] == 0
    print(f"target <= 30 s and every turf within ±{args.tolerance:.0%}: {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
