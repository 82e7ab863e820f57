"""Weekly voter-file reloads update in place and keep status/address/party history."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.elections.conftest import q
from tests.elections.nc_factory import voter, write_ncvoter
from unionhall.errors import UserError
from unionhall.warehouse import Warehouse


def test_reload_new_changed_removed_and_history(tmp_path: Path, load, warehouse: Warehouse) -> None:
    week1 = [voter(i) for i in range(1, 6)]
    r1 = load("voterfile", write_ncvoter(tmp_path / "ncvoter_20261001.txt", week1))
    assert (r1.new, r1.changed, r1.removed, r1.unchanged) == (5, 0, 0, 0)
    assert r1.snapshot_date == "2026-10-01"
    assert q(warehouse, "SELECT count(*) FROM person") == [(5,)]

    week2 = [
        voter(1),
        voter(2, res_street_address="99 ELM ST"),            # moved
        voter(3, status_cd="I", voter_status_desc="INACTIVE", reason_cd="IN"),
        voter(4, party_cd="UNA"),
        # 5 is gone; 6 is new
        voter(6),
    ]
    r2 = load("voterfile", write_ncvoter(tmp_path / "ncvoter_20261008.txt", week2))
    assert (r2.new, r2.changed, r2.removed, r2.unchanged) == (1, 3, 1, 1)
    assert q(warehouse, "SELECT voter_reg_num, in_file FROM voter ORDER BY voter_reg_num::INT") == [
        ("1", True), ("2", True), ("3", True), ("4", True), ("5", False), ("6", True)]
    assert q(warehouse, "SELECT res_street_address FROM voter WHERE voter_reg_num = '2'") == [("99 ELM ST",)]
    hist = q(warehouse, """SELECT voter_reg_num, change, valid_from::VARCHAR, valid_to::VARCHAR, in_file
                          FROM voter_history WHERE voter_reg_num IN ('2', '3', '4', '5')
                          ORDER BY voter_reg_num, valid_from""")
    assert hist == [
        ("2", "new", "2026-10-01", "2026-10-08", True), ("2", "address", "2026-10-08", None, True),
        ("3", "new", "2026-10-01", "2026-10-08", True), ("3", "status", "2026-10-08", None, True),
        ("4", "new", "2026-10-01", "2026-10-08", True), ("4", "party", "2026-10-08", None, True),
        ("5", "new", "2026-10-01", "2026-10-08", True), ("5", "dropped", "2026-10-08", None, False),
    ]
    assert q(warehouse, "SELECT addr_line1 FROM person p JOIN voter_person m USING (person_id) WHERE m.ncid = 'NC2'") == [("99 ELM ST",)]

    # 5 comes back a week later: "returned", with its person id kept.
    pid5 = q(warehouse, "SELECT person_id FROM voter_person WHERE ncid = 'NC5'")
    r3 = load("voterfile", write_ncvoter(tmp_path / "ncvoter_20261015.txt", [*week2, voter(5)]))
    assert (r3.new, r3.changed, r3.removed) == (0, 1, 0)
    assert q(warehouse, "SELECT change FROM voter_history WHERE voter_reg_num = '5' AND valid_to IS NULL") == [("returned",)]
    assert q(warehouse, "SELECT person_id FROM voter_person WHERE ncid = 'NC5'") == pid5
    assert q(warehouse, "SELECT count(*) FROM person") == [(6,)]


def test_county_file_only_removes_within_its_county(tmp_path: Path, load, warehouse: Warehouse) -> None:
    load("voterfile", write_ncvoter(tmp_path / "ncvoter_20261001.txt",
                                    [voter(1), voter(2, county_id=92, county_desc="WAKE")]))
    r = load("voterfile", write_ncvoter(tmp_path / "ncvoter25_20261008.txt", [voter(3)]))
    assert (r.new, r.removed) == (1, 1)
    assert q(warehouse, "SELECT county_id, voter_reg_num, in_file FROM voter ORDER BY voter_reg_num") == [
        (25, "1", False), (92, "2", True), (25, "3", True)]


def test_same_file_twice_changes_nothing(tmp_path: Path, load, warehouse: Warehouse) -> None:
    path = write_ncvoter(tmp_path / "ncvoter_20261001.txt", [voter(1), voter(2)])
    first = load("voterfile", path)
    before = q(warehouse, "SELECT * FROM voter ORDER BY voter_reg_num")
    again = load("voterfile", path)
    assert again.already_loaded and again.load_id == first.load_id and again.new == 0
    assert q(warehouse, "SELECT * FROM voter ORDER BY voter_reg_num") == before
    assert q(warehouse, "SELECT count(*) FROM election_load") == [(1,)]


def test_older_voter_file_after_newer_is_refused(tmp_path: Path, load) -> None:
    load("voterfile", write_ncvoter(tmp_path / "ncvoter_20261008.txt", [voter(1)]))
    with pytest.raises(UserError, match=r"dated 2026-10-01, older than the voter file already loaded \(2026-10-08"):
        load("voterfile", write_ncvoter(tmp_path / "ncvoter_20261001.txt", [voter(2)]))


@pytest.mark.django_db
def test_failed_job_leaves_previous_state_intact(tmp_path: Path, warehouse: Warehouse) -> None:
    from unionhall.jobs.runner import job_run, job_submit

    good = write_ncvoter(tmp_path / "ncvoter_20261001.txt", [voter(1), voter(2)])
    job = job_run(job=job_submit(kind="elections.import_voterfile", params={"path": str(good)}), warehouse=warehouse)
    assert job.status == "succeeded", job.error
    assert job.result["new"] == 2
    before = {t: q(warehouse, f"SELECT count(*) FROM {t}") for t in ("voter", "voter_history", "person", "election_load")}

    bad = write_ncvoter(tmp_path / "ncvoter_20261008.txt", [voter(3), voter(4)])
    bad.write_bytes(bad.read_bytes()[:-40])
    job = job_run(job=job_submit(kind="elections.import_voterfile", params={"path": str(bad)}), warehouse=warehouse)
    assert job.status == "failed"
    assert job.error.startswith("ncvoter_20261008.txt: row 3, column ")
    after = {t: q(warehouse, f"SELECT count(*) FROM {t}") for t in before}
    assert after == before
