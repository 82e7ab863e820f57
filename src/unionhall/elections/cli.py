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
    for line in result.get("quarantine_examples", []):
        out_console.print(f"    {line}", markup=False, highlight=False)
    for col, n in sorted(result.get("flags", {}).items()):
        out_console.print(f"  flagged {n:,} x unknown/unreadable {col}")
    for note in result.get("notes", []):
        out_console.print(f"  {note}")


def _nc_check(file: Path) -> None:
    """Without --state, the file must be one of NC's: say how to load anything else."""
    from unionhall.elections.files import file_check, layout_guess, read_first_line, split_header
    from unionhall.errors import UserError

    path = file_check(file)
    try:
        header = split_header(read_first_line(path, "utf-8"), "\t")
    except UserError:
        return  # the NC importer reports encoding problems in its own words
    if layout_guess(header) is None:
        raise UserError(
            f"{path.name}: row 1: this is not an NC voter file (ncvoter layout); for another state's or a "
            "vendor's file give --state XX (and --layout NAME|FILE if you have one; without it the "
            "columns are mapped automatically)"
        )


def _is_ncvoter(path: Path) -> bool:
    from unionhall.elections.files import layout_guess, read_first_line, split_header
    from unionhall.errors import UserError

    try:
        return layout_guess(split_header(read_first_line(path, "utf-8"), "\t")) in ("ncvoter", "ncvoter_previous")
    except UserError:
        return False


def _vendor(
    file: Path, *, state: str | None, layout: str | None, save_layout: str | None, write_layout: Path | None,
    as_of: str | None, encoding: str | None, json: bool,
) -> None:
    from unionhall.cli._runtime import out_console, setup_django
    from unionhall.elections.files import file_check
    from unionhall.elections.vendor import layout_resolve, mapping_lines, state_check
    from unionhall.elections.voter_layouts import _slug, voter_layout_resolve
    from unionhall.errors import UserError

    path = file_check(file)
    setup_django()
    lay = voter_layout_resolve(value=layout)
    if lay is not None and encoding:
        lay.encoding = encoding
    if save_layout:
        _slug(save_layout)
    code = state or (lay.state if lay else None)
    if not code:
        raise UserError(f"{path.name}: give --state XX: the two-letter state whose voter file this is")
    code = state_check(code)
    if code == "NC" and lay is None and save_layout is None and write_layout is None and _is_ncvoter(path):
        # NC's official file keeps its own importer (county-scoped registrations, NCIDs).
        _run("elections.import_voterfile",
             {"path": str(path), "as_of": as_of, "encoding": encoding or "utf-8"}, json)
        return
    if lay is None and encoding:
        from unionhall.elections.vendor import VoterLayout
        from unionhall.ingest.mapping import ColumnMapping

        lay = VoterLayout(mapping=ColumnMapping(schema="voter"), encoding=encoding)  # mapping suggested
    resolved = layout_resolve(path=path, layout=lay, strict=write_layout is None)
    used = resolved.layout
    used.state = used.state or code
    title = f"layout {used.name!r}" if used.name else "suggested mapping (check it; save it with --save-layout NAME)"
    if write_layout is not None:
        problems = used.mapping.problems()
        p = used.write(write_layout)
        out_console.print(f"{title} for {path.name}:")
        for line in mapping_lines(used):
            out_console.print(f"  {line}")
        for problem in problems:
            out_console.print(f"  to fix: {problem}")
        out_console.print(f"wrote the layout to {p}: edit it, then run with --layout {p}")
        return
    if not json:
        out_console.print(f"{title} for {path.name}:")
        for line in mapping_lines(used):
            out_console.print(f"  {line}")
    _run("elections.import_voterfile_vendor",
         {"path": str(path), "state": code, "layout": used.to_dict(), "as_of": as_of,
          "save_layout": save_layout}, json)


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add the election-file commands to `unionhall import`."""

    @import_app.command("voterfile")
    def voterfile(
        file: FileArg,
        as_of: AsOfOpt = None,
        encoding: Annotated[
            str | None, typer.Option(help="Text encoding of the file (NC: utf-8; others: detected).")
        ] = None,
        state: Annotated[
            str | None, typer.Option("--state", help="Two-letter state of a non-NC (or vendor) voter file.")
        ] = None,
        layout: Annotated[
            str | None, typer.Option("--layout", help="A saved layout's name, or a layout file (.json/.toml).")
        ] = None,
        save_layout: Annotated[
            str | None, typer.Option("--save-layout", help="Save the layout used under this name (after the load).")
        ] = None,
        write_layout: Annotated[
            Path | None,
            typer.Option("--write-layout", help="Write the layout (suggested or given) to FILE and stop: edit it, "
                         "then pass --layout FILE."),
        ] = None,
        json: JsonOpt = False,
    ) -> None:
        """Load a voter file: NC's ncvoter by default; another state's or a vendor's with --state/--layout.

        Reloads update in place (new, changed, removed, with registration history).
        """
        if state is None and layout is None and save_layout is None and write_layout is None:
            _nc_check(file)
            _run("elections.import_voterfile",
                 {"path": str(file), "as_of": as_of, "encoding": encoding or "utf-8"}, json)
            return
        _vendor(file, state=state, layout=layout, save_layout=save_layout, write_layout=write_layout,
                as_of=as_of, encoding=encoding, json=json)

    layouts_app = typer.Typer(help="Saved voter-file layouts (other states and vendors).", no_args_is_help=True)
    app.add_typer(layouts_app, name="voter-layout")

    @layouts_app.command("list")
    def layout_list() -> None:
        """List the saved voter-file layouts."""
        from unionhall.cli._runtime import out_console, setup_django
        from unionhall.elections.voter_layouts import voter_layout_list

        setup_django()
        rows = voter_layout_list()
        if not rows:
            out_console.print("no voter-file layouts saved yet (save one with --save-layout NAME)")
            return
        for r in rows:
            out_console.print(
                f"{r['name']:<24} {r['state'] or '--':<3} {r['format']:<11} {r['mapped']:>3} columns mapped  "
                f"v{r['versions']}  saved {r['saved_at']:%Y-%m-%d %H:%M}"
            )

    @layouts_app.command("export")
    def layout_export(
        name: Annotated[str, typer.Argument(help="The saved layout's name.")],
        out: Annotated[Path, typer.Argument(help="File to write (.toml or .json).")],
    ) -> None:
        """Write a saved layout to a TOML or JSON file (to edit, or to share with another federation)."""
        from unionhall.cli._runtime import out_console, setup_django
        from unionhall.elections.voter_layouts import voter_layout_get

        setup_django()
        p = voter_layout_get(name=name).write(out)
        out_console.print(f"wrote layout {name!r} to {p}")

    @layouts_app.command("import")
    def layout_import(
        file: Annotated[Path, typer.Argument(help="A layout file (.toml or .json).")],
        name: Annotated[str | None, typer.Option("--name", help="Save under this name (default: the file's).")] = None,
    ) -> None:
        """Save a layout file in the app database, reusable by name with --layout NAME."""
        from unionhall.cli._runtime import out_console, setup_django
        from unionhall.elections.vendor import VoterLayout
        from unionhall.elections.voter_layouts import voter_layout_save
        from unionhall.errors import UserError

        setup_django()
        lay = VoterLayout.read(file)
        chosen = name or lay.name
        if not chosen:
            raise UserError(f"{file.name}: the layout has no name; give one with --name")
        saved = voter_layout_save(name=chosen, layout=lay)
        out_console.print(f"saved layout {saved.name!r} ({len(lay.mapping.columns)} columns)")

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
