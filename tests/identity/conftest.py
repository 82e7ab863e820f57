from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from unionhall.jobs.runner import job_run, job_submit
from unionhall.synth import SynthParams, generate
from unionhall.warehouse import Warehouse


def run(warehouse: Warehouse, kind: str, **params: Any) -> dict[str, Any]:
    job = job_run(job=job_submit(kind=kind, params=params), warehouse=warehouse)
    assert job.status == "succeeded", job.error
    return dict(job.result)


@pytest.fixture(scope="session")
def synth_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic state (fixed seed, default mess rates), generated once."""
    out = tmp_path_factory.mktemp("identity") / "state"
    generate(SynthParams(voters=20_000, members=5_000, seed=7), out)
    return out


@pytest.fixture
def imported(warehouse: Warehouse, synth_state: Path) -> Callable[..., Warehouse]:
    """Import the state's voter file and member lists (optionally only some affiliates)."""

    def load(only: list[str] | None = None) -> Warehouse:
        run(warehouse, "elections.import_voterfile", path=str(synth_state / "ncvoter_synth.txt"))
        manifest = json.loads((synth_state / "manifest.json").read_text())
        for f in manifest["member_files"]:
            if only is None or f["slug"] in only:
                run(warehouse, "ingest.import_members", path=str(synth_state / f["path"]), source=f["slug"])
        return warehouse

    return load
