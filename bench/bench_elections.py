"""Benchmark: import a 1,000,000-voter `ncvoter` file and 8,000,000 `ncvhis` rows.

    .venv/bin/python bench/bench_elections.py                   # 1M voters, 8M history rows
    .venv/bin/python bench/bench_elections.py --voters 100000 --history 800000

Writes the files once (NCSBE format: every field quoted, tab-delimited, CRLF, zero-padded
registration numbers) into a cache directory, then in separate child processes:

* baseline: DuckDB's plain `read_csv` of the same two files into tables (auto-detect);
* ours: `voterfile_import` + `vote_history_import` into a fresh migrated warehouse, each
  in one transaction as the import jobs run them (layout checks, rejects, line numbers,
  normalization, code flags, reload diff, registration history, persons, participation).

Prints wall time, rows/s, peak RSS of each child, and the ratio ours / baseline.
Target on the 2-core machine: <= 60 s and <= 3 GB peak.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

CACHE = Path(tempfile.gettempdir()) / "unionhall-bench-elections"


def write_files(voters: int, history: int, out: Path) -> tuple[Path, Path]:
    from unionhall.elections.nc_layout import ncvhis_layout, ncvoter_layout

    out.mkdir(parents=True, exist_ok=True)
    vpath, hpath = out / f"ncvoter_{voters}.txt", out / f"ncvhis_{history}.txt"
    if vpath.exists() and hpath.exists():
        return vpath, hpath
    rng = np.random.default_rng(7)
    n = voters
    counties = ncvoter_layout().codes["county_id"]
    county_ids = np.array([int(c) or 100 for c in counties])
    county_names = np.array(list(counties.values()))
    ci = rng.integers(0, len(county_ids), n)
    first = np.array(["JAMES", "MARY", "ROBERT", "PATRICIA", "JOHN", "JENNIFER", "MICHAEL", "LINDA", "DAVID", "MARÍA"])
    last = np.array(["SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS", "RODRIGUEZ", "MARTINEZ"])
    streets = np.array(["MAIN ST", "OAK AVE", "ELM ST", "PINE RD", "MAPLE DR", "CEDAR LN", "HILL ST", "LAKE RD"])
    status = rng.choice(np.array(["A", "I", "R", "D", "S"]), n, p=[0.8, 0.1, 0.07, 0.02, 0.01])
    status_desc = {"A": "ACTIVE", "I": "INACTIVE", "R": "REMOVED", "D": "DENIED", "S": "TEMPORARY"}
    idx = np.arange(1, n + 1)
    house = rng.integers(1, 9999, n).astype(str)
    street = streets[rng.integers(0, len(streets), n)]
    res = np.char.add(np.char.add(house, "  "), street)  # NCSBE pads street addresses
    res = np.where(status == "R", "REMOVED", res)
    year = rng.integers(1930, 2008, n)
    cols: dict[str, object] = {
        "county_id": county_ids[ci].astype(str),
        "county_desc": county_names[ci],
        "voter_reg_num": np.char.zfill(idx.astype(str), 12),
        "ncid": np.char.add("BN", idx.astype(str)),
        "last_name": last[rng.integers(0, len(last), n)],
        "first_name": first[rng.integers(0, len(first), n)],
        "middle_name": first[rng.integers(0, len(first), n)],
        "status_cd": status,
        "voter_status_desc": np.vectorize(status_desc.get)(status),
        "reason_cd": np.where(status == "A", "AV", "IN"),
        "res_street_address": res,
        "res_city_desc": np.char.add(county_names[ci], " CITY"),
        "state_cd": "NC",
        "zip_code": (27000 + ci * 10).astype(str),
        "mail_addr1": res,
        "confidential_ind": "N",
        "registr_dt": np.char.add("03/04/", rng.integers(1960, 2026, n).astype(str)),
        "race_code": rng.choice(np.array(list("ABIMOPUW")), n),
        "ethnic_code": rng.choice(np.array(["HL", "NL", "UN"]), n),
        "party_cd": rng.choice(np.array(["DEM", "REP", "UNA", "LIB", "GRE"]), n, p=[0.33, 0.3, 0.35, 0.01, 0.01]),
        "gender_code": rng.choice(np.array(["F", "M", "U"]), n),
        "birth_year": year.astype(str),
        "age_at_year_end": (2026 - year).astype(str),
        "birth_state": "NC",
        "drivers_lic": "Y",
        "precinct_abbrv": np.char.add("P", (ci * 7 + idx % 7).astype(str)),
        "precinct_desc": np.char.add("PRECINCT ", (ci * 7 + idx % 7).astype(str)),
        "cong_dist_abbrv": (ci % 14 + 1).astype(str),
        "nc_senate_abbrv": (ci % 50 + 1).astype(str),
        "nc_house_abbrv": (ci % 120 + 1).astype(str),
    }
    frame = pl.DataFrame({c: (cols[c] if c in cols else np.full(n, "")) for c in ncvoter_layout().column_names})
    frame = frame.with_columns(pl.all().cast(pl.Utf8))
    frame.write_csv(vpath, separator="\t", quote_style="always", line_terminator="\r\n")

    # History: elections oldest first; a voter votes at most once per election.
    elections = [("11/08/2016", "GENERAL"), ("03/15/2016", "PRIMARY"), ("11/06/2018", "GENERAL"),
                 ("05/08/2018", "PRIMARY"), ("11/03/2020", "GENERAL"), ("03/03/2020", "PRIMARY"),
                 ("11/08/2022", "GENERAL"), ("05/17/2022", "PRIMARY"), ("11/05/2024", "GENERAL"),
                 ("03/05/2024", "PRIMARY"), ("11/05/2019", "MUNICIPAL GENERAL"), ("10/08/2019", "MUNICIPAL"),
                 ("11/02/2021", "MUNICIPAL GENERAL"), ("11/07/2023", "MUNICIPAL GENERAL"),
                 ("07/26/2022", "SECOND PRIMARY"), ("03/03/2026", "PRIMARY")]
    per = history // len(elections)
    methods = np.array(["IN-PERSON", "ABSENTEE ONESTOP", "ABSENTEE BY MAIL", "CURBSIDE", "PROVISIONAL",
                        "ABSENTEE CURBSIDE", "TRANSFER"])
    parts = []
    for k, (label, kind) in enumerate(elections):
        m = per if k < len(elections) - 1 else history - per * (len(elections) - 1)
        who = rng.choice(n, size=min(m, n), replace=False)
        parts.append(pl.DataFrame({
            "who": who, "election_lbl": label, "election_desc": f"{label} {kind}",
            "voting_method": methods[rng.choice(len(methods), who.size, p=[0.45, 0.35, 0.12, 0.03, 0.02, 0.02, 0.01])],
        }))
    votes = pl.concat(parts)
    w = votes["who"].to_numpy()
    party = frame["party_cd"].to_numpy()[w]
    hist = pl.DataFrame({
        "county_id": frame["county_id"].to_numpy()[w],
        "county_desc": frame["county_desc"].to_numpy()[w],
        "voter_reg_num": frame["voter_reg_num"].to_numpy()[w],
        "election_lbl": votes["election_lbl"],
        "election_desc": votes["election_desc"],
        "voting_method": votes["voting_method"],
        "voted_party_cd": party,
        "voted_party_desc": party,
        "pct_label": frame["precinct_abbrv"].to_numpy()[w],
        "pct_description": frame["precinct_desc"].to_numpy()[w],
        "ncid": frame["ncid"].to_numpy()[w],
        "voted_county_id": frame["county_id"].to_numpy()[w],
        "voted_county_desc": frame["county_desc"].to_numpy()[w],
        "vtd_label": frame["precinct_abbrv"].to_numpy()[w],
        "vtd_description": frame["precinct_abbrv"].to_numpy()[w],
    }).select(list(ncvhis_layout().column_names))
    hist.write_csv(hpath, separator="\t", quote_style="always", line_terminator="\r\n")
    return vpath, hpath


def phase_baseline(vpath: Path, hpath: Path, work: Path) -> dict[str, object]:
    import duckdb

    con = duckdb.connect(str(work / "baseline.duckdb"))
    t0 = time.perf_counter()
    # Plain read_csv (dialect auto-detected); all_varchar because type sniffing fails on
    # these files ("03/15/2016" after a sample of dates that also parse as DD/MM).
    con.execute("CREATE TABLE v AS SELECT * FROM read_csv(?, all_varchar = true)", [str(vpath)])
    t1 = time.perf_counter()
    con.execute("CREATE TABLE h AS SELECT * FROM read_csv(?, all_varchar = true)", [str(hpath)])
    t2 = time.perf_counter()
    rows = con.execute("SELECT (SELECT count(*) FROM v) + (SELECT count(*) FROM h)").fetchone()
    con.close()
    return {"voter_s": t1 - t0, "history_s": t2 - t1, "wall_s": t2 - t0, "rows": float(rows[0] if rows else 0)}


class StepClock:
    """A progress callback that keeps how long each reported step took."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.steps: dict[str, float] = {}
        self._last = time.perf_counter()
        self._msg = ""

    def __call__(self, _pct: float, msg: str) -> None:
        self.close()
        self._msg = msg

    def close(self) -> None:
        now = time.perf_counter()
        if self._msg:
            key = f"{self.prefix}: {re.sub(r'[0-9,]+ ', 'N ', self._msg)}"
            self.steps[key] = self.steps.get(key, 0.0) + now - self._last
        self._last = now


def phase_ours(vpath: Path, hpath: Path, work: Path) -> dict[str, object]:
    from unionhall.elections.services import vote_history_import, voterfile_import
    from unionhall.warehouse import Warehouse

    wh = Warehouse(work / "warehouse.duckdb")
    wh.migrate()
    vclock, hclock = StepClock("voter file"), StepClock("history")
    t0 = time.perf_counter()
    with wh.transaction():
        v = voterfile_import(warehouse=wh, path=str(vpath), as_of="2026-10-20", progress=vclock)
        vclock(100, "commit")
    vclock.close()
    t1 = time.perf_counter()
    with wh.transaction():
        h = vote_history_import(warehouse=wh, path=str(hpath), as_of="2026-10-20", progress=hclock)
        hclock(100, "commit")
    hclock.close()
    t2 = time.perf_counter()
    wh.close()
    v.check()
    h.check()
    return {"voter_s": t1 - t0, "history_s": t2 - t1, "wall_s": t2 - t0,
            "rows": float(v.rows_loaded + h.rows_loaded), "quarantined": float(v.rows_quarantined + h.rows_quarantined),
            "steps": {**vclock.steps, **hclock.steps}}


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: after fork + exec Linux
    keeps the parent's peak in ru_maxrss, and the parent may have just written the files."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(phase: str, vpath: Path, hpath: Path) -> tuple[dict[str, Any], float]:
    with tempfile.TemporaryDirectory(prefix=f"bench-el-{phase}-") as work:
        out = subprocess.run(
            [sys.executable, __file__, "--phase", phase, str(vpath), str(hpath), work],
            check=True, capture_output=True, text=True,
        )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result, result.pop("peak_rss_mb")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--voters", type=int, default=1_000_000)
    ap.add_argument("--history", type=int, default=8_000_000)
    ap.add_argument("--phase", nargs=4, metavar=("PHASE", "VOTERS", "HISTORY", "WORKDIR"))
    args = ap.parse_args()
    if args.phase:
        phase, v, h, work = args.phase
        fn = phase_ours if phase == "ours" else phase_baseline
        result: dict[str, Any] = dict(fn(Path(v), Path(h), Path(work)))
        result["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(result))
        return 0

    t = time.perf_counter()
    vpath, hpath = write_files(args.voters, args.history, CACHE)
    print(f"files: {vpath.name} ({vpath.stat().st_size / 1e6:,.0f} MB), {hpath.name} "
          f"({hpath.stat().st_size / 1e6:,.0f} MB), ready in {time.perf_counter() - t:.1f} s", flush=True)
    base, base_rss = run_child("baseline", vpath, hpath)
    ours, ours_rss = run_child("ours", vpath, hpath)
    rows = args.voters + args.history
    print(f"{'':>28} {'voter file':>11} {'history':>9} {'total':>8} {'rows/s':>11} {'peak RSS':>9}")
    for name, r, rss in (("DuckDB read_csv (baseline)", base, base_rss), ("unionhall import", ours, ours_rss)):
        print(f"{name:>28} {r['voter_s']:>10.1f}s {r['history_s']:>8.1f}s {r['wall_s']:>7.1f}s "
              f"{rows / r['wall_s']:>11,.0f} {rss:>7,.0f}MB")
    print(f"ratio ours / read_csv: {ours['wall_s'] / base['wall_s']:.2f}x "
          f"(voter file {ours['voter_s'] / base['voter_s']:.2f}x, history {ours['history_s'] / base['history_s']:.2f}x)")
    print("unionhall import, time per step:")
    for step, secs in ours.get("steps", {}).items():
        print(f"  {secs:>7.1f}s  {step}")
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    ok = ours["wall_s"] <= 60 and ours_rss <= 3072
    print(f"target <= 60 s and <= 3 GB: {'met' if ok else 'NOT met'} "
          f"({ours['wall_s']:.1f} s, {ours_rss / 1024:.2f} GB); rows loaded {ours['rows']:,.0f}, "
          f"quarantined {ours['quarantined']:,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
