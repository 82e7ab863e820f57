"""Lists, turfs, sheets and contact results over a small synthetic state loaded through
the real jobs (tests/field/state.py)."""

from __future__ import annotations

import csv
import io
import subprocess
import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.access.factories import login_verified, user_with
from unionhall.errors import UserError
from unionhall.field import services
from unionhall.field.lists import ListDefinition, list_counts
from unionhall.field.models import SavedList, SurveyQuestion, SurveyResponse, Turf
from unionhall.field.selectors import saved_lists_visible, turf_doors
from unionhall.jobs.runner import job_run
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db


def _one(wh: Warehouse, sql: str, params: list[Any] | None = None) -> Any:
    row = wh.cursor().execute(sql, params or []).fetchone()
    return row[0] if row else None


def _superuser() -> Any:
    return get_user_model().objects.create_superuser(f"root-{uuid.uuid4().hex[:6]}", password="a-long-passw0rd!")


def _precinct(wh: Warehouse, county: str) -> str:
    code = _one(wh, "SELECT precinct FROM person WHERE county = ? AND precinct IS NOT NULL GROUP BY 1 "
                    "ORDER BY count(*) DESC LIMIT 1", [county])
    return f"{county}|{code}"


def test_definitions_round_trip_and_bad_filters_say_what_to_do() -> None:
    d = ListDefinition(counties=("WAKE",), age_min=30, ballot="chase", survey=("support=1",), walkable_only=True)
    assert ListDefinition.from_json(d.to_json()) == d
    assert d.describe()[0] == "counties: WAKE"
    with pytest.raises(UserError, match="unknown list filters: colour"):
        ListDefinition.from_json({"colour": "red"})
    for bad, message in [
        (ListDefinition(age_min=50, age_max=30), "lower age is above the upper one"),
        (ListDefinition(contacted_since="10/01/2026"), "write it as YYYY-MM-DD"),
        (ListDefinition(precincts=("01-01",)), "COUNTY|CODE"),
        (ListDefinition(ballot="maybe"), "choose one of voted"),
        (ListDefinition(survey=("support",)), "question=response"),
        (ListDefinition(age_min=-3), "whole number from 0 to 150"),
    ]:
        with pytest.raises(UserError, match=message):
            bad.check()


def test_counts_equal_a_direct_count_of_the_warehouse(field_wh: Warehouse) -> None:
    root = _superuser()
    county = _one(field_wh, "SELECT county FROM person GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    cases = [
        (ListDefinition(counties=(county,)), f"county = '{county}'"),
        (ListDefinition(precincts=(_precinct(field_wh, county),)),
         "county = '{}' AND precinct = '{}'".format(*_precinct(field_wh, county).split("|"))),
        (ListDefinition(parties=("DEM", "UNA"), age_min=30, age_max=64), "party IN ('DEM', 'UNA') AND age BETWEEN 30 AND 64"),
        (ListDefinition(ballot="chase"), "ballot_chase"),
        (ListDefinition(ballot="voted", generals_voted_min=2), "already_voted AND coalesce(generals_voted, 0) >= 2"),
        (ListDefinition(registered=False), "voter_reg_num IS NULL"),
        (ListDefinition(walkable_only=True, has_phone=True), "walkable AND phone IS NOT NULL"),
    ]
    for definition, where in cases:
        people, households, doors = field_wh.cursor().execute(
            f"SELECT count(*), count(DISTINCT door_key), count(DISTINCT door_key) FILTER (WHERE walkable) "
            f"FROM person WHERE {where}").fetchone()
        got = list_counts(user=root, definition=definition, warehouse=field_wh)
        assert (got.people, got.households, got.doors) == (people, households, doors), where
        assert people > 0, where  # the state has such people: the comparison means something


def test_saved_lists_snapshot_version_and_share_within_the_committee(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    organizer = user_with("organizer", tree["clc"], "clc-org")
    colleague = user_with("organizer", tree["clc"], "clc-colleague")
    other = user_with("organizer", tree["affiliate"], "aff-org")
    d = ListDefinition(counties=(tree["counties"][0],), registered=True)
    saved = services.saved_list_create(user=organizer, name="Registered in the first county", committee=tree["clc"],
                                       definition=d, warehouse=field_wh)
    assert saved.people == list_counts(user=organizer, definition=d, warehouse=field_wh).people > 0
    assert _one(field_wh, "SELECT count(*) FROM list_person WHERE list_id = ? AND version = 1", [saved.pk]) == saved.people
    private = services.saved_list_create(user=organizer, name="Mine", committee=tree["clc"], definition=d,
                                         shared=False, warehouse=field_wh)
    assert set(saved_lists_visible(colleague)) == {saved}
    assert set(saved_lists_visible(organizer)) == {saved, private}
    assert not saved_lists_visible(other).exists()
    with pytest.raises(UserError, match="you do not organize for"):
        services.saved_list_create(user=other, name="x", committee=tree["clc"], definition=d, warehouse=field_wh)

    # A refresh is a new version; the old snapshot goes (no cut was made from it).
    field_wh.cursor().execute("DELETE FROM voter_person WHERE person_id IN (SELECT person_id FROM list_person "
                              "WHERE list_id = ? LIMIT 5)", [saved.pk])
    field_wh.cursor().execute("UPDATE person SET voter_reg_num = NULL WHERE person_id IN (SELECT person_id FROM "
                              "list_person WHERE list_id = ? ORDER BY person_id LIMIT 5)", [saved.pk])
    again = services.saved_list_refresh(user=colleague, saved_list=saved, warehouse=field_wh)
    assert (again.version, again.people) == (2, saved.people - 5)
    assert _one(field_wh, "SELECT count(DISTINCT version) FROM list_person WHERE list_id = ?", [saved.pk]) == 1


def _cut(field_wh: Warehouse, tree: dict[str, Any], target: int = 30) -> tuple[Any, SavedList, Any]:
    organizer = user_with("organizer", tree["clc"], f"cutter-{uuid.uuid4().hex[:4]}")
    d = ListDefinition(precincts=(_precinct(field_wh, tree["counties"][0]),))
    saved = services.saved_list_create(user=organizer, name="Precinct", committee=tree["clc"], definition=d,
                                       warehouse=field_wh)
    job = job_run(job=services.turf_cut_submit(user=organizer, saved_list=saved, target_doors=target),
                  warehouse=field_wh)
    assert job.status == "succeeded", job.error
    return organizer, saved, job


def test_turf_cut_balanced_every_door_once_and_edits_keep_every_door(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    organizer, saved, job = _cut(field_wh, tree)
    cut_id = job.result["cut"]
    turfs = list(Turf.objects.filter(cut_id=cut_id))
    assert len(turfs) == job.result["turfs"] == round(saved.doors / 30) > 3
    sizes = [t.doors for t in turfs]
    mean = saved.doors / len(turfs)  # balance is within ±15% of the doors per turf the cut can reach
    assert sum(sizes) == saved.doors and all(0.85 * mean <= s <= 1.15 * mean for s in sizes), sizes
    rows, people, doors = field_wh.cursor().execute(
        "SELECT count(*), count(DISTINCT person_id), count(DISTINCT door_id) FROM turf_person WHERE cut_id = ?",
        [cut_id]).fetchone()
    walkable = _one(field_wh, "SELECT count(*) FROM person p JOIN list_person l USING (person_id) "
                              "WHERE l.list_id = ? AND p.walkable", [saved.pk])
    assert rows == people == walkable and doors == saved.doors  # every walkable person once, every door once
    # walk order: doors of a turf numbered 1..n
    seqs = field_wh.cursor().execute("SELECT turf_no, min(seq), max(seq), count(DISTINCT seq) FROM turf_person "
                                     "WHERE cut_id = ? GROUP BY 1", [cut_id]).fetchall()
    assert all(lo == 1 and hi == n for _t, lo, hi, n in seqs)

    cut = turfs[0].cut
    first = turf_doors(user=organizer, turf=turfs[0], warehouse=field_wh)
    moved = services.turf_move(user=organizer, cut=cut, street=first[0]["street"], from_turf=1, to_turf=2,
                               warehouse=field_wh)
    assert moved >= 1
    new = services.turf_split(user=organizer, cut=cut, number=3, warehouse=field_wh)
    services.turf_merge(user=organizer, cut=cut, keep=4, merge=5, warehouse=field_wh)
    after = dict(Turf.objects.filter(cut=cut).values_list("number", "doors"))
    assert sum(after.values()) == saved.doors and 5 not in after and new.number in after
    assert _one(field_wh, "SELECT count(*) FROM turf_person WHERE cut_id = ?", [cut_id]) == rows  # nobody twice
    with pytest.raises(UserError, match="choose a different turf"):
        services.turf_move(user=organizer, cut=cut, from_turf=2, to_turf=2, warehouse=field_wh)


def test_walk_sheet_pdf_lists_the_doors_in_walk_order(client: Client, field_wh: Warehouse, tree: dict[str, Any],
                                                      tmp_path: Any) -> None:
    organizer, _saved, job = _cut(field_wh, tree)
    turf = Turf.objects.filter(cut_id=job.result["cut"]).order_by("number").first()
    assert turf is not None
    login_verified(client, organizer)
    response = client.get(f"/field/turfs/{turf.pk}/walk-sheet.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "walk.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    doors = turf_doors(user=organizer, turf=turf, warehouse=field_wh)
    streets = [f"{d['house_number']} {d['street']}" for d in doors]
    positions = [text.find(s) for s in dict.fromkeys(streets)]
    assert -1 not in positions and positions == sorted(positions)  # in walk order
    assert doors[0]["persons"][0]["last_name"] in text and turf.name in text
    assert f"T{turf.pk}-C{turf.cut_id}" in text  # the tracking id that keys a returned sheet


def test_mail_file_is_for_data_managers_formula_safe_and_logged(client: Client, field_wh: Warehouse,
                                                                tree: dict[str, Any]) -> None:
    from unionhall.access.models import UsageEvent

    dm = user_with("data_manager", tree["clc"], "clc-dm")
    d = ListDefinition(precincts=(_precinct(field_wh, tree["counties"][0]),))
    saved = services.saved_list_create(user=dm, name="Mail", committee=tree["clc"], definition=d, warehouse=field_wh)
    # a household whose first name would run as a formula in a spreadsheet
    pid = _one(field_wh, "SELECT person_id FROM list_person WHERE list_id = ? ORDER BY person_id LIMIT 1", [saved.pk])
    field_wh.cursor().execute("UPDATE person SET first_name = '=HYPERLINK(1)' WHERE person_id = ?", [pid])
    login_verified(client, dm)
    response = client.get(f"/field/lists/{saved.pk}/mail.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == saved.households
    assert sum(int(r["people"]) for r in rows) == saved.people - _one(
        field_wh, "SELECT count(*) FROM person JOIN list_person USING (person_id) WHERE list_id = ? AND door_key IS NULL",
        [saved.pk])
    assert not any(v.startswith("=") for r in rows for v in r.values())
    assert any("'=HYPERLINK(1)" in r["addressee"] for r in rows)
    event = UsageEvent.objects.filter(user=dm, action="export").latest("at")
    assert event.detail["kind"] == "mail file" and event.detail["households"] == len(rows)
    xlsx = client.get(f"/field/lists/{saved.pk}/mail.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"

    organizer = user_with("organizer", tree["clc"], "clc-org2")
    c2 = Client()
    login_verified(c2, organizer)
    assert c2.get(f"/field/lists/{saved.pk}/mail.csv").status_code == 403


def test_results_feed_list_filters_history_and_are_posted_once(client: Client, field_wh: Warehouse,
                                                               tree: dict[str, Any],
                                                               django_capture_on_commit_callbacks: Any) -> None:
    from unionhall.field.models import ContactResult

    organizer = user_with("organizer", tree["clc"], "clc-phones")
    question = SurveyQuestion.objects.create(committee=tree["clc"], code="support", text="Will you vote yes?")
    for i, (code, label) in enumerate([("1", "Strong yes"), ("2", "Lean yes"), ("5", "No")]):
        SurveyResponse.objects.create(question=question, code=code, label=label, order=i)
    d = ListDefinition(precincts=(_precinct(field_wh, tree["counties"][0]),))
    people = [r[0] for r in field_wh.cursor().execute(
        "SELECT person_id FROM person WHERE county = ? AND precinct = ? ORDER BY person_id LIMIT 4",
        d.precincts[0].split("|")).fetchall()]
    with django_capture_on_commit_callbacks(execute=True):
        services.contact_result_record(user=organizer, client_id="a" * 12, person_id=people[0], result_code="CV",
                                       channel="door", source="sheet", responses={"support": "1"},
                                       warehouse=field_wh)
        services.contact_result_record(user=organizer, client_id="b" * 12, person_id=people[1], result_code="NH",
                                       channel="door", source="sheet", warehouse=field_wh)
        _again, created = services.contact_result_record(user=organizer, client_id="a" * 12, person_id=people[0],
                                                        result_code="CV", channel="door", source="sheet",
                                                        responses={"support": "1"}, warehouse=field_wh)
    assert not created and ContactResult.objects.count() == 2
    assert _one(field_wh, "SELECT count(*) FROM contact_history") == 2
    assert services.contact_history_sync(warehouse=field_wh) == 0  # nothing left to post

    def ids(definition: ListDefinition) -> int:
        return list_counts(user=organizer, definition=definition, warehouse=field_wh).people

    assert ids(ListDefinition(precincts=d.precincts, last_results=("NH",))) == 1
    assert ids(ListDefinition(precincts=d.precincts, survey=("support=1",))) == 1
    assert ids(ListDefinition(precincts=d.precincts, contacted="ever")) == 1
    total = ids(ListDefinition(precincts=d.precincts))
    assert ids(ListDefinition(precincts=d.precincts, contacted="never")) == total - 1

    for bad, message in [({"result_code": "ZZ"}, "unknown result code"),
                         ({"responses": {"support": "9"}}, "not a response of question support"),
                         ({"result_code": "NH", "responses": {"support": "1"}}, "answers go with a conversation")]:
        kwargs: dict[str, Any] = {"result_code": "CV", **bad}
        with pytest.raises(UserError, match=message):
            services.contact_result_record(user=organizer, client_id=uuid.uuid4().hex, person_id=people[2],
                                           channel="door", source="sheet", warehouse=field_wh, **kwargs)
    outsider = _one(field_wh, "SELECT person_id FROM person WHERE county NOT IN (SELECT unnest(?)) AND "
                              "voter_reg_num IS NOT NULL LIMIT 1", [tree["counties"]])
    with pytest.raises(UserError, match="not on your turf or in your scope"):
        services.contact_result_record(user=organizer, client_id=uuid.uuid4().hex, person_id=outsider,
                                       result_code="NH", channel="door", source="sheet", warehouse=field_wh)

    login_verified(client, organizer)
    page = client.get(f"/elections/people/{people[0]}/").content.decode()
    assert "Contact history" in page and "CV Canvassed" in page and "support: 1" in page


def test_a_canvasser_sees_the_turf_without_phones_and_another_sees_nobody(field_wh: Warehouse,
                                                                          tree: dict[str, Any]) -> None:
    from unionhall.field.selectors import turf_persons

    organizer, _saved, job = _cut(field_wh, tree)
    canvasser = user_with("canvasser", tree["clc"], "walker")
    stranger = user_with("canvasser", tree["clc"], "stranger")
    turf = Turf.objects.filter(cut_id=job.result["cut"]).order_by("number").first()
    assert turf is not None
    services.turf_assign(user=organizer, turf=turf, canvasser=canvasser, script=None)
    mine = turf_persons(user=canvasser, turf=turf, warehouse=field_wh).to_pyarrow().to_pylist()
    assert len(mine) == turf.people
    assert all(r["first_name"] and r["addr_line1"] and r["phone"] is None and r["email"] is None for r in mine)
    assert turf_persons(user=stranger, turf=turf, warehouse=field_wh).count().execute() == 0
    outsider = user_with("canvasser", tree["affiliate"], "elsewhere")
    with pytest.raises(UserError, match="holds no role in"):
        services.turf_assign(user=organizer, turf=turf, canvasser=outsider, script=None)


def test_the_cut_page_moves_a_door_by_its_walk_sheet_number_and_draws_the_map(
        client: Client, field_wh: Warehouse, tree: dict[str, Any]) -> None:
    organizer, _saved, job = _cut(field_wh, tree)
    cut_id = job.result["cut"]
    login_verified(client, organizer)
    page = client.get(f"/field/cuts/{cut_id}/")
    assert page.status_code == 200 and page.content.count(b"<polyline") == job.result["turfs"]
    before = dict(Turf.objects.filter(cut_id=cut_id).values_list("number", "doors"))
    door = _one(field_wh, "SELECT door_id FROM turf_person WHERE cut_id = ? AND turf_no = 1 AND seq = 3", [cut_id])
    moved = client.post(f"/field/cuts/{cut_id}/edit", {"action": "move", "from_turf": "1", "to_turf": "2", "seq": "3"},
                        follow=True)
    assert b"Moved 1 door." in moved.content
    after = dict(Turf.objects.filter(cut_id=cut_id).values_list("number", "doors"))
    assert (after[1], after[2]) == (before[1] - 1, before[2] + 1)
    assert _one(field_wh, "SELECT DISTINCT turf_no FROM turf_person WHERE cut_id = ? AND door_id = ?",
                [cut_id, door]) == 2
    refused = client.post(f"/field/cuts/{cut_id}/edit", {"action": "merge", "keep": "1", "merge": "x"}, follow=True)
    assert b"whole numbers" in refused.content
