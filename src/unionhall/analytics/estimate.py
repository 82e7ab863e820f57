"""Estimators of a randomized experiment: intent-to-treat (ITT) by OLS and the effect on
compliers (CACE) by two-stage least squares, with cluster-robust standard errors.

Written on numpy alone so what is computed is on this page; the tests check every
coefficient and standard error against statsmodels and linearmodels to 1e-6
(docs/analytics/experiments.md).

* ITT: Y = a + sum_k b_k Z_k [+ block dummies] [+ covariates] + e, one assignment
  dummy Z_k per arm other than control; b_k is arm k's ITT.
* CACE of arm k: on the persons of arm k and control, Y = a + c D [+ ...] + e with D
  (treatment received: contacted) instrumented by Z_k; c is the Wald / 2SLS estimate,
  ITT over the difference in contact rates. Each arm against control on its own, so a
  control person contacted by mistake (two-sided noncompliance) counts as treated.
* Variance: CR1, the sandwich summed over clusters (households: whole households were
  assigned together) with Stata's small-sample factor

      V = q (X'X)^-1 [sum_g X_g' e_g e_g' X_g] (X'X)^-1,   q = G/(G-1) * (N-1)/(N-K)

  (for 2SLS, X replaced by its first-stage fit X^ = P_Z X in the bread and the meat,
  e the structural residual Y - X b; K counts every column of X, block dummies
  included). Tests and intervals use Student's t with G-1 degrees of freedom, as Stata
  and estimatr do for clustered errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

Array = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class Fit:
    """Coefficients, their CR1 covariance, and the sample they came from."""

    names: list[str]
    coef: Array
    cov: Array
    n: int
    clusters: int

    @property
    def se(self) -> Array:
        # a coefficient known exactly (an outcome constant in a group) may round below 0
        return np.asarray(np.sqrt(np.clip(np.diag(self.cov), 0.0, None)), dtype=np.float64)

    @property
    def df(self) -> int:
        return self.clusters - 1

    def of(self, name: str) -> tuple[float, float]:
        i = self.names.index(name)
        return float(self.coef[i]), float(self.se[i])


def _cluster_index(groups: Sequence[Any] | np.ndarray[Any, Any] | None, n: int) -> tuple[np.ndarray[Any, Any], int]:
    if groups is None:
        return np.arange(n), n
    g = np.asarray(groups)
    if g.shape[0] != n:
        raise ValueError(f"{g.shape[0]} cluster ids for {n} rows")
    _, idx = np.unique(g, return_inverse=True)
    return idx, int(idx.max()) + 1 if n else 0


def _check(y: Array, x: Array, g: int, what: str) -> None:
    n, k = x.shape
    if not np.isfinite(y).all() or not np.isfinite(x).all():
        raise ValueError(f"{what}: the outcome and regressors must have no missing values")
    if g < 2:
        raise ValueError(f"{what}: clustered standard errors need at least 2 clusters (got {g})")
    if n <= k:
        raise ValueError(f"{what}: {n} rows cannot estimate {k} coefficients")
    if np.linalg.matrix_rank(x) < k:
        raise ValueError(f"{what}: the regressors are collinear (an arm or block with no variation?)")


def _cr1(score: Array, bread: Array, idx: np.ndarray[Any, Any], g: int, n: int, k: int) -> Array:
    """q * bread * sum over clusters of (score_g' 1)(1' score_g) * bread."""
    sums = np.zeros((g, score.shape[1]))
    np.add.at(sums, idx, score)
    meat = sums.T @ sums
    q = g / (g - 1) * (n - 1) / (n - k)
    cov = q * bread @ meat @ bread
    return np.asarray((cov + cov.T) / 2, dtype=np.float64)


def ols(y: Array, x: Array, *, groups: Sequence[Any] | np.ndarray[Any, Any] | None = None,
        names: Sequence[str] | None = None) -> Fit:
    """OLS of `y` on `x` (include the constant column yourself) with CR1 standard
    errors clustered by `groups` (None: each row its own cluster, i.e. HC1)."""
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    n, k = x.shape
    idx, g = _cluster_index(groups, n)
    _check(y, x, g, "OLS")
    bread = np.asarray(np.linalg.inv(x.T @ x), dtype=np.float64)
    coef = bread @ (x.T @ y)
    resid = y - x @ coef
    cov = _cr1(x * resid[:, None], bread, idx, g, n, k)
    return Fit(list(names or [f"x{i}" for i in range(k)]), coef, cov, n, g)


def tsls(y: Array, x: Array, z: Array, *, groups: Sequence[Any] | np.ndarray[Any, Any] | None = None,
         names: Sequence[str] | None = None) -> Fit:
    """Two-stage least squares of `y` on `x` (exogenous and endogenous columns) with
    instruments `z` (the exogenous columns and the excluded instruments), CR1 standard
    errors clustered by `groups`."""
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    n, k = x.shape
    if z.shape[0] != n or z.shape[1] < k:
        raise ValueError(f"2SLS: {z.shape[1]} instruments for {k} regressors: need at least as many")
    idx, g = _cluster_index(groups, n)
    _check(y, z, g, "2SLS first stage")
    xhat = z @ np.linalg.solve(z.T @ z, z.T @ x)
    if np.linalg.matrix_rank(xhat) < k:
        raise ValueError("2SLS: the instruments do not move treatment received (nobody contacted?)")
    bread = np.asarray(np.linalg.inv(xhat.T @ xhat), dtype=np.float64)
    coef = bread @ (xhat.T @ y)
    resid = y - x @ coef
    cov = _cr1(xhat * resid[:, None], bread, idx, g, n, k)
    return Fit(list(names or [f"x{i}" for i in range(k)]), coef, cov, n, g)


# -- an experiment's data frame ---------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    """One arm's effect against control."""

    estimator: str  # "ITT" | "CACE"
    arm: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    clusters: int
    control_mean: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _effect(estimator: str, arm: str, fit: Fit, name: str, control_mean: float) -> Effect:
    b, se = fit.of(name)
    t = stats.t.ppf(0.975, fit.df)
    p = float(2 * stats.t.sf(abs(b / se), fit.df)) if se > 0 else float("nan")
    return Effect(estimator, arm, b, se, b - t * se, b + t * se, p, fit.n, fit.clusters, control_mean)


def design_matrix(frame: pl.DataFrame, *, columns: Sequence[str], block: str | None = None,
                  block_effects: bool = False, covariates: Sequence[str] = ()) -> tuple[Array, list[str]]:
    """Constant, `columns`, block dummies (all blocks but the first, sorted) when
    `block_effects`, then `covariates` (numeric, no missing values)."""
    parts = [np.ones(frame.height)]
    names = ["const"]
    for c in columns:
        parts.append(frame.get_column(c).cast(pl.Float64).to_numpy())
        names.append(c)
    if block_effects:
        if block is None or block not in frame.columns:
            raise ValueError("block fixed effects need the block column")
        b = frame.get_column(block).cast(pl.Utf8).fill_null("")
        for level in sorted(b.unique().to_list())[1:]:
            parts.append((b == level).cast(pl.Float64).to_numpy())
            names.append(f"block[{level}]")
    for c in covariates:
        parts.append(frame.get_column(c).cast(pl.Float64).to_numpy())
        names.append(c)
    return np.column_stack(parts), names


def _arms(frame: pl.DataFrame, arm: str, control: str) -> list[str]:
    arms = sorted(a for a in frame.get_column(arm).unique().to_list() if a is not None)
    if control not in arms:
        raise ValueError(f"no {control!r} arm in the data: name the control arm")
    if len(arms) < 2:
        raise ValueError("only one arm in the data: nothing to compare")
    return [a for a in arms if a != control]


def _prepared(frame: pl.DataFrame, *, outcome: str, arm: str, cluster: str | None) -> pl.DataFrame:
    return frame.with_columns(
        pl.col(outcome).cast(pl.Float64).alias("_y"),
        (pl.col(cluster).cast(pl.Utf8) if cluster else pl.int_range(pl.len()).cast(pl.Utf8)).alias("_g"),
    )


def itt(frame: pl.DataFrame, *, outcome: str = "y", arm: str = "arm", control: str = "control",
        cluster: str | None = "cluster", block: str | None = "block", block_effects: bool = False,
        covariates: Sequence[str] = ()) -> list[Effect]:
    """Each arm's ITT against control: one OLS of the outcome on the arm dummies."""
    treated = _arms(frame, arm, control)
    f = _prepared(frame, outcome=outcome, arm=arm, cluster=cluster)
    f = f.with_columns([(pl.col(arm) == a).cast(pl.Float64).alias(f"_z{i}") for i, a in enumerate(treated)])
    x, names = design_matrix(f, columns=[f"_z{i}" for i in range(len(treated))], block=block,
                             block_effects=block_effects, covariates=covariates)
    fit = ols(f.get_column("_y").to_numpy(), x, groups=f.get_column("_g").to_numpy(), names=names)
    cm = float(f.filter(pl.col(arm) == control).get_column("_y").mean())  # type: ignore[arg-type]
    return [_effect("ITT", a, fit, f"_z{i}", cm) for i, a in enumerate(treated)]


def cace(frame: pl.DataFrame, *, outcome: str = "y", received: str = "contacted", arm: str = "arm",
         control: str = "control", cluster: str | None = "cluster", block: str | None = "block",
         block_effects: bool = False, covariates: Sequence[str] = ()) -> list[Effect]:
    """Each arm's CACE against control: 2SLS of the outcome on treatment received,
    instrumented by assignment to the arm, on that arm and control."""
    out = []
    f0 = _prepared(frame, outcome=outcome, arm=arm, cluster=cluster)
    for a in _arms(frame, arm, control):
        f = f0.filter(pl.col(arm).is_in([a, control])).with_columns(
            (pl.col(arm) == a).cast(pl.Float64).alias("_z"), pl.col(received).cast(pl.Float64).alias("_d"))
        x, names = design_matrix(f, columns=["_d"], block=block, block_effects=block_effects,
                                 covariates=covariates)
        z, _ = design_matrix(f, columns=["_z"], block=block, block_effects=block_effects, covariates=covariates)
        fit = tsls(f.get_column("_y").to_numpy(), x, z, groups=f.get_column("_g").to_numpy(), names=names)
        cm = float(f.filter(pl.col(arm) == control).get_column("_y").mean())  # type: ignore[arg-type]
        out.append(_effect("CACE", a, fit, "_d", cm))
    return out


def compliance(frame: pl.DataFrame, *, received: str = "contacted", arm: str = "arm",
               outcome: str | None = "y") -> list[dict[str, Any]]:
    """Persons, contacted and the contact rate of each arm (and the outcome's mean)."""
    aggs = [pl.len().alias("n"), pl.col(received).cast(pl.Int64).sum().alias("contacted"),
            pl.col(received).cast(pl.Float64).mean().alias("contact_rate")]
    if outcome:
        aggs.append(pl.col(outcome).cast(pl.Float64).mean().alias("outcome_mean"))
    return frame.group_by(arm).agg(aggs).sort(arm).rename({arm: "arm"}).to_dicts()
