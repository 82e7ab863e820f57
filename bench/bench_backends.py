"""The same work on the three warehouse engines: DuckDB (the embedded default),
PostgreSQL and Spark in local mode (issue 14).

    .venv/bin/python bench/bench_backends.py [--persons 1000000] [--voters 1000000]
        [--members 5000] [--repeat 5] [--postgres-url postgresql://postgres@127.0.0.1:5432/test]
        [--skip lists|identity] [--engines duckdb,postgres,spark]

1. **List counts** over 1,000,000 golden records (bench_lists.py's persons, scope and
   5-filter list): loaded into a DuckDB warehouse, copied into a PostgreSQL schema with
   `unionhall warehouse copy`'s code and snapshotted for Spark. Each engine answers the
   builder's count request (`list_counts`: the user's scope and the filters, compiled by
   ibis for that engine); the runs alternate engines, medians are printed with the ratio
   to DuckDB, and the counts must be equal on all three.
2. **Identity** against a 1,000,000-row voter file: a synthetic state's voter file and
   member lists imported and matched on DuckDB (`identity.match`, which trains and saves
   the models), then the saved member -> voter model scores every member against the
   voters on each engine (`identity.model.predict(engine=...)`). Printed: seconds per
   engine (loading the tables into the engine, scoring, reading the pairs back), ratio to
   DuckDB, and whether the pairs and probabilities agree.

The PostgreSQL schemas made here are dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _scratch import scratch_dir
from bench_lists import clc_organizer, load_persons

ENGINES = ("duckdb", "postgres", "spark")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--voters", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip", choices=["lists", "identity"], action="append", default=[])
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help="Engines to compare (DuckDB, the baseline, always runs).")
    args = parser.parse_args()
    args.engines = ("duckdb", *(e for e in args.engines.split(",") if e in ENGINES and e != "duckdb"))
    work = scratch_dir("uh-bench-backends-")
    os.environ["UNIONHALL_DATA_DIR"] = str(work / "data")
    os.environ.pop("DATABASE_URL", None)
    from unionhall.cli._runtime import migrate_app_database, setup_django

    setup_django()
    migrate_app_database()
    from unionhall.warehouse.backends import parse_warehouse_url, postgres_drop_schema

    made: list[str] = []

    def pg_schema(name: str) -> str:
        url = f"{args.postgres_url}?schema=bench_{name}_{uuid.uuid4().hex[:8]}"
        made.append(url)
        return url

    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    try:
        if "lists" not in args.skip:
            _lists(args, work, pg_schema)
        if "identity" not in args.skip:
            _identity(args, work, pg_schema)
    finally:
        from unionhall.warehouse.backends import stop_spark

        stop_spark()
        for url in made:
            postgres_drop_schema(parse_warehouse_url(url))
    return 0


def _lists(args: argparse.Namespace, work: Path, pg_schema: Any) -> None:
    from unionhall.field.lists import ListDefinition, list_counts
    from unionhall.warehouse import Warehouse
    from unionhall.warehouse.transfer import copy_warehouse

    duck = Warehouse(work / "lists.duckdb")
    duck.migrate()
    t = time.perf_counter()
    load_persons(duck, args.persons)
    print(f"\n1. list counts over {args.persons:,} persons (DuckDB load {time.perf_counter() - t:.1f} s)")
    whs = {"duckdb": duck}
    if "postgres" in args.engines:
        t = time.perf_counter()
        whs["postgres"] = Warehouse(pg_schema("lists"))
        copied = copy_warehouse(duck, whs["postgres"])
        print(f"   copied to PostgreSQL: {copied.total:,} rows in {time.perf_counter() - t:.1f} s")
    if "spark" in args.engines:
        t = time.perf_counter()
        duck.snapshot_for_spark(work / "spark")
        whs["spark"] = Warehouse(f"spark:///{work / 'spark'}")
        print(f"   Spark snapshot written and opened in {time.perf_counter() - t:.1f} s")
    engines = tuple(whs)
    user = clc_organizer()
    definition = ListDefinition(counties=("WAKE", "DURHAM"), parties=("DEM", "UNA"), age_min=25, age_max=64,
                                generals_voted_min=2, walkable_only=True)
    first: dict[str, float] = {}
    counts: dict[str, Any] = {}
    for name, wh in whs.items():  # the first request compiles the scoped query for that engine
        t = time.perf_counter()
        counts[name] = list_counts(user=user, definition=definition, warehouse=wh)
        first[name] = time.perf_counter() - t
    wall: dict[str, list[float]] = {k: [] for k in whs}
    for i in range(args.repeat):
        for name in (engines if i % 2 == 0 else tuple(reversed(engines))):
            t = time.perf_counter()
            got = list_counts(user=user, definition=definition, warehouse=whs[name])
            wall[name].append(time.perf_counter() - t)
            assert got == counts[name]
    med = {k: statistics.median(v) * 1000 for k, v in wall.items()}
    c = counts["duckdb"]
    same = all(counts[e] == c for e in engines)
    print(f"   counts: {c.people:,} people, {c.households:,} households, {c.doors:,} doors, "
          f"{c.with_phone:,} with a phone — equal on every engine: {'yes' if same else 'NO'}")
    for name in engines:
        print(f"   {name:<9} median {med[name]:9.1f} ms  (first request {first[name] * 1000:8.1f} ms)  "
              f"ratio to DuckDB {med[name] / med['duckdb']:7.2f}")
    if not same:
        raise SystemExit(f"list counts differ between engines: {counts}")
    for wh in whs.values():
        wh.close()


def _identity(args: argparse.Namespace, work: Path, pg_schema: Any) -> None:
    import pyarrow as pa

    from unionhall.identity import model, prepare
    from unionhall.jobs.runner import job_run, job_submit
    from unionhall.synth import SynthParams, generate
    from unionhall.warehouse import Warehouse

    state = Path(tempfile.gettempdir()) / f"uh-bench-backends-state-{args.voters}-{args.members}"
    t = time.perf_counter()
    if not (state / "manifest.json").exists():
        generate(SynthParams(voters=args.voters, members=args.members, seed=7, absentee_days=1), state)
    print(f"\n2. identity: member records vs {args.voters:,} voters (state ready in {time.perf_counter() - t:.1f} s)")
    wh = Warehouse(work / "identity.duckdb")
    wh.migrate()

    def run(kind: str, **params: Any) -> dict[str, Any]:
        job = job_run(job=job_submit(kind=kind, params=params), warehouse=wh)
        if job.status != "succeeded":
            raise SystemExit(f"{kind} failed: {job.error}")
        return dict(job.result)

    t = time.perf_counter()
    run("elections.import_voterfile", path=str(state / "ncvoter_synth.txt"))
    manifest = json.loads((state / "manifest.json").read_text())
    for f in manifest["member_files"]:
        run("ingest.import_members", path=str(state / f["path"]), source=f["slug"])
    result = run("identity.match")
    print(f"   imported and matched on DuckDB in {time.perf_counter() - t:.1f} s "
          f"({result['member_records']:,} member records, {result['links']:,} links)")
    prepare.members_prepare(wh, everything=True)
    prepare.voters_prepare(wh, since_load_id=0)
    members, voters = prepare.members_arrow(wh), prepare.voters_arrow(wh)
    saved = wh.cursor().execute(
        "SELECT model_json FROM identity_model WHERE pair_kind = 'member_voter' ORDER BY run_id DESC LIMIT 1"
    ).fetchone()
    assert saved, "identity.match saved no member -> voter model"
    print(f"   scoring {members.num_rows:,} member records against {voters.num_rows:,} voters with the saved model")
    secs: dict[str, float] = {}
    pairs: dict[str, dict[tuple[str, str], float]] = {}
    detail: dict[str, dict[str, float]] = {}
    for name in args.engines:
        t = time.perf_counter()
        pred = model.predict(kind="member_voter", members=members, voters=voters, saved_model=str(saved[0]),
                             min_probability=0.5, engine=name,
                             postgres_url=args.postgres_url if name == "postgres" else None)
        secs[name] = time.perf_counter() - t
        detail[name] = pred.seconds
        tbl: pa.Table = pred.pairs
        pairs[name] = dict(zip(zip(tbl.column("key_l").to_pylist(), tbl.column("key_r").to_pylist(), strict=True),
                               tbl.column("match_probability").to_pylist(), strict=True))
    ref = pairs["duckdb"]
    for name in args.engines:
        got = pairs[name]
        diff = max((abs(got[k] - ref[k]) for k in ref.keys() & got.keys()), default=0.0)
        same = got.keys() == ref.keys()
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in detail[name].items())
        print(f"   {name:<9} {secs[name]:8.1f} s ({parts})  ratio to DuckDB {secs[name] / secs['duckdb']:7.2f}  "
              f"{len(got):,} pairs, same pairs as DuckDB: {'yes' if same else 'NO'}, "
              f"largest probability difference {diff:.1e}")
    wh.close()


if __name__ == "__main__":
    sys.exit(main())
