"""Contact report: a walk report by canvasser over 1,000,000 contact results, through
the user's scope, against a plain DuckDB GROUP BY of the same table (issue 12).

    .venv/bin/python bench/bench_reports.py [--contacts 1000000] [--persons 200000] [--repeat 9]

The warehouse holds `--persons` persons (three counties of a CLC and three others, a
tenth of them nurses) and `--contacts` contact results over thirty days (doors 60%,
phones 30%, mail 10%; 40 canvassers, 200 turfs; four committees), with a survey answer
on every conversation. Runs alternate in one process:

* baseline: the report's grouped numbers (attempts, contacts, people attempted and
  contacted per canvasser, doors only) as one hand-written GROUP BY on the unscoped
  table;
* baseline, four queries: everything the report computes (totals, the groups, results
  by code, survey answers by code) as four hand-written queries on the unscoped tables;
* scoped query: the same numbers through the gateway for a CLC organizer (the scope's
  join and its committee filter), compiled once and executed: the cost of the scope;
* report, organizer: `contact_report` as the page calls it for the CLC organizer (the
  account and scope checks, totals, the groups, results by code, survey responses,
  labels, the usage log);
* report, administrator: the same for a platform administrator (no scope).

Medians of wall clock and of this process's CPU time; the ratios against the baseline
are the figures to compare. Drawing the chart (SVG and PNG) and the PDF are timed once
for scale.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time

from _scratch import scratch_dir


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    os.environ["UNIONHALL_DATA_DIR"] = str(scratch_dir("uh-bench-reports-"))
    os.environ.pop("DATABASE_URL", None)
    from unionhall.cli._runtime import migrate_app_database, setup_django

    setup_django()
    migrate_app_database()
    from django.contrib.auth import get_user_model

    from unionhall.access.gateway import person_member_bits_refresh
    from unionhall.access.models import Committee, DataAgreement, RoleGrant
    from unionhall.reports.charts import chart_png, chart_svg
    from unionhall.reports.filters import ContactFilters
    from unionhall.reports.render import report_pdf
    from unionhall.reports.selectors import contact_report, report_committees
    from unionhall.reports.selectors.contacts import _metrics, contact_rows
    from unionhall.warehouse import open_warehouse

    national = Committee.objects.create(name="AFL-CIO", kind="national")
    fed = Committee.objects.create(name="NC AFL-CIO", kind="state_federation", parent=national, state="NC")
    clc = Committee.objects.create(name="Triangle CLC", kind="clc", parent=fed, state="NC",
                                   counties=["WAKE", "DURHAM", "ORANGE"])
    other = Committee.objects.create(name="Coastal CLC", kind="clc", parent=fed, state="NC", counties=["DARE"])
    nurses = Committee.objects.create(name="Nurses", kind="affiliate", source_slug="nurses")
    DataAgreement.objects.create(affiliate=nurses, grantee=fed, fields=["name", "address"])
    users = get_user_model().objects
    organizer = users.create_user("clc-organizer")  # no password: never logs in
    RoleGrant.objects.create(user=organizer, committee=clc, role="organizer")
    admin = users.create_superuser("admin")
    committees = [clc.pk, other.pk, fed.pk, nurses.pk]

    wh = open_warehouse()
    wh.migrate()
    cur = wh.cursor()
    t0 = time.perf_counter()
    cur.execute(
        """
        INSERT INTO person (person_id, first_name, last_name, state, county, voter_reg_num, member_sources,
                            member_locals)
        SELECT i, 'F' || (i % 5000), 'L' || (i % 20000), 'NC',
               ['WAKE', 'DURHAM', 'ORANGE', 'DARE', 'CRAVEN', 'VANCE'][1 + i % 6],
               CASE WHEN i % 4 <> 0 THEN 'R' || i END, CASE WHEN i % 10 = 0 THEN ['nurses'] ELSE [] END, []
        FROM range(?) t(i)
        """, [args.persons])
    person_member_bits_refresh(cur)
    cur.execute(
        """
        INSERT INTO contact_history
        SELECT 'b:' || i, (i * 7919) % $persons,
               CASE WHEN i % 10 < 6 THEN 'door' WHEN i % 10 < 9 THEN 'phone' ELSE 'mail' END,
               ['NH', 'CV', 'NH', 'RF', 'NH', 'CV', 'MV', 'NH', 'LM', 'IN'][1 + (i // 3) % 10],
               (i // 3) % 10 IN (1, 3, 5),
               TIMESTAMP '2026-10-01 09:00:00' + to_seconds(CAST((i * 37) % (30 * 86400) AS BIGINT)),
               $committees[1 + (i // 11) % 4], 'canvasser-' || ((i // 10) % 40), 1 + i % 200, NULL, NULL, [], NULL,
               'canvass', NULL, NULL, TIMESTAMP '2026-11-01 00:00:00'
        FROM range($n) t(i)
        """, {"persons": args.persons, "committees": committees, "n": args.contacts})
    cur.execute(
        """
        INSERT INTO contact_response
        SELECT result_key, person_id, NULL, 'support', CAST(1 + hash(result_key) % 4 AS VARCHAR), contacted_at
        FROM contact_history WHERE contacted
        """)
    print(f"warehouse: {args.persons:,} persons, {args.contacts:,} contact results "
          f"(loaded in {time.perf_counter() - t0:.1f} s)")

    baseline_sql = """
        SELECT canvasser, count(*), count(*) FILTER (WHERE contacted), count(DISTINCT person_id),
               count(DISTINCT person_id) FILTER (WHERE contacted)
        FROM contact_history WHERE channel = 'door' GROUP BY canvasser
    """
    four_sql = [
        "SELECT count(*), count(*) FILTER (WHERE contacted), count(DISTINCT person_id), "
        "count(DISTINCT person_id) FILTER (WHERE contacted), min(contacted_at), max(contacted_at) "
        "FROM contact_history WHERE channel = 'door'",
        baseline_sql,
        "SELECT result_code, contacted, count(*), count(DISTINCT person_id) FROM contact_history "
        "WHERE channel = 'door' GROUP BY 1, 2",
        "SELECT question_code, response_code, count(*), count(DISTINCT person_id) FROM contact_response "
        "WHERE result_key IN (SELECT result_key FROM contact_history WHERE channel = 'door') GROUP BY 1, 2",
    ]
    filters = ContactFilters(channel="walk", group_by="canvasser")
    mine = report_committees(organizer)
    scoped = contact_rows(user=organizer, filters=filters, committees=mine, committee=None, saved_list=None,
                          warehouse=wh)
    scoped_sql = str(wh.backend.compile(scoped.group_by("canvasser").aggregate(**_metrics(scoped))))

    runs = {
        "baseline GROUP BY": lambda: wh.cursor().execute(baseline_sql).fetchall(),
        "baseline, four queries": lambda: [wh.cursor().execute(q).fetchall() for q in four_sql],
        "scoped query": lambda: wh.cursor().execute(scoped_sql).fetchall(),
        "report, organizer": lambda: contact_report(user=organizer, filters=filters, warehouse=wh),
        "report, administrator": lambda: contact_report(user=admin, filters=filters, warehouse=wh),
    }
    out = {k: f() for k, f in runs.items()}  # warm up
    base_rows = {r[0]: tuple(r[1:]) for r in out["baseline GROUP BY"]}
    admin_rows = {r["group"]: (r["attempts"], r["contacts"], r["people"], r["people_contacted"])
                  for r in out["report, administrator"].table("groups").rows}
    assert admin_rows == base_rows, "the report and the baseline disagree"
    wall: dict[str, list[float]] = {k: [] for k in runs}
    cpu: dict[str, list[float]] = {k: [] for k in runs}
    for i in range(args.repeat):
        for name in (list(runs) if i % 2 == 0 else list(reversed(runs))):
            w0, c0 = time.perf_counter(), _cpu()
            out[name] = runs[name]()
            wall[name].append(time.perf_counter() - w0)
            cpu[name].append(_cpu() - c0)
    med = {k: statistics.median(v) * 1000 for k, v in wall.items()}
    med_cpu = {k: statistics.median(v) * 1000 for k, v in cpu.items()}
    org = out["report, organizer"]
    attempts = {label: v for label, v, _ in org.figures}["Attempts"]
    print(f"walk report by canvasser: {len(base_rows)} canvassers, "
          f"{sum(r[0] for r in base_rows.values()):,} door attempts in all; the CLC organizer's report counts "
          f"{attempts:,} (its committee, people in its scope)")
    for name in runs:
        print(f"{name + ':':25s} median {med[name]:8.1f} ms (CPU {med_cpu[name]:8.1f} ms)")

    def once(fn):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        fn()
        return (time.perf_counter() - t) * 1000

    print(f"chart as SVG {once(lambda: chart_svg(org.chart)):.0f} ms, as PNG {once(lambda: chart_png(org.chart)):.0f} "
          f"ms; the whole report as PDF {once(lambda: report_pdf(org)):.0f} ms")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    base = "baseline GROUP BY"
    for name in ("scoped query", "report, organizer", "report, administrator"):
        print(f"ratio {name} / baseline: {med[name] / med[base]:.2f} wall clock, "
              f"{med_cpu[name] / med_cpu[base]:.2f} CPU")
    four = "baseline, four queries"
    for name in ("report, organizer", "report, administrator"):
        print(f"ratio {name} / {four}: {med[name] / med[four]:.2f} wall clock, "
              f"{med_cpu[name] / med_cpu[four]:.2f} CPU")


if __name__ == "__main__":
    main()
