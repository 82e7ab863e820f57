"""A small synthetic state, loaded once through the real jobs (address points, voter
file, vote history, absentee, member lists, identity), copied fresh for each test and
made the web app's warehouse; and the demo-style committees over it. Fixtures of the
field and exports tests (tests/conftest.py imports them)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.backends import copy_location, warehouse_location
from unionhall.warehouse import Warehouse, core


def _run(warehouse: Warehouse, kind: str, **params: Any) -> dict[str, Any]:
    from unionhall.jobs.runner import job_run, job_submit

    job = job_run(job=job_submit(kind=kind, params=params), warehouse=warehouse)
    assert job.status == "succeeded", job.error
    return dict(job.result)


@pytest.fixture(scope="session")
def field_state(tmp_path_factory: pytest.TempPathFactory, django_db_setup: Any,
                django_db_blocker: Any) -> dict[str, Any]:
    from unionhall.synth import SynthParams, generate

    root = tmp_path_factory.mktemp("field")
    out = root / "state"
    generate(SynthParams(voters=2_500, members=400, seed=5, absentee_days=3), out)
    manifest = json.loads((out / "manifest.json").read_text())
    path = warehouse_location(root, "loaded")
    wh = Warehouse(path)
    wh.migrate()
    with django_db_blocker.unblock():
        _run(wh, "field.import_address_points", path=str(out / "address_points_synth.csv"))
        _run(wh, "elections.import_voterfile", path=str(out / "ncvoter_synth.txt"))
        _run(wh, "elections.import_history", path=str(out / "ncvhis_synth.txt"))
        _run(wh, "elections.import_absentee", path=str(out / manifest["absentee_files"][-1]))
        for f in manifest["member_files"]:
            _run(wh, "ingest.import_members", path=str(out / f["path"]), source=f["slug"])
        _run(wh, "identity.match")
        from unionhall.ingest.models import ImportRun, Source
        from unionhall.jobs.models import Job

        # Set-up, not part of any test: these rows would outlive the tests' transactions.
        ImportRun.objects.all().delete()
        Source.objects.all().delete()
        Job.objects.all().delete()
    wh.close()
    return {"path": path, "dir": out, "manifest": manifest}


@pytest.fixture
def field_wh(field_state: dict[str, Any], tmp_path: Path) -> Iterator[Warehouse]:
    """A fresh copy of the loaded state, serving as the web app's warehouse."""
    wh = Warehouse(copy_location(field_state["path"], tmp_path))
    saved = core._current
    core._current = wh
    yield wh
    core._current = saved
    wh.close()


@pytest.fixture
def tree(field_wh: Warehouse, field_state: dict[str, Any]) -> dict[str, Any]:
    """Committees over the loaded state: the national office, the state federation, a CLC
    of its two biggest counties, every affiliate (the first shares names and addresses
    with the federation), and a local of the first affiliate."""
    from tests.field.test_canvass import result_codes_ensure
    from unionhall.access.models import Committee, DataAgreement

    result_codes_ensure()  # a transactional test earlier in the run flushes migration data
    cur = field_wh.cursor()
    counties = [r[0] for r in cur.execute(
        "SELECT county FROM person WHERE state = 'NC' AND county IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 "
        "LIMIT 2").fetchall()]
    sources = [f["slug"] for f in field_state["manifest"]["member_files"]]
    local = cur.execute("SELECT local FROM member_record WHERE source = ? AND local IS NOT NULL GROUP BY 1 "
                        "ORDER BY count(*) DESC, 1 LIMIT 1", [sources[0]]).fetchone()
    c: dict[str, Any] = {"counties": counties, "sources": sources}
    c["national"] = Committee.objects.create(name="AFL-CIO", kind="national")
    c["state_federation"] = Committee.objects.create(name="NC State AFL-CIO", kind="state_federation",
                                                     parent=c["national"], state="NC")
    c["clc"] = Committee.objects.create(name="Two-county CLC", kind="clc", parent=c["state_federation"], state="NC",
                                        counties=counties)
    for i, s in enumerate(sources):
        c[f"affiliate{i}"] = Committee.objects.create(name=s, kind="affiliate", source_slug=s)
    c["affiliate"] = c["affiliate0"]
    c["local"] = Committee.objects.create(name=f"{sources[0]} local {local[0] if local else '1'}", kind="local",
                                          parent=c["affiliate"], local_number=local[0] if local else "1")
    DataAgreement.objects.create(affiliate=c["affiliate"], grantee=c["state_federation"], fields=["name", "address"])
    return c
