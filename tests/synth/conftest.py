"""Shared synthetic states for the synth tests (generated once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from unionhall.synth import SynthParams, SynthSummary, generate


@pytest.fixture(scope="session")
def small_state(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthSummary]:
    """3,000 voters and 600 members: format and determinism checks."""
    out = tmp_path_factory.mktemp("synth") / "small"
    summary = generate(SynthParams(voters=3_000, members=600, seed=7), out)
    return out, summary


@pytest.fixture(scope="session")
def dist_state(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthSummary]:
    """20,000 voters and 4,000 members: enough rows for distribution checks."""
    out = tmp_path_factory.mktemp("synth") / "dist"
    summary = generate(SynthParams(voters=20_000, members=4_000, seed=11), out)
    return out, summary
