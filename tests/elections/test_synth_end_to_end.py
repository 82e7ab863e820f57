"""The synthetic state's NC files load cleanly, and absentee days give the same status in any order."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.elections.conftest import q
from unionhall.elections import services
from unionhall.warehouse import Warehouse


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from unionhall.synth import SynthParams, generate

    out = tmp_path_factory.mktemp("synth") / "state"
    generate(SynthParams(voters=1_500, members=150, seed=11, absentee_days=5), out)
    return out


def _load(wh: Warehouse, fn, path: Path, **kw):  # type: ignore[no-untyped-def]
    with wh.transaction():
        rec = fn(warehouse=wh, path=str(path), **kw)
    rec.check()
    return rec


def test_synth_files_load_clean_in_any_absentee_order(synth_dir: Path, tmp_path: Path, warehouse: Warehouse) -> None:
    v = _load(warehouse, services.voterfile_import, synth_dir / "ncvoter_synth.txt", as_of="2026-10-20")
    h = _load(warehouse, services.vote_history_import, synth_dir / "ncvhis_synth.txt", as_of="2026-10-20")
    pp = next(synth_dir.glob("polling_place_*.csv"))
    p = _load(warehouse, services.polling_places_import, pp)
    assert v.rows_loaded == 1_500 and v.rows_quarantined == 0 and v.flags == {}
    assert h.rows_quarantined == 0 and h.flags == {}
    assert p.rows_quarantined == 0 and not p.notes  # every voter precinct has a polling place
    days = sorted((synth_dir / "absentee").glob("absentee_*.csv"))
    assert len(days) == 5
    for day in days:
        a = _load(warehouse, services.absentee_import, day)
        assert a.rows_quarantined == 0 and a.flags == {}
    forward = q(warehouse, "SELECT ncid, stage, last_event_id FROM ballot_status ORDER BY ncid")
    last_day_voters = q(warehouse, "SELECT count(DISTINCT ncid) FROM absentee_event WHERE last_snapshot = '2026-10-20'")
    assert len(forward) == last_day_voters[0][0]

    other = Warehouse(tmp_path / "reverse.duckdb")
    other.migrate()
    for day in reversed(days):
        _load(other, services.absentee_import, day)
    backward = other.cursor().execute("SELECT ncid, stage FROM ballot_status ORDER BY ncid").fetchall()
    other.close()
    assert backward == [(n, s) for n, s, _ in forward]
    # every ballot status reaches a person from the voter file
    assert q(warehouse, "SELECT count(*) FROM ballot_status b LEFT JOIN voter_person m USING (ncid) WHERE m.ncid IS NULL") == [(0,)]
