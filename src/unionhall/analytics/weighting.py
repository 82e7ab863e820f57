"""Poll weighting and design-based estimates, in plain numpy.

* `rake`: iterative proportional fitting (raking) of base weights to the margins of
  several categorical variables, the same algorithm and stopping rule as samplics'
  `SampleWeight().rake` (each pass post-stratifies every variable in turn; it stops
  when, after a pass, every category's weighted total moved by at most `tol` relative
  to the pass before and is within `ctrl_tol` of its target), so with the same data
  and settings the weights agree to rounding. Optional bounds cap each weight's ratio
  to its base weight inside the loop (raking with trimming).
* `proportions`: weighted shares of the categories of one answer, with standard
  errors by Taylor linearization (with-replacement design, weights only, optionally
  strata), the 95% margin of error t(df)·SE, samplics' logit confidence interval, the
  unweighted n and Kish's design effect of the weights. Domains (a crosstab's rows,
  the respondents who answered) are estimated as domains: every respondent counts in
  the variance, the ones outside the domain with a score of zero.

Tests compare both with samplics on the same data (tests/analytics/test_weighting.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import t as student

from unionhall.errors import UserError

DEFAULT_TOL = 1e-4  # samplics' defaults, so a comparison needs no settings
DEFAULT_MAX_ITER = 100
_TOTAL_RTOL = 1e-6


@dataclass(frozen=True)
class MarginCheck:
    """One category of a raking variable: its target share, the poll's unweighted
    share and the weighted share the raked weights achieve."""

    variable: str
    category: str
    n: int
    target: float
    unweighted: float
    achieved: float


@dataclass(frozen=True)
class RakeResult:
    weights: np.ndarray
    iterations: int
    converged: bool
    margins: list[MarginCheck]
    trimmed: int  # weights at a bound when the loop ended

    @property
    def deff(self) -> float:
        return kish_deff(self.weights)

    @property
    def effective_n(self) -> float:
        return effective_n(self.weights)

    @property
    def max_margin_error(self) -> float:
        return max((abs(m.achieved - m.target) for m in self.margins), default=0.0)


def kish_deff(weights: np.ndarray) -> float:
    """Kish's design effect of unequal weights, n·Σw²/(Σw)² (1 for equal weights)."""
    w = np.asarray(weights, dtype=float)
    if w.size == 0:
        return float("nan")
    return float(w.size * np.sum(w * w) / np.sum(w) ** 2)


def effective_n(weights: np.ndarray) -> float:
    """The sample size equal weights would need for the same precision, (Σw)²/Σw²."""
    w = np.asarray(weights, dtype=float)
    return float(np.sum(w) ** 2 / np.sum(w * w)) if w.size else 0.0


def _codes(values: Sequence[Any] | np.ndarray, variable: str, categories: list[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(categories)}
    arr = np.asarray(values, dtype=object)
    out = np.empty(arr.shape[0], dtype=np.int64)
    unknown: dict[str, int] = {}
    for i, v in enumerate(arr.tolist()):
        k = index.get(str(v)) if v is not None else None
        if k is None:
            unknown[str(v)] = unknown.get(str(v), 0) + 1
            k = -1
        out[i] = k
    if unknown:
        listing = ", ".join(f"{v!r} ({n})" for v, n in sorted(unknown.items()))
        raise UserError(f"{variable}: respondents have values with no target margin: {listing}; "
                        f"give a target for each or collapse them into a category that has one "
                        f"(targets: {', '.join(categories)})")
    return out


def _targets(targets: Mapping[str, Mapping[str, float]], base_total: float, total: float | None
             ) -> dict[str, dict[str, float]]:
    """The targets as totals: proportions (each variable summing to 1) are scaled to
    `total` (default: the sum of the base weights); totals must agree across variables."""
    out: dict[str, dict[str, float]] = {}
    sums: dict[str, float] = {}
    for var, cats in targets.items():
        if not cats:
            raise UserError(f"{var}: no target margins given")
        bad = {c: v for c, v in cats.items() if not (isinstance(v, int | float) and math.isfinite(v) and v > 0)}
        if bad:
            raise UserError(f"{var}: target margins must be positive numbers, not {bad}; drop empty categories "
                            "or collapse them")
        out[var] = {str(c): float(v) for c, v in cats.items()}
        sums[var] = float(sum(out[var].values()))
    if all(abs(s - 1.0) <= _TOTAL_RTOL for s in sums.values()):
        scale = base_total if total is None else float(total)
        return {var: {c: v * scale for c, v in cats.items()} for var, cats in out.items()}
    first = next(iter(sums.values()))
    if any(abs(s - first) > _TOTAL_RTOL * max(abs(first), 1.0) for s in sums.values()):
        listing = ", ".join(f"{v} {s:,.6g}" for v, s in sums.items())
        raise UserError(f"the margins do not sum to the same total ({listing}): give every variable's "
                        "margins over the same population, as counts or as shares summing to 1")
    return out


def rake(
    base_weight: Sequence[float] | np.ndarray,
    variables: Mapping[str, Sequence[Any] | np.ndarray],
    targets: Mapping[str, Mapping[str, float]],
    *,
    total: float | None = None,
    tol: float = DEFAULT_TOL,
    ctrl_tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    bounds: tuple[float, float] | None = None,
) -> RakeResult:
    """Rake `base_weight` so that the weighted totals of each variable's categories
    equal `targets` (counts, or shares summing to 1 that are scaled to `total`).

    `variables` holds each respondent's category of each raking variable, in the order
    the variables are fitted. `bounds=(low, high)` keeps every weight between low and
    high times its base weight (scaled by the ratio of the target total to the base
    total), clipping after each pass; the margins then hold to `ctrl_tol` only if the
    bounds allow it (otherwise the loop does not converge: widen them).

    Raises `UserError` for margins that cannot be met: a target category without
    respondents, respondents in a category without a target, margins over different
    totals, a missing value.
    """
    w0 = np.asarray(base_weight, dtype=float)
    n = w0.size
    if n == 0:
        raise UserError("no respondents to weight")
    if not np.all(np.isfinite(w0)) or np.any(w0 <= 0):
        raise UserError("base weights must be positive numbers")
    if set(variables) != set(targets):
        raise UserError(f"raking variables {sorted(variables)} and margins {sorted(targets)} differ")
    if not variables:
        raise UserError("rake on at least one variable")
    goals = _targets(targets, float(w0.sum()), total)
    names = list(variables)
    cats = {v: list(goals[v]) for v in names}
    codes = {v: _codes(variables[v], v, cats[v]) for v in names}
    if any(c.size != n for c in codes.values()):
        raise UserError("every raking variable needs one value per respondent")
    ctrl = {v: np.array([goals[v][c] for c in cats[v]]) for v in names}
    for v in names:
        counts = np.bincount(codes[v], minlength=len(cats[v]))
        empty = [c for c, k in zip(cats[v], counts, strict=True) if k == 0]
        if empty:
            raise UserError(f"{v}: no respondent in {', '.join(repr(c) for c in empty)}, which the margins "
                            "require: collapse it into a neighbouring category or rake without it")
    lo = hi = None
    if bounds is not None:
        low, high = bounds
        if not (0 < low <= 1 <= high):
            raise UserError(f"weight bounds must satisfy 0 < low <= 1 <= high, not {bounds}")
        scale = next(iter(ctrl.values())).sum() / w0.sum()
        lo, hi = w0 * scale * low, w0 * scale * high

    w = w0.copy()
    prev = w0
    converged = False
    iterations = 0
    while not converged and iterations < max_iter:
        for v in names:
            sums = np.bincount(codes[v], weights=w, minlength=ctrl[v].size)
            w = w * (ctrl[v] / sums)[codes[v]]
        if lo is not None and hi is not None:
            w = np.clip(w, lo, hi)
        moved = ctrl_off = 0.0
        for v in names:
            now = np.bincount(codes[v], weights=w, minlength=ctrl[v].size)
            before = np.bincount(codes[v], weights=prev, minlength=ctrl[v].size)
            moved = max(moved, float(np.max(np.abs(now - before) / before)))
            ctrl_off = max(ctrl_off, float(np.max(np.abs(now - ctrl[v]) / ctrl[v])))
        converged = moved <= tol and ctrl_off <= ctrl_tol
        prev = w
        iterations += 1
    trimmed = 0 if lo is None or hi is None else int(np.sum((w <= lo * (1 + 1e-12)) | (w >= hi * (1 - 1e-12))))
    return RakeResult(weights=w, iterations=iterations, converged=converged,
                      margins=margin_checks(w0, w, variables=codes, categories=cats, targets=ctrl),
                      trimmed=trimmed)


def margin_checks(base: np.ndarray, weights: np.ndarray, *, variables: Mapping[str, np.ndarray],
                  categories: Mapping[str, list[str]], targets: Mapping[str, np.ndarray]) -> list[MarginCheck]:
    """Target, unweighted and weighted shares of every category (codes per respondent)."""
    out = []
    n = weights.size
    for v, codes in variables.items():
        k = len(categories[v])
        counts = np.bincount(codes, minlength=k)
        got = np.bincount(codes, weights=weights, minlength=k) / weights.sum()
        goal = targets[v] / targets[v].sum()
        for i, c in enumerate(categories[v]):
            out.append(MarginCheck(variable=v, category=c, n=int(counts[i]), target=float(goal[i]),
                                   unweighted=float(counts[i] / n), achieved=float(got[i])))
    return out


# -- estimates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """One answer's weighted share among the respondents of a domain who answered."""

    category: str
    n: int  # respondents giving this answer
    share: float
    se: float
    moe: float  # t(df, 0.975)·SE: the "±" a poll reports
    ci_low: float  # samplics' logit interval
    ci_high: float


@dataclass(frozen=True)
class ShareTable:
    """The answers of one domain (the whole poll, or a crosstab's row)."""

    domain: str | None
    n: int  # respondents of the domain who answered
    weighted: float  # their sum of weights
    deff: float  # Kish, over those respondents
    effective_n: float
    df: int
    shares: list[Share] = field(default_factory=list)

    def share(self, category: str) -> Share | None:
        return next((s for s in self.shares if s.category == category), None)


def _degrees_of_freedom(n: int, strata: np.ndarray | None) -> int:
    """Units minus strata, as samplics counts them (every respondent is a PSU)."""
    return n - (1 if strata is None else int(np.unique(strata).size))


def _logit_ci(p: float, se: float, q: float) -> tuple[float, float]:
    if p <= 0.0:
        return 0.0, 0.0
    if p >= 1.0:
        return 1.0, 1.0
    loc = math.log(p / (1 - p))
    scale = se / (p * (1 - p))
    lo, hi = loc - q * scale, loc + q * scale
    return math.exp(lo) / (1 + math.exp(lo)), math.exp(hi) / (1 + math.exp(hi))


def _variance(scores: np.ndarray, strata_codes: np.ndarray | None) -> np.ndarray:
    """Σ_h n_h/(n_h-1) Σ_i (z_hi - z̄_h)² per column of the scores (with replacement)."""
    if strata_codes is None:
        m = scores.shape[0]
        d = scores - scores.mean(axis=0)
        return np.asarray((m / (m - 1)) * np.sum(d * d, axis=0))
    k = int(strata_codes.max()) + 1
    nh = np.bincount(strata_codes, minlength=k).astype(float)
    out = np.zeros(scores.shape[1])
    for j in range(scores.shape[1]):
        col = scores[:, j]
        sums = np.bincount(strata_codes, weights=col, minlength=k)
        sq = np.bincount(strata_codes, weights=col * col, minlength=k)
        ok = nh > 1
        within = sq[ok] - sums[ok] ** 2 / nh[ok]
        out[j] = float(np.sum(nh[ok] / (nh[ok] - 1) * within))
    return out


def proportions(
    answers: Sequence[Any] | np.ndarray,
    weights: Sequence[float] | np.ndarray,
    *,
    domain: Sequence[Any] | np.ndarray | None = None,
    strata: Sequence[Any] | np.ndarray | None = None,
    categories: Sequence[str] | None = None,
    alpha: float = 0.05,
) -> list[ShareTable]:
    """Weighted shares of each answer with design-based standard errors.

    `answers` holds each respondent's answer (None: did not answer, left out of the
    shares but kept in the variance as outside the domain). With `domain`, one table per
    domain value (a crosstab's rows); without, one table for the whole poll. `strata`
    gives each respondent's stratum (variance within strata). `categories` fixes the
    answers listed and their order (default: the answers given, sorted).
    """
    y = np.asarray([None if a is None else str(a) for a in np.asarray(answers, dtype=object).tolist()],
                   dtype=object)
    w = np.asarray(weights, dtype=float)
    n = w.size
    if y.size != n:
        raise ValueError("one answer per weight")
    answered = np.array([a is not None for a in y.tolist()], dtype=bool)
    cats = list(categories) if categories is not None else sorted({str(a) for a in y[answered].tolist()})
    index = {c: i for i, c in enumerate(cats)}
    ycode = np.array([index.get(a, -1) if a is not None else -1 for a in y.tolist()], dtype=np.int64)
    answered &= ycode >= 0
    dummies = np.zeros((n, len(cats)))
    dummies[np.nonzero(answered)[0], ycode[answered]] = 1.0
    s_codes = None
    if strata is not None:
        _, s_codes = np.unique(np.asarray([str(s) for s in np.asarray(strata, dtype=object).tolist()]),
                               return_inverse=True)
    df = _degrees_of_freedom(n, s_codes)
    q = float(student.ppf(1 - alpha / 2, df=df)) if df > 0 else float("nan")
    if domain is None:
        groups: list[tuple[str | None, np.ndarray]] = [(None, answered)]
    else:
        d = np.asarray([None if v is None else str(v) for v in np.asarray(domain, dtype=object).tolist()],
                       dtype=object)
        values = sorted({v for v in d.tolist() if v is not None})
        groups = [(v, answered & (d == v)) for v in values]
    out = []
    for label, mask in groups:
        wd = np.where(mask, w, 0.0)
        total = float(wd.sum())
        m = int(mask.sum())
        if m == 0 or total <= 0:
            out.append(ShareTable(domain=label, n=0, weighted=0.0, deff=float("nan"), effective_n=0.0, df=df,
                                  shares=[Share(c, 0, float("nan"), float("nan"), float("nan"), float("nan"),
                                                float("nan")) for c in cats]))
            continue
        p = (wd @ dummies) / total
        scores = (dummies - p) * (wd / total)[:, None]
        se = np.sqrt(_variance(scores, s_codes)) if n > 1 else np.full(len(cats), float("nan"))
        counts = dummies[mask].sum(axis=0)
        shares = []
        for i, c in enumerate(cats):
            lo, hi = _logit_ci(float(p[i]), float(se[i]), q)
            shares.append(Share(category=c, n=int(counts[i]), share=float(p[i]), se=float(se[i]),
                                moe=float(q * se[i]), ci_low=lo, ci_high=hi))
        out.append(ShareTable(domain=label, n=m, weighted=total, deff=kish_deff(w[mask]),
                              effective_n=effective_n(w[mask]), df=df, shares=shares))
    return out
