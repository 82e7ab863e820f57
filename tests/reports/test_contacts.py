"""Contact reports (walks, phones, mail): every number equals a direct count of the
warehouse's contact history in the same test, through each grouping and filter, for
users of different committees; bad input is a 400 with a message; the CSV, PDF and
PNG downloads hold the same numbers (the PDF rendered with poppler)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from PIL import Image

from tests.reports.conftest import client_of
from unionhall.access.models import UsageEvent
from unionhall.errors import UserError
from unionhall.field.models import SavedList, Turf
from unionhall.reports.filters import ContactFilters
from unionhall.reports.report import SUPPRESSED
from unionhall.reports.selectors import contact_report
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db

CHANNEL_SQL = {"walk": "door", "phone": "phone", "mail": "mail"}
# Each user's scope restated for this world's persons (tests/access/factories: the
# nurses' agreement with the state federation covers the CLC): who they see.
SCOPE_SQL = {
    "organizer": "p.state = 'NC' AND p.county IN ('WAKE', 'DURHAM') AND "
                 "(p.voter_reg_num IS NOT NULL OR list_contains(p.member_sources, 'nurses'))",
    "caller": "list_contains(p.member_sources, 'nurses')",
    "fed_organizer": "p.state = 'NC' AND (p.voter_reg_num IS NOT NULL OR list_contains(p.member_sources, 'nurses'))",
}
# ... and the committees whose work their reports cover (their own and those below).
COMMITTEES = {"organizer": ["clc"], "caller": ["affiliate", "local"], "fed_organizer": ["state_federation", "clc"]}


def _committee_ids(world: dict[str, Any], who: str) -> list[int]:
    return [world["tree"][k].pk for k in COMMITTEES[who]]


def _where(world: dict[str, Any], who: str, channel: str) -> tuple[str, list[Any]]:
    ids = _committee_ids(world, who)
    return (f"h.channel = ? AND h.committee_id IN ({', '.join('?' for _ in ids)}) AND {SCOPE_SQL[who]}",
            [CHANNEL_SQL[channel], *ids])


def sql_groups(wh: Warehouse, world: dict[str, Any], who: str, channel: str, key: str, extra: str = "",
               params: tuple[Any, ...] = ()) -> dict[Any, tuple[int, int, int, int]]:
    where, args = _where(world, who, channel)
    rows = wh.cursor().execute(
        f"SELECT {key}, count(*), count(*) FILTER (WHERE h.contacted), count(DISTINCT h.person_id), "
        f"count(DISTINCT h.person_id) FILTER (WHERE h.contacted) "
        f"FROM contact_history h JOIN person p ON p.person_id = h.person_id WHERE {where} {extra} GROUP BY 1",
        [*args, *params]).fetchall()
    return {r[0]: tuple(int(x) for x in r[1:]) for r in rows}


def report_groups(report: Any) -> dict[Any, tuple[int, int, int, int]]:
    return {r["group"]: (r["attempts"], r["contacts"], r["people"], r["people_contacted"])
            for r in report.table("groups").rows}


def _labelled(world: dict[str, Any], group_by: str, sql: dict[Any, Any]) -> dict[Any, Any]:
    """SQL keys as the report names them (turf and committee names; no turf, no canvasser)."""
    from unionhall.access.models import Committee

    if group_by == "turf":
        names = dict(Turf.objects.values_list("pk", "name"))
        return {names[k] if k is not None else "(no turf)": v for k, v in sql.items()}
    if group_by == "committee":
        names = dict(Committee.objects.values_list("pk", "name"))
        return {names[k]: v for k, v in sql.items()}
    if group_by == "canvasser":
        return {k or "(not recorded)": v for k, v in sql.items()}
    return sql


KEYS = {"canvasser": "h.canvasser", "turf": "h.turf_id", "committee": "h.committee_id",
        "day": "CAST(h.contacted_at AS DATE)"}  # the installation's zone is UTC


@pytest.mark.parametrize("who", ["organizer", "caller", "fed_organizer"])
def test_every_grouping_equals_a_direct_count(world: dict[str, Any], process_warehouse: Warehouse, who: str) -> None:
    for channel in ("walk", "phone", "mail"):
        for group_by in ("canvasser", "turf", "day", "committee"):
            report = contact_report(user=world[who], filters=ContactFilters(channel=channel, group_by=group_by))
            want = _labelled(world, group_by, sql_groups(process_warehouse, world, who, channel, KEYS[group_by]))
            assert report_groups(report) == want, (channel, group_by)
            figures = {label: value for label, value, _ in report.figures}
            total = sql_groups(process_warehouse, world, who, channel, "1")
            attempts, contacts, people, people_contacted = total.get(1, (0, 0, 0, 0))
            assert (figures["Attempts"], figures["Contacts"], figures["People attempted"],
                    figures["People contacted"]) == (attempts, contacts, people, people_contacted)
            assert figures["Contact rate"] == (contacts / attempts if attempts else None)


def test_the_world_has_something_in_every_cell_that_matters(world: dict[str, Any]) -> None:
    """The comparisons above are not comparisons of empty tables."""
    clc = contact_report(user=world["organizer"], filters=ContactFilters(channel="walk", group_by="canvasser"))
    assert len(clc.table("groups").rows) >= 3 and clc.table("responses").rows
    for channel in ("phone", "mail"):
        assert contact_report(user=world["organizer"], filters=ContactFilters(channel=channel)).table("groups").rows
    assert contact_report(user=world["caller"], filters=ContactFilters(channel="phone")).table("groups").rows


@pytest.mark.parametrize("channel", ["walk", "phone", "mail"])
def test_results_and_survey_responses_equal_direct_counts(world: dict[str, Any], process_warehouse: Warehouse,
                                                          channel: str) -> None:
    for who in ("organizer", "fed_organizer", "caller"):
        report = contact_report(user=world[who], filters=ContactFilters(channel=channel))
        where, args = _where(world, who, channel)
        cur = process_warehouse.cursor()
        results = {r[0]: (int(r[1]), int(r[2])) for r in cur.execute(
            f"SELECT h.result_code, count(*), count(DISTINCT h.person_id) FROM contact_history h "
            f"JOIN person p ON p.person_id = h.person_id WHERE {where} GROUP BY 1", args).fetchall()}
        assert {r["code"]: (r["attempts"], r["people"]) for r in report.table("results").rows} == results
        answers = {(r[0], r[1]): (int(r[2]), int(r[3])) for r in cur.execute(
            f"SELECT r.question_code, r.response_code, count(*), count(DISTINCT r.person_id) FROM contact_response r "
            f"JOIN contact_history h ON h.result_key = r.result_key JOIN person p ON p.person_id = h.person_id "
            f"WHERE {where} GROUP BY 1, 2", args).fetchall()}
        got = {(r["question"], r["code"]): (r["answers"], r["people"]) for r in report.table("responses").rows}
        assert got == answers
        for q in {q for q, _ in answers}:
            shares = [r["share"] for r in report.table("responses").rows if r["question"] == q]
            assert abs(sum(shares) - 1) < 1e-9


def test_date_committee_and_list_filters_equal_direct_counts(world: dict[str, Any],
                                                             process_warehouse: Warehouse) -> None:
    today = timezone.now().date()
    since, until = today - dt.timedelta(days=3), today - dt.timedelta(days=2)
    lo = dt.datetime.combine(since, dt.time())
    hi = dt.datetime.combine(until + dt.timedelta(days=1), dt.time())
    for channel in ("walk", "phone", "mail"):
        f = ContactFilters(channel=channel, group_by="canvasser", date_from=since, date_to=until)
        got = report_groups(contact_report(user=world["organizer"], filters=f))
        want = sql_groups(process_warehouse, world, "organizer", channel, "h.canvasser",
                          "AND h.contacted_at >= ? AND h.contacted_at < ?", (lo, hi))
        assert got == _labelled(world, "canvasser", want)
    assert sum(v[0] for v in got.values()) > 0  # the mail house's day is in the range

    # The federation organizer narrows to the CLC: only its committee's attempts.
    clc = world["clc"]
    f = ContactFilters(channel="walk", group_by="committee", committee_id=clc.pk)
    got = report_groups(contact_report(user=world["fed_organizer"], filters=f))
    want = sql_groups(process_warehouse, world, "fed_organizer", "walk", "h.committee_id", "AND h.committee_id = ?",
                      (clc.pk,))
    assert got == _labelled(world, "committee", want) and list(got) == [clc.name]

    # The people of a saved list: Elm Street (101-107), then a list of one.
    saved = world["list"]
    for channel in ("walk", "phone"):
        f = ContactFilters(channel=channel, group_by="turf", list_id=saved.pk)
        got = report_groups(contact_report(user=world["organizer"], filters=f))
        want = sql_groups(process_warehouse, world, "organizer", channel, "h.turf_id",
                          "AND h.person_id IN (SELECT person_id FROM list_person WHERE list_id = ? AND version = ?)",
                          (saved.pk, saved.version))
        assert got == _labelled(world, "turf", want)
    small = SavedList.objects.create(name="Just Cy", committee=clc, created_by=world["organizer"], version=1)
    process_warehouse.cursor().execute("INSERT INTO list_person VALUES (?, 1, 103)", [small.pk])
    only = contact_report(user=world["organizer"], filters=ContactFilters(channel="walk", list_id=small.pk))
    people = {label: value for label, value, _ in only.figures}["People attempted"]
    assert people == 1


# -- scope ----------------------------------------------------------------------------------


def test_a_committee_sees_only_its_own_contacts_and_only_people_in_its_scope(
        world: dict[str, Any], process_warehouse: Warehouse) -> None:
    cur = process_warehouse.cursor()
    clc_rows = cur.execute("SELECT count(*) FROM contact_history WHERE channel = 'door' AND committee_id = ?",
                           [world["clc"].pk]).fetchone()[0]
    walk = contact_report(user=world["organizer"], filters=ContactFilters(channel="walk", group_by="committee"))
    attempts = {label: value for label, value, _ in walk.figures}["Attempts"]
    # The old Mecklenburg door is the CLC's, but that person is outside its counties now.
    assert attempts == clc_rows - 1
    assert [r["group"] for r in walk.table("groups").rows] == [world["clc"].name]
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("platform-admin", password="a-long-passw0rd!")
    everything = contact_report(user=admin, filters=ContactFilters(channel="walk"))
    assert {label: value for label, value, _ in everything.figures}["Attempts"] == cur.execute(
        "SELECT count(*) FROM contact_history WHERE channel = 'door'").fetchone()[0]

    nurses = contact_report(user=world["caller"], filters=ContactFilters(channel="phone", group_by="committee"))
    assert [r["group"] for r in nurses.table("groups").rows] == [world["tree"]["affiliate"].name]
    assert {label: v for label, v, _ in contact_report(
        user=world["caller"], filters=ContactFilters(channel="walk")).figures}["Attempts"] == 0
    fed = contact_report(user=world["fed_organizer"], filters=ContactFilters(channel="phone", group_by="committee"))
    assert [r["group"] for r in fed.table("groups").rows] == [world["clc"].name]  # the CLC is below it; nurses not

    teacher = contact_report(user=world["teacher"], filters=ContactFilters(channel="walk"))
    assert all(v in (0, None) for _, v, _ in teacher.figures) and not teacher.table("groups").rows
    # Another committee's id and one that does not exist get the same answer.
    messages = []
    for committee_id in (world["clc"].pk, 999_999):
        with pytest.raises(UserError) as exc:
            contact_report(user=world["teacher"], filters=ContactFilters(committee_id=committee_id))
        messages.append(exc.value.message.replace(str(committee_id), "N"))
    assert messages[0] == messages[1]


def test_reports_are_for_person_data_roles(world: dict[str, Any]) -> None:
    for who in ("canvasser", "vendor"):
        page = client_of(world[who]).get("/reports/contacts/?channel=walk")
        assert page.status_code == 403 and b"organizers, data managers" in page.content
    assert client_of(world["organizer"]).get("/reports/").status_code == 200
    nav = client_of(world["organizer"]).get("/").content.decode()
    assert 'href="/reports/"' in nav
    assert 'href="/reports/"' not in client_of(world["canvasser"]).get("/field/canvass/").content.decode()


@override_settings(UNIONHALL_MIN_CELL=10)
def test_analysts_see_small_counts_hidden(world: dict[str, Any]) -> None:
    report = contact_report(user=world["analyst"], filters=ContactFilters(channel="walk"))
    organizer = contact_report(user=world["organizer"], filters=ContactFilters(channel="walk"))
    for mine, theirs in zip(report.table("groups").rows, organizer.table("groups").rows, strict=True):
        for k in ("attempts", "contacts", "people", "people_contacted"):
            assert mine[k] == (SUPPRESSED if 0 < theirs[k] < 10 else theirs[k])
        assert mine["contact_rate"] is None  # every group here is small
    page = client_of(world["analyst"]).get("/reports/contacts/?channel=walk").content.decode()
    assert "fewer than 10" in page
    rows = list(csv.DictReader(io.StringIO(client_of(world["analyst"]).get(
        "/reports/contacts.csv?channel=walk").content.decode())))
    assert rows and all(r["attempts"] == "" for r in rows)
    with override_settings(UNIONHALL_MIN_CELL=1):
        same = contact_report(user=world["analyst"], filters=ContactFilters(channel="walk"))
        assert report_groups(same) == report_groups(organizer)


# -- bad input ------------------------------------------------------------------------------


def test_bad_input_is_a_400_that_says_what_to_fix(world: dict[str, Any]) -> None:
    private = SavedList.objects.create(name="Mine only", committee=world["tree"]["affiliate"],
                                       created_by=world["caller"], shared=False, version=1)
    c = client_of(world["organizer"])
    cases = {
        "from=2026-13-45": "is not a date",
        "to=yesterday": "is not a date",
        "from=2026-10-05&to=2026-10-01": "is after To",
        "group_by=precinct": "use one of canvasser, turf, day, committee",
        "channel=sms": "use one of walk, phone, mail",
        "list=99999": "no list 99999",
        f"list={private.pk}": f"no list {private.pk}",
        "list=abc": "is not one of the choices",
        "committee=abc": "is not one of the choices",
        "committee=99999": "no committee 99999",
    }
    for query, message in cases.items():
        for path in ("/reports/contacts/", "/reports/contacts.csv", "/reports/contacts.pdf", "/reports/contacts.png"):
            resp = c.get(f"{path}?{query}")
            assert resp.status_code == 400, (path, query)
            assert message in resp.content.decode(), (path, query)
    resp = c.get("/reports/contacts.csv?channel=walk&table=nope")
    assert resp.status_code == 400 and b"not a table of this report" in resp.content
    assert c.get("/reports/contacts.xlsx?channel=walk").status_code == 404


# -- the page and its downloads -------------------------------------------------------------


def test_page_shows_the_numbers_and_logs_the_read(world: dict[str, Any], process_warehouse: Warehouse) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_of(world["organizer"])
    day = (timezone.now() - dt.timedelta(days=4)).date().isoformat()
    for group_by in ("committee", "canvasser", "day", "turf"):
        counts, groups = [], []
        for dates in ("", f"&from={day}&to={day}"):
            with CaptureQueriesContext(connection) as queries:
                page = c.get(f"/reports/contacts/?channel=walk&group_by={group_by}{dates}")
            assert page.status_code == 200
            counts.append(len(queries))
            groups.append(page.content.decode().count("<tr>"))
        # Fewer groups or more: the same app-database queries (the account gate, the
        # menu, the gateway's scope for two reads, the labels, the usage log), never
        # one per row.
        assert counts[0] == counts[1] <= 35, (group_by, counts)
    assert groups[0] > groups[1]
    page = c.get("/reports/contacts/?channel=walk&group_by=canvasser")
    html = page.content.decode()
    assert '<svg class="report-chart-svg"' in html and "<?xml" not in html
    want = sql_groups(process_warehouse, world, "organizer", "walk", "h.canvasser")
    for name, (attempts, contacts, _, _) in want.items():
        assert f"<td>{name}</td><td class=\"num\">{attempts:,}</td><td class=\"num\">{contacts:,}</td>" in html
    event = UsageEvent.objects.filter(user=world["organizer"], action="search").latest("id")
    assert event.detail["report"] == "contacts" and event.persons == 0


def test_csv_download_holds_the_table_formula_safe(world: dict[str, Any], process_warehouse: Warehouse) -> None:
    c = client_of(world["organizer"])
    resp = c.get("/reports/contacts.csv?channel=walk&group_by=canvasser")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    assert 'filename="contacts-walk-by-canvasser.csv"' in resp["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.content.decode())))
    assert list(rows[0]) == ["group", "attempts", "contacts", "contact_rate", "people", "people_contacted"]
    want = sql_groups(process_warehouse, world, "organizer", "walk", "h.canvasser")
    # "@dana" would be a formula in a spreadsheet: written with a leading apostrophe.
    assert {r["group"] for r in rows} == {("'" + k if k.startswith("@") else k) for k in want}
    for r in rows:
        a, ct, p, pc = want[r["group"].lstrip("'")]
        assert (int(r["attempts"]), int(r["contacts"]), int(r["people"]), int(r["people_contacted"])) == (a, ct, p, pc)
        assert float(r["contact_rate"]) == pytest.approx(ct / a, abs=5e-5)
    responses = list(csv.DictReader(io.StringIO(c.get(
        "/reports/contacts.csv?channel=walk&table=responses").content.decode())))
    assert sum(int(r["answers"]) for r in responses) == process_warehouse.cursor().execute(
        "SELECT count(*) FROM contact_response r JOIN contact_history h USING (result_key) JOIN person p "
        "ON p.person_id = h.person_id WHERE h.channel = 'door' AND h.committee_id = ? AND p.county = 'WAKE'",
        [world["clc"].pk]).fetchone()[0]
    assert UsageEvent.objects.filter(user=world["organizer"], action="export",
                                     detail__kind="report download", detail__format="csv").count() == 2


def non_white(png: Path | bytes) -> float:
    """The fraction of pixels that are not (nearly) white."""
    img = Image.open(io.BytesIO(png) if isinstance(png, bytes) else png).convert("L")
    hist = img.histogram()
    return 1 - sum(hist[245:]) / (img.width * img.height)


def test_pdf_download_renders_a_page_with_the_chart_and_tables(world: dict[str, Any], tmp_path: Path) -> None:
    resp = client_of(world["organizer"]).get("/reports/contacts.pdf?channel=walk&group_by=canvasser")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(resp.content)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True)
    page = next(tmp_path.glob("page*.png"))
    ink = non_white(page)
    assert 0.04 < ink < 0.6, ink  # a chart and tables, not a blank page (nor a black one)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Contact report: Walks (canvass)" in text and "@dana" in text and "Survey responses by code" in text
    assert "Triangle CLC" in text


def test_png_download_is_the_chart(world: dict[str, Any]) -> None:
    resp = client_of(world["organizer"]).get("/reports/contacts.png?channel=phone&group_by=day")
    assert resp.status_code == 200 and resp["Content-Type"] == "image/png"
    img = Image.open(io.BytesIO(resp.content))
    img.verify()
    img = Image.open(io.BytesIO(resp.content))
    assert img.format == "PNG" and img.width >= 800 and img.height >= 300
    assert non_white(resp.content) > 0.03
    # No rows at all still gives a valid image, saying so.
    empty = client_of(world["teacher"]).get("/reports/contacts.png?channel=walk")
    assert empty.status_code == 200 and Image.open(io.BytesIO(empty.content)).format == "PNG"
