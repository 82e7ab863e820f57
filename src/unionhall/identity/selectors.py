"""Identity reads (STYLE.md rule 1)."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

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


# -- pages ------------------------------------------------------------------------------

REVIEW_PAGE = 200


def pair_token(key_l: str, key_r: str) -> str:
    """The short id of a pair in page URLs (record keys hold any character); the same
    value as ``left(md5(key_l || chr(31) || key_r), 20)`` in SQL."""
    return hashlib.md5(f"{key_l}\x1f{key_r}".encode()).hexdigest()[:20]  # noqa: S324  (an id)


def identity_summary(*, warehouse: Warehouse) -> dict[str, Any]:
    """Match rate and share registered by affiliate, dual members by pair of affiliates,
    the last run's counts and the saved models' match-weight charts."""
    cur = warehouse.cursor()
    affiliates = [
        {"source": s, "records": int(n), "linked": int(linked), "registered": int(reg),
         "match_rate": linked / n if n else 0.0, "registered_share": reg / n if n else 0.0}
        for s, n, linked, reg in cur.execute(
            """
            SELECT m.source, count(*),
                   count(r.voter_ncid),
                   count(*) FILTER (WHERE v.status_cd IN ('A', 'I', 'S'))
            FROM member_record m
            LEFT JOIN identity_record r ON r.source_kind = 'member' AND r.source_name = m.source
                 AND r.record_key = m.member_key
            LEFT JOIN (SELECT ncid, min(status_cd) AS status_cd FROM voter WHERE in_file GROUP BY ncid) v
                 ON v.ncid = r.voter_ncid
            WHERE m.status = 'active'
            GROUP BY m.source ORDER BY m.source
            """
        ).fetchall()
    ]
    duals = [
        {"a": a, "b": b, "persons": int(n)}
        for a, b, n in cur.execute(
            """
            WITH s AS (SELECT DISTINCT r.person_id, r.source_name FROM identity_record r
                       JOIN member_record m ON m.source = r.source_name AND m.member_key = r.record_key
                       WHERE m.status = 'active')
            SELECT a.source_name, b.source_name, count(*) FROM s a
            JOIN s b ON a.person_id = b.person_id AND a.source_name < b.source_name
            GROUP BY ALL ORDER BY 3 DESC, 1, 2
            """
        ).fetchall()
    ]
    last = cur.execute(
        "SELECT run_id, started_at, finished_at, counts FROM identity_run ORDER BY run_id DESC LIMIT 1"
    ).fetchone()
    last_run = None
    if last is not None:
        last_run = {"run_id": last[0], "started_at": last[1], "finished_at": last[2],
                    "counts": json.loads(last[3])}
    models = []
    for kind, run_id, trained_at, chart in cur.execute(
        """
        SELECT pair_kind, run_id, trained_at, chart_json FROM identity_model
        QUALIFY row_number() OVER (PARTITION BY pair_kind ORDER BY run_id DESC, trained_at DESC) = 1
        ORDER BY pair_kind
        """
    ).fetchall():
        models.append({"kind": kind, "run_id": run_id, "trained_at": trained_at,
                       "chart": weight_chart(json.loads(chart or "[]"))})
    return {"affiliates": affiliates, "duals": duals, "last_run": last_run, "models": models}


def weight_chart(records: list[dict[str, Any]], *, width: int = 640) -> dict[str, Any]:
    """Geometry of a horizontal bar chart of match weights, drawn as inline SVG by the
    template: one row per comparison level, bars from a zero line, grouped by comparison."""
    label_w, row_h, pad = 300, 18, 6
    weights = [abs(r["weight"]) for r in records if r.get("weight") is not None]
    scale_max = max(weights, default=1.0) or 1.0
    half = (width - label_w - 2 * pad) / 2
    zero = label_w + pad + half
    rows = []
    y = 0
    previous = None
    for r in records:
        comparison = str(r.get("comparison") or "")
        if comparison != previous:
            rows.append({"heading": comparison.replace("_", " ") or "prior", "y": y + 13})
            y += row_h
            previous = comparison
        w = r.get("weight")
        length = 0.0 if w is None else abs(float(w)) / scale_max * half
        x = zero if (w or 0) >= 0 else zero - length
        rows.append({"label": r.get("level"), "weight": w, "y": y, "text_y": y + 13,
                     "x": round(x, 1), "w": round(max(length, 0.5), 1),
                     "positive": (w or 0) >= 0, "value_x": round(zero + half + pad - 2, 1)})
        y += row_h
    return {"width": width, "height": y + row_h, "zero": round(zero, 1), "rows": rows,
            "label_w": label_w, "scale_max": round(scale_max, 1)}


def review_queue(*, warehouse: Warehouse, limit: int = REVIEW_PAGE) -> tuple[list[dict[str, Any]], int]:
    """Grey-zone pairs nobody has decided yet, most likely first, and how many there are."""
    from unionhall.identity.models import Decision

    decided = {tuple(sorted((d.key_l, d.key_r))) for d in
               Decision.objects.filter(kind__in=[Decision.Kind.ACCEPT, Decision.Kind.REJECT])}
    rows = warehouse.cursor().execute(
        "SELECT pair_kind, key_l, key_r, match_weight, match_probability FROM identity_pair "
        "WHERE status = 'review' ORDER BY match_probability DESC, key_l, key_r"
    ).fetchall()
    pending = [r for r in rows if (r[1], r[2]) not in decided]
    out = [{"kind": k, "key_l": a, "key_r": b, "weight": w, "probability": p,
            "token": pair_token(a, b), "label_l": record_label(a), "label_r": record_label(b)}
           for k, a, b, w, p in pending[:limit]]
    return out, len(pending)


def record_label(key: str) -> str:
    """``m|local-7|id:123`` -> ``local-7 · id:123``; ``v|AB123`` -> ``voter AB123``."""
    if key.startswith("v|"):
        return f"voter {key[2:]}"
    _, source, member_key = [*key.split("|", 2), "", ""][:3]
    return f"{source} · {member_key}"


RECORD_FIELDS = ("first_name", "middle_name", "last_name", "suffix", "dob", "addr_line1",
                 "addr_line2", "city", "state", "zip", "phone", "email")


def _record_fields(warehouse: Warehouse, key: str) -> dict[str, Any] | None:
    cur = warehouse.cursor()
    if key.startswith("v|"):
        row = cur.execute(
            """
            SELECT first_name, middle_name, last_name, name_suffix_lbl,
                   birth_year::VARCHAR || ' (year only)', res_street_address, NULL, res_city_desc,
                   state_cd, zip_code, full_phone_number, NULL
            FROM voter WHERE ncid = ? ORDER BY in_file DESC, registr_dt DESC NULLS LAST LIMIT 1
            """,
            [key[2:]],
        ).fetchone()
    else:
        _, source, member_key = key.split("|", 2)
        row = cur.execute(
            """
            SELECT first_name, middle_name, last_name, suffix, coalesce(dob::VARCHAR, dob_raw),
                   addr_line1, addr_line2, city, state, zip5, phone, email
            FROM member_record WHERE source = ? AND member_key = ?
            """,
            [source, member_key],
        ).fetchone()
    return None if row is None else dict(zip(RECORD_FIELDS, row, strict=True))


def pair_detail(*, warehouse: Warehouse, token: str) -> dict[str, Any] | None:
    """One scored pair (by its token): both records side by side and the evidence."""
    for kind, a, b, w, p, evidence, status in warehouse.cursor().execute(
        "SELECT pair_kind, key_l, key_r, match_weight, match_probability, evidence, status "
        "FROM identity_pair WHERE left(md5(key_l || chr(31) || key_r), 20) = ? LIMIT 1",
        [token],
    ).fetchall():
        left, right = _record_fields(warehouse, a), _record_fields(warehouse, b)
        fields = [{"name": f.replace("_", " "), "l": (left or {}).get(f), "r": (right or {}).get(f)}
                  for f in RECORD_FIELDS]
        ev = [{"comparison": c.replace("_", " "), "level": v[0], "weight": v[1]}
              for c, v in json.loads(evidence).items()]
        return {"kind": kind, "key_l": a, "key_r": b, "weight": w, "probability": p,
                "status": status, "fields": fields, "evidence": ev, "token": token,
                "label_l": record_label(a), "label_r": record_label(b)}
    return None


def person_sources(*, warehouse: Warehouse, person_id: int) -> dict[str, Any]:
    """Every source record of a person (member records of each affiliate, voter
    registrations) with the probability of the link that placed it, and the
    provenance of each golden-record field."""
    cur = warehouse.cursor()
    members = [
        {"key": f"m|{s}|{k}", "source": s, "member_key": k, "name": " ".join(x for x in (fn, ln) if x),
         "dob": dob, "address": a, "status": st, "voter_ncid": ncid, "probability": p,
         "method": method, "import_id": imp}
        for s, k, fn, ln, dob, a, st, ncid, p, method, imp in cur.execute(
            """
            SELECT r.source_name, r.record_key, m.first_name, m.last_name,
                   coalesce(m.dob::VARCHAR, m.dob_raw), m.addr_line1, m.status, r.voter_ncid,
                   r.match_probability, r.method, r.import_id
            FROM identity_record r
            LEFT JOIN member_record m ON m.source = r.source_name AND m.member_key = r.record_key
            WHERE r.person_id = ? ORDER BY r.source_name, r.record_key
            """,
            [person_id],
        ).fetchall()
    ]
    voters = [
        {"ncid": ncid, "county": county, "reg_num": reg, "name": " ".join(x for x in (fn, ln) if x),
         "birth_year": by, "address": addr, "status": st, "in_file": inf}
        for ncid, county, reg, fn, ln, by, addr, st, inf in cur.execute(
            """
            SELECT v.ncid, v.county_desc, v.voter_reg_num, v.first_name, v.last_name, v.birth_year,
                   v.res_street_address, v.status_cd, v.in_file
            FROM voter_person vp JOIN voter v ON v.ncid = vp.ncid
            WHERE vp.person_id = ? ORDER BY v.in_file DESC, v.ncid, v.voter_reg_num
            """,
            [person_id],
        ).fetchall()
    ]
    provenance = [
        {"field": f.replace("_", " "), "value": v, "source_kind": sk, "source_name": sn,
         "record_key": rk, "import_id": imp, "as_of": as_of, "rule": rule}
        for f, v, sk, sn, rk, imp, as_of, rule in cur.execute(
            "SELECT field, value, source_kind, source_name, record_key, import_id, as_of, rule "
            "FROM person_provenance WHERE person_id = ? ORDER BY field",
            [person_id],
        ).fetchall()
    ]
    alias = cur.execute("SELECT person_id FROM person_alias WHERE old_person_id = ?", [person_id]).fetchone()
    return {"person_id": person_id, "members": members, "voters": voters, "provenance": provenance,
            "alias_of": int(alias[0]) if alias else None}
