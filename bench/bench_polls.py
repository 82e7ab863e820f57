"""Poll weighting and estimates: our raking and Taylor-linearized toplines against
samplics (the reference the tests compare with) on the same 10,000 responses.

    .venv/bin/python bench/bench_polls.py [--respondents 10000] [--repeat 7]

A synthetic poll (`analytics.poll_synth`) of `--respondents` drawn with differential
response from 300,000 synthetic adults, raked on four variables (county 8 categories,
sex 3, age band 4, party 4) to the population's counts. Runs alternate in one process:

* rake: `weighting.rake` against `samplics.weighting.SampleWeight().rake`, same
  tolerance (1e-6) and iteration limit; the largest weight difference is printed;
* toplines: weighted shares with SE and 95% MOE of the three questions plus a
  crosstab of each by age band: `weighting.proportions` against samplics'
  `TaylorEstimator(PopParam.prop)` (with `domain=` for the crosstab); the largest SE
  difference is printed.

Medians of wall clock and of this process's CPU time; the ratio (ours / samplics) is
the figure to compare. Importing the file (the real `poll_import` into a scratch
warehouse and app database) is timed once for scale.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

from _scratch import scratch_dir

BY = ("county", "sex", "age_band", "party")
TOL = 1e-6


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--respondents", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    tmp = scratch_dir("uh-bench-polls-")
    os.environ["UNIONHALL_DATA_DIR"] = str(tmp)
    os.environ.pop("DATABASE_URL", None)
    warnings.filterwarnings("ignore", category=FutureWarning)  # samplics is archived: its import warns
    from unionhall.cli._runtime import migrate_app_database, setup_django

    setup_django()  # polls.py (party_group, the import) sits on the app's models
    migrate_app_database()
    import numpy as np
    import polars as pl
    from samplics.estimation import TaylorEstimator
    from samplics.utils.types import PopParam
    from samplics.weighting import SampleWeight

    from unionhall.analytics.poll_synth import QUESTIONS, poll_file_write, synthetic_persons
    from unionhall.analytics.polls import party_group
    from unionhall.analytics.weighting import proportions, rake

    persons = synthetic_persons(300_000, seed=1)
    path = tmp / "poll.csv"
    poll_file_write(path, persons, n=args.respondents, seed=2)
    frame = pl.read_csv(path, infer_schema=False)
    n = frame.height
    age = frame.get_column("age").cast(pl.Int64).to_numpy()
    data: dict[str, np.ndarray] = {
        "county": frame.get_column("county").str.to_uppercase().to_numpy(),
        "sex": frame.get_column("gender").replace({"Female": "F", "Male": "M", "Other": "U"}).to_numpy(),
        "age_band": np.select([age < 30, age < 45, age < 65], ["18-29", "30-44", "45-64"], "65+"),
        "party": np.array([party_group({"Democrat": "DEM", "Republican": "REP", "Unaffiliated": "UNA"}.get(p, p))
                           for p in frame.get_column("party").to_list()], dtype=object),
    }
    pop_age = persons.get_column("age").to_numpy()
    pop = {"county": persons.get_column("county").to_numpy(), "sex": persons.get_column("sex").to_numpy(),
           "age_band": np.select([pop_age < 30, pop_age < 45, pop_age < 65], ["18-29", "30-44", "45-64"], "65+"),
           "party": np.array([party_group(p) for p in persons.get_column("party").to_list()], dtype=object)}
    control = {v: {str(c): float(k) * n / persons.height for c, k in zip(*np.unique(pop[v], return_counts=True),
                                                                          strict=True)} for v in BY}
    base = np.ones(n)
    answers = {q: np.array([a if a else None for a in frame.get_column(q).fill_null("").to_list()], dtype=object)
               for q in QUESTIONS}

    def ours_rake() -> np.ndarray:
        return rake(base, {v: data[v] for v in BY}, control, tol=TOL, ctrl_tol=TOL, max_iter=200).weights

    def samplics_rake() -> np.ndarray:
        return np.asarray(SampleWeight().rake(samp_weight=base, margins={v: data[v] for v in BY}, control=control,
                                              tol=TOL, ctrl_tol=TOL, max_iter=200))

    w_ours, w_ref = ours_rake(), samplics_rake()
    weight_diff = float(np.max(np.abs(w_ours - w_ref)))

    def ours_toplines() -> list[Any]:
        out: list[Any] = []
        for a in answers.values():
            out.append(proportions(a, w_ref))
            out.append(proportions(a, w_ref, domain=data["age_band"]))
        return out

    def samplics_toplines() -> list[Any]:
        out: list[Any] = []
        for a in answers.values():
            ok = np.array([x is not None for x in a.tolist()])
            for domain in (None, data["age_band"]):
                est = TaylorEstimator(PopParam.prop)
                # Those who did not answer are outside the domain, as in ours.
                dom = np.where(ok, "answered", "skip") if domain is None else np.where(ok, domain, "skip")
                est.estimate(y=np.where(ok, a, "skip").astype(str), samp_weight=w_ref, domain=dom)
                out.append(est)
        return out

    se_diff = 0.0
    for (ours_one, ref) in zip(ours_toplines(), samplics_toplines(), strict=True):
        for t in ours_one:
            key = "answered" if t.domain is None else t.domain
            for s in t.shares:
                se_diff = max(se_diff, abs(s.se - ref.stderror[key][s.category]))

    cases: dict[str, Callable[[], Any]] = {"rake, ours": ours_rake, "rake, samplics": samplics_rake,
                                           "toplines, ours": ours_toplines, "toplines, samplics": samplics_toplines}
    wall: dict[str, list[float]] = {k: [] for k in cases}
    cpu: dict[str, list[float]] = {k: [] for k in cases}
    for i in range(args.repeat):
        order = list(cases) if i % 2 == 0 else list(reversed(cases))
        for name in order:
            t0, c0 = time.perf_counter(), _cpu()
            cases[name]()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(_cpu() - c0)

    import_s = _import_once(path)

    med = {k: statistics.median(v) * 1000 for k, v in wall.items()}
    med_cpu = {k: statistics.median(v) * 1000 for k, v in cpu.items()}
    iters = rake(base, {v: data[v] for v in BY}, control, tol=TOL, ctrl_tol=TOL, max_iter=200).iterations
    print(f"poll: {n:,} respondents, raked on {', '.join(BY)} "
          f"({sum(len(control[v]) for v in BY)} categories, {iters} iterations, tol {TOL:g}); "
          f"{len(answers)} questions, toplines + crosstabs by age band; {args.repeat} alternating runs")
    for name in cases:
        print(f"{name + ':':22s} median {med[name]:9.1f} ms (CPU {med_cpu[name]:9.1f} ms)")
    print(f"max |weight ours - samplics|: {weight_diff:.2e}   max |SE ours - samplics|: {se_diff:.2e}")
    print(f"import of the file (poll_import, once, for scale): {import_s * 1000:.0f} ms")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    for what in ("rake", "toplines"):
        print(f"ratio {what} ours / samplics: {med[what + ', ours'] / med[what + ', samplics']:.3f} wall clock, "
              f"{med_cpu[what + ', ours'] / med_cpu[what + ', samplics']:.3f} CPU")


def _import_once(path: Any) -> float:
    from django.contrib.auth import get_user_model

    from unionhall.access.models import Committee
    from unionhall.analytics.polls import poll_import
    from unionhall.warehouse import open_warehouse

    wh = open_warehouse()
    wh.migrate()
    fed = Committee.objects.create(name="NC AFL-CIO", kind="state_federation", state="NC")
    admin = get_user_model().objects.create_superuser("admin")  # no password: never logs in
    t0 = time.perf_counter()
    out = poll_import(user=admin, committee=fed, path=path, name="bench", warehouse=wh)
    took = time.perf_counter() - t0
    assert out.rows_read == out.respondents + out.rejected
    return took


if __name__ == "__main__":
    main()
