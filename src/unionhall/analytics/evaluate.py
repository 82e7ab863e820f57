"""How good a score is, on people it was not trained on: AUC, calibration, decile lift.

Plain functions of (outcome, score) arrays, so a model card, a benchmark and a test
compute the same numbers; the AUC is scikit-learn's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score


def deciles(score: np.ndarray) -> np.ndarray:
    """1 (lowest tenth) .. 10 (highest tenth) by rank; ties broken by position, so every
    decile holds a tenth of the people (as the list builder's decile filter expects)."""
    n = len(score)
    if n == 0:
        return np.zeros(0, dtype=np.int16)
    order = np.argsort(score, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return (rank * 10 // n + 1).astype(np.int16)


def calibration(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Mean predicted and observed rate in `bins` groups of equal size by score."""
    out = []
    order = np.argsort(p, kind="stable")
    for part in np.array_split(order, bins):
        if len(part):
            out.append({"n": len(part), "predicted": float(p[part].mean()), "observed": float(y[part].mean())})
    return out


def lift_table(y: np.ndarray, p: np.ndarray) -> list[dict[str, float]]:
    """Outcome rate by score decile (10 = highest) and its lift over the overall rate."""
    d = deciles(p)
    base = float(y.mean()) if len(y) else 0.0
    out = []
    for k in range(10, 0, -1):
        m = d == k
        if m.any():
            rate = float(y[m].mean())
            out.append({"decile": k, "n": int(m.sum()), "rate": rate, "lift": rate / base if base else 0.0})
    return out


def evaluate(y: np.ndarray, p: np.ndarray, *, baseline: np.ndarray | None = None,
             baseline_name: str = "") -> dict[str, Any]:
    """The evaluation block of a model card. Needs both outcomes among `y`."""
    y = np.asarray(y, dtype=np.int8)
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-9, 1 - 1e-9)
    if len(set(y.tolist())) < 2:
        raise ValueError("evaluation needs people with both outcomes")
    cal = calibration(y, p)
    out: dict[str, Any] = {
        "n": len(y), "rate": float(y.mean()),
        "auc": float(roc_auc_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, p)),
        "mean_predicted": float(p.mean()),
        # Expected calibration error: share-weighted gap between predicted and observed.
        "calibration_error": float(sum(b["n"] * abs(b["predicted"] - b["observed"]) for b in cal) / len(y)),
        "calibration": cal,
        "lift": lift_table(y, p),
    }
    if baseline is not None:
        out["baseline"] = {"name": baseline_name, "auc": float(roc_auc_score(y, np.asarray(baseline, float)))}
    return out
