"""Which warehouse engine the tests run on.

`UNIONHALL_TEST_WAREHOUSE=postgres` runs the warehouse suite (`scripts/test.sh` names
it) with every test warehouse in a fresh schema of the PostgreSQL server at
`UNIONHALL_TEST_WAREHOUSE_URL` (default the local one); unset, they are DuckDB files.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import shutil
import uuid
from pathlib import Path

import pytest

from unionhall.warehouse.backends import (
    parse_warehouse_url,
    postgres_copy_schema,
    postgres_drop_schema,
)

ENGINE = os.environ.get("UNIONHALL_TEST_WAREHOUSE", "duckdb")
PG_URL = os.environ.get("UNIONHALL_TEST_WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:5432/test")
_made: list[str] = []


def postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except Exception:
        return False


needs_postgres = [pytest.mark.warehouse_postgres,
                  pytest.mark.skipif(not postgres_reachable(), reason=f"PostgreSQL unreachable at {PG_URL}")]


def postgres_location(key: str | None = None) -> str:
    """A new, empty warehouse schema on the test PostgreSQL server (dropped at exit);
    with `key`, the same schema for the same key (a CLI test's data directory)."""
    name = hashlib.sha256(key.encode()).hexdigest()[:12] if key else uuid.uuid4().hex[:12]
    url = f"{PG_URL}?schema=uht_{name}"
    if url not in _made:
        _made.append(url)
    return url


def warehouse_location(tmp_path: Path, name: str = "warehouse") -> Path | str:
    """Where a new test warehouse goes: a DuckDB file in `tmp_path`, or a new schema."""
    if ENGINE != "postgres":
        return tmp_path / f"{name}.duckdb"
    return postgres_location()


def copy_location(source: Path | str, tmp_path: Path, name: str = "warehouse") -> Path | str:
    """A fresh copy of a closed test warehouse."""
    target = warehouse_location(tmp_path, name)
    if isinstance(source, Path):
        assert isinstance(target, Path)
        shutil.copy(source, target)
    else:
        postgres_copy_schema(parse_warehouse_url(source), parse_warehouse_url(str(target)))
    return target


@atexit.register
def _drop_schemas() -> None:
    for url in _made:
        with contextlib.suppress(Exception):  # a server gone at exit leaves schemas to drop by hand
            postgres_drop_schema(parse_warehouse_url(url))
