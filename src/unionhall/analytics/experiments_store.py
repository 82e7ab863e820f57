"""Warehouse reads and writes of experiments that are not person reads for a user: the
households of the persons being assigned, as opaque numbers, and an experiment's
assignment (``experiment_unit``). The persons themselves were read through the gateway
by the designing analyst (`analytics.experiments.experiment_create`).

Households are assigned whole, but analysts see no addresses (`access.scope`): the
door key stays here, and the design gets only which of its persons share a door,
numbered by the household's lowest person id (nothing about the address: not even its
order).
"""

from __future__ import annotations

import pyarrow as pa

from unionhall.warehouse import Warehouse

UNIT_SCHEMA = pa.schema([("experiment_id", pa.int64()), ("person_id", pa.int64()), ("arm", pa.string()),
                         ("block", pa.string()), ("cluster", pa.string())])


def household_numbers(wh: Warehouse, *, person_ids: pa.Array | pa.ChunkedArray) -> pa.Table:
    """person_id, household (a number shared by the persons of `person_ids` at one
    door) for those of them with a door; the others are absent."""
    cur = wh.cursor()
    cur.register("_experiment_ids", pa.table({"person_id": person_ids.cast(pa.int64())}))
    try:
        return cur.execute(
            "SELECT person_id, dense_rank() OVER (ORDER BY first_id) AS household FROM ("
            "  SELECT p.person_id, min(p.person_id) OVER (PARTITION BY p.door_key) AS first_id"
            "  FROM person p JOIN (SELECT DISTINCT person_id FROM _experiment_ids) i ON i.person_id = p.person_id"
            "  WHERE p.door_key IS NOT NULL) ORDER BY person_id").fetch_arrow_table()
    finally:
        cur.unregister("_experiment_ids")


def experiment_units_write(wh: Warehouse, *, experiment_id: int, rows: pa.Table) -> int:
    """Replace experiment `experiment_id`'s assignment by `rows` (person_id, arm, block,
    cluster); runs in the caller's warehouse transaction. Returns the rows written."""
    rows = pa.table({"experiment_id": pa.array([experiment_id] * rows.num_rows, pa.int64()),
                     **{c: rows.column(c) for c in ("person_id", "arm", "block", "cluster")}}).cast(UNIT_SCHEMA)
    cur = wh.cursor()
    cur.execute("DELETE FROM experiment_unit WHERE experiment_id = ?", [experiment_id])
    cur.register("_experiment_rows", rows)
    try:
        cur.execute("INSERT INTO experiment_unit SELECT experiment_id, person_id, arm, block, cluster "
                    "FROM _experiment_rows")
    finally:
        cur.unregister("_experiment_rows")
    row = cur.execute("SELECT count(*) FROM experiment_unit WHERE experiment_id = ?", [experiment_id]).fetchone()
    return int(row[0]) if row else 0
