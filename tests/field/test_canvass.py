"""The canvass page, its data, the results API and the phone-bank page (issue 11).

A Triangle CLC turf of three doors (one with two people) is assigned to a canvasser;
another canvasser holds a second turf of the same cut; one person in the CLC's scope is
on no turf. Persons are registered voters of Wake county, so the CLC's organizer sees
them, and the canvasser sees the turf's through the canvass door (name, address, age).
They are also nurses: the voter file carries no phone numbers, so the phone bank calls
from a Nurses United list, whose organizer sees their members' phones.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from importlib import import_module
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.access.factories import committee_tree, login_verified, user_with
from unionhall.access.gateway import person_member_bits_refresh
from unionhall.access.models import ApprovedUser, UsageEvent
from unionhall.field.models import (
    ActivistCode,
    ContactResult,
    ResultCode,
    SavedList,
    Script,
    ScriptQuestion,
    SurveyQuestion,
    SurveyResponse,
    Turf,
    TurfCut,
)
from unionhall.field.services import contact_history_sync
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db

# person id, first, last, street address, turf number (None: on no turf), door, walk seq, age, phone
PEOPLE = [
    (101, "Ana", "Diaz", "10 ELM ST", 1, 1, 1, 34, "+19195550101"),
    (102, "Bo", "Diaz", "10 ELM ST", 1, 1, 1, 36, None),
    (103, "Cy", "Ng", "12 ELM ST", 1, 2, 2, 51, "+19195550103"),
    (104, "Di", "Ray", "14 ELM ST", 1, 3, 3, 29, "+19195550104"),
    (105, "Ed", "Fox", "3 OAK AVE", 2, 4, 1, 60, "+19195550105"),
    (106, "Fe", "Cruz", "9 PINE RD", None, None, None, 45, "+19195550106"),
]
FIELD_TABLES = ("turf_person", "list_person", "contact_history", "contact_response")


def clear_field(wh: Warehouse) -> None:
    cur = wh.cursor()
    for table in FIELD_TABLES:
        cur.execute(f"DELETE FROM {table}")


def result_codes_ensure() -> None:
    """The shared result codes, as their data migration makes them: a transactional
    test earlier in the run (browser tests) flushes every table, migration data too."""
    codes = import_module("unionhall.field.migrations.0002_result_codes").CODES
    for order, (code, label, channel, contact, final) in enumerate(codes):
        ResultCode.objects.get_or_create(code=code, defaults={"label": label, "channel": channel, "contact": contact,
                                                             "final": final, "order": order})


def build_field(wh: Warehouse) -> dict[str, Any]:
    """Committees, users, a script, a saved list cut into two turfs, and the persons
    behind them in the warehouse (person, list_person, turf_person)."""
    result_codes_ensure()
    tree = committee_tree()
    clc = tree["clc"]
    canvasser = user_with("canvasser", clc, "walker")
    other = user_with("canvasser", clc, "other-walker")
    organizer = user_with("organizer", clc, "clc-organizer")
    caller = user_with("organizer", tree["affiliate"], "nurses-organizer")
    question = SurveyQuestion.objects.create(committee=clc, code="support", text="Will you vote yes on the contract?")
    SurveyResponse.objects.create(question=question, code="1", label="Yes", order=1)
    SurveyResponse.objects.create(question=question, code="2", label="No", order=2)
    volunteer = ActivistCode.objects.create(committee=clc, name="Will volunteer")
    script = Script.objects.create(committee=clc, name="Contract doors", intro="Hi, I'm with the Triangle CLC.",
                                   closing="Thank you for your time!")
    ScriptQuestion.objects.create(script=script, question=question, order=1)
    script.activist_codes.add(volunteer)
    saved = SavedList.objects.create(name="Elm Street", committee=clc, created_by=organizer, version=1,
                                     people=len(PEOPLE), doors=5)
    calls = SavedList.objects.create(name="Nurses to call", committee=tree["affiliate"], created_by=caller,
                                     version=1, people=len(PEOPLE))
    cut = TurfCut.objects.create(saved_list=saved, list_version=1, target_doors=3, created_by=organizer)
    mine = Turf.objects.create(cut=cut, number=1, name="Elm Street · turf 1", doors=3, people=4, canvasser=canvasser,
                               script=script)
    theirs = Turf.objects.create(cut=cut, number=2, name="Elm Street · turf 2", doors=1, people=1, canvasser=other,
                                 script=script)
    cur = wh.cursor()
    for pid, first, last, street, turf_no, door, seq, age, phone in PEOPLE:
        cur.execute(
            "INSERT INTO person (person_id, first_name, last_name, addr_line1, city, zip5, state, county, phone, "
            "voter_reg_num, member_sources, member_locals, age, birth_year) "
            "VALUES (?, ?, ?, ?, 'RALEIGH', '27601', 'NC', 'WAKE', ?, ?, ['nurses'], [], ?, ?)",
            [pid, first, last, street, phone, f"R{pid}", age, 2026 - age])
        for list_id in (saved.pk, calls.pk):
            cur.execute("INSERT INTO list_person (list_id, version, person_id) VALUES (?, 1, ?)", [list_id, pid])
        if turf_no is not None:
            cur.execute("INSERT INTO turf_person (cut_id, turf_no, door_id, seq, person_id) VALUES (?, ?, ?, ?, ?)",
                        [cut.pk, turf_no, door, seq, pid])
    person_member_bits_refresh(cur)  # as the identity job does after writing memberships
    nurses_script = Script.objects.create(committee=tree["affiliate"], name="Contract calls",
                                          intro="Hi, this is Nurses United calling.", closing="Thanks!")
    nurses_q = SurveyQuestion.objects.create(committee=tree["affiliate"], code="support",
                                             text="Will you vote yes on the contract?")
    SurveyResponse.objects.create(question=nurses_q, code="1", label="Yes", order=1)
    SurveyResponse.objects.create(question=nurses_q, code="2", label="No", order=2)
    ScriptQuestion.objects.create(script=nurses_script, question=nurses_q, order=1)
    nurses_script.activist_codes.add(ActivistCode.objects.create(committee=tree["affiliate"], name="Will volunteer"))
    return {"clc": clc, "caller": caller, "calls": calls, "nurses_script": nurses_script, "canvasser": canvasser, "other": other, "organizer": organizer, "script": script,
            "list": saved, "turf": mine, "other_turf": theirs, "committees": tree}


@pytest.fixture
def field(process_warehouse: Warehouse) -> Iterator[dict[str, Any]]:
    clear_field(process_warehouse)
    yield build_field(process_warehouse)
    clear_field(process_warehouse)


def client_for(user: Any, *, verified: bool = True, csrf: bool = False) -> Client:
    """A client logged in as `user`, with the second factor entered (canvassers need it
    too: they see the names and addresses of their turfs)."""
    c = Client(enforce_csrf_checks=csrf)
    if verified:
        login_verified(c, user)
    else:
        c.force_login(user)
    return c


def item(person_id: int, code: str = "NH", *, turf: Turf | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"client_id": str(uuid.uuid4()), "person_id": person_id, "result_code": code,
                           "channel": "door", "source": "canvass",
                           "contacted_at": (timezone.now() - dt.timedelta(minutes=5)).isoformat(),
                           "responses": {}, "activist_codes": [], "note": ""}
    if turf is not None:
        out["turf_id"] = turf.pk
    out.update(extra)
    return out


def post_results(client: Client, items: list[dict[str, Any]], **headers: Any) -> Any:
    return client.post("/field/api/results", data=json.dumps({"results": items}), content_type="application/json",
                       **headers)


def statuses(resp: Any) -> list[str]:
    return [r["status"] for r in resp.json()["results"]]


# -- pages -------------------------------------------------------------------------------


def test_my_turfs_lists_only_mine_with_doors_done(field: dict[str, Any]) -> None:
    c = client_for(field["canvasser"])
    page = c.get("/field/canvass/").content.decode()
    assert "Elm Street · turf 1" in page and "turf 2" not in page
    assert "0 of 3 doors" in page
    # Two results at the same door count as one door done.
    assert statuses(post_results(c, [item(101, turf=field["turf"]), item(102, turf=field["turf"])])) == [
        "accepted", "accepted"]
    assert "1 of 3 doors" in c.get("/field/canvass/").content.decode()


def test_canvass_page_is_the_canvassers_or_their_organizers(field: dict[str, Any]) -> None:
    turf, theirs = field["turf"], field["other_turf"]
    c = client_for(field["canvasser"])
    page = c.get(f"/field/canvass/{turf.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="/static/field/canvass.js"' in html and 'name="csrf-token"' in html
    assert "<script>" not in html and "onclick" not in html  # the CSP allows our files only
    # Another canvasser's turf, and a turf that does not exist, look the same.
    for path in (f"/field/canvass/{theirs.pk}/", f"/field/canvass/{theirs.pk}/data.json", "/field/canvass/99999/",
                 "/field/canvass/99999/data.json"):
        assert c.get(path).status_code == 404, path
    # The committee's organizer may open any of its turfs to check it.
    org = client_for(field["organizer"], verified=True)
    assert org.get(f"/field/canvass/{theirs.pk}/").status_code == 200
    assert org.get(f"/field/canvass/{theirs.pk}/data.json").json()["doors"][0]["persons"][0]["name"] == "Ed Fox"


def test_turf_data_in_walk_order_with_names_and_ages_only(field: dict[str, Any]) -> None:
    c = client_for(field["canvasser"])
    resp = c.get(f"/field/canvass/{field['turf'].pk}/data.json")
    assert resp.status_code == 200 and "no-store" in resp["Cache-Control"]
    data = resp.json()
    assert [d["address"] for d in data["doors"]] == ["10 ELM ST", "12 ELM ST", "14 ELM ST"]
    assert [[p["name"] for p in d["persons"]] for d in data["doors"]] == [["Ana Diaz", "Bo Diaz"], ["Cy Ng"],
                                                                          ["Di Ray"]]
    assert data["doors"][0]["persons"][0] == {"person_id": "101", "name": "Ana Diaz", "age": 34, "latest": None}
    assert "5550101" not in resp.content.decode()  # no phone numbers at the door
    assert data["script"] == {
        "id": data["script"]["id"], "name": "Contract doors",
        "intro": "Hi, I'm with the Triangle CLC.", "closing": "Thank you for your time!",
        "questions": [{"code": "support", "text": "Will you vote yes on the contract?",
                       "responses": [{"code": "1", "label": "Yes"}, {"code": "2", "label": "No"}]}],
        "activist_codes": ["Will volunteer"]}
    codes = [r["code"] for r in data["result_codes"]]
    assert {"CV", "NH", "RF", "MV", "IN"} <= set(codes) and not {"WN", "LM", "NA", "DS"} & set(codes)
    assert data["nobody_home"] == "NH" and data["canvassed"] == "CV"
    assert UsageEvent.objects.filter(user=field["canvasser"], action="search", persons=4,
                                     detail__page="canvass page").exists()
    # A result recorded on the turf comes back as the person's latest.
    post_results(c, [item(103, "RF", turf=field["turf"])])
    again = c.get(f"/field/canvass/{field['turf'].pk}/data.json").json()
    assert again["doors"][1]["persons"][0]["latest"]["code"] == "RF"


# -- the results API ---------------------------------------------------------------------


def test_results_are_accepted_and_a_resent_batch_is_all_duplicate(
        field: dict[str, Any], process_warehouse: Warehouse) -> None:
    c = client_for(field["canvasser"], csrf=True)
    c.get(f"/field/canvass/{field['turf'].pk}/")  # the page sets the CSRF cookie
    token = c.cookies["csrftoken"].value
    turf = field["turf"]
    batch = [item(101, "NH", turf=turf), item(102, "NH", turf=turf),
             item(103, "CV", turf=turf, responses={"support": "1"}, activist_codes=["Will volunteer"],
                  note="wants a yard sign")]
    first = post_results(c, batch, HTTP_X_CSRFTOKEN=token)
    assert first.status_code == 200
    assert first.json() == {"results": [{"client_id": i["client_id"], "status": "accepted"} for i in batch]}
    # The answer got lost on the way back: the phone sends the same batch again.
    second = post_results(c, batch, HTTP_X_CSRFTOKEN=token)
    assert statuses(second) == ["duplicate"] * 3
    assert ContactResult.objects.count() == 3
    cv = ContactResult.objects.get(person_id=103)
    assert (cv.result_code.code, cv.responses, cv.activist_codes, cv.note, cv.canvasser, cv.script) == (
        "CV", {"support": "1"}, ["Will volunteer"], "wants a yard sign", field["canvasser"], field["script"])
    contact_history_sync()  # what the on_commit callback does after each result
    cur = process_warehouse.cursor()
    rows = cur.execute("SELECT person_id, result_code, turf_id FROM contact_history ORDER BY person_id").fetchall()
    assert rows == [(101, "NH", turf.pk), (102, "NH", turf.pk), (103, "CV", turf.pk)]
    assert cur.execute("SELECT question_code, response_code FROM contact_response").fetchall() == [("support", "1")]


def test_on_commit_posts_each_result_once(field: dict[str, Any], process_warehouse: Warehouse,
                                         django_capture_on_commit_callbacks: Any) -> None:
    c = client_for(field["canvasser"])
    one = item(104, "MV", turf=field["turf"])
    with django_capture_on_commit_callbacks(execute=True):
        post_results(c, [one])
        post_results(c, [one])
    count = process_warehouse.cursor().execute(
        "SELECT count(*) FROM contact_history WHERE result_key = ?", [f"r:{one['client_id']}"]).fetchone()
    assert count == (1,)


def test_csrf_is_required(field: dict[str, Any]) -> None:
    c = client_for(field["canvasser"], csrf=True)
    assert post_results(c, [item(101, turf=field["turf"])]).status_code == 403
    assert ContactResult.objects.count() == 0


def test_a_person_off_the_turf_is_refused_and_the_rest_recorded(field: dict[str, Any]) -> None:
    c = client_for(field["canvasser"])
    turf = field["turf"]
    batch = [item(101, turf=turf), item(105, turf=turf), item(106, turf=turf), item(104, turf=turf)]
    out = post_results(c, batch).json()["results"]
    assert [r["status"] for r in out] == ["accepted", "error", "error", "accepted"]
    assert out[1]["message"] == "person 105 is not on your turf or in your scope"
    assert out[2]["message"] == "person 106 is not on your turf or in your scope"
    assert sorted(ContactResult.objects.values_list("person_id", flat=True)) == [101, 104]


def test_another_canvassers_turf_is_refused_like_a_missing_one(field: dict[str, Any]) -> None:
    c = client_for(field["other"])
    out = post_results(c, [item(101, turf=field["turf"]), item(101, turf=Turf(pk=99999))]).json()["results"]
    assert [r["message"] for r in out] == [f"turf {field['turf'].pk} is not one you may record on",
                                           "turf 99999 is not one you may record on"]
    assert ContactResult.objects.count() == 0


def test_bad_codes_are_refused_with_a_message(field: dict[str, Any]) -> None:
    c = client_for(field["canvasser"])
    turf = field["turf"]
    bad = [
        item(101, "ZZ", turf=turf),
        item(101, "CV", turf=turf, responses={"support": "9"}),
        item(101, "CV", turf=turf, responses={"strike": "1"}),
        item(101, "CV", turf=turf, activist_codes=["Bargaining committee"]),
        item(101, "NH", turf=turf, responses={"support": "1"}),
        item(101, "NH", turf=turf, client_id="short"),
        item(101, "NH", turf=turf, contacted_at="2026-11-03T10:00:00"),
        item(101, "NH", turf=turf, contacted_at="yesterday"),
        item(101, "NH", turf=turf, contacted_at=(timezone.now() + dt.timedelta(hours=2)).isoformat()),
        item(101, "NH", turf=turf, channel="carrier pigeon"),
        item("abc", "NH", turf=turf),  # type: ignore[arg-type]
        item(101, "NH", turf=turf, responses=["support"]),
    ]
    out = post_results(c, [*bad, "not an object"]).json()["results"]  # type: ignore[list-item]
    assert [r["status"] for r in out] == ["error"] * (len(bad) + 1)
    messages = [r["message"] for r in out]
    assert messages == [
        "unknown result code 'ZZ'",
        "'9' is not a response of question support",
        "question 'strike' is not in the script",
        "unknown activist code 'Bargaining committee' for Triangle CLC",
        "Not Home: answers go with a conversation, not with this result",
        "each result needs its id (8 to 64 characters) so a resend is not counted twice",
        "contacted_at needs its offset (e.g. 2026-11-03T10:15:00-05:00)",
        "contacted_at 'yesterday' is not an ISO 8601 time",
        "the time of the contact is in the future: check the device's clock",
        "channel 'carrier pigeon' / source 'canvass' are not known",
        "person_id must be a whole number, not 'abc'",
        "responses must be an object (question: response) and activist_codes a list",
        "each result must be a JSON object",
    ]
    assert ContactResult.objects.count() == 0


def test_a_client_id_used_for_another_person_is_refused(field: dict[str, Any]) -> None:
    c = client_for(field["canvasser"])
    first = item(101, turf=field["turf"])
    post_results(c, [first])
    out = post_results(c, [item(103, turf=field["turf"], client_id=first["client_id"])]).json()["results"][0]
    assert out["status"] == "error" and "already used for another result" in out["message"]


def test_a_busy_warehouse_asks_for_a_resend(field: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from unionhall.errors import WarehouseLocked
    from unionhall.field.views import canvass

    def busy(**_kw: Any) -> Any:
        raise WarehouseLocked("the warehouse is busy with another process: try again in a minute")

    monkeypatch.setattr(canvass, "contact_result_record", busy)
    out = post_results(client_for(field["canvasser"]), [item(101, turf=field["turf"])]).json()["results"][0]
    assert out["status"] == "error" and out["retry"] is True and "busy" in out["message"]


def test_blocked_and_logged_out_accounts_get_403(field: dict[str, Any]) -> None:
    user = field["canvasser"]
    unverified = client_for(user, verified=False)
    assert "two-factor" in post_results(unverified, [item(101, turf=field["turf"])]).json()["detail"]
    ApprovedUser.objects.create(user=user, deactivated_at=timezone.now())
    c = client_for(user)
    resp = post_results(c, [item(101, turf=field["turf"])])
    assert resp.status_code == 403 and "deactivated" in resp.json()["detail"]
    assert c.get(f"/field/canvass/{field['turf'].pk}/data.json").status_code == 403
    assert c.get(f"/field/canvass/{field['turf'].pk}/").status_code == 403
    anonymous = post_results(Client(), [item(101, turf=field["turf"])])
    assert anonymous.status_code == 403 and "log in again" in anonymous.json()["detail"]
    assert ContactResult.objects.count() == 0


def test_a_body_that_is_not_a_batch_is_400(field: dict[str, Any]) -> None:
    c = client_for(field["canvasser"])
    for body in ("not json", json.dumps([item(101)]), json.dumps({"results": "x"})):
        resp = c.post("/field/api/results", data=body, content_type="application/json")
        assert resp.status_code == 400 and resp.json()["detail"], body
    too_many = post_results(c, [item(101, turf=field["turf"]) for _ in range(201)])
    assert too_many.status_code == 400 and "at most 200" in too_many.json()["detail"]
    assert c.get("/field/api/results").status_code == 405


# -- the phone bank ----------------------------------------------------------------------


def _text(page: str) -> str:
    return re.sub(r"<[^>]+>", "", page)


def _form(page: str) -> dict[str, str]:
    return {name: value for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)}


def test_phone_bank_records_and_moves_on(field: dict[str, Any]) -> None:
    c = client_for(field["caller"], verified=True)
    url = f"/field/lists/{field['calls'].pk}/call/"
    page = c.get(url).content.decode()
    assert "Ana Diaz" in page and 'href="tel:+19195550101"' in page and "(919) 555-0101" in page
    assert "5 people with a phone number still to call" in _text(page)
    assert "Will you vote yes on the contract?" in page and "Hi, this is Nurses United calling." in page
    assert 'value="LM"' in page and 'value="WN"' in page and 'value="IN"' not in page  # phone codes only
    form = _form(page)
    assert form["person_id"] == "101" and len(form["client_id"]) == 32
    resp = c.post(url, {**form, "result_code": "CV", "q-support": "1", "activist_code": "Will volunteer",
                        "note": "call back in May"})
    assert resp.status_code == 302
    result = ContactResult.objects.get()
    assert (result.person_id, result.channel, result.source, result.saved_list, result.responses,
            result.activist_codes, result.script) == (101, "phone", "phone", field["calls"], {"support": "1"},
                                                      ["Will volunteer"], field["nurses_script"])
    # A double submit of the same form is the same result.
    again = c.post(url, {**form, "result_code": "CV", "q-support": "1"}, follow=True)
    assert "already recorded" in again.content.decode() and ContactResult.objects.count() == 1
    # Next: Bo has no phone, so Cy.
    page = c.get(url).content.decode()
    assert "Cy Ng" in page and "Ana Diaz" not in page and "4 people" in _text(page)
    # A wrong pairing of answers and result is shown, nothing recorded, answers kept.
    form = _form(page)
    bad = c.post(url, {**form, "result_code": "NA", "q-support": "2"})
    assert bad.status_code == 400 and "answers go with a conversation" in bad.content.decode()
    assert 'value="2" checked' in bad.content.decode()
    # Skip moves past Cy without recording; then call everyone left.
    assert "Di Ray" in c.get(f"{url}?script={field['nurses_script'].pk}&after=103").content.decode()
    for _ in range(4):
        c.post(url, {**_form(c.get(url).content.decode()), "result_code": "NA"})
    assert "has been called" in c.get(url).content.decode()
    assert ContactResult.objects.filter(saved_list=field["calls"], channel="phone").count() == 5
    assert UsageEvent.objects.filter(user=field["caller"], action="person_view", detail__page="phone bank").exists()


def test_phone_bank_only_for_lists_i_may_see(field: dict[str, Any]) -> None:
    assert client_for(field["canvasser"]).get(f"/field/lists/{field['calls'].pk}/call/").status_code == 404
    # The CLC's organizer sees the CLC's list but no phone numbers (the voter file has none).
    org = client_for(field["organizer"], verified=True)
    assert "has been called" in org.get(f"/field/lists/{field['list'].pk}/call/").content.decode()
    assert org.get(f"/field/lists/{field['calls'].pk}/call/").status_code == 404
    assert org.get("/field/lists/99999/call/").status_code == 404
