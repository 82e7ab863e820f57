"""Vote history: who voted in each past election, how, and with which party's ballot.

Turnout is a logistic function of a per-person propensity (age, party, household and
personal habit; see `population`) plus an intercept per kind of election, so the same
people tend to vote election after election. Inactive registrations vote much less,
removed ones stop at their removal, denied ones never vote, and people can only vote
after they registered and turned 18.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from unionhall.synth._common import day_number, rng_for
from unionhall.synth.population import Population, vocab

# Logit intercepts per kind of election.
INTERCEPT = {"presidential": 1.25, "midterm": 0.15, "pres_primary": -0.95, "primary": -1.75}
METHODS = (
    "IN-PERSON",
    "ABSENTEE ONESTOP",
    "ABSENTEE BY MAIL",
    "PROVISIONAL",
    "ABSENTEE CURBSIDE",
    "CURBSIDE",
    "TRANSFER",
)
PARTY_DESC = {
    "DEM": "DEMOCRATIC", "REP": "REPUBLICAN", "UNA": "UNAFFILIATED", "LIB": "LIBERTARIAN",
    "GRE": "GREEN", "CST": "CONSTITUTION", "NLB": "NO LABELS", "WTP": "WE THE PEOPLE",
}


@dataclass(frozen=True)
class Election:
    """A past election in vote history."""

    date: dt.date
    kind: str  # presidential, midterm, pres_primary, primary

    @property
    def is_general(self) -> bool:
        """True for November general elections."""
        return self.kind in ("presidential", "midterm")

    @property
    def label(self) -> str:
        """`election_lbl`: the date as MM/DD/YYYY."""
        return self.date.strftime("%m/%d/%Y")

    @property
    def description(self) -> str:
        """`election_desc` as NCSBE writes it, e.g. `11/05/2024 GENERAL`."""
        return f"{self.label} {'GENERAL' if self.is_general else 'PRIMARY'}"


def _first_tuesday_after_first_monday(year: int, month: int) -> dt.date:
    d = dt.date(year, month, 1)
    while d.weekday() != 0:
        d += dt.timedelta(days=1)
    return d + dt.timedelta(days=1)


def past_elections(today: dt.date, count: int) -> list[Election]:
    """The `count` most recent even-year primaries (March) and generals before `today`.

    Oldest first.
    """
    out: list[Election] = []
    year = today.year if today.year % 2 == 0 else today.year - 1
    while len(out) < count:
        general = _first_tuesday_after_first_monday(year, 11)
        primary = _first_tuesday_after_first_monday(year, 3)
        presidential = year % 4 == 0
        for e in (
            Election(general, "presidential" if presidential else "midterm"),
            Election(primary, "pres_primary" if presidential else "primary"),
        ):
            if e.date < today and len(out) < count:
                out.append(e)
        year -= 2
    return sorted(out, key=lambda e: e.date)


@dataclass
class History:
    """Participation: one row per (voter, election) voted."""

    elections: list[Election]
    votes: pl.DataFrame  # voter_row, election_idx, method_idx, voted_party


def build_history(pop: Population, seed: int, today: dt.date, count: int) -> History:
    """Draw participation for every registration and past election."""
    rng = rng_for(seed, "history")
    elections = past_elections(today, count)
    voters = pop.voters
    n = voters.height
    person = pop.persons[voters["person_row"].to_numpy()]
    z = person["propensity"].to_numpy().copy()
    status = voters["status_cd"].to_numpy()
    z[status == "I"] -= 1.6
    dob = person["dob_days"].to_numpy()
    reg = voters["registr_days"].to_numpy()
    age = person["age"].to_numpy()
    party = person["party_cd"].to_numpy()
    today_n = day_number(today)
    # Removed registrations stopped voting at a removal date in the last six years.
    removed_at = np.where(status == "R", today_n - rng.integers(30, 6 * 365, n), today_n + 1)

    rows_v: list[np.ndarray] = []
    rows_e: list[np.ndarray] = []
    rows_m: list[np.ndarray] = []
    rows_p: list[np.ndarray] = []
    sorted_vocab = np.array(sorted(PARTY_DESC))
    for e_i, e in enumerate(elections):
        e_n = day_number(e.date)
        eligible = (reg <= e_n - 25) & (dob + round(18 * 365.2425) <= e_n) & (e_n < removed_at)
        eligible &= status != "D"
        p = 1.0 / (1.0 + np.exp(-(INTERCEPT[e.kind] + z)))
        voted = eligible & (rng.random(n) < p)
        idx = np.flatnonzero(voted)
        a = age[idx] - (today_n - e_n) // 365
        # Voting method: early voting dominates recent NC generals; mail rises with age
        # and in 2020; a few provisional, curbside and transfer votes.
        covid = e.date.year == 2020
        mail = np.where(e.is_general, 0.05, 0.03) + np.where(a >= 65, 0.08, 0.0) + (0.13 if covid else 0.0)
        early = (0.55 if e.is_general else 0.35) + (0.07 if covid else 0.0)
        r = rng.random(idx.size)
        method = np.where(r < mail, 2, np.where(r < mail + early, 1, 0))
        s = rng.random(idx.size)
        method = np.where((method == 0) & (s < 0.004), 3, method)
        method = np.where((method == 1) & (s < 0.003), 4, method)
        method = np.where((method == 0) & (s > 0.999), 5, method)
        method = np.where((method == 0) & (s > 0.9985) & (s <= 0.999), 6, method)
        method = np.where(status[idx] == "S", 2, method)  # military/overseas vote by mail
        vp = party[idx].copy()
        if not e.is_general:
            una = vp == "UNA"
            vp[una] = np.where(rng.random(int(una.sum())) < 0.45, "DEM", "REP")
            minor = np.isin(vp, ["GRE", "CST", "NLB", "WTP"])
            vp[minor] = "UNA"
        rows_v.append(idx)
        rows_e.append(np.full(idx.size, e_i))
        rows_m.append(method)
        rows_p.append(np.searchsorted(sorted_vocab, vp))
    votes = pl.DataFrame(
        {
            "voter_row": np.concatenate(rows_v),
            "election_idx": np.concatenate(rows_e),
            "method_idx": np.concatenate(rows_m),
            "voted_party_cd": vocab(sorted_vocab, np.concatenate(rows_p)),
        }
    )
    # Newest elections first within each voter, voters in voter-file order.
    votes = votes.sort(["voter_row", "election_idx"], descending=[False, True])
    return History(elections=elections, votes=votes)
