"""`unionhall import members`: one affiliate file in, its reconciliation printed."""

from __future__ import annotations

import json as jsonlib
from pathlib import Path
from typing import Annotated, Any

import typer

from unionhall.errors import UserError


def import_members(
    file: Annotated[Path, typer.Argument(help="The member list (CSV, TSV, XLSX, fixed-width).")],
    affiliate: Annotated[str, typer.Option("--affiliate", help="Who sent the list (created on first use).")],
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="A column mapping JSON file (else the saved one, else suggested).")
    ] = None,
    encoding: Annotated[str | None, typer.Option("--encoding", help="Override encoding detection, e.g. cp1252.")] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="XLSX sheet name (default: the first).")] = None,
    partial: Annotated[
        bool, typer.Option("--partial", help="Only add and update: do not drop members missing from the file.")
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="Print the reconciliation as one JSON object.")] = False,
) -> None:
    """Import an affiliate's member list as a new snapshot of that affiliate's members."""
    from unionhall.cli._runtime import out_console, run_job_foreground, setup_django

    if not file.is_file():
        raise UserError(f"{file}: file not found; check the path")
    mapping_json = None
    if mapping is not None:
        try:
            mapping_json = mapping.read_text(encoding="utf-8")
        except OSError as exc:
            raise UserError(f"{mapping}: cannot read the mapping file ({exc.strerror})") from None
    setup_django()
    params: dict[str, Any] = {
        "path": str(file.resolve()),
        "source": affiliate,
        "mapping_json": mapping_json,
        "encoding": encoding,
        "sheet": sheet,
        "mode": "partial" if partial else "snapshot",
    }
    job = run_job_foreground("ingest.import_members", params, quiet=json)
    result = job.result
    if json:
        keys = ("rows_read", "rows_loaded", "rows_quarantined", "new", "updated", "dropped",
                "unchanged", "rejoined", "noop", "import_id", "mapping", "source", "file")
        print(jsonlib.dumps({k: result.get(k) for k in keys if k in result}))
        return
    if result.get("noop"):
        out_console.print(
            f"{file.name} was already imported for {affiliate} (job {result['already_imported_as']}); nothing changed."
        )
        return
    out_console.print(
        f"[bold]{file.name}[/bold] → {affiliate} (mapping: {result['mapping']}, job {job.pk})\n"
        f"  rows read        {result['rows_read']:>10,}\n"
        f"  rows loaded      {result['rows_loaded']:>10,}\n"
        f"  rows quarantined {result['rows_quarantined']:>10,}   (read = loaded + quarantined)\n"
        f"  new {result['new']:,} · updated {result['updated']:,} · unchanged {result['unchanged']:,}"
        f" · dropped {result['dropped']:,}"
    )


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    import_app.command("members")(import_members)
