"""Benchmark: read + map + standardize a messy member CSV, against a naive baseline.

    .venv/bin/python bench/bench_ingest_standardize.py [--rows 200000] [--baseline-rows 20000]

Generates a deterministic messy member file (numpy RNG; same file every run), runs the
columnar pipeline (`open_source` -> `standardize_batch`) over all of it, and runs a naive
row-by-row baseline (pandas read, then usaddress-scourgify + phonenumbers + nameparser +
dateutil per row) over the first `--baseline-rows` rows in the same process. Prints
rows/s for both and the ratio, plus how often the address and phone fast paths agree
with the libraries on this data. No absolute-time assertions: the ratio is the result.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FIRST = ["JAMES", "Mary", "robert", "PATRICIA", "John", "Jennifer", "MICHAEL", "linda", "David", "ELIZABETH",
         "William", "Barbara", "RICHARD", "Susan", "Joseph", "JESSICA", "Thomas", "Sarah", "CHARLES", "Karen",
         "José", "María", "Nguyen", "DeShawn", "Aaliyah", "Mohammed", "Wei", "Olga", "Siobhan", "Kwame"]
LAST = ["SMITH", "Johnson", "williams", "BROWN", "Jones", "Garcia", "MILLER", "Davis", "Rodriguez", "MARTINEZ",
        "Hernandez", "Lopez", "O'NEIL", "McDonald", "Smith-Jones", "Nguyen", "Kim", "Patel", "Washington", "Lee",
        "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King"]
STREETS = ["Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park", "Church",
           "Mill", "Spring", "Walnut", "Chestnut", "Highland", "Sunset", "Jefferson", "Franklin", "Lincoln",
           "Martin Luther King", "2nd", "3rd", "5th", "10th", "Broad", "Market", "Union", "Liberty", "Forest"]
TYPES = ["St", "Street", "Ave", "Avenue", "Rd", "Road", "Dr", "Drive", "Ln", "Ct", "Blvd", "Way", "Pl"]
DIRS = ["", "", "", "", "N", "S", "E", "W", "North"]
UNITS = [""] * 8 + ["Apt 4", "Apt 12B", "Unit 3", "#7", "Ste 200"]
CITIES = [("Springfield", "IL"), ("Chicago", "IL"), ("Peoria", "il"), ("Raleigh", "NC"), ("Durham", "North Carolina"),
          ("Boston", "MA"), ("Worcester", "Mass"), ("Columbus", "OH"), ("Dayton", "oh"), ("Detroit", "MI")]
EMPLOYERS = ["Acme Corp", "ACME CORP.", "City of Springfield", "State University", "General Hospital",
             "Metro Transit", "Unified School District", "County Sheriff", "Big Box Retail #123", ""]
STATUS = ["A", "Active", "ACTIVE", "R", "Retired", "I", "inactive", ""]


def make_file(path: Path, rows: int, seed: int = 20240501) -> None:
    """Write a deterministic messy member CSV with `rows` data rows."""
    rng = np.random.default_rng(seed)
    n = rows
    fi = rng.integers(0, len(FIRST), n)
    li = rng.integers(0, len(LAST), n)
    mid = rng.integers(0, 26, n)
    has_mid = rng.random(n) < 0.3
    num = rng.integers(1, 20000, n)
    di = rng.integers(0, len(DIRS), n)
    si = rng.integers(0, len(STREETS), n)
    ti = rng.integers(0, len(TYPES), n)
    ui = rng.integers(0, len(UNITS), n)
    ci = rng.integers(0, len(CITIES), n)
    zips = rng.integers(601, 99950, n)
    area = rng.choice(np.array([217, 312, 773, 919, 984, 617, 508, 614, 937, 313]), n)
    exch = rng.integers(200, 999, n)
    line = rng.integers(0, 9999, n)
    pfmt = rng.integers(0, 5, n)
    by = rng.integers(1945, 2004, n)
    bm = rng.integers(1, 13, n)
    bd = rng.integers(1, 29, n)
    dfmt = rng.integers(0, 4, n)
    jy = rng.integers(1980, 2025, n)
    ei = rng.integers(0, len(EMPLOYERS), n)
    st = rng.integers(0, len(STATUS), n)
    mess = rng.random(n)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("Member ID,First Name,Last Name,Address,City,State,Zip,Cell Phone,Email,DOB,Employer,Status,Init Date,Shirt\n")
        for i in range(n):
            first = FIRST[fi[i]] + (f" {chr(65 + mid[i])}" if has_mid[i] else "")
            last = LAST[li[i]]
            d = DIRS[di[i]]
            street = f"{num[i]} {d + ' ' if d else ''}{STREETS[si[i]]} {TYPES[ti[i]]}"
            u = UNITS[ui[i]]
            if u:
                street += f" {u}"
            city, state = CITIES[ci[i]]
            z = f"{zips[i]:05d}" if mess[i] > 0.05 else str(zips[i])  # Excel ate leading zeros
            a, b, c = area[i], exch[i], line[i]
            phone = [f"({a}) {b}-{c:04d}", f"{a}-{b}-{c:04d}", f"{a}{b}{c:04d}", f"{a}.{b}.{c:04d}", f"1-{a}-{b}-{c:04d}"][pfmt[i]]
            if mess[i] < 0.02:
                phone = f"{b}-{c:04d}"  # no area code: invalid
            email = f"{FIRST[fi[i]].lower()}.{last.lower().replace(chr(39), '')}{i % 97}@{'GMAIL.COM' if i % 3 else 'example.org'}"
            if mess[i] < 0.01:
                email = email.replace("@", " at ")
            y, m, dd = by[i], bm[i], bd[i]
            dob = [f"{m:02d}/{dd:02d}/{y}", f"{y}-{m:02d}-{dd:02d}", f"{m}/{dd}/{str(y)[2:]}", f"{dd}-{['Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec'][m - 1]}-{y}"][dfmt[i]]
            if mess[i] > 0.995:
                dob = "02/30/1980"
            row = [str(100000 + i), first, last, street, city, state, z, phone, email, dob,
                   EMPLOYERS[ei[i]], STATUS[st[i]], f"{jy[i]}-01-15", "L"]
            fh.write(",".join(f'"{v}"' if "," in v else v for v in row) + "\n")


def run_pipeline(path: Path) -> tuple[int, float, object]:
    from unionhall.ingest import Reconciliation, open_source, standardize_source, suggest_mapping

    t0 = time.perf_counter()
    reader = open_source(path)
    mapping = suggest_mapping(reader.header, reader.sample_rows(500))
    rec = Reconciliation()
    loaded = 0
    for result in standardize_source(reader, mapping, reconciliation=rec):
        loaded += result.loaded.height
    elapsed = time.perf_counter() - t0
    rec.check()
    return rec.rows_read, elapsed, rec


def run_baseline(path: Path, rows: int) -> tuple[int, float]:
    """Row-by-row with pandas and the libraries, the way a script would usually do it."""
    import pandas as pd
    import phonenumbers
    from dateutil import parser as dateparser
    from nameparser import HumanName
    from scourgify import normalize_address_record

    t0 = time.perf_counter()
    df = pd.read_csv(path, dtype=str, nrows=rows, keep_default_na=False)
    out = []
    for rec in df.to_dict("records"):
        name = HumanName(f"{rec['First Name']} {rec['Last Name']}")
        try:
            addr = normalize_address_record(rec["Address"])
        except Exception:
            addr = None
        try:
            p = phonenumbers.parse(rec["Cell Phone"], "US")
            phone = phonenumbers.format_number(p, phonenumbers.PhoneNumberFormat.E164) if phonenumbers.is_valid_number(p) else None
        except phonenumbers.NumberParseException:
            phone = None
        try:
            dob = dateparser.parse(rec["DOB"]).date()
        except (ValueError, OverflowError):
            dob = None
        out.append((name.first, name.last, addr, phone, rec["Email"].lower(), dob))
    return len(out), time.perf_counter() - t0


def fast_path_agreement(path: Path, rows: int) -> tuple[str, str]:
    """Share of distinct addresses/phones where the fast path and the library agree."""
    import pandas as pd

    from unionhall.ingest.standardize.addresses import _fast_street, standardize_street_slow
    from unionhall.ingest.standardize.phones import _fast, standardize_phone_slow

    df = pd.read_csv(path, dtype=str, nrows=rows, keep_default_na=False)
    addrs = sorted(set(df["Address"]))[:3000]
    fast_a = [(a, f) for a in addrs if (f := _fast_street(a)) is not None]
    agree_a = sum(1 for a, f in fast_a if (lambda s: (s.line1, s.line2))(standardize_street_slow(a)) == f)
    phones = sorted(set(df["Cell Phone"]))[:5000]
    fast_p = [(p, f) for p in phones if (f := _fast(p)) is not None]
    agree_p = sum(1 for p, f in fast_p if standardize_phone_slow(p) == f)
    return (
        f"addresses: fast path took {len(fast_a)}/{len(addrs)} distinct, agreed with scourgify on {agree_a}/{len(fast_a)}",
        f"phones: fast path took {len(fast_p)}/{len(phones)} distinct, agreed with phonenumbers on {agree_p}/{len(fast_p)}",
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--baseline-rows", type=int, default=20_000)
    ap.add_argument("--file", type=Path, help="use this member CSV instead of generating one")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.file or Path(tmp) / "members.csv"
        if not args.file:
            t = time.perf_counter()
            make_file(path, args.rows)
            print(f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f}s")
        n, secs, rec = run_pipeline(path)
        print(f"pipeline: {n:,} rows in {secs:.2f}s = {n / secs:,.0f} rows/s  [{rec.summary()}]")  # type: ignore[attr-defined]
        bn, bsecs = run_baseline(path, args.baseline_rows)
        print(f"baseline (pandas + row-by-row libraries): {bn:,} rows in {bsecs:.2f}s = {bn / bsecs:,.0f} rows/s")
        print(f"ratio: {(n / secs) / (bn / bsecs):.1f}x")
        for line in fast_path_agreement(path, args.baseline_rows):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
