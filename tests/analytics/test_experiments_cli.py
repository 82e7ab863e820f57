"""`unionhall experiment design|analyze|list`: the same services as the pages, readable
tables and --json; bad input is one line, no traceback (also in a fresh process)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tests.analytics.test_experiments import ELECTION, clc_list, people, plant
from tests.conftest import run_cli
from unionhall.analytics.cli_experiments import register
from unionhall.analytics.models import Experiment
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db


def cli() -> typer.Typer:
    app, import_app = typer.Typer(), typer.Typer()
    register(app, import_app)
    return app


def test_design_then_analyze(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    p = people(tree)
    saved = clc_list(field_wh, tree, p["organizer"])
    app, runner = cli(), CliRunner()
    user = p["analyst"].username
    r = runner.invoke(app, ["experiment", "design", "--list", str(saved.pk), "--user", user, "--name", "Doors",
                            "--arms", "control,door", "--shares", "0.5,0.5", "--block-by", "precinct",
                            "--households", "--seed", "7"])
    assert r.exit_code == 0, r.output
    exp = Experiment.objects.get(name="Doors")
    assert f"experiment {exp.pk} 'Doors'" in r.stdout and "seed 7" in r.stdout
    for c in exp.design["counts"]:
        assert f"{c['arm']:<14}  0.500 {c['persons']:>9,}" in r.stdout
    assert "generals_voted" in r.stdout and "MDE door vs control" in r.stdout
    again = runner.invoke(app, ["experiment", "design", "--list", str(saved.pk), "--user", user, "--name", "Again",
                                "--arms", "control,door", "--block-by", "precinct", "--seed", "7", "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["counts"] == exp.design["counts"]  # the same seed, the same draw
    plant(field_wh, exp, effect=0.25)
    a = runner.invoke(app, ["experiment", "analyze", str(exp.pk), "--user", user, "--outcome", f"voted:{ELECTION}",
                            "--json"])
    assert a.exit_code == 0, a.output
    out = json.loads(a.stdout)
    exp.refresh_from_db()
    assert out["cace"] == exp.results["cace"] and out["experiment"] == exp.pk
    table = runner.invoke(app, ["experiment", "analyze", str(exp.pk), "--user", user, "--outcome",
                                f"voted:{ELECTION}", "--block-effects"])
    assert table.exit_code == 0, table.output
    exp.refresh_from_db()
    cace = exp.results["cace"][0]
    assert f"CACE   door         {100 * cace['estimate']:>8.2f} {100 * cace['se']:>7.2f}" in table.stdout
    assert "block fixed effects" in table.stdout
    listed = runner.invoke(app, ["experiment", "list", "--user", user])
    assert "Doors" in listed.stdout and "Again" in listed.stdout


def test_bad_input_says_what_to_fix(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    p = people(tree)
    saved = clc_list(field_wh, tree, p["organizer"])
    app, runner = cli(), CliRunner()
    for args, message in [
        (["design", "--list", "999999", "--user", p["analyst"].username, "--name", "X"], "no saved list 999999"),
        (["design", "--list", str(saved.pk), "--user", "nobody-here", "--name", "X"], "no user named 'nobody-here'"),
        (["design", "--list", str(saved.pk), "--user", p["analyst"].username, "--name", "X", "--shares", "a,b"],
         "write numbers separated by commas"),
        (["analyze", "999999", "--user", p["analyst"].username, "--outcome", "voted:2026-11-03"],
         "no experiment 999999"),
    ]:
        r = runner.invoke(app, ["experiment", *args])
        assert r.exit_code != 0 and message in str(r.exception), (args, r.exception)


def test_the_installed_command(tmp_path: Path) -> None:
    env = {"UNIONHALL_DATA_DIR": str(tmp_path)}
    assert run_cli("migrate", env=env).returncode == 0
    r = run_cli("experiment", "analyze", "1", "--user", "nobody", "--outcome", "voted:2026-11-03", env=env)
    assert r.returncode == 1 and "no user named 'nobody'" in r.stderr and "Traceback" not in r.stderr
    assert "design" in run_cli("experiment", "--help", env=env).stdout
