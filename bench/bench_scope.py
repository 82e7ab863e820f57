"""Row-level scope cost: a 5-filter count over 1,000,000 persons through the scoped
expression (`person_base`) against the same count on the unscoped table (issue 7).

    .venv/bin/python bench/bench_scope.py [--persons 1000000] [--repeat 5]

The scoped user is a central labor council organizer (geography + a data agreement +
the voters of its counties: the most involved scope). Both counts run in the same
process on the same warehouse; the figure that matters is the ratio (target <= 1.2).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ["UNIONHALL_DATA_DIR"] = tempfile.mkdtemp(prefix="uh-bench-scope-")
    os.environ.pop("DATABASE_URL", None)
    from unionhall.cli._runtime import migrate_app_database, setup_django

    setup_django()
    migrate_app_database()
    from django.contrib.auth import get_user_model

    from unionhall.access.models import Committee, DataAgreement, RoleGrant
    from unionhall.warehouse import open_warehouse, person_base

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

    scoped_expr = five_filters(person_base(user=user)).count()
    plain_expr = five_filters(wh.table("person")).count()

    def timed(expr) -> tuple[float, int]:  # type: ignore[no-untyped-def]
        runs, value = [], 0
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            value = int(expr.execute())
            runs.append(time.perf_counter() - t0)
        return statistics.median(runs), value

    timed(plain_expr)  # warm up
    plain_s, plain_n = timed(plain_expr)
    scoped_s, scoped_n = timed(scoped_expr)
    t0 = time.perf_counter()
    five_filters(person_base(user=user)).count().compile()
    compile_s = time.perf_counter() - t0
    print(f"unscoped 5-filter count: {plain_n:>9,} persons, median {plain_s * 1000:8.1f} ms")
    print(f"scoped 5-filter count:   {scoped_n:>9,} persons, median {scoped_s * 1000:8.1f} ms")
    print(f"building + compiling the scoped expression: {compile_s * 1000:.1f} ms (once per request)")
    print(f"ratio scoped / unscoped: {scoped_s / plain_s:.2f}   (target <= 1.2)")


if __name__ == "__main__":
    main()
