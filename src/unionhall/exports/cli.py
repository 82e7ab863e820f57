"""`unionhall trace FILE`: name the export a found file came from."""

from __future__ import annotations

import json as jsonlib
from pathlib import Path
from typing import Annotated, Any

import typer

from unionhall.errors import UserError


def trace(
    file: Annotated[Path, typer.Argument(help="The file found (CSV, TSV, XLSX, fixed-width; part of one will do).")],
    json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
) -> None:
    """Name the export a leaked file came from: export, requester, approver, vendor, date.
    Exits 1 when no export can be named (no match, or a tie the file cannot break)."""
    from unionhall.cli._runtime import setup_django

    if not file.is_file():
        raise UserError(f"{file}: file not found; check the path")
    setup_django()
    from unionhall.access.services import command_line_actor
    from unionhall.exports.trace import trace_file

    report = trace_file(file, actor=command_line_actor())
    if json:
        print(jsonlib.dumps(report.as_dict()))
    else:
        _print(report)
    if report.verdict != "named":
        raise typer.Exit(1)


def _print(report: Any) -> None:
    from unionhall.cli._runtime import out_console

    out_console.print(report.verdict_text)
    if report.best:
        b = report.best
        out_console.print(f"  evidence: {b.unique_cells:,} cells found in {b.reference} only, {b.keys_found:,} of its "
                          f"export keys, {b.seeds_found} of its {b.seeds} seed records")
    for c in report.candidates:
        out_console.print(f"  {c.reference:>9}  score {c.score:9.1f}  only-in {c.unique_cells:6,}  cells {c.cells:7,}  "
                          f"seeds {c.seeds_found:3}  {c.list_name} / {c.vendor or '-'}")
    out_console.print(f"{report.rows:,} rows, {report.values:,} distinct values read from {report.file}")


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    del import_app
    app.command("trace")(trace)
