"""Load an NCSBE `ncvoter` file (statewide or one county) and reconcile it with the last one.

A reload updates registrations in place: new ones are added, changed ones (address,
status, party, anything) are rewritten, and registrations of the counties the file covers
that it no longer lists are marked `in_file = false` ("removed"). Status, party, address
and precinct changes are kept in `voter_history` (valid_from / valid_to per snapshot).
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
    memory_capped,
    read_first_line,
    relation_drop,
    split_header,
    stage_csv,
    staged_drop,
    staged_padded,
    utf8_copy,
    wrong_layout_error,
)
from unionhall.elections.loads import (
    FlagCheck,
    Progress,
    Reconciliation,
    already_loaded,
    flagged_rows,
    flags_from,
    load_next_id,
    load_record,
    quarantine_from,
    quarantine_rejects,
    snapshot_date_resolve,
    sql_list,
)
from unionhall.elections.nc_layout import SUPPLEMENTARY_CODES, ncvoter_layout
from unionhall.elections.people import person_upsert_from_voters
from unionhall.elections.schema import TRACKED_COLUMNS
from unionhall.errors import UserError
from unionhall.warehouse import Warehouse

# Free-text columns whose runs of spaces are collapsed (NCSBE pads street addresses).
_COLLAPSE = frozenset(
    {"res_street_address", "mail_addr1", "mail_addr2", "mail_addr3", "mail_addr4",
     "res_city_desc", "mail_city", "last_name", "first_name", "middle_name"}
)
_CHANGE_GROUPS = {
    "status": ("status_cd", "voter_status_desc", "reason_cd"),
    "party": ("party_cd",),
    "address": ("res_street_address", "res_city_desc", "state_cd", "zip_code",
                "mail_addr1", "mail_city", "mail_state", "mail_zipcode"),
    "precinct": ("precinct_abbrv",),
}


def _noop(_pct: float, _msg: str) -> None:
    return None


def voter_header_check(info: FileInfo, header: list[str]) -> str:
    """'ncvoter' or 'ncvoter_previous' for a voter-file header, else a UserError."""
    layout = ncvoter_layout()
    current = set(layout.column_names)
    previous = {c.name for c in layout.previous_columns}
    cols = set(header)
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise UserError(f"{info.name}: row 1: column {dupes[0]} appears twice in the header — fix the header")
    if cols == current:
        return "ncvoter"
    if cols == previous:
        return "ncvoter_previous"
    near = current if len(cols ^ current) <= len(cols ^ previous) else previous
    missing = sorted(near - cols)
    extra = sorted(cols - near)
    detail = "; ".join(
        p for p in (
            f"missing {', '.join(missing[:5])}" if missing else "",
            f"unexpected {', '.join(extra[:5])}" if extra else "",
        ) if p
    )
    raise wrong_layout_error(info, header, "ncvoter", detail)


def _text(col: str, padded: frozenset[str] | None = None) -> str:
    """A text column, empty as NULL; trimmed unless the file has no padding in it."""
    plain = col if padded is not None and col not in padded else f"trim({col})"
    if col in _COLLAPSE:
        # regexp only where there is a run of spaces (most values have none)
        return (
            f"nullif(CASE WHEN contains({col}, '  ') THEN trim(regexp_replace({col}, '\\s+', ' ', 'g')) "
            f"ELSE {plain} END, '')"
        )
    return f"nullif({plain}, '')"


def _normalized_select(staged: Staged, vintage: str, padded: frozenset[str] | None = None) -> str:
    """SELECT list turning staged text columns into the `voter` columns."""
    have = set(staged.columns)
    out = ["_line"]
    for name in ncvoter_layout().column_names:
        src = name
        if name not in have:
            old = {v: k for k, v in codes.OLD_TO_NEW_VOTER_COLUMNS.items()}.get(name)
            src = old if old in have else ""
        if not src:
            out.append(f"NULL::VARCHAR AS {name}")
            continue
        if name == "county_id":
            expr = f"TRY_CAST(trim({src}) AS INTEGER)"
        elif name == "voter_reg_num":
            expr = f"nullif(ltrim(trim({src}), '0'), '')"
        elif name == "registr_dt":
            expr = (
                f"coalesce(try_strptime(trim({src}), '%m/%d/%Y'), "
                f"try_strptime(trim({src}), '%Y-%m-%d'))::DATE"
            )
        elif name in ("birth_year", "age_at_year_end"):
            expr = f"TRY_CAST(trim({src}) AS INTEGER)"
        elif name == "res_street_address":
            expr = (
                f"CASE WHEN upper(trim({src})) IN ('CONFIDENTIAL', 'REMOVED') THEN NULL "
                f"ELSE {_text(src, padded)} END"
            )
        else:
            expr = _text(src, padded)
        out.append(f"{expr} AS {name}")
        if name in ("registr_dt", "county_id", "birth_year", "age_at_year_end"):
            out.append(f"nullif(trim({src}), '') AS _raw_{name}")
    res = "res_street_address" if "res_street_address" in have else "NULL"
    conf = "confidential_ind" if "confidential_ind" in have else "NULL"
    out.append(
        f"CASE WHEN upper(trim({res})) IN ('CONFIDENTIAL', 'REMOVED') THEN upper(trim({res})) "
        f"WHEN trim({conf}) = 'Y' AND nullif(trim({res}), '') IS NULL THEN 'CONFIDENTIAL' "
        "END AS address_withheld"
    )
    return ",\n ".join(out)


@memory_capped
def voterfile_import(
    *,
    warehouse: Warehouse,
    path: str,
    as_of: str | None = None,
    encoding: str = "utf-8",
    job_id: int | None = None,
    progress: Progress | None = None,
) -> Reconciliation:
    """Load a voter file into `voter` (+ history, persons). Runs inside the caller's transaction."""
    say = progress or _noop
    file = file_check(path)
    say(2, "fingerprinting the file")
    info = file_fingerprint(file)
    cur = warehouse.cursor()
    rec = Reconciliation(kind="voterfile", file=info.name, sha256=info.sha256, encoding=encoding)
    if already_loaded(cur, rec):
        return rec
    snapshot, source = snapshot_date_resolve(as_of, file)
    rec.snapshot_date = snapshot.isoformat()
    rec.notes.append(f"snapshot date {snapshot} (from the {source})")
    newer = cur.execute(
        "SELECT max(snapshot_date), arg_max(load_id, snapshot_date) FROM election_load WHERE kind = 'voterfile'"
    ).fetchone()
    if newer and newer[0] is not None and newer[0] > snapshot:
        raise UserError(
            f"{info.name}: this file is dated {snapshot}, older than the voter file already loaded "
            f"({newer[0]}, load {newer[1]}); loading it would roll registrations back — "
            "pass --as-of with the file's real date if it is wrong"
        )
    if codes_is_utf8(encoding):
        check_not_utf16(info, "UTF-8")
    header = split_header(read_first_line(file, encoding), "\t")
    rec.layout = voter_header_check(info, header)
    load_id = load_next_id(cur)
    rec.load_id = load_id

    say(5, "reading the file")
    with utf8_copy(info, encoding) as src:
        staged = stage_csv(
            cur, info=info, utf8_path=src, table="_el_vraw", columns=header, delimiter="\t", check_padding=True,
        )
        say(40, f"read {staged.rows_read:,} rows; normalizing")
        quarantine_rejects(cur, load_id=load_id, staged=staged, rec=rec)
        _rejected_keys(cur, staged, header)
        rec.rows_read = staged.rows_read
        _normalize(cur, staged, rec.layout)
    _quarantine_bad_keys(cur, load_id, rec)
    say(55, "checking codes")
    _flag_codes(cur, load_id, rec)
    say(60, "comparing with the registrations already loaded")
    _apply(cur, load_id=load_id, snapshot=snapshot.isoformat(), rec=rec)
    say(85, "updating persons")
    person_upsert_from_voters(warehouse=warehouse, load_id=load_id)
    rec.rows_flagged = flagged_rows(cur, load_id)
    relation_drop(cur, "_el_vn", "_el_vn0")
    staged_drop(cur, staged)
    for t in ("_el_vcmp", "_el_vgone", "_el_vqkeys", "_el_vrejkeys"):
        cur.execute(f"DROP TABLE IF EXISTS {t}")
    load_record(cur, rec, info=info, job_id=job_id)
    say(100, f"{rec.new:,} new, {rec.changed:,} changed, {rec.removed:,} removed")
    return rec


def codes_is_utf8(encoding: str) -> bool:
    from unionhall.elections.files import is_utf8

    try:
        return is_utf8(encoding)
    except LookupError:
        raise UserError(f"--encoding {encoding!r} is not an encoding Python knows (try utf-8, cp1252)") from None


def _rejected_keys(cur: duckdb.DuckDBPyConnection, staged: Staged, header: list[str]) -> None:
    """Keys readable from quarantined rows: those registrations are not "removed"."""
    cur.execute("DROP TABLE IF EXISTS _el_vrejkeys")
    cur.execute("CREATE TEMP TABLE _el_vrejkeys (county_id INTEGER, voter_reg_num VARCHAR)")
    i_county, i_reg = header.index("county_id"), header.index("voter_reg_num")
    keys = []
    for r in staged.rejects:
        parts = [p.strip().strip('"').strip() for p in r.raw.rstrip("\r\n").split("\t")]
        if len(parts) > max(i_county, i_reg) and parts[i_county].isdigit():
            reg = parts[i_reg].lstrip("0")
            if reg:
                keys.append((int(parts[i_county]), reg))
    if keys:
        cur.executemany("INSERT INTO _el_vrejkeys VALUES (?, ?)", keys)


def _normalize(cur: duckdb.DuckDBPyConnection, staged: Staged, vintage: str) -> None:
    """`_el_vn0`: the staged rows as `voter` columns. A view: the checks read a column or two
    of it, the final insert reads it once; a normalized copy would cost more than that."""
    relation_drop(cur, "_el_vn", "_el_vn0")
    select = _normalized_select(staged, vintage, staged_padded(cur, staged))
    cur.execute(f"CREATE TEMP VIEW _el_vn0 AS SELECT {select} FROM {staged.table}")  # noqa: S608


def _raw_line(alias: str = "") -> str:
    pre = f"{alias}." if alias else ""
    cols = ", ".join(f"coalesce(CAST({pre}{c} AS VARCHAR), '')" for c in ncvoter_layout().column_names)
    return f"concat_ws(chr(9), {cols})"


def _quarantine_bad_keys(cur: duckdb.DuckDBPyConnection, load_id: int, rec: Reconciliation) -> None:
    """Rows without a usable key, and repeated keys, go to quarantine; `_el_vn` is the rest."""
    raw = _raw_line()
    quarantine_from(
        cur, load_id=load_id, code="missing_key", rec=rec,
        select_sql=f"""
            SELECT _line,
                   CASE WHEN county_id IS NULL THEN 'county_id' ELSE 'voter_reg_num' END AS column_name,
                   CASE WHEN county_id IS NULL
                        THEN 'county_id ' || coalesce('''' || _raw_county_id || '''', 'empty') || ' is not a county number'
                        ELSE 'voter_reg_num is empty or zero' END AS reason,
                   {raw} AS raw
            FROM _el_vn0 WHERE county_id IS NULL OR voter_reg_num IS NULL
        """,  # noqa: S608  (internal SQL; values are bound)
    )
    # Repeated keys: group on a hash of the key, then compare the real keys of the few rows
    # whose hash repeats (a window over every row would sort them all).
    cur.execute("DROP TABLE IF EXISTS _el_vqkeys")
    cur.execute(
        """
        CREATE TEMP TABLE _el_vqkeys AS
        WITH repeated AS (
          SELECT hash(county_id, voter_reg_num) AS h FROM _el_vn0
          WHERE county_id IS NOT NULL AND voter_reg_num IS NOT NULL
          GROUP BY 1 HAVING count(*) > 1
        )
        SELECT _line, county_id, voter_reg_num,
               min(_line) OVER (PARTITION BY county_id, voter_reg_num) AS first_line
        FROM _el_vn0 WHERE county_id IS NOT NULL AND voter_reg_num IS NOT NULL
          AND hash(county_id, voter_reg_num) IN (SELECT h FROM repeated)
        QUALIFY count(*) OVER (PARTITION BY county_id, voter_reg_num) > 1
        """
    )
    repeats = cur.execute("SELECT count(*) FROM _el_vqkeys").fetchone()
    dups = repeats is not None and repeats[0] > 0 and quarantine_from(
        cur, load_id=load_id, code="duplicate", rec=rec,
        select_sql=f"""
            SELECT v._line, 'voter_reg_num' AS column_name,
                   'registration ' || v.county_id || '/' || v.voter_reg_num ||
                   ' already appears on row ' || d.first_line || ' (that row was loaded)' AS reason,
                   {_raw_line("v")} AS raw
            FROM _el_vn0 v JOIN (SELECT * FROM _el_vqkeys WHERE _line > first_line) d USING (_line)
        """,  # noqa: S608  (internal SQL; values are bound)
    )
    later = " AND _line NOT IN (SELECT _line FROM _el_vqkeys WHERE _line > first_line)" if dups else ""
    cur.execute(
        f"""
        CREATE TEMP VIEW _el_vn AS SELECT * FROM _el_vn0
        WHERE county_id IS NOT NULL AND voter_reg_num IS NOT NULL{later}
        """  # noqa: S608
    )


def _flag_codes(cur: duckdb.DuckDBPyConnection, load_id: int, rec: Reconciliation) -> None:
    layout = ncvoter_layout()
    supp = SUPPLEMENTARY_CODES["ncvoter"]
    checks: list[FlagCheck] = []
    params: dict[str, object] = {}
    for col in codes.VOTER_CODED_COLUMNS:
        allowed = layout.codes.get(col) or supp.get(col) or {}
        params[f"codes_{col}"] = sql_list(frozenset(allowed))
        checks.append(FlagCheck(
            column=col, where=f"{col} IS NOT NULL AND NOT list_contains($codes_{col}, {col})",
            reason=f"{col} is not a known code (kept as written)",
        ))
    checks.append(FlagCheck(column="status_cd", where="status_cd IS NULL", reason="status_cd is empty", value_sql="NULL"))
    params["counties"] = sorted({int(c) or 100 for c in layout.codes["county_id"]})
    checks.append(FlagCheck(
        column="county_id", where="NOT list_contains($counties, county_id)", value_sql="CAST(county_id AS VARCHAR)",
        reason="county_id is not one of the 100 NC county numbers (kept as written)",
    ))
    for col in ("registr_dt", "birth_year", "age_at_year_end"):
        checks.append(FlagCheck(
            column=col, where=f"_raw_{col} IS NOT NULL AND {col} IS NULL", value_sql=f"_raw_{col}",
            reason=f"{col} is not readable (stored empty; the value is kept here)",
        ))
    flags_from(cur, load_id=load_id, table="_el_vn", checks=checks, params=params, rec=rec)


def _apply(cur: duckdb.DuckDBPyConnection, *, load_id: int, snapshot: str, rec: Reconciliation) -> None:
    """Merge the normalized rows `_el_vn` (a table or a view) into `voter` and `voter_history`.

    Also reads `_el_vrejkeys` (keys of quarantined rows: not removed). Drops `_el_vn`.
    """
    names = list(ncvoter_layout().column_names)
    cols = ", ".join(names)
    rec.rows_loaded = int(cur.execute("SELECT count(*) FROM _el_vn").fetchone()[0])  # type: ignore[index]
    first = cur.execute("SELECT NOT EXISTS (SELECT 1 FROM voter)").fetchone()
    if first and first[0]:
        _apply_first(cur, load_id=load_id, snapshot=snapshot, rec=rec)
        return
    old_tracked = ", ".join(f"o.{c} AS old_{c}" for c in TRACKED_COLUMNS)
    ncols = ", ".join(f"n.{c}" for c in names)
    cur.execute(
        f"""
        CREATE TEMP TABLE _el_vcmp AS
        SELECT {ncols}, n.address_withheld, n._line, hash({ncols}, n.address_withheld) AS row_hash,
               o.voter_reg_num IS NULL AS is_new, o.in_file AS old_in_file,
               o.row_hash AS old_hash, o.first_load_id AS old_first_load_id, {old_tracked}
        FROM _el_vn n LEFT JOIN voter o
          ON o.county_id = n.county_id AND o.voter_reg_num = n.voter_reg_num
        """  # noqa: S608
    )
    relation_drop(cur, "_el_vn")
    # Registrations of the file's counties that it no longer lists (quarantined rows whose
    # key is readable are not counted as removed: they are still in the file).
    cur.execute(
        """
        CREATE TEMP TABLE _el_vgone AS
        SELECT o.* FROM voter o
        WHERE o.in_file
          AND o.county_id IN (SELECT DISTINCT county_id FROM _el_vcmp)
          AND NOT EXISTS (SELECT 1 FROM _el_vcmp n
                          WHERE n.county_id = o.county_id AND n.voter_reg_num = o.voter_reg_num)
          AND NOT EXISTS (SELECT 1 FROM _el_vrejkeys q
                          WHERE q.county_id = o.county_id AND q.voter_reg_num = o.voter_reg_num)
        """
    )
    counts = cur.execute(
        """
        SELECT count(*) FILTER (WHERE is_new),
               count(*) FILTER (WHERE NOT is_new AND (row_hash <> old_hash OR NOT old_in_file)),
               count(*) FILTER (WHERE NOT is_new AND row_hash = old_hash AND old_in_file)
        FROM _el_vcmp
        """
    ).fetchone()
    assert counts is not None
    rec.new, rec.changed, rec.unchanged = (int(x) for x in counts)
    rec.removed = int(cur.execute("SELECT count(*) FROM _el_vgone").fetchone()[0])  # type: ignore[index]

    _history(cur, load_id=load_id, snapshot=snapshot)

    changed = "NOT is_new AND (row_hash <> old_hash OR NOT old_in_file)"
    cur.execute(
        """
        DELETE FROM voter USING _el_vcmp c
        WHERE voter.county_id = c.county_id AND voter.voter_reg_num = c.voter_reg_num
          AND NOT c.is_new AND (c.row_hash <> c.old_hash OR NOT c.old_in_file)
        """
    )
    cur.execute(
        f"""
        INSERT INTO voter
        SELECT {cols}, address_withheld, true, row_hash, ?::DATE,
               coalesce(old_first_load_id, ?), ?, ?, _line
        FROM _el_vcmp WHERE is_new OR ({changed})
        """,  # noqa: S608
        [snapshot, load_id, load_id, load_id],
    )
    cur.execute(
        """
        UPDATE voter SET last_load_id = ?, snapshot_date = ?::DATE, row_number = c._line
        FROM _el_vcmp c
        WHERE voter.county_id = c.county_id AND voter.voter_reg_num = c.voter_reg_num
          AND NOT c.is_new AND c.row_hash = c.old_hash AND c.old_in_file
        """,
        [load_id, snapshot],
    )
    cur.execute(
        """
        UPDATE voter SET in_file = false, changed_load_id = ?, last_load_id = ?
        FROM _el_vgone g
        WHERE voter.county_id = g.county_id AND voter.voter_reg_num = g.voter_reg_num
        """,
        [load_id, load_id],
    )


def _apply_first(cur: duckdb.DuckDBPyConnection, *, load_id: int, snapshot: str, rec: Reconciliation) -> None:
    """The first voter file: every registration is new, none removed; nothing to compare."""
    names = list(ncvoter_layout().column_names)
    cols = ", ".join(names)
    rec.new, rec.changed, rec.unchanged, rec.removed = rec.rows_loaded, 0, 0, 0
    cur.execute(
        f"""
        INSERT INTO voter
        SELECT {cols}, address_withheld, true, hash({cols}, address_withheld), $snap::DATE,
               $load, $load, $load, _line
        FROM _el_vn
        """,  # noqa: S608
        {"snap": snapshot, "load": load_id},
    )
    relation_drop(cur, "_el_vn")
    # What `_history` writes for new registrations, read back from `voter` (normalized once).
    tracked = ", ".join(TRACKED_COLUMNS)
    cur.execute(
        f"""
        INSERT INTO voter_history
        SELECT county_id, voter_reg_num, ncid, {tracked}, true, 'new', $snap::DATE, NULL, $load, NULL
        FROM voter
        """,  # noqa: S608
        {"snap": snapshot, "load": load_id},
    )


def _history(cur: duckdb.DuckDBPyConnection, *, load_id: int, snapshot: str) -> None:
    """Close and open `voter_history` rows for new, changed, returned and dropped registrations."""
    tracked = ", ".join(TRACKED_COLUMNS)
    group_exprs = []
    for group, group_cols in _CHANGE_GROUPS.items():
        cond = " OR ".join(f"{c} IS DISTINCT FROM old_{c}" for c in group_cols)
        group_exprs.append(f"CASE WHEN {cond} THEN '{group}' END")
    change = (
        "CASE WHEN is_new THEN 'new' WHEN NOT old_in_file THEN 'returned' "
        f"ELSE concat_ws(',', {', '.join(group_exprs)}) END"
    )
    cur.execute("DROP TABLE IF EXISTS _el_vhist")
    cur.execute(
        f"""
        CREATE TEMP TABLE _el_vhist AS
        SELECT county_id, voter_reg_num, ncid, {tracked}, {change} AS change, is_new
        FROM _el_vcmp
        WHERE is_new OR NOT old_in_file
           OR ({" OR ".join(f"{c} IS DISTINCT FROM old_{c}" for c in TRACKED_COLUMNS)})
        """  # noqa: S608
    )
    cur.execute(
        """
        UPDATE voter_history SET valid_to = ?::DATE, closed_load_id = ?
        FROM (SELECT county_id, voter_reg_num FROM _el_vhist WHERE NOT is_new
              UNION ALL SELECT county_id, voter_reg_num FROM _el_vgone) k
        WHERE voter_history.closed_load_id IS NULL
          AND voter_history.county_id = k.county_id AND voter_history.voter_reg_num = k.voter_reg_num
        """,
        [snapshot, load_id],
    )
    cur.execute(
        f"""
        INSERT INTO voter_history
        SELECT county_id, voter_reg_num, ncid, {tracked}, true, change, ?::DATE, NULL, ?, NULL
        FROM _el_vhist
        """,  # noqa: S608
        [snapshot, load_id],
    )
    cur.execute(
        f"""
        INSERT INTO voter_history
        SELECT county_id, voter_reg_num, ncid, {tracked}, false, 'dropped', ?::DATE, NULL, ?, NULL
        FROM _el_vgone
        """,  # noqa: S608
        [snapshot, load_id],
    )
    cur.execute("DROP TABLE _el_vhist")
