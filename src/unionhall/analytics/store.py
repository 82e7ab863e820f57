"""Warehouse writes of analytics: score slots and imputed values (system writes of the
model and imputation jobs, inside the job's transaction). Reads for users go through the
gateway (`person_rows("person_score")`, `person_rows("person_imputed")`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from unionhall.analytics.evaluate import deciles
from unionhall.warehouse import Warehouse


def scores_replace(wh: Warehouse, *, slot: str, model_id: int, retired: Sequence[int], person_id: np.ndarray,
                   score: np.ndarray) -> int:
    """Write a model's scores (with their deciles) and drop those of the models it
    replaces in its slot. Returns the rows written."""
    cur = wh.cursor()
    for old in (*retired, model_id):
        cur.execute("DELETE FROM person_score WHERE model_id = ?", [int(old)])
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = pa.table({
        "slot": pa.array([slot] * len(person_id), pa.string()),
        "model_id": pa.array(np.full(len(person_id), model_id, dtype=np.int64)),
        "person_id": pa.array(np.asarray(person_id, dtype=np.int64)),
        "score": pa.array(np.asarray(score, dtype=np.float64)),
        "decile": pa.array(deciles(score)),
        "scored_at": pa.array([now] * len(person_id), pa.timestamp("us")),
    })
    cur.register("_uh_scores", rows)
    try:
        cur.execute("INSERT INTO person_score SELECT slot, model_id, person_id, score, decile, scored_at FROM _uh_scores")
    finally:
        cur.unregister("_uh_scores")
    return len(person_id)


IMPUTED_COLUMNS = ("person_id", "race", "race_probability", "race_probs", "race_method", "age_band",
                   "age_probability", "age_method", "imputed_at")


def imputed_replace(wh: Warehouse, rows: pa.Table) -> int:
    """Replace the imputed values of the persons in `rows` (columns of person_imputed)."""
    cur = wh.cursor()
    cur.register("_uh_imputed", rows)
    try:
        cur.execute("DELETE FROM person_imputed WHERE person_id IN (SELECT person_id FROM _uh_imputed)")
        cols = ", ".join(c for c in IMPUTED_COLUMNS if c in rows.column_names)
        cur.execute(f"INSERT INTO person_imputed ({cols}) SELECT {cols} FROM _uh_imputed")  # noqa: S608 (fixed names)
    finally:
        cur.unregister("_uh_imputed")
    return rows.num_rows
