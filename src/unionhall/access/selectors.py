"""Reads of person data for a user: always through `person_base`, always logged."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir

from unionhall.access.gateway import person_base, person_rows, scoped_count
from unionhall.access.scope import DATA_ROLES
from unionhall.access.services import usage_record
from unionhall.errors import ScopeError
from unionhall.warehouse import Warehouse

PERSON_FIELDS = [
    "person_id", "first_name", "middle_name", "last_name", "suffix", "sex", "birth_date",
    "addr_line1", "addr_line2", "city", "state", "zip5", "county", "phone", "email",
    "voter_reg_num", "member_sources", "member_locals",
]


class PersonNotFound(Exception):
    """The same answer for a person that does not exist and one outside the user's scope."""


@dataclass(frozen=True)
class PersonFilter:
    """Filters of a people search (all optional)."""

    last_name: str | None = None  # prefix, case-insensitive
    first_name: str | None = None
    state: str | None = None
    county: str | None = None
    zip5: str | None = None
    registered: bool | None = None
    member_of: str | None = None  # affiliate source slug

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _apply(t: ir.Table, f: PersonFilter) -> ir.Table:
    """The filters as one `filter` call (on a scoped table it joins the row filter)."""
    preds: list[ir.BooleanValue] = []
    if f.last_name:
        preds.append(t.last_name.upper().startswith(f.last_name.upper()))
    if f.first_name:
        preds.append(t.first_name.upper().startswith(f.first_name.upper()))
    if f.state:
        preds.append(t.state == f.state.upper())
    if f.county:
        preds.append(t.county.upper() == f.county.upper())
    if f.zip5:
        preds.append(t.zip5 == f.zip5)
    if f.registered is not None:
        preds.append(t.voter_reg_num.notnull() if f.registered else t.voter_reg_num.isnull())
    if f.member_of:
        preds.append(t.member_sources.contains(f.member_of))
    return t.filter(*preds) if preds else t


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in row.items()}


def person_search(
    *, user: Any, filters: PersonFilter, limit: int = 100, offset: int = 0, warehouse: Warehouse | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """Total count and one page of the persons matching `filters` within the user's scope."""
    t = _apply(person_base(user=user, warehouse=warehouse), filters)
    total = int(scoped_count(t).execute())
    page = t.select(*PERSON_FIELDS).order_by(["last_name", "first_name", "person_id"]).limit(limit, offset=offset)
    rows = [_jsonable(r) for r in page.to_pyarrow().to_pylist()]
    usage_record(user=user, action="search", detail={"filters": filters.as_dict(), "total": total}, persons=len(rows))
    return total, rows


def person_count(*, user: Any, filters: PersonFilter, warehouse: Warehouse | None = None) -> int:
    """How many persons match, within scope (counts are reads too: logged)."""
    n = int(scoped_count(_apply(person_base(user=user, warehouse=warehouse), filters)).execute())
    usage_record(user=user, action="search", detail={"filters": filters.as_dict(), "count_only": True}, persons=0)
    return n


def person_get(*, user: Any, person_id: int, warehouse: Warehouse | None = None) -> dict[str, Any]:
    """One person within scope; PersonNotFound for missing and forbidden alike."""
    try:
        t = person_base(user=user, warehouse=warehouse)
    except ScopeError:
        raise PersonNotFound(person_id) from None
    rows = t.filter(t.person_id == person_id).select(*PERSON_FIELDS).limit(1).to_pyarrow().to_pylist()
    if not rows:
        # An id retired by a merge resolves to the person it became (identity keeps the
        # alias), so saved links and exports keep working; scope applies to the new id.
        current = person_id_current(user=user, person_id=person_id, warehouse=warehouse)
        if current != person_id:
            rows = t.filter(t.person_id == current).select(*PERSON_FIELDS).limit(1).to_pyarrow().to_pylist()
    if not rows:
        raise PersonNotFound(person_id)
    usage_record(user=user, action="person_view", detail={"person_id": rows[0]["person_id"]}, persons=1)
    return _jsonable(rows[0])


def person_id_current(*, user: Any, person_id: int, warehouse: Warehouse | None = None) -> int:
    """The id a person id now resolves to: itself, or the survivor of the merge that
    retired it (when the user may see the survivor)."""
    alias = person_rows(user=user, table="person_alias", warehouse=warehouse)
    rows = alias.filter(alias.old_person_id == person_id).select("person_id").limit(1).to_pyarrow().to_pylist()
    return int(rows[0]["person_id"]) if rows else person_id


# People-search results as CSV: a small, audited download for the roles that manage
# data. Larger lists, and anyone else, go through an export request approved by
# someone else (DESIGN.md capability 6), not through this door.
DOWNLOAD_ROLES = DATA_ROLES
DOWNLOAD_LIMIT = 1000
DOWNLOAD_FIELDS = [
    "person_id", "first_name", "middle_name", "last_name", "suffix", "birth_date", "sex",
    "addr_line1", "addr_line2", "city", "state", "zip5", "county", "phone", "email",
    "voter_reg_num", "member_sources",
]


class DownloadRefused(Exception):
    """Why a download was refused (shown to the user as is)."""


def download_allowed(*, user: Any) -> bool:
    """May the user download people-search results? (Administrators and data managers.)"""
    from unionhall.access.models import RoleGrant

    if getattr(user, "is_superuser", False):
        return True
    return RoleGrant.objects.filter(user=user, role__in=DOWNLOAD_ROLES).exists()


def download_table(t: ir.Table) -> ir.Table:
    """The download's columns, in order, from a scoped (masked) person table."""
    return t.select(*DOWNLOAD_FIELDS).order_by(["last_name", "first_name", "person_id"])


def person_download(
    *, user: Any, filters: PersonFilter, warehouse: Warehouse | None = None, limit: int = DOWNLOAD_LIMIT,
) -> tuple[list[str], list[list[Any]]]:
    """People-search results for a CSV download: header and rows, through the scope of
    the user's administrator / data-manager grants only, masks applied. Refused (with
    the reason) for other roles and for more than `limit` persons. Logged as an export
    with the persons touched."""
    if not download_allowed(user=user):
        raise DownloadRefused("Downloading people is for administrators and data managers; "
                              "ask yours for an export request.")
    t = _apply(person_base(user=user, warehouse=warehouse, roles=DOWNLOAD_ROLES), filters)
    total = int(scoped_count(t).execute())
    if total > limit:
        raise DownloadRefused(f"{total:,} people match; a download holds at most {limit:,}. Narrow the "
                              "search, or ask for an export request (approved by someone else).")
    rows = download_table(t).to_pyarrow().to_pylist()
    out = [[";".join(r[c] or []) if c == "member_sources" else r[c] for c in DOWNLOAD_FIELDS] for r in rows]
    usage_record(user=user, action="export", persons=len(out), detail={
        "kind": "people search download", "filters": filters.as_dict(), "rows": len(out)})
    return list(DOWNLOAD_FIELDS), out


USAGE_GROUPS = ("user", "committee", "week")


def usage_report(
    *, user: Any, group_by: str, since: dt.date | None = None, until: dt.date | None = None
) -> list[dict[str, Any]]:
    """The usage log summed by user, committee or week: one row per group with a count
    per action and the persons touched ("ad hoc reports on the use of the system").
    Over the events of the committees the user manages (and those below them); the
    national office's data team and platform administrators see every event (they
    keep the approved-users database for the whole movement)."""
    from django.db.models import Count, Q, Sum
    from django.db.models.functions import TruncWeek

    from unionhall.access.models import Committee, UsageEvent
    from unionhall.access.roles import committees_managed, has_role

    if group_by not in USAGE_GROUPS:
        raise ValueError(f"group_by must be one of {USAGE_GROUPS}")
    qs = UsageEvent.objects.all()
    if not has_role(user, DATA_ROLES, kinds=[Committee.Kind.NATIONAL]):
        qs = qs.filter(committee__in=committees_managed(user))
    if since:
        qs = qs.filter(at__date__gte=since)
    if until:
        qs = qs.filter(at__date__lte=until)
    key = {"user": "username", "committee": "committee__name", "week": "week"}[group_by]
    if group_by == "week":
        qs = qs.annotate(week=TruncWeek("at"))
    counts = {a: Count("id", filter=Q(action=a)) for a, _ in UsageEvent.Action.choices}
    rows = qs.values(key).annotate(events=Count("id"), persons_touched=Sum("persons"), **counts).order_by(key)
    out = []
    for r in rows:
        label = r.pop(key)
        if isinstance(label, dt.datetime):
            label = label.date().isoformat()
        out.append({"group": label if label not in (None, "") else "(none)", **r})
    return out


AGGREGATE_COLUMNS = ("state", "county", "sex", "city", "zip5")


def person_aggregate(
    *, user: Any, by: list[str], filters: PersonFilter, min_cell: int | None = None,
    warehouse: Warehouse | None = None,
) -> list[dict[str, Any]]:
    """Counts of persons in scope grouped by `by`. For analysts (aggregates only) a count
    smaller than `min_cell` (setting UNIONHALL_MIN_CELL, default 10) is suppressed: the
    cell says None, so small groups cannot single people out."""
    from django.conf import settings

    from unionhall.access.models import RoleGrant
    from unionhall.access.scope import PERSON_ROLES

    bad = [c for c in by if c not in AGGREGATE_COLUMNS]
    if bad or not by:
        raise ValueError(f"group by one or more of {AGGREGATE_COLUMNS}, not {bad or by}")
    t = _apply(person_base(user=user, warehouse=warehouse), filters)
    rows = t.group_by(by).agg(persons=t.count()).order_by(by).to_pyarrow().to_pylist()
    roles = set(RoleGrant.objects.filter(user=user, role__in=PERSON_ROLES).values_list("role", flat=True))
    analyst_only = bool(roles) and roles <= {RoleGrant.Role.ANALYST} and not user.is_superuser
    threshold = min_cell if min_cell is not None else settings.UNIONHALL_MIN_CELL
    if analyst_only:
        for r in rows:
            if r["persons"] < threshold:
                r["persons"] = None
    usage_record(user=user, action="search", detail={"filters": filters.as_dict(), "aggregate_by": by}, persons=0)
    return rows
