"""Reads of election data for pages. Person-level reads go through the gateway
(`person_base`, `person_rows`) and are written to the usage log here."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis

from unionhall.access.gateway import person_base, person_rows
from unionhall.access.services import usage_record
from unionhall.elections import codes
from unionhall.warehouse import Warehouse, get_warehouse


def _rows(expr: ibis.Table) -> list[dict[str, Any]]:
    return list(expr.to_pyarrow().to_pylist())


def person_election_detail(*, user: Any, person_id: int, warehouse: Warehouse | None = None) -> dict[str, Any] | None:
    """Registration, districts, polling place, vote history and ballot status of one
    person, every row through the gateway (the person's fields masked as their scope
    says, on the registration and ballot rows too). Logged as a person view.

    None when the person does not exist *or* is outside the user's scope (same answer).
    """
    wh = warehouse or get_warehouse()

    def rows_of(table: str) -> ibis.Table:
        t = person_rows(user=user, table=table, warehouse=wh)
        return t.filter(t.person_id == person_id)

    people = _rows(person_base(user=user, warehouse=wh).filter(ibis._.person_id == person_id))
    if not people:
        return None
    person = people[0]
    regs = _rows(rows_of("voter").order_by([ibis.desc("in_file"), ibis.desc("registr_dt"), "county_id"]))
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
    votes = _rows(rows_of("vote_history").order_by(ibis.desc("election_date")))
    for v in votes:
        v["method_label"] = codes.METHOD_LABELS.get(v["method"], v["method"])
    part = _rows(rows_of("voter_participation").limit(1))
    ballots = _rows(rows_of("ballot_status").order_by(ibis.desc("election_dt")))
    for b in ballots:
        b["stage_label"] = codes.STAGE_LABELS.get(b["stage"], b["stage"])
    events = _rows(
        rows_of("absentee_event")
        .order_by([ibis.desc("election_dt"), "event_date", "first_snapshot", "stage_rank", "event_id"])
        .select(
            "election_dt", "event_date", "ballot_type", "stage", "ballot_rtn_status", "ballot_req_dt",
            "ballot_send_dt", "ballot_rtn_dt", "site_name", "first_snapshot",
        )
    )
    for e in events:
        e["stage_label"] = codes.STAGE_LABELS.get(e["stage"], e["stage"])
    history = _rows(rows_of("voter_history").order_by(ibis.desc("valid_from")))
    usage_record(user=user, action="person_view", persons=1,
                 detail={"person_id": person["person_id"], "page": "election detail"})
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


def ballot_elections(*, user: Any, warehouse: Warehouse | None = None) -> list[dt.date]:
    """Elections with ballot data for people in the user's scope, newest first."""
    bs = person_rows(user=user, table="ballot_status", warehouse=warehouse)
    rows = _rows(bs.select("election_dt").distinct().order_by(ibis.desc("election_dt")))
    return [r["election_dt"] for r in rows if r["election_dt"] is not None]


def early_vote_report(
    *, user: Any, election_dt: dt.date | None = None, warehouse: Warehouse | None = None
) -> dict[str, Any]:
    """Returns (ballots cast) by county, party, age group and day, for people in scope."""
    wh = warehouse or get_warehouse()
    elections = ballot_elections(user=user, warehouse=wh)
    if election_dt is None and elections:
        election_dt = elections[0]
    bs = person_rows(user=user, table="ballot_status", warehouse=wh)
    scoped = bs.filter(bs.election_dt == election_dt) if election_dt is not None else bs.filter(ibis.literal(False))
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
    usage_record(user=user, action="search", persons=0,
                 detail={"report": "early vote", "election": str(election_dt) if election_dt else None})
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
