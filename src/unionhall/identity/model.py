"""The Splink models: comparisons, blocking rules, training and prediction.

Two models, both Fellegi-Sunter on standardized values and trained without labels:

* ``member_voter`` links member records to voter registrations (link only). The voter
  file carries the birth year only, so date of birth compares on the year.
* ``member_member`` finds the same person twice among member records (dual members
  across affiliates, duplicates inside one list): full date of birth with partial
  agreement (day/month swapped, same year and month, same year).

Comparisons are written as SQL levels (Splink's dict format) so the levels are exactly
the ones documented in docs/identity.md. Splink runs on its own in-memory DuckDB fed
with Arrow tables; the warehouse transaction of the job only sees the results.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from unionhall.identity import engines

logger = logging.getLogger(__name__)

PairKind = str  # "member_voter" | "member_member"

# Columns every Splink input table carries (members and voters alike).
INPUT_COLUMNS = (
    "unique_id", "source_name", "given", "surname", "given_rel", "dob", "dob_digits", "birth_year",
    "birth_month", "addr_num", "addr_street", "addr_extra", "zip5", "city", "phone", "email", "pending",
)


_LR = re.compile(r"\b([lr])\.(\w+)")


def _suffixed(cond: str) -> str:
    # Comparison levels see each pair as one row: l.x is column x_l (Splink 5).
    return _LR.sub(lambda m: f"{m.group(2)}_{m.group(1)}", cond)


def _null(*cols: str) -> dict[str, Any]:
    cond = " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in cols)
    return {"sql_condition": cond, "label_for_charts": "missing", "is_null_level": True}


def _level(cond: str, label: str, tf: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"sql_condition": _suffixed(cond), "label_for_charts": label}
    if tf:
        out["tf_adjustment_column"] = tf
        out["tf_adjustment_weight"] = 1.0
    return out


_ELSE = {"sql_condition": "ELSE", "label_for_charts": "different"}
_TRANSPOSED = "l.given = r.surname AND l.surname = r.given AND l.given <> l.surname"
# One name written in the other's place (the other one mistyped or missing): list
# exports that swap the columns for some rows.
_CROSSED = ("(jaro_winkler_similarity(l.given, r.surname) >= 0.92 "
            "OR jaro_winkler_similarity(l.surname, r.given) >= 0.92) AND l.given <> l.surname")


def _first_name() -> dict[str, Any]:
    return {
        "output_column_name": "first_name",
        "comparison_description": "first name: exact, transposed with last, nickname, fuzzy",
        "comparison_levels": [
            _null("given"),
            _level("l.given = r.given", "exact", tf="given"),
            _level(_TRANSPOSED, "transposed with last name"),
            _level("list_contains(l.given_rel, r.given) OR list_contains(r.given_rel, l.given)",
                   "nickname"),
            _level("jaro_winkler_similarity(l.given, r.given) >= 0.92", "jaro-winkler >= 0.92"),
            _level("jaro_winkler_similarity(l.given, r.given) >= 0.80", "jaro-winkler >= 0.80"),
            _level(_CROSSED, "a name in the other's place"),
            _level("left(l.given, 1) = left(r.given, 1)", "same initial"),
            _ELSE,
        ],
    }


def _neutral(cond: str, label: str) -> dict[str, Any]:
    """A level that carries no weight: the evidence is already counted by another
    comparison (a transposition is seen by both name comparisons; counted once)."""
    out = _level(cond, label)
    out.update({"m_probability": 0.5, "u_probability": 0.5,
                "fix_m_probability": True, "fix_u_probability": True})
    return out


def _last_name() -> dict[str, Any]:
    return {
        "output_column_name": "last_name",
        "comparison_description": "last name: exact, transposed with first, fuzzy",
        "comparison_levels": [
            _null("surname"),
            _level("l.surname = r.surname", "exact", tf="surname"),
            _neutral(_TRANSPOSED, "transposed with first name (counted there)"),
            _level("jaro_winkler_similarity(l.surname, r.surname) >= 0.92", "jaro-winkler >= 0.92"),
            _level("jaro_winkler_similarity(l.surname, r.surname) >= 0.80", "jaro-winkler >= 0.80"),
            _neutral(_CROSSED, "a name in the other's place (counted in first name)"),
            _ELSE,
        ],
    }


def _dob_full() -> dict[str, Any]:
    return {
        "output_column_name": "dob",
        "comparison_description": "date of birth: exact, day/month swapped, partial, year",
        "comparison_levels": [
            _null("birth_year"),
            _level("l.dob = r.dob", "exact"),
            _level("year(l.dob) = year(r.dob) AND month(l.dob) = day(r.dob) "
                   "AND day(l.dob) = month(r.dob)", "day and month swapped"),
            _level("damerau_levenshtein(l.dob_digits, r.dob_digits) <= 1", "one digit mistyped"),
            _level("l.birth_year = r.birth_year AND (l.dob IS NULL OR r.dob IS NULL) "
                   "AND (l.birth_month IS NULL OR r.birth_month IS NULL "
                   "OR l.birth_month = r.birth_month)", "partial date agrees"),
            _level("l.birth_year = r.birth_year", "same year"),
            _level("abs(l.birth_year - r.birth_year) <= 1", "within a year"),
            _ELSE,
        ],
    }


def _birth_year() -> dict[str, Any]:
    return {
        "output_column_name": "dob",
        "comparison_description": "birth year (the voter file has no full date)",
        "comparison_levels": [
            _null("birth_year"),
            _level("l.birth_year = r.birth_year", "same year"),
            _level("abs(l.birth_year - r.birth_year) <= 1", "within a year"),
            _ELSE,
        ],
    }


def _address(*, with_city: bool = True) -> dict[str, Any]:
    levels = [
            _null("addr_street"),
            _level("l.addr_num = r.addr_num AND l.addr_street = r.addr_street AND l.zip5 = r.zip5",
                   "same house, street and ZIP"),
            _level("l.addr_num = r.addr_num AND jaro_winkler_similarity(l.addr_street, r.addr_street) >= 0.88",
                   "same house, similar street"),
            _level("l.addr_street = r.addr_street AND l.zip5 = r.zip5", "same street and ZIP"),
            _level("jaro_winkler_similarity(l.addr_street, r.addr_street) >= 0.88 "
                   "AND damerau_levenshtein(l.zip5, r.zip5) <= 1", "similar street, ZIP typo"),
            _level("l.zip5 = r.zip5", "same ZIP"),
            *([_level("l.city = r.city", "same city")] if with_city else []),
            _ELSE,
    ]
    return {
        "output_column_name": "address",
        "comparison_description": "house number, street, ZIP" + (", city" if with_city else ""),
        "comparison_levels": levels,
    }


_NOSPACE = "regexp_replace({c}, '[^A-Z0-9]', '', 'g')"


def _second_line() -> dict[str, Any]:
    """The unit or building/property line (member lists only)."""
    street_l, street_r = _NOSPACE.format(c="l.addr_street"), _NOSPACE.format(c="r.addr_street")
    return {
        "output_column_name": "address_line_2",
        "comparison_description": "second address line (unit, building, property)",
        "comparison_levels": [
            {"sql_condition": "addr_extra_l IS NULL AND addr_extra_r IS NULL",
             "label_for_charts": "missing", "is_null_level": True},
            _level("l.addr_extra = r.addr_extra", "exact"),
            _level("jaro_winkler_similarity(l.addr_extra, r.addr_extra) >= 0.90", "similar"),
            # the street in one record's second line and the other way round
            _level(f"jaro_winkler_similarity(l.addr_extra, {street_r}) >= 0.90 "
                   f"OR jaro_winkler_similarity(r.addr_extra, {street_l}) >= 0.90",
                   "swapped with the street line"),
            _level("l.addr_extra IS NULL OR r.addr_extra IS NULL", "only one has one"),
            _ELSE,
        ],
    }


def _city() -> dict[str, Any]:
    return {
        "output_column_name": "city",
        "comparison_description": "city / suburb",
        "comparison_levels": [
            _null("city"),
            _level("l.city = r.city", "exact"),
            _level("jaro_winkler_similarity(l.city, r.city) >= 0.90", "similar"),
            # a move: the address comparison already counts it (else it is counted twice)
            _neutral("l.zip5 IS DISTINCT FROM r.zip5", "different, and so is the ZIP (counted in address)"),
            _ELSE,
        ],
    }


def _phone() -> dict[str, Any]:
    return {
        "output_column_name": "phone",
        "comparison_description": "phone (E.164)",
        "comparison_levels": [
            _null("phone"),
            _level("l.phone = r.phone", "exact"),
            _level("right(l.phone, 7) = right(r.phone, 7)", "same last 7 digits"),
            _ELSE,
        ],
    }


def _email() -> dict[str, Any]:
    return {
        "output_column_name": "email",
        "comparison_description": "email",
        "comparison_levels": [
            _null("email"),
            _level("l.email = r.email", "exact"),
            _level("split_part(l.email, '@', 1) = split_part(r.email, '@', 1)", "same mailbox name"),
            _ELSE,
        ],
    }


def _pending(rule: str) -> str:
    # Only pairs with a new or changed record on one side are scored (incremental runs).
    return f"(l.pending OR r.pending) AND {rule}"


MEMBER_VOTER_BLOCKING = (
    "l.given = r.given AND l.surname = r.surname",
    "l.surname = r.surname AND l.birth_year = r.birth_year",
    "l.given = r.given AND l.birth_year = r.birth_year AND l.zip5 = r.zip5",
    "l.addr_num = r.addr_num AND l.addr_street = r.addr_street AND l.zip5 = r.zip5",
    "l.phone = r.phone",
    "l.given = r.surname AND l.surname = r.given",
)

MEMBER_MEMBER_BLOCKING = (
    "l.given = r.given AND l.surname = r.surname",
    "l.dob = r.dob",
    "l.surname = r.surname AND l.birth_year = r.birth_year",
    "l.surname = r.surname AND l.zip5 = r.zip5",
    "l.given = r.given AND l.zip5 = r.zip5",
    "l.addr_num = r.addr_num AND l.addr_street = r.addr_street",
    "l.phone = r.phone",
    "l.email = r.email",
    "l.given = r.surname AND l.surname = r.given",
    # names swapped and one of them mistyped, or both names wrong but the same house
    "l.given = r.surname AND l.zip5 = r.zip5",
    "l.surname = r.given AND l.zip5 = r.zip5",
    "l.addr_num = r.addr_num AND l.zip5 = r.zip5",
    # the second line or the city where the street line or the ZIP was mistyped (street
    # + ZIP alone was tried: 860k more pairs at 100k members for 3 more FEBRL4 links)
    "l.addr_extra = r.addr_extra AND l.city = r.city",
    "l.surname = r.surname AND l.city = r.city",
    "l.addr_num = r.addr_num AND l.city = r.city",
    "l.given = r.given AND l.city = r.city",
    "l.given = r.given AND l.addr_street = r.addr_street",
    "l.addr_num = r.addr_num AND l.addr_extra = r.addr_extra",
)


def settings_for(kind: PairKind) -> dict[str, Any]:
    """The Splink settings dict (untrained) of one model."""
    if kind == "member_voter":
        comparisons = [_first_name(), _last_name(), _birth_year(), _address(), _phone()]
        return {
            "link_type": "link_only",
            "unique_id_column_name": "unique_id",
            "comparisons": comparisons,
            "blocking_rules_to_generate_predictions": [_pending(r) for r in MEMBER_VOTER_BLOCKING],
            "retain_intermediate_calculation_columns": True,
            "retain_matching_columns": True,
            "additional_columns_to_retain": ["source_name"],
        }
    comparisons = [_first_name(), _last_name(), _dob_full(), _address(with_city=False), _second_line(),
                   _city(), _phone(), _email()]
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "comparisons": comparisons,
        "blocking_rules_to_generate_predictions": [_pending(r) for r in MEMBER_MEMBER_BLOCKING],
        "retain_intermediate_calculation_columns": True,
        "retain_matching_columns": True,
        "additional_columns_to_retain": ["source_name"],
    }


@dataclass
class Prediction:
    """Scored pairs at or above a probability, with the evidence per comparison."""

    pairs: pa.Table  # key_l, key_r, source_l, source_r, match_weight, match_probability, evidence
    model_json: str
    chart: list[dict[str, Any]]
    trained: bool
    seconds: dict[str, float] = field(default_factory=dict)  # where the time went
    notes: list[str] = field(default_factory=list)  # Splink's training messages, for the job log


class _Collect(logging.Handler):
    def __init__(self, out: list[str]) -> None:
        super().__init__(logging.INFO)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        text = " ".join(record.getMessage().split())
        text = text.removeprefix("WARNING: ")
        if text and text not in self.out:
            self.out.append(text)


@contextmanager
def _splink_messages(out: list[str]) -> Iterator[None]:
    """Splink's messages (levels not observed, sampling notes) go into `out`, for the job
    log, instead of onto the terminal of whoever runs `unionhall match` or the demo."""
    log = logging.getLogger("splink")
    handler, propagate = _Collect(out), log.propagate
    log.addHandler(handler)
    log.propagate = False
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.propagate = propagate


def _linker(session: engines.EngineSession, kind: PairKind, settings: dict[str, Any] | str,
            tables: dict[str, str]) -> Any:
    from splink import Linker

    db_api = session.db_api
    if kind == "member_voter":
        inputs = [db_api.register(tables["members"], table_name="m_in"),
                  db_api.register(tables["voters"], table_name="v_in")]
    else:
        inputs = [db_api.register(tables["members"], table_name="m_in")]
    parsed = json.loads(settings) if isinstance(settings, str) else settings
    parsed = engines.translate(parsed, session.engine)
    return Linker(inputs if len(inputs) > 1 else inputs[0], parsed, log_level=logging.WARNING)


def _prior_floor(linker: Any, n_pairs: float) -> None:
    """Rules that find no pair at all (one list, no duplicates yet) estimate a prior of 0,
    which no later step can work with: assume one match among all pairs instead."""
    s = linker._settings_obj
    if not s._probability_two_random_records_match > 0:
        s._probability_two_random_records_match = 1 / max(n_pairs, 2.0)


def _floor_em_estimates() -> None:
    """Splink 5.0.0's EM can estimate a level's m as exactly 0.0 (no match of the sample
    falls in it with any weight left: seen on a 20,000-voter synthetic state, the
    member <-> member model's email and second-line "else" levels) and its own m setter
    then refuses 0.0, failing the whole match. Each maximisation step's estimates are
    floored at Splink's clamp (`M_U_CLAMP_MIN`, what its match weights clamp to): the
    level stays as strong a veto as EM found it, and training goes on."""
    from splink.internals import expectation_maximisation as em
    from splink.internals.comparison_level import M_U_CLAMP_MIN

    step = em.maximisation_step
    if hasattr(step, "splink_step"):
        return

    def floored(training_fixed_probabilities: set[str], core_model_settings: Any,
                param_records: list[dict[str, Any]]) -> Any:
        for r in param_records:
            for key in ("m_probability", "u_probability"):
                v = r.get(key)
                if isinstance(v, int | float) and v < M_U_CLAMP_MIN:
                    r[key] = M_U_CLAMP_MIN
        return step(training_fixed_probabilities=training_fixed_probabilities,
                    core_model_settings=core_model_settings, param_records=param_records)

    floored.splink_step = step  # type: ignore[attr-defined]
    em.maximisation_step = floored


def _train(linker: Any, kind: PairKind, *, seed: int, u_pairs: float, em_pairs: float,
           n_pairs: float) -> None:
    from splink import block_on

    _floor_em_estimates()
    t = linker.training
    if kind == "member_voter":
        t.estimate_probability_two_random_records_match(
            ["l.given = r.given AND l.surname = r.surname AND l.birth_year = r.birth_year AND l.zip5 = r.zip5"],
            recall=0.7,
        )
        _prior_floor(linker, n_pairs)
        t.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed, num_chunks=1)
        t.estimate_parameters_using_expectation_maximisation(
            block_on("birth_year", "zip5"), max_pairs=em_pairs, estimate_without_term_frequencies=True)
        t.estimate_parameters_using_expectation_maximisation(
            block_on("given", "surname"), max_pairs=em_pairs, estimate_without_term_frequencies=True)
        return
    t.estimate_probability_two_random_records_match(
        ["l.given = r.given AND l.surname = r.surname AND l.dob = r.dob"], recall=0.8,
    )
    _prior_floor(linker, n_pairs)
    t.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed, num_chunks=1)
    t.estimate_parameters_using_expectation_maximisation(
        block_on("dob"), max_pairs=em_pairs, estimate_without_term_frequencies=True)
    t.estimate_parameters_using_expectation_maximisation(
        block_on("given", "surname"), max_pairs=em_pairs, estimate_without_term_frequencies=True)


def chart_records(linker: Any) -> list[dict[str, Any]]:
    """Splink's match-weight chart data: one row per comparison level (and the prior)."""
    out = []
    for r in linker.visualisations.match_weights_chart().chart_data:
        w = r.log2_bayes_factor
        out.append({
            "comparison": r.comparison_name,
            "level": r.label_for_charts,
            "weight": None if w is None or math.isinf(w) else round(float(w), 3),
        })
    return out


def predict(
    *,
    kind: PairKind,
    members: pa.Table,
    voters: pa.Table | None,
    saved_model: str | None,
    min_probability: float,
    seed: int = 42,
    u_pairs: float = 2e6,
    em_pairs: float = 1e6,
    engine: str | None = None,
    postgres_url: str | None = None,
) -> Prediction:
    """Train (or load) the model of `kind` and score the pairs with a pending record.

    `engine` is where Splink runs: "duckdb" (an in-memory DuckDB), "postgres" (a
    private schema, `postgres_url` or UNIONHALL_MATCH_POSTGRES_URL) or "spark" (a local
    SparkSession); None reads UNIONHALL_MATCH_ENGINE, else DuckDB. The settings, and so
    the answer, are the same on every engine (`unionhall.identity.engines`).
    """
    name = engines.choose_engine(engine)
    secs: dict[str, float] = {}
    notes: list[str] = []
    t0 = time.perf_counter()
    with _splink_messages(notes), engines.open_session(name, postgres=postgres_url) as session:
        tables = {"members": session.load("members", members)}
        if voters is not None:
            tables["voters"] = session.load("voters", voters)
        trained = saved_model is None
        linker = _linker(session, kind, saved_model if saved_model else settings_for(kind), tables)
        secs["load"] = time.perf_counter() - t0
        if trained:
            t0 = time.perf_counter()
            n_m = members.num_rows
            n_pairs = n_m * voters.num_rows if voters is not None else n_m * (n_m - 1) / 2
            _train(linker, kind, seed=seed, u_pairs=u_pairs, em_pairs=em_pairs, n_pairs=n_pairs)
            secs["train"] = time.perf_counter() - t0
        # saved in DuckDB's SQL whatever the engine: a model moves between engines
        model_json = json.dumps(engines.translate(linker.misc.save_model_to_json(overwrite=True), "duckdb"))
        chart = chart_records(linker)
        n_pending = _count_pending(members) + (_count_pending(voters) if voters is not None else 0)
        if n_pending == 0:
            return Prediction(_empty_pairs(), model_json, chart, trained, secs, notes)
        t0 = time.perf_counter()
        pred = linker.inference.predict(threshold_match_probability=min_probability, warning_mode="never")
        secs["predict"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        pairs = _pairs_with_evidence(session, pred.physical_name, linker)
        secs["evidence"] = time.perf_counter() - t0
        return Prediction(pairs, model_json, chart, trained, secs, notes)


def _count_pending(table: pa.Table) -> int:
    import pyarrow.compute as pc

    return int(pc.sum(pc.fill_null(table["pending"], False).cast(pa.int64())).as_py() or 0)


def _empty_pairs() -> pa.Table:
    return pa.table({
        "key_l": pa.array([], pa.string()), "key_r": pa.array([], pa.string()),
        "source_l": pa.array([], pa.string()), "source_r": pa.array([], pa.string()),
        "match_weight": pa.array([], pa.float64()), "match_probability": pa.array([], pa.float64()),
        "evidence": pa.array([], pa.string()),
    })


def _pairs_with_evidence(session: engines.EngineSession, table: str, linker: Any) -> pa.Table:
    """Pairs with a JSON evidence column: comparison -> [level label, match weight].

    The columns it needs are read back from the engine as Arrow; the JSON is written by
    a local DuckDB over them, so the text is the same whatever engine scored the pairs.
    """
    cols = set(session.columns(table))
    parts = []
    fetch = ["unique_id_l", "unique_id_r", "source_name_l", "source_name_r", "match_weight",
             "match_probability"]
    for cc in linker._settings_obj.comparisons:
        name = cc.output_column_name
        gamma = cc._gamma_column_name
        if gamma in cols:
            cases = " ".join(
                f"WHEN {lvl.comparison_vector_value} THEN '{lvl.label_for_charts.replace(chr(39), '')}'"
                for lvl in cc.comparison_levels
            )
            label = f"CASE {gamma} {cases} END"
            fetch.append(gamma)
        else:
            label = "NULL"
        mw = cc._mw_column_name
        fetch.append(mw)
        tf = ""
        if cc._mw_tf_adj_column_name in cols:
            tf = f" + coalesce({cc._mw_tf_adj_column_name}, 0)"
            fetch.append(cc._mw_tf_adj_column_name)
        parts.append(f"'{name}', json_array({label}, round(CAST({mw}{tf} AS DOUBLE), 2))")
    arrow = session.fetch_arrow(table, list(dict.fromkeys(fetch)))
    if arrow.num_rows == 0:
        return _empty_pairs()
    evidence = f"json_object({', '.join(parts)})"
    sql = f"""
        SELECT CAST(unique_id_l AS VARCHAR) AS key_l, CAST(unique_id_r AS VARCHAR) AS key_r,
               CAST(source_name_l AS VARCHAR) AS source_l, CAST(source_name_r AS VARCHAR) AS source_r,
               CAST(match_weight AS DOUBLE) AS match_weight,
               CAST(match_probability AS DOUBLE) AS match_probability,
               {evidence}::VARCHAR AS evidence
        FROM _scored
    """  # noqa: S608  (names come from the model settings)
    con = duckdb.connect()
    try:
        con.register("_scored", arrow)
        return con.execute(sql).fetch_arrow_table()
    finally:
        con.close()


def _tf_col(cc: Any) -> str | None:
    for lvl in cc.comparison_levels:
        if getattr(lvl, "_tf_adjustment_input_column", None) is not None:
            return str(lvl._tf_adjustment_input_column.unquote().name)
    return None
