"""Warehouse reads and writes of the export job that are not person reads for a user:
whether a seed's name, address, phone or voter id belongs to anybody (seeds must never
be real people), and the export's keys, seeds and watermark marks. The persons of an
export are read for the requester through the gateway (`field.selectors`); nothing
here returns person rows.
"""

from __future__ import annotations

import polars as pl

from unionhall.warehouse import Warehouse


def taken(wh: Warehouse, column: str, values: list[str]) -> set[str]:
    """Which of `values` some person has in `column` (compared upper-case): a seed may
    not take them. `column` is first_last (a name pair "FIRST|LAST"), addr_zip
    ("ADDRESS|ZIP5"), phone (digits), or voter_reg_num."""
    if not values:
        return set()
    expr = {
        "first_last": "upper(first_name) || '|' || upper(last_name)",
        "addr_zip": "upper(addr_line1) || '|' || zip5",
        "phone": "right(regexp_replace(phone, '[^0-9]', '', 'g'), 10)",
        "voter_reg_num": "upper(voter_reg_num)",
    }[column]
    cur = wh.cursor()
    cur.register("_seed_candidates", pl.DataFrame({"v": [v.upper() for v in values]}).to_arrow())
    try:
        rows = cur.execute(f"SELECT DISTINCT c.v FROM _seed_candidates c JOIN person p ON {expr} = c.v").fetchall()  # noqa: S608
    finally:
        cur.unregister("_seed_candidates")
    return {r[0] for r in rows}


def export_write(wh: Warehouse, *, export_id: int, persons: pl.DataFrame, seeds: pl.DataFrame,
                 cells: pl.Series) -> None:
    """Store who is in the export under which key (`persons`: person_id, export_key),
    its seeds (export_key and what the file gave them) and its marks (the distinct
    normalized cell values, hashed): replacing any earlier run of the same export."""
    cur = wh.cursor()
    for table in ("export_person", "export_seed", "export_mark"):
        cur.execute(f"DELETE FROM {table} WHERE export_id = ?", [export_id])  # noqa: S608  (constant names)
    cur.register("_ep", persons.select("person_id", "export_key").to_arrow())
    cur.execute("INSERT INTO export_person SELECT ?, person_id, export_key FROM _ep", [export_id])
    cur.unregister("_ep")
    seed_cols = ["export_key", "first_name", "last_name", "addr_line1", "city", "zip5", "phone", "email"]
    s = seeds.select([pl.col(c) if c in seeds.columns else pl.lit(None, pl.Utf8).alias(c) for c in seed_cols])
    cur.register("_es", s.to_arrow())
    cur.execute(f"INSERT INTO export_seed SELECT ?, {', '.join(seed_cols)} FROM _es", [export_id])  # noqa: S608
    cur.unregister("_es")
    cur.register("_em", pl.DataFrame({"v": cells}).to_arrow())
    cur.execute("INSERT INTO export_mark SELECT DISTINCT ?, md5_number_lower(v) FROM _em", [export_id])
    cur.unregister("_em")


def keys_found(wh: Warehouse, *, export_id: int, values: list[str]) -> tuple[int, int]:
    """How many of the export's persons have their key among `values`, and how many of
    its seeds show (by key, email or address: seed phones are drawn from 100 numbers an
    area code, and repeat between exports): counts only (the trace names the
    export, not the persons)."""
    if not values:
        return 0, 0
    cur = wh.cursor()
    cur.register("_trace_keys", pl.DataFrame({"k": values}).to_arrow())
    try:
        row = cur.execute(
            "SELECT (SELECT count(*) FROM export_person p JOIN _trace_keys t ON p.export_key = t.k "
            "        WHERE p.export_id = ?),"
            "       (SELECT count(*) FROM export_seed s WHERE s.export_id = ? AND EXISTS (SELECT 1 FROM "
            "        _trace_keys t WHERE t.k IN (s.export_key, s.email, s.addr_line1)))", [export_id, export_id]).fetchone()
    finally:
        cur.unregister("_trace_keys")
    return (int(row[0]), int(row[1])) if row else (0, 0)


def keys_resolve(wh: Warehouse, *, export_ids: list[int], keys: set[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Export keys a vendor's results file gives back: key -> person for the persons of
    `export_ids`, and key -> export for the seeds among them (decoys, nobody to post to).
    The result import checks the persons against the uploader's scope afterwards."""
    if not keys or not export_ids:
        return {}, {}
    cur = wh.cursor()
    cur.register("_result_keys", pl.DataFrame({"k": sorted(keys)}).to_arrow())
    cur.register("_result_exports", pl.DataFrame({"e": export_ids}, schema={"e": pl.Int64}).to_arrow())
    try:
        persons = cur.execute(
            "SELECT p.export_key, min(p.person_id) FROM export_person p JOIN _result_keys k ON p.export_key = k.k "
            "WHERE p.export_id IN (SELECT e FROM _result_exports) GROUP BY 1").fetchall()
        seeds = cur.execute(
            "SELECT s.export_key, min(s.export_id) FROM export_seed s JOIN _result_keys k ON s.export_key = k.k "
            "WHERE s.export_id IN (SELECT e FROM _result_exports) GROUP BY 1").fetchall()
    finally:
        cur.unregister("_result_keys")
        cur.unregister("_result_exports")
    return {str(k): int(p) for k, p in persons}, {str(k): int(e) for k, e in seeds}
