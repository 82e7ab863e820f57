"""Copying a loaded warehouse to the other engine and back (`unionhall warehouse copy`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.backends import (
    ENGINE,
    copy_location,
    needs_postgres,
    postgres_location,
    warehouse_location,
)
from unionhall.errors import UserError
from unionhall.warehouse import Warehouse
from unionhall.warehouse.migrations import MIGRATION_TABLE
from unionhall.warehouse.transfer import copy_warehouse

pytestmark = [*needs_postgres, pytest.mark.django_db]


def _other(tmp_path: Path, name: str) -> Path | str:
    """A new warehouse on the engine the tests are not running on."""
    return postgres_location() if ENGINE != "postgres" else tmp_path / f"{name}.duckdb"


def _rows(wh: Warehouse, table: str) -> list[tuple[Any, ...]]:
    cols = ", ".join(f'"{c}"' for c in wh.backend.get_schema(table).names)
    # (as text: PostgreSQL cannot order json values)
    order = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in wh.backend.get_schema(table).names)
    return [tuple(r) for r in wh.cursor().execute(f"SELECT {cols} FROM {table} ORDER BY {order}").fetchall()]


def test_a_loaded_state_survives_the_round_trip_row_for_row(field_state: dict[str, Any], tmp_path: Path) -> None:
    source = Warehouse(copy_location(field_state["path"], tmp_path, "source"))
    there = Warehouse(_other(tmp_path, "there"))
    back = Warehouse(warehouse_location(tmp_path, "back"))
    out = copy_warehouse(source, there, batch_rows=700)  # several batches for the big tables
    tables = [t for t in source.tables() if t != MIGRATION_TABLE]
    assert set(out.rows) == set(tables) and out.skipped == []
    for t in tables:
        row = there.cursor().execute(f"SELECT count(*) FROM {t}").fetchone()
        assert row is not None and int(row[0]) == out.rows[t], t
    assert out.rows["voter"] > 2_000 and out.rows["person"] > 2_000 and out.rows["member_record"] > 300
    copy_warehouse(there, back)
    for t in tables:  # same engine as the source: every value equal, types and all
        assert _rows(back, t) == _rows(source, t), t
    for wh in (source, there, back):
        wh.close()


def test_a_target_holding_data_is_refused_and_left_as_it_was(field_state: dict[str, Any], tmp_path: Path) -> None:
    source = Warehouse(copy_location(field_state["path"], tmp_path, "source"))
    target = Warehouse(_other(tmp_path, "target"))
    target.migrate()
    tables = sorted(t for t in source.tables() if t != MIGRATION_TABLE)
    last = tables[-1]  # found only after every other table was copied in the transaction
    cols = target.backend.get_schema(last)
    row = source.cursor().execute(f"SELECT * FROM {last} LIMIT 1").fetch_arrow_table()
    assert row.num_rows == 1, f"the test state should have rows in {last}"
    from unionhall.warehouse.backends import copy_rows_in

    with target.transaction() as cur:
        copy_rows_in(cur, target.kind, last, list(cols.names), row.select(list(cols.names)))
    with pytest.raises(UserError, match=rf"already holds data \({last}: 1 rows\).*new, empty warehouse"):
        copy_warehouse(source, target)
    for t in tables:
        n = target.cursor().execute(f"SELECT count(*) FROM {t}").fetchone()
        assert n is not None and int(n[0]) == (1 if t == last else 0), t
    with pytest.raises(UserError, match="same warehouse"):
        copy_warehouse(source, Warehouse(source.url.label if ENGINE == "postgres" else source.path))
    source.close()
    target.close()


def test_a_source_behind_on_migrations_is_refused(tmp_path: Path) -> None:
    old = Warehouse(warehouse_location(tmp_path, "old"))
    from unionhall.warehouse.migrations import all_migrations, apply_migrations

    apply_migrations(old, all_migrations()[:3])
    target = Warehouse(_other(tmp_path, "target"))
    with pytest.raises(UserError, match="has not applied the migrations of this version.*unionhall migrate"):
        copy_warehouse(old, target)
    old.close()
    target.close()


def test_the_command_copies_audits_and_refuses_a_second_copy(field_state: dict[str, Any], tmp_path: Path) -> None:
    from tests.conftest import run_cli

    source = copy_location(field_state["path"], tmp_path, "source")
    url = source if isinstance(source, str) else f"duckdb:///{source}"
    env = {"UNIONHALL_DATA_DIR": str(tmp_path / "data"), "UNIONHALL_WAREHOUSE_URL": url}
    assert run_cli("migrate", env=env).returncode == 0
    target = str(_other(tmp_path, "target"))
    target = target if "://" in target else f"duckdb:///{target}"
    done = run_cli("warehouse", "copy", target, env=env)
    assert done.returncode == 0, done.stderr
    assert "copied" in done.stdout and f"UNIONHALL_WAREHOUSE_URL={target}" in done.stdout
    again = run_cli("warehouse", "copy", target, env=env)
    assert again.returncode != 0 and "already holds data" in again.stderr and "Traceback" not in again.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "data" / "app.sqlite3") as db:
        rows = db.execute("SELECT action, detail FROM access_auditevent").fetchall()
    assert [r[0] for r in rows] == ["warehouse_copy"] and '"rows"' in rows[0][1]
    snap = run_cli("warehouse", "snapshot", str(tmp_path / "snap"), env=env)
    assert snap.returncode == 0, snap.stderr
    assert (tmp_path / "snap" / "person.parquet").exists() and f"spark:///{tmp_path / 'snap'}" in snap.stdout


def test_a_table_no_migration_makes_is_reported_not_copied(tmp_path: Path) -> None:
    source = Warehouse(warehouse_location(tmp_path, "source"))
    source.migrate()
    source.cursor().execute("CREATE TABLE scratch_notes (note VARCHAR)")
    source.cursor().execute("INSERT INTO scratch_notes VALUES ('made by hand')")
    target = Warehouse(_other(tmp_path, "target"))
    out = copy_warehouse(source, target)
    assert out.skipped == ["scratch_notes"] and "scratch_notes" not in target.tables()
    assert "person" in out.rows
    source.close()
    target.close()
