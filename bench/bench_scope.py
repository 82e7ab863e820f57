"""Row-level scope cost: a 5-filter count over 1,000,000 persons through the scoped
expression (`person_base`) against the same count on the unscoped table (issue 7).

    .venv/bin/python bench/bench_scope.py [--persons 1000000] [--repeat 15]

The scoped user is a central labor council organizer (geography + a data agreement +
the voters of its counties: the most involved scope). The scoped count is taken as
`person_count` takes it (`scoped_count`: the one row filter, no masks computed); the
same count written as `.count()` on the scoped table is shown beside it. Each run
compiles and executes; runs alternate between the expressions in one process on one
warehouse, and the figure that matters is the ratio (target <= 1.2), by wall clock and
by this process's CPU time (steadier on a shared machine). Building the scoped
expression (reading the user's scope from the app database) happens once per request
and is printed on its own.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time

from _scratch import scratch_dir


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    os.environ["UNIONHALL_DATA_DIR"] = str(scratch_dir("uh-bench-scope-"))
    os.environ.pop("DATABASE_URL", None)
    from unionhall.cli._runtime import migrate_app_database, setup_django

    setup_django()
    migrate_app_database()
    from django.contrib.auth import get_user_model

    from unionhall.access.gateway import person_base, person_member_bits_refresh, scoped_count
    from unionhall.access.models import Committee, DataAgreement, RoleGrant
    from unionhall.warehouse import open_warehouse

    wh = open_warehouse()
    wh.migrate()
    t = time.perf_counter()
    wh.cursor().execute(
        """
        INSERT INTO person (person_id, first_name, last_name, birth_date, sex, addr_line1, city, state, zip5,
                            county, phone, email, voter_reg_num, member_sources, member_locals)
        SELECT i, 'F' || (i % 5000), 'L' || (i % 20000), DATE '1940-01-01' + CAST(i % 25000 AS INTEGER),
               CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END, (i % 9000) || ' MAIN ST', 'CITY' || (i % 300),
               CASE WHEN i % 10 = 0 THEN 'VA' ELSE 'NC' END, lpad(CAST(27000 + i % 900 AS VARCHAR), 5, '0'),
               ['WAKE', 'DURHAM', 'ORANGE', 'DARE', 'CRAVEN', 'VANCE'][1 + i % 6],
               '+1919' || lpad(CAST(i % 10000000 AS VARCHAR), 7, '0'), NULL,
               CASE WHEN i % 4 <> 0 THEN 'R' || i END,
               CASE WHEN i % 7 = 0 THEN ['nurses'] WHEN i % 11 = 0 THEN ['teachers'] ELSE [] END,
               []
        FROM range(?) t(i)
        """,
        [args.persons],
    )
    person_member_bits_refresh(wh.cursor())  # as the identity job does after writing memberships
    print(f"persons: {args.persons:,} (loaded in {time.perf_counter() - t:.1f} s)")

    national = Committee.objects.create(name="AFL-CIO", kind="national")
    fed = Committee.objects.create(name="NC AFL-CIO", kind="state_federation", parent=national, state="NC")
    clc = Committee.objects.create(name="Triangle CLC", kind="clc", parent=fed, state="NC",
                                   counties=["WAKE", "DURHAM", "ORANGE"])
    nurses = Committee.objects.create(name="Nurses", kind="affiliate", source_slug="nurses")
    DataAgreement.objects.create(affiliate=nurses, grantee=fed, fields=["name", "address"])
    user = get_user_model().objects.create_user("clc-organizer")  # no password: never logs in
    RoleGrant.objects.create(user=user, committee=clc, role="organizer")

    # Filters on fields this user may see (a masked field filters to nothing, by design:
    # nobody can narrow a list on a value they are not allowed to read).
    def five_filters(t):  # type: ignore[no-untyped-def]
        return t.filter(
            t.sex == "F", t.city != "CITY5", t.last_name.startswith("L1"), t.zip5 != "27001",
            t.voter_reg_num.notnull(),
        )

    t0 = time.perf_counter()
    scoped_table = five_filters(person_base(user=user))
    scoped_expr = scoped_count(scoped_table)  # how person_count / person_search count
    build_s = time.perf_counter() - t0
    plain_expr = five_filters(wh.unscoped_table("person")).count()
    exprs = {"unscoped": plain_expr, "scoped": scoped_expr, "scoped .count()": scoped_table.count()}

    # Each run compiles and executes (what a request does after building the expression).
    # Runs alternate between the two, so both see the same machine load.
    wall: dict[str, list[float]] = {k: [] for k in exprs}
    cpu: dict[str, list[float]] = {k: [] for k in exprs}
    counts: dict[str, int] = {}
    for e in exprs.values():
        e.execute()  # warm up
    for i in range(args.repeat):
        for name in (list(exprs) if i % 2 == 0 else list(reversed(exprs))):
            w0, c0 = time.perf_counter(), _cpu()
            counts[name] = int(exprs[name].execute())
            wall[name].append(time.perf_counter() - w0)
            cpu[name].append(_cpu() - c0)
    t0 = time.perf_counter()
    wh.backend.compile(scoped_expr)
    compile_s = time.perf_counter() - t0
    med = {k: statistics.median(v) * 1000 for k, v in wall.items()}
    med_cpu = {k: statistics.median(v) * 1000 for k, v in cpu.items()}
    for name in exprs:
        print(f"{name + ' 5-filter count:':33s}{counts[name]:>9,} persons, median {med[name]:7.1f} ms "
              f"(CPU {med_cpu[name]:6.1f} ms)")
    print(f"building the scoped expression (scope paths, source bits): {build_s * 1000:.1f} ms; "
          f"compiling it: {compile_s * 1000:.1f} ms (both once per request; compiling is in the runs above)")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"ratio scoped / unscoped: {med['scoped'] / med['unscoped']:.2f} wall clock, "
          f"{med_cpu['scoped'] / med_cpu['unscoped']:.2f} CPU   (target <= 1.2)")
    print(f"  (the same count written as .count() on the scoped table, which also computes the "
          f"masks' SQL: {med['scoped .count()'] / med['unscoped']:.2f} wall, "
          f"{med_cpu['scoped .count()'] / med_cpu['unscoped']:.2f} CPU)")


def _cpu() -> float:
    """CPU seconds of this process, all threads (less sensitive than wall clock to other
    processes on a shared machine)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

if __name__ == "__main__":
    main()
