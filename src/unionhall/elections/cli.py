"""`unionhall import voterfile|history|polling-places|absentee FILE`: thin commands over jobs."""

from __future__ import annotations

import json as jsonlib
from pathlib import Path
from typing import Annotated, Any

import typer

FileArg = Annotated[Path, typer.Argument(help="The file to load.", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the reconciliation as one JSON object.")]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="The day the file describes (YYYY-MM-DD); default: date in the file name."),
]


def _run(kind: str, params: dict[str, Any], json: bool) -> None:
    from unionhall.cli._runtime import out_console, run_job_foreground, setup_django
    from unionhall.errors import UserError
    from unionhall.warehouse import open_warehouse

    path = Path(params["path"]).expanduser()
    if not path.is_file():
        raise UserError(f"{path}: no such file — check the path")
    params["path"] = str(path.absolute())
    setup_django()
    open_warehouse()
    job = run_job_foreground(kind, params, quiet=json)
    result: dict[str, Any] = job.result
    if json:
        print(jsonlib.dumps(result, indent=2, default=str))
        return
    from rich.table import Table

    title = f"{result['file']} → load {result['load_id']}"
    if result.get("already_loaded"):
        title += " (already loaded: nothing changed)"
    table = Table("rows", "count", title=title, title_justify="left")
    for key in ("rows_read", "rows_loaded", "rows_quarantined", "rows_flagged", "new", "changed",
                "removed", "unchanged"):
        table.add_row(key.replace("rows_", "").replace("_", " "), f"{result[key]:,}")
    out_console.print(table)
    for code, n in sorted(result.get("quarantine", {}).items()):
        out_console.print(f"  quarantined {n:,} x {code}")
    for col, n in sorted(result.get("flags", {}).items()):
        out_console.print(f"  flagged {n:,} x unknown/unreadable {col}")
    for note in result.get("notes", []):
        out_console.print(f"  {note}")


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add the election-file commands to `unionhall import`."""

    @import_app.command("voterfile")
    def voterfile(
        file: FileArg,
        as_of: AsOfOpt = None,
        encoding: Annotated[str, typer.Option(help="Text encoding of the file.")] = "utf-8",
        json: JsonOpt = False,
    ) -> None:
        """Load an NCSBE voter file (ncvoter, statewide or one county); reloads update in place."""
        _run("elections.import_voterfile", {"path": str(file), "as_of": as_of, "encoding": encoding}, json)

    @import_app.command("history")
    def history(
        file: FileArg,
        as_of: AsOfOpt = None,
        encoding: Annotated[str, typer.Option(help="Text encoding of the file.")] = "utf-8",
        last: Annotated[int, typer.Option("--last", min=1, help="Generals and primaries counted.")] = 4,
        json: JsonOpt = False,
    ) -> None:
        """Load an NCSBE vote-history file (ncvhis) and recompute participation."""
        _run("elections.import_history",
             {"path": str(file), "as_of": as_of, "encoding": encoding, "last_n": last}, json)

    @import_app.command("polling-places")
    def polling_places(
        file: FileArg,
        encoding: Annotated[str, typer.Option(help="Text encoding (auto: BOM, else UTF-8).")] = "auto",
        json: JsonOpt = False,
    ) -> None:
        """Load an NCSBE polling-place file (UTF-16, tab-delimited)."""
        _run("elections.import_polling_places", {"path": str(file), "encoding": encoding}, json)

    @import_app.command("absentee")
    def absentee(
        file: FileArg,
        as_of: AsOfOpt = None,
        encoding: Annotated[str, typer.Option(help="Text encoding (NCSBE writes cp437).")] = "cp437",
        json: JsonOpt = False,
    ) -> None:
        """Load a daily NCSBE absentee / early-vote file and update ballot status."""
        _run("elections.import_absentee", {"path": str(file), "as_of": as_of, "encoding": encoding}, json)
