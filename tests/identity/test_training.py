"""Training that EM can push to the edge of float64 still trains: Splink 5.0.0's EM
estimated a level's m as exactly 0.0 on a 20,000-voter synthetic state (the member <->
member model's email "else" level) and its own setter refused the value, failing the
whole match job."""

from __future__ import annotations

from typing import Any

import pytest
from splink.internals import expectation_maximisation as em
from splink.internals.comparison_level import M_U_CLAMP_MIN

from tests.identity.engine_data import febrl_tables
from unionhall.identity import engines, model


def _step(linker: Any, m_else: float) -> Any:
    """Splink's own maximisation step (as `em.maximisation_step` is now) fed an
    estimate of `m_else` for the email comparison's "else" level."""
    records = [
        {"output_column_name": "_probability_two_random_records_match", "comparison_vector_value": 0,
         "m_probability": 0.01, "u_probability": 0.99},
        {"output_column_name": "email", "comparison_vector_value": 0, "m_probability": m_else,
         "u_probability": 0.99},
    ]
    return em.maximisation_step(training_fixed_probabilities={"u"},
                                core_model_settings=linker._settings_obj.core_model_settings,
                                param_records=records)


def _email_else(settings: Any) -> Any:
    (email,) = [c for c in settings.comparisons if c.output_column_name == "email"]
    (level,) = [lv for lv in email._comparison_levels_excluding_null if lv.comparison_vector_value == 0]
    return level


def test_an_m_estimated_as_zero_is_floored_and_training_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    splinks = getattr(em.maximisation_step, "splink_step", em.maximisation_step)
    monkeypatch.setattr(em, "maximisation_step", splinks)  # Splink's own; restored after the test
    both, _, _ = febrl_tables(50)
    with engines.open_session("duckdb") as session:
        linker = model._linker(session, "member_member", model.settings_for("member_member"),
                               {"members": session.load("members", both)})
        with pytest.raises(ValueError, match="below the minimum"):
            _step(linker, 0.0)  # Splink's step refuses its own estimate
        model._floor_em_estimates()
        floored = em.maximisation_step
        model._floor_em_estimates()
        assert em.maximisation_step is floored  # wrapped once, however many trainings
        assert _email_else(_step(linker, 0.0)).m_probability == M_U_CLAMP_MIN
        assert _email_else(_step(linker, 0.25)).m_probability == 0.25  # other estimates untouched
