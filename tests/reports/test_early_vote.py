"""Early-vote progress of a saved list, on the small synthetic state loaded through the
real jobs (voter file, vote history, the last daily absentee file, members, identity):
the day-by-day requests, returns and early votes equal direct counts of the warehouse's
ballot tables for the list's people; bad input is a 400; the downloads work."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.access.factories import user_with
from tests.reports.conftest import client_of
from tests.reports.test_contacts import non_white
from unionhall.field.lists import ListDefinition
from unionhall.field.models import SavedList
from unionhall.field.services import saved_list_create
from unionhall.reports.filters import EarlyVoteFilters
from unionhall.reports.selectors import early_vote_progress
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def county_list(field_wh: Warehouse, tree: dict[str, Any]) -> dict[str, Any]:
    """A state federation organizer's list of the registered voters of the biggest county."""
    organizer = user_with("organizer", tree["state_federation"], "fed-organizer")
    saved = saved_list_create(user=organizer, name="Biggest county voters", committee=tree["state_federation"],
                              definition=ListDefinition(counties=(tree["counties"][0],), registered=True))
    election = field_wh.cursor().execute("SELECT max(election_dt) FROM ballot_status").fetchone()[0]
    return {"organizer": organizer, "list": saved, "election": election}


PER_PERSON = """
    WITH lp AS (SELECT person_id FROM list_person WHERE list_id = $list AND version = $version),
    b AS (SELECT vp.person_id, bs.* FROM ballot_status bs JOIN voter_person vp ON vp.ncid = bs.ncid
          WHERE bs.election_dt = $election AND vp.person_id IN (SELECT person_id FROM lp)),
    per AS (SELECT person_id, bool_or(already_voted) AS voted,
                   bool_or(already_voted AND ballot_type = 'mail') AS by_mail,
                   bool_or(requested_not_returned) AS outstanding, bool_or(needs_cure) AS cure,
                   min(status_date) FILTER (WHERE already_voted) AS day
            FROM b GROUP BY 1)
"""
REQUESTS = """
    WITH lp AS (SELECT person_id FROM list_person WHERE list_id = $list AND version = $version)
    SELECT day, count(*) FROM (
      SELECT vp.person_id, min(e.ballot_req_dt) AS day FROM absentee_event e JOIN voter_person vp ON vp.ncid = e.ncid
      WHERE e.election_dt = $election AND e.ballot_type = 'mail' AND vp.person_id IN (SELECT person_id FROM lp)
      GROUP BY 1) GROUP BY 1
"""


def _direct(wh: Warehouse, saved: SavedList, election: dt.date) -> dict[str, Any]:
    cur = wh.cursor()
    p = {"list": saved.pk, "version": saved.version, "election": election}
    days = {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in cur.execute(
        PER_PERSON + "SELECT day, count(*) FILTER (WHERE by_mail), count(*) FILTER (WHERE NOT by_mail), count(*) "
        "FROM per WHERE voted GROUP BY 1", p).fetchall()}
    totals = cur.execute(PER_PERSON + "SELECT count(*) FILTER (WHERE voted), count(*) FILTER (WHERE by_mail), "
                         "count(*) FILTER (WHERE voted AND NOT by_mail), count(*) FILTER (WHERE outstanding), "
                         "count(*) FILTER (WHERE cure) FROM per", p).fetchone()
    requests = {r[0]: int(r[1]) for r in cur.execute(REQUESTS, p).fetchall()}
    people = cur.execute("SELECT count(*) FROM list_person WHERE list_id = ? AND version = ?",
                         [saved.pk, saved.version]).fetchone()[0]
    return {"days": days, "totals": tuple(int(x) for x in totals), "requests": requests, "people": int(people)}


def test_progress_equals_direct_counts_of_the_ballot_tables(county_list: dict[str, Any],
                                                            field_wh: Warehouse) -> None:
    saved, election = county_list["list"], county_list["election"]
    report = early_vote_progress(user=county_list["organizer"], filters=EarlyVoteFilters(list_id=saved.pk))
    want = _direct(field_wh, saved, election)
    assert want["totals"][0] > 0 and want["requests"] and want["people"] > 100  # a real test, not of zeros
    figures = {label: value for label, value, _ in report.figures}
    voted, returned, early, outstanding, cure = want["totals"]
    assert returned > 0 and early > 0 and outstanding > 0
    assert figures["People on the list"] == want["people"] == saved.people
    assert (figures["Voted so far"], figures["Mail ballots returned"], figures["Voted early in person"],
            figures["Mail ballots not back"], figures["Ballots needing a cure"]) == (voted, returned, early,
                                                                                   outstanding, cure)
    assert figures["Mail ballots requested"] == sum(want["requests"].values())
    rows = report.table("days").rows
    assert {r["day"]: (r["returned"], r["early"], r["voted"]) for r in rows if r["voted"]} == want["days"]
    assert {r["day"]: r["requested"] for r in rows if r["requested"]} == {
        d: n for d, n in want["requests"].items() if d is not None}
    # Running totals end at the totals; the share is of the list's people.
    assert rows[-1]["voted_total"] == voted and rows[-1]["returned_total"] == returned
    assert rows[-1]["turnout"] == pytest.approx(voted / want["people"])
    assert [r["day"] for r in rows] == sorted(r["day"] for r in rows)
    assert report.chart is not None and len(report.chart.categories) == len(rows)


def test_a_list_of_everyone_counts_as_the_elections_early_vote_page(field_wh: Warehouse,
                                                                    tree: dict[str, Any]) -> None:
    """The same definitions as the elections app: a list of everyone the user sees casts
    the same ballots on the same days as the Early vote page's report."""
    from unionhall.elections.selectors import early_vote_report

    organizer = user_with("organizer", tree["clc"], "clc-organizer")
    saved = saved_list_create(user=organizer, name="Everyone registered", committee=tree["clc"],
                              definition=ListDefinition(registered=True))
    mine = early_vote_progress(user=organizer, filters=EarlyVoteFilters(list_id=saved.pk)).table("days").rows
    theirs = early_vote_report(user=organizer)["by_day"]
    assert theirs
    assert {r["day"]: r["voted"] for r in mine if r["voted"]} == {d["day"]: d["mail"] + d["early"] for d in theirs}


def test_bad_input_is_a_400_and_no_list_is_the_picker(county_list: dict[str, Any], tree: dict[str, Any]) -> None:
    saved = county_list["list"]
    c = client_of(county_list["organizer"])
    picker = c.get("/reports/early-vote/")
    assert picker.status_code == 200 and "Biggest county voters" in picker.content.decode()
    other = SavedList.objects.create(name="Someone else's", committee=tree["affiliate"], version=1, shared=False)
    cases = {"list=99999": "no list 99999", f"list={other.pk}": f"no list {other.pk}",
             "list=abc": "is not one of the choices",
             f"list={saved.pk}&election=2026-99-01": "is not a date",
             f"list={saved.pk}&election=1999-11-02": "no ballot data for 1999-11-02"}
    for query, message in cases.items():
        for path in ("/reports/early-vote/", "/reports/early-vote.csv", "/reports/early-vote.pdf"):
            resp = c.get(f"{path}?{query}")
            assert resp.status_code == 400 and message in resp.content.decode(), (path, query)
    assert c.get("/reports/early-vote.png").status_code == 400  # a download needs its list


def test_page_and_downloads(county_list: dict[str, Any], field_wh: Warehouse, tmp_path: Path) -> None:
    saved = county_list["list"]
    c = client_of(county_list["organizer"])
    page = c.get(f"/reports/early-vote/?list={saved.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"Early-vote progress: {saved.name}" in html and '<svg class="report-chart-svg"' in html
    rows = list(csv.DictReader(io.StringIO(c.get(f"/reports/early-vote.csv?list={saved.pk}").content.decode())))
    want = _direct(field_wh, saved, county_list["election"])
    assert {dt.date.fromisoformat(r["day"]): (int(r["returned"]), int(r["early"])) for r in rows
            if int(r["returned"]) or int(r["early"])} == {d: v[:2] for d, v in want["days"].items()}
    pdf = c.get(f"/reports/early-vote.pdf?list={saved.pk}")
    assert pdf.status_code == 200
    (tmp_path / "ev.pdf").write_bytes(pdf.content)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(tmp_path / "ev.pdf"),
                    str(tmp_path / "page")], check=True)
    assert 0.04 < non_white(next(tmp_path.glob("page*.png"))) < 0.6
    png = c.get(f"/reports/early-vote.png?list={saved.pk}")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG\r\n\x1a\n") and non_white(png.content) > 0.03
