"""Features of targeting models, as of a cut-off day, read through the gateway.

A turnout model is trained on one election and judged on a later one; for both, and for
scoring, the features must describe a person *as of the day before* the election they
predict: vote history strictly before the cut-off, age at the cut-off, years registered.
`feature_frame` builds that table in one query over the user's scoped persons (only
registered voters: a model of voting needs a registration), so a model never sees what
its user may not, nor anything that happened after its cut-off.

Current registration status is left out on purpose: a registration turns inactive
*because* its voter stopped voting, so today's status leaks the outcome of a past
election into a back-test.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
from django.utils import timezone

from unionhall.access.gateway import person_base, person_rows
from unionhall.elections.codes import EARLY, MAIL
from unionhall.errors import UserError
from unionhall.warehouse import Warehouse
from unionhall.warehouse.backends import flag

GENERALS_BACK = 4  # the last four generals before the cut-off, one feature each
PRIMARIES_BACK = 3
CATEGORICAL = ("party", "sex", "county")


@dataclass(frozen=True)
class ElectionDay:
    date: dt.date
    general: bool


def elections_known(*, user: Any, warehouse: Warehouse | None = None) -> list[ElectionDay]:
    """The elections in the vote history the user can see, oldest first (a November
    election is a general)."""
    vh = person_rows(user=user, table="vote_history", warehouse=warehouse)
    days = vh.select("election_date").distinct().order_by("election_date").to_pyarrow().column(0).to_pylist()
    return [ElectionDay(d, d.month == 11) for d in days if d is not None]


def generals_before(elections: list[ElectionDay], cutoff: dt.date) -> list[dt.date]:
    return [e.date for e in elections if e.general and e.date < cutoff]


@dataclass
class Features:
    """A feature matrix: one row per person, numeric columns (categoricals as codes)."""

    person_id: np.ndarray
    names: list[str]
    X: np.ndarray
    categorical: list[str]
    categories: dict[str, list[str]]
    registered_on: np.ndarray  # days since epoch (NaN unknown): who could vote when

    def eligible(self, day: dt.date) -> np.ndarray:
        """Registered at least 25 days before `day` (NC's registration deadline) —
        unknown registration dates count as eligible."""
        limit = (day - dt.date(1970, 1, 1)).days - 25
        return np.isnan(self.registered_on) | (self.registered_on <= limit)


def feature_frame(*, user: Any, cutoff: dt.date, elections: list[ElectionDay], warehouse: Warehouse | None = None,
                  categories: dict[str, list[str]] | None = None, today: dt.date | None = None) -> Features:
    """Features of every registered voter in the user's scope as of `cutoff`.

    `categories` fixes the codes of the categorical columns (a model scores with the
    codes it was trained with; a value it never saw is coded as missing).
    """
    today = today or timezone.localdate()
    past = [e for e in elections if e.date < cutoff]
    generals = [e.date for e in past if e.general][-GENERALS_BACK:][::-1]
    primaries = [e.date for e in past if not e.general][-PRIMARIES_BACK:][::-1]
    if not generals:
        raise UserError(f"no general election before {cutoff} in the vote history you can see: a turnout "
                        "model needs at least one past general (load vote history first)")
    p = person_base(user=user, warehouse=warehouse)
    p = p.filter(p.voter_reg_num.notnull())
    voter = person_rows(user=user, table="voter", warehouse=warehouse)
    reg = voter.group_by("person_id").agg(registered_on=voter.registr_dt.min())
    vh = person_rows(user=user, table="vote_history", warehouse=warehouse)
    vh = vh.filter(vh.election_date < cutoff)
    aggs: dict[str, Any] = {}
    for i, d in enumerate(generals):
        aggs[f"general_{i + 1}_back"] = flag((vh.election_date == d).any())
    for i, d in enumerate(primaries):
        aggs[f"primary_{i + 1}_back"] = flag((vh.election_date == d).any())
    aggs["votes_before"] = vh.election_date.nunique()
    aggs["early_votes"] = vh.election_date.nunique(where=vh.method == EARLY)
    aggs["mail_votes"] = vh.election_date.nunique(where=vh.method == MAIL)
    aggs["last_vote"] = vh.election_date.max()
    hist = vh.group_by("person_id").agg(**aggs)
    years_back = (today - cutoff).days / 365.2425
    t = p.select(
        "person_id",
        age_then=(p.age.cast("float64") - ibis.literal(years_back, "float64")).round(0),
        party=p.party,
        sex=p.sex,
        county=p.county,
        member=flag(p.member_sources.length().fill_null(0) > 0),
    )
    t = t.left_join(reg, "person_id").drop("person_id_right")
    t = t.left_join(hist, "person_id").drop("person_id_right")
    at = t.order_by("person_id").to_pyarrow()
    n = at.num_rows
    cols: dict[str, np.ndarray] = {}

    def num(name: str) -> np.ndarray:
        return np.asarray(at.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)

    cols["age"] = num("age_then")
    cols["member"] = num("member")
    history_names = [k for k in aggs if k != "last_vote"]
    for k in history_names:
        v = num(k)
        cols[k] = np.nan_to_num(v, nan=0.0)
    for i in range(len(generals), GENERALS_BACK):  # too short a history: the feature is unknown
        cols[f"general_{i + 1}_back"] = np.full(n, np.nan)
    for i in range(len(primaries), PRIMARIES_BACK):
        cols[f"primary_{i + 1}_back"] = np.full(n, np.nan)
    cutoff_days = (cutoff - dt.date(1970, 1, 1)).days
    registered = _days(at.column("registered_on"))
    cols["years_registered"] = np.where(np.isnan(registered), np.nan, (cutoff_days - registered) / 365.2425)
    last = _days(at.column("last_vote"))
    cols["years_since_last_vote"] = np.where(np.isnan(last), np.nan, (cutoff_days - last) / 365.2425)
    cats = dict(categories or {})
    for c in CATEGORICAL:
        values = [v if v is not None else "" for v in at.column(c).to_pylist()]
        if c not in cats:
            cats[c] = sorted({v for v in values if v})
        index = {v: i for i, v in enumerate(cats[c])}
        cols[c] = np.array([index.get(v, np.nan) for v in values], dtype=np.float64)
    names = ["age", "member", *sorted(k for k in cols if k.startswith("general_")),
             *sorted(k for k in cols if k.startswith("primary_")), "votes_before", "early_votes", "mail_votes",
             "years_registered", "years_since_last_vote", *CATEGORICAL]
    X = np.column_stack([cols[k] for k in names]) if n else np.zeros((0, len(names)))
    return Features(person_id=np.asarray(at.column("person_id").to_numpy(), dtype=np.int64), names=names, X=X,
                    categorical=list(CATEGORICAL), categories=cats, registered_on=registered)


def _days(col: pa.ChunkedArray) -> np.ndarray:
    """A date column as days since 1970-01-01 (NaN for null)."""
    arr = col.cast(pa.date32()).cast(pa.int32())
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)


def voted_in(*, user: Any, day: dt.date, person_id: np.ndarray, warehouse: Warehouse | None = None) -> np.ndarray:
    """1 where the person voted in the election of `day`, else 0 (aligned to person_id)."""
    vh = person_rows(user=user, table="vote_history", warehouse=warehouse)
    ids = vh.filter(vh.election_date == day).select("person_id").distinct().to_pyarrow().column(0)
    voted = np.asarray(ids.to_numpy(), dtype=np.int64)
    return np.isin(person_id, voted).astype(np.int8)


def survey_label(*, user: Any, question: str, response: str, person_id: np.ndarray,
                 warehouse: Warehouse | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(answered, positive) aligned to person_id: whether the person answered `question`
    (latest answer) and whether that answer was `response`."""
    r = person_rows(user=user, table="contact_response", warehouse=warehouse)
    r = r.filter(r.question_code == question)
    r = r.mutate(k=ibis.row_number().over(group_by=r.person_id, order_by=ibis.desc(r.contacted_at)))
    latest = r.filter(r.k == 0).select("person_id", yes=flag(r.response_code == response)).to_pyarrow()
    ids = np.asarray(latest.column("person_id").to_numpy(), dtype=np.int64)
    yes = np.asarray(latest.column("yes").to_numpy(), dtype=np.int8)
    order = np.argsort(ids)
    ids, yes = ids[order], yes[order]
    pos = np.searchsorted(ids, person_id)
    pos_c = np.clip(pos, 0, max(len(ids) - 1, 0))
    answered = (len(ids) > 0) & (ids[pos_c] == person_id) if len(ids) else np.zeros(len(person_id), dtype=bool)
    positive = np.where(answered, yes[pos_c] if len(ids) else 0, 0).astype(np.int8)
    return np.asarray(answered, dtype=bool), positive
