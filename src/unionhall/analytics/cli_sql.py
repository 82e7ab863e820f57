"""`unionhall sql QUERY --user NAME`: the SQL page from the command line. One read-only
query over what the account may see (`unionhall.analytics.sql`), printed as a table or
as JSON; `-` reads the query from standard input. A refused or bad query exits 1 with
the reason on one line."""

from __future__ import annotations

import json as jsonlib
import sys
from typing import Annotated, Any

import typer

from unionhall.errors import UserError


def _account(name: str) -> Any:
    from django.contrib.auth import get_user_model

    found = get_user_model().objects.filter(username=name).first()
    if found is None:
        raise UserError(f"no user named {name!r}: check the spelling")
    return found


def _text(v: Any) -> str:
    return "null" if v is None else str(v)


def _table(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    cells = [[_text(v) for v in r] for r in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def sql(
    query: Annotated[str, typer.Argument(help="One SELECT (WITH … SELECT, UNION, VALUES), or - to read it from "
                                              "standard input.")],
    user: Annotated[str, typer.Option("--user", help="Run it as this account: only what it may see.")],
    json: Annotated[bool, typer.Option("--json", help="Print columns, rows and notes as one JSON object.")] = False,
    max_rows: Annotated[int | None, typer.Option("--max-rows", min=1,
                                                 help="Show at most this many rows (default "
                                                      "UNIONHALL_SQL_MAX_ROWS).")] = None,
) -> None:
    """Run one read-only query over the account's scope. Analysts see aggregates only,
    without small groups; `unionhall sql` never writes."""
    from unionhall.cli._runtime import out_console, setup_django

    text = sys.stdin.read() if query == "-" else query
    setup_django()
    from unionhall.analytics.sql import run_sql

    result = run_sql(user=_account(user), sql=text, max_rows=max_rows)
    if json:
        print(jsonlib.dumps({"columns": result.columns, "rows": [list(r) for r in result.rows],
                             "truncated": result.truncated, "suppressed_rows": result.suppressed_rows,
                             "notes": result.notes}, default=str))
        return
    out_console.print(_table(result.columns, result.rows), highlight=False, markup=False)
    out_console.print(f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})", highlight=False,
                      markup=False)
    for note in result.notes:
        out_console.print(f"note: {note}", highlight=False, markup=False)


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    del import_app
    app.command("sql")(sql)
