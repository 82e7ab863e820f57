"""Synthetic poll files with a known truth, for tests, the benchmark and the demo.

`poll_file_write(path, persons, n, seed)` draws `n` respondents from `persons` (a frame
with county, sex, age, party and member_sources or member, e.g. the registered voters
of a synthetic state) with differential response, the way real polls go wrong: the
young answer far less often than the old, Republicans a little less, union members
more. Every person of the frame gets answers that depend on age, party and
membership, so the truth (each answer's share over the whole frame) is known and
returned with the population's margins: an unweighted poll misses it, a poll weighted
to those margins comes close. `bad_rows` appends rows a pollster's file really has
(a duplicate respondent, an unreadable age, a county typo) for the quarantine.

`synthetic_persons(n, seed)` makes such a frame without a state (benchmarks).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from unionhall.analytics.polls import AGE_BANDS, party_group

QUESTIONS = {
    "Q1 Support the contract": ("Support", "Oppose", "Not sure"),
    "Q2 Would strike": ("Yes", "No"),
    "Q3 Top issue": ("Wages", "Health care", "Staffing", "Safety"),
}
HEADER = ["resp_id", "county", "gender", "age", "party", "union_member", *QUESTIONS]
_SEX_WORDS = {"F": "Female", "M": "Male", "U": "Other"}
_PARTY_WORDS = {"DEM": "Democrat", "REP": "Republican", "UNA": "Unaffiliated"}


@dataclass(frozen=True)
class PollTruth:
    """What the synthetic poll should find: answer shares over the whole frame, and the
    frame's margins (shares) by county, sex, age band, party and membership."""

    respondents: int
    persons: int
    truth: dict[str, dict[str, float]]
    margins: dict[str, dict[str, float]]
    bad_rows: int


def _band(age: np.ndarray) -> np.ndarray:
    return np.select([age < 30, age < 45, age < 65], list(AGE_BANDS[:3]), AGE_BANDS[3])


def synthetic_persons(n: int, seed: int = 0) -> pl.DataFrame:
    """A state's worth of adults: county, sex, age, party, member_sources."""
    rng = np.random.default_rng(seed)
    counties = np.array(["WAKE", "MECKLENBURG", "GUILFORD", "FORSYTH", "DURHAM", "BUNCOMBE", "NEW HANOVER", "PITT"])
    county = counties[rng.choice(counties.size, n, p=[0.22, 0.24, 0.12, 0.09, 0.08, 0.09, 0.08, 0.08])]
    age = np.clip(rng.gamma(6.0, 8.0, n) + 18, 18, 100).astype(np.int64)
    party = rng.choice(["DEM", "REP", "UNA", "LIB"], n, p=[0.33, 0.30, 0.35, 0.02])
    sex = rng.choice(["F", "M", "U"], n, p=[0.52, 0.46, 0.02])
    member = rng.random(n) < 0.12
    return pl.DataFrame({"county": county, "sex": sex, "age": age, "party": party,
                         "member_sources": [["nurses"] if m else [] for m in member.tolist()]})


def _answers(rng: np.random.Generator, age: np.ndarray, party: np.ndarray, member: np.ndarray
             ) -> dict[str, np.ndarray]:
    n = age.size
    young = (age < 30).astype(float)
    mid = ((age >= 30) & (age < 45)).astype(float)
    old = (age >= 65).astype(float)
    dem, rep = (party == "DEM").astype(float), (party == "REP").astype(float)
    mem = member.astype(float)
    # Q1: support falls with age and among Republicans, rises among members.
    s = 0.4 + 1.1 * young + 0.5 * mid - 0.6 * old + 0.8 * dem - 1.0 * rep + 0.9 * mem
    o = -0.4 - 0.3 * young + 0.9 * rep + 0.3 * old
    u = np.zeros(n) - 0.8
    q1 = _draw(rng, np.stack([s, o, u], axis=1), QUESTIONS["Q1 Support the contract"])
    y = -0.6 + 1.2 * young + 0.6 * mid - 0.7 * old + 0.5 * dem - 0.6 * rep + 1.0 * mem
    q2 = np.where(rng.random(n) < 1 / (1 + np.exp(-y)), "Yes", "No")
    issue = np.stack([0.5 + 0.8 * young, 0.2 + 0.9 * old, 0.1 + 0.5 * mem, np.zeros(n) - 0.3], axis=1)
    q3 = _draw(rng, issue, QUESTIONS["Q3 Top issue"])
    return {"Q1 Support the contract": q1, "Q2 Would strike": q2, "Q3 Top issue": q3}


def _draw(rng: np.random.Generator, logits: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    u = np.asarray(rng.random(logits.shape[0]))
    pick = (u[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    return np.asarray(labels, dtype=object)[np.minimum(pick, len(labels) - 1)]


def _shares(values: np.ndarray, labels: tuple[str, ...] | list[str]) -> dict[str, float]:
    return {lab: float(np.mean(values == lab)) for lab in labels}


def poll_file_write(path: str | Path, persons: pl.DataFrame, n: int, seed: int, *, bad_rows: int = 0,
                    refusals: float = 0.03) -> PollTruth:
    """Write a poll file of `n` respondents drawn from `persons` with differential
    response (CSV, the pollster's own words for categories); return the truth."""
    rng = np.random.default_rng(seed)
    frame = persons.filter(pl.col("county").is_not_null() & pl.col("sex").is_not_null()
                           & pl.col("age").is_not_null() & (pl.col("age") >= 18) & pl.col("party").is_not_null())
    if "member" not in frame.columns:
        frame = frame.with_columns(member=pl.col("member_sources").list.len() > 0)
    m = frame.height
    if m < n:
        raise ValueError(f"{m} persons with known county, sex, age and party: cannot draw {n} respondents")
    age = frame.get_column("age").to_numpy()
    party = frame.get_column("party").to_numpy().astype(object)
    member = frame.get_column("member").to_numpy().astype(bool)
    answers = _answers(rng, age, party, member)
    band = _band(age)
    propensity = np.select([age < 30, age < 45, age < 65], [0.25, 0.55, 1.0], 1.4)
    propensity = propensity * np.where(party == "REP", 0.75, 1.0) * np.where(member, 1.8, 1.0)
    picked = rng.choice(m, size=n, replace=False, p=propensity / propensity.sum())
    county = frame.get_column("county").to_numpy().astype(object)
    sex = frame.get_column("sex").to_numpy().astype(object)
    groups = np.array([party_group(str(p)) for p in party.tolist()], dtype=object)
    truth = PollTruth(
        respondents=n, persons=m, bad_rows=bad_rows,
        truth={q: _shares(a, QUESTIONS[q]) for q, a in answers.items()},
        margins={"county": _shares(county, sorted(set(county.tolist()))),
                 "sex": _shares(sex, sorted(set(sex.tolist()))),
                 "age_band": _shares(band, list(AGE_BANDS)),
                 "party": _shares(groups, sorted(set(groups.tolist()))),
                 "member": {"yes": float(member.mean()), "no": float(1 - member.mean())}},
    )
    rows: list[list[str]] = []
    for k, i in enumerate(picked.tolist(), start=1):
        row = [f"R{k:05d}", str(county[i]).title(), _SEX_WORDS.get(str(sex[i]), str(sex[i])), str(age[i]),
               _PARTY_WORDS.get(str(party[i]), str(party[i])), "yes" if member[i] else "no"]
        for q in QUESTIONS:
            row.append("" if rng.random() < refusals else str(answers[q][i]))
        rows.append(row)
    for b in range(bad_rows):  # what pollsters' files really have
        kind = b % 3
        bad = list(rows[b % len(rows)])
        if kind == 1:
            bad[0], bad[3] = f"X{b:05d}", "refused"
        elif kind == 2:
            bad[0], bad[1] = f"X{b:05d}", "Wakke"
        rows.append(bad)  # kind 0: the same respondent twice
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return truth
