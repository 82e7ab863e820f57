"""Voters -> `person` rows, until the identity engine (issue 6) owns `person`.

This is the only place election code writes `person`. One person per NCID (a person can
hold several registrations: an old removed one in another county and a current one); the
person's name and address come from their best registration (listed in the latest file,
then active > temporary > inactive > denied > removed, then the latest registration date).
`voter_person` maps NCID -> person_id so ballots and vote history reach people.
"""

from __future__ import annotations

import datetime as dt

from unionhall.elections.codes import STATUS_RANK
from unionhall.identity.ids import person_id_sql
from unionhall.warehouse import Warehouse

_PERSON_VALUES = """
    first_name, middle_name, last_name, name_suffix_lbl AS suffix, NULL::DATE AS birth_date,
    gender_code AS sex, res_street_address AS addr_line1, NULL AS addr_line2,
    res_city_desc AS city, state_cd AS state, left(zip_code, 5) AS zip5,
    county_desc AS county, full_phone_number AS phone, NULL AS email,
    voter_reg_num
"""


def person_upsert_from_voters(*, warehouse: Warehouse, load_id: int) -> dict[str, int]:
    """Create or update the persons of the registrations a voter load touched.

    Returns counts: {"created": n, "updated": m}. Replaceable as a whole by identity.
    """
    cur = warehouse.cursor()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    ranks = ", ".join(f"('{k}', {v})" for k, v in STATUS_RANK.items())
    cur.execute("DROP TABLE IF EXISTS _el_best")
    # The window ranks narrow rows (row id and sort keys); the best rows' values are
    # fetched afterwards. Sorting whole registrations (70 columns) cost more than the rest.
    cur.execute(
        f"""
        CREATE TEMP TABLE _el_best AS
        SELECT ncid, first_name, middle_name, last_name, name_suffix_lbl, gender_code,
               res_street_address, res_city_desc, state_cd, zip_code, county_desc,
               full_phone_number, voter_reg_num
        FROM voter
        WHERE rowid IN (
          SELECT rid FROM (
            SELECT v.rowid AS rid, row_number() OVER (
              PARTITION BY v.ncid
              ORDER BY v.in_file DESC, coalesce(r.rank, 9), v.registr_dt DESC NULLS LAST,
                       v.county_id, v.voter_reg_num) AS k
            FROM voter v
            LEFT JOIN (VALUES {ranks}) r(code, rank) ON r.code = v.status_cd
            WHERE v.ncid IN (SELECT ncid FROM voter WHERE changed_load_id = ? AND ncid IS NOT NULL)
          ) WHERE k = 1
        )
        """,  # noqa: S608  (ranks are constants)
        [load_id],
    )
    # Person ids come from identity: derived from the NCID, so independent of load order.
    created = cur.execute(
        f"""
        INSERT INTO voter_person
        SELECT b.ncid, {person_id_sql("'voter:' || b.ncid")}
        FROM _el_best b WHERE NOT EXISTS (SELECT 1 FROM voter_person m WHERE m.ncid = b.ncid)
        """  # noqa: S608
    ).fetchone()
    n_created = int(created[0]) if created else 0
    cur.execute(
        f"""
        INSERT INTO person (person_id, first_name, middle_name, last_name, suffix, birth_date, sex,
                            addr_line1, addr_line2, city, state, zip5, county, phone, email,
                            voter_reg_num, created_at, updated_at)
        SELECT m.person_id, {_PERSON_VALUES}, ?, ?
        FROM _el_best b JOIN voter_person m ON m.ncid = b.ncid
        WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.person_id = m.person_id)
        """,  # noqa: S608
        [now, now],
    )
    updated = cur.execute(
        f"""
        UPDATE person SET
          first_name = s.first_name, middle_name = s.middle_name, last_name = s.last_name,
          suffix = s.suffix, sex = s.sex, addr_line1 = s.addr_line1, city = s.city,
          state = s.state, zip5 = s.zip5, county = s.county, phone = s.phone,
          voter_reg_num = s.voter_reg_num, updated_at = $now
        FROM (SELECT m.person_id, {_PERSON_VALUES}
              FROM _el_best b JOIN voter_person m ON m.ncid = b.ncid) s
        WHERE person.person_id = s.person_id
          AND (person.first_name, person.middle_name, person.last_name, person.addr_line1,
               person.city, person.zip5, person.county, person.phone, person.voter_reg_num)
              IS DISTINCT FROM
              (s.first_name, s.middle_name, s.last_name, s.addr_line1, s.city, s.zip5,
               s.county, s.phone, s.voter_reg_num)
        """,  # noqa: S608
        {"now": now},
    ).fetchone()
    cur.execute("DROP TABLE _el_best")
    return {"created": n_created, "updated": int(updated[0]) if updated else 0}

