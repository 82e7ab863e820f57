"""Power and minimum detectable effect (MDE) of a two-arm experiment on a proportion
(turnout, a survey answer), for household-clustered assignment and partial contact.

The standard error of the difference in proportions between arms of `n_treat` and
`n_control` persons, at base rate p, is

    se = sqrt(p (1 - p) (1/n_treat + 1/n_control) * deff),   deff = 1 + (m - 1) * ICC

where m is the mean cluster (household) size and ICC the intra-household correlation
of the outcome (Kish's design effect: clustering makes n persons worth n / deff).
For a two-sided test at level alpha, the power against an effect d is

    power(d) = Phi(d / se - z) + Phi(-d / se - z),   z = Phi^-1(1 - alpha / 2)

(both tails: the same formula statsmodels' NormalIndPower uses), and the MDE is the d
with power(d) = `power`, about (z + Phi^-1(power)) * se. Only the persons who are
contacted can be moved: with contact rate c, the effect of the assignment (ITT) is
c times the effect on the contacted (CACE), so the CACE MDE is the ITT MDE over c.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from scipy import optimize, stats

from unionhall.errors import UserError


@dataclass(frozen=True)
class Mde:
    """Minimum detectable effects, in proportion points (0.02 = two points)."""

    itt: float
    cace: float
    se: float
    design_effect: float
    n_treat: int
    n_control: int
    base_rate: float
    alpha: float
    power: float
    contact_rate: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(n_treat: int, n_control: int, base_rate: float, alpha: float, icc: float,
           mean_cluster_size: float, contact_rate: float) -> None:
    for name, n in (("treatment", n_treat), ("control", n_control)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise UserError(f"the {name} arm needs at least 2 persons (got {n!r}): use a bigger list")
    if not 0 < base_rate < 1:
        raise UserError(f"base rate {base_rate!r} must be a proportion strictly between 0 and 1 (e.g. 0.45)")
    if not 0 < alpha < 1:
        raise UserError(f"significance level {alpha!r} must be between 0 and 1 (e.g. 0.05)")
    if not 0 <= icc <= 1:
        raise UserError(f"intra-household correlation {icc!r} must be between 0 and 1")
    if not mean_cluster_size >= 1:
        raise UserError(f"mean household size {mean_cluster_size!r} must be at least 1")
    if not 0 < contact_rate <= 1:
        raise UserError(f"contact rate {contact_rate!r} must be above 0 and at most 1 (e.g. 0.3)")


def design_effect(*, icc: float = 0.0, mean_cluster_size: float = 1.0) -> float:
    """Kish's design effect of assigning clusters of mean size m: 1 + (m - 1) * ICC."""
    return 1.0 + (mean_cluster_size - 1.0) * icc


def standard_error(n_treat: int, n_control: int, base_rate: float, *, icc: float = 0.0,
                   mean_cluster_size: float = 1.0) -> float:
    """Standard error of the difference of the two arms' proportions at `base_rate`."""
    deff = design_effect(icc=icc, mean_cluster_size=mean_cluster_size)
    return math.sqrt(base_rate * (1 - base_rate) * (1 / n_treat + 1 / n_control) * deff)


def _power_at(d: float, se: float, alpha: float) -> float:
    z = stats.norm.isf(alpha / 2)
    return float(stats.norm.cdf(d / se - z) + stats.norm.cdf(-d / se - z))


def power(effect: float, n_treat: int, n_control: int, base_rate: float, *, alpha: float = 0.05,
          icc: float = 0.0, mean_cluster_size: float = 1.0, contact_rate: float = 1.0) -> float:
    """Probability that a two-sided test at `alpha` finds an effect of `effect` (in
    proportion points) on the persons contacted; with `contact_rate` 1 (the default)
    that is the effect of the assignment itself."""
    _check(n_treat, n_control, base_rate, alpha, icc, mean_cluster_size, contact_rate)
    se = standard_error(n_treat, n_control, base_rate, icc=icc, mean_cluster_size=mean_cluster_size)
    return _power_at(abs(effect) * contact_rate, se, alpha)


def mde(n_treat: int, n_control: int, base_rate: float, *, alpha: float = 0.05, power: float = 0.8,
        icc: float = 0.0, mean_cluster_size: float = 1.0, contact_rate: float = 1.0) -> Mde:
    """The smallest effects a two-sided test at `alpha` finds with probability `power`:
    of the assignment (ITT) and on the contacted (CACE = ITT / contact rate)."""
    _check(n_treat, n_control, base_rate, alpha, icc, mean_cluster_size, contact_rate)
    if not alpha / 2 < power < 1:
        raise UserError(f"power {power!r} must be between {alpha / 2:g} and 1 (e.g. 0.8)")
    se = standard_error(n_treat, n_control, base_rate, icc=icc, mean_cluster_size=mean_cluster_size)
    z = stats.norm.isf(alpha / 2)
    # The one-tail answer is a tight upper bound; the other tail only lowers it.
    upper = (z + stats.norm.ppf(power)) * se
    if power <= _power_at(0.0, se, alpha):
        itt = 0.0
    else:
        itt = float(optimize.brentq(lambda d: _power_at(d, se, alpha) - power, 0.0, upper + se,
                                    xtol=1e-14, rtol=1e-14))
    return Mde(itt=itt, cace=itt / contact_rate, se=se,
               design_effect=design_effect(icc=icc, mean_cluster_size=mean_cluster_size),
               n_treat=n_treat, n_control=n_control, base_rate=base_rate, alpha=alpha, power=power,
               contact_rate=contact_rate)
