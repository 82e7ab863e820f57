"""What every report shares: who may open reports, over which committees, the
analysts' small-cell rule, and calendar days in the installation's time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import ibis
import ibis.expr.types as ir
from django.utils import timezone

from unionhall.access.models import Committee, RoleGrant
from unionhall.access.roles import has_role
from unionhall.access.scope import PERSON_ROLES
from unionhall.errors import UserError
from unionhall.reports.report import SUPPRESSED

# Reports are for the roles that see person data in a committee (organizers, data
# managers, administrators, analysts); canvassers and vendors have narrower doors.
REPORT_ROLES = tuple(sorted(PERSON_ROLES))


def reports_allowed(user: Any) -> bool:
    return has_role(user, REPORT_ROLES)


def report_committees(user: Any) -> list[Committee]:
    """The committees whose field work the user's reports cover: where they hold a
    person-data role, and every committee below those (a state federation follows its
    CLCs' programs); platform administrators: every committee. One query for the
    tree, whatever its depth."""
    if not getattr(user, "is_authenticated", False):
        return []
    every = list(Committee.objects.all())
    if user.is_superuser:
        return sorted(every, key=lambda c: c.name)
    roots = set(RoleGrant.objects.filter(user=user, role__in=list(REPORT_ROLES)).values_list("committee_id",
                                                                                              flat=True))
    children: dict[int | None, list[Committee]] = {}
    for c in every:
        children.setdefault(c.parent_id, []).append(c)
    seen: dict[int, Committee] = {}
    todo = [c for c in every if c.pk in roots]
    while todo:
        c = todo.pop()
        if c.pk not in seen:
            seen[c.pk] = c
            todo.extend(children.get(c.pk, []))
    return sorted(seen.values(), key=lambda c: c.name)


def committee_choice(committees: list[Committee], committee_id: int | None) -> Committee | None:
    """The committee asked for, if it is one of the user's (one message for a committee
    that does not exist and one that is not theirs)."""
    if committee_id is None:
        return None
    for c in committees:
        if c.pk == committee_id:
            return c
    raise UserError(f"Committee: no committee {committee_id} among those your reports cover; pick one from the list")


def saved_list_choice(user: Any, list_id: int | None) -> Any:
    """The saved list asked for, if the user may see it (the same message for a list
    that does not exist and one that is not shared with them)."""
    from unionhall.field.selectors import saved_lists_visible

    if list_id is None:
        return None
    saved = saved_lists_visible(user).filter(pk=list_id).first()
    if saved is None:
        raise UserError(f"Saved list: no list {list_id} among the lists you can open; pick one from the list")
    return saved


def min_cell_for(user: Any) -> int | None:
    """The smallest count an analyst-only user is shown (UNIONHALL_MIN_CELL), as
    `access.selectors.person_aggregate` applies it; None for everyone else."""
    from django.conf import settings

    if getattr(user, "is_superuser", False):
        return None
    roles = set(RoleGrant.objects.filter(user=user, role__in=list(PERSON_ROLES)).values_list("role", flat=True))
    if roles and roles <= {RoleGrant.Role.ANALYST}:
        return int(settings.UNIONHALL_MIN_CELL)
    return None


def hide_small(rows: Iterable[dict[str, Any]], counts: Iterable[str], rates: Iterable[str],
               threshold: int | None) -> None:
    """Replace counts between 1 and threshold-1 by SUPPRESSED, and blank the rates of
    rows where a count was hidden (a rate would give it away)."""
    if threshold is None:
        return
    counts, rates = list(counts), list(rates)
    for r in rows:
        hidden = False
        for k in counts:
            v = r.get(k)
            if isinstance(v, int) and 0 < v < threshold:
                r[k] = SUPPRESSED
                hidden = True
        if hidden:
            for k in rates:
                r[k] = None


def number(value: Any) -> float | None:
    """A table value as a chart value (hidden and missing ones are not drawn)."""
    return None if value is None or value == SUPPRESSED else float(value)


# -- days -----------------------------------------------------------------------------


def utc_naive(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` in the installation's time zone, as the naive UTC
    the warehouse stores times in."""
    local = timezone.make_aware(dt.datetime.combine(day, dt.time()), timezone.get_default_timezone())
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def _offset(tz: dt.tzinfo, epoch: int) -> int:
    off = dt.datetime.fromtimestamp(epoch, dt.UTC).astimezone(tz).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def offset_changes(lo: dt.datetime, hi: dt.datetime, tz: dt.tzinfo | None = None) -> list[tuple[int | None, int]]:
    """The installation zone's UTC offset (seconds) between two naive UTC times, as
    [(from epoch second or None, offset)]: one entry, plus one per daylight-saving
    change in between (found day by day, then to the second)."""
    tz = tz or timezone.get_default_timezone()
    a = int(lo.replace(tzinfo=dt.UTC).timestamp())
    end = int(hi.replace(tzinfo=dt.UTC).timestamp())
    out: list[tuple[int | None, int]] = [(None, _offset(tz, a))]
    day = 86_400
    while a < end:
        b = min(a + day, end)
        if _offset(tz, b) != out[-1][1]:
            left, right = a, b  # offset(left) is the current one, offset(right) the next
            while right - left > 1:
                mid = (left + right) // 2
                left, right = (mid, right) if _offset(tz, mid) == out[-1][1] else (left, mid)
            out.append((right, _offset(tz, right)))
        a = b
    return out


def local_day(ts: ir.TimestampValue, lo: dt.datetime, hi: dt.datetime) -> ir.DateValue:
    """The calendar day, in the installation's time zone, of naive UTC timestamps that
    lie between `lo` and `hi`: the offset in force at each time (daylight saving
    included), as one CASE over the few changes in the range."""
    changes = offset_changes(lo, hi)
    if len(changes) == 1:
        off = changes[0][1]
        return (ts if off == 0 else ts + ibis.interval(seconds=off)).date()
    branches = [(ts >= ibis.timestamp(dt.datetime.fromtimestamp(start, dt.UTC).replace(tzinfo=None)),
                 ts + ibis.interval(seconds=off)) for start, off in reversed(changes[1:]) if start is not None]
    return ibis.cases(*branches, else_=ts + ibis.interval(seconds=changes[0][1])).date()


def range_words(since: dt.date | None, until: dt.date | None) -> str:
    if since and until:
        return f"{since:%b %-d, %Y} to {until:%b %-d, %Y}"
    if since:
        return f"from {since:%b %-d, %Y}"
    if until:
        return f"until {until:%b %-d, %Y}"
    return "all dates"
