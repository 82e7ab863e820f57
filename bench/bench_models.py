"""Scoring 1,000,000 persons with a turnout model (issue 13).

    .venv/bin/python bench/bench_models.py [--persons 1000000] [--repeat 3]

The warehouse holds `--persons` registered voters of six counties with eight past
elections of vote history (turnout driven by a hidden propensity, about 4.5 million
votes). A turnout model is trained once (`targeting.turnout_train`, timed for scale:
three feature reads, the fit, the held-out judgement). Then, alternating in one process:

* baseline: the features as one hand-written DuckDB query on the unscoped tables
  (vote history pivoted per person, joined to persons and registrations), fetched as
  Arrow — what reading the model's input costs with no scope and no model;
* features through the gateway: `features.feature_frame` for a platform administrator
  (the scoped person read, the registration and vote-history reads, numpy columns);
* score: the same plus LightGBM's prediction for every person;
* score and write: the same plus `store.scores_replace` (deciles, the slot's rows
  replaced) inside a transaction — the model job's scoring step, end to end.

Medians of wall clock and of this process's CPU time; ratios against the baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import time

from _scratch import scratch_dir

ELECTIONS = [(dt.date(2018, 3, 6), -1.7), (dt.date(2018, 11, 6), 0.15), (dt.date(2020, 3, 3), -0.9),
             (dt.date(2020, 11, 3), 1.25), (dt.date(2022, 5, 17), -1.7), (dt.date(2022, 11, 8), 0.15),
             (dt.date(2024, 3, 5), -0.9), (dt.date(2024, 11, 5), 1.25)]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["UNIONHALL_DATA_DIR"] = str(scratch_dir("uh-bench-models-"))
    os.environ.pop("DATABASE_URL", None)
    from unionhall.cli._runtime import migrate_app_database, setup_django

    setup_django()
    migrate_app_database()
    from django.contrib.auth import get_user_model

    from unionhall.access.gateway import person_member_bits_refresh
    from unionhall.analytics import features as feat
    from unionhall.analytics import targeting
    from unionhall.analytics.store import scores_replace
    from unionhall.warehouse import open_warehouse

    admin = get_user_model().objects.create_superuser("admin")
    wh = open_warehouse()
    wh.migrate()
    cur = wh.cursor()
    t0 = time.perf_counter()
    n = args.persons
    cur.execute(
        """
        INSERT INTO person (person_id, first_name, last_name, state, county, voter_reg_num, member_sources,
                            member_locals, age, party, sex)
        SELECT i, 'F' || (i % 5000), 'L' || (i % 20000), 'NC',
               ['WAKE', 'DURHAM', 'ORANGE', 'DARE', 'CRAVEN', 'VANCE'][1 + i % 6], 'R' || i,
               CASE WHEN i % 10 = 0 THEN ['nurses'] ELSE [] END, [], 18 + (hash(i) % 70)::INTEGER,
               ['DEM', 'REP', 'UNA', 'UNA', 'LIB'][1 + (hash(i * 3) % 5)::INTEGER], ['F', 'M'][1 + i % 2]
        FROM range(?) t(i)
        """, [n])
    person_member_bits_refresh(cur)
    cur.execute("INSERT INTO voter_person SELECT 'N' || i, i FROM range(?) t(i)", [n])
    cur.execute(
        """
        INSERT INTO voter (county_id, voter_reg_num, ncid, registr_dt, in_file, row_hash, first_load_id,
                           last_load_id, changed_load_id)
        SELECT 1, 'R' || i, 'N' || i, DATE '2000-01-01' + CAST(hash(i * 5) % 8000 AS INTEGER), true, 0, 1, 1, 1
        FROM range(?) t(i)
        """, [n])
    for day, intercept in ELECTIONS:
        # A hidden propensity from age and a per-person habit: the same people vote again.
        cur.execute(
            """
            INSERT INTO vote_history (ncid, election_date, election_lbl, method, row_hash, first_load_id,
                                      last_load_id)
            SELECT 'N' || i, ?, strftime(?, '%m/%d/%Y'), 'election_day', 0, 1, 1
            FROM (SELECT i, 18 + (hash(i) % 70)::INTEGER AS age, (hash(i * 7) % 1000)::INTEGER / 1000.0 AS habit
                  FROM range(?) t(i))
            WHERE DATE '2000-01-01' + CAST(hash(i * 5) % 8000 AS INTEGER) < ?
              AND (hash(i * 11 + ?) % 10000) / 10000.0
                  < 1 / (1 + exp(-(? + (age - 45) / 25.0 + 3 * (habit - 0.5))))
            """, [day, day, n, day - dt.timedelta(days=25), day.toordinal(), intercept])
    votes = cur.execute("SELECT count(*) FROM vote_history").fetchone()[0]
    print(f"warehouse: {n:,} registered voters, {votes:,} votes in {len(ELECTIONS)} elections "
          f"(loaded in {time.perf_counter() - t0:.1f} s)")

    t0, c0 = time.perf_counter(), _cpu()
    result = targeting.turnout_train(user=admin, warehouse=wh, today=dt.date(2026, 12, 7))
    ev = result.card["evaluation"]
    print(f"train once (3 feature reads, fit, judge, score): {time.perf_counter() - t0:.1f} s wall, "
          f"{_cpu() - c0:.1f} s CPU; held-out AUC {ev['auc']:.3f} vs voted in the last two generals "
          f"{ev['baseline']['auc']:.3f}")
    elections = feat.elections_known(user=admin, warehouse=wh)
    cutoff = dt.date(2026, 12, 8)
    generals = [d for d, _ in ELECTIONS if d.month == 11][::-1]
    primaries = [d for d, _ in ELECTIONS if d.month != 11][::-1][:3]
    pivots = ", ".join([*(f"bool_or(election_date = DATE '{d}')::TINYINT AS g{i}" for i, d in enumerate(generals)),
                        *(f"bool_or(election_date = DATE '{d}')::TINYINT AS p{i}" for i, d in enumerate(primaries))])
    baseline_sql = f"""
        WITH h AS (SELECT vp.person_id, {pivots}, count(DISTINCT election_date) AS votes,
                          count(DISTINCT election_date) FILTER (WHERE method = 'early_in_person') AS early,
                          count(DISTINCT election_date) FILTER (WHERE method = 'mail') AS mail,
                          max(election_date) AS last_vote
                   FROM vote_history v JOIN voter_person vp USING (ncid)
                   WHERE election_date < DATE '{cutoff}' GROUP BY vp.person_id),
             r AS (SELECT vp.person_id, min(registr_dt) AS registered_on FROM voter JOIN voter_person vp USING (ncid)
                   GROUP BY 1)
        SELECT p.person_id, p.age, p.party, p.sex, p.county, len(p.member_sources) > 0 AS member, r.registered_on, h.*
        FROM person p LEFT JOIN r USING (person_id) LEFT JOIN h USING (person_id)
        WHERE p.voter_reg_num IS NOT NULL ORDER BY p.person_id
    """

    def baseline() -> int:
        return int(cur.execute(baseline_sql).to_arrow_table().num_rows)

    def features() -> int:
        return len(feat.feature_frame(user=admin, cutoff=cutoff, elections=elections, warehouse=wh,
                                      categories=result.fitted.categories).person_id)

    def score() -> int:
        F = feat.feature_frame(user=admin, cutoff=cutoff, elections=elections, warehouse=wh,
                               categories=result.fitted.categories)
        return len(result.fitted.predict(F.X))

    def score_write() -> int:
        F = feat.feature_frame(user=admin, cutoff=cutoff, elections=elections, warehouse=wh,
                               categories=result.fitted.categories)
        s = result.fitted.predict(F.X)
        cur.execute("BEGIN TRANSACTION")
        written = scores_replace(wh, slot="turnout", model_id=1, retired=[], person_id=F.person_id, score=s)
        cur.execute("COMMIT")
        return written

    runs = {"baseline: hand-written feature query": baseline, "features through the gateway": features,
            "score (features + LightGBM predict)": score, "score and write the slot": score_write}
    times: dict[str, list[float]] = {k: [] for k in runs}
    cpus: dict[str, list[float]] = {k: [] for k in runs}
    counts: dict[str, int] = {}
    for _ in range(args.repeat):
        for name, fn in runs.items():
            t0, c0 = time.perf_counter(), _cpu()
            counts[name] = fn()
            times[name].append(time.perf_counter() - t0)
            cpus[name].append(_cpu() - c0)
    assert len(set(counts.values())) == 1, counts
    base_w = statistics.median(times["baseline: hand-written feature query"])
    base_c = statistics.median(cpus["baseline: hand-written feature query"])
    print(f"{n:,} persons, medians of {args.repeat} alternating runs ({os.cpu_count()} CPUs):")
    for name in runs:
        w, c = statistics.median(times[name]), statistics.median(cpus[name])
        print(f"  {name:<40} {w:8.2f} s wall ({w / base_w:5.2f}x)  {c:8.2f} s CPU ({c / base_c:5.2f}x)")


if __name__ == "__main__":
    main()
