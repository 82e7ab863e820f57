"""The warehouse: columnar person-level data (voter file, members, persons, history...).

This package is the one place that opens the warehouse. It knows which tables hold
person-level data (`catalog`) and refuses plain reads of them; person rows for a user
are read through `unionhall.access.gateway`, which applies the user's scope.
"""

from unionhall.warehouse.core import (
    Warehouse,
    close_warehouse,
    get_warehouse,
    open_warehouse,
)
from unionhall.warehouse.migrations import MIGRATIONS, Migration

__all__ = [
    "MIGRATIONS",
    "Migration",
    "Warehouse",
    "close_warehouse",
    "get_warehouse",
    "open_warehouse",
]
