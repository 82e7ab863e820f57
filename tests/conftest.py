"""Test set-up shared by every test.

The default run uses the embedded stores (SQLite + DuckDB files in a temporary data
directory). `UNIONHALL_TEST_PASS=postgres` with `DATABASE_URL` set re-runs the tests
that touch the app database against PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import django
import pytest

# Before Django reads its settings: a private data directory for this test session.
# (DJANGO_SETTINGS_MODULE is deliberately not in the pytest ini: pytest-django would load
# the settings before this file runs, and every test session would share ./unionhall-data.)
os.environ.setdefault("UNIONHALL_DATA_DIR", tempfile.mkdtemp(prefix="unionhall-test-"))
if os.environ.get("UNIONHALL_TEST_PASS") != "postgres":
    os.environ.pop("DATABASE_URL", None)
if os.environ.get("UNIONHALL_TEST_WAREHOUSE") == "postgres":  # the web app's warehouse too
    os.environ.setdefault(
        "UNIONHALL_WAREHOUSE_URL",
        os.environ.get("UNIONHALL_TEST_WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:5432/test")
        + f"?schema=uhp_{os.getpid()}",
    )
os.environ["DJANGO_SETTINGS_MODULE"] = "unionhall.web.settings"
django.setup()

from tests.backends import ENGINE, postgres_location, warehouse_location  # noqa: E402
from tests.field.state import field_state, field_wh, tree  # noqa: E402, F401  (fixtures)

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The later passes re-run only what their engine changes: with the warehouse on
    PostgreSQL every test but those about DuckDB's file itself; with only the app database
    on PostgreSQL the tests that use it. Spark and engine tests run once, in the first pass."""
    warehouse_pg = os.environ.get("UNIONHALL_TEST_WAREHOUSE") == "postgres"
    app_pg = os.environ.get("UNIONHALL_TEST_PASS") == "postgres"
    if not (warehouse_pg or app_pg):
        return
    keep, drop = [], []
    for item in items:
        uses_db = item.get_closest_marker("django_db") is not None or any(
            f in getattr(item, "fixturenames", ()) for f in ("db", "transactional_db", "admin_client")
        )
        if item.get_closest_marker("spark") is not None:
            drop.append(item)
        elif warehouse_pg:
            (drop if item.get_closest_marker("duckdb_only") is not None else keep).append(item)
        else:
            (keep if uses_db else drop).append(item)
    items[:] = keep
    config.hook.pytest_deselected(items=drop)


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[object]:
    """A fresh, migrated warehouse file for one test."""
    from unionhall.warehouse import Warehouse

    wh = Warehouse(warehouse_location(tmp_path))
    wh.migrate()
    yield wh
    wh.close()


@pytest.fixture
def process_warehouse() -> Iterator[object]:
    """The warehouse the web views use (this session's data directory), migrated, with
    no person rows before and after the test."""
    from unionhall.warehouse import get_warehouse

    wh = get_warehouse()
    wh.migrate()
    wh.cursor().execute("DELETE FROM person")
    yield wh
    wh.cursor().execute("DELETE FROM person")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `unionhall ARGS` in a fresh process (as a user would)."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "UNIONHALL_TEST_PASS")}
    full_env.update(env or {})
    if ENGINE == "postgres" and env and "UNIONHALL_DATA_DIR" in env and "UNIONHALL_WAREHOUSE_URL" not in env:
        # A data directory of its own means a warehouse of its own, as with DuckDB's file.
        full_env["UNIONHALL_WAREHOUSE_URL"] = postgres_location(key=env["UNIONHALL_DATA_DIR"])
    return subprocess.run(
        [sys.executable, "-m", "unionhall", *args],
        env=full_env, capture_output=True, text=True, timeout=timeout, check=False,
    )
