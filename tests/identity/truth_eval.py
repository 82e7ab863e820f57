"""Precision and recall of identity's links against the synthetic ground truth (the
code lives in `unionhall.identity.evaluate`, shared with bench/bench_identity.py)."""

from __future__ import annotations

from unionhall.identity.evaluate import evaluate, evaluate_exact_key_baseline

__all__ = ["evaluate", "evaluate_exact_key_baseline"]
