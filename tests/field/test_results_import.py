"""Vendor result files (issue 11): bad input first. Every row ends posted or
quarantined with a reason naming its column; read = posted + quarantined; nothing is
posted twice; a failed import leaves nothing; another affiliate's person is refused
exactly like an unknown id; the pages and the command line."""

from __future__ import annotations

import csv
import datetime as dt
import html as html_text
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from tests.access.factories import login_verified, user_with
from tests.field.results_factory import (
    IN_SCOPE,
    clear_contact_tables,
    csv_text,
    field_world,
    history_count,
    quarantine_of,
    run_import,
    upload,
)
from unionhall.field import store
from unionhall.field.models import ContactUpload
from unionhall.field.results_import import (
    ANSWER,
    QUARANTINE_CODES,
    attempt_time_parse,
    result_key,
    result_mapping_problems,
    result_mapping_suggest,
    vocabulary_for,
)
from unionhall.ingest.mapping import ColumnMapping, ColumnRule
from unionhall.jobs.models import Job
from unionhall.jobs.runner import job_run
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db

HEADER = ["person_id", "NCID", "Result", "Call Date", "support", "Activist Codes", "Notes"]


def _day(days_ago: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=days_ago)).isoformat()


def bad_vendor_file() -> tuple[str, dict[int, str]]:
    """A vendor file with every kind of trouble, and the code each line must end with
    ("posted" for the good ones). Line 1 is the header."""
    d1, d2, d3 = _day(30), _day(29), _day(28)
    lines: list[tuple[list[str], str]] = [
        (["1", "", "CV", f"{d1} 10:00", "Y", "Volunteer", "great talk"], "posted"),
        (["2", "", "No Answer", d1, "", "", ""], "posted"),  # a label
        (["6", "", "left message", d2, "", "", ""], "posted"),  # the vendor's own words
        (["999", "", "NH", d1, "", "", ""], "unknown_person"),  # nobody
        (["3", "", "NH", d1, "", "", ""], "unknown_person"),  # a teacher: another affiliate
        (["1", "", "Maybe", d1, "", "", ""], "bad_result"),
        (["2", "", "NH", "2999-01-01", "", "", ""], "future_date"),
        (["2", "", "NH", "not a date", "", "", ""], "bad_date"),
        (["1", "", "CV", d3, "Maybe", "", ""], "bad_answer"),
        (["2", "", "NH", d3, "Y", "", ""], "answers_without_contact"),
        (["6", "", "CV", d3, "", "Dancer", ""], "unknown_activist_code"),
        (["1", "", "CV", f"{d1} 10:00", "Y", "Volunteer", "great talk"], "duplicate"),  # = line 2
        (["", "", "", "", "", "", ""], "blank"),
        (HEADER, "repeated_header"),
        (["", "AA100", "talked", d3, "N", "", ""], "posted"),  # by NCID: person 1
        (["", "AA300", "NH", d3, "", "", ""], "unknown_person"),  # the NCID of a teacher
        (["", "", "NH", d3, "", "", ""], "no_person"),
        (["abc", "", "NH", d3, "", "", ""], "bad_person_id"),
        (["2", "", "", d3, "", "", ""], "no_result"),
        (["2", "", "NH", "", "", "", ""], "no_date"),
        (["6", "", "wrong number", d3, "", "", ""], "posted"),
        (["Total: 22", "", "", "", "", "", ""], "totals_row"),
    ]
    text = csv_text(HEADER, [cells for cells, _ in lines])
    return text, {i + 2: want for i, (_, want) in enumerate(lines)}


@pytest.fixture
def world(warehouse: Warehouse) -> dict[str, Any]:
    return field_world(warehouse)


# -- bad input ---------------------------------------------------------------------------


def test_a_bad_vendor_file_reconciles_with_the_right_reason_for_every_row(
        warehouse: Warehouse, world: dict[str, Any]) -> None:
    text, want = bad_vendor_file()
    up = upload(user=world["organizer"], committee=world["committee"], data=text.encode())
    job = run_import(warehouse, up, user=world["organizer"])
    assert job.status == "succeeded", job.error
    up.refresh_from_db()
    posted = [n for n, w in want.items() if w == "posted"]
    assert (up.rows_read, up.rows_posted, up.rows_quarantined, up.rows_already_posted) == (
        len(want), len(posted), len(want) - len(posted), 0)
    assert up.reconciles and job.result["reconciles"]

    q = quarantine_of(warehouse, up.pk)
    assert {n: code for n, (code, _, _) in q.items()} == {n: w for n, w in want.items() if w != "posted"}
    assert set(QUARANTINE_CODES) >= {code for code, _, _ in q.values()}
    # each reason names its column (where the trouble is in one) and says what to do
    assert q[7] == ("bad_result", "Result", q[7][2]) and "'Maybe' in column 'Result' is not a result code" in q[7][2]
    assert q[8][1] == "Call Date" and "in the future" in q[8][2]
    assert q[9][1] == "Call Date" and "is not a date" in q[9][2]
    assert q[10][1] == "support" and "not a response of question support (its responses: Y Yes, N No" in q[10][2]
    assert q[11][1] == "support" and "NH (Not Home) is not a conversation" in q[11][2]
    assert q[12][1] == "Activist Codes" and "'Dancer'" in q[12][2] and "Petition signer, Volunteer" in q[12][2]
    assert "same attempt as row 2" in q[13][2]
    assert q[18][1] == "person_id" and "names no person: 'person_id' and 'NCID' are empty" in q[18][2]
    assert "column 'person_id' holds neither an export key" in q[19][2] and "a whole number" in q[19][2]
    assert "abc" not in q[19][2]  # not quoted: reasons show to the whole committee
    assert q[17][2] == "no such person in your scope: NCID 'AA300' in column 'NCID'"

    cur = warehouse.cursor()
    rows = cur.execute("SELECT row_number, person_id, result_code, contacted, channel, source, canvasser, "
                       "activist_codes, note, upload_id, committee_id FROM contact_history ORDER BY row_number"
                       ).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [(2, 1, "CV"), (3, 2, "NA"), (4, 6, "LM"), (16, 1, "CV"),
                                                  (22, 6, "WN")]
    first = rows[0]
    assert first[3:] == (True, "phone", "vendor", "Acme Dialers", ["Volunteer"], "great talk", up.pk,
                         world["committee"].pk)
    assert {r[1] for r in rows} <= set(IN_SCOPE)
    answers = cur.execute("SELECT person_id, question_code, response_code FROM contact_response ORDER BY 3"
                          ).fetchall()
    assert answers == [(1, "support", "N"), (1, "support", "Y")]


def test_an_unknown_id_and_another_affiliates_person_are_refused_alike(
        warehouse: Warehouse, world: dict[str, Any]) -> None:
    """Nothing in the quarantine tells a probing vendor (or user) that person 3 exists."""
    d = _day(3)
    text = csv_text(["person_id", "Result", "Date"], [["999", "NH", d], ["3", "NH", d], ["4", "NH", d],
                                                      ["7", "NH", d], ["1", "NH", d]])
    up = upload(user=world["organizer"], committee=world["committee"], data=text.encode())
    assert run_import(warehouse, up, user=world["organizer"]).status == "succeeded"
    q = quarantine_of(warehouse, up.pk)
    reasons = {n: q[n][2] for n in (2, 3, 4, 5)}
    assert reasons[2] == "no such person in your scope: person id 999 in column 'person_id'"
    for n, pid in ((3, "3"), (4, "4"), (5, "7")):
        assert q[n][0] == "unknown_person"
        assert reasons[n].replace(f"person id {pid} ", "person id 999 ") == reasons[2]
    assert history_count(warehouse) == 1


def test_the_uploaders_scope_applies_too(warehouse: Warehouse, world: dict[str, Any]) -> None:
    """A local's organizer (who sees the members of Nurses Local 1 only) uploading for the
    local posts nothing for a Nurses United member of another local."""
    local = world["tree"]["local"]
    lead = user_with("organizer", local, "local-organizer")
    d = _day(2)
    text = csv_text(["person_id", "Result", "Date"], [["1", "NH", d], ["2", "NH", d], ["6", "NH", d]])
    up = upload(user=lead, committee=local, data=text.encode())
    assert run_import(warehouse, up, user=lead).status == "succeeded"
    q = quarantine_of(warehouse, up.pk)
    assert {n: c for n, (c, _, _) in q.items()} == {3: "unknown_person"}  # person 2 is in local 2
    ids = [r[0] for r in warehouse.cursor().execute("SELECT person_id FROM contact_history ORDER BY 1").fetchall()]
    assert ids == [1, 6]


def test_a_user_of_another_committee_cannot_import_for_this_one(warehouse: Warehouse, world: dict[str, Any]) -> None:
    teacher = user_with("organizer", world["tree"]["other_affiliate"], "teacher-organizer")
    up = upload(user=world["organizer"], committee=world["committee"],
                data=csv_text(["person_id", "Result", "Date"], [["1", "NH", _day(1)]]).encode())
    job = run_import(warehouse, up, user=teacher)
    assert job.status == "failed" and "does not organize for Nurses United" in job.error
    assert history_count(warehouse) == 0


def test_a_mapping_without_the_required_columns_fails_the_job_with_nothing_posted(
        warehouse: Warehouse, world: dict[str, Any]) -> None:
    up = upload(user=world["organizer"], committee=world["committee"],
                data=csv_text(["person_id", "Whatever"], [["1", "x"]]).encode())
    job = run_import(warehouse, up, user=world["organizer"])
    assert job.status == "failed"
    assert "no column is mapped to the result code" in job.error and "the date of the attempt" in job.error
    up.refresh_from_db()
    assert up.rows_read == 0 and history_count(warehouse) == 0 and not quarantine_of(warehouse, up.pk)


# -- idempotency -------------------------------------------------------------------------


def test_uploading_the_same_file_again_posts_nothing_twice(warehouse: Warehouse, world: dict[str, Any]) -> None:
    text, want = bad_vendor_file()
    first = upload(user=world["organizer"], committee=world["committee"], data=text.encode())
    assert run_import(warehouse, first, user=world["organizer"]).status == "succeeded"
    before = history_count(warehouse)
    responses = warehouse.cursor().execute("SELECT count(*) FROM contact_response").fetchone()
    assert before == 5

    again = upload(user=world["organizer"], committee=world["committee"], data=text.encode())
    assert run_import(warehouse, again, user=world["organizer"]).status == "succeeded"
    again.refresh_from_db()
    assert history_count(warehouse) == before
    assert warehouse.cursor().execute("SELECT count(*) FROM contact_response").fetchone() == responses
    assert (again.rows_posted, again.rows_already_posted) == (0, 5)
    assert again.rows_quarantined == len(want) and again.reconciles
    q = quarantine_of(warehouse, again.pk)
    assert {n for n, (c, _, _) in q.items() if c == "already_posted"} == {n for n, w in want.items() if w == "posted"}
    assert "posted already by an earlier upload" in q[2][2]


def test_a_later_file_repeating_rows_posts_only_the_new_ones(warehouse: Warehouse, world: dict[str, Any]) -> None:
    d1, d2 = _day(10), _day(9)
    header = ["Person ID", "Disposition", "Call Date", "Call Time", "support"]
    week1 = [["1", "CV", d1, "10:00", "Y"], ["2", "no answer", d1, "10:05", ""]]
    week2 = [["2", "No Answer", d1, "10:05 AM", ""],  # the same attempt, written differently
             ["1", "cv", d1, "10:00", "y"],  # the same again, lower case
             ["1", "CV", d1, "10:30", "N"],  # a second call that day
             ["6", "NH", d2, "09:00", ""]]
    up1 = upload(user=world["organizer"], committee=world["committee"], data=csv_text(header, week1).encode())
    assert run_import(warehouse, up1, user=world["organizer"]).status == "succeeded"
    up2 = upload(user=world["organizer"], committee=world["committee"], data=csv_text(header, week2).encode(),
                 vendor="  acme   DIALERS ")  # the vendor's name as someone else types it
    assert run_import(warehouse, up2, user=world["organizer"]).status == "succeeded"
    up2.refresh_from_db()
    assert (up2.rows_read, up2.rows_posted, up2.rows_already_posted) == (4, 2, 2)
    assert history_count(warehouse) == 4
    keys = [r[0] for r in warehouse.cursor().execute("SELECT result_key FROM contact_history").fetchall()]
    assert len(set(keys)) == 4


def test_the_result_key_is_the_content() -> None:
    at = dt.datetime(2026, 3, 4, 15, 0, tzinfo=dt.UTC)
    k = result_key(committee_id=1, vendor="Acme", person_id=5, at=at, code="CV", answers={"a": "1", "b": "2"})
    assert k == result_key(committee_id=1, vendor=" acme ", person_id=5, at=at.astimezone(dt.timezone(
        dt.timedelta(hours=-5))), code="CV", answers={"b": "2", "a": "1"})
    for other in ({"committee_id": 2}, {"vendor": "Other"}, {"person_id": 6}, {"code": "NH"},
                  {"answers": {"a": "1"}}, {"at": at + dt.timedelta(minutes=1)}):
        args: dict[str, Any] = {"committee_id": 1, "vendor": "Acme", "person_id": 5, "at": at, "code": "CV",
                                "answers": {"a": "1", "b": "2"}, **other}
        assert result_key(**args) != k


# -- all or nothing ----------------------------------------------------------------------


def test_a_failure_midway_leaves_nothing_posted_and_nothing_quarantined(
        warehouse: Warehouse, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    text, _ = bad_vendor_file()
    up = upload(user=world["organizer"], committee=world["committee"], data=text.encode())
    real = store.contact_rows_post

    def post_then_crash(wh: Warehouse, **kw: Any) -> int:
        n = real(wh, **kw)  # the rows are in the table (in the transaction) when it breaks
        assert history_count(wh) == n > 0
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "contact_rows_post", post_then_crash)
    job = run_import(warehouse, up, user=world["organizer"])
    assert job.status == "failed" and "disk full" in job.error and "nothing was changed" in job.error
    assert history_count(warehouse) == 0
    cur = warehouse.cursor()
    assert cur.execute("SELECT count(*) FROM contact_response").fetchone() == (0,)
    assert cur.execute("SELECT count(*) FROM contact_quarantine").fetchone() == (0,)
    up.refresh_from_db()
    assert (up.rows_read, up.rows_posted, up.rows_quarantined, up.mapping_json) == (0, 0, 0, "")

    monkeypatch.setattr(store, "contact_rows_post", real)  # the same upload, run again, works
    assert run_import(warehouse, up, user=world["organizer"]).status == "succeeded"
    assert history_count(warehouse) == 5


def test_a_crash_while_quarantining_rolls_back_the_posted_attempts(
        warehouse: Warehouse, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import unionhall.field.results_import as ri

    def boom(*_a: Any, **_k: Any) -> None:
        raise OSError("killed")

    monkeypatch.setattr(ri, "_quarantine_write", boom)
    text, _ = bad_vendor_file()
    up = upload(user=world["organizer"], committee=world["committee"], data=text.encode())
    assert run_import(warehouse, up, user=world["organizer"]).status == "failed"
    assert history_count(warehouse) == 0


# -- formats and mapping -----------------------------------------------------------------


def test_long_files_one_answer_per_row_are_merged_into_attempts(warehouse: Warehouse, world: dict[str, Any]) -> None:
    d = _day(5)
    header = ["PersonID", "Result", "Date", "Survey Question", "Survey Response", "Tags"]
    rows = [
        ["1", "Canvassed", f"{d} 18:30", "support", "Yes", ""],  # a response label
        ["1", "Canvassed", f"{d} 18:30", "vote-plan", "1", "Volunteer; petition signer"],
        ["1", "Canvassed", f"{d} 18:30", "support", "N", ""],  # contradicts line 2
        ["1", "Canvassed", f"{d} 18:30", "vote-plan", "1", ""],  # nothing new
        ["2", "CV", d, "favorite-color", "blue", ""],  # no such question
        ["2", "CV", d, "", "Y", ""],  # a response to no question
        ["6", "CV", d, "", "", ""],  # no answers at all: fine
    ]
    up = upload(user=world["organizer"], committee=world["committee"], data=csv_text(header, rows).encode())
    job = run_import(warehouse, up, user=world["organizer"])
    assert job.status == "succeeded", job.error
    q = quarantine_of(warehouse, up.pk)
    assert {n: c for n, (c, _, _) in q.items()} == {4: "conflicting_answer", 5: "duplicate", 6: "unknown_question",
                                                    7: "bad_answer"}
    assert "'favorite-color' in column 'Survey Question' is not a survey question of Nurses United" in q[6][2]
    assert "row 2 gave 'Y'" in q[4][2]
    cur = warehouse.cursor()
    assert cur.execute("SELECT person_id, row_number, activist_codes FROM contact_history ORDER BY 1").fetchall() == [
        (1, 2, ["Volunteer", "Petition signer"]), (6, 8, [])]
    assert cur.execute("SELECT question_code, response_code FROM contact_response ORDER BY 1").fetchall() == [
        ("support", "Y"), ("vote-plan", "1")]
    up.refresh_from_db()
    assert (up.rows_read, up.rows_posted, up.rows_quarantined) == (7, 3, 4)  # lines 2, 3 and 8


def test_tsv_in_windows_1252_and_a_workbook(warehouse: Warehouse, world: dict[str, Any]) -> None:
    import xlsxwriter

    d = _day(4)
    tsv = f"person_id\tresult\tdate\tnote\r\n1\tRefused\t{d}\tse fue al café\r\n".encode("cp1252")
    up = upload(user=world["organizer"], committee=world["committee"], data=tsv, name="r.txt")
    assert run_import(warehouse, up, user=world["organizer"]).status == "succeeded"
    note = warehouse.cursor().execute("SELECT note, result_code FROM contact_history").fetchone()
    assert note == ("se fue al café", "RF")

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("Results")
    ws.write_row(0, 0, ["Person Id", "Call Result", "Call Date"])
    ws.write_row(1, 0, [2, "Disconnected"])
    ws.write_datetime(1, 2, dt.datetime.combine(timezone.localdate() - dt.timedelta(days=4), dt.time(13, 15)),
                      wb.add_format({"num_format": "yyyy-mm-dd hh:mm"}))
    ws.write_row(2, 0, [6, "Moved", d])
    wb.close()
    up2 = upload(user=world["organizer"], committee=world["committee"], data=buf.getvalue(), name="r.xlsx")
    job = run_import(warehouse, up2, user=world["organizer"])
    assert job.status == "succeeded", job.error
    # the vendor's saved columns (from the TSV) lack the result and date here: suggested anew
    assert job.result["mapping"] == "suggested" and "do not fit this file" in job.log
    got = warehouse.cursor().execute(
        "SELECT person_id, result_code, strftime(contacted_at, '%H:%M') FROM contact_history WHERE upload_id = ? "
        "ORDER BY 1", [up2.pk]).fetchall()
    assert got == [(2, "DS", "13:15"), (6, "MV", "00:00")]


def test_the_mapping_is_suggested_from_headers_and_the_committees_question_codes(world: dict[str, Any]) -> None:
    header = ["Person ID", "Disposition", "Call Date", "Call Time", "support", "VOTE-PLAN", "Caller", "Comments",
              "Field9"]
    sample = [["1", "NH", "03/04/2026", "10:00", "", "", "agent7", "", "x"]] * 5
    m = result_mapping_suggest(header=header, sample_rows=sample, committee=world["committee"])
    fields = {c: (r.field, r.custom_name) for c, r in m.columns.items()}
    assert fields == {
        "Person ID": ("person_id", None), "Disposition": ("result", None), "Call Date": ("contacted_at", None),
        "Call Time": ("contact_time", None), "support": (ANSWER, "support"), "VOTE-PLAN": (ANSWER, "vote-plan"),
        "Caller": ("canvasser", None), "Comments": ("note", None), "Field9": ("custom", None)}
    assert not result_mapping_problems(m, vocabulary_for(world["committee"]))
    assert ColumnMapping.from_json(m.to_json()) == m  # saved and read back as it was

    bad = ColumnMapping(columns={"a": ColumnRule("person_id"), "b": ColumnRule("result"),
                                 "c": ColumnRule("contacted_at"), "d": ColumnRule(ANSWER, custom_name="nope"),
                                 "e": ColumnRule(ANSWER)}, schema="results")
    problems = result_mapping_problems(bad, vocabulary_for(world["committee"]))
    assert any("'d' answers question 'nope', which is not a survey question" in p for p in problems)
    assert any("'e' holds answers but no question is chosen" in p for p in problems)


def test_the_saved_mapping_is_reused_for_the_vendors_next_file(warehouse: Warehouse, world: dict[str, Any]) -> None:
    """A header the suggestion cannot read ("Col A"...), mapped once by a person."""
    d = _day(6)
    header = ["Col A", "Col B", "Col C", "Col D"]
    m = ColumnMapping(columns={"Col A": ColumnRule("person_id"), "Col B": ColumnRule("result"),
                               "Col C": ColumnRule("contacted_at"), "Col D": ColumnRule(ANSWER, custom_name="support")},
                      schema="results", date_order="DMY")
    first = upload(user=world["organizer"], committee=world["committee"],
                   data=csv_text(header, [["1", "CV", "25/11/2026", "Y"]]).encode())
    assert run_import(warehouse, first, user=world["organizer"], mapping_json=m.to_json()).status == "succeeded"
    nxt = upload(user=world["organizer"], committee=world["committee"],
                 data=csv_text([*header, "Col E"], [["2", "CV", "26/11/2026", "N", "?"]]).encode())
    job = run_import(warehouse, nxt, user=world["organizer"])
    assert job.status == "succeeded", job.error
    assert job.result["mapping"] == "saved" and nxt.__class__.objects.get(pk=nxt.pk).rows_posted == 1
    assert "new column 'Col E' ignored" in job.log
    other_vendor = upload(user=world["organizer"], committee=world["committee"], vendor="Other Co",
                          data=csv_text(header, [["6", "CV", d, "Y"]]).encode())
    assert run_import(warehouse, other_vendor, user=world["organizer"]).status == "failed"  # nothing saved for it


def test_attempt_times_in_common_shapes() -> None:
    def at(v: str, **kw: Any) -> tuple[str | None, bool, str | None]:
        when, date_only, wrong = attempt_time_parse(v, **kw)
        return (when.strftime("%Y-%m-%d %H:%M:%S") if when else None), date_only, wrong

    assert at("2026-03-04") == ("2026-03-04 00:00:00", True, None)
    assert at("03/04/2026") == ("2026-03-04 00:00:00", True, None)
    assert at("03/04/2026", order="DMY") == ("2026-04-03 00:00:00", True, None)
    assert at("04-Mar-2026") == ("2026-03-04 00:00:00", True, None)
    assert at("March 4, 2026 2:05 PM") == ("2026-03-04 14:05:00", False, None)
    assert at("3/4/26 12:30 am") == ("2026-03-04 00:30:00", False, None)
    assert at("2026-03-04T14:05:33-05:00") == ("2026-03-04 19:05:33", False, None)
    assert at("2026-03-04T14:05:00Z") == ("2026-03-04 14:05:00", False, None)
    assert at("46085.75") == ("2026-03-04 18:00:00", False, None)  # an Excel serial with its time
    assert at("2026-03-04", time_value="9:15 PM") == ("2026-03-04 21:15:00", False, None)
    assert at("2026-03-04 10:00", time_value="11:00")[2] == "both cells give a time"
    assert at("2026-03-04 25:00")[2] == "unparsed time"
    assert at("2026-02-30")[2] == "unparsed"
    assert at("last tuesday")[2] == "unparsed"


def test_result_words_map_to_the_shared_codes(world: dict[str, Any]) -> None:
    vocab = vocabulary_for(world["committee"])

    def code(word: str) -> str | None:
        hit = vocab.results.get(" ".join(word.casefold().replace("-", " ").split()))
        return hit[0] if hit else None

    for word, want in [("no answer", "NA"), ("Left Message", "LM"), ("WRONG NUMBER", "WN"), ("disconnected", "DS"),
                       ("refused", "RF"), ("deceased", "DC"), ("moved", "MV"), ("talked", "CV"), ("contact", "CV"),
                       ("Not Home", "NH"), ("nh", "NH"), ("Come Back / Call Back", None), ("hostile", "HO"),
                       ("Canvassed", "CV"), ("Language Barrier", "LB")]:
        if want is not None:
            assert code(word) == want, word


# -- the pages ---------------------------------------------------------------------------


@pytest.fixture
def pw(process_warehouse: Warehouse) -> Any:
    clear_contact_tables(process_warehouse)
    yield process_warehouse
    clear_contact_tables(process_warehouse)


def test_the_page_flow_upload_map_import_detail_quarantine_and_csv(client: Client, pw: Warehouse) -> None:
    w = field_world(pw)
    login_verified(client, w["organizer"])
    page = client.get("/field/results/")
    assert page.status_code == 200 and b"Nurses United" in page.content

    text, want = bad_vendor_file()
    text += '1,,CV,' + _day(1) + ',,,"=HYPERLINK(""http://x"")"\r\n'  # posted; a note that looks like a formula
    text += '=cmd|\' /C calc\'!A0,,NH,' + _day(1) + ',,,\r\n'  # quarantined; raw starts with a formula
    refused = client.post("/field/results/", {"committee": w["tree"]["other_affiliate"].pk, "vendor": "Acme",
                                              "channel": "phone", "file": SimpleUploadedFile("r.csv", b"x")})
    assert refused.status_code == 400 and not ContactUpload.objects.exists()
    resp = client.post("/field/results/", {"committee": w["committee"].pk, "vendor": "Acme Dialers",
                                           "channel": "phone", "file": SimpleUploadedFile("acme.csv", text.encode())})
    assert resp.status_code == 302
    up = ContactUpload.objects.get()
    assert resp["Location"] == f"/field/results/{up.pk}/map/"
    mapping_page = client.get(resp["Location"])
    html = mapping_page.content.decode()
    assert mapping_page.status_code == 200 and "Suggested from the column names" in html
    assert re.search(r'value="answer:support"[^>]*selected', html) and re.search(r'value="result"[^>]*selected', html)

    fields = {"field_0": "person_id", "field_1": "ncid", "field_2": "result", "field_3": "contacted_at",
              "field_4": "answer:support", "field_5": "activist_codes", "field_6": "note", "date_order": "MDY"}
    bad = client.post(resp["Location"], {**fields, "field_2": "custom"})
    assert bad.status_code == 400 and b"no column is mapped to the result code" in bad.content
    done = client.post(resp["Location"], fields)
    assert done.status_code == 302 and done["Location"] == f"/field/results/{up.pk}/"
    job = Job.objects.get(kind="field.import_results")
    assert job_run(job=job, warehouse=pw).status == "succeeded", job.error

    up.refresh_from_db()
    n = len(want) + 2
    assert (up.rows_read, up.rows_posted, up.rows_quarantined) == (n, 6, n - 6)
    detail = client.get(done["Location"])
    body = html_text.unescape(detail.content.decode())
    assert detail.status_code == 200
    assert f"{n} read = 6 posted + {n - 6} quarantined" in body
    assert "'Maybe' in column 'Result' is not a result code" in body and "unknown_person" in body
    assert "=cmd" in body  # the uploader sees the raw rows
    listing = client.get("/field/results/").content.decode()
    assert "acme.csv" in listing and "Acme Dialers" in listing

    csv_resp = client.get(f"/field/results/{up.pk}/quarantine.csv")
    assert csv_resp["Content-Type"].startswith("text/csv")
    lines = b"".join(csv_resp.streaming_content).decode()  # type: ignore[attr-defined]
    assert lines.splitlines()[0] == "row,column,code,reason,raw"
    assert len(lines.splitlines()) == 1 + up.rows_quarantined
    cells = [c for row in csv.reader(io.StringIO(lines)) for c in row]
    assert "'=cmd|' /C calc'!A0,,NH," + _day(1) + ",,," in cells  # the raw row, as text
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]  # no cell a spreadsheet would run
    pages = client.get(f"/field/results/{up.pk}/?page=2")
    assert pages.status_code == 200  # past the last page: still a page

    # Another organizer of the same committee: the reasons, not the raw rows.
    colleague = user_with("organizer", w["committee"], "colleague")
    other = Client()
    login_verified(other, colleague)
    seen = html_text.unescape(other.get(f"/field/results/{up.pk}/").content.decode())
    assert "is not a result code" in seen and "=cmd" not in seen
    assert other.get(f"/field/results/{up.pk}/map/").status_code == 404  # only the uploader maps
    # Another committee's organizer: 404 alike for this upload and for none at all.
    teacher = Client()
    login_verified(teacher, user_with("organizer", w["tree"]["other_affiliate"], "t-org"))
    for url in (f"/field/results/{up.pk}/", f"/field/results/{up.pk}/quarantine.csv", f"/field/results/{up.pk}/map/"):
        assert teacher.get(url).status_code == 404
        assert teacher.get(url.replace(str(up.pk), str(up.pk + 999))).status_code == 404
    assert "acme.csv" not in teacher.get("/field/results/").content.decode()


def test_the_pages_are_for_field_roles(client: Client, pw: Warehouse) -> None:
    w = field_world(pw)
    assert client.get("/field/results/").status_code == 302  # log in first
    login_verified(client, user_with("canvasser", w["committee"], "door-knocker"))
    assert client.get("/field/results/").status_code == 403


# -- the command line --------------------------------------------------------------------


def test_the_command_line_prints_the_reconciliation(pw: Warehouse, tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from unionhall.field.cli import register

    w = field_world(pw)
    text, want = bad_vendor_file()
    f = tmp_path / "acme.csv"
    f.write_text(text)
    app, import_app = typer.Typer(), typer.Typer()
    app.add_typer(import_app, name="import")
    register(app, import_app)
    runner = CliRunner()
    r = runner.invoke(app, ["import", "results", str(f), "--committee", "nurses united", "--vendor", "Acme",
                            "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout.strip().splitlines()[-1])
    posted = sum(1 for v in want.values() if v == "posted")
    assert (out["rows_read"], out["rows_posted"], out["rows_quarantined"]) == (len(want), posted, len(want) - posted)
    assert out["reconciles"] and out["quarantine_by_code"]["unknown_person"] == 3
    r2 = runner.invoke(app, ["import", "results", str(f), "--committee", "Nurses United", "--vendor", "Acme",
                             "--user", w["organizer"].username])
    assert r2.exit_code == 0, r2.output
    assert re.search(r"posted +0 ", r2.stdout) and re.search(rf"already posted +{posted} ", r2.stdout)
    assert f"{len(want)} read = 0 posted + {len(want)} quarantined" in r2.stdout
    bad = runner.invoke(app, ["import", "results", str(f), "--committee", "Nobody", "--vendor", "Acme"])
    assert bad.exit_code != 0 and "no committee named 'Nobody'" in str(bad.exception or bad.output)


def test_the_installed_command(tmp_path: Path) -> None:
    """`unionhall import results` in a fresh process, once cli/__init__.py registers it."""
    from tests.conftest import run_cli
    from unionhall.cli import CAPABILITY_CLI_MODULES

    if "unionhall.field.cli" not in CAPABILITY_CLI_MODULES:
        pytest.skip("unionhall.field.cli is not registered in unionhall.cli yet")
    r = run_cli("import", "results", str(tmp_path / "missing.csv"), "--committee", "X", "--vendor", "Y",
                env={"UNIONHALL_DATA_DIR": str(tmp_path)})
    assert r.returncode != 0 and "missing.csv: file not found" in r.stderr and "Traceback" not in r.stderr
