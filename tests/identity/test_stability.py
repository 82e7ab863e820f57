"""Issue 6, must-show 3: re-running changes no person id; a new list keeps existing ids and
ids do not depend on the order of runs; review decisions and splits survive re-runs;
a failed match job changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.identity.conftest import run
from unionhall.identity import services
from unionhall.identity.services import pair_decide, person_split
from unionhall.jobs.runner import job_run, job_submit
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db


def ids(wh: Warehouse) -> dict[tuple[str, str], tuple[int, str | None]]:
    rows = wh.cursor().execute(
        "SELECT source_name, record_key, person_id, voter_ncid FROM identity_record").fetchall()
    return {(s, k): (int(p), n) for s, k, p, n in rows}


def test_rerun_new_list_and_order(imported: Callable[..., Warehouse], synth_state: Path,
                                  tmp_path: Path) -> None:
    del tmp_path
    manifest = json.loads((synth_state / "manifest.json").read_text())
    slugs = [f["slug"] for f in manifest["member_files"]]
    wh = imported(slugs[:4])
    first = run(wh, "identity.match")
    before = ids(wh)
    again = run(wh, "identity.match")
    assert again["pending_members"] == 0 and again["pending_voters"] == 0
    assert ids(wh) == before
    assert {k: again[k] for k in ("links", "persons", "dual_members")} == \
        {k: first[k] for k in ("links", "persons", "dual_members")}

    # the other affiliates' lists arrive later: nobody already matched changes id
    for f in manifest["member_files"][4:]:
        run(wh, "ingest.import_members", path=str(synth_state / f["path"]), source=f["slug"])
    later = run(wh, "identity.match")
    assert later["pending_members"] > 0
    after = ids(wh)
    changed = [k for k, v in before.items() if after[k][0] != v[0]]
    assert changed == []

    # ids come from records, not from counters or run order: a voter-linked person has
    # its registration's id, any other person the id of one of its own records
    from unionhall.identity.ids import member_anchor, person_id_for

    members_of: dict[int, set[int]] = {}
    for (source, key), (pid, ncid) in after.items():
        members_of.setdefault(pid, set()).add(
            person_id_for(f"voter:{ncid}") if ncid else person_id_for(member_anchor(source, key)))
    assert all(pid in anchors for pid, anchors in members_of.items())


def test_decisions_and_splits_survive_and_failed_run_changes_nothing(
    imported: Callable[..., Warehouse], monkeypatch: pytest.MonkeyPatch
) -> None:
    wh = imported()
    run(wh, "identity.match")
    cur = wh.cursor()
    linked = cur.execute(
        "SELECT source_name, record_key, voter_ncid, person_id FROM identity_record "
        "WHERE voter_ncid IS NOT NULL ORDER BY record_key LIMIT 2").fetchall()
    (s1, k1, ncid1, _pid1), (s2, k2, _, pid2) = linked
    pair_decide(key_l=f"m|{s1}|{k1}", key_r=f"v|{ncid1}", accept=False, user=None, note="not her")
    person_split(record_key=f"m|{s2}|{k2}", user=None, note="wrong merge")
    before = ids(wh)

    def boom(*a: Any, **k: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_golden_records", boom)
    job = job_run(job=job_submit(kind="identity.match"), warehouse=wh)
    assert job.status == "failed"
    assert ids(wh) == before
    monkeypatch.undo()

    for _ in range(2):
        run(wh, "identity.match")
        now = ids(wh)
        assert now[(s1, k1)][1] != ncid1
        assert now[(s2, k2)][0] != pid2 and now[(s2, k2)][1] is None
        unchanged = {k: v for k, v in before.items() if k not in {(s1, k1), (s2, k2)}}
        assert sum(1 for k, v in unchanged.items() if now[k][0] != v[0]) == 0
