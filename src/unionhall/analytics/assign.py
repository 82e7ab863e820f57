"""Random assignment for field experiments: simple, blocked and household-clustered,
reproducible from a seed, with a balance table.

Assignment is by unit (a person, or a household for cluster designs: everyone at one
door gets the same arm, so a canvass of one member does not treat the spouse in the
control group). Within each block, units are put in a random order drawn from the
seed and dealt to the arms in turn by their shares, so block sizes split as evenly as
the shares allow (complete random assignment, as estimatr/randomizr's `block_ra`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl


def assign(units: pl.DataFrame, *, arms: Sequence[str] = ("treatment", "control"),
           shares: Sequence[float] | None = None, block: Sequence[str] = (), cluster: str | None = None,
           seed: int, unit: str = "person_id") -> pl.DataFrame:
    """`units` with an `arm` column. `block`: columns whose combinations are blocks;
    `cluster`: a column (e.g. the door key) whose values are assigned together.
    ValueError naming what is wrong (unknown column, shares not summing to 1...)."""
    arms = list(arms)
    if len(arms) < 2 or len(set(arms)) != len(arms):
        raise ValueError("give two or more distinct arms")
    weights = np.full(len(arms), 1 / len(arms)) if shares is None else np.asarray(shares, dtype=float)
    if len(weights) != len(arms) or (weights <= 0).any() or abs(weights.sum() - 1) > 1e-9:
        raise ValueError(f"shares {list(weights)} must be one positive share per arm, summing to 1")
    missing = [c for c in [unit, *block, *([cluster] if cluster else [])] if c not in units.columns]
    if missing:
        raise ValueError(f"no column {', '.join(map(repr, missing))} among the units' columns")
    if units.get_column(unit).is_duplicated().any():
        raise ValueError(f"the units repeat a {unit}: each must be listed once")
    key = cluster or unit
    groups = units.select([key, *block]).unique(subset=[key], keep="first", maintain_order=True)
    if cluster and units.select([key, *block]).unique().height != groups.height:
        raise ValueError(f"a {cluster} spans blocks: block on something every member of a cluster shares")
    rng = np.random.default_rng(seed)
    groups = groups.sort([*block, key], nulls_last=True)
    order = rng.permutation(groups.height)
    groups = groups.with_columns(pl.Series("_r", np.argsort(order)))
    parts = []
    for part in (groups.partition_by(list(block), maintain_order=True) if block else [groups]):
        part = part.sort("_r")
        n = part.height
        # Counts per arm by largest remainder; which arm gets the odd unit is random too.
        exact = weights * n
        counts = np.floor(exact).astype(int)
        extra = n - counts.sum()
        if extra:
            tie = rng.random(len(arms))
            counts[np.lexsort((tie, -(exact - counts)))[:extra]] += 1
        labels = np.repeat(np.arange(len(arms)), counts)
        parts.append(part.with_columns(pl.Series("arm", np.asarray(arms)[labels])))
    dealt = pl.concat(parts).select(key, "arm")
    return units.join(dealt, on=key, how="left", maintain_order="left")


def balance_table(assigned: pl.DataFrame, covariates: Sequence[str], *, reference: str = "control") -> pl.DataFrame:
    """Mean of each numeric covariate by arm and the standardized difference of each other
    arm against `reference` (difference of means over the pooled standard deviation)."""
    arms = sorted(assigned.get_column("arm").unique().to_list(), key=lambda a: (a != reference, a))
    rows = []
    for c in covariates:
        x = assigned.get_column(c).cast(pl.Float64)
        by = {a: x.filter(assigned.get_column("arm") == a).drop_nulls().to_numpy() for a in arms}
        pooled = np.sqrt(np.mean([v.var(ddof=1) for v in by.values() if len(v) > 1] or [np.nan]))
        row: dict[str, object] = {"covariate": c}
        for a in arms:
            row[f"mean {a}"] = float(by[a].mean()) if len(by[a]) else None
        for a in arms[1:]:
            diff = by[a].mean() - by[arms[0]].mean() if len(by[a]) and len(by[arms[0]]) else np.nan
            row[f"std diff {a}"] = float(diff / pooled) if pooled and not np.isnan(diff) else None
        rows.append(row)
    return pl.DataFrame(rows)
