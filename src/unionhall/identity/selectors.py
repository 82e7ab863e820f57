"""Identity reads (STYLE.md rule 1). Pages read person rows through the gateway, as the
user's data-manager scope shows them, and log what they showed."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import ibis

from unionhall.access.gateway import identity_pairs, person_rows
from unionhall.access.scope import DATA_ROLES
from unionhall.access.services import usage_record
from unionhall.warehouse import Warehouse, get_warehouse


@ibis.udf.scalar.builtin
def md5(value: str) -> str:  # type: ignore[empty-body]
    """The engine's own md5 (hex text): DuckDB and PostgreSQL both have it, where ibis
    compiles `hexdigest` for DuckDB only."""


# -- pages ------------------------------------------------------------------------------

REVIEW_PAGE = 200


def pair_token(key_l: str, key_r: str) -> str:
    """The short id of a pair in page URLs (record keys hold any character); the same
    value as ``left(md5(key_l || chr(31) || key_r), 20)`` in SQL."""
    return hashlib.md5(f"{key_l}\x1f{key_r}".encode()).hexdigest()[:20]  # noqa: S324  (an id)


def identity_summary(*, user: Any, warehouse: Warehouse | None = None) -> dict[str, Any]:
    """Match rate and share registered by affiliate, dual members by pair of affiliates
    (over the member records the user may see as a data manager), the last run's counts
    and the saved models' match-weight charts."""
    wh = warehouse or get_warehouse()
    m = person_rows(user=user, table="member_record", roles=DATA_ROLES, warehouse=wh)
    m = m.filter(m.status == "active")
    v = person_rows(user=user, table="voter", roles=DATA_ROLES, warehouse=wh)
    status = v.filter(v.in_file).group_by("ncid").aggregate(status_cd=v.status_cd.min())
    rec = person_rows(user=user, table="identity_record", roles=DATA_ROLES, warehouse=wh)
    rec = rec.filter(rec.source_kind == "member").select(_src="source_name", _key="record_key",
                                                         _ncid="voter_ncid", _pid="person_id")
    j = m.left_join(rec, (m.source == rec._src) & (m.member_key == rec._key)).left_join(
        status, ibis._._ncid == status.ncid)
    by_source = j.group_by(source=j.source).aggregate(
        records=j.count(), linked=j._ncid.count(),
        registered=j.status_cd.isin(["A", "I", "S"]).fill_null(False).sum(),
    ).order_by("source")
    affiliates = [
        {"source": a["source"], "records": int(a["records"]), "linked": int(a["linked"]),
         "registered": int(a["registered"] or 0),
         "match_rate": a["linked"] / a["records"] if a["records"] else 0.0,
         "registered_share": (a["registered"] or 0) / a["records"] if a["records"] else 0.0}
        for a in by_source.to_pyarrow().to_pylist()
    ]
    s = j.filter(j._pid.notnull()).select(pid=j._pid, source=j.source).distinct()
    s2 = s.select(pid2=s.pid, source2=s.source)
    pairs = s.join(s2, (s.pid == s2.pid2) & (s.source < s2.source2))
    duals = [
        {"a": d["a"], "b": d["b"], "persons": int(d["persons"])}
        for d in pairs.group_by(a=pairs.source, b=pairs.source2).aggregate(persons=pairs.count())
        .order_by([ibis.desc("persons"), "a", "b"]).to_pyarrow().to_pylist()
    ]
    cur = wh.cursor()
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
    usage_record(user=user, action="search", persons=0, detail={"page": "identity summary"})
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


def review_queue(*, user: Any, limit: int = REVIEW_PAGE, warehouse: Warehouse | None = None
                 ) -> tuple[list[dict[str, Any]], int]:
    """Grey-zone pairs nobody has decided yet whose two records the user may see, most
    likely first, and how many there are. Logged with the records shown."""
    from unionhall.identity.models import Decision

    decided = {tuple(sorted((d.key_l, d.key_r))) for d in
               Decision.objects.filter(kind__in=[Decision.Kind.ACCEPT, Decision.Kind.REJECT])}
    p = identity_pairs(user=user, warehouse=warehouse)
    rows = p.filter(p.status == "review").select(
        "pair_kind", "key_l", "key_r", "match_weight", "match_probability"
    ).order_by([ibis.desc("match_probability"), "key_l", "key_r"]).to_pyarrow().to_pylist()
    pending = [r for r in rows if (r["key_l"], r["key_r"]) not in decided]
    out = [{"kind": r["pair_kind"], "key_l": r["key_l"], "key_r": r["key_r"], "weight": r["match_weight"],
            "probability": r["match_probability"], "token": pair_token(r["key_l"], r["key_r"]),
            "label_l": record_label(r["key_l"]), "label_r": record_label(r["key_r"])}
           for r in pending[:limit]]
    usage_record(user=user, action="identity_review", detail={"pairs": len(out)}, persons=2 * len(out))
    return out, len(pending)


def record_label(key: str) -> str:
    """``m|local-7|id:123`` -> ``local-7 · id:123``; ``v|AB123`` -> ``voter AB123``."""
    if key.startswith("v|"):
        return f"voter {key[2:]}"
    _, source, member_key = [*key.split("|", 2), "", ""][:3]
    return f"{source} · {member_key}"


RECORD_FIELDS = ("first_name", "middle_name", "last_name", "suffix", "dob", "addr_line1",
                 "addr_line2", "city", "state", "zip", "phone", "email")


def _record_fields(user: Any, warehouse: Warehouse | None, key: str) -> dict[str, Any] | None:
    """One record's fields, as the user's data-manager scope shows them."""
    if key.startswith("v|"):
        v = person_rows(user=user, table="voter", roles=DATA_ROLES, warehouse=warehouse)
        v = v.filter(v.ncid == key[2:]).order_by([ibis.desc("in_file"), ibis.desc("registr_dt")]).limit(1)
        t = v.select(
            first_name=v.first_name, middle_name=v.middle_name, last_name=v.last_name, suffix=v.name_suffix_lbl,
            dob=v.birth_year.cast("string").concat(" (year only)"), addr_line1=v.res_street_address,
            addr_line2=ibis.null("string"), city=v.res_city_desc, state=v.state_cd, zip=v.zip_code,
            phone=v.full_phone_number, email=ibis.null("string"))
    else:
        _, source, member_key = key.split("|", 2)
        m = person_rows(user=user, table="member_record", roles=DATA_ROLES, warehouse=warehouse)
        m = m.filter((m.source == source) & (m.member_key == member_key)).limit(1)
        t = m.select(first_name=m.first_name, middle_name=m.middle_name, last_name=m.last_name, suffix=m.suffix,
                     dob=ibis.coalesce(m.dob.cast("string"), m.dob_raw), addr_line1=m.addr_line1,
                     addr_line2=m.addr_line2, city=m.city, state=m.state, zip=m.zip5, phone=m.phone,
                     email=m.email)
    rows = t.to_pyarrow().to_pylist()
    return rows[0] if rows else None


def pair_detail(*, user: Any, token: str, warehouse: Warehouse | None = None) -> dict[str, Any] | None:
    """One scored pair (by its token) whose two records the user may see: both records
    side by side and the evidence. None alike for a missing pair and one out of scope."""
    p = identity_pairs(user=user, warehouse=warehouse)
    found = p.filter(md5(p.key_l.concat(chr(31), p.key_r)).substr(0, 20) == token).limit(1)
    rows = found.to_pyarrow().to_pylist()
    if not rows:
        return None
    r = rows[0]
    a, b = r["key_l"], r["key_r"]
    left, right = _record_fields(user, warehouse, a), _record_fields(user, warehouse, b)
    fields = [{"name": f.replace("_", " "), "l": (left or {}).get(f), "r": (right or {}).get(f)}
              for f in RECORD_FIELDS]
    ev = [{"comparison": c.replace("_", " "), "level": v[0], "weight": v[1]}
          for c, v in json.loads(r["evidence"]).items()]
    usage_record(user=user, action="identity_pair_view", detail={"pair": token}, persons=2)
    return {"kind": r["pair_kind"], "key_l": a, "key_r": b, "weight": r["match_weight"],
            "probability": r["match_probability"], "status": r["status"], "fields": fields, "evidence": ev,
            "token": token, "label_l": record_label(a), "label_r": record_label(b)}


def person_sources(*, user: Any, person_id: int, warehouse: Warehouse | None = None) -> dict[str, Any] | None:
    """Every source record of a person the user may see as a data manager (member
    records of each affiliate their scope shows, voter registrations) with the
    probability of the link that placed it, and the provenance of each golden-record
    field, masked as their scope says. None alike for missing and out of scope."""
    wh = warehouse or get_warehouse()

    def rows_of(table: str) -> ibis.Table:
        t = person_rows(user=user, table=table, roles=DATA_ROLES, warehouse=wh)
        return t.filter(t.person_id == person_id)

    rec = rows_of("identity_record")
    rec = rec.filter(rec.source_kind == "member")
    m = rows_of("member_record")
    j = rec.left_join(m, (rec.source_name == m.source) & (rec.record_key == m.member_key))
    members = [
        {"key": f"m|{x['source_name']}|{x['record_key']}", "source": x["source_name"],
         "member_key": x["record_key"], "name": " ".join(n for n in (x["first_name"], x["last_name"]) if n),
         "dob": x["dob"], "address": x["addr_line1"], "status": x["status"], "voter_ncid": x["voter_ncid"],
         "probability": x["match_probability"], "method": x["method"], "import_id": x["import_id"]}
        for x in j.select(rec.source_name, rec.record_key, m.first_name, m.last_name,
                          dob=ibis.coalesce(m.dob.cast("string"), m.dob_raw), addr_line1=m.addr_line1,
                          status=m.status, voter_ncid=rec.voter_ncid, match_probability=rec.match_probability,
                          method=rec.method, import_id=rec.import_id)
        .order_by(["source_name", "record_key"]).to_pyarrow().to_pylist()
    ]
    v = rows_of("voter")
    voters = [
        {"ncid": x["ncid"], "county": x["county_desc"], "reg_num": x["voter_reg_num"],
         "name": " ".join(n for n in (x["first_name"], x["last_name"]) if n), "birth_year": x["birth_year"],
         "address": x["res_street_address"], "status": x["status_cd"], "in_file": x["in_file"]}
        for x in v.order_by([ibis.desc("in_file"), "ncid", "voter_reg_num"]).to_pyarrow().to_pylist()
    ]
    provenance = [
        {"field": x["field"].replace("_", " "), "value": x["value"], "source_kind": x["source_kind"],
         "source_name": x["source_name"], "record_key": x["record_key"], "import_id": x["import_id"],
         "as_of": x["as_of"], "rule": x["rule"]}
        for x in rows_of("person_provenance").order_by("field").to_pyarrow().to_pylist()
    ]
    alias = person_rows(user=user, table="person_alias", roles=DATA_ROLES, warehouse=wh)
    alias_rows = alias.filter(alias.old_person_id == person_id).select("person_id").limit(1).to_pyarrow().to_pylist()
    if not members and not voters and not alias_rows:
        return None
    usage_record(user=user, action="person_view", persons=1,
                 detail={"person_id": person_id, "page": "identity sources"})
    return {"person_id": person_id, "members": members, "voters": voters, "provenance": provenance,
            "alias_of": int(alias_rows[0]["person_id"]) if alias_rows else None}
