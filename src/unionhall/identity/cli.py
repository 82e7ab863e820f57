"""`unionhall match` and `unionhall identity export`."""

from __future__ import annotations

import json as jsonlib
from pathlib import Path
from typing import Annotated, Any

import typer

COUNT_KEYS = ("links", "persons", "dual_members", "within_list_duplicates", "review_pairs")


def match(
    json: Annotated[bool, typer.Option("--json", help="Print the counts as one JSON object.")] = False,
    link_threshold: Annotated[float | None, typer.Option(help="Member -> voter auto-link probability.")] = None,
    dual_threshold: Annotated[float | None, typer.Option(help="Member <-> member auto-link probability.")] = None,
    review_threshold: Annotated[float | None, typer.Option(help="Lowest probability kept for review.")] = None,
    retrain: Annotated[bool, typer.Option(
        "--retrain", help="Train the models again and score every pair again (else the saved models, new records only)."
    )] = False,
) -> None:
    """Match new and changed member records and voters to persons."""
    from unionhall.cli._runtime import out_console, run_job_foreground, setup_django

    setup_django()
    params: dict[str, Any] = {"link_threshold": link_threshold, "dual_threshold": dual_threshold,
                              "review_threshold": review_threshold, "retrain": retrain}
    job = run_job_foreground("identity.match", {k: v for k, v in params.items() if v is not None},
                             quiet=json)
    result = job.result
    if json:
        print(jsonlib.dumps({k: result.get(k) for k in COUNT_KEYS}))
        return
    out_console.print(", ".join(f"{k.replace('_', ' ')} {result.get(k, 0):,}" for k in COUNT_KEYS))


def export(file: Annotated[Path, typer.Argument(help="CSV file to write.")]) -> None:
    """Write one row per source record: kind, source, record id, person id, voter registration, probability."""
    from unionhall.cli._runtime import out_console, setup_django
    from unionhall.identity.export import identity_export
    from unionhall.warehouse import get_warehouse

    setup_django()
    n = identity_export(warehouse=get_warehouse(), path=file)
    out_console.print(f"wrote {n:,} rows to {file}")


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    del import_app
    app.command("match")(match)
    group = typer.Typer(help="Persons and matching.", no_args_is_help=True)
    group.command("export")(export)
    app.add_typer(group, name="identity")
