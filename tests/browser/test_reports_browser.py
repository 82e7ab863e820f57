"""The walk report in real Chromium (issue 12): a CLC's week of canvassing on the small
synthetic state — five canvassers on five turfs of a saved list, their door results
recorded through `contact_result_record` as the canvass page records them — opened by
the CLC's organizer. The chart is drawn and visible, the table has every canvasser
with the counts the warehouse holds, and the page is saved as the README's screenshot
(docs/img/reports-contacts.png)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.access.factories import user_with
from tests.browser.conftest import browser, log_in, totp_device  # noqa: F401  (the browser fixture)
from tests.conftest import ARTIFACTS, REPO
from unionhall.warehouse import Warehouse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-passw0rd!"
SHOT = REPO / "docs" / "img" / "reports-contacts.png"
# Canvassers and how their doors tend to go (share canvassed / not home / refused / moved / inaccessible).
CANVASSERS = [("maria.lopez", (0.42, 0.43, 0.08, 0.04, 0.03)), ("james.carter", (0.31, 0.52, 0.11, 0.03, 0.03)),
              ("aisha.brown", (0.37, 0.48, 0.09, 0.04, 0.02)), ("tom.nguyen", (0.26, 0.58, 0.10, 0.03, 0.03)),
              ("dee.williams", (0.34, 0.50, 0.08, 0.05, 0.03))]
CODES = ("CV", "NH", "RF", "MV", "IN")
DOORS_PER_TURF = 34


@pytest.fixture
def walk_week(field_wh: Warehouse, tree: dict[str, Any]) -> Iterator[dict[str, Any]]:
    from unionhall.field import scripts
    from unionhall.field.models import SavedList, Turf, TurfCut
    from unionhall.field.services import contact_history_sync, contact_result_record

    clc = tree["clc"]
    organizer = user_with("organizer", clc, "clc-organizer")
    support = scripts.question_create(
        user=organizer, committee=clc, code="support", text="Can we count on your vote on November 3?",
        responses=[scripts.ResponseInput("1", "Strong yes"), scripts.ResponseInput("2", "Lean yes"),
                   scripts.ResponseInput("3", "Undecided"), scripts.ResponseInput("4", "No")])
    script = scripts.script_create(user=organizer, committee=clc, name="GOTV doors",
                                   intro="Hi, I'm with the central labor council.", closing="Thanks!",
                                   questions=[support])
    cur = field_wh.cursor()
    doors = cur.execute(
        "SELECT door_key, list(person_id ORDER BY person_id) FROM person WHERE county = ? AND walkable "
        "AND voter_reg_num IS NOT NULL AND door_key IS NOT NULL GROUP BY 1 ORDER BY 1 LIMIT ?",
        [tree["counties"][0], DOORS_PER_TURF * len(CANVASSERS)]).fetchall()
    saved = SavedList.objects.create(name="Eastside GOTV", committee=clc, created_by=organizer, version=1,
                                     people=sum(len(p) for _, p in doors), doors=len(doors))
    cut = TurfCut.objects.create(saved_list=saved, list_version=1, target_doors=DOORS_PER_TURF, created_by=organizer)
    rng = random.Random(20261103)
    now = timezone.now()
    turfs = []
    for t, (name, mix) in enumerate(CANVASSERS, start=1):
        walker = user_with("canvasser", clc, name)
        mine = doors[(t - 1) * DOORS_PER_TURF: t * DOORS_PER_TURF]
        turf = Turf.objects.create(cut=cut, number=t, name=f"Eastside GOTV · turf {t}", doors=len(mine),
                                   people=sum(len(p) for _, p in mine), canvasser=walker, script=script)
        turfs.append(turf)
        for seq, (_, people) in enumerate(mine, start=1):
            for pid in people:
                cur.execute("INSERT INTO list_person VALUES (?, 1, ?)", [saved.pk, pid])
                cur.execute("INSERT INTO turf_person VALUES (?, ?, ?, ?, ?)", [cut.pk, t, (t - 1) * 100 + seq, seq,
                                                                                pid])
            # Each door knocked on one to three days of the last eight; a conversation ends it.
            for visit in sorted(rng.sample(range(1, 9), rng.choice((1, 1, 2, 3))), reverse=True):
                when = (now - dt.timedelta(days=visit)).replace(hour=rng.randint(10, 18), minute=rng.randint(0, 59))
                code = rng.choices(CODES, weights=mix)[0]
                for pid in people:
                    answer = {"support": rng.choice("11223334")} if code == "CV" else None
                    contact_result_record(user=walker, client_id=str(uuid.uuid4()), person_id=pid, result_code=code,
                                          channel="door", source="canvass", turf=turf, contacted_at=when,
                                          responses=answer)
                if code == "CV":
                    break
    contact_history_sync(warehouse=field_wh)
    yield {"organizer": organizer, "device": totp_device(organizer), "clc": clc, "turfs": turfs}


def test_walk_report_chart_in_chromium(live_server: Any, walk_week: dict[str, Any], browser: Any,  # noqa: F811
                                       field_wh: Warehouse) -> None:
    clc = walk_week["clc"]
    want = {r[0]: (int(r[1]), int(r[2])) for r in field_wh.cursor().execute(
        "SELECT canvasser, count(*), count(*) FILTER (WHERE contacted) FROM contact_history "
        "WHERE channel = 'door' AND committee_id = ? GROUP BY 1", [clc.pk]).fetchall()}
    assert set(want) == {name for name, _ in CANVASSERS} and sum(a for a, _ in want.values()) > 150

    page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    log_in(page, live_server.url, "clc-organizer", PASSWORD, walk_week["device"], then="/reports/")
    page.goto(f"{live_server.url}/reports/")
    page.click("text=Walks (canvass)")
    page.wait_for_selector("#report-chart svg")
    page.select_option("#f_group", "canvasser")
    page.click("form.report-filters button[type=submit]")
    page.wait_for_selector("#report-chart svg")
    assert "group_by=canvasser" in page.url and "channel=walk" in page.url
    chart = page.locator("#report-chart svg")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 200
    assert page.locator("#report-chart svg text", has_text="maria.lopez").count() == 1  # labels are text
    rows = page.locator("#table-groups tbody tr")
    assert rows.count() == len(CANVASSERS)
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td").all_inner_texts()
        assert (int(cells[1].replace(",", "")), int(cells[2].replace(",", ""))) == want[cells[0]]
    total = sum(a for a, _ in want.values())
    assert page.locator(".figures.report dd").first.inner_text() == f"{total:,}"
    # The page as a stakeholder sees it: the filters, the figures, the chart, the table.
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "reports-contacts-full.png"), full_page=True)
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    clip = page.locator("#table-groups").bounding_box()
    assert clip is not None
    page.screenshot(path=str(SHOT), clip={"x": 0, "y": 0, "width": 1280, "height": clip["y"] + clip["height"] + 16},
                    full_page=True)
    assert Path(SHOT).stat().st_size > 20_000

    # Days, for the same organizer: one bar pair per day of the week.
    page.select_option("#f_group", "day")
    page.click("form.report-filters button[type=submit]")
    page.wait_for_selector("#report-chart svg")
    days = len({r[0] for r in field_wh.cursor().execute(
        "SELECT CAST(contacted_at AS DATE) FROM contact_history WHERE committee_id = ?", [clc.pk]).fetchall()})
    assert page.locator("#table-groups tbody tr").count() == days
