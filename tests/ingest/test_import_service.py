"""The member import job end to end on real files: snapshots, idempotence, history,
quarantine and reconciliation."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from unionhall.ingest.models import ImportRun, Source, SourceMapping
from unionhall.jobs.models import Job
from unionhall.jobs.runner import job_run, job_submit
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db

HEADER = ["Member ID", "Last Name", "First Name", "Address", "City", "State", "Zip", "Cell Phone", "Email", "DOB"]
ROWS = [
    ["A1", "Diaz", "Ana", "12 north main street apt 4", "Raleigh", "NC", "27601", "(919) 555-0101", "Ana@Example.ORG", "03/04/1980"],
    ["A2", "Lee", "Bo", "400 Oak Ave", "Durham", "NC", "27701", "919.555.0102", "bo@example.org", "1975-12-01"],
    ["A3", "O'Neil", "Cara", "7 Pine Rd", "Cary", "NC", "27511", "9195550103", "", "07/22/1990"],
]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def run_import(wh: Warehouse, path: Path, source: str = "Carolina Nurses", **extra: Any) -> Job:
    job = job_submit(kind="ingest.import_members", params={"path": str(path), "source": source, **extra})
    return job_run(job=job, warehouse=wh)


def members(wh: Warehouse, source: str = "carolina-nurses") -> dict[str, tuple[Any, ...]]:
    rows = wh.cursor().execute(
        "SELECT member_key, status, last_name, concat_ws(' ', addr_line1, addr_line2), phone, email, dob, dropped_at "
        "FROM member_record WHERE source = ? ORDER BY member_key", [source]
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_first_import_loads_and_standardizes(warehouse: Warehouse, tmp_path: Path) -> None:
    job = run_import(warehouse, write_csv(tmp_path / "m.csv", ROWS))
    assert job.status == "succeeded", job.error
    r = job.result
    assert (r["rows_read"], r["rows_loaded"], r["rows_quarantined"], r["new"], r["dropped"]) == (3, 3, 0, 3, 0)
    m = members(warehouse)
    assert set(m) == {"id:A1", "id:A2", "id:A3"}
    status, _last, addr, phone, email, dob, dropped = m["id:A1"]
    assert status == "active" and dropped is None
    assert addr == "12 N MAIN ST APT 4"
    assert phone == "+19195550101"
    assert email == "Ana@example.org"
    assert str(dob) == "1980-03-04"
    run = ImportRun.objects.get()
    assert run.reconciles and run.new == 3 and run.source.name == "Carolina Nurses"
    assert SourceMapping.objects.filter(source__slug="carolina-nurses").count() == 1


def test_reimporting_the_same_file_is_a_noop(warehouse: Warehouse, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", ROWS)
    first = run_import(warehouse, path)
    before = warehouse.cursor().execute("SELECT count(*) FROM member_record_version").fetchone()
    again = run_import(warehouse, path)
    assert again.status == "succeeded"
    assert again.result["noop"] is True
    assert again.result["already_imported_as"] == first.pk
    assert warehouse.cursor().execute("SELECT count(*) FROM member_record_version").fetchone() == before
    assert ImportRun.objects.count() == 1


def test_newer_snapshot_adds_updates_and_drops_keeping_history(warehouse: Warehouse, tmp_path: Path) -> None:
    run_import(warehouse, write_csv(tmp_path / "m1.csv", ROWS))
    moved = [[*ROWS[0][:3], "55 Elm St", "Raleigh", "NC", "27603", *ROWS[0][7:]], ROWS[1],
             ["A4", "Nguyen", "Dan", "9 Birch Ln", "Apex", "NC", "27502", "919-555-0104", "", "01/02/1988"]]
    job = run_import(warehouse, write_csv(tmp_path / "m2.csv", moved))
    r = job.result
    assert (r["new"], r["updated"], r["unchanged"], r["dropped"]) == (1, 1, 1, 1)
    m = members(warehouse)
    assert m["id:A1"][2] == "55 ELM ST"
    assert m["id:A3"][0] == "dropped" and m["id:A3"][6] is not None
    assert m["id:A4"][0] == "active"
    history = warehouse.cursor().execute(
        "SELECT change, addr_line1, valid_to_import_id IS NULL FROM member_record_version "
        "WHERE member_key = 'id:A1' ORDER BY valid_from_import_id"
    ).fetchall()
    assert history == [("new", "12 N MAIN ST", False), ("updated", "55 ELM ST", True)]
    # A3 comes back: rejoined, counted as updated, active again
    job3 = run_import(warehouse, write_csv(tmp_path / "m3.csv", [*moved, ROWS[2]]))
    assert job3.result["rejoined"] == 1
    assert members(warehouse)["id:A3"][0] == "active"
    keys = warehouse.cursor().execute(
        "SELECT count(*), count(DISTINCT member_key) FROM member_record WHERE source='carolina-nurses'"
    ).fetchone()
    assert keys == (4, 4)


def test_partial_mode_drops_nobody(warehouse: Warehouse, tmp_path: Path) -> None:
    run_import(warehouse, write_csv(tmp_path / "m1.csv", ROWS))
    job = run_import(warehouse, write_csv(tmp_path / "m2.csv", ROWS[:1]), mode="partial")
    assert job.result["dropped"] == 0
    assert all(v[0] == "active" for v in members(warehouse).values())


def test_bad_rows_are_quarantined_and_counts_reconcile(warehouse: Warehouse, tmp_path: Path) -> None:
    rows = [*ROWS, ["", "", "", "", "", "", "", "", "", ""], HEADER, ["A1", "Diaz", "Ana", "12 N Main St Apt 4", "Raleigh", "NC", "27601", "", "", ""],
            ["A9", "", "", "1 Nowhere", "Cary", "NC", "27511", "", "", ""], ["TOTAL MEMBERS: 3", "", "", "", "", "", "", "", "", ""]]
    job = run_import(warehouse, write_csv(tmp_path / "m.csv", rows))
    assert job.status == "succeeded", job.error
    r = job.result
    assert r["rows_read"] == len(rows)
    assert r["rows_read"] == r["rows_loaded"] + r["rows_quarantined"]
    assert r["rows_loaded"] == 3
    reasons = dict(warehouse.cursor().execute(
        "SELECT row_number, reason FROM member_quarantine ORDER BY row_number").fetchall())
    assert "same member as row 2" in reasons[7]
    assert "first row was loaded" in reasons[7]
    assert len(reasons) == r["rows_quarantined"] == 5


def test_a_source_mapping_is_saved_and_reused(warehouse: Warehouse, tmp_path: Path) -> None:
    run_import(warehouse, write_csv(tmp_path / "m1.csv", ROWS))
    reordered_header = ["First Name", "Last Name", "Member ID", "Address", "City", "State", "Zip", "Cell Phone", "Email", "DOB", "Shoe Size"]
    reordered = [[r[2], r[1], r[0], *r[3:], "9"] for r in ROWS]
    job = run_import(warehouse, write_csv(tmp_path / "m2.csv", reordered, reordered_header))
    assert job.result["mapping"] == "saved"
    assert job.result["unchanged"] == 0  # the new custom column changed every row
    assert "Shoe Size" in (warehouse.cursor().execute(
        "SELECT custom FROM member_record WHERE member_key='id:A1'").fetchone() or [""])[0]
    assert Source.objects.count() == 1


def test_unusable_file_fails_cleanly_and_changes_nothing(warehouse: Warehouse, tmp_path: Path) -> None:
    run_import(warehouse, write_csv(tmp_path / "m1.csv", ROWS))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    job = run_import(warehouse, empty)
    assert job.status == "failed"
    assert "empty" in job.error and "empty.csv" in job.error
    assert len(members(warehouse)) == 3
    assert ImportRun.objects.count() == 1


def test_real_names_that_look_like_placeholders_are_kept(warehouse: Warehouse, tmp_path: Path) -> None:
    rows = [["N1", "Na", "Nan", "1 Elm St", "Cary", "NC", "27511", "", "", ""],
            ["N2", "Nil", "N/A", "2 Elm St", "Cary", "NC", "27511", "", "", ""]]
    job = run_import(warehouse, write_csv(tmp_path / "m.csv", rows))
    assert job.result["rows_loaded"] == 2, job.result
    names = dict(warehouse.cursor().execute(
        "SELECT member_key, concat_ws(' ', first_name, last_name) FROM member_record").fetchall())
    assert names == {"id:N1": "Nan Na", "id:N2": "Nil"}


def test_batches_and_row_groups_do_not_change_the_outcome(
    warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny batches and row groups: duplicates across batches, flushes with remainders.
    from unionhall.ingest import services

    monkeypatch.setattr(services, "BATCH_ROWS", 2)
    monkeypatch.setattr(services, "_ROW_GROUP", 3)
    people = [[f"B{i}", f"Last{i}", f"First{i}", f"{i} Oak Ave", "Durham", "NC", "27701", "", "", ""]
              for i in range(1, 9)]
    first = [*people[:5], people[0], *people[5:], people[2]]  # B1 again at row 7, B3 at row 11
    job = run_import(warehouse, write_csv(tmp_path / "m1.csv", first))
    r = job.result
    assert (r["rows_read"], r["rows_loaded"], r["rows_quarantined"], r["new"]) == (10, 8, 2, 8)
    reasons = dict(warehouse.cursor().execute(
        "SELECT row_number, reason FROM member_quarantine WHERE code = 'duplicate'").fetchall())
    assert set(reasons) == {7, 11}
    assert "same member as row 2" in reasons[7] and "same member as row 4" in reasons[11]
    # B2 moves, B8 leaves, B9 joins; B1 twice again (the first row wins)
    second = [people[0], [*people[1][:3], "9 Elm St", *people[1][4:]], *people[2:7],
              ["B9", "Last9", "First9", "9 Oak Ave", "Durham", "NC", "27701", "", "", ""], people[0]]
    r2 = run_import(warehouse, write_csv(tmp_path / "m2.csv", second)).result
    assert (r2["new"], r2["updated"], r2["unchanged"], r2["dropped"], r2["rows_quarantined"]) == (1, 1, 6, 1, 1)
    m = members(warehouse, "carolina-nurses")
    assert m["id:B2"][2] == "9 ELM ST" and m["id:B8"][0] == "dropped" and len(m) == 9
    versions = warehouse.cursor().execute(
        "SELECT member_key, count(*), count(*) FILTER (WHERE valid_to_import_id IS NULL) "
        "FROM member_record_version GROUP BY member_key ORDER BY member_key").fetchall()
    assert {k: (n, open_) for k, n, open_ in versions}["id:B2"] == (2, 1)
    assert all(open_ == 1 for _, _, open_ in versions)
    # B8 rejoins
    r3 = run_import(warehouse, write_csv(tmp_path / "m3.csv", [*second[:-1], people[7]])).result
    assert (r3["rejoined"], r3["dropped"]) == (1, 0)
    keys = warehouse.cursor().execute(
        "SELECT count(*), count(DISTINCT member_key), count(*) FILTER (WHERE status = 'active') "
        "FROM member_record").fetchone()
    assert keys == (9, 9, 9)
