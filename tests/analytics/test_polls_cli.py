"""`unionhall import poll`, `unionhall poll rake`, `unionhall poll topline`: counts that
reconcile, the weighting report, toplines and crosstabs as text and JSON, one-line
errors a person can act on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from tests.access.factories import user_with
from unionhall.analytics.cli_polls import register
from unionhall.analytics.poll_synth import poll_file_write
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db


def _app() -> typer.Typer:
    app, import_app = typer.Typer(), typer.Typer()
    app.add_typer(import_app, name="import")
    register(app, import_app)
    return app


def test_import_rake_and_topline_from_the_command_line(field_wh: Warehouse, tree: dict[str, Any],
                                                       tmp_path: Path) -> None:
    frame = pl.from_arrow(field_wh.cursor().execute(
        "SELECT county, sex, age, party, member_sources FROM person WHERE reg_status IN ('A', 'I')").fetch_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    path = tmp_path / "march.csv"
    poll_file_write(path, frame, n=300, seed=2, bad_rows=3)
    analyst = user_with("analyst", tree["state_federation"], "fed-analyst")
    app, runner = _app(), CliRunner()
    r = runner.invoke(app, ["import", "poll", str(path), "--committee", tree["state_federation"].name, "--user",
                            analyst.username, "--name", "March poll", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert (out["rows_read"], out["respondents"], out["rejected"]) == (303, 300, 3)
    assert out["variables"] == ["county", "sex", "age_band", "party", "member", "age"]
    pid = out["poll_id"]

    r = runner.invoke(app, ["poll", "rake", str(pid), "--by", "county,sex,age_band", "--universe", "voters",
                            "--user", analyst.username])
    assert r.exit_code == 0, r.output
    assert f"poll {pid} weighted on county, sex, age_band to voters" in r.stdout and "design effect" in r.stdout
    assert "age_band  18-29" in r.stdout

    r = runner.invoke(app, ["poll", "topline", str(pid)])
    assert r.exit_code == 0, r.output
    assert "Q1 Support the contract" in r.stdout and "±" in r.stdout
    r = runner.invoke(app, ["poll", "topline", str(pid), "--by", "age_band", "--question", "Q2 Would strike",
                            "--json"])
    assert r.exit_code == 0, r.output
    [res] = json.loads(r.stdout)["results"]
    assert res["by"] == "age_band" and [t["domain"] for t in res["tables"]] == ["18-29", "30-44", "45-64", "65+"]
    assert all(0 < s["moe"] < 0.5 for t in res["tables"] for s in t["shares"])

    bad = runner.invoke(app, ["poll", "rake", str(pid), "--by", "shoe_size", "--user", analyst.username])
    assert bad.exit_code != 0 and "has no shoe_size column" in str(bad.exception)
    bad = runner.invoke(app, ["poll", "topline", str(pid + 50)])
    assert bad.exit_code != 0 and f"no poll {pid + 50}" in str(bad.exception)
    bad = runner.invoke(app, ["import", "poll", str(path), "--committee", "Nobody", "--user", analyst.username])
    assert bad.exit_code != 0 and "no committee 'Nobody'" in str(bad.exception)


def test_the_installed_command_says_what_is_wrong(tmp_path: Path) -> None:
    """In a fresh process, as a user runs it: one line, no traceback."""
    from tests.conftest import run_cli

    r = run_cli("import", "poll", str(tmp_path / "missing.csv"), "--committee", "X", "--user", "y",
                env={"UNIONHALL_DATA_DIR": str(tmp_path)})
    assert r.returncode != 0 and "missing.csv: file not found" in r.stderr and "Traceback" not in r.stderr
