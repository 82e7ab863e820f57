"""Precision and recall of identity's links against the synthetic ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

EVAL_SQL = """
WITH truth AS (SELECT * FROM read_parquet('{truth}') WHERE record_kind = 'member'),
rec AS (
  SELECT t.person_id AS true_person, t.ncid AS true_ncid, t.affiliate_slug, t.row_number,
         r.person_id, r.voter_ncid
  FROM truth t
  JOIN member_record m ON m.source = t.affiliate_slug AND m.row_number = t.row_number
       AND m.status = 'active'
  JOIN identity_record r ON r.source_kind = 'member' AND r.source_name = m.source
       AND r.record_key = m.member_key
),
links AS (
  SELECT count(*) FILTER (WHERE voter_ncid IS NOT NULL) AS predicted,
         count(*) FILTER (WHERE voter_ncid IS NOT NULL AND voter_ncid = true_ncid) AS correct,
         count(*) FILTER (WHERE true_ncid IS NOT NULL) AS actual
  FROM rec
),
pairs AS (  -- cross-affiliate pairs of member records
  SELECT a.true_person = b.true_person AS same_true, a.person_id = b.person_id AS same_pred
  FROM rec a JOIN rec b ON a.affiliate_slug < b.affiliate_slug
       AND (a.true_person = b.true_person OR a.person_id = b.person_id)
)
SELECT l.predicted, l.correct, l.actual,
       (SELECT count(*) FROM pairs WHERE same_pred),
       (SELECT count(*) FROM pairs WHERE same_pred AND same_true),
       (SELECT count(*) FROM pairs WHERE same_true)
FROM links l
"""


def evaluate(warehouse: Any, state: Path | str) -> dict[str, float]:
    truth = Path(state) / "truth" / "member_records.parquet"
    row = warehouse.cursor().execute(EVAL_SQL.format(truth=truth)).fetchone()
    lp, lc, la, dp, dc, da = (int(x) for x in row)
    return {
        "link_precision": lc / lp if lp else 1.0,
        "link_recall": lc / la if la else 1.0,
        "links_predicted": lp, "links_true": la,
        "dual_precision": dc / dp if dp else 1.0,
        "dual_recall": dc / da if da else 1.0,
        "dual_pairs_predicted": dp, "dual_pairs_true": da,
    }
