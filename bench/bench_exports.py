"""Exports: an approved export of a 1,000,000-person list written to CSV and to XLSX
by the export job, against DuckDB's own COPY of the same columns (issue 12).

    .venv/bin/python bench/bench_exports.py [--persons 1000000] [--repeat 3]

The warehouse holds `--persons` persons of one state; a state federation organizer has
saved a list of all of them and asked for an export of eleven fields (name, address,
phone, age, party, precinct); a data manager approved it. Runs alternate in one
process, medians of wall clock and of this process's CPU time:

* baseline: `COPY (SELECT <the same eleven columns> FROM person) TO 'x.csv'` — the
  fastest a file of these rows can be written here, with no scope, key, seeds or
  watermark;
* export job, CSV: the job as the app runs it (`job_run` of `exports.run`): the list
  version's persons read through the gateway as the requester sees them, export keys,
  the seed records (checked against every person), the keyed variations, the keyed
  sort, formula-safe cells, the file, its SHA-256, and the export's keys, seeds and
  cell marks written to the warehouse;
* plain xlsxwriter: the baseline's rows written to a workbook by xlsxwriter in
  constant-memory mode, row by row (DuckDB's own XLSX writer is its `excel`
  extension, which is downloaded at first use: this machine may not download, so
  the library the export uses stands in as the XLSX baseline);
* export job, XLSX: the job again with format XLSX.

A new request is asked for and approved before each job run (not timed). The ratios
against the baseline (and XLSX against plain xlsxwriter) are the figures to compare.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from pathlib import Path

from _scratch import scratch_dir

FIELDS = ["first_name", "last_name", "addr_line1", "addr_line2", "city", "state", "zip5", "phone", "age", "party",
          "precinct"]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scratch = scratch_dir("uh-bench-exports-")
    os.environ["UNIONHALL_DATA_DIR"] = str(scratch)
    os.environ.pop("DATABASE_URL", None)
    from unionhall.cli._runtime import migrate_app_database, setup_django

    setup_django()
    migrate_app_database()
    import xlsxwriter
    from django.contrib.auth import get_user_model

    from unionhall.access.gateway import person_member_bits_refresh
    from unionhall.access.models import Committee, RoleGrant
    from unionhall.exports.services import export_dir, export_request_create, export_request_decide
    from unionhall.field.lists import ListDefinition
    from unionhall.field.services import saved_list_create
    from unionhall.jobs.runner import job_run
    from unionhall.warehouse import open_warehouse

    wh = open_warehouse()
    wh.migrate()
    t0 = time.perf_counter()
    wh.cursor().execute(
        """
        INSERT INTO person (person_id, first_name, last_name, sex, addr_line1, addr_line2, city, state, zip5,
                            county, phone, voter_reg_num, member_sources, member_locals, precinct, party,
                            reg_status, birth_year, age, generals_voted, door_key, walkable)
        SELECT i, 'F' || (i % 5000), 'L' || (i % 20000), CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END,
               (1 + i // 2 % 9000) || ' ' || ['MAIN', 'OAK', 'ELM', 'PINE', 'HILL'][1 + i % 5] || ' '
                   || ['ST', 'AVE', 'RD', 'DR'][1 + i % 4],
               CASE WHEN i % 9 = 0 THEN 'APT ' || (1 + i % 40) END, 'CITY' || (i % 300), 'NC',
               lpad(CAST(27000 + i % 900 AS VARCHAR), 5, '0'),
               ['WAKE', 'DURHAM', 'ORANGE', 'DARE', 'CRAVEN', 'VANCE'][1 + i % 6],
               CASE WHEN i % 3 = 0 THEN '+1919' || lpad(CAST(i % 10000000 AS VARCHAR), 7, '0') END,
               'R' || i, [], [], 'P' || (i % 40), ['DEM', 'REP', 'UNA', 'LIB'][1 + (i // 5) % 4], 'A',
               1930 + (i // 11) % 70, 96 - (i // 11) % 70, (i // 7) % 6, (i // 2 % 9000) || '|' || i % 900, true
        FROM range(?) t(i)
        """,
        [args.persons],
    )
    person_member_bits_refresh(wh.cursor())
    print(f"persons: {args.persons:,} (loaded in {time.perf_counter() - t0:.1f} s)")

    national = Committee.objects.create(name="AFL-CIO", kind="national")
    fed = Committee.objects.create(name="NC AFL-CIO", kind="state_federation", parent=national, state="NC")
    users = get_user_model().objects
    organizer, manager = users.create_user("fed-organizer"), users.create_user("fed-data-manager")
    RoleGrant.objects.create(user=organizer, committee=fed, role="organizer")
    RoleGrant.objects.create(user=manager, committee=fed, role="data_manager")
    t0 = time.perf_counter()
    saved = saved_list_create(user=organizer, name="Statewide", committee=fed, warehouse=wh,
                              definition=ListDefinition())
    print(f"saved list: {saved.people:,} persons (snapshot in {time.perf_counter() - t0:.1f} s)")
    assert saved.people == args.persons, "the organizer's list should hold every person"

    columns = ", ".join(FIELDS)
    base_csv = scratch / "copy.csv"
    base_xlsx = scratch / "plain.xlsx"

    def copy_csv() -> Path:
        wh.cursor().execute(f"COPY (SELECT person_id, {columns} FROM person ORDER BY last_name, first_name, "
                            f"person_id) TO '{base_csv}' (HEADER)")
        return base_csv

    def plain_xlsx() -> Path:
        cur = wh.cursor().execute(f"SELECT person_id, {columns} FROM person ORDER BY last_name, first_name, "
                                  f"person_id")
        book = xlsxwriter.Workbook(str(base_xlsx), {"constant_memory": True})
        sheet = book.add_worksheet("persons")
        sheet.write_row(0, 0, ["person_id", *FIELDS])
        r = 1
        while batch := cur.fetchmany(50_000):
            for row in batch:
                sheet.write_row(r, 0, row)
                r += 1
        book.close()
        return base_xlsx

    def export(fmt: str) -> Path:
        er = export_request_create(user=organizer, saved_list=saved, fields=FIELDS, fmt=fmt,
                                   purpose="Benchmark: statewide mail program", vendor=None)
        er = export_request_decide(user=manager, er=er, approve=True)
        assert er.job is not None
        t = time.perf_counter()
        c = _cpu()
        job = job_run(job=er.job, warehouse=wh)
        timing[f"export job, {fmt.upper()}"] = (time.perf_counter() - t, _cpu() - c)
        assert job.status == "succeeded", job.error
        er.refresh_from_db()
        return export_dir(er) / er.file_name

    try:
        wh.cursor().execute("LOAD excel")
        print("note: DuckDB's excel extension is installed here, but the XLSX baseline stays xlsxwriter")
    except Exception as exc:  # duckdb.IOException here: the extension would be downloaded
        print(f"DuckDB's excel extension is not available offline ({type(exc).__name__}); the XLSX baseline is "
              "plain xlsxwriter")

    runs = {
        "baseline COPY TO csv": copy_csv,
        "export job, CSV": lambda: export("csv"),
        "plain xlsxwriter": plain_xlsx,
        "export job, XLSX": lambda: export("xlsx"),
    }
    wall: dict[str, list[float]] = {k: [] for k in runs}
    cpu: dict[str, list[float]] = {k: [] for k in runs}
    sizes: dict[str, int] = {}
    timing: dict[str, tuple[float, float]] = {}
    for i in range(args.repeat):
        for name in (list(runs) if i % 2 == 0 else list(reversed(runs))):
            w0, c0 = time.perf_counter(), _cpu()
            path = runs[name]()
            w, c = timing.pop(name, (time.perf_counter() - w0, _cpu() - c0))
            wall[name].append(w)
            cpu[name].append(c)
            sizes[name] = path.stat().st_size
            if name.startswith("export"):
                path.unlink()  # a gigabyte a run otherwise
    med = {k: statistics.median(v) for k, v in wall.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    for name in runs:
        print(f"{name + ':':24s} median {med[name]:7.2f} s (CPU {med_cpu[name]:7.2f} s), "
              f"{sizes[name] / 1e6:7.1f} MB, {args.persons / med[name]:10,.0f} persons/s")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    base = "baseline COPY TO csv"
    for name in ("export job, CSV", "plain xlsxwriter", "export job, XLSX"):
        print(f"ratio {name} / {base}: {med[name] / med[base]:.2f} wall clock, "
              f"{med_cpu[name] / med_cpu[base]:.2f} CPU")
    print(f"ratio export job, XLSX / plain xlsxwriter: {med['export job, XLSX'] / med['plain xlsxwriter']:.2f} wall "
          f"clock, {med_cpu['export job, XLSX'] / med_cpu['plain xlsxwriter']:.2f} CPU")


if __name__ == "__main__":
    main()
