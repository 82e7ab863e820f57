"""Reads of election data for pages. Person-level reads start from `person_base(user=...)`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis

from unionhall.elections import codes
from unionhall.warehouse import Warehouse, get_warehouse, person_base


def _rows(expr: ibis.Table) -> list[dict[str, Any]]:
    return list(expr.to_pyarrow().to_pylist())


def person_election_detail(*, user: Any, person_id: int, warehouse: Warehouse | None = None) -> dict[str, Any] | None:
    """Registration, districts, polling place, vote history and ballot status of one person.

    None when the person does not exist *or* is outside the user's scope (same answer).
    """
    wh = warehouse or get_warehouse()
    people = _rows(person_base(user=user, warehouse=wh).filter(ibis._.person_id == person_id))
    if not people:
        return None
    person = people[0]
    link = wh.table("voter_person").filter(ibis._.person_id == person_id)
    ncids = [r["ncid"] for r in _rows(link)]
    voter = wh.table("voter")
    regs = _rows(
        voter.filter(voter.ncid.isin(ncids)).order_by(
            [ibis.desc("in_file"), ibis.desc("registr_dt"), "county_id"]
        )
    )
    current = regs[0] if regs else None
    polling = None
    if current and current.get("precinct_desc"):
        pp = wh.table("polling_place")
        key = " ".join(str(current["precinct_desc"]).upper().split())
        found = _rows(
            pp.filter(
                (pp.county_name == str(current["county_desc"] or "").upper()) & (pp.precinct_key == key)
            ).order_by(ibis.desc("election_date")).limit(1)
        )
        polling = found[0] if found else None
    vh = wh.table("vote_history")
    votes = _rows(vh.filter(vh.ncid.isin(ncids)).order_by(ibis.desc("election_date")))
    for v in votes:
        v["method_label"] = codes.METHOD_LABELS.get(v["method"], v["method"])
    part = _rows(wh.table("voter_participation").filter(ibis._.ncid.isin(ncids)).limit(1))
    bs = wh.table("ballot_status")
    ballots = _rows(bs.filter(bs.ncid.isin(ncids)).order_by(ibis.desc("election_dt")))
    for b in ballots:
        b["stage_label"] = codes.STAGE_LABELS.get(b["stage"], b["stage"])
    ev = wh.table("absentee_event")
    events = _rows(
        ev.filter(ev.ncid.isin(ncids))
        .order_by([ibis.desc("election_dt"), "event_date", "first_snapshot", "stage_rank", "event_id"])
        .select(
            "election_dt", "event_date", "ballot_type", "stage", "ballot_rtn_status", "ballot_req_dt",
            "ballot_send_dt", "ballot_rtn_dt", "site_name", "first_snapshot",
        )
    )
    for e in events:
        e["stage_label"] = codes.STAGE_LABELS.get(e["stage"], e["stage"])
    history = _rows(
        wh.table("voter_history").filter(ibis._.ncid.isin(ncids)).order_by(ibis.desc("valid_from"))
    )
    return {
        "person": person,
        "registration": current,
        "registrations": regs,
        "polling_place": polling,
        "votes": votes,
        "participation": part[0] if part else None,
        "ballots": ballots,
        "events": events,
        "registration_history": history,
    }


def ballot_elections(*, warehouse: Warehouse | None = None) -> list[dt.date]:
    """Elections with ballot data, newest first (no person rows)."""
    wh = warehouse or get_warehouse()
    bs = wh.table("ballot_status")
    rows = _rows(bs.select("election_dt").distinct().order_by(ibis.desc("election_dt")))
    return [r["election_dt"] for r in rows if r["election_dt"] is not None]


def early_vote_report(
    *, user: Any, election_dt: dt.date | None = None, warehouse: Warehouse | None = None
) -> dict[str, Any]:
    """Returns (ballots cast) by county, party, age group and day, for people in scope."""
    wh = warehouse or get_warehouse()
    elections = ballot_elections(warehouse=wh)
    if election_dt is None and elections:
        election_dt = elections[0]
    people = person_base(user=user, warehouse=wh).select("person_id")
    link = wh.table("voter_person")
    bs = wh.table("ballot_status")
    if election_dt is not None:
        bs = bs.filter(bs.election_dt == election_dt)
    else:
        bs = bs.filter(ibis.literal(False))
    scoped = (
        bs.join(link, bs.ncid == link.ncid)
        .join(people, link.person_id == people.person_id)
        .select(bs)
    )
    voted = scoped.filter(scoped.already_voted)
    total = _rows(
        scoped.aggregate(
            voted=scoped.already_voted.sum(),
            mail=(scoped.already_voted & (scoped.ballot_type == "mail")).sum(),
            early=(scoped.already_voted & (scoped.ballot_type == "early")).sum(),
            outstanding=scoped.requested_not_returned.sum(),
            needs_cure=scoped.needs_cure.sum(),
            people=scoped.count(),
        )
    )[0]

    def by(col: str) -> list[dict[str, Any]]:
        g = scoped.group_by(scoped[col].fill_null("unknown").name("key")).aggregate(
            voted=scoped.already_voted.sum(),
            mail=(scoped.already_voted & (scoped.ballot_type == "mail")).sum(),
            early=(scoped.already_voted & (scoped.ballot_type == "early")).sum(),
            outstanding=scoped.requested_not_returned.sum(),
            needs_cure=scoped.needs_cure.sum(),
        )
        return _rows(g.order_by([ibis.desc("voted"), "key"]))

    days = _rows(
        voted.group_by(day=voted.status_date)
        .aggregate(
            mail=(voted.ballot_type == "mail").sum(),
            early=(voted.ballot_type == "early").sum(),
        )
        .order_by("day")
    )
    running = 0
    for d in days:
        d["mail"] = int(d["mail"] or 0)
        d["early"] = int(d["early"] or 0)
        running += d["mail"] + d["early"]
        d["cumulative"] = running
    age_order = [label for label, _, _ in codes.AGE_GROUPS] + ["unknown"]
    ages = sorted(by("age_group"), key=lambda r: age_order.index(r["key"]) if r["key"] in age_order else 99)
    return {
        "election_dt": election_dt,
        "elections": elections,
        "total": {k: int(v or 0) for k, v in total.items()},
        "by_county": by("county_desc"),
        "by_party": by("party"),
        "by_age": ages,
        "by_day": days,
    }


def election_loads(*, limit: int = 50, warehouse: Warehouse | None = None) -> list[dict[str, Any]]:
    """The most recent election-file loads with their reconciliation (no person rows)."""
    wh = warehouse or get_warehouse()
    t = wh.table("election_load")
    return _rows(t.order_by(ibis.desc("load_id")).limit(limit))
