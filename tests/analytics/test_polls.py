"""Poll import: every row a respondent or a quarantined row with its column and a reason
a person can act on (rows read = respondents + rejected); files that cannot be used
refused in one line naming the file, row and column; a failed import leaves nothing."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from tests.access.factories import committee_tree, user_with
from unionhall.analytics.models import Poll
from unionhall.analytics.polls import (
    QUARANTINE_CODES,
    poll_frame,
    poll_get,
    poll_import,
    poll_quarantine_page,
)
from unionhall.errors import UserError
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db

HEADER = ["Respondent ID", "County", "Gender", "Age", "Party", "Union member", "Q1 Support contract", "Q2 Strike"]


def csv_file(tmp_path: Path, rows: list[list[str]], header: list[str] = HEADER, name: str = "poll.csv") -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path = tmp_path / name
    path.write_text(buf.getvalue())
    return path


GOOD = [
    ["R1", "Wake", "Female", "34", "Democrat", "yes", "Support", "Yes"],
    ["R2", "DURHAM", "M", "67", "REP", "no", "Oppose", "No"],
    ["R3", "Orange County", "f", "22", "Unaffiliated", "Y", "Support", ""],
    ["R4", "wake", "Male", "45", "UNA", "N", "Not sure", "Yes"],
]
# row number in the file (header is row 1) -> (code, column)
BAD = {
    7: (["", "Wake", "F", "40", "DEM", "yes", "Support", "Yes"], "no_respondent", "Respondent ID"),
    8: (["R2", "Wake", "F", "40", "DEM", "yes", "Support", "Yes"], "duplicate_respondent", "Respondent ID"),
    9: (["R7", "Wake", "F", "forty", "DEM", "yes", "Support", "Yes"], "bad_age", "Age"),
    10: (["R8", "Atlantis", "F", "40", "DEM", "yes", "Support", "Yes"], "bad_category", "County"),
    11: (["R9", "Wake", "Q", "40", "DEM", "yes", "Support", "Yes"], "bad_category", "Gender"),
    12: (["R10", "Wake", "F", "40", "Whig", "yes", "Support", "Yes"], "bad_category", "Party"),
    13: (["R11", "Wake", "F", "12", "DEM", "maybe", "Support", "Yes"], "bad_age", "Age"),
}


@pytest.fixture
def world(warehouse: Warehouse) -> dict[str, Any]:
    tree = committee_tree()
    return {"tree": tree, "wh": warehouse, "analyst": user_with("analyst", tree["state_federation"], "fed-analyst"),
            "clc_analyst": user_with("analyst", tree["clc"], "clc-analyst")}


def _import(world: dict[str, Any], path: Path, **kw: Any) -> Any:
    return poll_import(user=world["analyst"], committee=world["tree"]["clc"], path=path, name="Contract poll",
                       warehouse=world["wh"], **kw)


def test_every_bad_row_is_quarantined_with_its_column_and_a_reason(world: dict[str, Any], tmp_path: Path) -> None:
    rows = [*GOOD, ["", "", "", "", "", "", "", ""], *(r for r, _, _ in BAD.values()), HEADER,
            ["R12", "Wake", "F", "50"]]
    out = _import(world, csv_file(tmp_path, rows))
    assert out.rows_read == len(rows) and out.respondents == len(GOOD)
    assert out.respondents + out.rejected == out.rows_read  # nothing lost
    page = poll_quarantine_page(user=world["analyst"], poll=out.poll, warehouse=world["wh"])
    got = {r["row_number"]: r for r in page.rows}
    assert page.total == out.rejected == len(rows) - len(GOOD)
    for number, (_, code, column) in BAD.items():
        assert (got[number]["code"], got[number]["column_name"]) == (code, column), got[number]
        assert got[number]["meaning"] == QUARANTINE_CODES[code]
    assert got[6]["code"] == "blank" and got[14]["code"] == "repeated_header" and got[15]["code"] == "ragged"
    assert "respondent 'R2' is on row 3 already" in got[8]["reason"]
    assert "'forty' is not an age in years (18 to 120)" in got[9]["reason"]
    assert "'Atlantis' is not a North Carolina county name" in got[10]["reason"]
    assert "'Whig' is not a party code or name" in got[12]["reason"]
    # Two problems on one row: the first is the code, the others follow in the reason.
    assert "'12' is not an age" in got[13]["reason"] and "also: column 'Union member': 'maybe' is not yes or no" in \
        got[13]["reason"]
    assert page.raw_shown and got[10]["raw"] == "R8,Atlantis,F,40,DEM,yes,Support,Yes"


def test_respondents_are_stored_in_the_voter_file_categories(world: dict[str, Any], tmp_path: Path) -> None:
    poll = _import(world, csv_file(tmp_path, GOOD)).poll
    frame = poll_frame(poll=poll, warehouse=world["wh"])
    assert frame.get_column("respondent").to_list() == ["R1", "R2", "R3", "R4"]
    assert frame.get_column("county").to_list() == ["WAKE", "DURHAM", "ORANGE", "WAKE"]
    assert frame.get_column("sex").to_list() == ["F", "M", "F", "M"]
    assert frame.get_column("age_band").to_list() == ["30-44", "65+", "18-29", "45-64"]
    assert frame.get_column("party").to_list() == ["DEM", "REP", "UNA", "UNA"]
    assert frame.get_column("member").to_list() == ["yes", "no", "yes", "no"]
    assert frame.get_column("Q2 Strike").to_list() == ["Yes", "No", None, "Yes"]
    assert frame.get_column("base_weight").to_list() == [1.0] * 4
    d = Poll.objects.get(pk=poll.pk).detail
    assert d["variables"]["county"] == {"WAKE": 2, "DURHAM": 1, "ORANGE": 1}
    assert [q["name"] for q in d["questions"]] == ["Q1 Support contract", "Q2 Strike"]
    assert d["questions"][0]["answers"] == {"Support": 2, "Not sure": 1, "Oppose": 1}
    assert d["questions"][1]["blank"] == 1
    assert d["columns"]["sex"] == "Gender" and d["columns"]["respondent"] == "Respondent ID"


def test_an_xlsx_file_with_a_base_weight_and_strata(world: dict[str, Any], tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "poll.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Data")
    rows = [["caseid", "sex", "age group", "stratum", "weight", "q1"], ["1", "F", "18 to 29", "A", 1.5, "yes"],
            ["2", "M", "65+", "B", 0.5, "no"], ["3", "F", "45-64", "B", "heavy", "no"], ["4", "M", "30-44", "A", 2, ""]]
    for i, row in enumerate(rows):
        sheet.write_row(i, 0, row)
    book.close()
    out = _import(world, path)
    assert (out.respondents, out.rejected) == (3, 1)
    frame = poll_frame(poll=out.poll, warehouse=world["wh"])
    assert frame.get_column("base_weight").to_list() == [1.5, 0.5, 2.0]
    assert frame.get_column("stratum").to_list() == ["A", "B", "A"]
    assert frame.get_column("age_band").to_list() == ["18-29", "65+", "30-44"]
    [q] = poll_quarantine_page(user=world["analyst"], poll=out.poll, warehouse=world["wh"]).rows
    assert (q["row_number"], q["code"], q["column_name"]) == (4, "bad_weight", "weight")
    assert "'heavy' is not a positive number" in q["reason"]


def test_files_that_cannot_be_used_are_refused_and_leave_nothing(world: dict[str, Any], tmp_path: Path) -> None:
    wh = world["wh"]
    with pytest.raises(UserError, match=r"nopid\.csv: no respondent id column .* add one"):
        _import(world, csv_file(tmp_path, [["Wake", "yes"]], header=["County", "Q1"], name="nopid.csv"))
    with pytest.raises(UserError, match=r"two\.csv: 'Sex' and 'Gender' are both the sex: keep one"):
        _import(world, csv_file(tmp_path, [["1", "F", "F", "yes"]], header=["id", "Sex", "Gender", "Q1"],
                                name="two.csv"))
    with pytest.raises(UserError, match=r"noq\.csv: no question columns"):
        _import(world, csv_file(tmp_path, [["1", "F"]], header=["id", "Sex"], name="noq.csv"))
    with pytest.raises(UserError, match=r"allbad\.csv: no respondent could be read \(2 rows\): row 2: column 'Age': "
                                        r"'old' is not an age"):
        _import(world, csv_file(tmp_path, [["1", "Wake", "F", "old", "DEM", "y", "x", "y"], ["", "", "", "", "", "",
                                                                                             "x", ""]],
                                name="allbad.csv"))
    with pytest.raises(UserError, match="does no analytics for Nurses United"):
        poll_import(user=world["clc_analyst"], committee=world["tree"]["affiliate"], path=csv_file(tmp_path, GOOD),
                    name="x", warehouse=wh)
    assert Poll.objects.count() == 0
    for table in ("poll_response", "poll_weight", "poll_quarantine"):
        assert wh.cursor().execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)


def test_a_failure_while_writing_leaves_the_previous_state(world: dict[str, Any], tmp_path: Path) -> None:
    wh = world["wh"]
    first = _import(world, csv_file(tmp_path, GOOD))
    before = wh.cursor().execute("SELECT count(*) FROM poll_response").fetchone()
    # The quarantine is written after the responses: take its table away so that write fails.
    wh.cursor().execute("ALTER TABLE poll_quarantine RENAME TO poll_quarantine_away")
    try:
        with pytest.raises(Exception, match="poll_quarantine"):
            _import(world, csv_file(tmp_path, [*GOOD[:1], ["R9", "Atlantis", "F", "40", "DEM", "y", "x", "y"]],
                                    name="second.csv"))
    finally:
        wh.cursor().execute("ALTER TABLE poll_quarantine_away RENAME TO poll_quarantine")
    assert list(Poll.objects.values_list("pk", flat=True)) == [first.poll.pk]
    assert wh.cursor().execute("SELECT count(*) FROM poll_response").fetchone() == before
    assert wh.cursor().execute("SELECT count(*) FROM poll_weight").fetchone() == (len(GOOD),)


def test_only_the_uploader_sees_raw_rows_and_other_committees_see_nothing(world: dict[str, Any],
                                                                          tmp_path: Path) -> None:
    rows = [*GOOD, ["R9", "Atlantis", "F", "40", "DEM", "y", "x", "y"]]
    poll = _import(world, csv_file(tmp_path, rows)).poll
    clc = world["clc_analyst"]
    assert poll_get(user=clc, poll_id=poll.pk) == poll  # the CLC's own poll
    page = poll_quarantine_page(user=clc, poll=poll, warehouse=world["wh"])
    assert not page.raw_shown and page.rows[0]["raw"] is None and page.rows[0]["code"] == "bad_category"
    nurse = user_with("analyst", world["tree"]["affiliate"], "nurse-analyst")
    with pytest.raises(Poll.DoesNotExist):
        poll_get(user=nurse, poll_id=poll.pk)
    with pytest.raises(UserError):
        poll_quarantine_page(user=nurse, poll=poll, warehouse=world["wh"])
