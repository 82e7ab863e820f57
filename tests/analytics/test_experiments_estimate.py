"""The estimators equal the reference implementations to 1e-6 (issue 13's acceptance
criterion): ITT coefficients and CR1 standard errors against statsmodels OLS with
`cov_type="cluster"` (its default small-sample correction G/(G-1)·(N-1)/(N-K)), CACE
against linearmodels IV2SLS with `cov_type="clustered", debiased=True` (which scales by
N/(N-K) · G/(G-1) · (N-1)/N: the same factor). The data have blocks, households of 1 to
5 persons assigned whole, one-sided noncompliance, and are built by the real `assign`.
The references build their own design matrices from formulas, so the dummies are not
shared with ours."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from hypothesis import given, settings
from hypothesis import strategies as st
from linearmodels.iv import IV2SLS

from unionhall.analytics import estimate
from unionhall.analytics.assign import assign

TOL = 1e-6


def experiment(seed: int, *, households: int = 600, arms: tuple[str, ...] = ("control", "door"),
               effect: float = 0.08, contact: float = 0.4) -> pl.DataFrame:
    """Persons in households of 1-5, blocked by precinct, assigned by household; only
    treated persons are contacted (one-sided noncompliance); the outcome moves for the
    contacted, with a household effect and a precinct effect."""
    rng = np.random.default_rng(seed)
    size = rng.integers(1, 6, households)
    hh = np.repeat(np.arange(households), size)
    n = hh.size
    precinct = rng.integers(0, 7, households)[hh]
    hh_u = rng.normal(0, 0.15, households)[hh]
    units = pl.DataFrame({"person_id": np.arange(n), "cluster": [f"door-{h}" for h in hh],
                          "block": [f"P{p:02d}" for p in precinct], "age": rng.integers(18, 90, n)})
    out = assign(units, arms=arms, block=["block"], cluster="cluster", seed=seed)
    treated = (out.get_column("arm") != "control").to_numpy()
    contacted = treated & (rng.random(n) < contact)
    base = 0.35 + 0.03 * precinct + hh_u
    y = (rng.random(n) < np.clip(base + effect * contacted, 0, 1)).astype(float)
    return out.with_columns(pl.Series("y", y), pl.Series("contacted", contacted))


def pandas_of(f: pl.DataFrame) -> pd.DataFrame:
    df = f.to_pandas()
    df["g"] = pd.factorize(df["cluster"])[0]
    df["d"] = df["contacted"].astype(float)
    return df


def statsmodels_itt(df: pd.DataFrame, *, fe: bool, covariates: str = "") -> Any:
    rhs = "C(arm, Treatment('control'))" + (" + C(block)" if fe else "") + covariates
    return smf.ols(f"y ~ {rhs}", df).fit(cov_type="cluster", cov_kwds={"groups": df["g"]}, use_t=True)


def linearmodels_cace(df: pd.DataFrame, *, fe: bool) -> Any:
    exog = sm.add_constant(pd.get_dummies(df["block"], drop_first=True, dtype=float)) if fe else \
        pd.DataFrame({"const": np.ones(len(df))}, index=df.index)
    return IV2SLS(df["y"], exog, df["d"], df["z"]).fit(cov_type="clustered", clusters=df["g"], debiased=True)


@pytest.mark.parametrize("fe", [False, True])
def test_itt_equals_statsmodels_cluster_ols(fe: bool) -> None:
    f = experiment(11)
    assert f.group_by("cluster").len().get_column("len").n_unique() == 5  # clusters of varying size
    (got,) = estimate.itt(f, block_effects=fe)
    ref = statsmodels_itt(pandas_of(f), fe=fe)
    name = "C(arm, Treatment('control'))[T.door]"
    assert abs(got.estimate - ref.params[name]) < TOL
    assert abs(got.se - ref.bse[name]) < TOL
    # statsmodels with use_t takes G-1 degrees of freedom for clustered errors, as we do
    assert abs(got.p_value - ref.pvalues[name]) < TOL
    lo, hi = ref.conf_int().loc[name]
    assert abs(got.ci_low - lo) < TOL and abs(got.ci_high - hi) < TOL
    assert got.clusters == f.get_column("cluster").n_unique() and got.n == f.height
    assert got.control_mean == pytest.approx(f.filter(pl.col("arm") == "control").get_column("y").mean())


@pytest.mark.parametrize("fe", [False, True])
def test_cace_equals_linearmodels_clustered_2sls(fe: bool) -> None:
    f = experiment(12)
    assert f.filter(pl.col("arm") == "control").get_column("contacted").sum() == 0  # one-sided
    (got,) = estimate.cace(f, block_effects=fe)
    df = pandas_of(f)
    df["z"] = (df["arm"] == "door").astype(float)
    ref = linearmodels_cace(df, fe=fe)
    assert abs(got.estimate - ref.params["d"]) < TOL
    assert abs(got.se - ref.std_errors["d"]) < TOL
    # the Wald ratio: ITT over the difference in contact rates (no blocks)
    if not fe:
        (i,) = estimate.itt(f)
        rate = f.filter(pl.col("arm") == "door").get_column("contacted").mean()
        assert got.estimate == pytest.approx(i.estimate / rate, rel=1e-9)


def test_three_arms_and_covariates_equal_the_references() -> None:
    f = experiment(13, households=900, arms=("control", "door", "phone"))
    (door, phone) = estimate.itt(f, block_effects=True, covariates=["age"])
    ref = statsmodels_itt(pandas_of(f), fe=True, covariates=" + age")
    for got, arm in ((door, "door"), (phone, "phone")):
        name = f"C(arm, Treatment('control'))[T.{arm}]"
        assert got.arm == arm
        assert abs(got.estimate - ref.params[name]) < TOL and abs(got.se - ref.bse[name]) < TOL
    for got in estimate.cace(f, block_effects=True):
        df = pandas_of(f.filter(pl.col("arm").is_in(["control", got.arm])))
        df["z"] = (df["arm"] == got.arm).astype(float)
        ref_iv = linearmodels_cace(df, fe=True)
        assert abs(got.estimate - ref_iv.params["d"]) < TOL and abs(got.se - ref_iv.std_errors["d"]) < TOL


def test_without_clusters_it_is_hc1() -> None:
    """Each person its own cluster: CR1's factor becomes N/(N-K), statsmodels' HC1."""
    f = experiment(14)
    (got,) = estimate.itt(f, cluster=None)
    df = pandas_of(f)
    ref = smf.ols("y ~ C(arm, Treatment('control'))", df).fit(cov_type="HC1")
    assert abs(got.se - ref.bse["C(arm, Treatment('control'))[T.door]"]) < TOL
    assert got.clusters == f.height


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), households=st.integers(40, 400), fe=st.booleans(),
       contact=st.floats(0.1, 0.9))
def test_random_experiments_equal_the_references(seed: int, households: int, fe: bool, contact: float) -> None:
    f = experiment(seed, households=households, contact=contact)
    if f.filter(pl.col("arm") == "door").get_column("contacted").sum() == 0:
        return
    df = pandas_of(f)
    (i,) = estimate.itt(f, block_effects=fe)
    ref = statsmodels_itt(df, fe=fe)
    name = "C(arm, Treatment('control'))[T.door]"
    assert abs(i.estimate - ref.params[name]) < TOL and abs(i.se - ref.bse[name]) < TOL
    (c,) = estimate.cace(f, block_effects=fe)
    df["z"] = (df["arm"] == "door").astype(float)
    ref_iv = linearmodels_cace(df, fe=fe)
    assert abs(c.estimate - ref_iv.params["d"]) < TOL and abs(c.se - ref_iv.std_errors["d"]) < TOL


def test_the_low_level_fits_equal_the_references_on_every_coefficient() -> None:
    f = experiment(15)
    df = pandas_of(f)
    df["z"] = (df["arm"] == "door").astype(float)
    x = sm.add_constant(pd.get_dummies(df[["arm", "block"]], drop_first=True, dtype=float))
    fit = estimate.ols(df["y"].to_numpy(), x.to_numpy(), groups=df["g"].to_numpy(), names=list(x.columns))
    ref = sm.OLS(df["y"], x).fit(cov_type="cluster", cov_kwds={"groups": df["g"]})
    assert np.abs(fit.coef - ref.params.to_numpy()).max() < TOL
    assert np.abs(fit.se - ref.bse.to_numpy()).max() < TOL
    assert np.abs(fit.cov - ref.cov_params().to_numpy()).max() < TOL
    exog = sm.add_constant(pd.get_dummies(df["block"], drop_first=True, dtype=float))
    xx = np.column_stack([exog.to_numpy(), df["d"]])
    zz = np.column_stack([exog.to_numpy(), df["z"]])
    iv = estimate.tsls(df["y"].to_numpy(), xx, zz, groups=df["g"].to_numpy())
    ref_iv = IV2SLS(df["y"], exog, df["d"], df["z"]).fit(cov_type="clustered", clusters=df["g"], debiased=True)
    assert np.abs(iv.coef - ref_iv.params.to_numpy()).max() < TOL
    assert np.abs(iv.se - ref_iv.std_errors.to_numpy()).max() < TOL


def test_bad_data_says_what_is_wrong() -> None:
    f = experiment(16, households=50)
    with pytest.raises(ValueError, match="no 'placebo' arm in the data"):
        estimate.itt(f, control="placebo")
    with pytest.raises(ValueError, match="at least 2 clusters"):
        estimate.itt(f.with_columns(pl.lit("one").alias("cluster")))
    with pytest.raises(ValueError, match="no missing values"):
        estimate.itt(f.with_columns(pl.when(pl.col("person_id") == 0).then(None).otherwise(pl.col("y")).alias("y")))
    with pytest.raises(ValueError, match="do not move treatment received"):
        estimate.cace(f.with_columns(pl.lit(False).alias("contacted")))
    with pytest.raises(ValueError, match="only one arm"):
        estimate.itt(f.filter(pl.col("arm") == "control"))
