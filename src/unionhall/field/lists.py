"""List definitions: the filters of a universe, compiled to one scoped ibis expression.

A `ListDefinition` is plain data (saved as JSON with the list, so a list can be
refreshed later by its definition). `list_table(user=..., definition=...)` compiles it
over the user's scoped persons (`access.gateway.person_base`): filters on the person
row (geography, registration, party, age, participation, ballot, door) join the
scope's one row filter; filters on other person tables (member records, vote history,
contact history, survey answers) are semi-joins on rows read through the gateway too.
So a list never holds a person its user may not see, and a filter on a field the user
may not see matches nobody.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir

from unionhall.access.gateway import person_base, person_rows, run_cached, scope_signature
from unionhall.errors import UserError
from unionhall.warehouse import Warehouse

BALLOT_CHOICES = {
    "voted": "Already voted (early or by mail)",
    "not_voted": "Has not voted yet",
    "chase": "Requested a mail ballot, not returned (ballot chase)",
    "cure": "Ballot needs a cure",
}
CONTACTED_CHOICES = {"ever": "Contacted at least once", "never": "Never contacted"}


@dataclass(frozen=True)
class ListDefinition:
    """The filters of a list; every one optional, all of them must hold (AND); values
    inside one filter are alternatives (OR)."""

    # geography
    counties: tuple[str, ...] = ()
    precincts: tuple[str, ...] = ()  # "COUNTY|PRECINCT CODE"
    cong_dists: tuple[str, ...] = ()
    nc_senates: tuple[str, ...] = ()
    nc_houses: tuple[str, ...] = ()
    municipalities: tuple[str, ...] = ()
    zip5s: tuple[str, ...] = ()
    # union membership
    affiliates: tuple[str, ...] = ()  # member sources
    locals: tuple[str, ...] = ()  # "source:local"
    member_statuses: tuple[str, ...] = ()
    dues_statuses: tuple[str, ...] = ()
    worksites: tuple[str, ...] = ()
    # registration and demographics
    registered: bool | None = None
    reg_statuses: tuple[str, ...] = ()
    parties: tuple[str, ...] = ()
    sexes: tuple[str, ...] = ()
    age_min: int | None = None
    age_max: int | None = None
    # participation and this election
    generals_voted_min: int | None = None
    generals_voted_max: int | None = None
    vote_habits: tuple[str, ...] = ()
    first_time_voter: bool | None = None
    voted_in: tuple[str, ...] = ()  # election dates (ISO)
    not_voted_in: tuple[str, ...] = ()
    ballot: str | None = None  # BALLOT_CHOICES
    # contact history
    contacted: str | None = None  # CONTACTED_CHOICES
    contacted_since: str | None = None  # ISO date: contacted on or after
    not_contacted_since: str | None = None  # ISO date: no attempt on or after
    last_results: tuple[str, ...] = ()  # result codes of the latest attempt
    exclude_final: bool = False  # leave out people whose latest result says stop (moved, deceased...)
    survey: tuple[str, ...] = ()  # "question code=response code"
    activist_codes: tuple[str, ...] = ()
    # model scores (analytics): "slot:low-high" on the 0-100 scale, e.g. "turnout:40-70"
    scores: tuple[str, ...] = ()
    # reachability
    walkable_only: bool = False
    has_phone: bool | None = None
    has_email: bool | None = None

    def to_json(self) -> dict[str, Any]:
        """The filters that are set, as JSON (tuples as lists)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v not in (None, (), False):
                out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ListDefinition:
        """A definition from its JSON (unknown keys are an error: a saved list must mean
        what it meant when it was saved)."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise UserError(f"unknown list filters: {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for k, v in data.items():
            default = known[k].default
            values[k] = tuple(str(x) for x in v) if isinstance(default, tuple) else v
        d = cls(**values)
        d.check()
        return d

    def check(self) -> None:
        """Raise UserError naming the filter that is wrong and what to do."""
        if self.ballot is not None and self.ballot not in BALLOT_CHOICES:
            raise UserError(f"ballot filter {self.ballot!r}: choose one of {', '.join(BALLOT_CHOICES)}")
        if self.contacted is not None and self.contacted not in CONTACTED_CHOICES:
            raise UserError(f"contacted filter {self.contacted!r}: choose ever or never")
        for name in ("age_min", "age_max", "generals_voted_min", "generals_voted_max"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or v < 0 or v > 150):
                raise UserError(f"{name.replace('_', ' ')} must be a whole number from 0 to 150, not {v!r}")
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise UserError(f"age from {self.age_min} to {self.age_max}: the lower age is above the upper one")
        for name in ("contacted_since", "not_contacted_since", *[]):
            _date(name, getattr(self, name))
        for d in (*self.voted_in, *self.not_voted_in):
            _date("election", d)
        for p in self.precincts:
            if "|" not in p:
                raise UserError(f"precinct {p!r}: give it as COUNTY|CODE (precinct codes repeat across counties)")
        for s in self.survey:
            if "=" not in s:
                raise UserError(f"survey filter {s!r}: give it as question=response")
        for s in self.scores:
            score_range(s)

    def describe(self) -> list[str]:
        """One plain line per filter set (for the list page and reports)."""
        out = []
        for k, v in self.to_json().items():
            label = k.replace("_", " ")
            out.append(f"{label}: {', '.join(map(str, v)) if isinstance(v, list) else v}")
        return out


def _date(name: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{name.replace('_', ' ')} {value!r} is not a date: write it as YYYY-MM-DD") from None


def score_range(text: str) -> tuple[str, int, int]:
    """("turnout", 40, 70) from "turnout:40-70" (scores on the 0-100 scale, ends included)."""
    slot, _, rng = text.partition(":")
    low, _, high = rng.partition("-")
    try:
        lo, hi = int(low), int(high)
    except ValueError:
        lo, hi = -1, -1
    if not slot.strip() or not 0 <= lo <= hi <= 100:
        raise UserError(f"score filter {text!r}: give it as slot:low-high on the 0-100 scale, e.g. turnout:40-70")
    return slot.strip().lower(), lo, hi


def score_models(user: Any, d: ListDefinition) -> dict[str, int]:
    """slot -> the id of the active model whose scores the filter reads for this user."""
    if not d.scores:
        return {}
    from unionhall.analytics.services import slot_model

    return {slot: slot_model(user, slot).pk for slot, _, _ in map(score_range, d.scores)}


def _upper(values: tuple[str, ...]) -> list[str]:
    return [v.strip().upper() for v in values if v.strip()]


def _person_predicates(t: ir.Table, d: ListDefinition) -> list[ir.BooleanValue]:
    """Filters on the person row itself (they join the scope's row filter)."""
    p: list[ir.BooleanValue] = []
    if d.counties:
        p.append(t.county.upper().isin(_upper(d.counties)))
    if d.precincts:
        pairs = [tuple(x.upper().split("|", 1)) for x in d.precincts]
        p.append(ibis.or_(*[(t.county.upper() == c) & (t.precinct.upper() == code) for c, code in pairs]))
    for values, column in ((d.cong_dists, "cong_dist"), (d.nc_senates, "nc_senate"), (d.nc_houses, "nc_house"),
                           (d.municipalities, "municipality"), (d.reg_statuses, "reg_status"),
                           (d.parties, "party"), (d.sexes, "sex"), (d.vote_habits, "vote_habit")):
        if values:
            p.append(t[column].upper().isin(_upper(values)))
    if d.zip5s:
        p.append(t.zip5.isin([z.strip()[:5] for z in d.zip5s]))
    if d.affiliates:
        p.append(ibis.or_(*[t.member_sources.contains(a) for a in d.affiliates]))
    if d.locals:
        p.append(ibis.or_(*[t.member_locals.contains(x) for x in d.locals]))
    if d.registered is not None:
        p.append(t.voter_reg_num.notnull() if d.registered else t.voter_reg_num.isnull())
    if d.age_min is not None:
        p.append(t.age >= d.age_min)
    if d.age_max is not None:
        p.append(t.age <= d.age_max)
    if d.generals_voted_min is not None:
        p.append(t.generals_voted.fill_null(0) >= d.generals_voted_min)
    if d.generals_voted_max is not None:
        p.append(t.generals_voted.fill_null(0) <= d.generals_voted_max)
    if d.first_time_voter is not None:
        p.append(t.first_time_voter.fill_null(False) == d.first_time_voter)
    if d.ballot == "voted":
        p.append(t.already_voted.fill_null(False))
    elif d.ballot == "not_voted":
        p.append(~t.already_voted.fill_null(False))
    elif d.ballot == "chase":
        p.append(t.ballot_chase.fill_null(False))
    elif d.ballot == "cure":
        p.append(t.needs_cure.fill_null(False))
    if d.walkable_only:
        p.append(t.walkable.fill_null(False))
    if d.has_phone is not None:
        p.append(t.phone.notnull() if d.has_phone else t.phone.isnull())
    if d.has_email is not None:
        p.append(t.email.notnull() if d.has_email else t.email.isnull())
    return p


def _semi_joins(t: ir.Table, d: ListDefinition, user: Any, wh: Warehouse | None) -> ir.Table:
    """Filters on other person tables, each read through the gateway."""
    if d.member_statuses or d.dues_statuses or d.worksites:
        m = person_rows(user=user, table="member_record", warehouse=wh)
        m = m.filter(m.status == "active")
        for values, column in ((d.member_statuses, "member_status"), (d.dues_statuses, "dues_status"),
                               (d.worksites, "worksite")):
            if values:
                m = m.filter(m[column].upper().isin(_upper(values)))
        t = t.filter(t.person_id.isin(m.person_id))
    if d.voted_in or d.not_voted_in:
        vh = person_rows(user=user, table="vote_history", warehouse=wh)
        for day in d.voted_in:
            t = t.filter(t.person_id.isin(vh.filter(vh.election_date == _date("election", day)).person_id))
        for day in d.not_voted_in:
            t = t.filter(~t.person_id.isin(vh.filter(vh.election_date == _date("election", day)).person_id))
    if d.contacted or d.contacted_since or d.not_contacted_since or d.last_results or d.exclude_final:
        ch = person_rows(user=user, table="contact_history", warehouse=wh)
        if d.contacted == "ever":
            t = t.filter(t.person_id.isin(ch.filter(ch.contacted).person_id))
        elif d.contacted == "never":
            t = t.filter(~t.person_id.isin(ch.filter(ch.contacted).person_id))
        since = _date("contacted_since", d.contacted_since)
        if since is not None:
            t = t.filter(t.person_id.isin(ch.filter(ch.contacted & (ch.contacted_at >= since)).person_id))
        quiet = _date("not_contacted_since", d.not_contacted_since)
        if quiet is not None:
            t = t.filter(~t.person_id.isin(ch.filter(ch.contacted_at >= quiet).person_id))
        if d.last_results or d.exclude_final:
            latest = ch.mutate(k=ibis.row_number().over(group_by=ch.person_id,
                                                          order_by=[ibis.desc(ch.contacted_at), ibis.desc(ch.entered_at)]))
            latest = latest.filter(latest.k == 0)
            if d.last_results:
                t = t.filter(t.person_id.isin(latest.filter(latest.result_code.isin(_upper(d.last_results))).person_id))
            if d.exclude_final:
                from unionhall.field.models import ResultCode

                final = sorted(ResultCode.objects.filter(final=True).values_list("code", flat=True))
                t = t.filter(~t.person_id.isin(latest.filter(latest.result_code.isin(final)).person_id))
    if d.survey:
        r = person_rows(user=user, table="contact_response", warehouse=wh)
        for pair in d.survey:
            q, _, a = pair.partition("=")
            t = t.filter(t.person_id.isin(
                r.filter((r.question_code == q.strip()) & (r.response_code == a.strip())).person_id))
    if d.scores:
        models = score_models(user, d)
        sc = person_rows(user=user, table="person_score", warehouse=wh)
        for slot, lo, hi in map(score_range, d.scores):
            # Scores are kept to full precision; the filter's ends are on the 0-100 scale.
            band = sc.filter((sc.model_id == models[slot]) & (sc.score * 100 >= lo) & (sc.score * 100 <= hi))
            t = t.filter(t.person_id.isin(band.person_id))
    if d.activist_codes:
        ch = person_rows(user=user, table="contact_history", warehouse=wh)
        tagged = ch.filter(ibis.or_(*[ch.activist_codes.contains(a) for a in d.activist_codes]))
        t = t.filter(t.person_id.isin(tagged.person_id))
    return t


def list_table(*, user: Any, definition: ListDefinition, warehouse: Warehouse | None = None) -> ir.Table:
    """The persons of a list definition within the user's scope (masked like every
    scoped read)."""
    t = person_base(user=user, warehouse=warehouse)
    preds = _person_predicates(t, definition)
    if preds:
        t = t.filter(*preds)
    return _semi_joins(t, definition, user, warehouse)


@dataclass(frozen=True)
class ListCounts:
    people: int
    households: int
    doors: int
    with_phone: int = 0
    notes: list[str] = field(default_factory=list)


def _counts_expr(t: ir.Table) -> ir.Table:
    return t.aggregate(
        people=t.count(),
        households=t.door_key.nunique(),
        doors=t.door_key.nunique(where=t.walkable.fill_null(False)),
        with_phone=t.phone.count(),
    )


def _counts(row: Any) -> ListCounts:
    people, households, doors, with_phone = (int(x or 0) for x in row)
    return ListCounts(people=people, households=households, doors=doors, with_phone=with_phone)


def counts_of(t: ir.Table) -> ListCounts:
    """People, households (distinct addresses) and doors (walkable addresses) of a
    list expression, in one aggregate."""
    row = _counts_expr(t).to_pyarrow().to_pylist()[0]
    return _counts((row["people"], row["households"], row["doors"], row["with_phone"]))


def list_counts(*, user: Any, definition: ListDefinition, warehouse: Warehouse | None = None) -> ListCounts:
    """The instant counts of the list builder: people, households, doors. The query is
    compiled once per scope and definition (`gateway.run_cached`): the builder asks for
    the same counts again and again as an organizer clicks."""
    final: tuple[str, ...] = ()
    if definition.exclude_final:
        from unionhall.field.models import ResultCode

        final = tuple(sorted(ResultCode.objects.filter(final=True).values_list("code", flat=True)))
    key = ("list_counts", scope_signature(user=user, warehouse=warehouse),
           json.dumps(definition.to_json(), sort_keys=True), final,
           tuple(sorted(score_models(user, definition).items())))
    rows = run_cached(key=key, warehouse=warehouse, build=lambda: _counts_expr(
        list_table(user=user, definition=definition, warehouse=warehouse)))
    return _counts(rows[0])
