"""The targeting attributes on `person` that lists filter on (see `field/schema.py`).

`person_facts_refresh(cur)` recomputes them for every person from the current state of
the warehouse: the person's best voter registration (listed in the latest file, then
by status, then the latest registration), their participation, their ballot in the
newest election with ballot data, and their door (the golden record's address split
into house number, street and unit, with the coordinates of the matching address
point). It runs at the end of every job that changes those inputs (voter file, vote
history, absentee, identity, address points: `field/tasks.py`), inside that job's
transaction, so a failed load leaves them as they were.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from unionhall.elections.codes import STATUS_RANK

# Unit designators (USPS Publication 28) as the standardized addresses write them.
UNIT_RE = r"\s+(?:APT|UNIT|STE|SUITE|LOT|RM|ROOM|FL|FLOOR|BLDG|TRLR|SPC|#)\s*#?\s*([A-Z0-9-]+)$"
NOT_WALKABLE_RE = r"^(?:PO BOX|P O BOX|POST OFFICE BOX|RR |HC |PSC |CMR |UNIT \d+ BOX|GENERAL DELIVERY)"


def addr_key_sql(number: str, street: str, zip5: str) -> str:
    """The SQL of an address-point key: "NUMBER STREET|ZIP5", upper case, single spaces."""
    return (f"upper(regexp_replace(trim(CAST({number} AS VARCHAR) || ' ' || {street}), '\\s+', ' ', 'g'))"
            f" || '|' || {zip5}")


def person_facts_refresh(cur: duckdb.DuckDBPyConnection, *, today: dt.date | None = None) -> int:
    """Recompute the targeting attributes of every person; returns the persons updated."""
    today = today or dt.datetime.now(dt.UTC).date()
    ranks = ", ".join(f"('{k}', {v})" for k, v in STATUS_RANK.items())
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _facts_reg AS
        SELECT person_id, precinct_abbrv, precinct_desc, cong_dist_abbrv, nc_senate_abbrv, nc_house_abbrv,
               municipality_desc, ward_desc, school_dist_desc, party_cd, status_cd, birth_year, ncid
        FROM (
          SELECT vp.person_id, v.*, row_number() OVER (
                   PARTITION BY vp.person_id
                   ORDER BY v.in_file DESC, coalesce(r.rank, 9), v.registr_dt DESC NULLS LAST,
                            v.county_id, v.voter_reg_num) AS k
          FROM voter_person vp JOIN voter v ON v.ncid = vp.ncid
          LEFT JOIN (VALUES {ranks}) r(code, rank) ON r.code = v.status_cd
        ) WHERE k = 1
        """  # noqa: S608  (ranks are constants)
    )
    cur.execute(
        """
        CREATE OR REPLACE TEMP TABLE _facts_ballot AS
        SELECT b.ncid, b.election_dt, b.stage, b.already_voted, b.requested_not_returned, b.needs_cure
        FROM ballot_status b
        WHERE b.election_dt = (SELECT max(election_dt) FROM ballot_status)
        QUALIFY row_number() OVER (PARTITION BY b.ncid ORDER BY b.status_date DESC NULLS LAST) = 1
        """
    )
    line = "upper(trim(p.addr_line1))"
    number = f"TRY_CAST(regexp_extract({line}, '^(\\d+)\\b', 1) AS BIGINT)"
    unit_in_line = f"nullif(regexp_extract({line}, '{UNIT_RE}', 1), '')"
    unit_line2 = f"nullif(regexp_extract(' ' || upper(trim(p.addr_line2)), '{UNIT_RE}', 1), '')"
    street = (f"nullif(trim(regexp_replace(regexp_replace({line}, '{UNIT_RE}', ''), "
              f"'^\\d+[A-Z]?(\\s+1/2)?\\s+', '')), '')")
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _facts_door AS
        SELECT p.person_id,
               CASE WHEN p.addr_line1 IS NULL OR trim(p.addr_line1) = '' THEN NULL
                    ELSE regexp_replace({line} || coalesce(' ' || upper(trim(p.addr_line2)), ''), '\\s+', ' ', 'g')
                         || '|' || coalesce(p.zip5, '') END AS door_key,
               {number} AS house_number,
               {street} AS street,
               coalesce({unit_in_line}, {unit_line2}) AS unit,
               p.zip5
        FROM person p
        """  # noqa: S608  (constant patterns)
    )
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _facts_point AS
        SELECT d.person_id, a.lat, a.lon
        FROM _facts_door d
        JOIN (SELECT addr_key, any_value(lat) AS lat, any_value(lon) AS lon FROM address_point GROUP BY addr_key) a
          ON a.addr_key = {addr_key_sql("d.house_number", "d.street", "d.zip5")}
        WHERE d.house_number IS NOT NULL AND d.street IS NOT NULL
        """  # noqa: S608  (constant expressions)
    )
    n = cur.execute(
        f"""
        UPDATE person SET
          precinct = r.precinct_abbrv, precinct_name = r.precinct_desc, cong_dist = r.cong_dist_abbrv,
          nc_senate = r.nc_senate_abbrv, nc_house = r.nc_house_abbrv, municipality = r.municipality_desc,
          ward = r.ward_desc, school_dist = r.school_dist_desc, party = r.party_cd, reg_status = r.status_cd,
          birth_year = coalesce(year(person.birth_date), r.birth_year),
          age = CASE WHEN person.birth_date IS NOT NULL THEN date_diff('year', person.birth_date, $today)
                          - CASE WHEN strftime(person.birth_date, '%m%d') > strftime($today, '%m%d') THEN 1 ELSE 0 END
                     WHEN r.birth_year IS NOT NULL THEN year($today) - r.birth_year END,
          generals_voted = vp.generals_voted, generals_considered = vp.generals_considered,
          primaries_voted = vp.primaries_voted, votes_total = vp.votes_total, vote_habit = vp.habit,
          first_time_voter = vp.first_time_voter,
          ballot_election = b.election_dt, ballot_stage = b.stage, already_voted = b.already_voted,
          ballot_chase = b.requested_not_returned, needs_cure = b.needs_cure,
          door_key = d.door_key, house_number = d.house_number, street = d.street, unit = d.unit,
          lat = pt.lat, lon = pt.lon,
          walkable = (d.house_number IS NOT NULL AND d.street IS NOT NULL
                      AND NOT regexp_matches(upper(coalesce(person.addr_line1, '')), '{NOT_WALKABLE_RE}')),
          facts_at = $now
        FROM _facts_door d
        LEFT JOIN _facts_reg r ON r.person_id = d.person_id
        LEFT JOIN voter_participation vp ON vp.ncid = r.ncid
        LEFT JOIN _facts_ballot b ON b.ncid = r.ncid
        LEFT JOIN _facts_point pt ON pt.person_id = d.person_id
        WHERE person.person_id = d.person_id
        """,  # noqa: S608  (constant patterns)
        {"today": today, "now": dt.datetime.now(dt.UTC).replace(tzinfo=None)},
    ).fetchone()
    for t in ("_facts_reg", "_facts_ballot", "_facts_door", "_facts_point"):
        cur.execute(f"DROP TABLE {t}")
    return int(n[0]) if n else 0
