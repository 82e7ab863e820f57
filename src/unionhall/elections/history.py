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
    Staged,
    check_not_utf16,
    file_check,
    file_fingerprint,
    is_utf8,
    memory_capped,
    read_first_line,
    split_header,
    stage_csv,
    staged_drop,
    staged_rows_sql,
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


@memory_capped
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
        # First read: keys, and the values of the code checks, only (every column is still
        # read and checked). The rows themselves are read a second time straight into
        # `vote_history`: a staged copy of millions of rows costs more than a second read.
        staged = stage_csv(
            cur, info=info, utf8_path=src, table="_el_hk", columns=header, delimiter="\t",
            project=_key_select(set(header)),
        )
        rec.rows_read = staged.rows_read
        quarantine_rejects(cur, load_id=load_id, staged=staged, rec=rec)
        say(45, f"read {staged.rows_read:,} rows; checking keys and codes")
        params = {"path": str(src), "delim": "\t"}
        drops = _quarantine(cur, load_id, rec, staged=staged, header=header, params=params)
        _flag(cur, load_id, rec, drops=drops)
        say(65, "comparing with the history already loaded")
        _apply(cur, load_id, rec, staged=staged, header=header, params=params, drops=drops, expected=staged.accepted - drops,
               padded=staged.padded)
        staged_drop(cur, staged)
    say(85, "computing participation")
    participation_refresh(warehouse=warehouse, load_id=load_id, last_n=last_n)
    rec.rows_flagged = flagged_rows(cur, load_id)
    for t in ("_el_hn", "_el_hcmp", "_el_hdup", "_el_hq", "_el_hdrop"):
        cur.execute(f"DROP TABLE IF EXISTS {t}")
    load_record(cur, rec, info=info, job_id=job_id)
    say(100, f"{rec.new:,} new, {rec.changed:,} changed")
    return rec


def _rows(cur: duckdb.DuckDBPyConnection, staged: Staged, *, numbered: bool) -> str:
    """The file's accepted rows (binds $path and $delim); `numbered` adds `_k`."""
    return staged_rows_sql(cur, staged, numbered=numbered)


def _text(col: str, have: set[str], padded: frozenset[str] | None = None) -> str:
    """A text column, empty as NULL; trimmed unless the file has no padding in it."""
    if col not in have:
        return "NULL::VARCHAR"
    return f"nullif({col}, '')" if padded is not None and col not in padded else f"nullif(trim({col}), '')"


def _voting_method(have: set[str], padded: frozenset[str] | None = None) -> str:
    return (
        "upper(CASE WHEN contains(voting_method, '  ') "
        "THEN regexp_replace(trim(voting_method), '\\s+', ' ', 'g') "
        f"ELSE {_text('voting_method', have, padded)} END)"
    )


def _method(voting_method: str) -> str:
    """The normalized method of a (normalized) voting_method label; 'unknown' if unknown."""
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in codes.VOTING_METHODS.items())
    return (
        f"coalesce(CASE {voting_method} {cases} END, "
        f"CASE WHEN {voting_method} IS NULL THEN NULL ELSE 'unknown' END)"
    )


def _election_date() -> str:
    return (
        "coalesce(try_strptime(trim(election_lbl), '%m/%d/%Y'), "
        "try_strptime(trim(election_lbl), '%Y-%m-%d'))::DATE"
    )


def _key_select(have: set[str]) -> str:
    """What the first read keeps: the key, and the values of the two code checks when they fire."""
    parties = ", ".join(f"'{p}'" for p in sql_list(frozenset(SUPPLEMENTARY_CODES["ncvhis"]["voted_party_cd"])))
    party = _text("voted_party_cd", have)
    vm = _voting_method(have)
    return f"""
        {_text("ncid", have)} AS ncid,
        {_election_date()} AS election_date,
        CASE WHEN {_method(vm)} = 'unknown' THEN {vm} END AS _flag_voting_method,
        CASE WHEN {party} IS NOT NULL AND NOT list_contains([{parties}], {party}) THEN {party} END
          AS _flag_voted_party_cd
    """


def _normalized_sql(rows: str, have: set[str], *, keep: str = "", padded: frozenset[str] | None = None) -> str:
    """SELECT of the `vote_history` columns (`_COLUMNS`) over the file's rows `rows`."""
    types = " ".join(
        f"WHEN contains(upper(election_desc), '{word}') THEN '{kind}'" for word, kind in codes.ELECTION_TYPES
    )
    pre = f"{keep}, " if keep else ""
    return f"""
        SELECT s.*, {_method("s.voting_method")} AS method,
               CASE {types} ELSE 'other' END AS election_type
        FROM (
          SELECT {pre}
                 {_text("ncid", have, padded)} AS ncid,
                 TRY_CAST(trim(county_id) AS INTEGER) AS county_id,
                 {_text("county_desc", have, padded)} AS county_desc,
                 nullif(ltrim(trim(voter_reg_num), '0'), '') AS voter_reg_num,
                 {_election_date()} AS election_date,
                 {_text("election_lbl", have, padded)} AS election_lbl,
                 {_text("election_desc", have, padded)} AS election_desc,
                 {_voting_method(have, padded)} AS voting_method,
                 {_text("voted_party_cd", have, padded)} AS voted_party_cd,
                 {_text("voted_party_desc", have, padded)} AS voted_party_desc,
                 {_text("pct_label", have, padded)} AS pct_label,
                 {_text("pct_description", have, padded)} AS pct_description,
                 {_text("voted_county_id", have, padded)} AS voted_county_id,
                 {_text("voted_county_desc", have, padded)} AS voted_county_desc,
                 {_text("vtd_label", have, padded)} AS vtd_label,
                 {_text("vtd_description", have, padded)} AS vtd_description
          FROM {rows}
        ) s
    """  # noqa: S608  (constants from codes.py)


def _raw() -> str:
    cols = ", ".join(
        f"coalesce(CAST(h.{c} AS VARCHAR), '')"
        for c in ("county_id", "county_desc", "voter_reg_num", "election_lbl", "election_desc",
                  "voting_method", "voted_party_cd", "ncid")
    )
    return f"concat_ws(chr(9), {cols})"


def _quarantine(
    cur: duckdb.DuckDBPyConnection, load_id: int, rec: Reconciliation, *,
    staged: Staged, header: list[str], params: dict[str, str],
) -> int:
    """Quarantine rows without a key and repeated votes; returns how many rows that drops."""
    # Repeated (ncid, election_date): group on a hash of the key (cheap over millions of
    # rows), then compare the real keys of the few rows whose hash repeats.
    cur.execute("DROP TABLE IF EXISTS _el_hdup")
    cur.execute(
        """
        CREATE TEMP TABLE _el_hdup AS
        WITH repeated AS (
          SELECT hash(ncid, election_date) AS h FROM _el_hk
          WHERE ncid IS NOT NULL AND election_date IS NOT NULL
          GROUP BY 1 HAVING count(*) > 1
        )
        SELECT _line, min(_line) OVER (PARTITION BY ncid, election_date) AS first_line
        FROM _el_hk
        WHERE ncid IS NOT NULL AND election_date IS NOT NULL
          AND hash(ncid, election_date) IN (SELECT h FROM repeated)
        QUALIFY count(*) OVER (PARTITION BY ncid, election_date) > 1
        """
    )
    lines = [int(r[0]) for r in cur.execute(
        """
        SELECT _line FROM _el_hk WHERE ncid IS NULL OR election_date IS NULL
        UNION ALL SELECT _line FROM _el_hdup WHERE _line > first_line
        """
    ).fetchall()]
    cur.execute("DROP TABLE IF EXISTS _el_hdrop")
    cur.execute("CREATE TEMP TABLE _el_hdrop (_k BIGINT, _line BIGINT)")
    if not lines:
        return 0
    cur.executemany("INSERT INTO _el_hdrop VALUES (?, ?)", [(staged.row_index(n), n) for n in lines])
    # The dropped rows in full, picked out of a second read, for the quarantine's raw values.
    rows = f"(SELECT r.*, d._line FROM {_rows(cur, staged, numbered=True)} r JOIN _el_hdrop d USING (_k))"  # noqa: S608
    cur.execute("DROP TABLE IF EXISTS _el_hq")
    cur.execute(f"CREATE TEMP TABLE _el_hq AS {_normalized_sql(rows, set(header), keep='_line')}", params)
    quarantine_from(
        cur, load_id=load_id, code="missing_key", rec=rec,
        select_sql=f"""
            SELECT _line,
                   CASE WHEN ncid IS NULL THEN 'ncid' ELSE 'election_lbl' END AS column_name,
                   CASE WHEN ncid IS NULL THEN 'ncid is empty: the vote cannot be linked to a voter'
                        ELSE 'election_lbl ' || coalesce('''' || election_lbl || '''', 'empty') ||
                             ' is not a date (MM/DD/YYYY)' END AS reason,
                   {_raw()} AS raw
            FROM _el_hq h WHERE ncid IS NULL OR election_date IS NULL
        """,  # noqa: S608  (internal SQL; values are bound)
    )
    quarantine_from(
        cur, load_id=load_id, code="duplicate", rec=rec,
        select_sql=f"""
            SELECT h._line, 'ncid' AS column_name,
                   'a vote of ' || h.ncid || ' in the ' || h.election_lbl ||
                   ' election already appears on row ' || d.first_line || ' (that row was loaded)' AS reason,
                   {_raw()} AS raw
            FROM _el_hq h JOIN _el_hdup d USING (_line) WHERE d._line > d.first_line
        """,  # noqa: S608  (internal SQL; values are bound)
    )
    return len(lines)


def _flag(cur: duckdb.DuckDBPyConnection, load_id: int, rec: Reconciliation, *, drops: int) -> None:
    loaded = " AND _line NOT IN (SELECT _line FROM _el_hdrop)" if drops else ""
    flag_from(
        cur, load_id=load_id, table="_el_hk", column="voting_method", rec=rec,
        where=f"_flag_voting_method IS NOT NULL{loaded}", value_sql="_flag_voting_method",
        reason="voting_method is not a known label (kept; method set to unknown)",
    )
    flag_from(
        cur, load_id=load_id, table="_el_hk", column="voted_party_cd", rec=rec,
        where=f"_flag_voted_party_cd IS NOT NULL{loaded}", value_sql="_flag_voted_party_cd",
        reason="voted_party_cd is not a known party code (kept as written)",
    )


def _apply(
    cur: duckdb.DuckDBPyConnection, load_id: int, rec: Reconciliation, *,
    staged: Staged, header: list[str], params: dict[str, str], drops: int, expected: int,
    padded: frozenset[str] | None,
) -> None:
    """Write the file's rows (all but the quarantined ones) into `vote_history`."""
    cols = ", ".join(_COLUMNS)
    rows = _rows(cur, staged, numbered=drops > 0)
    if drops:
        rows = f"(SELECT * FROM {rows} WHERE _k NOT IN (SELECT _k FROM _el_hdrop))"  # noqa: S608
    normalized = _normalized_sql(rows, set(header), padded=padded)
    first = cur.execute("SELECT NOT EXISTS (SELECT 1 FROM vote_history)").fetchone()
    if first and first[0]:
        # Nothing loaded yet: every row is new, so there is nothing to compare with.
        row = cur.execute(
            f"""
            INSERT INTO vote_history ({cols}, row_hash, first_load_id, last_load_id)
            SELECT {cols}, hash({cols}), $load, $load FROM ({normalized})
            """,  # noqa: S608
            {**params, "load": load_id},
        ).fetchone()
        rec.rows_loaded = rec.new = int(row[0]) if row else 0
        rec.changed = rec.unchanged = 0
    else:
        cur.execute("DROP TABLE IF EXISTS _el_hn")
        cur.execute(f"CREATE TEMP TABLE _el_hn AS {normalized}", params)
        _apply_diff(cur, load_id, rec)
    if rec.rows_loaded != expected:
        raise RuntimeError(
            f"{rec.file}: {expected} rows to load after the first read, {rec.rows_loaded} in the "
            "second (did the file change during the load?)"
        )


def _apply_diff(cur: duckdb.DuckDBPyConnection, load_id: int, rec: Reconciliation) -> None:
    """Merge `_el_hn` into a `vote_history` that has rows already: new, changed, unchanged."""
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
