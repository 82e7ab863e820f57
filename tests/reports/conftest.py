"""A field program with results on every channel, for the report tests.

The committees, turfs, lists and persons of tests/field/test_canvass.py (a Triangle CLC
turf cut of an Elm Street list, Nurses United's call list; persons 101-106 are Wake
voters and nurses), and:

* person 107, a Wake voter who is no member (on the CLC's list, outside the nurses');
* person 108, a Mecklenburg voter with one old CLC door result (the CLC's counties were
  narrowed since): the CLC's organizer no longer sees them, so neither that result;
* results through the real doors: walks on the canvass turfs (two canvassers, one
  named "@dana"), door and phone results the CLC organizer keys in, the nurses' phone
  bank, and a mail house's result file imported for the CLC (`field.import_results`),
  over five days, with survey answers on the conversations.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from tests.access.factories import login_verified, user_with
from tests.field.results_factory import csv_text, run_import, upload
from tests.field.test_canvass import build_field, clear_field
from unionhall.field import store
from unionhall.field.services import contact_history_sync, contact_result_record
from unionhall.warehouse import Warehouse

# (days ago, hour, person, code, answer to "support" or None)
WALK_1 = [(4, 10, 101, "NH", None), (4, 10, 102, "NH", None), (4, 11, 103, "CV", "1"), (4, 11, 104, "RF", None),
          (3, 15, 101, "CV", "1"), (3, 15, 102, "NH", None), (3, 16, 104, "MV", None),
          (1, 18, 102, "CV", "2"), (1, 18, 104, "CV", "1")]
WALK_2 = [(4, 12, 105, "NH", None), (2, 12, 105, "NH", None), (1, 13, 105, "CV", "2")]
KEYED = [(2, 9, 106, "door", "IN"), (2, 9, 107, "door", "CV"), (2, 19, 101, "phone", "LM"),
         (1, 19, 103, "phone", "CV"), (1, 19, 107, "phone", "WN")]
NURSE_CALLS = [(3, 17, 101, "NA"), (3, 17, 102, "CV"), (3, 18, 103, "LM"), (2, 17, 104, "CV"), (2, 18, 106, "DS"),
               (1, 17, 105, "NA")]
MAIL = [(101, "CV"), (102, "MV"), (103, "CV"), (104, "NH"), (105, "CV"), (106, "MV"), (107, "CV")]


def _at(days: int, hour: int) -> dt.datetime:
    now = timezone.now()
    return (now - dt.timedelta(days=days)).replace(hour=hour, minute=7, second=0, microsecond=0)


def _record(user: Any, person: int, code: str, when: dt.datetime, **kw: Any) -> None:
    contact_result_record(user=user, client_id=str(uuid.uuid4()), person_id=person, result_code=code,
                          contacted_at=when, **kw)


def build_world(wh: Warehouse) -> dict[str, Any]:
    w = build_field(wh)
    tree = w["committees"]
    clc = w["clc"]
    cur = wh.cursor()
    cur.execute("INSERT INTO person (person_id, first_name, last_name, addr_line1, city, zip5, state, county, "
                "voter_reg_num, member_sources, member_locals, age, birth_year) VALUES "
                "(107, 'Gil', 'Ortiz', '16 ELM ST', 'RALEIGH', '27601', 'NC', 'WAKE', 'R107', [], [], 41, 1985), "
                "(108, 'Hal', 'Moss', '2 TRADE ST', 'CHARLOTTE', '28202', 'NC', 'MECKLENBURG', 'R108', [], [], 70, "
                "1956)")
    cur.execute("INSERT INTO list_person (list_id, version, person_id) VALUES (?, 1, 107)", [w["list"].pk])
    dana = user_with("canvasser", clc, "@dana")
    w["other_turf"].canvasser = dana
    w["other_turf"].save(update_fields=["canvasser"])

    for days, hour, pid, code, answer in WALK_1:
        _record(w["canvasser"], pid, code, _at(days, hour), channel="door", source="canvass", turf=w["turf"],
                responses={"support": answer} if answer else None)
    for days, hour, pid, code, answer in WALK_2:
        _record(dana, pid, code, _at(days, hour), channel="door", source="canvass", turf=w["other_turf"],
                responses={"support": answer} if answer else None)
    for days, hour, pid, channel, code in KEYED:
        _record(w["organizer"], pid, code, _at(days, hour), channel=channel,
                source="sheet" if channel == "door" else "phone",
                saved_list=w["list"] if channel == "phone" else None)
    for days, hour, pid, code in NURSE_CALLS:
        _record(w["caller"], pid, code, _at(days, hour), channel="phone", source="phone", saved_list=w["calls"],
                script=w["nurses_script"], responses={"support": "1"} if code == "CV" else None)
    contact_history_sync(warehouse=wh)

    day = (timezone.now() - dt.timedelta(days=2)).date().isoformat()
    text = csv_text(["person_id", "result", "contacted_at"], [[str(p), c, day] for p, c in MAIL])
    up = upload(user=w["organizer"], committee=clc, data=text.encode(), vendor="Piedmont Mail House", channel="mail")
    job = run_import(wh, up, user=w["organizer"])
    assert job.status == "succeeded", job.error

    # Before the CLC's counties were narrowed to Wake and Durham: a door in Charlotte.
    store.contact_rows_post(wh, contacts=[{
        "result_key": "r:old-mecklenburg", "person_id": 108, "channel": "door", "result_code": "CV",
        "contacted": True, "contacted_at": _at(3, 14).astimezone(dt.UTC).replace(tzinfo=None),
        "committee_id": clc.pk, "canvasser": "walker", "turf_id": None, "list_id": None, "script_id": None,
        "activist_codes": [], "note": None, "source": "sheet", "upload_id": None, "row_number": None,
        "entered_at": _at(3, 14).astimezone(dt.UTC).replace(tzinfo=None)}], responses=[])

    w.update({
        "dana": dana, "tree": tree,
        "fed_organizer": user_with("organizer", tree["state_federation"], "fed-organizer"),
        "teacher": user_with("organizer", tree["other_affiliate"], "teachers-organizer"),
        "analyst": user_with("analyst", clc, "clc-analyst"),
        "vendor": user_with("vendor", clc, "mail-vendor"),
    })
    return w


@pytest.fixture
def world(process_warehouse: Warehouse) -> Iterator[dict[str, Any]]:
    clear_field(process_warehouse)
    for table in ("contact_quarantine", "voter_person"):
        process_warehouse.cursor().execute(f"DELETE FROM {table}")
    yield build_world(process_warehouse)
    clear_field(process_warehouse)
    process_warehouse.cursor().execute("DELETE FROM contact_quarantine")


def client_of(user: Any) -> Any:
    from django.test import Client

    c = Client()
    login_verified(c, user)
    return c
