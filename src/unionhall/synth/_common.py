"""Small shared helpers: per-component random streams and date arithmetic."""

from __future__ import annotations

import datetime as dt
import zlib

import numpy as np

EPOCH = dt.date(1970, 1, 1)


def rng_for(seed: int, component: str) -> np.random.Generator:
    """An independent random stream for one component of the generator.

    Each component draws from its own stream keyed by (seed, name), so changing how
    many numbers one component draws never shifts another component's output.
    """
    return np.random.default_rng([seed, zlib.crc32(component.encode("ascii"))])


def day_number(date: dt.date) -> int:
    """Days since 1970-01-01 (the numpy/polars date representation)."""
    return (date - EPOCH).days


def pick_exact(rng: np.random.Generator, eligible: np.ndarray, rate: float) -> np.ndarray:
    """Boolean mask choosing exactly round(rate * eligible.sum()) of the eligible rows."""
    idx = np.flatnonzero(eligible)
    k = round(rate * idx.size)
    out = np.zeros(eligible.shape[0], dtype=bool)
    if k:
        out[rng.choice(idx, size=k, replace=False)] = True
    return out


def weighted_choice(rng: np.random.Generator, cdf: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn from a discrete distribution given by its cumulative sums."""
    return np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right")
