"""The one scoped entry point to person rows (DESIGN.md; STYLE.md rule 3).

Every read of person data on behalf of a user starts from `person_base(user=...)`. It
fails closed: no user, an anonymous, inactive, expired or not-yet-agreed user raises
ScopeError. Which persons and fields are visible comes from
`unionhall.access.scope.scope_paths_for` (committee roles and data agreements); this
module turns those paths into one filter plus per-field masks, as an ibis expression,
so every later list, count, report and export inherits the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir

from unionhall.errors import ScopeError
from unionhall.warehouse.core import Warehouse, get_warehouse

# Person columns by the field group that governs them; columns not listed (ids,
# state, county, registration number, timestamps) are visible on every path.
FIELD_GROUP_OF: dict[str, str] = {
    "first_name": "name",
    "middle_name": "name",
    "last_name": "name",
    "suffix": "name",
    "sex": "name",
    "addr_line1": "address",
    "addr_line2": "address",
    "city": "address",
    "zip5": "address",
    "phone": "phone",
    "email": "email",
    "birth_date": "dob",
}


def _any(preds: Sequence[ir.BooleanValue]) -> ir.BooleanValue:
    if not preds:
        return ibis.literal(False)
    out = preds[0]
    for p in preds[1:]:
        out = out | p
    return out


def _who(t: ir.Table, path: Any) -> ir.BooleanValue:
    if path.kind == "voters":
        return t.voter_reg_num.notnull()
    return _any(
        [t.member_sources.contains(s) for s in path.sources]
        + [t.member_locals.contains(loc) for loc in path.locals]
    )


def _geo(t: ir.Table, state: str | None, counties: tuple[str, ...]) -> ir.BooleanValue | None:
    # Counties are stored upper case (as the voter file writes them); committees too.
    preds = []
    if state:
        preds.append(t.state == state)
    if counties:
        preds.append(t.county.isin(list(counties)))
    if not preds:
        return None
    return preds[0] if len(preds) == 1 else preds[0] & preds[1]


def _path_predicate(t: ir.Table, path: Any) -> ir.BooleanValue:
    geo = _geo(t, path.state, path.counties)
    who = _who(t, path)
    return who if geo is None else who & geo


def _row_filter(t: ir.Table, paths: Sequence[Any]) -> ir.BooleanValue:
    """Any path matches. Paths sharing a geography share one test of it, so the common
    case (a CLC: its voters and its agreements' members) costs one geography check."""
    by_geo: dict[tuple[str | None, tuple[str, ...]], list[ir.BooleanValue]] = {}
    for p in paths:
        by_geo.setdefault((p.state, tuple(p.counties)), []).append(_who(t, p))
    parts = []
    for (state, counties), whos in by_geo.items():
        geo = _geo(t, state, counties)
        parts.append(_any(whos) if geo is None else geo & _any(whos))
    return _any(parts)


def scoped_persons(person: ir.Table, paths: Sequence[Any]) -> ir.Table:
    """Apply visibility paths to a person table expression: filter rows, mask fields."""
    if any(p.kind == "all" for p in paths):
        return person
    if not paths:
        return person.filter(ibis.literal(False))
    preds = [_path_predicate(person, p) for p in paths]
    masked: dict[str, ir.Value] = {}
    for col, group in FIELD_GROUP_OF.items():
        granting = [pred for pred, p in zip(preds, paths, strict=True) if group in p.fields]
        if len(granting) == len(preds):
            continue  # every path grants it: no mask needed
        masked[col] = ibis.ifelse(_any(granting), person[col], ibis.null(person[col].type()))
    # Union membership is itself sensitive: show only the memberships a path grants.
    member_paths = [(pred, p) for pred, p in zip(preds, paths, strict=True) if p.kind == "members"]
    shown_sources = [ibis.ifelse(pred & person.member_sources.contains(s), s, ibis.null("string"))
                     for pred, p in member_paths for s in p.sources]
    shown_locals = [ibis.ifelse(pred & person.member_locals.contains(loc), loc, ibis.null("string"))
                    for pred, p in member_paths for loc in p.locals]
    masked["member_sources"] = _present(shown_sources)
    masked["member_locals"] = _present(shown_locals)
    return person.filter(_row_filter(person, paths)).mutate(**masked)


def _present(values: list[ir.StringValue]) -> ir.ArrayValue:
    if not values:
        return ibis.literal([], type="array<string>")
    return ibis.array(values).filter(lambda v: v.notnull())


def person_base(*, user: Any, warehouse: Warehouse | None = None) -> ir.Table:
    """Person rows the user may see, with fields outside their scope set to null.

    Raises ScopeError when there is no authenticated, active user, or the account is
    blocked (expired, deactivated, current data agreement not accepted).
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        raise ScopeError("person rows were requested without an authenticated, active user")
    from unionhall.access.gate import access_block_reason
    from unionhall.access.scope import scope_paths_for

    reason = access_block_reason(user)
    if reason is not None:
        raise ScopeError(reason)
    wh = warehouse or get_warehouse()
    return scoped_persons(wh.table("person"), scope_paths_for(user))
