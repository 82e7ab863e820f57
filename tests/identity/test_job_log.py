"""Splink's training messages belong in the match job's log, not on the terminal of
whoever runs `unionhall match` or `unionhall demo`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from unionhall.jobs.runner import job_run, job_submit
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db


def test_splink_messages_go_to_the_job_log(imported: Callable[..., Warehouse], synth_state: Path,
                                           capfd: pytest.CaptureFixture[str]) -> None:
    slugs = [f["slug"] for f in json.loads((synth_state / "manifest.json").read_text())["member_files"]]
    wh = imported(slugs[:2])
    capfd.readouterr()
    job = job_run(job=job_submit(kind="identity.match"), warehouse=wh)
    out, err = capfd.readouterr()
    assert job.status == "succeeded", job.error
    assert "Splink: " in job.log and "max_pairs" in job.log
    assert "max_pairs" not in out + err and "unable to train" not in out + err
