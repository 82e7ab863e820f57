"""`unionhall committees import` and `unionhall users import`."""

from __future__ import annotations

import csv
import json as jsonlib
import sys
from pathlib import Path
from typing import Annotated

import typer

from unionhall.errors import UserError

committees_app = typer.Typer(help="Committees (federation and union trees) and data agreements.",
                             no_args_is_help=True)
users_app = typer.Typer(help="The approved-users database.", no_args_is_help=True)


def _file(path: Path) -> Path:
    if not path.is_file():
        raise UserError(f"{path}: file not found; check the path")
    return path.resolve()


@committees_app.command("import")
def committees_import_cmd(
    file: Annotated[Path, typer.Argument(help="CSV/XLSX of committees, or of agreements.")],
    json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Create or update committees (name, kind, parent, state, counties, source, local) or
    agreements (affiliate, grantee, fields, covers_descendants, starts_on, ends_on)."""
    from unionhall.cli._runtime import out_console, setup_django

    path = _file(file)
    setup_django()
    from unionhall.access.bulk import committees_import

    counts = committees_import(path)
    if json:
        print(jsonlib.dumps(counts))
    else:
        out_console.print(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in counts.items()))


@users_app.command("import")
def users_import_cmd(
    file: Annotated[Path, typer.Argument(help="CSV/XLSX: username, email, first_name, last_name, sponsor, "
                                              "expires_on, roles (role@committee; ...).")],
) -> None:
    """Create approved users with roles; prints username,password (new users only) as CSV."""
    from unionhall.cli._runtime import setup_django

    path = _file(file)
    setup_django()
    from unionhall.access.bulk import users_import

    writer = csv.writer(sys.stdout)
    writer.writerow(["username", "created", "one_time_password"])
    for r in users_import(path):
        writer.writerow([r["username"], "yes" if r["created"] else "no", r["password"]])


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    app.add_typer(committees_app, name="committees")
    app.add_typer(users_app, name="users")
