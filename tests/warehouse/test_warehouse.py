from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import ibis
import pytest

from unionhall.access.gateway import person_base
from unionhall.errors import ScopeError, WarehouseLocked
from unionhall.warehouse import Migration, Warehouse
from unionhall.warehouse.migrations import MIGRATIONS, apply_migrations


def test_migrate_is_versioned_and_rerun_is_a_noop(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "w.duckdb")
    first = wh.migrate()
    assert first == [f"{m.version} {m.name}" for m in MIGRATIONS]
    assert "person" in wh.tables()
    assert wh.migrate() == []
    assert [v for v, _ in wh.applied_migrations()] == [m.version for m in MIGRATIONS]


def test_failed_migration_leaves_previous_version(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.migrate()

    def half_then_fail(be: object) -> None:
        wh.backend.create_table("half_done", schema=ibis.schema({"a": "int64"}))
        raise RuntimeError("boom")

    extra = [*MIGRATIONS, Migration(9999999999, "broken", half_then_fail)]
    with pytest.raises(RuntimeError, match="boom"):
        apply_migrations(wh, extra)
    assert "half_done" not in wh.tables()
    assert 9999999999 not in [v for v, _ in wh.applied_migrations()]


def _user(**kw: object) -> SimpleNamespace:
    base = {"is_authenticated": True, "is_active": True, "is_superuser": False}
    base.update(kw)
    return SimpleNamespace(**base)


def test_person_base_fails_closed_without_a_user(warehouse: Warehouse) -> None:
    with pytest.raises(ScopeError):
        person_base(user=None, warehouse=warehouse)
    with pytest.raises(ScopeError):
        person_base(user=_user(is_authenticated=False), warehouse=warehouse)
    with pytest.raises(ScopeError):
        person_base(user=_user(is_active=False, is_superuser=True), warehouse=warehouse)


@pytest.mark.django_db
def test_person_base_without_roles_sees_nobody(warehouse: Warehouse) -> None:
    from django.contrib.auth import get_user_model

    warehouse.cursor().execute(
        "INSERT INTO person (person_id, first_name, last_name) VALUES (1, 'ANA', 'DIAZ'), (2, 'BO', 'LEE')"
    )
    users = get_user_model().objects
    admin = person_base(user=users.create_superuser("root", "r@example.org", "x-long-password-1"), warehouse=warehouse)
    assert admin.count().execute() == 2
    nobody = person_base(user=users.create_user("nobody", password="x-long-password-1"), warehouse=warehouse)
    assert nobody.count().execute() == 0


@pytest.mark.duckdb_only
def test_second_process_gets_a_clear_lock_error(warehouse: Warehouse) -> None:
    code = (
        "from pathlib import Path\n"
        "from unionhall.warehouse import Warehouse\n"
        "from unionhall.errors import WarehouseLocked\n"
        "try:\n"
        f"    Warehouse(Path({str(warehouse.path)!r}))\n"
        "except WarehouseLocked as e:\n"
        "    print('LOCKED', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("LOCKED")
    assert "unionhall serve" in out.stdout
    assert issubclass(WarehouseLocked, Exception)


def test_membership_migration_on_a_warehouse_with_people(tmp_path: Path) -> None:
    from unionhall.warehouse.migrations import CORE_MIGRATIONS

    wh = Warehouse(tmp_path / "w.duckdb")
    apply_migrations(wh, CORE_MIGRATIONS[:1])
    wh.cursor().execute("INSERT INTO person (person_id, last_name) SELECT i, 'X' FROM range(5000) t(i)")
    apply_migrations(wh, CORE_MIGRATIONS)
    row = wh.cursor().execute("SELECT count(*) FILTER (WHERE member_sources IS NULL) FROM person").fetchone()
    assert row == (5000,)
