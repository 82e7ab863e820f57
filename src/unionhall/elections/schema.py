"""Warehouse tables for election data (voter file, vote history, polling places, ballots).

Never edit a migration once it has been committed; add a new one.
"""

from __future__ import annotations

from ibis.backends.duckdb import Backend as DuckDBBackend

from unionhall.elections.nc_layout import ncvoter_layout
from unionhall.warehouse.catalog import PersonTable
from unionhall.warehouse.migrations import Migration

# Voter columns that are not plain text.
VOTER_TYPED = {
    "county_id": "INTEGER",
    "registr_dt": "DATE",
    "birth_year": "INTEGER",
    "age_at_year_end": "INTEGER",
}

# Registration attributes whose changes `voter_history` keeps (status, party, address).
TRACKED_COLUMNS = (
    "status_cd",
    "voter_status_desc",
    "reason_cd",
    "party_cd",
    "res_street_address",
    "res_city_desc",
    "state_cd",
    "zip_code",
    "mail_addr1",
    "mail_city",
    "mail_state",
    "mail_zipcode",
    "precinct_abbrv",
)

ABSENTEE_DATES = ("election_dt", "ballot_req_dt", "ballot_send_dt", "ballot_rtn_dt")


def _run(be: DuckDBBackend, *statements: str) -> None:
    for sql in statements:
        be.raw_sql(sql)


def voter_column_defs() -> str:
    cols = [f"{c} {VOTER_TYPED.get(c, 'VARCHAR')}" for c in ncvoter_layout().column_names]
    return ",\n  ".join(cols)


def _create_load_log(be: DuckDBBackend) -> None:
    _run(
        be,
        """
        CREATE TABLE election_load (
          load_id BIGINT NOT NULL,
          kind VARCHAR NOT NULL,            -- voterfile | history | polling_places | absentee
          file_name VARCHAR NOT NULL,
          file_path VARCHAR,
          sha256 VARCHAR NOT NULL,
          file_bytes BIGINT,
          snapshot_date DATE,
          layout VARCHAR,
          encoding VARCHAR,
          loaded_at TIMESTAMP NOT NULL,
          job_id BIGINT,
          rows_read BIGINT NOT NULL,
          rows_loaded BIGINT NOT NULL,
          rows_quarantined BIGINT NOT NULL,
          rows_flagged BIGINT NOT NULL,
          rows_new BIGINT NOT NULL,
          rows_changed BIGINT NOT NULL,
          rows_removed BIGINT NOT NULL,
          rows_unchanged BIGINT NOT NULL,
          notes VARCHAR
        )
        """,
        # Rejected rows, with the reason a person can act on and the raw line.
        """
        CREATE TABLE election_quarantine (
          load_id BIGINT NOT NULL,
          row_number BIGINT,
          column_name VARCHAR,
          code VARCHAR NOT NULL,
          reason VARCHAR NOT NULL,
          raw VARCHAR
        )
        """,
        # Loaded rows with a value outside the known code lists (kept, flagged).
        """
        CREATE TABLE election_flag (
          load_id BIGINT NOT NULL,
          row_number BIGINT,
          column_name VARCHAR NOT NULL,
          value VARCHAR,
          reason VARCHAR NOT NULL
        )
        """,
    )


def _create_voter(be: DuckDBBackend) -> None:
    tracked = ",\n  ".join(f"{c} {VOTER_TYPED.get(c, 'VARCHAR')}" for c in TRACKED_COLUMNS)
    _run(
        be,
        f"""
        CREATE TABLE voter (
          {voter_column_defs()},
          address_withheld VARCHAR,   -- CONFIDENTIAL or REMOVED when the file hides the address
          in_file BOOLEAN NOT NULL,   -- false once a reload no longer lists the registration
          row_hash UBIGINT NOT NULL,
          snapshot_date DATE,
          first_load_id BIGINT NOT NULL,
          last_load_id BIGINT NOT NULL,
          changed_load_id BIGINT NOT NULL,
          row_number BIGINT
        )
        """,
        f"""
        CREATE TABLE voter_history (
          county_id INTEGER NOT NULL,
          voter_reg_num VARCHAR NOT NULL,
          ncid VARCHAR,
          {tracked},
          in_file BOOLEAN NOT NULL,
          change VARCHAR NOT NULL,     -- new | status,party,address,precinct | dropped | returned
          valid_from DATE,
          valid_to DATE,
          load_id BIGINT NOT NULL,
          closed_load_id BIGINT
        )
        """,
        # ncid -> person_id, maintained by person_upsert_from_voters (identity takes over later).
        "CREATE TABLE voter_person (ncid VARCHAR NOT NULL, person_id BIGINT NOT NULL)",
    )


def _create_vote_history(be: DuckDBBackend) -> None:
    _run(
        be,
        """
        CREATE TABLE vote_history (
          ncid VARCHAR NOT NULL,
          county_id INTEGER,
          county_desc VARCHAR,
          voter_reg_num VARCHAR,
          election_date DATE,
          election_lbl VARCHAR NOT NULL,
          election_desc VARCHAR,
          election_type VARCHAR,
          voting_method VARCHAR,       -- as written in the file
          method VARCHAR NOT NULL,     -- normalized (codes.VOTING_METHODS)
          voted_party_cd VARCHAR,
          voted_party_desc VARCHAR,
          pct_label VARCHAR,
          pct_description VARCHAR,
          voted_county_id VARCHAR,
          voted_county_desc VARCHAR,
          vtd_label VARCHAR,
          vtd_description VARCHAR,
          row_hash UBIGINT NOT NULL,
          first_load_id BIGINT NOT NULL,
          last_load_id BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE voter_participation (
          ncid VARCHAR NOT NULL,
          generals_voted INTEGER NOT NULL,
          generals_considered INTEGER NOT NULL,
          primaries_voted INTEGER NOT NULL,
          primaries_considered INTEGER NOT NULL,
          votes_total INTEGER NOT NULL,
          early_votes INTEGER NOT NULL,
          mail_votes INTEGER NOT NULL,
          election_day_votes INTEGER NOT NULL,
          first_vote_date DATE,
          last_vote_date DATE,
          first_time_voter BOOLEAN NOT NULL,
          habit VARCHAR NOT NULL,      -- early_in_person | mail | election_day | mixed
          load_id BIGINT NOT NULL
        )
        """,
    )


def _create_polling_place(be: DuckDBBackend) -> None:
    _run(
        be,
        """
        CREATE TABLE polling_place (
          election_date DATE NOT NULL,
          county_name VARCHAR NOT NULL,
          precinct_name VARCHAR NOT NULL,
          precinct_key VARCHAR NOT NULL,  -- upper case, single spaces: joins voter.precinct_desc
          polling_place_id VARCHAR,
          polling_place_name VARCHAR,
          house_num VARCHAR,
          street_name VARCHAR,
          city VARCHAR,
          state VARCHAR,
          zip VARCHAR,
          load_id BIGINT NOT NULL,
          row_number BIGINT
        )
        """,
    )


def _create_absentee(be: DuckDBBackend) -> None:
    from unionhall.elections.nc_layout import absentee_layout

    cols = []
    for c in absentee_layout().columns:  # removed columns too: older files carry them
        typ = "DATE" if c.name in ABSENTEE_DATES else ("INTEGER" if c.name == "age" else "VARCHAR")
        cols.append(f"{c.name} {typ}")
    _run(
        be,
        f"""
        CREATE TABLE absentee_event (
          event_id BIGINT NOT NULL,
          row_hash UBIGINT NOT NULL,
          {", ".join(cols)},
          ballot_type VARCHAR NOT NULL,     -- mail | early | unknown
          stage VARCHAR NOT NULL,           -- normalized (codes.STAGE_RANK)
          stage_rank INTEGER NOT NULL,
          event_date DATE,
          first_load_id BIGINT NOT NULL,
          first_snapshot DATE,
          last_snapshot DATE,
          first_row_number BIGINT
        )
        """,
        """
        CREATE TABLE ballot_status (
          election_dt DATE,
          ncid VARCHAR NOT NULL,
          county_desc VARCHAR,
          voter_reg_num VARCHAR,
          party VARCHAR,
          age INTEGER,
          age_group VARCHAR,
          ballot_type VARCHAR,
          stage VARCHAR NOT NULL,
          status_text VARCHAR,
          status_date DATE,
          already_voted BOOLEAN NOT NULL,
          requested_not_returned BOOLEAN NOT NULL,
          needs_cure BOOLEAN NOT NULL,
          events INTEGER NOT NULL,
          last_event_id BIGINT NOT NULL,
          updated_load_id BIGINT NOT NULL
        )
        """,
    )


def _create_voter_extra(be: DuckDBBackend) -> None:
    _run(
        be,
        # What other states' and vendors' files say beyond NC's columns (elections/vendor.py):
        # one row per registration, rewritten by each load of its state.
        """
        CREATE TABLE voter_extra (
          county_id INTEGER NOT NULL,
          voter_reg_num VARCHAR NOT NULL,
          ncid VARCHAR NOT NULL,
          state VARCHAR NOT NULL,
          birth_date DATE,
          extra JSON,                  -- unmapped columns: {"column": "value"}
          load_id BIGINT NOT NULL
        )
        """,
    )


MIGRATIONS: list[Migration] = [
    Migration(2026113010, "elections: load log, quarantine, flags", _create_load_log),
    Migration(2026113011, "elections: voter, voter history, voter-person", _create_voter),
    Migration(2026113012, "elections: vote history and participation", _create_vote_history),
    Migration(2026113013, "elections: polling places", _create_polling_place),
    Migration(2026113014, "elections: absentee events and ballot status", _create_absentee),
    Migration(2026113015, "elections: voter extras of other states and vendors", _create_voter_extra),
]


# -- person-bearing tables (warehouse/catalog.py): how each row reaches its person and
# which field group governs each column. Demographics (race, ethnicity, gender) go with
# the name, as `person.sex` does; party and districts are open (targeting runs on them).
_VOTER_NAME = {c: "name" for c in ("last_name", "first_name", "middle_name", "name_suffix_lbl",
                                   "race_code", "ethnic_code", "gender_code")}
_VOTER_ADDRESS = {c: "address" for c in ("res_street_address", "res_city_desc", "zip_code", "mail_addr1",
                                         "mail_addr2", "mail_addr3", "mail_addr4", "mail_city", "mail_state",
                                         "mail_zipcode")}
_VOTER_OPEN = frozenset({
    "county_id", "county_desc", "voter_reg_num", "ncid", "status_cd", "voter_status_desc", "reason_cd",
    "voter_status_reason_desc", "state_cd", "confidential_ind", "registr_dt", "party_cd", "drivers_lic",
    "precinct_abbrv", "precinct_desc", "municipality_abbrv", "municipality_desc", "ward_abbrv", "ward_desc",
    "cong_dist_abbrv", "super_court_abbrv", "judic_dist_abbrv", "nc_senate_abbrv", "nc_house_abbrv",
    "county_commiss_abbrv", "county_commiss_desc", "township_abbrv", "township_desc", "school_dist_abbrv",
    "school_dist_desc", "fire_dist_abbrv", "fire_dist_desc", "water_dist_abbrv", "water_dist_desc",
    "sewer_dist_abbrv", "sewer_dist_desc", "sanit_dist_abbrv", "sanit_dist_desc", "rescue_dist_abbrv",
    "rescue_dist_desc", "munic_dist_abbrv", "munic_dist_desc", "dist_1_abbrv", "dist_1_desc", "vtd_abbrv",
    "vtd_desc",
})
_LOADED = frozenset({"row_hash", "first_load_id", "last_load_id"})

PERSON_TABLES: dict[str, PersonTable] = {
    "voter": PersonTable(
        link="ncid",
        groups={**_VOTER_NAME, **_VOTER_ADDRESS, "full_phone_number": "phone",
                "birth_year": "age", "age_at_year_end": "age", "birth_state": "age"},
        open=_VOTER_OPEN | _LOADED | {"address_withheld", "in_file", "snapshot_date", "changed_load_id",
                                      "row_number"},
    ),
    "voter_history": PersonTable(
        link="ncid",
        groups={c: "address" for c in ("res_street_address", "res_city_desc", "zip_code", "mail_addr1",
                                        "mail_city", "mail_state", "mail_zipcode")},
        open=frozenset({"county_id", "voter_reg_num", "ncid", "status_cd", "voter_status_desc", "reason_cd",
                        "party_cd", "state_cd", "precinct_abbrv", "in_file", "change", "valid_from", "valid_to",
                        "load_id", "closed_load_id"}),
    ),
    "voter_person": PersonTable(link="ncid", open=frozenset({"ncid", "person_id"})),
    "vote_history": PersonTable(
        link="ncid",
        open=_LOADED | {"ncid", "county_id", "county_desc", "voter_reg_num", "election_date", "election_lbl",
                        "election_desc", "election_type", "voting_method", "method", "voted_party_cd",
                        "voted_party_desc", "pct_label", "pct_description", "voted_county_id",
                        "voted_county_desc", "vtd_label", "vtd_description"},
    ),
    "voter_participation": PersonTable(
        link="ncid",
        open=frozenset({"ncid", "generals_voted", "generals_considered", "primaries_voted",
                        "primaries_considered", "votes_total", "early_votes", "mail_votes", "election_day_votes",
                        "first_vote_date", "last_vote_date", "first_time_voter", "habit", "load_id"}),
    ),
    "absentee_event": PersonTable(
        link="ncid",
        groups={
            **{c: "name" for c in ("voter_last_name", "voter_first_name", "voter_middle_name", "race",
                                   "ethnicity", "gender")},
            "age": "age",
            **{c: "address" for c in ("voter_street_address", "voter_city", "voter_zip",
                                      "ballot_mail_street_address", "ballot_mail_city", "ballot_mail_state",
                                      "ballot_mail_zip", "other_mail_addr1", "other_mail_addr2",
                                      "other_city_state_zip")},
            # A relative who requested the ballot is a third person: shown only with everything.
            **{c: "all" for c in ("relative_request_name", "relative_request_address", "relative_request_city",
                                  "relative_request_state", "relative_request_zip")},
        },
        open=frozenset({"event_id", "row_hash", "county_desc", "voter_reg_num", "ncid", "application_num",
                        "voter_state", "election_dt", "voter_party_code", "precinct_desc", "cong_dist_desc",
                        "nc_house_desc", "nc_senate_desc", "ballot_req_delivery_type", "ballot_req_type",
                        "ballot_request_party", "ballot_req_dt", "ballot_send_dt", "ballot_rtn_dt",
                        "ballot_rtn_status", "site_name", "sdr", "mail_veri_status", "ballot_type", "stage",
                        "stage_rank", "event_date", "first_load_id", "first_snapshot", "last_snapshot",
                        "first_row_number"}),
    ),
    "ballot_status": PersonTable(
        link="ncid",
        groups={"age": "age"},
        open=frozenset({"election_dt", "ncid", "county_desc", "voter_reg_num", "party", "age_group", "ballot_type",
                        "stage", "status_text", "status_date", "already_voted", "requested_not_returned",
                        "needs_cure", "events", "last_event_id", "updated_load_id"}),
    ),
    "voter_extra": PersonTable(
        link="ncid",
        groups={"birth_date": "dob", "extra": "all"},
        open=frozenset({"county_id", "voter_reg_num", "ncid", "state", "load_id"}),
    ),
    # Rejected and flagged lines of election files: raw text of no person yet.
    "election_quarantine": PersonTable(
        link="none", groups={"raw": "all"},
        open=frozenset({"load_id", "row_number", "column_name", "code", "reason"})),
    "election_flag": PersonTable(
        link="none", groups={"value": "all"},
        open=frozenset({"load_id", "row_number", "column_name", "reason"})),
}
