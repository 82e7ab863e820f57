"""The one scoped entry point to person rows (DESIGN.md; STYLE.md rule 3).

Every read of person data on behalf of a user starts from `person_base(user=...)`.
It fails closed: no user, an anonymous user or an inactive user raises ScopeError.
Committee scope rules (issue 7) plug in here and nowhere else.
"""

from __future__ import annotations

from typing import Any

import ibis

from unionhall.errors import ScopeError
from unionhall.warehouse.core import Warehouse, get_warehouse


def person_base(*, user: Any, warehouse: Warehouse | None = None) -> ibis.Table:
    """Person rows the user may see, as an ibis expression to filter further.

    Until committee scope rules exist only administrators (superusers) see persons;
    everyone else sees none.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        raise ScopeError("person rows were requested without an authenticated, active user")
    wh = warehouse or get_warehouse()
    person = wh.table("person")
    if user.is_superuser:
        return person
    return person.filter(ibis.literal(False))
