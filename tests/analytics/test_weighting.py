"""Raking and design-based estimates against samplics on the same data (issue 13's
acceptance criterion: weights and margins of error equal to 1e-6), the errors a person
can act on, trimming, and weighting that undoes a planted nonresponse bias."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from scipy.stats import t as student

from unionhall.analytics.weighting import kish_deff, proportions, rake
from unionhall.errors import UserError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # samplics is archived: its import warns
    from samplics.estimation import TaylorEstimator
    from samplics.utils.types import PopParam
    from samplics.weighting import SampleWeight

COUNTIES = ["WAKE", "DURHAM", "ORANGE", "JOHNSTON", "CHATHAM"]
BANDS = ["18-29", "30-44", "45-64", "65+"]


def sample(n: int = 3000, seed: int = 3) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    county = rng.choice(COUNTIES, n, p=[0.4, 0.25, 0.15, 0.12, 0.08])
    sex = rng.choice(["F", "M"], n, p=[0.58, 0.42])
    age = rng.choice(BANDS, n, p=[0.1, 0.2, 0.4, 0.3])
    party = rng.choice(["DEM", "REP", "UNA"], n, p=[0.4, 0.3, 0.3])
    logit = -0.3 + 0.9 * (party == "DEM") - 0.8 * (party == "REP") + 0.5 * (age == "18-29") - 0.2 * (sex == "M")
    support = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    support = np.where(rng.random(n) < 0.1, "unsure", support)
    base = rng.uniform(0.5, 2.0, n)
    return {"county": county, "sex": sex, "age_band": age, "party": party, "support": support, "base": base}


# Population counts (a voter file's): shares unlike the sample's.
CONTROL = {
    "county": {"WAKE": 30_000, "DURHAM": 20_000, "ORANGE": 15_000, "JOHNSTON": 20_000, "CHATHAM": 15_000},
    "sex": {"F": 52_000, "M": 48_000},
    "age_band": {"18-29": 20_000, "30-44": 25_000, "45-64": 33_000, "65+": 22_000},
    "party": {"DEM": 35_000, "REP": 33_000, "UNA": 32_000},
}


def samplics_rake(s: dict[str, Any], **kw: Any) -> np.ndarray:
    margins = {v: s[v] for v in CONTROL}
    return np.asarray(SampleWeight().rake(samp_weight=s["base"], margins=margins, control=CONTROL, **kw))


@pytest.mark.parametrize("settings", [{}, {"tol": 1e-10, "ctrl_tol": 1e-10, "max_iter": 1000},
                                      {"tol": 1e-10, "ctrl_tol": 1e-10, "max_iter": 3}])
def test_raked_weights_equal_samplics(settings: dict[str, Any]) -> None:
    s = sample()
    ours = rake(s["base"], {v: s[v] for v in CONTROL}, CONTROL, **settings)
    theirs = samplics_rake(s, **settings)
    assert np.max(np.abs(ours.weights - theirs)) < 1e-6
    assert ours.converged == (settings.get("max_iter", 100) > 3)  # stopped early, like samplics


def test_raked_weights_meet_every_margin() -> None:
    s = sample()
    out = rake(s["base"], {v: s[v] for v in CONTROL}, CONTROL, tol=1e-10, ctrl_tol=1e-10, max_iter=1000)
    assert out.converged and out.max_margin_error < 1e-8
    assert out.weights.sum() == pytest.approx(100_000)
    by = {(m.variable, m.category): m for m in out.margins}
    assert by["sex", "F"].target == pytest.approx(0.52) and by["sex", "F"].unweighted == pytest.approx(
        np.mean(s["sex"] == "F"))
    # Shares instead of counts: the same weights, scaled to the base weights' total.
    shares = {v: {c: x / 100_000 for c, x in cats.items()} for v, cats in CONTROL.items()}
    scaled = rake(s["base"], {v: s[v] for v in CONTROL}, shares, tol=1e-10, ctrl_tol=1e-10, max_iter=1000)
    assert np.max(np.abs(scaled.weights * 100_000 / s["base"].sum() - out.weights)) < 1e-6


def test_design_effect_equals_samplics() -> None:
    w = samplics_rake(sample())
    assert abs(kish_deff(w) - SampleWeight().calculate_deff_weight(w)) < 1e-12


def _samplics_shares(y: np.ndarray, w: np.ndarray, **kw: Any) -> Any:
    est = TaylorEstimator(PopParam.prop)
    est.estimate(y=y, samp_weight=w, **kw)
    return est


def test_topline_standard_errors_equal_samplics() -> None:
    s = sample()
    w = samplics_rake(s)
    [ours] = proportions(s["support"], w)
    est = _samplics_shares(s["support"], w)
    q = student.ppf(0.975, df=est.degree_of_freedom)
    assert ours.df == est.degree_of_freedom
    for sh in ours.shares:
        assert abs(sh.share - est.point_est[sh.category]) < 1e-12
        assert abs(sh.se - est.stderror[sh.category]) < 1e-9
        assert abs(sh.moe - q * est.stderror[sh.category]) < 1e-9
        assert abs(sh.ci_low - est.lower_ci[sh.category]) < 1e-9
        assert abs(sh.ci_high - est.upper_ci[sh.category]) < 1e-9
    assert ours.n == 3000 and sum(sh.n for sh in ours.shares) == 3000
    assert ours.deff == pytest.approx(kish_deff(w))


def test_stratified_standard_errors_equal_samplics() -> None:
    s = sample()
    w = samplics_rake(s)
    [ours] = proportions(s["support"], w, strata=s["county"])
    est = _samplics_shares(s["support"], w, stratum=s["county"])
    assert ours.df == est.degree_of_freedom == 3000 - 5
    for sh in ours.shares:
        assert abs(sh.se - est.stderror[sh.category]) < 1e-9
        assert abs(sh.ci_low - est.lower_ci[sh.category]) < 1e-9


def test_crosstab_rows_equal_samplics_domains() -> None:
    s = sample()
    w = samplics_rake(s)
    rows = proportions(s["support"], w, domain=s["age_band"])
    est = _samplics_shares(s["support"], w, domain=s["age_band"])
    assert [r.domain for r in rows] == sorted(BANDS)
    for r in rows:
        for sh in r.shares:
            assert abs(sh.share - est.point_est[r.domain][sh.category]) < 1e-12
            assert abs(sh.se - est.stderror[r.domain][sh.category]) < 1e-9
            assert abs(sh.ci_high - est.upper_ci[r.domain][sh.category]) < 1e-9
        assert sum(sh.share for sh in r.shares) == pytest.approx(1.0)


def test_unanswered_questions_are_a_domain_like_samplics() -> None:
    """A respondent who skipped the question is outside the domain of those who
    answered, as samplics estimates a domain: same shares, same SEs."""
    s = sample()
    w = samplics_rake(s)
    skipped = np.random.default_rng(8).random(w.size) < 0.15
    answers = np.where(skipped, None, s["support"])
    [ours] = proportions(answers, w)
    est = _samplics_shares(s["support"], w, domain=np.where(skipped, "skipped", "answered"))
    assert ours.n == int((~skipped).sum())
    for sh in ours.shares:
        assert abs(sh.se - est.stderror["answered"][sh.category]) < 1e-9
        assert abs(sh.share - est.point_est["answered"][sh.category]) < 1e-12


def test_raking_refuses_margins_it_cannot_meet() -> None:
    s = sample(300)
    variables = {v: s[v] for v in CONTROL}
    with pytest.raises(UserError, match=r"county: no respondent in 'HYDE'.*collapse"):
        rake(s["base"], variables, {**CONTROL, "county": {**CONTROL["county"], "WAKE": 29_000, "HYDE": 1_000}})
    with pytest.raises(UserError, match=r"do not sum to the same total \(county 100,000, sex 90,000"):
        rake(s["base"], variables, {**CONTROL, "sex": {"F": 45_000, "M": 45_000}})
    with pytest.raises(UserError, match=r"party: respondents have values with no target margin: 'UNA' \(\d+\)"):
        rake(s["base"], variables, {**CONTROL, "party": {"DEM": 50_000, "REP": 50_000}})
    with pytest.raises(UserError, match="positive numbers"):
        rake(s["base"], variables, {**CONTROL, "sex": {"F": 100_000, "M": 0}})
    with pytest.raises(UserError, match="base weights must be positive"):
        rake(np.zeros(300), variables, CONTROL)
    with pytest.raises(UserError, match="weight bounds"):
        rake(s["base"], variables, CONTROL, bounds=(2.0, 3.0))


def test_bounds_cap_the_weights_and_keep_the_margins_close() -> None:
    s = sample()
    variables = {v: s[v] for v in CONTROL}
    free = rake(s["base"], variables, CONTROL, tol=1e-8, ctrl_tol=1e-8, max_iter=1000)
    scale = 100_000 / s["base"].sum()
    ratio = free.weights / (s["base"] * scale)
    low, high = 0.45, 2.5
    assert ratio.min() < low or ratio.max() > high  # the bounds bite
    capped = rake(s["base"], variables, CONTROL, tol=1e-6, ctrl_tol=1e-3, max_iter=2000, bounds=(low, high))
    r = capped.weights / (s["base"] * scale)
    assert r.min() >= low - 1e-9 and r.max() <= high + 1e-9
    assert capped.converged and capped.trimmed > 0
    assert capped.max_margin_error < 1e-3
    assert capped.deff < free.deff
    with pytest.raises(AssertionError):  # bounds too tight to meet the margins: no convergence
        assert rake(s["base"], variables, CONTROL, max_iter=200, bounds=(0.99, 1.01)).converged


def test_weighting_undoes_a_planted_nonresponse_bias() -> None:
    """The young under-respond and answer differently: the unweighted share is off, the
    share weighted to the population's age margins is near the truth."""
    rng = np.random.default_rng(21)
    n_pop = 200_000
    age = rng.choice(BANDS, n_pop, p=[0.22, 0.26, 0.32, 0.20])
    sex = rng.choice(["F", "M"], n_pop)
    yes = rng.random(n_pop) < np.select([age == "18-29", age == "30-44", age == "45-64"], [0.70, 0.55, 0.40], 0.30)
    truth = yes.mean()
    respond = rng.random(n_pop) < np.select([age == "18-29", age == "30-44"], [0.01, 0.02], 0.05)
    idx = np.nonzero(respond)[0]
    control = {"age_band": {b: float((age == b).sum()) for b in BANDS},
               "sex": {x: float((sex == x).sum()) for x in ("F", "M")}}
    out = rake(np.ones(idx.size), {"age_band": age[idx], "sex": sex[idx]}, control)
    answers = np.where(yes[idx], "yes", "no")
    [raw] = proportions(answers, np.ones(idx.size))
    [weighted] = proportions(answers, out.weights)
    raw_yes, w_yes = raw.share("yes"), weighted.share("yes")
    assert raw_yes is not None and w_yes is not None
    assert truth - raw_yes.share > 0.05  # the bias
    assert abs(w_yes.share - truth) < 2 * w_yes.se + 0.005  # weighted back to the truth
    assert w_yes.se > raw_yes.se and weighted.deff > 1.2  # the price: a larger margin of error
