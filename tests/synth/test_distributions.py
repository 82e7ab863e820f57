"""Distributions of the generated population against documented targets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from unionhall.synth import SynthSummary
from unionhall.synth.names import female_first, male_first, surnames
from unionhall.synth.population import AGE_PYRAMID_TARGET, HOUSEHOLD_SIZE_P

TODAY = dt.date(2026, 10, 20)


@pytest.fixture(scope="module")
def persons(dist_state: tuple[Path, SynthSummary]) -> pl.DataFrame:
    return pl.read_parquet(dist_state[0] / "truth" / "persons.parquet").filter(pl.col("state") == "NC")


@pytest.fixture(scope="module")
def voters(dist_state: tuple[Path, SynthSummary]) -> pl.DataFrame:
    out = dist_state[0]
    return pl.read_csv(
        out / "ncvoter_synth.txt", separator="\t", quote_char='"', infer_schema=False
    )


def test_surname_and_first_name_frequencies_follow_census_tables(voters: pl.DataFrame) -> None:
    sn = surnames()
    top10 = set(sn.names[:10].tolist())
    expected = float(sn.probabilities[:10].sum())
    share = voters["last_name"].is_in(list(top10)).mean() or 0.0
    # Households share surnames, so the sampling error is larger than binomial.
    assert abs(share - expected) < 0.015, (share, expected)
    counts = voters["last_name"].value_counts().sort("count", descending=True)
    assert "SMITH" in counts["last_name"][:5].to_list()
    assert counts.height > 0.3 * voters.height, "surnames must be diverse"
    men = voters.filter(pl.col("gender_code") == "M")
    top_m = male_first().names[:3].tolist()
    exp_m = float(male_first().probabilities[:3].sum())
    assert abs((men["first_name"].is_in(top_m).mean() or 0) - exp_m) < 0.02
    women = voters.filter(pl.col("gender_code") == "F")
    top_f = female_first().names[:3].tolist()
    exp_f = float(female_first().probabilities[:3].sum())
    assert abs((women["first_name"].is_in(top_f).mean() or 0) - exp_f) < 0.02


def test_age_pyramid_matches_us_adults(persons: pl.DataFrame) -> None:
    age = np.array([(TODAY - d).days / 365.2425 for d in persons["dob"].to_list()])
    edges = [18, 25, 35, 45, 55, 65, 75, 85, 200]
    shares = np.histogram(age, edges)[0] / age.size
    for (band, target), share in zip(AGE_PYRAMID_TARGET.items(), shares, strict=True):
        assert abs(share - target) < 0.03, f"{band}: {share:.3f} vs {target:.3f}"


def test_household_sizes_and_structure(dist_state: tuple[Path, SynthSummary], persons: pl.DataFrame) -> None:
    hh = pl.read_parquet(dist_state[0] / "truth" / "households.parquet")
    sizes = persons.group_by("household_id").len()["len"].to_numpy()
    assert (np.bincount(sizes, minlength=7)[1:7] / sizes.size - HOUSEHOLD_SIZE_P).__abs__().max() < 0.02
    assert (hh.sort("household_id")["adults"].to_numpy() == np.bincount(persons["household_id"].to_numpy())).all()
    # Multi-adult households mostly share a surname (partners and grown children).
    multi = persons.join(persons.group_by("household_id").len().filter(pl.col("len") >= 2), on="household_id")
    same = multi.group_by("household_id").agg(pl.col("last_name").n_unique() < pl.len())
    assert 0.5 < (same["last_name"].mean() or 0) < 0.95
    # Addresses: odd and even house numbers both occur along streets; coordinates move
    # with the house number.
    single = hh.filter(~pl.col("is_apartment"))
    per_street = single.group_by("street_id").agg(
        (pl.col("house_number") % 2).n_unique().alias("sides"),
        pl.corr("house_number", "lat").abs().alias("r_lat"),
        pl.corr("house_number", "lon").abs().alias("r_lon"),
        pl.len(),
    ).filter(pl.col("len") >= 10)
    assert (per_street["sides"] == 2).mean() > 0.9
    r = per_street.select(pl.max_horizontal("r_lat", "r_lon")).to_series()
    assert (r > 0.95).mean() > 0.9


def test_turnout_rises_with_age_and_is_habitual(dist_state: tuple[Path, SynthSummary], voters: pl.DataFrame) -> None:
    out = dist_state[0]
    hist = pl.read_csv(out / "ncvhis_synth.txt", separator="\t", infer_schema=False)
    active = voters.filter(pl.col("status_cd") == "A").with_columns(
        age=pl.col("age_at_year_end").cast(pl.Int64),
        reg=pl.col("registr_dt").str.strptime(pl.Date, "%m/%d/%Y"),
    ).filter(pl.col("reg") < dt.date(2024, 10, 1))
    g24 = set(hist.filter(pl.col("election_lbl") == "11/05/2024")["ncid"].to_list())
    g22 = set(hist.filter(pl.col("election_lbl") == "11/08/2022")["ncid"].to_list())
    p24 = set(hist.filter(pl.col("election_lbl") == "03/05/2024")["ncid"].to_list())
    a = active.with_columns(
        v24=pl.col("ncid").is_in(list(g24)), v22=pl.col("ncid").is_in(list(g22)), p24=pl.col("ncid").is_in(list(p24)),
        band=pl.when(pl.col("age") <= 29).then(pl.lit("18-29"))
        .when(pl.col("age") <= 44).then(pl.lit("30-44"))
        .when(pl.col("age") <= 64).then(pl.lit("45-64"))
        .otherwise(pl.lit("65+")),
    )
    by_band = dict(a.group_by("band").agg(pl.col("v24").mean()).iter_rows())
    assert by_band["18-29"] < by_band["30-44"] < by_band["45-64"]
    assert by_band["65+"] - by_band["18-29"] > 0.2
    overall = a["v24"].mean() or 0
    assert 0.6 < overall < 0.85, overall
    assert (a["p24"].mean() or 0) < (a["v22"].mean() or 0) < overall
    after_22 = a.filter(pl.col("v22"))["v24"].mean() or 0
    after_no_22 = a.filter(~pl.col("v22"))["v24"].mean() or 0
    assert after_22 - after_no_22 > 0.25
    methods = hist.filter(pl.col("election_lbl") == "11/05/2024")["voting_method"].value_counts()
    share = dict(zip(methods["voting_method"], methods["count"] / methods["count"].sum(), strict=True))
    assert share["ABSENTEE ONESTOP"] > share["IN-PERSON"] > share["ABSENTEE BY MAIL"] > 0.02


def test_party_registration_depends_on_race(voters: pl.DataFrame) -> None:
    by_race = voters.group_by("race_code").agg((pl.col("party_cd") == "DEM").mean().alias("dem"), pl.len())
    dem = dict(by_race.select("race_code", "dem").iter_rows())
    assert dem["B"] > dem["W"] + 0.3
    assert set(voters["party_cd"].unique()) >= {"DEM", "REP", "UNA", "LIB"}
