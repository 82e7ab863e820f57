"""The usage report, flagged against the data agreement.

Who searched, viewed and exported what, by user, committee or week: the table is
`access.selectors.usage_report` itself (the same events, the same scope: the
committees the data manager manages and those below; the national data team and
platform administrators see all). Beside it, what the access app knows about each
user who appears in it:

* the approved-users record (`ApprovedUser`): none at all, expired, deactivated;
* the Affiliate Member Data Agreement (`AgreementText` versions, `AgreementAcceptance`):
  the current version not accepted;
* every export, checked at the time it happened: the version in force then not yet
  accepted by then, or the account already expired or deactivated;
* unusual volume: a user's persons touched in a week more than `VOLUME_FACTOR` times
  the median of the other user-weeks in the report, and at least `VOLUME_MIN`;
* the data agreements between affiliates and the managed committees that have ended
  or end within `AGREEMENT_SOON_DAYS` days.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from unionhall.access.models import (
    AgreementAcceptance,
    AgreementText,
    ApprovedUser,
    Committee,
    DataAgreement,
    UsageEvent,
)
from unionhall.access.roles import committees_managed, has_role
from unionhall.access.scope import DATA_ROLES
from unionhall.access.selectors import usage_report
from unionhall.reports.filters import USAGE_GROUPS, UsageFilters
from unionhall.reports.report import Chart, Column, Report, Series, Table
from unionhall.reports.selectors.common import range_words

VOLUME_FACTOR = 5
VOLUME_MIN = 1000
AGREEMENT_SOON_DAYS = 30
EXPORT_ROWS = 1000  # exports listed (newest first); the counts cover them all
SERIES = (("search", "Searches", "#9db4d9"), ("person_view", "Person views", "#1f4fa3"),
          ("export", "Exports", "#b3261e"))
OTHER_COLOR = "#c9ced8"
TOP = 15


def usage_events(*, user: Any, since: dt.date | None, until: dt.date | None) -> QuerySet[UsageEvent]:
    """The events `usage_report` sums for this user (the same scope rule)."""
    qs = UsageEvent.objects.all()
    if not has_role(user, DATA_ROLES, kinds=[Committee.Kind.NATIONAL]):
        qs = qs.filter(committee__in=committees_managed(user))
    if since:
        qs = qs.filter(at__date__gte=since)
    if until:
        qs = qs.filter(at__date__lte=until)
    return qs


def _week(at: dt.datetime) -> dt.date:
    day = timezone.localtime(at).date()
    return day - dt.timedelta(days=day.weekday())


class _Agreement:
    """Which agreement version was in force when, and who accepted which when."""

    def __init__(self, user_ids: list[int]) -> None:
        self.versions = list(AgreementText.objects.order_by("published_at", "version").values_list(
            "pk", "version", "published_at"))
        self.accepted = {(u, a): at for u, a, at in AgreementAcceptance.objects.filter(user_id__in=user_ids)
                         .values_list("user_id", "agreement_id", "accepted_at")}

    def in_force(self, at: dt.datetime) -> tuple[int, int] | None:
        """(id, version) of the agreement version current at `at`."""
        current = None
        for pk, version, published in self.versions:
            if published <= at:
                current = (pk, version)
        return current

    def accepted_by(self, user_id: int, agreement_id: int, at: dt.datetime) -> bool:
        when = self.accepted.get((user_id, agreement_id))
        return when is not None and when <= at


def usage_flagged(*, user: Any, filters: UsageFilters, now: dt.datetime | None = None) -> Report:
    """The usage report by user, committee or week over the events the user may
    monitor, with the flags above: per group (how many flags concern it), the flags
    one by one, every export with its check, and the data agreements' dates."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    rows = usage_report(user=user, group_by=filters.group_by, since=filters.since, until=filters.until)
    events = usage_events(user=user, since=filters.since, until=filters.until)
    user_ids = [u for u in events.exclude(user=None).values_list("user_id", flat=True).distinct()]
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=user_ids)}
    approvals = {a.user_id: a for a in ApprovedUser.objects.filter(user_id__in=user_ids)}
    agreement = _Agreement(user_ids)
    current = agreement.versions[-1] if agreement.versions else None

    flags: list[dict[str, Any]] = []

    def flag(username: str, what: str, detail: str, *, committee: str | None = None,
             week: dt.date | None = None, at: dt.datetime | None = None) -> str:
        flags.append({"user": username, "flag": what, "detail": detail, "committee": committee, "week": week,
                      "at": at})
        return what

    for uid in sorted(users, key=lambda pk: users[pk].get_username()):
        u, approval = users[uid], approvals.get(uid)
        name = u.get_username()
        if approval is None and not u.is_superuser:
            flag(name, "not an approved user", "no approved-users record (sponsor, expiry) for this account")
        if approval is not None and approval.expires_on is not None and approval.expires_on < today:
            flag(name, "account expired", f"expired on {approval.expires_on:%Y-%m-%d}")
        if approval is not None and approval.deactivated_at is not None:
            flag(name, "account deactivated", f"deactivated on {timezone.localtime(approval.deactivated_at):%Y-%m-%d}")
        if (current is not None and not u.is_superuser
                and (uid, current[0]) not in agreement.accepted):
            flag(name, "agreement not accepted", f"has not accepted version {current[1]} of the data agreement")

    exports: list[dict[str, Any]] = []
    export_qs = events.filter(action=UsageEvent.Action.EXPORT).select_related("committee").order_by("-at", "-id")
    for e in export_qs:
        committee = e.committee.name if e.committee else None
        problems: list[str] = []
        actor = users.get(e.user_id) if e.user_id else None
        if actor is not None and not actor.is_superuser:
            force = agreement.in_force(e.at)
            if force is not None and not agreement.accepted_by(actor.pk, force[0], e.at):
                problems.append(flag(e.username, "export without the agreement",
                                     f"exported {e.persons:,} persons on {timezone.localtime(e.at):%Y-%m-%d %H:%M} "
                                     f"before accepting version {force[1]} of the data agreement",
                                     committee=committee, week=_week(e.at), at=e.at))
        approval = approvals.get(e.user_id) if e.user_id else None
        if approval is not None:
            if approval.expires_on is not None and timezone.localdate(e.at) > approval.expires_on:
                problems.append(flag(e.username, "export after the account expired",
                                     f"exported {e.persons:,} persons on {timezone.localtime(e.at):%Y-%m-%d}; the "
                                     f"account expired on {approval.expires_on:%Y-%m-%d}",
                                     committee=committee, week=_week(e.at), at=e.at))
            if approval.deactivated_at is not None and e.at >= approval.deactivated_at:
                problems.append(flag(e.username, "export after deactivation",
                                     f"exported {e.persons:,} persons after the account was deactivated",
                                     committee=committee, week=_week(e.at), at=e.at))
        if actor is not None and approval is None and not actor.is_superuser:
            problems.append("by a user who is not approved")
        if len(exports) < EXPORT_ROWS:
            exports.append({"at": e.at, "user": e.username or "(unknown)", "committee": committee or "(none)",
                            "what": str(e.detail.get("kind") or e.detail.get("report") or "export"),
                            "persons": e.persons, "check": "; ".join(problems) or "ok", "flagged": bool(problems)})

    weekly = list(events.exclude(user=None).annotate(wk=TruncWeek("at")).values("user_id", "username", "wk")
                  .annotate(persons=Sum("persons"), n=Count("id")).order_by("wk", "username"))
    volumes = [int(w["persons"] or 0) for w in weekly]
    for i, w in enumerate(weekly):
        persons = volumes[i]
        others = volumes[:i] + volumes[i + 1:]
        if persons < VOLUME_MIN or not others:
            continue
        usual = statistics.median(others)
        if persons > VOLUME_FACTOR * usual:
            week = w["wk"].date() if isinstance(w["wk"], dt.datetime) else w["wk"]
            flag(w["username"], "unusual volume",
                 f"touched {persons:,} persons in the week of {week:%b %-d, %Y}; a usual week here is {usual:,.0f}",
                 week=week)

    count_by = Counter(_group_of(f, filters.group_by) for f in flags)
    for r in rows:
        r["flags"] = count_by.get(str(r["group"]), 0)
        r["persons_touched"] = r.get("persons_touched") or 0
        r["other"] = int(r["events"]) - sum(int(r.get(k) or 0) for k, _, _ in SERIES)
        r["flagged"] = bool(r["flags"])

    labels = dict(UsageEvent.Action.choices)
    group_label = USAGE_GROUPS[filters.group_by]
    agreements = _agreement_rows(user, today)
    report = Report(
        kind="usage", slug=f"usage-by-{filters.group_by}", title="Usage report",
        filters=[("Dates", range_words(filters.since, filters.until)), ("Grouped by", group_label.lower()),
                 ("Events", "every committee" if has_role(user, DATA_ROLES, kinds=[Committee.Kind.NATIONAL])
                  else "the committees you manage and those below them")],
        figures=[("Events", sum(int(r["events"]) for r in rows), "count"),
                 ("Users", len({e for e in events.values_list("username", flat=True)}), "count"),
                 ("Exports", sum(int(r.get("export") or 0) for r in rows), "count"),
                 ("Persons touched", sum(int(r["persons_touched"]) for r in rows), "count"),
                 ("Flags", len(flags), "count")],
        tables=[
            Table("groups", f"By {group_label.lower()}", [
                Column("group", group_label), Column("events", "Events", "count"),
                Column("persons_touched", "Persons touched", "count"),
                *[Column(a, labels[a], "count") for a, _ in UsageEvent.Action.choices],
                Column("flags", "Flags", "count")], rows),
            Table("flags", "Flags", [Column("user", "User"), Column("flag", "Flag"), Column("detail", "Details")],
                  flags, note="Nothing to flag." if not flags else ""),
            Table("exports", "Exports", [
                Column("at", "When", "datetime"), Column("user", "User"), Column("committee", "Committee"),
                Column("what", "What"), Column("persons", "Persons", "count"), Column("check", "Check")], exports,
                note=f"The newest {EXPORT_ROWS:,} are listed." if len(exports) == EXPORT_ROWS else ""),
            Table("agreements", "Data agreements", [
                Column("affiliate", "Affiliate"), Column("grantee", "Shared with"), Column("fields", "Fields"),
                Column("starts_on", "From", "date"), Column("ends_on", "Until", "date"), Column("status", "Status")],
                agreements),
        ],
        chart=_chart(rows, filters.group_by),
        generated_at=now,
        notes=[f"Unusual volume: a user's persons touched in one week above {VOLUME_FACTOR} times the median of "
               f"the other user-weeks in this report, and at least {VOLUME_MIN:,}.",
               "Exports are checked against the data agreement version in force at the time and the account's "
               "approval (expiry, deactivation) at the time; account flags are as of today."],
    )
    return report


def _group_of(f: dict[str, Any], group_by: str) -> str | None:
    if group_by == "user":
        return str(f["user"])
    if group_by == "committee":
        return f["committee"]
    return f["week"].isoformat() if f["week"] else None


def _agreement_rows(user: Any, today: dt.date) -> list[dict[str, Any]]:
    qs = DataAgreement.objects.select_related("affiliate", "grantee")
    if not has_role(user, DATA_ROLES, kinds=[Committee.Kind.NATIONAL]):
        managed = committees_managed(user)
        qs = qs.filter(Q(affiliate__in=managed) | Q(grantee__in=managed))
    out = []
    soon = today + dt.timedelta(days=AGREEMENT_SOON_DAYS)
    for a in qs.order_by("affiliate__name", "grantee__name"):
        if a.ends_on is not None and a.ends_on < today:
            status, flagged = f"ended on {a.ends_on:%Y-%m-%d}", True
        elif a.starts_on is not None and a.starts_on > today:
            status, flagged = f"starts on {a.starts_on:%Y-%m-%d}", False
        elif a.ends_on is not None and a.ends_on <= soon:
            status, flagged = f"ends in {(a.ends_on - today).days} days", True
        else:
            status, flagged = "in force", False
        out.append({"affiliate": a.affiliate.name, "grantee": a.grantee.name, "fields": ", ".join(a.fields),
                    "starts_on": a.starts_on, "ends_on": a.ends_on, "status": status, "flagged": flagged})
    return out


def _chart(rows: list[dict[str, Any]], group_by: str) -> Chart | None:
    if not rows:
        return None
    picked = rows if group_by == "week" else sorted(rows, key=lambda r: (-int(r["events"]), str(r["group"])))[:TOP]
    series = [Series(label, [float(r.get(key) or 0) for r in picked], color) for key, label, color in SERIES]
    series.append(Series("Other (logins, lists, reviews…)", [float(r["other"]) for r in picked], OTHER_COLOR))
    more = f"the {TOP} with the most events; the table has all {len(rows)}" if len(rows) > len(picked) else ""
    return Chart(title=f"Usage by {USAGE_GROUPS[group_by].lower()}", kind="stacked" if group_by == "week" else "hstacked",
                 categories=[str(r["group"]) for r in picked], series=series, y_label="events", note=more)
