"""Power and MDE equal statsmodels' normal-approximation solver (with the effect size in
standard deviations of the same variance) to 1e-6; clustering and contact rate scale
them as the design effect and the Wald ratio say; bad inputs say what is wrong."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.power import NormalIndPower, zt_ind_solve_power

from unionhall.analytics.power import design_effect, mde, power
from unionhall.errors import UserError


def sd(base_rate: float, icc: float = 0.0, m: float = 1.0) -> float:
    """Per-person standard deviation with the design effect folded in."""
    return math.sqrt(base_rate * (1 - base_rate) * (1 + (m - 1) * icc))


@pytest.mark.parametrize(("nt", "nc", "p", "alpha", "pw", "icc", "m"), [
    (1000, 1000, 0.5, 0.05, 0.8, 0.0, 1.0),
    (3000, 1000, 0.45, 0.05, 0.8, 0.0, 1.0),
    (500, 1500, 0.2, 0.1, 0.9, 0.3, 1.8),
    (40, 25, 0.62, 0.01, 0.5, 0.5, 2.4),
])
def test_mde_and_power_equal_statsmodels(nt: int, nc: int, p: float, alpha: float, pw: float,
                                         icc: float, m: float) -> None:
    got = mde(nt, nc, p, alpha=alpha, power=pw, icc=icc, mean_cluster_size=m)
    es = zt_ind_solve_power(effect_size=None, nobs1=nt, ratio=nc / nt, alpha=alpha, power=pw,
                            alternative="two-sided")
    assert abs(got.itt - es * sd(p, icc, m)) < 1e-6
    assert abs(got.design_effect - (1 + (m - 1) * icc)) < 1e-12
    ref = NormalIndPower().power(effect_size=0.03 / sd(p, icc, m), nobs1=nt, ratio=nc / nt, alpha=alpha,
                                 alternative="two-sided")
    assert abs(power(0.03, nt, nc, p, alpha=alpha, icc=icc, mean_cluster_size=m) - ref) < 1e-6
    # at its own MDE the test has exactly the asked power
    assert abs(power(got.itt, nt, nc, p, alpha=alpha, icc=icc, mean_cluster_size=m) - pw) < 1e-6


@settings(max_examples=60, deadline=None)
@given(nt=st.integers(10, 100_000), nc=st.integers(10, 100_000), p=st.floats(0.02, 0.98),
       pw=st.floats(0.2, 0.95), icc=st.floats(0, 0.9), m=st.floats(1, 4))
def test_mde_solves_statsmodels_power_equation_over_random_designs(nt: int, nc: int, p: float, pw: float,
                                                                   icc: float, m: float) -> None:
    """statsmodels' own power function, at our MDE, gives the asked power. (Its solver
    stops at a power residual near 1e-5, which at low power moves the effect size by
    about 1e-6: our root is the tighter one, so the solver is compared at 1e-4.)"""
    got = mde(nt, nc, p, power=pw, icc=icc, mean_cluster_size=m).itt
    ref_power = NormalIndPower().power(effect_size=got / sd(p, icc, m), nobs1=nt, ratio=nc / nt, alpha=0.05)
    assert abs(ref_power - pw) < 1e-9
    es = zt_ind_solve_power(effect_size=None, nobs1=nt, ratio=nc / nt, alpha=0.05, power=pw)
    assert abs(got - es * sd(p, icc, m)) < 1e-4


def test_clustering_and_contact_rate_scale_the_mde() -> None:
    flat = mde(2000, 2000, 0.5)
    clustered = mde(2000, 2000, 0.5, icc=0.4, mean_cluster_size=2.0)
    assert design_effect(icc=0.4, mean_cluster_size=2.0) == pytest.approx(1.4)
    assert clustered.itt == pytest.approx(flat.itt * math.sqrt(1.4), rel=1e-9)
    partial = mde(2000, 2000, 0.5, contact_rate=0.25)
    assert partial.itt == pytest.approx(flat.itt) and partial.cace == pytest.approx(4 * flat.itt)
    # a CACE of the contacted is found as often as its ITT (rate times it) would be
    assert power(0.08, 2000, 2000, 0.5, contact_rate=0.25) == pytest.approx(power(0.02, 2000, 2000, 0.5))
    assert mde(8000, 8000, 0.5).itt == pytest.approx(flat.itt / 2, rel=1e-6)  # 4x the persons, half the MDE


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_treat": 1}, "treatment arm needs at least 2 persons"),
    ({"n_control": 0}, "control arm needs at least 2 persons"),
    ({"n_treat": 10.5}, "treatment arm needs at least 2 persons"),
    ({"base_rate": 0.0}, "base rate 0.0 must be a proportion strictly between 0 and 1"),
    ({"base_rate": 45}, "base rate 45 must be a proportion"),
    ({"alpha": 1.5}, "significance level 1.5"),
    ({"power": 1.0}, "power 1.0 must be between"),
    ({"icc": -0.1}, "intra-household correlation -0.1"),
    ({"mean_cluster_size": 0.5}, "mean household size 0.5 must be at least 1"),
    ({"contact_rate": 0.0}, "contact rate 0.0 must be above 0"),
    ({"contact_rate": 30}, "contact rate 30 must be above 0 and at most 1"),
])
def test_bad_inputs_say_what_is_wrong(kwargs: dict[str, float], message: str) -> None:
    args = {"n_treat": 100, "n_control": 100, "base_rate": 0.4, **kwargs}
    with pytest.raises(UserError, match=message):
        mde(args.pop("n_treat"), args.pop("n_control"), args.pop("base_rate"), **args)  # type: ignore[arg-type]
    if "power" not in kwargs:
        args = {"n_treat": 100, "n_control": 100, "base_rate": 0.4, **kwargs}
        with pytest.raises(UserError, match=message):
            power(0.05, args.pop("n_treat"), args.pop("n_control"), args.pop("base_rate"), **args)  # type: ignore[arg-type]
