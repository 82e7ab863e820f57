"""`unionhall sql`: the same engine from the command line, as a table or JSON, the query
from an argument or standard input; a refused or bad query exits 1 with its reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tests.access.factories import user_with
from unionhall.access.gateway import person_base
from unionhall.analytics.cli_sql import register
from unionhall.analytics.sql import SqlError
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db


def _app() -> typer.Typer:
    app, import_app = typer.Typer(), typer.Typer()
    app.add_typer(import_app, name="import")
    register(app, import_app)

    @app.callback()
    def _root() -> None:  # a group, as in `unionhall`: `sql` stays a subcommand
        pass

    return app


def test_sql_from_the_command_line(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    manager = user_with("data_manager", tree["clc"], "clc-manager")
    n = person_base(user=manager, warehouse=field_wh).count().execute()
    app, runner = _app(), CliRunner()
    r = runner.invoke(app, ["sql", "SELECT count(*) AS persons FROM person", "--user", manager.username])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[:3] == ["persons", "-------", str(n)]
    r = runner.invoke(app, ["sql", "-", "--user", manager.username, "--json", "--max-rows", "2"],
                      input="SELECT person_id\nFROM person\nORDER BY person_id\n")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["columns"] == ["person_id"] and len(out["rows"]) == 2 and out["truncated"]
    r = runner.invoke(app, ["sql", "DROP TABLE person", "--user", manager.username])
    assert r.exit_code == 1 and isinstance(r.exception, SqlError)
    assert "the SQL page only reads: DROP" in str(r.exception)
    r = runner.invoke(app, ["sql", "SELECT frist_name FROM person", "--user", manager.username])
    assert r.exit_code == 1 and "frist_name" in str(r.exception) and "first_name" in str(r.exception)
    r = runner.invoke(app, ["sql", "SELECT 1", "--user", "nobody"])
    assert r.exit_code == 1 and "no user named 'nobody'" in str(r.exception)


def test_analysts_get_aggregates_from_the_command_line(field_wh: Warehouse, tree: dict[str, Any],
                                                      settings: Any) -> None:
    settings.UNIONHALL_MIN_CELL = 10**9
    analyst = user_with("analyst", tree["clc"], "clc-analyst")
    r = CliRunner().invoke(_app(), ["sql", "SELECT county, count(*) FROM person GROUP BY 1", "--user",
                                    analyst.username, "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["rows"] == [] and out["suppressed_rows"] >= 1 and "fewer than 1000000000" in out["notes"][0]


def test_the_installed_command_says_what_is_wrong(tmp_path: Path) -> None:
    """In a fresh process, as a user runs it: exit 1, one line, no traceback."""
    from tests.conftest import run_cli

    env = {"UNIONHALL_DATA_DIR": str(tmp_path)}
    assert run_cli("migrate", env=env).returncode == 0
    r = run_cli("sql", "SELECT 1", "--user", "nobody", env=env)
    assert r.returncode == 1 and "unionhall: no user named 'nobody'" in r.stderr and "Traceback" not in r.stderr
