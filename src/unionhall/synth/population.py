"""People of the fictional state: households, persons, and their voter registrations.

Household model (adults only: the voter file has no children). Each household has a
head; the second adult is a spouse/partner with probability 0.7 (close in age, usually
the other sex, usually sharing the surname), later adults are grown children of heads
old enough to have them, otherwise roommates or relatives with their own surname.

About 80% of adults are registered (less among the young). Registration records carry a
status: active, inactive, removed, denied or temporary (military/overseas), with NCSBE
reason codes. A latent turnout propensity per person (age, party, household, personal
habit) drives vote history and absentee behaviour.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from unionhall.synth import names as name_tables
from unionhall.synth._common import day_number, rng_for, weighted_choice
from unionhall.synth.geography import Geography, build_geography
from unionhall.synth.params import SynthParams

# Adult household sizes (people 18+ at one address).
HOUSEHOLD_SIZE_P = np.array([0.30, 0.42, 0.16, 0.08, 0.03, 0.01])
# Age bands of heads of household and their weights, tuned so that all adults together
# follow the US adult age pyramid (AGE_PYRAMID_TARGET).
HEAD_AGE_BANDS = np.array([18, 25, 35, 45, 55, 65, 75, 85, 100])
HEAD_AGE_W = np.array([0.055, 0.14, 0.165, 0.175, 0.2, 0.155, 0.08, 0.03])
# US adult population by age band (Census 2020, share of people 18+).
AGE_PYRAMID_TARGET = {
    "18-24": 0.118, "25-34": 0.174, "35-44": 0.163, "45-54": 0.157,
    "55-64": 0.164, "65-74": 0.124, "75-84": 0.068, "85+": 0.027,
}
ROLE_HEAD, ROLE_SPOUSE, ROLE_CHILD, ROLE_OTHER = 0, 1, 2, 3
REG_DRAW_MARGIN = 1.12

STATUS_CODES = np.array(["A", "I", "R", "D", "S"])
STATUS_DESC = {"A": "ACTIVE", "I": "INACTIVE", "R": "REMOVED", "D": "DENIED", "S": "TEMPORARY"}
STATUS_P = np.array([0.80, 0.10, 0.08, 0.01, 0.01])
REASONS = {
    "A": (("AV", "VERIFIED", 0.95), ("AN", "UNVERIFIED NEW", 0.04), ("AP", "VERIFICATION PENDING", 0.01)),
    "I": (("IN", "CONFIRMATION NOT RETURNED", 0.7), ("IU", "CONFIRMATION RETURNED UNDELIVERABLE", 0.3)),
    "R": (
        ("RL", "MOVED FROM COUNTY", 0.35), ("RS", "MOVED FROM STATE", 0.25), ("RD", "DECEASED", 0.15),
        ("RP", "REMOVED AFTER 2 FED GENERAL ELECTIONS IN INACTIVE STATUS", 0.15),
        ("R2", "DUPLICATE", 0.05), ("RF", "FELONY CONVICTION", 0.05),
    ),
    "D": (("DI", "UNAVAILABLE ESSENTIAL INFORMATION", 0.6), ("DN", "NOT A CITIZEN", 0.1),
          ("DU", "VERIFICATION RETURNED UNDELIVERABLE", 0.3)),
    "S": (("SM", "MILITARY", 0.6), ("SO", "OVERSEAS CITIZEN", 0.4)),
}
PARTIES = np.array(["DEM", "REP", "UNA", "LIB", "GRE", "CST", "NLB", "WTP"])
# Party registration by race group (white, black, api, native, multiple, hispanic).
PARTY_BY_RACE = np.array(
    [
        [0.22, 0.42, 0.350, 0.008, 0.0005, 0.0005, 0.0005, 0.0005],
        [0.78, 0.03, 0.183, 0.005, 0.0005, 0.0005, 0.0005, 0.0005],
        [0.30, 0.15, 0.542, 0.006, 0.0005, 0.0005, 0.0005, 0.0005],
        [0.45, 0.20, 0.342, 0.006, 0.0005, 0.0005, 0.0005, 0.0005],
        [0.35, 0.15, 0.492, 0.006, 0.0005, 0.0005, 0.0005, 0.0005],
        [0.38, 0.17, 0.442, 0.006, 0.0005, 0.0005, 0.0005, 0.0005],
    ]
)
SUFFIXES = np.array(["JR", "SR", "II", "III", "IV"])
BIRTH_STATES = np.array(["NC", "VA", "SC", "NY", "FL", "GA", "PA", "OH", "NJ", "CA", "TX", "MI", "OC", ""])
BIRTH_STATE_P = np.array([0.50, 0.05, 0.04, 0.04, 0.03, 0.03, 0.03, 0.02, 0.02, 0.02, 0.02, 0.02, 0.03, 0.15])
EMAIL_DOMAINS = np.array(["example.com", "example.net", "example.org", "mail.example.com"])


@dataclass
class Population:
    """The people of the state and the voter file rows built from them."""

    geography: Geography
    households: pl.DataFrame
    persons: pl.DataFrame
    """One row per adult; `voter_row` is the row in `voters` or -1 when unregistered."""
    voters: pl.DataFrame
    """One row per registration, in voter-file order, with the raw values of each field."""


def _age_band(age: np.ndarray) -> np.ndarray:
    return np.digitize(age, [25, 35, 45, 55, 65, 75, 85])


def vocab(values: object, idx: np.ndarray) -> pl.Series:
    """A string column built by indexing a small vocabulary (much faster than numpy str)."""
    return pl.Series(list(values), dtype=pl.Utf8).gather(np.asarray(idx, dtype=np.int64))  # type: ignore[call-overload]


def first_name_vocab() -> list[str]:
    """Male then female Census first names, then "" (index used for a blank)."""
    return [*name_tables.male_first().names, *name_tables.female_first().names, ""]


def draw_first_names(rng: np.random.Generator, female: np.ndarray) -> np.ndarray:
    """Indices into `first_name_vocab()` drawn by sex with Census frequencies."""
    male_t, female_t = name_tables.male_first(), name_tables.female_first()
    out = np.empty(female.size, dtype=np.int64)
    m = np.flatnonzero(~female)
    f = np.flatnonzero(female)
    out[m] = weighted_choice(rng, male_t.cdf, m.size)
    out[f] = male_t.names.size + weighted_choice(rng, female_t.cdf, f.size)
    return out


def build_population(params: SynthParams) -> Population:
    """Generate households, persons and exactly `params.voters` registrations."""
    rng = rng_for(params.seed, "population")
    today = params.today
    # Registered adults per household is ~1.7; over-generate and cut at the exact count.
    mean_size = float((HOUSEHOLD_SIZE_P * np.arange(1, 7)).sum())
    n_hh = math.ceil(params.voters / (mean_size * 0.8) * REG_DRAW_MARGIN) + 50
    geo = build_geography(params.seed, params.county_count(), n_hh)

    size = rng.choice(np.arange(1, 7), size=n_hh, p=HOUSEHOLD_SIZE_P)
    n_p = int(size.sum())
    hh_of = np.repeat(np.arange(n_hh), size)
    pos = np.arange(n_p) - np.repeat(np.cumsum(size) - size, size)

    band = rng.choice(len(HEAD_AGE_W), size=n_hh, p=HEAD_AGE_W / HEAD_AGE_W.sum())
    head_age = rng.integers(HEAD_AGE_BANDS[band], HEAD_AGE_BANDS[band + 1])
    head_age_p = head_age[hh_of]

    # Roles. Position 1: partner with p=0.7 for heads over 21; later: grown children
    # when the head is 38+, else other adults.
    u = rng.random(n_p)
    role = np.full(n_p, ROLE_OTHER)
    role[pos == 0] = ROLE_HEAD
    role[(pos == 1) & (u < 0.7) & (head_age_p >= 21)] = ROLE_SPOUSE
    role[(pos >= 2) & (head_age_p >= 38) & (u < 0.75)] = ROLE_CHILD
    role[(pos == 1) & (role == ROLE_OTHER) & (head_age_p >= 40) & (u < 0.85)] = ROLE_CHILD

    age = np.empty(n_p, dtype=np.int64)
    age[role == ROLE_HEAD] = head_age
    m = role == ROLE_SPOUSE
    age[m] = np.clip(head_age_p[m] + np.round(rng.normal(0, 3.5, m.sum())), 18, 99)
    m = role == ROLE_CHILD
    age[m] = np.clip(head_age_p[m] - rng.integers(20, 36, m.sum()), 18, 60)
    m = role == ROLE_OTHER
    age[m] = np.where(
        head_age_p[m] < 40,
        np.clip(head_age_p[m] + rng.integers(-5, 6, m.sum()), 18, 99),
        rng.integers(18, 90, m.sum()),
    )

    # Sex: partners are usually of the other sex.
    female = rng.random(n_p) < 0.52
    head_female = female[np.cumsum(size) - size][hh_of]
    m = role == ROLE_SPOUSE
    female[m] = np.where(rng.random(m.sum()) < 0.96, ~head_female[m], head_female[m])

    # Surnames: household surname for head, most partners, most children.
    sn = name_tables.surnames()
    hh_surname = weighted_choice(rng, sn.cdf, n_hh)
    own_surname = weighted_choice(rng, sn.cdf, n_p)
    share = np.select(
        [role == ROLE_HEAD, role == ROLE_SPOUSE, role == ROLE_CHILD],
        [np.ones(n_p, dtype=bool), u < 0.56, rng.random(n_p) < 0.92],
        default=rng.random(n_p) < 0.15,
    )
    surname_idx = np.where(share, hh_surname[hh_of], own_surname)
    first = draw_first_names(rng, female)
    middle = draw_first_names(rng, female)
    blank_first = len(first_name_vocab()) - 1
    middle[(rng.random(n_p) < 0.12) | (middle == first)] = blank_first
    suffix = np.full(n_p, SUFFIXES.size, dtype=np.int64)  # index SUFFIXES.size = ""
    men = ~female & (rng.random(n_p) < 0.03)
    suffix[men] = rng.choice(5, size=int(men.sum()), p=[0.6, 0.2, 0.08, 0.1, 0.02])
    suffix[(role == ROLE_CHILD) & ~female & (rng.random(n_p) < 0.15)] = 0

    # Race and ethnicity follow the surname's 2010 Census shares.
    race_p = name_tables.race_given_surname()[surname_idx]
    race_grp = (rng.random(n_p)[:, None] > np.cumsum(race_p, axis=1)).sum(axis=1).clip(0, 5)
    race_vocab = ["W", "B", "A", "I", "M", "O", "U", "P"]
    race_i = np.array([0, 1, 2, 3, 4, 0])[race_grp]
    hisp = race_grp == 5
    r = rng.random(n_p)
    race_i[hisp & (r < 0.25)] = 5
    race_i[hisp & (r >= 0.25) & (r < 0.4)] = 6
    race_i[(race_i == 2) & (rng.random(n_p) < 0.03)] = 7
    race_i[(~hisp) & (rng.random(n_p) < 0.04)] = 6
    ethnic_i = np.where(hisp, 0, 1)
    ethnic_i[rng.random(n_p) < 0.18] = 2

    # Dates of birth from ages at `today`.
    today_n = day_number(today)
    dob = today_n - np.round(age * 365.2425).astype(np.int64) - rng.integers(0, 365, n_p)
    age_year_end = dt.date(today.year, 12, 31).year - (
        np.array(dob, dtype="datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    )

    # Party by race and age (young people register unaffiliated more often).
    pp = PARTY_BY_RACE[race_grp].copy()
    young = age < 30
    old = age >= 65
    shift = np.where(young, 0.10, np.where(old, -0.05, 0.0))
    pp[:, 0] *= 1 - shift
    pp[:, 1] *= 1 - shift
    pp /= pp.sum(axis=1, keepdims=True)
    party_i = (rng.random(n_p)[:, None] > np.cumsum(pp, axis=1)).sum(axis=1).clip(0, 7)
    party = PARTIES[party_i]  # small fixed-width array: cheap comparisons below

    # Registration: less likely among the young.
    reg_p = np.select([age < 25, age < 35, age < 50, age < 65], [0.66, 0.74, 0.80, 0.85], 0.88)
    registered = rng.random(n_p) < reg_p

    # Turnout propensity (logit scale): age, party, household habit, personal habit.
    age_eff = np.select(
        [age < 25, age < 35, age < 45, age < 65, age < 80], [-1.8, -1.15, -0.3, 0.4, 1.0], 0.4
    )
    party_eff = np.select([party == "UNA", party == "REP"], [-0.35, 0.1], 0.0)
    hh_eff = rng.normal(0, 0.6, n_hh)[hh_of]
    propensity = age_eff + party_eff + hh_eff + rng.normal(0, 1.5, n_p)

    # Phones and emails (fictional: emails use reserved example domains).
    county_area = geo.counties["area_code"].to_numpy()
    hh_address = np.arange(n_hh)  # household i lives at address slot i
    hh_prec = geo.addresses["precinct_idx"].to_numpy()[hh_address]
    hh_county = geo.precincts["county_idx"].to_numpy()[hh_prec]
    area = np.where(
        rng.random(n_p) < 0.75,
        county_area.astype(np.int64)[hh_county[hh_of]],
        np.array([919, 704, 336, 252, 910, 828, 984, 980])[rng.integers(0, 8, n_p)],
    )
    exchange = rng.integers(200, 1000, n_p)
    exchange = np.where(exchange % 100 == 11, exchange + 1, exchange)
    line = rng.integers(0, 10_000, n_p)
    has_phone = rng.random(n_p) < 0.85
    phone_num = area * 10_000_000 + exchange * 10_000 + line
    has_email = rng.random(n_p) < 0.7

    fvocab = first_name_vocab()
    persons = pl.DataFrame(
        {
            "household_idx": hh_of,
            "role": role,
            "first_name": vocab(fvocab, first),
            "middle_name": vocab(fvocab, middle),
            "last_name": vocab(sn.names, surname_idx),
            "name_suffix": vocab([*SUFFIXES, ""], suffix),
            "sex": vocab(["M", "F"], female.astype(np.int64)),
            "dob_days": dob,
            "age": age,
            "age_at_year_end": age_year_end,
            "race_code": vocab(race_vocab, race_i),
            "ethnic_code": vocab(["HL", "NL", "UN"], ethnic_i),
            "party_cd": vocab(PARTIES, party_i),
            "registered": registered,
            "propensity": propensity,
            "phone": pl.Series(phone_num).cast(pl.Utf8),
            "has_email": has_email,
            "email_style": rng.integers(0, 5, n_p),
            "email_num": rng.integers(1, 100, n_p),
            "email_domain": vocab(EMAIL_DOMAINS, rng.integers(0, EMAIL_DOMAINS.size, n_p)),
        }
    ).with_columns(
        dob=pl.col("dob_days").cast(pl.Date),
        phone=pl.when(pl.Series(has_phone)).then(pl.col("phone")).otherwise(pl.lit("")),
    )

    # Cut at exactly params.voters registrations, in a random household order so the
    # unused (vacant) addresses are spread over the whole state.
    hh_reg = np.bincount(hh_of, weights=registered.astype(np.float64), minlength=n_hh).astype(np.int64)
    hh_perm = rng.permutation(n_hh)
    cum = np.cumsum(hh_reg[hh_perm])
    if cum[-1] < params.voters:
        raise RuntimeError("population too small for the requested voters; raise REG_DRAW_MARGIN")
    last_pos = int(np.searchsorted(cum, params.voters))
    kept_hh = np.sort(hh_perm[: last_pos + 1])
    keep = np.zeros(n_hh, dtype=bool)
    keep[kept_hh] = True
    persons = persons.filter(pl.Series(keep[hh_of]))
    excess = int(cum[last_pos] - params.voters)
    if excess:
        # The last household taken has a few registrations too many: they stay adults
        # who never registered.
        boundary = int(hh_perm[last_pos])
        idx = persons.with_row_index("i").filter(
            (pl.col("household_idx") == boundary) & pl.col("registered")
        )["i"].to_numpy()[-excess:]
        flag = persons["registered"].to_numpy().copy()
        flag[idx] = False
        persons = persons.with_columns(registered=pl.Series(flag))
    # Renumber households compactly; person ids are 1-based and stable for a seed.
    remap = np.full(n_hh, -1, dtype=np.int64)
    remap[kept_hh] = np.arange(kept_hh.size)
    persons = persons.with_columns(
        household_idx=pl.Series(remap[persons["household_idx"].to_numpy()]),
    ).with_row_index("person_id", offset=1).with_columns(pl.col("person_id").cast(pl.Int64))

    addresses = geo.addresses
    households = (
        pl.DataFrame({"household_idx": np.arange(kept_hh.size), "address_idx": kept_hh})
        .join(addresses.with_columns(pl.col("address_idx").cast(pl.Int64)), on="address_idx", how="left")
        .join(
            geo.precincts.select("precinct_idx", "county_idx", "zip", "town_name", "rural"),
            on="precinct_idx",
            how="left",
        )
        .sort("household_idx")
    )
    hh_size = persons.group_by("household_idx").len().sort("household_idx")
    households = households.join(hh_size.rename({"len": "adults"}), on="household_idx", how="left")

    voters = _build_registrations(params, rng, persons, households, geo)
    voter_row = np.full(persons.height, -1, dtype=np.int64)
    voter_row[voters["person_row"].to_numpy()] = np.arange(voters.height)
    persons = persons.with_columns(voter_row=pl.Series(voter_row))
    return Population(geography=geo, households=households, persons=persons, voters=voters)


def _build_registrations(
    params: SynthParams,
    rng: np.random.Generator,
    persons: pl.DataFrame,
    households: pl.DataFrame,
    geo: Geography,
) -> pl.DataFrame:
    """Registration records (voter-file rows) for registered persons."""
    today_n = day_number(params.today)
    reg_rows = np.flatnonzero(persons["registered"].to_numpy())
    n = reg_rows.size
    p = persons[reg_rows]
    hh = households[p["household_idx"].to_numpy()]
    age = p["age"].to_numpy()

    status_p = np.tile(STATUS_P, (n, 1))
    young = age < 30
    status_p[young, 1] += 0.04  # young people move more: inactive/removed more often
    status_p[young, 2] += 0.03
    status_p /= status_p.sum(axis=1, keepdims=True)
    status_i = (rng.random(n)[:, None] > np.cumsum(status_p, axis=1)).sum(axis=1).clip(0, 4)
    status = STATUS_CODES[status_i]
    # Reason codes: one vocabulary over all statuses, drawn per status.
    reason_vocab = [o for options in REASONS.values() for o in options]
    reason_i = np.zeros(n, dtype=np.int64)
    offset = 0
    for code, options in REASONS.items():
        idx = np.flatnonzero(status == code)
        pr = np.array([o[2] for o in options])
        reason_i[idx] = offset + rng.choice(len(options), size=idx.size, p=pr / pr.sum())
        offset += len(options)

    # Registration date: between the 18th birthday and today, skewed recent (people
    # re-register when they move), never before 1960.
    dob = p["dob_days"].to_numpy()
    eighteen = dob + round(18 * 365.2425)
    lo = np.maximum(eighteen - 60, day_number(dt.date(1960, 1, 1)))
    span = np.maximum(today_n - 30 - lo, 1)
    reg_day = lo + (span * np.sqrt(rng.random(n))).astype(np.int64)

    county_idx = hh["county_idx"].to_numpy()
    # Registration numbers: unique within a county, sequential with gaps, zero-padded.
    order = np.lexsort((reg_day, county_idx))
    gaps = rng.integers(1, 40, n)
    reg_num = np.empty(n, dtype=np.int64)
    sorted_county = county_idx[order]
    start = np.r_[0, np.flatnonzero(np.diff(sorted_county)) + 1]
    cs = np.cumsum(gaps[order])
    base = np.repeat(cs[start] - gaps[order][start], np.diff(np.r_[start, n]))
    reg_num[order] = 1000 + cs - base
    # NCIDs: two letters and a statewide-unique number.
    ncid_num = rng.permutation(n) + 10_000
    letters = list("ABCDEFGHIJKLMNOPQRSTUVWXY")
    ncid = pl.select(
        pl.concat_str(
            vocab(letters, ncid_num % 25),
            vocab(letters, (ncid_num // 25) % 25),
            pl.Series(ncid_num // 625 + 1000).cast(pl.Utf8),
        )
    ).to_series()

    confidential = rng.random(n) < 0.002
    drivers = vocab(["N", "Y"], (rng.random(n) < 0.86).astype(np.int64))
    birth_state = vocab(
        BIRTH_STATES, rng.choice(BIRTH_STATES.size, size=n, p=BIRTH_STATE_P / BIRTH_STATE_P.sum())
    )
    phone_on_file = (rng.random(n) < 0.45) & (p["phone"].to_numpy() != "")

    # Mailing addresses: usually the residence; PO boxes and rural routes in the country.
    rural = hh["rural"].to_numpy()
    r = rng.random(n)
    mail_kind = np.select(
        [rural & (r < 0.10), rural & (r < 0.16), ~rural & (r < 0.02)], [1, 2, 1], 0
    )  # 0 residence, 1 PO box, 2 rural route
    mail_kind[status == "S"] = 3  # military/overseas: APO/overseas address
    return pl.DataFrame(
        {
            "person_row": reg_rows,
            "county_idx": county_idx,
            "county_id": vocab(geo.counties["county_id"], county_idx),
            "county_desc": vocab(geo.counties["county_desc"], county_idx),
            "voter_reg_num": reg_num,
            "ncid": ncid,
            "status_cd": vocab(STATUS_CODES, status_i),
            "voter_status_desc": vocab([STATUS_DESC[s] for s in STATUS_CODES], status_i),
            "reason_cd": vocab([o[0] for o in reason_vocab], reason_i),
            "voter_status_reason_desc": vocab([o[1] for o in reason_vocab], reason_i),
            "registr_days": reg_day,
            "confidential": confidential,
            "drivers_lic": drivers,
            "birth_state": birth_state,
            "phone_on_file": phone_on_file,
            "mail_kind": mail_kind,
            "mail_box": rng.integers(1, 3000, n),
            "mail_route": rng.integers(1, 9, n),
        }
    ).with_columns(registr_dt=pl.col("registr_days").cast(pl.Date)).sort(
        # The voter file lists registrations by county, then registration number.
        "county_idx", "voter_reg_num"
    )
