"""What a report is asked for, parsed from a page's query string. Bad input raises a
`UserError` that names the field and what to write instead (the page answers 400 with
it); checks that need the user (is this committee, this list one of theirs?) are the
selectors'."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from unionhall.errors import UserError

# The three contact report templates and the warehouse channels each covers.
CHANNELS: dict[str, tuple[str, ...]] = {"walk": ("door",), "phone": ("phone",), "mail": ("mail",)}
CHANNEL_TITLES = {"walk": "Walks (canvass)", "phone": "Phone contacts", "mail": "Mailings"}
CONTACT_GROUPS = {"canvasser": "Canvasser", "turf": "Turf", "day": "Day", "committee": "Committee"}
USAGE_GROUPS = {"user": "User", "committee": "Committee", "week": "Week"}


def date_param(query: Mapping[str, str], name: str, label: str) -> dt.date | None:
    raw = (query.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise UserError(f"{label}: {raw[:40]!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-10-15") from None


def id_param(query: Mapping[str, str], name: str, label: str) -> int | None:
    raw = (query.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise UserError(f"{label}: {raw[:40]!r} is not one of the choices; pick one from the list")
    return int(raw)


def choice_param(query: Mapping[str, str], name: str, label: str, choices: Mapping[str, str],
                 default: str) -> str:
    raw = (query.get(name) or "").strip() or default
    if raw not in choices:
        raise UserError(f"{label}: {raw[:40]!r} is not known; use one of {', '.join(choices)}")
    return raw


def _range(query: Mapping[str, str]) -> tuple[dt.date | None, dt.date | None]:
    since = date_param(query, "from", "From")
    until = date_param(query, "to", "To")
    if since and until and since > until:
        raise UserError(f"From ({since}) is after To ({until}): swap them, or leave one empty")
    return since, until


@dataclass(frozen=True)
class ContactFilters:
    """A contact report's question: which channel, grouped how, over which days,
    for one committee or all of the user's, for the people of one saved list or all."""

    channel: str = "walk"
    group_by: str = "canvasser"
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    committee_id: int | None = None
    list_id: int | None = None


def contact_filters_from(query: Mapping[str, str]) -> ContactFilters:
    since, until = _range(query)
    return ContactFilters(
        channel=choice_param(query, "channel", "Channel", CHANNEL_TITLES, "walk"),
        group_by=choice_param(query, "group_by", "Group by", CONTACT_GROUPS, "canvasser"),
        date_from=since, date_to=until,
        committee_id=id_param(query, "committee", "Committee"),
        list_id=id_param(query, "list", "Saved list"),
    )


@dataclass(frozen=True)
class EarlyVoteFilters:
    list_id: int | None = None
    election: dt.date | None = None


def early_vote_filters_from(query: Mapping[str, str]) -> EarlyVoteFilters:
    return EarlyVoteFilters(list_id=id_param(query, "list", "Saved list"),
                            election=date_param(query, "election", "Election"))


@dataclass(frozen=True)
class UsageFilters:
    group_by: str = "user"
    since: dt.date | None = None
    until: dt.date | None = None


def usage_filters_from(query: Mapping[str, str]) -> UsageFilters:
    since, until = _range(query)
    return UsageFilters(group_by=choice_param(query, "by", "Group by", USAGE_GROUPS, "user"),
                        since=since, until=until)
