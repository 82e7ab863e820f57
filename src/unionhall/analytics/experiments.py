"""Field experiments: design (random assignment of a saved list, balance, power) and
analysis (ITT and CACE with household-clustered standard errors).

`experiment_create` reads the persons of a saved list through the gateway as the
analyst, assigns them (`analytics.assign`: blocks, households kept whole), writes the
assignment to the warehouse and keeps the design (arms, shares, seed, counts, balance
table, minimum detectable effects) in `Experiment.design`; `experiment_analyze` reads
the assignment, the outcome (a vote in an election, or a survey answer) and who was
contacted, again through the gateway as the user, and estimates (`analytics.estimate`).
Every read of person rows is the user's: an analyst whose scope shows only part of a
list designs and analyzes that part.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import polars as pl
from django.db import transaction
from django.utils import timezone

from unionhall.access.gateway import person_rows
from unionhall.access.services import usage_record
from unionhall.analytics import estimate
from unionhall.analytics.assign import assign, balance_table
from unionhall.analytics.experiments_store import experiment_units_write, household_numbers
from unionhall.analytics.models import Experiment
from unionhall.analytics.power import mde
from unionhall.analytics.selectors import analytics_committees
from unionhall.errors import UserError
from unionhall.field.models import SavedList
from unionhall.field.selectors import saved_list_persons, saved_lists_visible
from unionhall.warehouse import Warehouse, get_warehouse

CONTROL = "control"
# Person columns an experiment may be blocked on (each is the same for everyone at
# one door, except party and sex: a household's block is then its first member's).
BLOCK_COLUMNS = ("county", "precinct", "cong_dist", "nc_senate", "nc_house", "municipality", "party",
                 "vote_habit", "sex")
BALANCE = ("age", "generals_voted", "votes_total", "party_dem", "party_rep", "party_una")
MIN_UNITS_PER_ARM = 5
# Assumed intra-household correlation of turnout for the design's MDE when households
# are assigned whole (spouses vote together far more often than chance); shown with it.
HOUSEHOLD_ICC = 0.5
ASSUMED_CONTACT_RATE = 0.25
_ARM = re.compile(r"^[a-z][a-z0-9_-]{0,29}$")
_OUTCOME = re.compile(r"^(?:voted:(?P<date>\d{4}-\d{2}-\d{2})|survey:(?P<q>[^=]+)=(?P<r>.+))$")


# -- reads --------------------------------------------------------------------------------


def experiments_visible(user: Any) -> Any:
    """Experiments of the committees where the user does analytics."""
    return Experiment.objects.filter(committee__in=analytics_committees(user)).select_related(
        "committee", "saved_list", "created_by")


def experiment_get(*, user: Any, pk: int) -> Experiment:
    """One experiment the user may see; UserError alike for one that does not exist."""
    found = experiments_visible(user).filter(pk=pk).first()
    if found is None:
        raise UserError(f"no experiment {pk} among your committees' experiments: check the number")
    return found


# -- design -------------------------------------------------------------------------------


def _arms_and_shares(arms: Sequence[str], shares: Sequence[float] | None) -> tuple[list[str], list[float]]:
    names = [a.strip().lower() for a in arms if a.strip()]
    if len(names) < 2:
        raise UserError("give two or more arms, e.g. control,door")
    bad = [a for a in names if not _ARM.match(a)]
    if bad:
        raise UserError(f"arm name {bad[0]!r}: use letters, digits, - or _ (up to 30), starting with a letter")
    if len(set(names)) != len(names):
        raise UserError(f"arms {', '.join(names)}: each arm once")
    if CONTROL not in names:
        raise UserError(f"name one arm {CONTROL!r}: the other arms are compared with it")
    names = [CONTROL, *[a for a in names if a != CONTROL]] if names[0] != CONTROL else names
    if shares is None or len(shares) == 0:
        return names, [1 / len(names)] * len(names)
    values = [float(s) for s in shares]
    if len(values) != len(arms):
        raise UserError(f"{len(values)} shares for {len(arms)} arms: give one share per arm, in the same order")
    by_arm = dict(zip([a.strip().lower() for a in arms if a.strip()], values, strict=True))
    values = [by_arm[a] for a in names]
    if any(not np.isfinite(v) or v <= 0 for v in values):
        raise UserError(f"shares {', '.join(map(str, by_arm.values()))}: every share must be above 0")
    if abs(sum(values) - 1) > 1e-6:
        raise UserError(f"shares add up to {sum(values):g}: they must add up to 1 (e.g. 0.5,0.5)")
    return names, [v / sum(values) for v in values]


def _units_frame(user: Any, saved_list: SavedList, block_by: str | None, wh: Warehouse) -> pl.DataFrame:
    t = saved_list_persons(user=user, saved_list=saved_list, version=saved_list.version, warehouse=wh)
    cols = ["person_id", "age", "generals_voted", "generals_considered", "votes_total", "party",
            *([block_by] if block_by else [])]
    df = pl.from_arrow(t.select(*dict.fromkeys(cols)).to_pyarrow())
    assert isinstance(df, pl.DataFrame)
    homes = pl.from_arrow(household_numbers(wh, person_ids=df.get_column("person_id").to_arrow()))
    assert isinstance(homes, pl.DataFrame)
    df = df.join(homes.with_columns(pl.col("person_id").cast(df.schema["person_id"])), on="person_id", how="left")
    return df.with_columns(
        (pl.col("party") == "DEM").cast(pl.Float64).alias("party_dem"),
        (pl.col("party") == "REP").cast(pl.Float64).alias("party_rep"),
        (pl.col("party") == "UNA").cast(pl.Float64).alias("party_una"),
    )


def _base_rate(units: pl.DataFrame) -> float:
    """The list's turnout in past general elections (voted over considered), kept off
    0 and 1 so a power calculation stays meaningful; 0.5 when nobody has a history."""
    voted = float(units.get_column("generals_voted").cast(pl.Float64).fill_null(0).sum())
    considered = float(units.get_column("generals_considered").cast(pl.Float64).fill_null(0).sum())
    rate = voted / considered if considered else 0.5
    return float(min(max(rate, 0.02), 0.98))


@dataclass(frozen=True)
class _Design:
    assigned: pl.DataFrame
    design: dict[str, Any]


def _design(units: pl.DataFrame, *, arms: list[str], shares: list[float], block_by: str | None,
            cluster_households: bool, seed: int) -> _Design:
    # A person with no door (no usable address) is a household of their own.
    units = units.with_columns(
        pl.when(pl.col("household").is_not_null()).then(pl.lit("h:") + pl.col("household").cast(pl.Utf8))
        .otherwise(pl.lit("p:") + pl.col("person_id").cast(pl.Utf8)).alias("_cluster"))
    if block_by:
        units = units.with_columns(pl.col(block_by).cast(pl.Utf8).fill_null("(none)").alias("_block"))
        if cluster_households:  # the whole door in its first member's block
            first = units.sort("person_id").group_by("_cluster").agg(pl.col("_block").first().alias("_hb"))
            units = units.join(first, on="_cluster", how="left").with_columns(pl.col("_hb").alias("_block")).drop("_hb")
    else:
        units = units.with_columns(pl.lit(None, pl.Utf8).alias("_block"))
    n_units = units.get_column("_cluster").n_unique() if cluster_households else units.height
    what = "households" if cluster_households else "persons"
    smallest = min(shares) * n_units
    if smallest < MIN_UNITS_PER_ARM:
        raise UserError(
            f"the list has {units.height} persons ({n_units} {what} to assign): its smallest arm would get "
            f"{smallest:.0f}, fewer than {MIN_UNITS_PER_ARM}; use a bigger list, fewer arms or larger shares")
    out = assign(units, arms=arms, shares=shares, block=["_block"] if block_by else [],
                 cluster="_cluster" if cluster_households else None, seed=seed)
    counts: list[dict[str, Any]] = []
    for a in arms:
        part = out.filter(pl.col("arm") == a)
        counts.append({"arm": a, "persons": part.height, "households": part.get_column("_cluster").n_unique()})
    bal = balance_table(out, list(BALANCE), reference=CONTROL)
    balance = [{"covariate": r["covariate"], "means": [r[f"mean {a}"] for a in arms],
                "std_diffs": [r[f"std diff {a}"] for a in arms[1:]]} for r in bal.to_dicts()]
    base = _base_rate(units)
    households = units.get_column("_cluster").n_unique()
    m = units.height / households if households else 1.0
    control_n = int(counts[0]["persons"])
    mdes = []
    for c in counts[1:]:
        if c["persons"] < 2 or control_n < 2:
            continue
        r = mde(int(c["persons"]), control_n, base, icc=HOUSEHOLD_ICC if cluster_households else 0.0,
                mean_cluster_size=m if cluster_households else 1.0, contact_rate=ASSUMED_CONTACT_RATE)
        mdes.append({"arm": c["arm"], "itt": r.itt, "cace": r.cace, "se": r.se, "design_effect": r.design_effect})
    design = {
        "arms": arms, "shares": shares, "seed": seed, "block_by": block_by, "cluster_households": cluster_households,
        "persons": units.height, "households": households,
        "blocks": units.get_column("_block").n_unique() if block_by else 1,
        "counts": counts, "balance": balance, "balance_covariates": list(BALANCE),
        "power": {"base_rate": base, "alpha": 0.05, "power": 0.8, "mean_household_size": m,
                  "icc": HOUSEHOLD_ICC if cluster_households else 0.0, "contact_rate": ASSUMED_CONTACT_RATE,
                  "mde": mdes},
    }
    return _Design(out, design)


@transaction.atomic
def experiment_create(*, user: Any, saved_list: SavedList, name: str, arms: Sequence[str],
                      shares: Sequence[float] | None = None, block_by: str | None = None,
                      cluster_households: bool = True, seed: int | None = None,
                      warehouse: Warehouse | None = None) -> Experiment:
    """Randomize the persons of `saved_list`'s current version that the user sees into
    `arms` by `shares` (equal when not given), within blocks of `block_by` (a person
    column, BLOCK_COLUMNS), whole households together when `cluster_households`,
    reproducibly from `seed` (drawn and kept when not given). The assignment is written
    to the warehouse with the experiment, or neither is."""
    name = name.strip()
    if not name:
        raise UserError("give the experiment a name")
    if not saved_lists_visible(user).filter(pk=saved_list.pk).exists():
        raise UserError(f"you cannot see the list {saved_list.name!r}")
    if saved_list.committee not in analytics_committees(user):
        raise UserError(f"you do not do analytics for {saved_list.committee.name}, whose list this is")
    names, weights = _arms_and_shares(arms, shares)
    block_by = (block_by or "").strip() or None
    if block_by is not None and block_by not in BLOCK_COLUMNS:
        raise UserError(f"cannot block by {block_by!r}: choose one of {', '.join(BLOCK_COLUMNS)}, or none")
    if seed is None:
        seed = secrets.randbelow(2**31)
    if not 0 <= seed < 2**63:
        raise UserError(f"seed {seed} must be a whole number from 0")
    wh = warehouse or get_warehouse()
    units = _units_frame(user, saved_list, block_by, wh)
    if units.is_empty():
        raise UserError(f"you see nobody on the list {saved_list.name!r} (version {saved_list.version})")
    made = _design(units, arms=names, shares=weights, block_by=block_by, cluster_households=cluster_households,
                   seed=seed)
    exp = Experiment.objects.create(name=name[:200], committee=saved_list.committee, saved_list=saved_list,
                                    list_version=saved_list.version, created_by=user,
                                    design={**made.design, "list": saved_list.name})
    rows = made.assigned.select(
        pl.col("person_id").cast(pl.Int64), "arm", pl.col("_block").alias("block"),
        (pl.col("_cluster") if cluster_households else pl.lit(None, pl.Utf8)).alias("cluster")).to_arrow()
    with wh.transaction():
        written = experiment_units_write(wh, experiment_id=exp.pk, rows=rows)
    usage_record(user=user, action="experiment", persons=written, committee=saved_list.committee,
                 detail={"experiment": exp.pk, "step": "design", "list": saved_list.pk,
                         "version": saved_list.version})
    return exp


# -- analysis -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What is measured: a vote in an election, or giving an answer to a survey question."""

    kind: str  # "voted" | "survey"
    election: dt.date | None = None
    question: str | None = None
    response: str | None = None

    @classmethod
    def parse(cls, text: str) -> Outcome:
        m = _OUTCOME.match(text.strip())
        if m is None:
            raise UserError(f"outcome {text!r}: write voted:YYYY-MM-DD (an election) or survey:QUESTION=RESPONSE")
        if m.group("date"):
            try:
                return cls("voted", election=dt.date.fromisoformat(m.group("date")))
            except ValueError:
                raise UserError(f"outcome {text!r}: {m.group('date')} is not a date (YYYY-MM-DD)") from None
        return cls("survey", question=m.group("q").strip(), response=m.group("r").strip())

    def __str__(self) -> str:
        return f"voted:{self.election}" if self.kind == "voted" else f"survey:{self.question}={self.response}"


def _naive_utc(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC).replace(tzinfo=None) if timezone.is_aware(at) else at


def _window(experiment: Experiment, since: dt.date | None, until: dt.date | None) -> tuple[dt.datetime, dt.datetime | None]:
    start = (dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC) if since is not None else experiment.created_at)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC) if until is not None else None
    if end is not None and end <= start:
        raise UserError(f"the contact window ends ({until}) before it starts ({since or experiment.created_at:%Y-%m-%d})")
    return _naive_utc(start), None if end is None else _naive_utc(end)


def _in_window(t: ir.Table, start: dt.datetime, end: dt.datetime | None) -> ir.BooleanValue:
    pred = t.contacted_at >= ibis.literal(start)
    return pred if end is None else pred & (t.contacted_at < ibis.literal(end))


def analysis_frame(*, user: Any, experiment: Experiment, outcome: Outcome, since: dt.date | None = None,
                   until: dt.date | None = None, warehouse: Warehouse | None = None) -> pl.DataFrame:
    """The experiment's persons the user sees: person_id, arm, block, cluster (the
    household, or the person where persons were assigned one by one), y (the outcome,
    0/1) and contacted (any contact that counts as a conversation in the window: from
    the experiment's creation, or `since`, to `until` inclusive)."""
    wh = warehouse or get_warehouse()
    start, end = _window(experiment, since, until)
    units = person_rows(user=user, table="experiment_unit", warehouse=wh)
    units = units.filter(units.experiment_id == experiment.pk)
    if outcome.kind == "voted":
        vh = person_rows(user=user, table="vote_history", warehouse=wh)
        hits = vh.filter(vh.election_date == ibis.literal(outcome.election))
        if hits.limit(1).count().execute() == 0:
            raise UserError(f"no vote history for the election of {outcome.election} among the persons you see: "
                            "load that election's history first, or check the date")
    else:
        cr = person_rows(user=user, table="contact_response", warehouse=wh)
        asked = cr.filter((cr.question_code == outcome.question) & _in_window(cr, start, end))
        if asked.limit(1).count().execute() == 0:
            raise UserError(f"nobody you see answered the question {outcome.question!r} in the window: "
                            "check the question's code and the dates")
        hits = asked.filter(asked.response_code == outcome.response)
    ch = person_rows(user=user, table="contact_history", warehouse=wh)
    contacts = ch.filter(ch.contacted & _in_window(ch, start, end))
    expr = units.select(
        "person_id", "arm", "block", "cluster",
        y=units.person_id.isin(hits.person_id), contacted=units.person_id.isin(contacts.person_id))
    df = pl.from_arrow(expr.to_pyarrow())
    assert isinstance(df, pl.DataFrame)
    return df.with_columns(
        pl.coalesce(pl.col("cluster"), pl.lit("p:") + pl.col("person_id").cast(pl.Utf8)).alias("cluster"),
        pl.col("y").cast(pl.Float64), pl.col("contacted").fill_null(False),
    ).sort("person_id")


def analysis_of(frame: pl.DataFrame, *, block_effects: bool = False) -> dict[str, Any]:
    """ITT of every arm, CACE of every arm with a contact, compliance: the estimators
    (`analytics.estimate`) on an analysis frame."""
    try:
        itt = estimate.itt(frame, control=CONTROL, block_effects=block_effects)
    except ValueError as exc:
        raise UserError(f"cannot estimate the effects: {exc}") from None
    cace: list[dict[str, Any]] = []
    notes = []
    for e in itt:
        arm_frame = frame.filter(pl.col("arm").is_in([CONTROL, e.arm]))
        if not arm_frame.filter(pl.col("arm") == e.arm).get_column("contacted").any():
            notes.append(f"nobody in {e.arm} was contacted in the window: no CACE for it")
            continue
        try:
            (c,) = estimate.cace(arm_frame, control=CONTROL, block_effects=block_effects)
        except ValueError as exc:
            notes.append(f"no CACE for {e.arm}: {exc}")
            continue
        cace.append(c.as_dict())
    comp = estimate.compliance(frame)
    order = {a: i for i, a in enumerate([CONTROL, *[e.arm for e in itt]])}
    comp.sort(key=lambda r: order.get(r["arm"], len(order)))
    return {"n": frame.height, "clusters": frame.get_column("cluster").n_unique(),
            "itt": [e.as_dict() for e in itt], "cace": cace, "compliance": comp, "notes": notes,
            "block_effects": block_effects}


@transaction.atomic
def experiment_analyze(*, user: Any, experiment: Experiment, outcome: str, since: dt.date | None = None,
                       until: dt.date | None = None, block_effects: bool = False,
                       warehouse: Warehouse | None = None) -> dict[str, Any]:
    """Estimate the experiment's effects on `outcome` (voted:YYYY-MM-DD or
    survey:QUESTION=RESPONSE) over the persons the user sees; kept as the experiment's
    latest results."""
    if experiment.committee not in analytics_committees(user):
        raise UserError(f"no experiment {experiment.pk} among your committees' experiments: check the number")
    what = Outcome.parse(outcome)
    frame = analysis_frame(user=user, experiment=experiment, outcome=what, since=since, until=until,
                           warehouse=warehouse)
    if frame.is_empty():
        raise UserError(f"you see none of the persons of experiment {experiment.name!r}")
    start, end = _window(experiment, since, until)
    results = {**analysis_of(frame, block_effects=block_effects), "outcome": str(what),
               "window": {"from": start.isoformat(), "until": end.isoformat() if end else None},
               "analyzed_at": timezone.now().isoformat(), "analyzed_by": user.get_username()}
    experiment.results = results
    experiment.status = Experiment.Status.ANALYZED
    experiment.save(update_fields=["results", "status"])
    usage_record(user=user, action="experiment", persons=frame.height, committee=experiment.committee,
                 detail={"experiment": experiment.pk, "step": "analyze", "outcome": str(what)})
    return results
