"""Warehouse writes of the field program: list snapshots, turf membership, contact
history. Nothing here reads person rows for a user: the rows written come from
expressions the caller built through the gateway (`access.gateway`), or from results
that were checked against it when they were entered.
"""

from __future__ import annotations

import threading
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa

from unionhall.warehouse import Warehouse

CONTACT_COLUMNS = [
    ("result_key", pa.string()), ("person_id", pa.int64()), ("channel", pa.string()),
    ("result_code", pa.string()), ("contacted", pa.bool_()), ("contacted_at", pa.timestamp("us")),
    ("committee_id", pa.int64()), ("canvasser", pa.string()), ("turf_id", pa.int64()), ("list_id", pa.int64()),
    ("script_id", pa.int64()), ("activist_codes", pa.list_(pa.string())), ("note", pa.string()),
    ("source", pa.string()), ("upload_id", pa.int64()), ("row_number", pa.int64()),
    ("entered_at", pa.timestamp("us")),
]
RESPONSE_COLUMNS = [
    ("result_key", pa.string()), ("person_id", pa.int64()), ("question_id", pa.int64()),
    ("question_code", pa.string()), ("response_code", pa.string()), ("contacted_at", pa.timestamp("us")),
]
_POSTING = threading.Lock()  # one posting at a time per process: the NOT EXISTS below stays true


def list_snapshot_write(wh: Warehouse, *, list_id: int, version: int, persons: ir.Table) -> int:
    """Store the person ids of `persons` (a scoped expression) as version `version` of
    list `list_id`; returns how many."""
    sql = str(wh.backend.compile(persons.select("person_id").distinct()))
    cur = wh.cursor()
    cur.execute("DELETE FROM list_person WHERE list_id = ? AND version = ?", [list_id, version])
    cur.execute(f"INSERT INTO list_person SELECT ?, ?, person_id FROM ({sql})", [list_id, version])  # noqa: S608
    row = cur.execute("SELECT count(*) FROM list_person WHERE list_id = ? AND version = ?",
                      [list_id, version]).fetchone()
    return int(row[0]) if row else 0


def list_versions_prune(wh: Warehouse, *, list_id: int, keep: set[int]) -> None:
    """Drop the snapshots of a list's versions no longer needed (the current one and
    those turf cuts were made from are kept)."""
    cur = wh.cursor()
    if keep:
        marks = ", ".join("?" for _ in keep)
        cur.execute(f"DELETE FROM list_person WHERE list_id = ? AND version NOT IN ({marks})",  # noqa: S608
                    [list_id, *sorted(keep)])
    else:
        cur.execute("DELETE FROM list_person WHERE list_id = ?", [list_id])


def turf_persons_write(wh: Warehouse, *, cut_id: int, turf_nos: list[int] | None, rows: pa.Table) -> None:
    """Replace the membership of turfs `turf_nos` of one cut (None: the whole cut) by
    `rows` (cut_id, turf_no, door_id, seq, person_id)."""
    cur = wh.cursor()
    if turf_nos is None:
        cur.execute("DELETE FROM turf_person WHERE cut_id = ?", [cut_id])
    elif turf_nos:
        marks = ", ".join("?" for _ in turf_nos)
        cur.execute(f"DELETE FROM turf_person WHERE cut_id = ? AND turf_no IN ({marks})",  # noqa: S608
                    [cut_id, *turf_nos])
    cur.register("_turf_rows", rows)
    try:
        cur.execute("INSERT INTO turf_person SELECT cut_id, turf_no, door_id, seq, person_id FROM _turf_rows")
    finally:
        cur.unregister("_turf_rows")


def contact_rows_post(wh: Warehouse, *, contacts: list[dict[str, Any]], responses: list[dict[str, Any]]) -> int:
    """Append contact attempts and their survey answers, skipping every `result_key`
    already posted (a result sent twice, a file uploaded again); returns how many
    attempts were new. Runs in the caller's warehouse transaction when there is one."""
    if not contacts:
        return 0
    c = pa.Table.from_pylist(contacts, schema=pa.schema(CONTACT_COLUMNS))
    r = pa.Table.from_pylist(responses, schema=pa.schema(RESPONSE_COLUMNS))
    cur = wh.cursor()
    with _POSTING:
        cur.register("_new_contacts", c)
        cur.register("_new_responses", r)
        try:
            cur.execute(
                "CREATE OR REPLACE TEMP TABLE _fresh AS SELECT DISTINCT ON (result_key) * FROM _new_contacts n "
                "WHERE NOT EXISTS (SELECT 1 FROM contact_history h WHERE h.result_key = n.result_key)")
            cur.execute("INSERT INTO contact_history SELECT * FROM _fresh")
            cur.execute(
                "INSERT INTO contact_response SELECT DISTINCT r.* FROM _new_responses r "
                "WHERE r.result_key IN (SELECT result_key FROM _fresh)")
            row = cur.execute("SELECT count(*) FROM _fresh").fetchone()
            cur.execute("DROP TABLE _fresh")
        finally:
            cur.unregister("_new_contacts")
            cur.unregister("_new_responses")
    return int(row[0]) if row else 0


def posted_keys(wh: Warehouse, keys: list[str]) -> set[str]:
    """Which of `keys` are already in the contact history (no person data: keys only)."""
    if not keys:
        return set()
    cur = wh.cursor()
    cur.register("_keys", pa.table({"k": pa.array(keys, pa.string())}))
    try:
        rows = cur.execute("SELECT DISTINCT result_key FROM contact_history WHERE result_key IN (SELECT k FROM _keys)"
                           ).fetchall()
    finally:
        cur.unregister("_keys")
    return {str(r[0]) for r in rows}
