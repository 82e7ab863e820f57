"""Poll pages: for analysts (organizers get 403), only their committees' polls (another
committee's is 404, like a missing one), a bad file's rows shown with row, column and
reason, weighting through the page with achieved against target margins, toplines
with margins of error and a crosstab."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.access.factories import login_verified, user_with
from unionhall.analytics.models import Poll
from unionhall.analytics.poll_synth import poll_file_write
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db


def client_of(user: Any) -> Client:
    c = Client()
    login_verified(c, user)
    return c


@pytest.fixture
def pages(field_wh: Warehouse, tree: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    import polars as pl

    frame = pl.from_arrow(field_wh.cursor().execute(
        "SELECT county, sex, age, party, member_sources FROM person WHERE reg_status IN ('A', 'I')").fetch_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    path = tmp_path / "contract.csv"
    poll_file_write(path, frame, n=400, seed=9, bad_rows=2)
    analyst = user_with("analyst", tree["state_federation"], "fed-analyst")
    return {"tree": tree, "path": path, "analyst": analyst, "client": client_of(analyst)}


def _upload(c: Client, committee: Any, path: Path, name: str = "Contract poll") -> Any:
    with path.open("rb") as fh:
        return c.post("/analytics/polls/", {"name": name, "committee": committee.pk, "file": fh})


def test_upload_weight_and_read_a_poll(pages: dict[str, Any]) -> None:
    c, fed = pages["client"], pages["tree"]["state_federation"]
    assert c.get("/analytics/polls/").status_code == 200
    r = _upload(c, fed, pages["path"])
    assert r.status_code == 302
    poll = Poll.objects.get()
    assert r["Location"] == f"/analytics/polls/{poll.pk}/"
    assert (poll.respondents, poll.rejected, poll.file_name) == (400, 2, "contract.csv")
    page = c.get(f"/analytics/polls/{poll.pk}/").content.decode()
    assert "402 read = 400 respondents + 2 rejected" in page
    assert "duplicate_respondent" in page and "R00001" in page  # the uploader sees the raw rows
    assert "Q1 Support the contract" in page and "Not weighted yet" in page
    assert re.search(r"<td class=\"num\">\d+\.\d%</td><td class=\"num\">±\d+\.\d</td>", page)

    r = c.post(f"/analytics/polls/{poll.pk}/weight/", {"by": ["sex", "age_band", "party"], "universe": "voters"})
    assert r.status_code == 302
    page = c.get(f"/analytics/polls/{poll.pk}/").content.decode()
    assert "Weighted on sex, age_band, party to voters" in page and "Design effect" in page
    assert re.search(r"<td>age_band</td><td>18-29</td><td class=\"num\">\d+</td><td class=\"num\">([\d.]+)%</td>"
                     r"<td class=\"num\">([\d.]+)%</td><td class=\"num\">\2%</td>", page)  # achieved = target
    cross = c.get(f"/analytics/polls/{poll.pk}/", {"by": "age_band", "q": "Q2 Would strike"}).content.decode()
    assert "Q2 Would strike <span class=\"muted\">by age_band</span>" in cross and "<td>65+</td>" in cross

    r = c.post(f"/analytics/polls/{poll.pk}/weight/", {"by": ["member"], "universe": "members:nobody"})
    page = c.get(f"/analytics/polls/{poll.pk}/").content.decode()
    assert "no persons in the universe &#x27;members:nobody&#x27;" in page  # said, and the weights kept
    assert "Weighted on sex, age_band, party to voters" in page


def test_a_bad_file_says_which_row_and_column(pages: dict[str, Any], tmp_path: Path) -> None:
    c, fed = pages["client"], pages["tree"]["state_federation"]
    bad = tmp_path / "bad.csv"
    bad.write_text("resp_id,age,q1\n1,forty,yes\n2,,no\n")
    r = _upload(c, fed, bad)
    assert r.status_code == 302  # one good row: imported, the bad one kept aside
    poll = Poll.objects.get()
    page = c.get(f"/analytics/polls/{poll.pk}/").content.decode()
    assert "<td class=\"num\">2</td><td>age</td>" in page and "&#x27;forty&#x27; is not an age in years" in page
    worse = tmp_path / "worse.csv"
    worse.write_text("resp_id,age,q1\n1,forty,yes\n")
    r = _upload(c, fed, worse)
    assert r.status_code == 400
    text = r.content.decode()
    assert "worse.csv: no respondent could be read (1 rows): row 2: column &#x27;age&#x27;" in text
    assert Poll.objects.count() == 1  # the refused file left nothing


def test_the_pages_are_for_analysts_and_their_committees(pages: dict[str, Any]) -> None:
    tree = pages["tree"]
    assert _upload(pages["client"], tree["state_federation"], pages["path"]).status_code == 302
    poll = Poll.objects.get()
    organizer = client_of(user_with("organizer", tree["state_federation"], "fed-organizer"))
    assert organizer.get("/analytics/polls/").status_code == 403
    assert organizer.get(f"/analytics/polls/{poll.pk}/").status_code == 403
    other = client_of(user_with("analyst", tree["affiliate"], "affiliate-analyst"))
    assert other.get("/analytics/polls/").status_code == 200
    assert "Contract poll" not in other.get("/analytics/polls/").content.decode()
    for url in (f"/analytics/polls/{poll.pk}/", f"/analytics/polls/{poll.pk + 99}/"):
        assert other.get(url).status_code == 404
    assert other.post(f"/analytics/polls/{poll.pk}/weight/", {"by": ["sex"]}).status_code == 404
    # and uploading for a committee one does no analytics for is refused
    r = _upload(other, tree["state_federation"], pages["path"], name="Not mine")
    assert r.status_code == 400 and "Choose one of the committees you do analytics for" in r.content.decode()
    assert Client().get("/analytics/polls/").status_code == 302  # log in first
