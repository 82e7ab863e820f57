"""Walk sheet rendering: a 1,000-door turf (~1,800 persons) through `walk_sheet_pdf`, against
the floor for ReportLab measured in the same run.

    .venv/bin/python bench/bench_walksheet.py [--doors 1000] [--repeat 5] [--out bench/out/walksheet.pdf]

The turf is deterministic (seeded RNG): houses along streets with 1-3 people each, about a
quarter of the doors in apartment buildings of 4-12 units, a 3-question script, six result
codes and two activist codes, names with accents and Vietnamese diacritics.

Baseline: the same text (one line per door, one per person: id, name, age/sex, party,
union) drawn as plain `drawString` lines with `reportlab.pdfgen.canvas`, in the same font and
with the same page compression, but no layout, bubbles, shading, header or footer. Nothing
that writes these names into a PDF with ReportLab can be much faster, so the ratio says
what the sheet's layout costs on top of getting the text onto pages. Runs alternate
between the two, in one process; medians of wall clock and of this process's CPU time.
A call sheet for the same people is timed once, for scale.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import resource
import statistics
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas

from unionhall.field import sheets
from unionhall.field.sheets import (
    SheetDoor,
    SheetHeader,
    SheetPerson,
    SheetQuestion,
    SheetScript,
    call_sheet_pdf,
    walk_sheet_pdf,
)

FIRST = ["James", "Mary", "Robert", "Patricia", "José", "María", "Nguyễn Văn", "Trần Thị", "DeShawn", "Aaliyah",
         "Mohammed", "Wei", "Olga", "Siobhan", "Kwame", "Zoë", "Łukasz", "Priya", "Tomás", "Jennifer"]
LAST = ["Smith", "Johnson", "Núñez", "García", "Washington", "O'Neil", "McDonald", "Smith-Jones", "Nguyen",
        "Kim", "Patel", "Đặng", "Thompson", "Harris", "Okafor", "Ivanova", "Kowalski", "Reyes", "Lee", "Young"]
STREETS = ["Maple St", "Oak Ave", "Pine St", "Martin Luther King Jr Blvd", "Church St", "Hillsborough St",
           "Glenwood Ave", "New Bern Ave", "Person St", "Six Forks Rd"]
RESULTS = [("NH", "Not Home"), ("RF", "Refused"), ("MV", "Moved"), ("WN", "Wrong Number"),
           ("DC", "Deceased"), ("IN", "Inaccessible")]


def make_turf(n_doors: int, seed: int = 20261103) -> list[SheetDoor]:
    """Doors in walk order: street by street, buildings of units among the houses."""
    rng = random.Random(seed)
    doors: list[SheetDoor] = []
    pid = 0

    def people(k: int) -> list[SheetPerson]:
        nonlocal pid
        out = []
        for _ in range(k):
            pid += 1
            out.append(SheetPerson(
                person_id=3_000_000 + pid, name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                age=rng.randint(18, 94), sex=rng.choice("FM"), party=rng.choice(["DEM", "REP", "UNA", "LIB", None]),
                phone=f"+1919{rng.randint(2000000, 9999999)}",
                member_of=rng.choice([None, None, "SEIU 1199", "AFT Local 2", "IBEW 553", "CWA 3640"]),
                notes="Dog in yard" if rng.random() < 0.03 else None))
        return out

    number, street = 100, 0
    while len(doors) < n_doors:
        if rng.random() < 0.04:  # apartment building: 4-12 units, ~1.3 people each
            for u in range(min(rng.randint(4, 12), n_doors - len(doors))):
                doors.append(SheetDoor(len(doors) + 1, f"{number} {STREETS[street]}", f"Apt {101 + u}",
                                       "Raleigh 27601", people(rng.choice([1, 1, 1, 2]))))
        else:
            doors.append(SheetDoor(len(doors) + 1, f"{number} {STREETS[street]}", None, "Raleigh 27601",
                                   people(rng.choice([1, 1, 2, 2, 3, 3]))))
        number += 2
        if number > 998:
            number, street = 100, (street + 1) % len(STREETS)
    return doors


def baseline_pdf(doors: list[SheetDoor], font: str) -> bytes:
    """The floor: the same words as plain lines, paginated, nothing else."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=letter, pageCompression=1, invariant=1)
    top, bottom, lead = letter[1] - 36, 36, 12.0
    y = top
    c.setFont(font, 8.5)
    for d in doors:
        lines = [f"{d.seq} {d.address} {d.unit or ''} {d.city_zip or ''}"]
        lines += [f"{p.person_id} {p.name} {p.age} {p.sex} {p.party or ''} {p.member_of or ''}" for p in d.persons]
        for line in lines:
            if y < bottom:
                c.showPage()
                c.setFont(font, 8.5)
                y = top
            c.drawString(36, y, line)
            y -= lead
    c.showPage()
    c.save()
    return buf.getvalue()


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))  # page objects are not compressed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--doors", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="also write the walk sheet here")
    args = parser.parse_args()

    doors = make_turf(args.doors)
    persons = [p for d in doors for p in d.persons]
    apartments = sum(1 for d in doors if d.unit)
    header = SheetHeader(
        title="Fall member canvass 2026", committee="NC AFL-CIO", list_name="Wake union households",
        turf_name="Raleigh turf 7", canvasser=None,
        generated_at=datetime(2026, 10, 1, 14, 5, tzinfo=ZoneInfo("America/New_York")), tracking="WK-7F3A-12")
    script = SheetScript(
        name="Member GOTV 2026",
        intro="Hi, I'm a volunteer with the NC AFL-CIO talking with union members about the November 3 election.",
        questions=[
            SheetQuestion("Q1", "Will you vote on November 3?",
                          [("1", "Definitely"), ("2", "Probably"), ("3", "Unsure"), ("4", "No")]),
            SheetQuestion("Q2", "Do you support the union-endorsed candidate for governor?",
                          [("1", "Strong yes"), ("2", "Lean yes"), ("3", "Undecided"), ("4", "Lean no"),
                           ("5", "Strong no")]),
            SheetQuestion("Q3", "How do you plan to vote?", [("E", "Early"), ("M", "Mail"), ("D", "Election day")]),
        ],
        activist_codes=["VOL", "Yard sign"], closing="Thank you! Early voting is at the Main Street library.")
    font = sheets._fonts().regular  # the sheet's own font, so the baseline pays the same glyph costs
    print(f"turf: {len(doors):,} doors ({apartments} in apartment buildings), {len(persons):,} persons; "
          f"font {font}")

    runs = {
        "walk sheet": lambda: walk_sheet_pdf(header=header, script=script, result_codes=RESULTS, doors=doors),
        "baseline (plain lines)": lambda: baseline_pdf(doors, font),
    }
    out: dict[str, bytes] = {name: fn() for name, fn in runs.items()}  # warm up: font loading, imports
    wall: dict[str, list[float]] = {k: [] for k in runs}
    cpu: dict[str, list[float]] = {k: [] for k in runs}
    for i in range(args.repeat):
        for name in list(runs) if i % 2 == 0 else list(reversed(runs)):
            w0, c0 = time.perf_counter(), _cpu()
            out[name] = runs[name]()
            wall[name].append(time.perf_counter() - w0)
            cpu[name].append(_cpu() - c0)
    med = {k: statistics.median(v) for k, v in wall.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    for name in runs:
        pdf = out[name]
        print(f"{name + ':':24s} median {med[name] * 1000:7.0f} ms (CPU {med_cpu[name] * 1000:6.0f} ms), "
              f"{_pages(pdf):4d} pages, {len(pdf) / 1024:7.0f} KiB")
    t0 = time.perf_counter()
    call = call_sheet_pdf(header=header, script=script,
                          result_codes=[*RESULTS, ("LM", "Left Message"), ("DS", "Disconnected")], persons=persons)
    print(f"{'call sheet (same people):':24s} one run {(time.perf_counter() - t0) * 1000:7.0f} ms, "
          f"{_pages(call):4d} pages, {len(call) / 1024:7.0f} KiB")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    base = "baseline (plain lines)"
    print(f"ratio walk sheet / baseline: {med['walk sheet'] / med[base]:.2f} wall clock, "
          f"{med_cpu['walk sheet'] / med_cpu[base]:.2f} CPU")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(out["walk sheet"])
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
