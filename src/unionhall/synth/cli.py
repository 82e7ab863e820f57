"""`unionhall synth`: the command body (registered by the CLI module)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from unionhall.errors import UserError
from unionhall.synth.params import MessRates, SynthParams, mess_rates_from_json
from unionhall.synth.pipeline import check_out_dir, generate


def synth_command(
    out: Annotated[Path, typer.Option("--out", help="Directory to create (must not exist or be empty).")],
    voters: Annotated[int, typer.Option("--voters", help="Rows in the voter file.")] = 200_000,
    members: Annotated[int, typer.Option("--members", help="Distinct union members across affiliates.")] = 30_000,
    affiliates: Annotated[int, typer.Option("--affiliates", help="Number of affiliates, 6-10.")] = 8,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same bytes.")] = 7,
    counties: Annotated[int | None, typer.Option("--counties", help="Counties (default scales with voters).")] = None,
    mess: Annotated[
        Path | None, typer.Option("--mess", help="JSON file of mess rates, e.g. {\"typo\": 0.05}.")
    ] = None,
    typo: Annotated[float | None, typer.Option("--typo", help="Share of records with a name typo.")] = None,
    nickname: Annotated[float | None, typer.Option("--nickname", help="Share written with a nickname.")] = None,
    moved: Annotated[float | None, typer.Option("--moved", help="Share carrying a previous address.")] = None,
    unregistered: Annotated[
        float | None, typer.Option("--unregistered", help="Share of members not registered to vote.")
    ] = None,
    dual_member: Annotated[
        float | None, typer.Option("--dual-member", help="Share of members in two affiliates.")
    ] = None,
    duplicate_row: Annotated[
        float | None, typer.Option("--duplicate-row", help="Share of records repeated in a file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Generate a synthetic state: voter file, history, polling places, absentee, members, truth."""
    rates = mess_rates_from_json(mess) if mess is not None else MessRates()
    overrides = {
        "typo": typo, "nickname": nickname, "moved": moved, "unregistered": unregistered,
        "dual_member": dual_member, "duplicate_row": duplicate_row,
    }
    rates = dataclasses.replace(rates, **{k: v for k, v in overrides.items() if v is not None})
    params = SynthParams(
        voters=voters, members=members, affiliates=affiliates, seed=seed, counties=counties, mess=rates
    )
    # Check before drawing a progress bar, so errors come out as one clean line.
    params.validate()
    check_out_dir(out.absolute())
    if as_json:
        summary = generate(params, out)
        typer.echo(json.dumps(summary.as_json(), indent=2))
        return
    with Progress(
        TextColumn("[bold]synth[/]"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.description}"), TimeElapsedColumn(), transient=False,
    ) as bar:
        task = bar.add_task("starting", total=100)

        def report(percent: int, message: str) -> None:
            bar.update(task, completed=percent, description=message)

        summary = generate(params, out, progress=report)
    c = summary.counts
    typer.echo(
        f"Wrote {summary.out_dir}: {c['voters']:,} voters, {c['households']:,} households, "
        f"{c['vote_history_rows']:,} history rows, {len(summary.member_files)} affiliate files "
        f"({c['member_file_rows']:,} rows), {len(summary.absentee_files)} absentee snapshots."
    )


__all__ = ["UserError", "synth_command"]


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add `unionhall synth` to the command line."""
    app.command("synth")(synth_command)
