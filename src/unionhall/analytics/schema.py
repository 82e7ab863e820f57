"""Warehouse schema of analytics.

* ``person_score``: each person's score in each score slot (``turnout``, ``support``…),
  from the slot's active model (`analytics.models.ScoreModel`), with its decile; list
  filters read a slot.
* ``person_imputed``: race/ethnicity by BISG (surname + geography) and age band from
  partial data, each with the probability of the value given and the method; never
  mixed with what a person or the voter file said.
* ``experiment_unit``: who is in each experiment, in which arm, block and cluster.
* ``poll_response``: a poll's answers, one row per respondent and question (long, so any
  questionnaire fits); ``poll_weight``: each respondent's raked weight;
  ``poll_quarantine``: rows of a poll file that could not be read, with their reasons.
  A poll file is the pollster's deliverable about anonymous respondents (their own ids,
  coarse demographics), not person data: who may open a poll is decided by its committee.

Never edit a migration once it has been committed; add a new one.
"""

from __future__ import annotations

from ibis.backends.duckdb import Backend as DuckDBBackend

from unionhall.warehouse.catalog import PersonTable
from unionhall.warehouse.migrations import Migration


def _analytics_tables(be: DuckDBBackend) -> None:
    con = be.con
    con.execute(
        """
        CREATE TABLE person_score (
            slot VARCHAR NOT NULL,
            model_id BIGINT NOT NULL,
            person_id BIGINT NOT NULL,
            score DOUBLE NOT NULL,          -- 0..1: the model's probability
            decile SMALLINT NOT NULL,       -- 1 (lowest) .. 10 (highest) among everyone scored
            scored_at TIMESTAMP NOT NULL
        )"""
    )
    con.execute(
        """
        CREATE TABLE person_imputed (
            person_id BIGINT NOT NULL,
            race VARCHAR,                   -- most probable group (white, black, api, native, multiple, hispanic)
            race_probability DOUBLE,        -- its posterior probability
            race_probs DOUBLE[],            -- every group's, in that order
            race_method VARCHAR,            -- bisg_zip | bisg_county | surname_only
            age_band VARCHAR,               -- 18-29 | 30-44 | 45-64 | 65+
            age_probability DOUBLE,
            age_method VARCHAR,
            imputed_at TIMESTAMP NOT NULL
        )"""
    )
    con.execute(
        """
        CREATE TABLE experiment_unit (
            experiment_id BIGINT NOT NULL,
            person_id BIGINT NOT NULL,
            arm VARCHAR NOT NULL,
            block VARCHAR,
            cluster VARCHAR
        )"""
    )
    con.execute(
        """
        CREATE TABLE poll_response (
            poll_id BIGINT NOT NULL,
            respondent VARCHAR NOT NULL,    -- the pollster's respondent id
            row_number BIGINT NOT NULL,
            question VARCHAR NOT NULL,      -- the file's column
            answer VARCHAR                  -- as written (trimmed)
        )"""
    )
    con.execute("CREATE TABLE poll_weight (poll_id BIGINT NOT NULL, respondent VARCHAR NOT NULL, "
                "base_weight DOUBLE NOT NULL, weight DOUBLE NOT NULL)")
    con.execute(
        """
        CREATE TABLE poll_quarantine (
            poll_id BIGINT NOT NULL,
            row_number BIGINT NOT NULL,
            column_name VARCHAR,
            code VARCHAR NOT NULL,
            reason VARCHAR NOT NULL,
            raw VARCHAR
        )"""
    )


MIGRATIONS: list[Migration] = [
    Migration(2026120801, "analytics: scores, imputations, experiments, polls", _analytics_tables),
]

_RACE = ("race", "race_probability", "race_probs", "race_method")
_AGE = ("age_band", "age_probability", "age_method")
PERSON_TABLES: dict[str, PersonTable] = {
    "person_score": PersonTable(
        link="person", open=frozenset({"slot", "model_id", "person_id", "score", "decile", "scored_at"})),
    # Imputed race goes with the name it is derived from; the age band with the age.
    "person_imputed": PersonTable(
        link="person", groups={**{c: "name" for c in _RACE}, **{c: "age" for c in _AGE}},
        open=frozenset({"person_id", "imputed_at"})),
    "experiment_unit": PersonTable(
        link="person", open=frozenset({"experiment_id", "person_id", "arm", "block", "cluster"})),
    # A rejected poll row as written may hold anything (a pollster's file with names).
    "poll_quarantine": PersonTable(
        link="none", groups={"raw": "all"},
        open=frozenset({"poll_id", "row_number", "column_name", "code", "reason"})),
}
