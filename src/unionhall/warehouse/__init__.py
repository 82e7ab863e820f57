"""The warehouse: columnar person-level data (voter file, members, persons, history...).

This package is the one place that opens the warehouse. Everything else asks it for a
backend (an ibis connection) or, to read person rows for a user, for the scoped base
expression `person_base(user=...)`.
"""

from unionhall.warehouse.core import (
    Warehouse,
    close_warehouse,
    get_warehouse,
    open_warehouse,
)
from unionhall.warehouse.migrations import MIGRATIONS, Migration
from unionhall.warehouse.scope import person_base

__all__ = [
    "MIGRATIONS",
    "Migration",
    "Warehouse",
    "close_warehouse",
    "get_warehouse",
    "open_warehouse",
    "person_base",
]
