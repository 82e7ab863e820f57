"""Load the NCSBE daily absentee / early-vote file and apply it to people.

Every distinct row of every daily file is kept once in `absentee_event` (a voter can have
several: a request, a spoiled ballot and its replacement, a cure, an early vote). The
current status per voter and election (`ballot_status`) is the latest event: by its own
date (return, else send, else request date), then by the newest snapshot that first
listed it, then by how far along the ballot is. Because events are never deleted and the
order does not depend on load order, loading the same file twice changes nothing and an
older day's file loaded after a newer one cannot roll a status back.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from unionhall.elections import codes
from unionhall.elections.files import (
    FileInfo,
    check_not_utf16,
    file_check,
    file_fingerprint,
    is_utf8,
    memory_capped,
    read_first_line,
    split_header,
    stage_csv,
    staged_drop,
    utf8_copy,
    wrong_layout_error,
)
from unionhall.elections.loads import (
    _DATE_IN_NAME,
    Progress,
    Reconciliation,
    already_loaded,
    flag_from,
    flagged_rows,
    load_next_id,
    load_record,
    quarantine_from,
    quarantine_rejects,
    snapshot_date_resolve,
    sql_list,
)
from unionhall.elections.nc_layout import SUPPLEMENTARY_CODES, absentee_layout, ncvoter_layout
from unionhall.errors import UserError
from unionhall.warehouse import Warehouse

ABSENTEE_ENCODING = "cp437"
_DATES = ("election_dt", "ballot_req_dt", "ballot_send_dt", "ballot_rtn_dt")


def _noop(_pct: float, _msg: str) -> None:
    return None


def absentee_columns() -> tuple[list[str], set[str]]:
    """(all columns the layout has ever had, columns every vintage has)."""
    cols = absentee_layout().columns
    every = [c.name for c in cols]
    required = {c.name for c in cols if not c.removed and "added:" not in c.description}
    return every, required


def absentee_header_check(info: FileInfo, header: list[str]) -> str:
    every, required = absentee_columns()
    cols = set(header)
    missing = sorted(required - cols)
    extra = sorted(cols - set(every))
    if missing or extra:
        detail = "; ".join(
            p for p in (
                f"missing {', '.join(missing[:5])}" if missing else "",
                f"unexpected {', '.join(extra[:5])}" if extra else "",
            ) if p
        )
        raise wrong_layout_error(info, header, "absentee", detail)
    current = set(absentee_layout().column_names)
    return "absentee" if cols == current else "absentee_older"


@memory_capped
def absentee_import(
    *,
    warehouse: Warehouse,
    path: str,
    as_of: str | None = None,
    encoding: str = ABSENTEE_ENCODING,
    job_id: int | None = None,
    progress: Progress | None = None,
) -> Reconciliation:
    """Load one daily absentee file; refresh the ballot status of the voters it touches."""
    say = progress or _noop
    file = file_check(path)
    info = file_fingerprint(file)
    cur = warehouse.cursor()
    rec = Reconciliation(kind="absentee", file=info.name, sha256=info.sha256, encoding=encoding)
    if already_loaded(cur, rec):
        return rec
    try:
        utf8 = is_utf8(encoding)
    except LookupError:
        raise UserError(f"--encoding {encoding!r} is not an encoding Python knows (try cp437)") from None
    if not encoding.lower().startswith("utf-16"):
        check_not_utf16(info, "code page 437" if encoding == ABSENTEE_ENCODING else encoding)
    header = split_header(read_first_line(file, "latin-1" if not utf8 else encoding), ",")
    rec.layout = absentee_header_check(info, header)
    load_id = load_next_id(cur)
    rec.load_id = load_id

    say(10, "reading the file")
    with utf8_copy(info, encoding, reject_utf8_lookalike=not utf8) as src:
        staged = stage_csv(cur, info=info, utf8_path=src, table="_el_araw", columns=header, delimiter=",")
    rec.rows_read = staged.rows_read
    quarantine_rejects(cur, load_id=load_id, staged=staged, rec=rec)
    say(40, f"read {staged.rows_read:,} rows; normalizing")
    _normalize(cur, staged.table, set(header))
    staged_drop(cur, staged)

    if as_of or _DATE_IN_NAME.search(file.name):
        snapshot, source = snapshot_date_resolve(as_of, file)
    else:
        row = cur.execute(
            "SELECT max(greatest(ballot_req_dt, ballot_send_dt, ballot_rtn_dt)) FROM _el_an"
        ).fetchone()
        snapshot = row[0] if row and row[0] else snapshot_date_resolve(None, file)[0]
        source = "latest ballot date in the file"
    rec.snapshot_date = snapshot.isoformat()
    rec.notes.append(f"snapshot date {snapshot} (from the {source})")

    _quarantine(cur, load_id, rec)
    _flag(cur, load_id, rec)
    say(60, "adding new ballot events")
    _apply(cur, load_id, snapshot, rec)
    say(80, "updating ballot status")
    rec.changed = ballot_status_refresh(warehouse=warehouse, load_id=load_id)
    rec.rows_flagged = flagged_rows(cur, load_id)
    cur.execute("DROP TABLE IF EXISTS _el_an")
    load_record(cur, rec, info=info, job_id=job_id)
    say(100, f"{rec.new:,} new ballot events; {rec.changed:,} voters' status changed")
    return rec


def _normalize(cur: duckdb.DuckDBPyConnection, table: str, have: set[str]) -> None:
    every, _ = absentee_columns()
    out = ["_line"]
    for c in every:
        if c not in have:
            out.append(f"NULL::{'DATE' if c in _DATES else ('INTEGER' if c == 'age' else 'VARCHAR')} AS {c}")
        elif c in _DATES:
            out.append(f"try_strptime(trim({c}), '%m/%d/%Y')::DATE AS {c}")
            out.append(f"nullif(trim({c}), '') AS _raw_{c}")
        elif c == "age":
            out.append(f"TRY_CAST(trim({c}) AS INTEGER) AS age")
            out.append(f"nullif(trim({c}), '') AS _raw_age")
        elif c == "voter_reg_num":
            out.append(f"nullif(ltrim(trim({c}), '0'), '') AS {c}")
        else:
            out.append(f"nullif(trim(regexp_replace({c}, '\\s+', ' ', 'g')), '') AS {c}")
    for c in (*_DATES, "age"):
        if c not in have:
            out.append(f"NULL::VARCHAR AS _raw_{c}")
    statuses = ", ".join(f"('{k}', '{v}')" for k, v in codes.RETURN_STATUSES.items())
    ranks = ", ".join(f"('{k}', {v})" for k, v in codes.STAGE_RANK.items())
    types = ", ".join(f"('{k}', '{v}')" for k, v in codes.REQUEST_TYPES.items())
    cols = ", ".join(every)
    cur.execute("DROP TABLE IF EXISTS _el_an")
    cur.execute(
        f"""
        CREATE TEMP TABLE _el_an AS
        WITH n AS (SELECT {", ".join(out)} FROM {table}),
        s AS (
          SELECT n.*, coalesce(t.kind, 'unknown') AS ballot_type,
                 CASE
                   WHEN n.ballot_rtn_status IS NULL THEN
                     CASE WHEN t.kind = 'early' AND n.ballot_rtn_dt IS NOT NULL THEN '{codes.VOTED_EARLY}'
                          WHEN n.ballot_send_dt IS NOT NULL THEN '{codes.SENT}'
                          ELSE '{codes.REQUESTED}' END
                   WHEN t.kind = 'early' AND r.stage = '{codes.ACCEPTED}' THEN '{codes.VOTED_EARLY}'
                   ELSE coalesce(r.stage, '{codes.UNKNOWN}')
                 END AS stage
          FROM n
          LEFT JOIN (VALUES {types}) t(label, kind) ON t.label = upper(n.ballot_req_type)
          LEFT JOIN (VALUES {statuses}) r(label, stage) ON r.label = upper(n.ballot_rtn_status)
        )
        SELECT s.*, k.rank AS stage_rank,
               coalesce(ballot_rtn_dt, ballot_send_dt, ballot_req_dt) AS event_date,
               hash({cols}) AS row_hash
        FROM s JOIN (VALUES {ranks}) k(stage, rank) ON k.stage = s.stage
        """  # noqa: S608  (constants from codes.py and the layout)
    )


def _raw() -> str:
    cols = ", ".join(f"coalesce(CAST(a.{c} AS VARCHAR), '')" for c in absentee_layout().column_names)
    return f"concat_ws(',', {cols})"


def _quarantine(cur: duckdb.DuckDBPyConnection, load_id: int, rec: Reconciliation) -> None:
    quarantine_from(
        cur, load_id=load_id, code="missing_key", rec=rec,
        select_sql=f"""
            SELECT _line,
                   CASE WHEN ncid IS NULL THEN 'ncid' ELSE 'election_dt' END AS column_name,
                   CASE WHEN ncid IS NULL THEN 'ncid is empty: the ballot cannot be linked to a voter'
                        ELSE 'election_dt ' || coalesce('''' || _raw_election_dt || '''', 'empty') ||
                             ' is not a date (MM/DD/YYYY)' END AS reason,
                   {_raw()} AS raw
            FROM _el_an a WHERE ncid IS NULL OR election_dt IS NULL
        """,  # noqa: S608  (internal SQL; values are bound)
    )
    cur.execute("DELETE FROM _el_an WHERE ncid IS NULL OR election_dt IS NULL")


def _flag(cur: duckdb.DuckDBPyConnection, load_id: int, rec: Reconciliation) -> None:
    supp = SUPPLEMENTARY_CODES["absentee"]
    layout = absentee_layout()
    checks = {
        "ballot_rtn_status": sorted(k for k in codes.RETURN_STATUSES),
        "ballot_req_type": sorted(codes.REQUEST_TYPES),
        "voter_party_code": sorted(layout.codes["voter_party_code"]),
        "ballot_request_party": sorted(layout.codes["ballot_request_party"]),
        "race": sorted(supp["race"]),
        "gender": sorted(supp["gender"]),
        "ethnicity": sorted(supp["ethnicity"]),
        "ballot_req_delivery_type": sorted(supp["ballot_req_delivery_type"]),
        "county_desc": sorted(set(ncvoter_layout().codes["county_id"].values())),
    }
    for col, allowed in checks.items():
        flag_from(
            cur, load_id=load_id, table="_el_an", column=col, rec=rec,
            where=f"{col} IS NOT NULL AND NOT list_contains(?, upper({col}))",
            reason=f"{col} is not a known value (kept as written)",
            params=[sql_list([a.upper() for a in allowed])],
        )
    for c in (*_DATES, "age"):
        flag_from(
            cur, load_id=load_id, table="_el_an", column=c, rec=rec,
            where=f"_raw_{c} IS NOT NULL AND {c} IS NULL", value_sql=f"_raw_{c}",
            reason=f"{c} is not readable (stored empty; the value is kept here)",
        )


def _apply(cur: duckdb.DuckDBPyConnection, load_id: int, snapshot: dt.date, rec: Reconciliation) -> None:
    every, _ = absentee_columns()
    cols = ", ".join(every)
    row = cur.execute("SELECT count(*), count(DISTINCT row_hash) FROM _el_an").fetchone()
    assert row is not None
    rec.rows_loaded = int(row[0])
    in_file_dupes = int(row[0]) - int(row[1])
    if in_file_dupes:
        rec.notes.append(f"{in_file_dupes} row(s) repeat an earlier row of the same file (kept once)")
    cur.execute(
        """
        UPDATE absentee_event SET first_snapshot = least(first_snapshot, $snap),
                                  last_snapshot = greatest(last_snapshot, $snap)
        WHERE row_hash IN (SELECT row_hash FROM _el_an)
        """,
        {"snap": snapshot},
    )
    base_row = cur.execute("SELECT coalesce(max(event_id), 0) FROM absentee_event").fetchone()
    base = int(base_row[0]) if base_row else 0
    inserted = cur.execute(
        f"""
        INSERT INTO absentee_event
        SELECT $base + row_number() OVER (ORDER BY _line), row_hash, {cols},
               ballot_type, stage, stage_rank, event_date, $load, $snap, $snap, _line
        FROM (SELECT * FROM _el_an QUALIFY row_number() OVER (PARTITION BY row_hash ORDER BY _line) = 1) a
        WHERE NOT EXISTS (SELECT 1 FROM absentee_event e WHERE e.row_hash = a.row_hash)
        """,  # noqa: S608
        {"base": base, "load": load_id, "snap": snapshot},
    ).fetchone()
    rec.new = int(inserted[0]) if inserted else 0
    rec.unchanged = rec.rows_loaded - rec.new


def _age_group_sql(col: str) -> str:
    whens = " ".join(f"WHEN {col} BETWEEN {lo} AND {hi} THEN '{label}'" for label, lo, hi in codes.AGE_GROUPS)
    return f"CASE {whens} ELSE 'unknown' END"


def ballot_status_refresh(*, warehouse: Warehouse, load_id: int) -> int:
    """Recompute `ballot_status` for the voters with events first seen in `load_id`.

    Returns how many voters' current status changed (or appeared).
    """
    cur = warehouse.cursor()
    voted = sql_list(codes.VOTED_STAGES)
    chase = sql_list(codes.CHASE_STAGES)
    cur.execute("DROP TABLE IF EXISTS _el_bs")
    cur.execute(
        f"""
        CREATE TEMP TABLE _el_bs AS
        SELECT election_dt, ncid, county_desc, voter_reg_num, voter_party_code AS party, age,
               {_age_group_sql("age")} AS age_group, ballot_type, stage,
               ballot_rtn_status AS status_text, event_date AS status_date,
               list_contains($voted, stage) OR (stage = '{codes.VOID}' AND ever_voted) AS already_voted,
               ballot_type = 'mail' AND list_contains($chase, stage) AS requested_not_returned,
               stage = '{codes.NEEDS_CURE}' AS needs_cure,
               n_events AS events, event_id AS last_event_id, $load AS updated_load_id
        FROM (
          SELECT e.*,
                 count(*) OVER w AS n_events,
                 bool_or(list_contains($voted, stage)) OVER w AS ever_voted,
                 row_number() OVER (PARTITION BY election_dt, ncid
                   ORDER BY event_date DESC NULLS LAST, first_snapshot DESC, stage_rank DESC,
                            event_id DESC) AS pick
          FROM absentee_event e
          WHERE (election_dt, ncid) IN (SELECT DISTINCT election_dt, ncid FROM absentee_event
                                        WHERE first_load_id = $load)
          WINDOW w AS (PARTITION BY election_dt, ncid)
        ) WHERE pick = 1
        """,  # noqa: S608
        {"voted": voted, "chase": chase, "load": load_id},
    )
    row = cur.execute(
        """
        SELECT count(*) FROM _el_bs n LEFT JOIN ballot_status o
          ON o.election_dt = n.election_dt AND o.ncid = n.ncid
        WHERE o.ncid IS NULL OR o.stage <> n.stage OR o.last_event_id <> n.last_event_id
        """
    ).fetchone()
    changed = int(row[0]) if row else 0
    cur.execute(
        """
        DELETE FROM ballot_status USING _el_bs n
        WHERE ballot_status.election_dt = n.election_dt AND ballot_status.ncid = n.ncid
        """
    )
    cur.execute("INSERT INTO ballot_status SELECT * FROM _el_bs")
    cur.execute("DROP TABLE _el_bs")
    return changed
