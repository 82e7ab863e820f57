"""Identity writes: the matching run, and reviewers' decisions (STYLE.md rule 1).

`identity_match_run` is the whole of a matching job, inside the job's one warehouse
transaction: prepare standardized inputs, score new and changed records with Splink,
keep the pairs, assign person ids, rebuild the golden records with provenance.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from django.db import transaction

from unionhall.errors import UserError
from unionhall.identity import model, prepare
from unionhall.identity.ids import component_person_id, person_id_for, voter_anchor
from unionhall.identity.models import Decision
from unionhall.identity.settings import MatchSettings
from unionhall.warehouse import Warehouse

Progress = Callable[[float, str], None]

# A member links automatically to its best-scoring registration only if the next best
# scores at least this many bits (match weight) lower.
AMBIGUITY_MARGIN = 2.0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _one(warehouse: Warehouse, sql: str, params: Any = None) -> Any:
    row = warehouse.cursor().execute(sql, params or []).fetchone()
    return row[0] if row else None


@dataclass
class _Decisions:
    accepted: set[tuple[str, str]]
    rejected: set[tuple[str, str]]
    split: set[str]
    merges: list[tuple[int, int]]  # (from person, into person)

    @classmethod
    def load(cls) -> _Decisions:
        d = cls(set(), set(), set(), [])
        for dec in Decision.objects.order_by("decided_at", "id"):
            pair = tuple(sorted((dec.key_l, dec.key_r)))
            if dec.kind == Decision.Kind.ACCEPT:
                d.accepted.add(pair)  # type: ignore[arg-type]
                d.rejected.discard(pair)
            elif dec.kind == Decision.Kind.REJECT:
                d.rejected.add(pair)  # type: ignore[arg-type]
                d.accepted.discard(pair)
            elif dec.kind == Decision.Kind.SPLIT:
                d.split.add(dec.key_l)
            elif dec.kind == Decision.Kind.MERGE and dec.person_id and dec.other_person_id:
                d.merges.append((int(dec.other_person_id), int(dec.person_id)))
        return d


class _UnionFind:
    """Components of member records; a component holds at most one voter registration."""

    def __init__(self, voters: dict[str, str | None]) -> None:
        self.parent = {k: k for k in voters}
        self.voter = dict(voters)

    def find(self, k: str) -> str:
        root = k
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[k] != root:
            self.parent[k], k = root, self.parent[k]
        return root

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        va, vb = self.voter[ra], self.voter[rb]
        if va is not None and vb is not None and va != vb:
            return False  # would merge two voter registrations' persons: never automatic
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.voter[ra] = va or vb
        return True


def identity_match_run(
    *,
    warehouse: Warehouse,
    settings: MatchSettings | None = None,
    job_id: int | None = None,
    progress: Progress | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Match new and changed records, assign person ids, rebuild golden records.

    Returns counts: links, persons, dual_members, within_list_duplicates, review_pairs...
    """
    settings = (settings or MatchSettings()).validate()
    note = log or (lambda line: None)
    say = _timed_steps(progress or (lambda pct, msg: None), note)
    cur = warehouse.cursor()
    started = _now()
    run_id = int(_one(warehouse, "SELECT coalesce(max(run_id), 0) + 1 FROM identity_run"))
    # A retrained model scores every pair again: the result then depends only on the
    # records and the reviewers' decisions, not on the history of earlier runs.
    since = 0 if settings.retrain else _last_voter_load(warehouse)
    voter_load = int(_one(warehouse, "SELECT coalesce(max(load_id), 0) FROM election_load WHERE starts_with(kind, 'voterfile')"))

    say(2, "preparing member records and voters")
    prepare.members_prepare(warehouse, everything=settings.retrain)
    prepare.voters_prepare(warehouse, since_load_id=since)
    n_members = int(_one(warehouse, "SELECT count(*) FROM _id_members"))
    n_pending = int(_one(warehouse, "SELECT count(*) FROM _id_members WHERE pending"))
    n_voters = int(_one(warehouse, "SELECT count(*) FROM _id_voters"))
    n_voters_pending = int(_one(warehouse, "SELECT count(*) FROM _id_voters WHERE pending"))
    note(f"{n_members:,} member records ({n_pending:,} new or changed), "
         f"{n_voters:,} voters ({n_voters_pending:,} new or changed)")
    decisions = _Decisions.load()

    members = prepare.members_arrow(warehouse)
    trained: list[str] = []
    # Nothing new or changed and both models saved: there is no pair to score.
    nothing_new = (n_pending == 0 and n_voters_pending == 0
                   and _saved_model(warehouse, "member_voter", settings) is not None
                   and _saved_model(warehouse, "member_member", settings) is not None)
    if nothing_new:
        note("nothing new or changed: no pair to score")
    elif n_members and n_voters:
        say(10, "member -> voter: training and scoring" if _saved_model(warehouse, "member_voter", settings) is None
            else "member -> voter: scoring")
        pred = _predict(warehouse, "member_voter", settings, members, prepare.voters_arrow(warehouse))
        note(_seconds("member -> voter", pred))
        _store_pairs(warehouse, "member_voter", pred, settings, run_id)
        if pred.trained:
            trained.append("member_voter")
    if n_members >= 2 and not nothing_new:
        say(55, "member <-> member: training and scoring")
        pred = _predict(warehouse, "member_member", settings, members, None)
        note(_seconds("member <-> member", pred))
        _store_pairs(warehouse, "member_member", pred, settings, run_id)
        if pred.trained:
            trained.append("member_member")
    del members

    say(80, "assigning person ids")
    changes = _assign(warehouse, decisions, run_id)
    say(90, "golden records and provenance")
    if settings.retrain:
        _golden_records(warehouse)
    else:
        note(f"{_touched_persons(warehouse):,} persons to rebuild")
        _golden_records(warehouse, only_touched=True)
    _memberships(warehouse)
    counts = identity_counts(warehouse=warehouse)
    counts.update({
        "run_id": run_id, "member_records": n_members, "pending_members": n_pending,
        "voters": n_voters, "pending_voters": n_voters_pending, "voter_load_id": voter_load,
        "models_trained": trained, **changes,
    })
    cur.execute(
        "INSERT INTO identity_run VALUES (?, ?, ?, ?, ?, ?)",
        [run_id, job_id, started, _now(), json.dumps(counts), json.dumps(settings.as_dict())],
    )
    for t in ("_id_members", "_id_voters", "_id_nick", "_id_touched"):
        cur.execute(f"DROP TABLE IF EXISTS {t}")
    say(100, "done")
    return counts


def _seconds(what: str, pred: model.Prediction) -> str:
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in pred.seconds.items())
    splink = "".join(f"\n  Splink: {n}" for n in pred.notes)
    return f"{what}: {pred.pairs.num_rows:,} pairs kept; {parts}{splink}"


def _timed_steps(progress: Progress, note: Callable[[str], None]) -> Progress:
    """Progress that also logs how long the previous step took (where a run's time goes)."""
    last: list[Any] = [None, 0.0]

    def step(pct: float, msg: str) -> None:
        now = time.perf_counter()
        if last[0] is not None:
            note(f"{last[0]}: {now - last[1]:.1f} s")
        last[0], last[1] = msg, now
        progress(pct, msg)

    return step


def _last_voter_load(warehouse: Warehouse) -> int:
    row = _one(warehouse, "SELECT counts FROM identity_run ORDER BY run_id DESC LIMIT 1")
    return int(json.loads(row).get("voter_load_id", 0)) if row else 0


def _saved_model(warehouse: Warehouse, kind: str, settings: MatchSettings) -> str | None:
    if settings.retrain:
        return None
    row = _one(warehouse, "SELECT model_json FROM identity_model WHERE pair_kind = ? "
               "ORDER BY run_id DESC LIMIT 1", [kind])
    return str(row) if row else None


def _predict(warehouse: Warehouse, kind: str, settings: MatchSettings, members: pa.Table,
             voters: pa.Table | None) -> model.Prediction:
    saved = _saved_model(warehouse, kind, settings)
    pred = model.predict(
        kind=kind, members=members, voters=voters, saved_model=saved,
        min_probability=settings.review_threshold, seed=settings.seed,
        u_pairs=settings.u_pairs, em_pairs=settings.em_pairs,
    )
    if pred.trained:
        run_id = int(_one(warehouse, "SELECT coalesce(max(run_id), 0) + 1 FROM identity_run"))
        warehouse.cursor().execute(
            "INSERT INTO identity_model VALUES (?, ?, ?, ?, ?)",
            [kind, run_id, _now(), pred.model_json, json.dumps(pred.chart)],
        )
    return pred


def _store_pairs(warehouse: Warehouse, kind: str, pred: model.Prediction, settings: MatchSettings,
                 run_id: int) -> None:
    """Replace the pairs that involve a pending record with this run's scores.

    Guard: a pair whose first names disagree (beyond a nickname, a transposition or a
    typo) never links automatically, whatever its probability: it goes to review. A
    household member with the same surname, address and birth year is the typical
    false link otherwise. Between two member records whose full dates of birth agree
    exactly the guard is lifted: a household member born the same day (a twin) is far
    rarer than a first name mistyped, abbreviated or replaced by a middle name (FEBRL4).
    """
    cur = warehouse.cursor()
    threshold = settings.link_threshold if kind == "member_voter" else settings.dual_threshold
    pending = "SELECT unique_id FROM _id_members WHERE pending UNION ALL SELECT unique_id FROM _id_voters WHERE pending"
    cur.execute(
        f"DELETE FROM identity_pair WHERE pair_kind = ? AND (key_l IN ({pending}) OR key_r IN ({pending}))",  # noqa: S608
        [kind],
    )
    cur.register("_id_pred", pred.pairs)
    # Member always on the left of a member -> voter pair; otherwise the smaller key.
    cur.execute(
        """
        INSERT INTO identity_pair
        SELECT ?, CASE WHEN key_l < key_r THEN key_l ELSE key_r END,
               CASE WHEN key_l < key_r THEN key_r ELSE key_l END,
               match_weight, match_probability, evidence,
               CASE WHEN match_probability >= ?
                     AND (coalesce(json_extract_string(evidence, '$.first_name[0]'), 'missing')
                            NOT IN ('different', 'same initial')
                          OR (? AND json_extract_string(evidence, '$.dob[0]') IN (
                                'exact', 'day and month swapped', 'one digit mistyped')))
                    THEN 'link' ELSE 'review' END, ?
        FROM _id_pred
        """,
        [kind, threshold, kind == "member_member", run_id],
    )
    cur.unregister("_id_pred")


def _assign(warehouse: Warehouse, decisions: _Decisions, run_id: int) -> dict[str, int]:
    """Person ids for every active member record (see docs/identity.md, "Person ids")."""
    cur = warehouse.cursor()
    rows = cur.execute(
        """
        SELECT m.unique_id, m.source_name, m.member_key, m.pending, m.row_hash, m.import_id,
               r.person_id, r.voter_ncid, r.method, r.match_probability, r.match_weight
        FROM _id_members m
        LEFT JOIN identity_record r ON r.source_kind = 'member' AND r.source_name = m.source_name
                                    AND r.record_key = m.member_key
        ORDER BY m.unique_id
        """
    ).fetchall()
    old: dict[str, tuple[Any, ...]] = {r[0]: r for r in rows}
    merges = _resolve_merges(decisions.merges)
    if merges:  # a hand merge of a voter's person moves the registration too
        cur.executemany("UPDATE voter_person SET person_id = ? WHERE person_id = ?",
                        [[dst, src] for src, dst in merges.items()])

    def voter_person_ids(ncids: set[str]) -> dict[str, int]:
        # Only the registrations asked about: the voter file has millions of rows.
        if not ncids:
            return {}
        cur.register("_id_ncids", pa.table({"ncid": pa.array(sorted(ncids), pa.string())}))
        rows = cur.execute("SELECT vp.ncid, vp.person_id FROM voter_person vp "
                           "JOIN _id_ncids n ON n.ncid = vp.ncid").fetchall()
        cur.unregister("_id_ncids")
        return {str(n): int(p) for n, p in rows}

    # Voter link per member: kept when the record is unchanged, else the best link pair,
    # if no other registration scores within AMBIGUITY_MARGIN of it (then: review).
    best: dict[str, tuple[str, float, float]] = {}
    runner_up: dict[str, float] = {}
    for key_l, key_r, w, p, status in cur.execute(
        "SELECT key_l, key_r, match_weight, match_probability, status FROM identity_pair "
        "WHERE pair_kind = 'member_voter' ORDER BY match_weight DESC, key_l, key_r"
    ).fetchall():
        mkey, vkey = (key_l, key_r) if key_l.startswith("m|") else (key_r, key_l)
        pair = tuple(sorted((key_l, key_r)))
        if pair in decisions.rejected or mkey in decisions.split or mkey not in old:
            continue
        if pair in decisions.accepted:
            best[mkey] = (vkey[2:], float("inf"), p)
            continue
        if mkey in best:
            runner_up.setdefault(mkey, w)
            continue
        if status == "link":
            best[mkey] = (vkey[2:], w, p)
        else:
            runner_up.setdefault(mkey, w)
    for mkey in list(best):
        w = best[mkey][1]
        if w != float("inf") and mkey in runner_up and runner_up[mkey] > w - AMBIGUITY_MARGIN:
            del best[mkey]

    link: dict[str, str | None] = {}
    prob: dict[str, tuple[float | None, float | None]] = {}
    for key, r in old.items():
        pending, old_ncid = r[3], r[7]
        if key in decisions.split:
            link[key] = None
        elif not pending and old_ncid is not None and not _rejected(decisions, key, old_ncid):
            link[key] = old_ncid
            prob[key] = (r[9], r[10])
        elif key in best:
            link[key] = best[key][0]
            w = best[key][1]
            prob[key] = (best[key][2], None if w == float("inf") else w)
        else:
            link[key] = None

    voter_pid = voter_person_ids({n for n in link.values() if n is not None})
    uf = _UnionFind({k: link[k] for k in old})
    # Records already together stay together unless a decision says otherwise.
    by_pid: dict[int, list[str]] = {}
    for key, r in old.items():
        if r[6] is not None and not r[3] and key not in decisions.split:
            by_pid.setdefault(int(r[6]), []).append(key)
    for keys in by_pid.values():
        for k in keys[1:]:
            uf.union(keys[0], k)
    edges = cur.execute(
        "SELECT key_l, key_r, status FROM identity_pair WHERE pair_kind = 'member_member' "
        "ORDER BY match_weight DESC, key_l, key_r"
    ).fetchall()
    for a, b, status in edges:
        pair = (a, b)
        if a not in old or b not in old or a in decisions.split or b in decisions.split:
            continue
        if pair in decisions.rejected or (status != "link" and pair not in decisions.accepted):
            continue
        uf.union(a, b)
    for a, b in decisions.accepted:
        if a in old and b in old and a not in decisions.split and b not in decisions.split:
            uf.union(a, b)

    comps: dict[str, list[str]] = {}
    for key in old:
        comps.setdefault(uf.find(key), []).append(key)
    new_pid: dict[str, int] = {}
    for root, keys in comps.items():
        ncid = uf.voter[root]
        voter_person = (voter_pid.get(ncid) or person_id_for(voter_anchor(ncid))) if ncid is not None else None
        pid = component_person_id(voter_person_id=voter_person, record_keys=keys)
        pid = merges.get(pid, pid)
        for k in keys:
            new_pid[k] = pid

    now = _now()
    records = []
    for key, r in old.items():
        pid = new_pid[key]
        ncid = link[key]
        p, w = prob.get(key, (None, None))
        if key in decisions.split:
            method = "split"
        elif pid in {v for a, v in decisions.merges} and r[6] is not None and int(r[6]) != pid:
            method = "merge"
        elif ncid is not None:
            method = "voter_link"
        elif len(comps[uf.find(key)]) > 1:
            method = "member_link"
        else:
            method = "new"
        records.append((key, r[1], r[2], pid, ncid, p, w, method, r[4], r[5]))
    cur.execute("DELETE FROM identity_record WHERE source_kind = 'member' AND (source_name, record_key) IN "
                "(SELECT source_name, member_key FROM _id_members)")
    table = pa.table({
        "source_name": [x[1] for x in records], "record_key": [x[2] for x in records],
        "person_id": pa.array([x[3] for x in records], pa.int64()),
        "voter_ncid": pa.array([x[4] for x in records], pa.string()),
        "match_probability": pa.array([x[5] for x in records], pa.float64()),
        "match_weight": pa.array([x[6] for x in records], pa.float64()),
        "method": [x[7] for x in records], "row_hash": [x[8] for x in records],
        "import_id": pa.array([x[9] for x in records], pa.int64()),
    })
    cur.register("_id_new", table)
    cur.execute(
        """
        INSERT INTO identity_record
        SELECT 'member', source_name, record_key, person_id, voter_ncid, match_probability,
               match_weight, method, row_hash, import_id, ?, ?
        FROM _id_new
        """,
        [run_id, now],
    )
    cur.unregister("_id_new")

    # Ids no record uses any more were merged into another person: keep them as aliases.
    retired = {int(r[6]): new_pid[k] for k, r in old.items()
               if r[6] is not None and int(r[6]) != new_pid[k]}
    still_used = set(new_pid.values())
    if retired or merges:  # an id a registration's person still has is not retired
        in_voters = cur.execute(
            "SELECT DISTINCT person_id FROM voter_person WHERE list_contains($ids, person_id)",
            {"ids": sorted(set(retired) | set(merges))}).fetchall()
        still_used |= {int(r[0]) for r in in_voters}
    aliases = [(o, n) for o, n in retired.items() if o not in still_used]
    aliases += [(o, n) for o, n in merges.items() if o not in still_used and o not in retired]
    if aliases:
        cur.executemany(
            "INSERT INTO person_alias SELECT ?, ?, 'merge', ?, ? "
            "WHERE NOT EXISTS (SELECT 1 FROM person_alias WHERE old_person_id = ?)",
            [[o, n, run_id, now, o] for o, n in aliases],
        )
        cur.execute("UPDATE person_alias SET person_id = a2.person_id FROM person_alias a2 "
                    "WHERE person_alias.person_id = a2.old_person_id")
        cur.executemany("DELETE FROM person WHERE person_id = ?", [[o] for o, _ in aliases])
    cur.execute(
        """
        INSERT INTO person (person_id, created_at, updated_at)
        SELECT DISTINCT person_id, $now, $now FROM identity_record r
        WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.person_id = r.person_id)
        """,
        {"now": now},
    )
    changed = sum(1 for k, r in old.items() if r[6] is not None and int(r[6]) != new_pid[k])
    # Persons whose golden record may change: those of new, changed or moved records
    # (the person they left too), then (in `_touched_persons`) those of changed voters.
    touched = {new_pid[k] for k, r in old.items() if r[3] or r[6] is None or int(r[6]) != new_pid[k]}
    touched |= {int(r[6]) for k, r in old.items() if r[6] is not None and int(r[6]) != new_pid[k]}
    cur.execute("CREATE OR REPLACE TEMP TABLE _id_touched (person_id BIGINT)")
    if touched:
        cur.register("_id_touched_arrow", pa.table({"person_id": pa.array(sorted(touched), pa.int64())}))
        cur.execute("INSERT INTO _id_touched SELECT person_id FROM _id_touched_arrow")
        cur.unregister("_id_touched_arrow")
    return {"person_ids_changed": changed, "persons_retired": len(aliases)}


def _touched_persons(warehouse: Warehouse) -> int:
    """Complete `_id_touched` with the persons of changed voters and any person without a
    golden record yet; returns how many persons there are to rebuild."""
    cur = warehouse.cursor()
    cur.execute(
        """
        INSERT INTO _id_touched
        SELECT vp.person_id FROM voter_person vp JOIN _id_voters v ON v.ncid = vp.ncid AND v.pending
        UNION ALL
        SELECT DISTINCT r.person_id FROM identity_record r
        WHERE NOT EXISTS (SELECT 1 FROM person_provenance p WHERE p.person_id = r.person_id)
        """
    )
    return int(_one(warehouse, "SELECT count(DISTINCT person_id) FROM _id_touched "
                               "WHERE person_id IN (SELECT person_id FROM identity_record)"))


def _rejected(decisions: _Decisions, mkey: str, ncid: str) -> bool:
    return tuple(sorted((mkey, f"v|{ncid}"))) in decisions.rejected


def _resolve_merges(merges: list[tuple[int, int]]) -> dict[int, int]:
    out: dict[int, int] = {}
    for src, dst in merges:
        out[src] = dst
    for src in list(out):
        seen = {src}
        dst = out[src]
        while dst in out and dst not in seen:
            seen.add(dst)
            dst = out[dst]
        out[src] = dst
    return out


# Survivorship: for each field, the sources in order of preference; within a source the
# newest record wins; a blank never wins.
SURVIVORSHIP: dict[str, tuple[str, ...]] = {
    "first_name": ("voter", "member"),
    "middle_name": ("voter", "member"),
    "last_name": ("voter", "member"),
    "suffix": ("voter", "member"),
    "birth_date": ("member",),
    "sex": ("voter", "member"),
    "addr_line1": ("voter", "member"),
    "addr_line2": ("voter", "member"),
    "city": ("voter", "member"),
    "state": ("voter", "member"),
    "zip5": ("voter", "member"),
    "county": ("voter",),
    "phone": ("member", "voter"),
    "email": ("member",),
    "voter_reg_num": ("voter",),
}
_VOTER_EXPR = {
    "first_name": "v.first_name", "middle_name": "v.middle_name", "last_name": "v.last_name",
    "suffix": "v.name_suffix_lbl", "sex": "v.gender_code", "addr_line1": "v.res_street_address",
    "addr_line2": "NULL", "city": "v.res_city_desc", "state": "v.state_cd",
    "zip5": "left(v.zip_code, 5)", "county": "v.county_desc", "phone": "iv.phone",
    "voter_reg_num": "v.voter_reg_num",
}
_MEMBER_EXPR = {
    "first_name": "m.first_name", "middle_name": "m.middle_name", "last_name": "m.last_name",
    "suffix": "m.suffix", "birth_date": "m.dob", "sex": "m.gender", "addr_line1": "m.addr_line1",
    "addr_line2": "m.addr_line2", "city": "m.city", "state": "m.state", "zip5": "m.zip5",
    "phone": "m.phone", "email": "m.email",
}
_TYPES = {"birth_date": "DATE"}


def _golden_records(warehouse: Warehouse, *, only_touched: bool = False) -> None:
    """Rebuild the golden record and its provenance of every person with a member record
    (with `only_touched`: of the persons this run touched, see `_touched_persons`).

    One row per candidate source record with every field (one pass over the voter file
    and one over the member records), unpivoted to (field, value), ranked by the
    survivorship rules, then written back to `person` in one pivoting UPDATE.
    """
    cur = warehouse.cursor()
    if only_touched:
        cur.execute("CREATE OR REPLACE TEMP TABLE _id_persons AS SELECT DISTINCT person_id FROM _id_touched t "
                    "WHERE person_id IN (SELECT person_id FROM identity_record)")
    else:
        cur.execute("CREATE OR REPLACE TEMP TABLE _id_persons AS SELECT DISTINCT person_id FROM identity_record")
    fields = list(SURVIVORSHIP)
    voter_cols = ", ".join(
        f"nullif(trim(({_VOTER_EXPR[f]})::VARCHAR), '') AS {f}" if f in _VOTER_EXPR else f"NULL::VARCHAR AS {f}"
        for f in fields
    )
    member_cols = ", ".join(
        f"nullif(trim(({_MEMBER_EXPR[f]})::VARCHAR), '') AS {f}" if f in _MEMBER_EXPR else f"NULL::VARCHAR AS {f}"
        for f in fields
    )
    ranks = ", ".join(f"('{f}', '{kind}', {rank})" for f, order in SURVIVORSHIP.items()
                      for rank, kind in enumerate(order))
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _id_cand AS
        SELECT vp.person_id, 'voter' AS source_kind, 'voter file' AS source_name,
               v.county_id::VARCHAR || ':' || v.voter_reg_num AS record_key, v.last_load_id AS import_id,
               v.snapshot_date::TIMESTAMP AS as_of, {voter_cols}
        FROM voter_person vp JOIN _id_persons ps USING (person_id)
        JOIN _id_voters iv ON iv.ncid = vp.ncid
        JOIN voter v ON v.ncid = vp.ncid AND v.in_file
        QUALIFY v.voter_reg_num = max(v.voter_reg_num) OVER (PARTITION BY v.ncid)
        UNION ALL
        SELECT r.person_id, 'member', m.source, m.member_key, m.import_id, i.imported_at, {member_cols}
        FROM identity_record r JOIN _id_persons ps USING (person_id)
        JOIN member_record m ON m.source = r.source_name AND m.member_key = r.record_key
        LEFT JOIN member_import i ON i.import_id = m.import_id
        """  # noqa: S608  (field names and expressions are constants)
    )
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _id_golden AS
        SELECT u.person_id, u.field, u.value, u.source_kind, u.source_name, u.record_key, u.import_id,
               u.as_of,
               CASE WHEN k.rank = 0 THEN 'preferred source' ELSE 'fallback source' END
                 || ', newest record' AS rule
        FROM (SELECT * FROM (
                SELECT c.person_id, c.source_kind, c.source_name, c.record_key, c.import_id, c.as_of, f.field,
                       CASE f.field {" ".join(f"WHEN '{f}' THEN c.{f}" for f in fields)} END AS value
                FROM _id_cand c CROSS JOIN (VALUES {", ".join(f"('{f}')" for f in fields)}) f(field)
              ) x WHERE value IS NOT NULL) u
        JOIN (VALUES {ranks}) k(field, kind, rank) ON k.field = u.field AND k.kind = u.source_kind
        QUALIFY row_number() OVER (PARTITION BY u.person_id, u.field
                                   ORDER BY k.rank, u.as_of DESC NULLS LAST, u.import_id DESC NULLS LAST,
                                            u.source_name, u.record_key) = 1
        """  # noqa: S608  (field names are constants)
    )
    cur.execute("DELETE FROM person_provenance WHERE person_id IN (SELECT person_id FROM _id_persons)")
    cur.execute("INSERT INTO person_provenance SELECT * FROM _id_golden")
    pivot = ", ".join(
        f"max(value) FILTER (WHERE field = '{f}')::{_TYPES.get(f, 'VARCHAR')} AS {f}" for f in fields)
    sets = ", ".join(f"{f} = g.{f}" for f in fields)
    cur.execute(
        f"""
        UPDATE person SET {sets}, updated_at = $now
        FROM (SELECT ps.person_id, {pivot}
              FROM _id_persons ps LEFT JOIN _id_golden USING (person_id) GROUP BY ps.person_id) g
        WHERE person.person_id = g.person_id
        """,  # noqa: S608  (field names are constants)
        {"now": _now()},
    )
    for t in ("_id_golden", "_id_cand", "_id_persons"):
        cur.execute(f"DROP TABLE {t}")


def _memberships(warehouse: Warehouse) -> None:
    """Keep `person.member_sources` / `member_locals` (what committee scope is decided on)
    equal to the person's active member records."""
    cur = warehouse.cursor()
    cur.execute(
        """
        CREATE OR REPLACE TEMP TABLE _id_members AS
        SELECT r.person_id,
               array_agg(DISTINCT r.source_name ORDER BY r.source_name) AS sources,
               array_agg(DISTINCT r.source_name || ':' || m.local ORDER BY r.source_name || ':' || m.local)
                 FILTER (WHERE coalesce(m.local, '') <> '') AS locals
        FROM identity_record r
        JOIN member_record m ON m.source = r.source_name AND m.member_key = r.record_key
        WHERE r.source_kind = 'member' AND m.status = 'active'
        GROUP BY r.person_id
        """
    )
    cur.execute(
        """
        UPDATE person SET member_sources = m.sources, member_locals = coalesce(m.locals, [])
        FROM _id_members m
        WHERE person.person_id = m.person_id
          AND (person.member_sources IS DISTINCT FROM m.sources
               OR person.member_locals IS DISTINCT FROM coalesce(m.locals, []))
        """
    )
    cur.execute(
        """
        UPDATE person SET member_sources = [], member_locals = []
        WHERE len(coalesce(member_sources, [])) > 0
          AND person_id NOT IN (SELECT person_id FROM _id_members)
        """
    )
    cur.execute("DROP TABLE _id_members")
    from unionhall.access.gateway import person_member_bits_refresh  # the scope's membership bits

    person_member_bits_refresh(cur)


def identity_counts(*, warehouse: Warehouse) -> dict[str, Any]:
    """The figures `unionhall match --json` prints."""
    cur = warehouse.cursor()
    row = cur.execute(
        """
        WITH r AS (SELECT * FROM identity_record r
                   WHERE EXISTS (SELECT 1 FROM member_record m WHERE m.source = r.source_name
                                 AND m.member_key = r.record_key AND m.status = 'active')),
             per AS (SELECT person_id, count(DISTINCT source_name) AS n_src, count(*) AS n
                     FROM r GROUP BY person_id),
             dup AS (SELECT person_id, source_name, count(*) - 1 AS extra FROM r GROUP BY ALL)
        SELECT (SELECT count(*) FROM r WHERE voter_ncid IS NOT NULL),
               (SELECT count(*) FROM per),
               (SELECT count(*) FROM per WHERE n_src > 1),
               (SELECT coalesce(sum(extra), 0) FROM dup),
               (SELECT count(*) FROM person)
        """
    ).fetchone()
    assert row is not None
    review = identity_review_pending_count(warehouse=warehouse)
    return {
        "links": int(row[0]),
        "persons": int(row[1]),
        "dual_members": int(row[2]),
        "within_list_duplicates": int(row[3]),
        "persons_total": int(row[4]),
        "review_pairs": review,
    }


def identity_review_pending_count(*, warehouse: Warehouse) -> int:
    decided = {tuple(sorted((d.key_l, d.key_r)))
               for d in Decision.objects.filter(kind__in=[Decision.Kind.ACCEPT, Decision.Kind.REJECT])}
    rows = warehouse.cursor().execute(
        "SELECT key_l, key_r FROM identity_pair WHERE status = 'review'").fetchall()
    return sum(1 for a, b in rows if (a, b) not in decided)


# -- reviewers' decisions (app database, audited; applied by the next matching run) -----

@transaction.atomic
def pair_decide(*, key_l: str, key_r: str, accept: bool, user: Any, note: str = "") -> Decision:
    """Accept or reject a scored pair; remembered for every later run."""
    if not key_l or not key_r or key_l == key_r:
        raise UserError("a decision needs two different record keys")
    a, b = sorted((key_l, key_r))
    return Decision.objects.create(
        kind=Decision.Kind.ACCEPT if accept else Decision.Kind.REJECT,
        key_l=a, key_r=b, note=note[:500], decided_by=_user(user),
    )


def _require_in_scope(*, user: Any, person_ids: list[int] | None = None, record_key: str | None = None) -> None:
    """Decisions change persons: a user decides only over records their data-manager
    scope shows (the same message for missing and out of scope). `user=None` is the
    operator at the command line, who owns the warehouse files: nothing to check."""
    from unionhall.access.gateway import person_base, person_rows
    from unionhall.access.scope import DATA_ROLES

    if user is None:
        return
    if person_ids:
        t = person_base(user=user, roles=DATA_ROLES)
        found = {r["person_id"] for r in t.filter(t.person_id.isin(person_ids)).select("person_id")
                 .to_pyarrow().to_pylist()}
        missing = [p for p in person_ids if p not in found]
        if missing:
            raise UserError(f"no person {missing[0]} in your scope: check the id")
    if record_key is not None:
        _, source, member_key = [*record_key.split("|", 2), "", ""][:3]
        m = person_rows(user=user, table="member_record", roles=DATA_ROLES)
        if not m.filter((m.source == source) & (m.member_key == member_key)).count().execute():
            raise UserError(f"no member record {record_key} in your scope")


@transaction.atomic
def person_split(*, record_key: str, user: Any, note: str = "") -> Decision:
    """Take one member record (``m|source|member_key``) out of its person."""
    if not record_key.startswith("m|"):
        raise UserError("only a member record can be split out of a person")
    _require_in_scope(user=user, record_key=record_key)
    return Decision.objects.create(kind=Decision.Kind.SPLIT, key_l=record_key, note=note[:500],
                                   decided_by=_user(user))


@transaction.atomic
def person_merge(*, person_id: int, other_person_id: int, user: Any, note: str = "") -> Decision:
    """Merge ``other_person_id`` into ``person_id`` (the other id becomes an alias)."""
    if person_id == other_person_id:
        raise UserError("cannot merge a person with itself")
    _require_in_scope(user=user, person_ids=[person_id, other_person_id])
    return Decision.objects.create(kind=Decision.Kind.MERGE, person_id=person_id,
                                   other_person_id=other_person_id, note=note[:500],
                                   decided_by=_user(user))


def _user(user: Any) -> Any:
    return user if getattr(user, "pk", None) else None
