"""Comparison-ready inputs: member records and voters with the same standardized columns.

Names are folded to unaccented capitals with punctuation removed; each first name
carries its related names from the `nicknames` package (Bill -> William, Will...).
Addresses compare as house number + street (the unit removed: the voter file writes it
inside the street line, member lists in a second line) + ZIP. Phones are E.164.
"""

from __future__ import annotations

import functools

import pyarrow as pa

from unionhall.warehouse import Warehouse

NAME = "nullif(trim(regexp_replace(upper(strip_accents(coalesce({c}, ''))), '[^A-Z ]', '', 'g')), '')"
UNIT = r"'\s+(APT|UNIT|STE|SUITE|#|LOT|RM|ROOM|BLDG|FL|TRLR|SPC|APARTMENT|NO)\b.*$'"

# Date of birth as YYYYMMDD digits, also when the date itself is impossible (a typo such
# as 1993-18-19 or 02/30/1980): one mistyped digit is still evidence.
DOB_DIGITS = r"""coalesce(strftime(m.dob, '%Y%m%d'),
    CASE WHEN regexp_matches(trim(m.dob_raw), '^(1[89]|20)[0-9]{2}[-/]?[0-9]{2}[-/]?[0-9]{2}$')
         THEN regexp_replace(m.dob_raw, '[^0-9]', '', 'g')
         WHEN regexp_matches(trim(m.dob_raw), '^[0-9]{1,2}[-/][0-9]{1,2}[-/](1[89]|20)[0-9]{2}$')
         THEN right(trim(m.dob_raw), 4) || lpad(regexp_extract(trim(m.dob_raw), '^([0-9]+)', 1), 2, '0')
              || lpad(regexp_extract(trim(m.dob_raw), '^[0-9]+[-/]([0-9]+)', 1), 2, '0') END)"""

# The second address line: the standardized unit if there is one, else what the file
# wrote between the street line and the city/state/ZIP (a building, village or property
# name the standardizer has no field for; the import keeps it in `address_raw`). Letters
# and digits only, so a space inserted or lost in typing does not matter.
EXTRA = r"""nullif(regexp_replace(upper(strip_accents(coalesce(
    m.addr_line2,
    array_to_string(list_filter(string_split(m.address_raw, ',')[2:],
        p -> NOT (upper(trim(p)) = upper(trim(coalesce(m.city, '')))
                  OR regexp_matches(trim(p), '(^|\s)[0-9]{3,5}(-[0-9]{4})?$')
                  OR regexp_matches(trim(p), '^[A-Za-z]{2,3}$'))), ' '),
    ''))), '[^A-Z0-9]', '', 'g'), '')"""


def _name(col: str) -> str:
    return NAME.format(c=col)


@functools.lru_cache(maxsize=1)
def _namer() -> object:
    from nicknames import NickNamer

    return NickNamer()


def related_names(name: str) -> list[str]:
    """Upper-case names the `nicknames` package relates to `name` (both directions)."""
    n = _namer()
    low = name.lower()
    rel = set(n.canonicals_of(low)) | set(n.nicknames_of(low))  # type: ignore[attr-defined]
    rel.discard(low)
    return sorted(r.upper() for r in rel)


def _street_types(warehouse: Warehouse, table: str) -> None:
    """Abbreviate a street type left in full (CRESCENT -> CRES) the way USPS does.

    The standardizer already does it for the addresses it parses; the ones it keeps as
    written (foreign, unparsed) would otherwise never agree with a parsed twin.
    """
    from scourgify.address_constants import STREET_TYPE_ABBREVIATIONS

    cur = warehouse.cursor()
    types = pa.table({"word": list(STREET_TYPE_ABBREVIATIONS),
                      "abbr": list(STREET_TYPE_ABBREVIATIONS.values())})
    cur.register("_id_street_types", types)
    cur.execute(
        f"""
        UPDATE {table} SET addr_street = regexp_replace(addr_street, '\\S+$', t.abbr)
        FROM _id_street_types t
        WHERE regexp_extract(addr_street, '\\s(\\S+)$', 1) = t.word AND t.word <> t.abbr
        """  # noqa: S608  (table is one of two constants)
    )
    cur.unregister("_id_street_types")


def _register_nicknames(warehouse: Warehouse) -> None:
    cur = warehouse.cursor()
    firsts = [r[0] for r in cur.execute(
        "SELECT DISTINCT given FROM _id_members WHERE given IS NOT NULL").fetchall()]
    table = pa.table({"name": firsts, "rel": [related_names(f) for f in firsts]},
                     schema=pa.schema([("name", pa.string()), ("rel", pa.list_(pa.string()))]))
    cur.register("_id_nick_arrow", table)
    cur.execute("CREATE OR REPLACE TEMP TABLE _id_nick AS SELECT * FROM _id_nick_arrow")
    cur.unregister("_id_nick_arrow")


def members_prepare(warehouse: Warehouse, *, everything: bool = False) -> None:
    """Temp table ``_id_members``: every active member record, standardized, with
    ``pending`` = new or changed since it was last matched (every record if
    `everything`: a retrained model scores all pairs again)."""
    cur = warehouse.cursor()
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _id_members AS
        SELECT 'm|' || m.source || '|' || m.member_key AS unique_id,
               m.source AS source_name, m.member_key, m.import_id, m.row_hash,
               {_name('m.first_name')} AS given,
               {_name('m.last_name')} AS surname,
               m.dob,
               {DOB_DIGITS} AS dob_digits,
               coalesce(year(m.dob),
                        try_cast(regexp_extract(m.dob_raw, '(1[89][0-9][0-9]|20[0-9][0-9])') AS INTEGER)
               ) AS birth_year,
               coalesce(month(m.dob),
                        try_cast(nullif(regexp_extract(m.dob_raw, '^([01]?[0-9])[/-](1[89]|20)[0-9][0-9]$', 1), '') AS INTEGER),
                        try_cast(nullif(regexp_extract(m.dob_raw, '^(1[89]|20)[0-9][0-9]-([01]?[0-9])$', 2), '') AS INTEGER)
               ) AS birth_month,
               nullif(upper(trim(coalesce(m.addr_number, regexp_extract(m.addr_line1, '^([0-9]+[A-Z]?)\\s', 1)))), '') AS addr_num,
               nullif(upper(trim(coalesce(m.addr_street,
                      regexp_replace(regexp_replace(split_part(m.addr_line1, ',', 1),
                                                    '^[0-9]+[A-Z]?\\s+', ''), {UNIT}, '')))), '')
                 AS addr_street,
               {EXTRA} AS addr_extra,
               nullif(left(m.zip5, 5), '') AS zip5,
               nullif(upper(trim(m.city)), '') AS city,
               nullif(m.phone, '') AS phone,
               nullif(lower(trim(m.email)), '') AS email,
               ($everything OR r.row_hash IS NULL OR r.row_hash <> m.row_hash) AS pending
        FROM member_record m
        LEFT JOIN identity_record r
          ON r.source_kind = 'member' AND r.source_name = m.source AND r.record_key = m.member_key
        WHERE m.status = 'active'
        """,  # noqa: S608  (constant fragments)
        {"everything": everything},
    )
    _street_types(warehouse, "_id_members")
    _register_nicknames(warehouse)


def voters_prepare(warehouse: Warehouse, *, since_load_id: int) -> None:
    """Temp table ``_id_voters``: one row per NCID (its best registration), standardized;
    ``pending`` = changed by a voter load after ``since_load_id``."""
    from unionhall.elections.codes import STATUS_RANK

    ranks = ", ".join(f"('{k}', {int(v)})" for k, v in STATUS_RANK.items())
    cur = warehouse.cursor()
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _id_voters AS
        SELECT 'v|' || v.ncid AS unique_id, 'voter file' AS source_name, v.ncid,
               {_name('v.first_name')} AS given,
               {_name('v.last_name')} AS surname,
               NULL::DATE AS dob,
               NULL::VARCHAR AS dob_digits,
               v.birth_year,
               NULL::INTEGER AS birth_month,
               nullif(regexp_extract(v.res_street_address, '^([0-9]+[A-Z]?)\\s', 1), '') AS addr_num,
               nullif(trim(regexp_replace(regexp_replace(upper(v.res_street_address), '^[0-9]+[A-Z]?\\s+', ''),
                      {UNIT}, '')), '') AS addr_street,
               NULL::VARCHAR AS addr_extra,
               nullif(left(v.zip_code, 5), '') AS zip5,
               nullif(upper(trim(v.res_city_desc)), '') AS city,
               CASE WHEN length(regexp_replace(coalesce(v.full_phone_number, ''), '[^0-9]', '', 'g')) = 10
                    THEN '+1' || regexp_replace(v.full_phone_number, '[^0-9]', '', 'g') END AS phone,
               NULL::VARCHAR AS email,
               (v.changed_load_id > $since) AS pending
        FROM voter v
        LEFT JOIN (VALUES {ranks}) r(code, rank) ON r.code = v.status_cd
        WHERE v.ncid IS NOT NULL
        QUALIFY row_number() OVER (
          PARTITION BY v.ncid
          ORDER BY v.in_file DESC, coalesce(r.rank, 9), v.registr_dt DESC NULLS LAST,
                   v.county_id, v.voter_reg_num) = 1
        """,  # noqa: S608  (ranks are constants)
        {"since": since_load_id},
    )
    _street_types(warehouse, "_id_voters")


SPLINK_SELECT = """
    SELECT unique_id, source_name, given, surname, coalesce({rel}, []::VARCHAR[]) AS given_rel,
           dob, dob_digits, birth_year, birth_month, addr_num, addr_street, addr_extra, zip5, city, phone, email, pending
    FROM {table} t {join}
    ORDER BY unique_id
"""


def members_arrow(warehouse: Warehouse) -> pa.Table:
    sql = SPLINK_SELECT.format(rel="n.rel", table="_id_members",
                               join="LEFT JOIN _id_nick n ON n.name = t.given")
    return warehouse.cursor().execute(sql).fetch_arrow_table()


def voters_arrow(warehouse: Warehouse) -> pa.Table:
    sql = SPLINK_SELECT.format(rel="n.rel", table="_id_voters",
                               join="LEFT JOIN _id_nick n ON n.name = t.given")
    return warehouse.cursor().execute(sql).fetch_arrow_table()
