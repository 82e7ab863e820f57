from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from unionhall.elections import services
from unionhall.elections.loads import Reconciliation
from unionhall.warehouse import Warehouse

Loader = Callable[..., Reconciliation]


@pytest.fixture
def load(warehouse: Warehouse) -> Callable[..., Reconciliation]:
    """Run an import service in its own transaction, as a job would (rolled back on error)."""

    def run(kind: str, path: Any, **kw: Any) -> Reconciliation:
        fn: Loader = {
            "voterfile": services.voterfile_import,
            "history": services.vote_history_import,
            "polling": services.polling_places_import,
            "absentee": services.absentee_import,
        }[kind]
        with warehouse.transaction():
            rec = fn(warehouse=warehouse, path=str(path), **kw)
        rec.check()
        return rec

    return run


def q(warehouse: Warehouse, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return warehouse.cursor().execute(sql, list(params)).fetchall()
