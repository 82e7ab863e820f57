"""Load an NCSBE `ncvhis` vote-history file and derive participation per person.

One row per voter per election: the voting method label (which changed over the years)
is normalized to one set of methods (`codes.VOTING_METHODS`). The weekly file covers
the last ten years only, so a reload adds and corrects rows but never deletes older
history. After every load `voter_participation` is recomputed: elections voted of the
last N generals and primaries, first-time voter, early/mail habit.
"""

from __future__ import annotations

import duckdb

from unionhall.elections import codes
from unionhall.elections.files import (
    FileInfo,
    check_not_utf16,
    file_check,
    file_fingerprint,
    is_utf8,
    memory_cap,
    read_first_line,
    split_header,
    stage_csv,
    staged_drop,
    utf8_copy,
    wrong_layout_error,
)
from unionhall.elections.loads import (
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
from unionhall.elections.nc_layout import SUPPLEMENTARY_CODES, ncvhis_layout
from unionhall.errors import UserError
from unionhall.warehouse import Warehouse

# Columns later vintages added; a file without them still loads.
OPTIONAL_HISTORY_COLUMNS = frozenset({"voted_county_id", "voted_county_desc", "vtd_label", "vtd_description"})

_COLUMNS = (
    "ncid", "county_id", "county_desc", "voter_reg_num", "election_date", "election_lbl",
    "election_desc", "election_type", "voting_method", "method", "voted_party_cd",
    "voted_party_desc", "pct_label", "pct_description", "voted_county_id", "voted_county_desc",
    "vtd_label", "vtd_description",
)

DEFAULT_LAST_N = 4


def _noop(_pct: float, _msg: str) -> None:
    return None


def history_header_check(info: FileInfo, header: list[str]) -> str:
    cols = set(header)
    full = set(ncvhis_layout().column_names)
    required = full - OPTIONAL_HISTORY_COLUMNS
    missing = sorted(required - cols)
    extra = sorted(cols - full)
    if missing or extra:
        detail = "; ".join(
            p for p in (
                f"missing {', '.join(missing[:5])}" if missing else "",
                f"unexpected {', '.join(extra[:5])}" if extra else "",
            ) if p
        )
        raise wrong_layout_error(info, header, "ncvhis", detail)
    return "ncvhis" if cols == full else "ncvhis_older"


def vote_history_import(
    *,
    warehouse: Warehouse,
    path: str,
    as_of: str | None = None,
    encoding: str = "utf-8",
    last_n: int = DEFAULT_LAST_N,
    job_id: int | None = None,
    progress: Progress | None = None,
) -> Reconciliation:
    """Load a vote-history file into `vote_history`, then recompute participation."""
    with memory_cap(warehouse.cursor()):
        return _vote_history_import(warehouse=warehouse, path=path, as_of=as_of, encoding=encoding, last_n=last_n, job_id=job_id, progress=progress)


def _vote_history_import(
    *,
    warehouse: Warehouse,
    path: str,
    as_of: str | None = None,
    encoding: str = "utf-8",
    last_n: int = DEFAULT_LAST_N,
    job_id: int | None = None,
    progress: Progress | None = None,
) -> Reconciliation:
    say = progress or _noop
    if last_n < 1:
        raise UserError(f"--last must be at least 1 (got {last_n})")
    file = file_check(path)
    say(2, "fingerprinting the file")
    info = file_fingerprint(file)
    cur = warehouse.cursor()
    rec = Reconciliation(kind="history", file=info.name, sha256=info.sha256, encoding=encoding)
    if already_loaded(cur, rec):
        return rec
    snapshot, source = snapshot_date_resolve(as_of, file)
    rec.snapshot_date = snapshot.isoformat()
    rec.notes.append(f"snapshot date {snapshot} (from the {source})")
    try:
        if is_utf8(encoding):
            check_not_utf16(info, "UTF-8")
    except LookupError:
        raise UserError(f"--encoding {encoding!r} is not an encoding Python knows") from None
    header = split_header(read_first_line(file, encoding), "\t")
    rec.layout = history_header_check(info, header)
    load_id = load_next_id(cur)
    rec.load_id = load_id

    say(5, "reading the file")
    with utf8_copy(info, encoding) as src:
        staged = stage_csv(cur, info=info, utf8_path=src, table="_el_hraw", columns=header, delimiter="\t")
    rec.rows_read = staged.rows_read
    quarantine_rejects(cur, load_id=load_id, staged=staged, rec=rec)
    say(45, f"read {staged.rows_read:,} rows; normalizing")
    _normalize(cur, staged.table, set(header))
    staged_drop(cur, staged)
    _quarantine(cur, load_id, rec)
    _flag(cur, load_id, rec)
    say(65, "comparing with the history already loaded")
    _apply(cur, load_id, rec)
    say(85, "computing participation")
    participation_refresh(warehouse=warehouse, load_id=load_id, last_n=last_n)
    rec.rows_flagged = flagged_rows(cur, load_id)
    for t in ("_el_hn", "_el_hcmp", "_el_hdup"):
        cur.execute(f"DROP TABLE IF EXISTS {t}")
    load_record(cur, rec, info=info, job_id=job_id)
    say(100, f"{rec.new:,} new, {rec.changed:,} changed")
    return rec


def _text(col: str, have: set[str]) -> str:
    return f"nullif(trim({col}), '')" if col in have else "NULL::VARCHAR"


def _normalize(cur: duckdb.DuckDBPyConnection, table: str, have: set[str]) -> None:
    methods = ", ".join(f"('{k}', '{v}')" for k, v in codes.VOTING_METHODS.items())
    types = " ".join(
        f"WHEN contains(upper(election_desc), '{word}') THEN '{kind}'" for word, kind in codes.ELECTION_TYPES
    )
    cur.execute("DROP TABLE IF EXISTS _el_hn")
    cur.execute(
        f"""
        CREATE TEMP TABLE _el_hn AS
        SELECT s.*, coalesce(m.method, CASE WHEN s.voting_method IS NULL THEN NULL ELSE 'unknown' END) AS method,
               CASE {types} ELSE 'other' END AS election_type
        FROM (
          SELECT _line,
                 {_text("ncid", have)} AS ncid,
                 TRY_CAST(trim(county_id) AS INTEGER) AS county_id,
                 {_text("county_desc", have)} AS county_desc,
                 nullif(ltrim(trim(voter_reg_num), '0'), '') AS voter_reg_num,
                 coalesce(try_strptime(trim(election_lbl), '%m/%d/%Y'),
                          try_strptime(trim(election_lbl), '%Y-%m-%d'))::DATE AS election_date,
                 {_text("election_lbl", have)} AS election_lbl,
                 {_text("election_desc", have)} AS election_desc,
                 upper(CASE WHEN contains(voting_method, '  ')
                            THEN regexp_replace(trim(voting_method), '\\s+', ' ', 'g')
                            ELSE {_text("voting_method", have)} END) AS voting_method,
                 {_text("voted_party_cd", have)} AS voted_party_cd,
                 {_text("voted_party_desc", have)} AS voted_party_desc,
                 {_text("pct_label", have)} AS pct_label,
                 {_text("pct_description", have)} AS pct_description,
                 {_text("voted_county_id", have)} AS voted_county_id,
                 {_text("voted_county_desc", have)} AS voted_county_desc,
                 {_text("vtd_label", have)} AS vtd_label,
                 {_text("vtd_description", have)} AS vtd_description
          FROM {table}
        ) s
        LEFT JOIN (VALUES {methods}) m(label, method) ON m.label = s.voting_method
        """  # noqa: S608  (constants from codes.py)
    )


def _raw() -> str:
    cols = ", ".join(
        f"coalesce(CAST(h.{c} AS VARCHAR), '')"
        for c in ("county_id", "county_desc", "voter_reg_num", "election_lbl", "election_desc",
                  "voting_method", "voted_party_cd", "ncid")
    )
    return f"concat_ws(chr(9), {cols})"


def _quarantine(cur: duckdb.DuckDBPyConnection, load_id: int, rec: Reconciliation) -> None:
    quarantine_from(
        cur, load_id=load_id, code="missing_key", rec=rec,
        select_sql=f"""
            SELECT _line,
                   CASE WHEN ncid IS NULL THEN 'ncid' ELSE 'election_lbl' END AS column_name,
                   CASE WHEN ncid IS NULL THEN 'ncid is empty: the vote cannot be linked to a voter'
                        ELSE 'election_lbl ' || coalesce('''' || election_lbl || '''', 'empty') ||
                             ' is not a date (MM/DD/YYYY)' END AS reason,
                   {_raw()} AS raw
            FROM _el_hn h WHERE ncid IS NULL OR election_date IS NULL
        """,  # noqa: S608  (internal SQL; values are bound)
    )
    cur.execute("DELETE FROM _el_hn WHERE ncid IS NULL OR election_date IS NULL")
    cur.execute(
        """
        CREATE TEMP TABLE _el_hdup AS
        SELECT _line, min(_line) OVER (PARTITION BY ncid, election_date) AS first_line
        FROM _el_hn
        QUALIFY count(*) OVER (PARTITION BY ncid, election_date) > 1
        """
    )
    quarantine_from(
        cur, load_id=load_id, code="duplicate", rec=rec,
        select_sql=f"""
            SELECT h._line, 'ncid' AS column_name,
                   'a vote of ' || h.ncid || ' in the ' || h.election_lbl ||
                   ' election already appears on row ' || d.first_line || ' (that row was loaded)' AS reason,
                   {_raw()} AS raw
            FROM _el_hn h JOIN _el_hdup d USING (_line) WHERE d._line > d.first_line
        """,  # noqa: S608  (internal SQL; values are bound)
    )
    cur.execute("DELETE FROM _el_hn WHERE _line IN (SELECT _line FROM _el_hdup WHERE _line > first_line)")


def _flag(cur: duckdb.DuckDBPyConnection, load_id: int, rec: Reconciliation) -> None:
    flag_from(
        cur, load_id=load_id, table="_el_hn", column="voting_method", rec=rec,
        where="method = 'unknown'",
        reason="voting_method is not a known label (kept; method set to unknown)",
    )
    parties = SUPPLEMENTARY_CODES["ncvhis"]["voted_party_cd"]
    flag_from(
        cur, load_id=load_id, table="_el_hn", column="voted_party_cd", rec=rec,
        where="voted_party_cd IS NOT NULL AND NOT list_contains(?, voted_party_cd)",
        reason="voted_party_cd is not a known party code (kept as written)",
        params=[sql_list(frozenset(parties))],
    )


def _apply(cur: duckdb.DuckDBPyConnection, load_id: int, rec: Reconciliation) -> None:
    cols = ", ".join(_COLUMNS)
    hcols = ", ".join(f"n.{c}" for c in _COLUMNS)
    cur.execute(
        f"""
        CREATE TEMP TABLE _el_hcmp AS
        SELECT {hcols}, hash({hcols}) AS row_hash, o.row_hash AS old_hash,
               o.first_load_id AS old_first_load_id, o.ncid IS NULL AS is_new
        FROM _el_hn n LEFT JOIN vote_history o
          ON o.ncid = n.ncid AND o.election_date = n.election_date
        """  # noqa: S608
    )
    cur.execute("DROP TABLE _el_hn")
    row = cur.execute(
        """
        SELECT count(*), count(*) FILTER (WHERE is_new),
               count(*) FILTER (WHERE NOT is_new AND row_hash <> old_hash)
        FROM _el_hcmp
        """
    ).fetchone()
    assert row is not None
    rec.rows_loaded, rec.new, rec.changed = (int(x) for x in row)
    rec.unchanged = rec.rows_loaded - rec.new - rec.changed
    if rec.changed:
        cur.execute(
            """
            DELETE FROM vote_history USING _el_hcmp c
            WHERE vote_history.ncid = c.ncid AND vote_history.election_date = c.election_date
              AND NOT c.is_new AND c.row_hash <> c.old_hash
            """
        )
    cur.execute(
        f"""
        INSERT INTO vote_history ({cols}, row_hash, first_load_id, last_load_id)
        SELECT {cols}, row_hash, coalesce(old_first_load_id, ?), ?
        FROM _el_hcmp WHERE is_new OR row_hash <> old_hash
        """,  # noqa: S608
        [load_id, load_id],
    )
    if rec.unchanged:
        cur.execute(
            """
            UPDATE vote_history SET last_load_id = ? FROM _el_hcmp c
            WHERE vote_history.ncid = c.ncid AND vote_history.election_date = c.election_date
              AND NOT c.is_new AND c.row_hash = c.old_hash
            """,
            [load_id],
        )


def participation_refresh(*, warehouse: Warehouse, load_id: int, last_n: int = DEFAULT_LAST_N) -> int:
    """Recompute `voter_participation` for everyone from `vote_history`; returns rows."""
    cur = warehouse.cursor()
    cur.execute("DELETE FROM voter_participation")
    row = cur.execute(
        f"""
        INSERT INTO voter_participation
        WITH considered AS (
          SELECT election_date, election_type FROM (
            SELECT election_date, election_type,
                   row_number() OVER (PARTITION BY election_type ORDER BY election_date DESC) AS k
            FROM (SELECT DISTINCT election_date, election_type FROM vote_history
                  WHERE election_type IN ('general', 'primary'))
          ) WHERE k <= $n
        ),
        n_considered AS (
          SELECT count(*) FILTER (WHERE election_type = 'general') AS g,
                 count(*) FILTER (WHERE election_type = 'primary') AS p,
                 max(election_date) FILTER (WHERE election_type = 'general') AS last_general
          FROM considered
        ),
        votes AS (
          SELECT h.ncid, h.election_date, h.method, c.election_type AS considered_type
          FROM vote_history h
          LEFT JOIN considered c
            ON c.election_date = h.election_date AND c.election_type = h.election_type
          WHERE h.method <> '{codes.DID_NOT_VOTE}'
        ),
        per AS (
          SELECT ncid,
                 count(DISTINCT election_date) FILTER (WHERE considered_type = 'general') AS gv,
                 count(DISTINCT election_date) FILTER (WHERE considered_type = 'primary') AS pv,
                 count(*) AS total,
                 count(*) FILTER (WHERE method = '{codes.EARLY}') AS early,
                 count(*) FILTER (WHERE method = '{codes.MAIL}') AS mail,
                 count(*) FILTER (WHERE method = '{codes.ELECTION_DAY}') AS eday,
                 min(election_date) AS first_vote, max(election_date) AS last_vote
          FROM votes GROUP BY ncid
        )
        SELECT per.ncid, gv, n.g, pv, n.p, total, early, mail, eday, first_vote, last_vote,
               coalesce(first_vote >= n.last_general, false),
               CASE WHEN early * 2 > total THEN '{codes.EARLY}'
                    WHEN mail * 2 > total THEN '{codes.MAIL}'
                    WHEN eday * 2 > total THEN '{codes.ELECTION_DAY}'
                    ELSE 'mixed' END,
               $load
        FROM per CROSS JOIN n_considered n
        """,  # noqa: S608  (constants from codes.py)
        {"n": last_n, "load": load_id},
    ).fetchone()
    return int(row[0]) if row else 0
