"""Warehouse tables of identity (persons, links, review pairs, provenance).

* ``identity_record``: one row per member source record that matching has seen: the
  person it belongs to, the voter registration (NCID) it is linked to, the match
  probability and the ``row_hash`` of the record when it was matched (a changed hash
  makes the record pending again). Voter records belong to persons through
  ``voter_person`` (elections), whose person ids identity assigns.
* ``identity_pair``: scored candidate pairs at or above the review threshold, with the
  evidence (match weight per comparison) as JSON; ``status`` is link / review / rejected.
* ``identity_model``: each trained Splink model (settings JSON with its parameters) and
  its match-weight chart spec.
* ``identity_run``: one row per matching run with its counts.
* ``person_alias``: person ids retired by a merge and the id they now resolve to.
* ``person_provenance``: for each golden-record field, the value and where it came from.

No PRIMARY KEY constraints: DuckDB checks them eagerly inside a transaction.
"""

from __future__ import annotations

from ibis.backends.duckdb import Backend as DuckDBBackend

from unionhall.warehouse.catalog import PersonTable
from unionhall.warehouse.migrations import Migration


def _create_identity_tables(be: DuckDBBackend) -> None:
    con = be.con
    con.execute(
        """
        CREATE TABLE identity_record (
            source_kind VARCHAR NOT NULL,      -- member
            source_name VARCHAR NOT NULL,      -- affiliate slug
            record_key VARCHAR NOT NULL,       -- member_key
            person_id BIGINT NOT NULL,
            voter_ncid VARCHAR,                -- linked registration, if any
            match_probability DOUBLE,          -- of the link that placed it (null: new person)
            match_weight DOUBLE,
            method VARCHAR NOT NULL,           -- voter_link | member_link | new | review | split | merge
            row_hash VARCHAR NOT NULL,
            import_id BIGINT,
            run_id BIGINT NOT NULL,
            updated_at TIMESTAMP NOT NULL
        )"""
    )
    con.execute(
        """
        CREATE TABLE identity_pair (
            pair_kind VARCHAR NOT NULL,        -- member_voter | member_member
            key_l VARCHAR NOT NULL,            -- m|source|member_key or v|ncid
            key_r VARCHAR NOT NULL,
            match_weight DOUBLE NOT NULL,
            match_probability DOUBLE NOT NULL,
            evidence VARCHAR NOT NULL,         -- JSON: comparison -> [level label, match weight]
            status VARCHAR NOT NULL,           -- link | review | rejected
            run_id BIGINT NOT NULL
        )"""
    )
    con.execute(
        """
        CREATE TABLE identity_model (
            pair_kind VARCHAR NOT NULL,
            run_id BIGINT NOT NULL,
            trained_at TIMESTAMP NOT NULL,
            model_json VARCHAR NOT NULL,
            chart_json VARCHAR
        )"""
    )
    con.execute(
        """
        CREATE TABLE identity_run (
            run_id BIGINT NOT NULL,
            job_id BIGINT,
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP NOT NULL,
            counts VARCHAR NOT NULL,           -- JSON
            thresholds VARCHAR NOT NULL        -- JSON
        )"""
    )
    con.execute(
        """
        CREATE TABLE person_alias (
            old_person_id BIGINT NOT NULL,
            person_id BIGINT NOT NULL,
            reason VARCHAR NOT NULL,
            run_id BIGINT NOT NULL,
            created_at TIMESTAMP NOT NULL
        )"""
    )
    con.execute(
        """
        CREATE TABLE person_provenance (
            person_id BIGINT NOT NULL,
            field VARCHAR NOT NULL,
            value VARCHAR,
            source_kind VARCHAR NOT NULL,
            source_name VARCHAR NOT NULL,
            record_key VARCHAR NOT NULL,
            import_id BIGINT,
            as_of TIMESTAMP,
            rule VARCHAR NOT NULL
        )"""
    )


MIGRATIONS: list[Migration] = [
    Migration(2026113040, "identity: records, pairs, models, runs, aliases, provenance",
              _create_identity_tables),
]


# -- person-bearing tables (warehouse/catalog.py).
PERSON_TABLES: dict[str, PersonTable] = {
    "identity_record": PersonTable(
        link="person", source="source_name", source_kind="source_kind",
        open=frozenset({"source_kind", "source_name", "record_key", "person_id", "voter_ncid", "match_probability",
                        "match_weight", "method", "row_hash", "import_id", "run_id", "updated_at"}),
    ),
    # Candidate pairs name two records (m|source|key, v|ncid): the gateway shows a pair
    # to a user who may see both records.
    "identity_pair": PersonTable(
        link="none",
        open=frozenset({"pair_kind", "key_l", "key_r", "match_weight", "match_probability", "evidence", "status",
                        "run_id"}),
    ),
    "person_alias": PersonTable(
        link="person", open=frozenset({"old_person_id", "person_id", "reason", "run_id", "created_at"})),
    # Each golden-record field's value and source: `value` is governed by the group of
    # the person field named in `field`; the source shows only where its membership does.
    "person_provenance": PersonTable(
        link="person", groups={"value": "all"}, value_group_of="field",
        source="source_name", source_kind="source_kind",
        open=frozenset({"person_id", "field", "source_kind", "source_name", "record_key", "import_id", "as_of",
                        "rule"}),
    ),
}
