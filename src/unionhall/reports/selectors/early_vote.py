"""Early-vote progress of a saved list: of the people on it, how many asked for a mail
ballot, returned it, and voted early in person, day by day.

Built on the elections app's reads and definitions rather than new rules:

* the people are the list's snapshot as the user may see them
  (`field.selectors.saved_list_persons`);
* the elections offered are `elections.selectors.ballot_elections`;
* each person's ballot is the elections app's current status per registration
  (`ballot_status`, kept by `elections.absentee.ballot_status_refresh`): its
  `already_voted`, `requested_not_returned` and `needs_cure` flags, and its
  `status_date` as the day a ballot was cast — the same day `early_vote_report` counts
  it on;
* a mail ballot's request day is the earliest `ballot_req_dt` of the person's mail
  ballot events (`absentee_event`, ballot type `mail`).

A person with several registrations counts once: voted if any of them voted (on the
earliest such day), by mail if a mail ballot of theirs was accepted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from unionhall.access.gateway import person_rows
from unionhall.access.services import usage_record
from unionhall.elections.selectors import ballot_elections
from unionhall.errors import UserError
from unionhall.field.selectors import saved_list_persons
from unionhall.reports.filters import EarlyVoteFilters
from unionhall.reports.report import Chart, Column, Report, Series, Table, rate
from unionhall.reports.selectors.common import hide_small, min_cell_for, number, saved_list_choice
from unionhall.warehouse import Warehouse, get_warehouse

REQUESTED_COLOR = "#9db4d9"
MAIL_COLOR = "#1f4fa3"  # as the elections app's chart draws mail ballots
EARLY_COLOR = "#b3261e"  # and early votes in person
VOTED_COLOR = "#1d2330"
DAY_COUNTS = ("requested", "returned", "early", "voted", "requested_total", "returned_total", "early_total",
              "voted_total")
TOTAL_COUNTS = ("people", "requested", "returned", "early", "voted", "outstanding", "needs_cure", "not_voted")


def early_vote_progress(*, user: Any, filters: EarlyVoteFilters, warehouse: Warehouse | None = None,
                        now: dt.datetime | None = None) -> Report:
    """The early-vote progress of one saved list for one election (the latest with
    ballot data in the user's scope unless asked). UserError for a list the user
    cannot open or an election without ballot data; logged as a search touching no
    person (aggregates only)."""
    wh = warehouse or get_warehouse()
    if filters.list_id is None:
        raise UserError("Saved list: choose the list whose early vote you want to follow")
    saved = saved_list_choice(user, filters.list_id)
    elections = ballot_elections(user=user, warehouse=wh)
    election = filters.election
    if election is None:
        election = elections[0] if elections else None
    elif election not in elections:
        known = ", ".join(e.isoformat() for e in elections[:5]) or "none loaded yet"
        raise UserError(f"Election: no ballot data for {election.isoformat()} in your scope; choose one of {known}")

    people = saved_list_persons(user=user, saved_list=saved, warehouse=wh)
    n_people = int(people.count().execute())
    totals: dict[str, Any] = dict.fromkeys(TOTAL_COUNTS, 0)
    totals["people"] = n_people
    days: list[dict[str, Any]] = []
    if election is not None:
        bs = person_rows(user=user, table="ballot_status", warehouse=wh)
        bs = bs.filter((bs.election_dt == election) & bs.person_id.isin(people.person_id))
        mail_ok = bs.already_voted & (bs.ballot_type == "mail")
        per = bs.group_by("person_id").aggregate(
            voted=bs.already_voted.any(), by_mail=mail_ok.any(),
            outstanding=bs.requested_not_returned.any(), needs_cure=bs.needs_cure.any(),
            day=bs.status_date.min(where=bs.already_voted))
        per = per.mutate(early=per.voted & ~per.by_mail)
        row = per.aggregate(voted=per.voted.sum(), returned=per.by_mail.sum(), early=per.early.sum(),
                            outstanding=per.outstanding.sum(), needs_cure=per.needs_cure.sum()
                            ).to_pyarrow().to_pylist()[0]
        totals.update({k: int(v or 0) for k, v in row.items()})
        cast = per.filter(per.voted)
        by_day = {r["day"]: r for r in cast.group_by("day").aggregate(
            returned=cast.by_mail.sum(), early=cast.early.sum(), voted=cast.count()).to_pyarrow().to_pylist()}

        ae = person_rows(user=user, table="absentee_event", warehouse=wh)
        ae = ae.filter((ae.election_dt == election) & (ae.ballot_type == "mail") & ae.person_id.isin(people.person_id))
        req = ae.group_by("person_id").aggregate(day=ae.ballot_req_dt.min())
        requested = {r["day"]: int(r["n"]) for r in req.group_by("day").aggregate(n=req.count())
                     .to_pyarrow().to_pylist()}
        totals["requested"] = sum(requested.values())
        days = _days(requested, by_day)
    totals["not_voted"] = max(0, totals["people"] - totals["voted"])

    threshold = min_cell_for(user)
    shown = dict(totals)
    hide_small([shown], TOTAL_COUNTS, [], threshold)
    hide_small(days, DAY_COUNTS, ["turnout"], threshold)
    report = Report(
        kind="early_vote", slug=f"early-vote-list-{saved.pk}",
        title=f"Early-vote progress: {saved.name}",
        filters=[("List", f"{saved.name} ({saved.committee.name}), version {saved.version}"),
                 ("Election", f"{election:%B %-d, %Y}" if election else "no absentee file loaded yet"),
                 ("People", "the list's people in your scope")],
        figures=[("People on the list", shown["people"], "count"),
                 ("Mail ballots requested", shown["requested"], "count"),
                 ("Mail ballots returned", shown["returned"], "count"),
                 ("Voted early in person", shown["early"], "count"),
                 ("Voted so far", shown["voted"], "count"),
                 ("Turnout so far", rate(shown["voted"], shown["people"]), "rate"),
                 ("Mail ballots not back", shown["outstanding"], "count"),
                 ("Ballots needing a cure", shown["needs_cure"], "count")],
        tables=[Table("days", "Day by day", [
            Column("day", "Day", "date"), Column("requested", "Mail ballots requested", "count"),
            Column("returned", "Mail ballots returned", "count"), Column("early", "Voted early in person", "count"),
            Column("requested_total", "Requested so far", "count"), Column("returned_total", "Returned so far", "count"),
            Column("early_total", "Early in person so far", "count"), Column("voted_total", "Voted so far", "count"),
            Column("turnout", "Share of the list voted", "rate")],
            [{**d, "turnout": rate(d["voted_total"], totals["people"]) if d["turnout"] is not None else None}
             for d in days])],
        chart=_chart(days, saved.name) if days else None,
        generated_at=now or timezone.now(),
        notes=["Returned means a mail ballot returned and accepted (or cured); a ballot waiting for a cure is "
               "counted under 'needing a cure'. Voted so far counts every accepted ballot, by mail or in person, "
               "on the day the elections app records it (as on the Early vote page).",
               "Requests are counted on the day the mail ballot was asked for; requests without a date count in "
               "the total only." + (f" Counts under {threshold} are hidden (analysts see aggregates only)."
                                    if threshold else "")],
    )
    usage_record(user=user, action="search", persons=0, committee=saved.committee, detail={
        "report": "early vote progress", "list": saved.pk, "election": election.isoformat() if election else None})
    return report


def _days(requested: dict[Any, int], cast: dict[Any, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per day with any request or ballot, with running totals."""
    out: list[dict[str, Any]] = []
    run = dict.fromkeys(("requested", "returned", "early", "voted"), 0)
    for day in sorted({d for d in (*requested, *cast) if d is not None}):
        c = cast.get(day, {})
        row: dict[str, Any] = {"day": day, "requested": requested.get(day, 0), "returned": int(c.get("returned") or 0),
                               "early": int(c.get("early") or 0), "voted": int(c.get("voted") or 0)}
        for k in run:
            run[k] += row[k]
            row[f"{k}_total"] = run[k]
        row["turnout"] = 0.0  # filled in by the caller (needs the list's size); None once hidden
        out.append(row)
    return out


def _chart(days: list[dict[str, Any]], name: str) -> Chart:
    labels = [d["day"].strftime("%b %-d") for d in days]
    return Chart(title=f"{name}: early vote so far", kind="lines", categories=labels, series=[
        Series("Mail ballots requested", [number(d["requested_total"]) for d in days], REQUESTED_COLOR),
        Series("Mail ballots returned", [number(d["returned_total"]) for d in days], MAIL_COLOR),
        Series("Voted early in person", [number(d["early_total"]) for d in days], EARLY_COLOR),
        Series("Voted so far (all)", [number(d["voted_total"]) for d in days], VOTED_COLOR),
    ], y_label="people (running total)")

