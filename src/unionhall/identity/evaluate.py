"""Precision and recall of identity's links against a synthetic state's ground truth,
and of an exact-key baseline measured on the same records (tests and bench/).

The truth is the generator's ``truth/member_records.parquet``: for each member file
row (affiliate, row number) the true person and, if registered, the true NCID.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_TRUTH = """
truth AS (SELECT * FROM _id_truth WHERE record_kind = 'member'),
"""

EVAL_SQL = "WITH" + _TRUTH + """
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
"""  # noqa: S608  (constant SQL)

# Exact keys: a member links to the one voter with the same first name, last name and
# birth year (the NC file has the year only; a key shared by two voters links nobody);
# two member records of different affiliates are one person when first name, last name
# and full date of birth are equal.
_NAME = "nullif(trim(upper(strip_accents(coalesce({c}, '')))), '')"
BASELINE_SQL = "WITH" + _TRUTH + f"""
rec AS (
  SELECT t.person_id AS true_person, t.ncid AS true_ncid, t.affiliate_slug, t.row_number,
         {_NAME.format(c='m.first_name')} AS f, {_NAME.format(c='m.last_name')} AS l,
         m.dob, year(m.dob) AS y
  FROM truth t
  JOIN member_record m ON m.source = t.affiliate_slug AND m.row_number = t.row_number
       AND m.status = 'active'
),
voters AS (
  SELECT DISTINCT ncid, {_NAME.format(c='first_name')} AS f, {_NAME.format(c='last_name')} AS l,
         birth_year AS y
  FROM voter WHERE in_file
),
unique_key AS (
  SELECT f, l, y, any_value(ncid) AS ncid FROM voters GROUP BY ALL HAVING count(DISTINCT ncid) = 1
),
linked AS (
  SELECT r.*, u.ncid FROM rec r LEFT JOIN unique_key u USING (f, l, y)
),
links AS (
  SELECT count(ncid) AS predicted,
         count(*) FILTER (WHERE ncid IS NOT NULL AND ncid = true_ncid) AS correct,
         count(true_ncid) AS actual
  FROM linked
),
pred_pairs AS (
  SELECT a.true_person = b.true_person AS same_true FROM rec a
  JOIN rec b ON a.affiliate_slug < b.affiliate_slug AND a.f = b.f AND a.l = b.l AND a.dob = b.dob
),
true_pairs AS (
  SELECT count(*) AS n FROM rec a
  JOIN rec b ON a.affiliate_slug < b.affiliate_slug AND a.true_person = b.true_person
)
SELECT l.predicted, l.correct, l.actual,
       (SELECT count(*) FROM pred_pairs),
       (SELECT count(*) FROM pred_pairs WHERE same_true),
       (SELECT n FROM true_pairs)
FROM links l
"""  # noqa: S608  (constant SQL)


def _figures(row: Any) -> dict[str, float]:
    lp, lc, la, dp, dc, da = (int(x) for x in row)
    return {
        "link_precision": lc / lp if lp else 1.0,
        "link_recall": lc / la if la else 1.0,
        "links_predicted": lp, "links_true": la,
        "dual_precision": dc / dp if dp else 1.0,
        "dual_recall": dc / da if da else 1.0,
        "dual_pairs_predicted": dp, "dual_pairs_true": da,
    }


def _with_truth(warehouse: Any, state: Path | str, sql: str) -> Any:
    """The row of `sql` with the truth file as table ``_id_truth`` (registered from Arrow,
    so on either warehouse engine)."""
    import pyarrow.parquet as pq

    cur = warehouse.cursor()
    cur.register("_id_truth", pq.read_table(Path(state) / "truth" / "member_records.parquet"))
    try:
        return cur.execute(sql).fetchone()
    finally:
        cur.unregister("_id_truth")


def evaluate(warehouse: Any, state: Path | str) -> dict[str, float]:
    """Identity's member -> voter links and cross-affiliate person pairs against truth."""
    return _figures(_with_truth(warehouse, state, EVAL_SQL))


def evaluate_exact_key_baseline(warehouse: Any, state: Path | str) -> dict[str, float]:
    """The same figures for exact-key matching of the same imported records."""
    return _figures(_with_truth(warehouse, state, BASELINE_SQL))
