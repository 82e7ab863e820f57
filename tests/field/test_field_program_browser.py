"""The field program end to end in real Chromium (issue 11, must show 1).

An organizer of a central labor council builds a list of one precinct in the list
builder (counts follow the filter), saves it, cuts it into turfs (the job runs on the
app's worker threads, as under `unionhall serve`), assigns turf 1 to a canvasser with
the door script, and prints its walk sheet (the PDF's text, read with pdftotext, has
the script and the doors in walk order). The canvasser, on a phone-sized screen,
records a conversation with answers at the first door; the network is cut; two more
doors are recorded on the phone; the network comes back and the queue is sent, each
result once. The results are then in the person's contact history and in the list
builder's filters (latest result, survey answer).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.access.factories import user_with
from tests.browser.conftest import browser, log_in, off_loop, totp_device, until  # noqa: F401  (the browser fixture)
from tests.conftest import ARTIFACTS
from unionhall.warehouse import Warehouse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-passw0rd!"


@pytest.fixture
def program(field_wh: Warehouse, tree: dict[str, Any]) -> Iterator[dict[str, Any]]:
    from unionhall.field import scripts
    from unionhall.jobs.runner import WorkerPool

    organizer = user_with("organizer", tree["clc"], "clc-organizer")
    canvasser = user_with("canvasser", tree["clc"], "clc-walker")
    support = scripts.question_create(
        user=organizer, committee=tree["clc"], code="support", text="Can we count on your vote?",
        responses=[scripts.ResponseInput("1", "Strong yes"), scripts.ResponseInput("2", "Lean yes"),
                   scripts.ResponseInput("5", "No")])
    scripts.script_create(user=organizer, committee=tree["clc"], name="Door script",
                          intro="Hi, I'm with the central labor council, talking with neighbors.",
                          closing="Thanks, and vote early!", questions=[support])
    county = tree["counties"][0]
    precinct = field_wh.cursor().execute(
        "SELECT precinct FROM person WHERE county = ? AND precinct IS NOT NULL AND walkable GROUP BY 1 "
        "ORDER BY count(*) DESC LIMIT 1", [county]).fetchone()[0]
    pool = WorkerPool(1, poll_seconds=0.1)
    pool.start()
    yield {"organizer": organizer, "canvasser": canvasser, "org_device": totp_device(organizer),
           "walker_device": totp_device(canvasser), "precinct": f"{county}|{precinct}", "clc": tree["clc"]}
    pool.stop()



def _pdftotext(pdf: bytes, tmp: Path) -> str:
    path = tmp / "walk.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "70", "-png", "-f", "1", "-l", "1", str(path),
                    str(ARTIFACTS / "field-walk-sheet")], check=True)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_organizer_to_canvasser_and_back(live_server: Any, program: dict[str, Any], browser: Any,  # noqa: F811
                                         tmp_path: Path) -> None:
    from unionhall.field.lists import ListDefinition, list_counts
    from unionhall.field.models import ContactResult, SavedList, Turf
    from unionhall.field.selectors import turf_doors

    base = live_server.url
    ARTIFACTS.mkdir(exist_ok=True)
    desk = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(desk, base, "clc-organizer", PASSWORD, program["org_device"], then="/field/lists/new/")

    # 1. Build the precinct list: the counts follow the filter.
    definition = ListDefinition(precincts=(program["precinct"],))
    want = off_loop(lambda: list_counts(user=program["organizer"], definition=definition))
    desk.goto(f"{base}/field/lists/new/")
    desk.select_option("#f_precincts", program["precinct"])
    desk.wait_for_selector(f"#count-people:text-is('{want.people}')")
    assert desk.inner_text("#count-doors") == str(want.doors)
    desk.screenshot(path=str(ARTIFACTS / "field-list-builder.png"), full_page=True)
    desk.fill("#s_name", "Precinct walk")
    desk.click("#save button[type=submit]")
    desk.wait_for_selector("h1:has-text('Precinct walk')")
    saved = off_loop(lambda: SavedList.objects.get(name="Precinct walk"))
    assert (saved.people, saved.doors) == (want.people, want.doors)

    # 2. Cut it into turfs of about 30 doors; a worker thread runs the job.
    desk.fill("#target", "30")
    desk.click("form[action$='/cut'] button[type=submit]")
    desk.wait_for_selector("text=Succeeded", timeout=60_000)
    desk.goto(f"{base}/field/lists/{saved.pk}/")
    desk.click("text=Edit and assign")
    desk.wait_for_selector("svg.turf-map")
    desk.screenshot(path=str(ARTIFACTS / "field-turfs.png"), full_page=True)
    turfs = off_loop(lambda: list(Turf.objects.filter(cut__saved_list=saved).order_by("number")))
    assert len(turfs) == round(saved.doors / 30) and sum(t.doors for t in turfs) == saved.doors

    # 3. Assign turf 1 to the canvasser with the script.
    row = desk.locator("form.assign").first
    row.locator("select[name=canvasser]").select_option(label="clc-walker")
    row.locator("select[name=script]").select_option(label="Door script")
    row.locator("button[type=submit]").click()
    desk.wait_for_selector("text=Turf 1 assigned to clc-walker")
    turf = off_loop(lambda: Turf.objects.select_related("cut__saved_list__committee", "script").get(pk=turfs[0].pk))
    assert turf.canvasser_id == program["canvasser"].pk and turf.script is not None

    # 4. The walk sheet: the script and the doors in walk order.
    pdf = desk.request.get(f"{base}/field/turfs/{turf.pk}/walk-sheet.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    text = _pdftotext(pdf.body(), tmp_path)
    doors = off_loop(lambda: turf_doors(user=program["organizer"], turf=turf))
    streets = list(dict.fromkeys(f"{d['house_number']} {d['street']}" for d in doors))
    positions = [text.find(s) for s in streets]
    assert -1 not in positions and positions == sorted(positions)
    assert "central labor council, talking with neighbors" in text and "Can we count on your vote?" in text
    assert doors[0]["persons"][0]["last_name"] in text

    # 5. The canvasser on a phone: a conversation at door 1, then two doors offline.
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    log_in(phone, base, "clc-walker", PASSWORD, program["walker_device"], then="/field/canvass/")
    phone.goto(f"{base}/field/canvass/")
    phone.click(f"a[href='/field/canvass/{turf.pk}/']")
    first = doors[0]["persons"][0]
    name = " ".join(x for x in (first["first_name"], first["last_name"]) if x)
    phone.wait_for_selector(f"#cv-people button:has-text('{first['first_name']}')")
    phone.click(f"#cv-people button:has-text('{name}')")
    phone.click("#cv-questions button:has-text('Strong yes')")
    phone.click("#cv-canvassed")
    until(lambda: off_loop(lambda: ContactResult.objects.count()) == 1)  # sent while online
    phone.wait_for_selector("#cv-status:has-text('all sent')")
    if len(doors[0]["persons"]) > 1:  # the others at door 1 are not there: on to door 2
        phone.click("#cv-skip")
    address = doors[1]["address"]
    phone.wait_for_selector(f"#cv-address:has-text('{doors[1]['house_number']}')")
    phone.context.set_offline(True)
    phone.click("#cv-nobody-home")  # door 2: Not Home for everyone there
    phone.wait_for_selector(f"#cv-address:has-text('{doors[2]['house_number']}')")
    phone.click("#cv-results button[data-code=RF]")  # door 3: the first person refuses
    waiting = 1 + len(doors[1]["persons"])
    phone.wait_for_selector(f"#cv-status:has-text('{waiting} result')")
    phone.screenshot(path=str(ARTIFACTS / "field-canvass-offline.png"))
    assert off_loop(lambda: ContactResult.objects.count()) == 1
    phone.context.set_offline(False)
    phone.wait_for_selector("#cv-status:has-text('all sent')", timeout=30_000)
    results = off_loop(lambda: sorted(ContactResult.objects.values_list("person_id", "result_code__code")))
    expected = sorted([(first["person_id"], "CV"), *[(p["person_id"], "NH") for p in doors[1]["persons"]],
                       (doors[2]["persons"][0]["person_id"], "RF")])
    assert results == expected, address

    # 6. Back at the desk: the person's contact history and the list filters.
    desk.goto(f"{base}/elections/people/{first['person_id']}/")
    history = desk.inner_text("#contact-history")
    assert "CV Canvassed" in history and "support: 1" in history and "clc-walker" in history
    desk.goto(f"{base}/field/lists/new/?precincts={program['precinct']}&last_results=NH")
    assert desk.inner_text("#count-people") == str(len(doors[1]["persons"]))
    desk.goto(f"{base}/field/lists/new/?precincts={program['precinct']}&survey=support%3D1")
    assert desk.inner_text("#count-people") == "1"
    desk.goto(f"{base}/field/lists/new/?precincts={program['precinct']}&contacted=never")
    assert desk.inner_text("#count-people") == str(want.people - 2)  # the CV and the RF were conversations
