"""`unionhall identity export`: the whole identity map as CSV, for the operator.

A system command, not a user's read: it runs on the machine that holds the warehouse
(with the files' owner's rights), so it reads every record directly. Users get person
data through the gateway's scoped pages and approved exports.
"""

from __future__ import annotations

import csv
from pathlib import Path

from unionhall.warehouse import Warehouse

EXPORT_SQL = """
SELECT 'member' AS source_kind, r.source_name, r.record_key AS source_record_id, r.person_id,
       v.voter_reg_num AS voter_registration_id, r.match_probability
FROM identity_record r
LEFT JOIN voter v ON v.ncid = r.voter_ncid AND v.in_file
     AND v.voter_reg_num = (SELECT max(v2.voter_reg_num) FROM voter v2 WHERE v2.ncid = r.voter_ncid AND v2.in_file)
UNION ALL
SELECT 'voter', 'voter file', v.county_id::VARCHAR || ':' || v.voter_reg_num, vp.person_id,
       v.voter_reg_num, NULL
FROM voter v JOIN voter_person vp ON vp.ncid = v.ncid
ORDER BY 1, 2, 3
"""

EXPORT_COLUMNS = ("source_kind", "source_name", "source_record_id", "person_id",
                  "linked_voter_registration_id", "match_probability")


def identity_export(*, warehouse: Warehouse, path: Path) -> int:
    """Write one CSV row per source record (members and voter registrations); returns rows."""
    cur = warehouse.cursor().execute(EXPORT_SQL)
    n = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(EXPORT_COLUMNS)
        while rows := cur.fetchmany(50_000):
            w.writerows(rows)
            n += len(rows)
    return n
