"""Scripts, survey questions and activist codes (issue 11): the services' refusals
first (duplicate codes, empty responses, another committee's question in a script,
answers already recorded), then the pages (who may open them, another committee's
objects are not found, messages next to their fields, post-redirect-get), then the
happy paths and `script_payload`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.access.factories import committee_tree, login_verified, user_with
from unionhall.access.models import Committee
from unionhall.errors import UserError
from unionhall.field import scripts
from unionhall.field.models import (
    ActivistCode,
    ContactResult,
    ResultCode,
    Script,
    SurveyQuestion,
)
from unionhall.field.scripts import FormErrors, ResponseInput

pytestmark = pytest.mark.django_db

YES_NO = [ResponseInput("Y", "Yes"), ResponseInput("N", "No")]


@pytest.fixture
def tree() -> dict[str, Committee]:
    return committee_tree()


@pytest.fixture
def org(tree: dict[str, Committee]) -> Any:
    """An organizer of the Triangle CLC."""
    return user_with("organizer", tree["clc"], "clc-organizer")


@pytest.fixture
def rival(tree: dict[str, Committee]) -> Any:
    """An organizer of another committee (the teachers), who must never see the CLC's work."""
    return user_with("organizer", tree["other_affiliate"], "teachers-organizer")


def question(user: Any, committee: Committee, code: str = "support", responses: list[ResponseInput] | None = None,
             text: str = "Will you support the contract?") -> SurveyQuestion:
    return scripts.question_create(user=user, committee=committee, code=code, text=text,
                                   responses=responses or YES_NO)


def record_answer(committee: Committee, answers: dict[str, str]) -> ContactResult:
    """A result as the canvass page would have stored it."""
    return ContactResult.objects.create(
        client_id=f"t-{ContactResult.objects.count()}", person_id=1, committee=committee, channel="door",
        source="canvass", result_code=ResultCode.objects.get(code="CV"), responses=answers,
        contacted_at=dt.datetime(2024, 10, 1, 12, tzinfo=dt.UTC))


def errors_of(exc: pytest.ExceptionInfo[FormErrors]) -> dict[str, str]:
    return exc.value.errors


# -- services: bad input -----------------------------------------------------------------


def test_response_codes_must_be_unique_within_the_question_ignoring_case(org: Any, tree: dict[str, Committee]
                                                                          ) -> None:
    with pytest.raises(FormErrors) as exc:
        question(org, tree["clc"], responses=[ResponseInput("Y", "Yes"), ResponseInput("y", "Yes, strongly"),
                                              ResponseInput("N", "No")])
    assert errors_of(exc) == {
        "response-1": "code y is already used by response 1: give each response its own code"}
    assert not SurveyQuestion.objects.exists()


def test_a_question_needs_two_responses_and_blank_rows_do_not_count(org: Any, tree: dict[str, Committee]) -> None:
    for responses in ([], [ResponseInput("", ""), ResponseInput("  ", "")], [ResponseInput("Y", "Yes")]):
        with pytest.raises(FormErrors) as exc:
            question(org, tree["clc"], responses=responses or [ResponseInput("", "")])
        assert errors_of(exc) == {"responses": "give the question at least 2 responses (e.g. 1 Yes, 2 No)"}
    assert not SurveyQuestion.objects.exists()


def test_half_filled_response_rows_say_what_is_missing(org: Any, tree: dict[str, Committee]) -> None:
    with pytest.raises(FormErrors) as exc:
        question(org, tree["clc"], responses=[ResponseInput("Y", ""), ResponseInput("", "No"),
                                              ResponseInput("TOOLONGCODE", "Maybe")])
    assert errors_of(exc) == {
        "response-0": "say what response Y means (its label)",
        "response-1": "give response 'No' a code to mark on the sheet, e.g. 1 or Y",
        "response-2": "make code 'TOOLONGCODE' at most 10 characters",
    }


def test_question_code_and_text_are_checked_and_all_problems_come_at_once(org: Any, tree: dict[str, Committee]
                                                                          ) -> None:
    with pytest.raises(FormErrors) as exc:
        scripts.question_create(user=org, committee=tree["clc"], code="support prop 1!", text="  ",
                                responses=[ResponseInput("Y", "Yes")])
    assert errors_of(exc) == {
        "code": "use only letters, digits, - and _ in the code, starting with a letter or digit",
        "text": "write the question as the canvasser will ask it",
        "responses": "give the question at least 2 responses (e.g. 1 Yes, 2 No)",
    }
    with pytest.raises(FormErrors) as exc:
        scripts.question_create(user=org, committee=tree["clc"], code="", text="Q?", responses=YES_NO)
    assert errors_of(exc)["code"] == "give the question a short code, e.g. support-prop-1"


def test_question_codes_are_unique_per_committee_only(org: Any, rival: Any, tree: dict[str, Committee]) -> None:
    question(org, tree["clc"], code="support")
    with pytest.raises(FormErrors) as exc:
        question(org, tree["clc"], code="Support")  # codes are stored lower-case
    assert errors_of(exc) == {"code": "Triangle CLC already has a question support: choose another code"}
    question(rival, tree["other_affiliate"], code="support")  # another committee's own question
    assert SurveyQuestion.objects.filter(code="support").count() == 2


def test_only_the_committees_organizers_may_change_its_work(org: Any, rival: Any, tree: dict[str, Committee]
                                                            ) -> None:
    canvasser = user_with("canvasser", tree["clc"], "clc-canvasser")
    analyst = user_with("analyst", tree["clc"], "clc-analyst")
    for user in (rival, canvasser, analyst):
        with pytest.raises(FormErrors) as exc:
            question(user, tree["clc"])
        assert errors_of(exc) == {"committee": "you do not organize for Triangle CLC: choose one of your committees"}
    q = question(org, tree["clc"])
    script = scripts.script_create(user=org, committee=tree["clc"], name="Doors", questions=[q])
    with pytest.raises(UserError, match="you do not organize for Triangle CLC"):
        scripts.question_update(user=rival, question=q, code="hijack", text="x", responses=YES_NO)
    with pytest.raises(UserError, match="you do not organize for Triangle CLC"):
        scripts.script_update(user=rival, script=script, name="Hijacked")
    with pytest.raises(UserError, match="you do not organize for Triangle CLC"):
        scripts.activist_code_create(user=rival, committee=tree["clc"], name="Volunteer")
    with pytest.raises(UserError, match="you do not organize for Triangle CLC"):
        scripts.response_add(user=rival, question=q, code="M", label="Maybe")
    q.refresh_from_db()
    script.refresh_from_db()
    assert (q.code, script.name, q.responses.count()) == ("support", "Doors", 2)


def test_a_script_refuses_another_committees_question_and_activist_code(
        tree: dict[str, Committee]) -> None:
    # An organizer of both committees can see both; the script still keeps to its own.
    both = user_with("organizer", tree["clc"], "both")
    user_with_grant = user_with("organizer", tree["other_affiliate"], "teachers-only")
    theirs = question(user_with_grant, tree["other_affiliate"], code="theirs")
    their_code = scripts.activist_code_create(user=user_with_grant, committee=tree["other_affiliate"],
                                              name="Teacher rep")
    both.role_grants.create(committee=tree["other_affiliate"], role="organizer")
    ours = question(both, tree["clc"], code="ours")
    with pytest.raises(FormErrors) as exc:
        scripts.script_create(user=both, committee=tree["clc"], name="Doors", questions=[ours, theirs],
                              activist_codes=[their_code])
    assert errors_of(exc) == {
        "questions": "question theirs is not one of Triangle CLC's: pick from Triangle CLC's questions",
        "activist_codes": "activist code Teacher rep is not one of Triangle CLC's: pick from Triangle CLC's codes",
    }
    assert not Script.objects.exists()
    script = scripts.script_create(user=both, committee=tree["clc"], name="Doors", questions=[ours])
    with pytest.raises(FormErrors, match="question theirs is not one of Triangle CLC's"):
        scripts.script_update(user=both, script=script, name="Doors", questions=[theirs])
    assert [sq.question.code for sq in script.script_questions.all()] == ["ours"]


def test_a_script_asks_each_question_once_and_names_are_unique(org: Any, tree: dict[str, Committee]) -> None:
    q = question(org, tree["clc"])
    with pytest.raises(FormErrors) as exc:
        scripts.script_create(user=org, committee=tree["clc"], name="Doors", questions=[q, q])
    assert errors_of(exc) == {"questions": "question support is in the script twice: keep it once"}
    scripts.script_create(user=org, committee=tree["clc"], name="Doors", questions=[q])
    with pytest.raises(FormErrors) as exc:
        scripts.script_create(user=org, committee=tree["clc"], name="  doors ")
    assert errors_of(exc) == {"name": "Triangle CLC already has a script doors: edit it, or choose another name"}
    with pytest.raises(FormErrors) as exc:
        scripts.script_create(user=org, committee=tree["clc"], name=" ")
    assert errors_of(exc) == {"name": "give the script a name, e.g. Spring member check-in"}


def test_activist_code_names_are_required_and_unique_ignoring_case(org: Any, tree: dict[str, Committee]) -> None:
    scripts.activist_code_create(user=org, committee=tree["clc"], name="Will volunteer")
    with pytest.raises(FormErrors) as exc:
        scripts.activist_code_create(user=org, committee=tree["clc"], name="will  VOLUNTEER")
    assert errors_of(exc) == {
        "name": "Triangle CLC already has an activist code will VOLUNTEER: use it, or choose another name"}
    with pytest.raises(FormErrors) as exc:
        scripts.activist_code_create(user=org, committee=tree["clc"], name="", description="x" * 301)
    assert errors_of(exc) == {"name": "give the activist code a name, e.g. Will volunteer",
                              "description": "make the description at most 300 characters"}


def test_recorded_answers_keep_their_question_code_and_response_codes(org: Any, tree: dict[str, Committee]) -> None:
    q = question(org, tree["clc"], responses=[*YES_NO, ResponseInput("U", "Undecided")])
    record_answer(tree["clc"], {"support": "Y"})
    record_answer(tree["other_affiliate"], {"support": "N"})  # another committee's own "support"
    with pytest.raises(FormErrors) as exc:
        scripts.question_update(user=org, question=q, code="support-2", text=q.text,
                                responses=[ResponseInput("1", "Yes"), ResponseInput("N", "No")])
    assert errors_of(exc) == {
        "code": "answers to support are already recorded under that code: keep it, or create a new question",
        "responses": "answers are recorded with Y: keep that response (you may relabel them)",
    }
    with pytest.raises(UserError, match="answers are recorded with Y"):
        scripts.response_remove(user=org, response=q.responses.get(code="Y"))
    # Relabelling, reordering and dropping an unused response are fine.
    scripts.question_update(user=org, question=q, code="support", text="Do you back the deal?",
                            responses=[ResponseInput("N", "No"), ResponseInput("Y", "Yes, strongly")])
    assert [(r.code, r.label, r.order) for r in q.responses.all()] == [("N", "No", 1), ("Y", "Yes, strongly", 2)]


def test_response_add_remove_reorder_keep_the_rules(org: Any, tree: dict[str, Committee]) -> None:
    q = question(org, tree["clc"])
    with pytest.raises(UserError, match="code y is already used by response 1"):
        scripts.response_add(user=org, question=q, code="y", label="Yep")
    with pytest.raises(UserError, match="a question needs at least 2 responses: add another before removing N"):
        scripts.response_remove(user=org, response=q.responses.get(code="N"))
    with pytest.raises(UserError, match="list every response of support once, in the new order: N, Y"):
        scripts.response_reorder(user=org, question=q, codes=["Y", "Y"])
    added = scripts.response_add(user=org, question=q, code="U", label="Undecided")
    assert added.order == 3
    scripts.response_reorder(user=org, question=q, codes=["U", "N", "Y"])
    scripts.response_remove(user=org, response=q.responses.get(code="N"))
    assert [(r.code, r.order) for r in q.responses.all()] == [("U", 1), ("Y", 2)]


# -- pages: who may open them ------------------------------------------------------------


def page_urls(q: SurveyQuestion, s: Script) -> list[str]:
    return [reverse("field-question-edit", args=[q.pk]), reverse("field-script", args=[s.pk]),
            reverse("field-script-edit", args=[s.pk])]


@pytest.fixture
def clc_work(org: Any, tree: dict[str, Committee]) -> dict[str, Any]:
    q = question(org, tree["clc"])
    a = scripts.activist_code_create(user=org, committee=tree["clc"], name="Will volunteer")
    s = scripts.script_create(user=org, committee=tree["clc"], name="Triangle doors", intro="Hi, I'm with the CLC.",
                              questions=[q], activist_codes=[a])
    return {"question": q, "code": a, "script": s}


def test_pages_need_a_field_role(client: Any, tree: dict[str, Committee], clc_work: dict[str, Any]) -> None:
    assert client.get(reverse("field-scripts")).status_code == 302  # to the login page
    login_verified(client, user_with("canvasser", tree["clc"], "canvasser"))
    for url in [reverse("field-scripts"), reverse("field-question-create"), reverse("field-script-create"),
                reverse("field-activist-code-create"), *page_urls(clc_work["question"], clc_work["script"])]:
        r = client.get(url)
        assert r.status_code == 403, url
        assert "organizers, data managers and administrators of a committee" in r.content.decode()


def test_another_committees_organizer_gets_not_found_and_changes_nothing(
        client: Any, rival: Any, tree: dict[str, Committee], clc_work: dict[str, Any]) -> None:
    login_verified(client, rival)
    q, s = clc_work["question"], clc_work["script"]
    missing = [reverse("field-question-edit", args=[q.pk + 100]), reverse("field-script", args=[s.pk + 100])]
    for url in [*page_urls(q, s), *missing]:
        assert client.get(url).status_code == 404, url
        r = client.post(url, {"code": "hijack", "text": "x", "r-0-code": "A", "r-0-label": "A", "r-1-code": "B",
                              "r-1-label": "B", "name": "Hijacked"})
        assert r.status_code == 404, url
    clc = str(tree["clc"].pk)
    assert client.get(reverse("field-scripts"), {"committee": clc}).status_code == 404
    for name in ("field-question-create", "field-activist-code-create", "field-script-create"):
        assert client.get(reverse(name), {"committee": clc}).status_code == 404
        assert client.post(reverse(name), {"committee": clc, "code": "x", "name": "x", "text": "x"}).status_code == 404
    # Their own overview shows nothing of the CLC's.
    body = client.get(reverse("field-scripts")).content.decode()
    assert "Teachers Assn" in body and "Triangle doors" not in body and "Will volunteer" not in body
    assert "Will you support the contract?" not in body
    q.refresh_from_db()
    s.refresh_from_db()
    assert (q.code, s.name) == ("support", "Triangle doors")
    assert set(Script.objects.values_list("name", flat=True)) == {"Triangle doors"}
    assert not ActivistCode.objects.filter(committee=tree["clc"]).exclude(name="Will volunteer").exists()


def test_a_script_form_with_a_question_the_user_cannot_see_says_not_found(
        client: Any, org: Any, rival: Any, tree: dict[str, Committee]) -> None:
    theirs = question(rival, tree["other_affiliate"], code="theirs", text="Teachers only?")
    login_verified(client, org)
    r = client.post(reverse("field-script-create"), {"committee": tree["clc"].pk, "name": "Doors",
                                                     "question": [str(theirs.pk)]})
    assert r.status_code == 400
    body = r.content.decode()
    assert f"question {theirs.pk} was not found: reload the page and pick again" in body
    assert "Teachers only?" not in body and "theirs" not in body.replace(f"question {theirs.pk}", "")
    assert not Script.objects.exists()


def test_a_script_form_refuses_another_committees_question_next_to_the_questions(
        client: Any, tree: dict[str, Committee]) -> None:
    both = user_with("organizer", tree["clc"], "both")
    both.role_grants.create(committee=tree["other_affiliate"], role="organizer")
    theirs = question(both, tree["other_affiliate"], code="theirs")
    login_verified(client, both)
    r = client.post(reverse("field-script-create"), {"committee": tree["clc"].pk, "name": "Doors",
                                                     "question": [str(theirs.pk)]})
    assert r.status_code == 400
    assert ('<p class="error" id="questions-error">question theirs is not one of Triangle CLC&#x27;s: pick from '
            "Triangle CLC&#x27;s questions</p>") in r.content.decode()
    assert not Script.objects.exists()


# -- pages: forms ------------------------------------------------------------------------


def question_post(committee: Committee, code: str, text: str, rows: list[tuple[str, str, str]],
                  **extra: str) -> dict[str, str]:
    data = {"committee": str(committee.pk), "code": code, "text": text, **extra}
    for i, (order, rcode, label) in enumerate(rows):
        data.update({f"r-{i}-order": order, f"r-{i}-code": rcode, f"r-{i}-label": label})
    return data


def test_question_form_shows_each_problem_next_to_its_field_and_keeps_the_input(
        client: Any, org: Any, tree: dict[str, Committee]) -> None:
    login_verified(client, org)
    # An order that is not a number (a browser's number field rarely lets one through)
    # is the view's to report, on its row, before anything is checked further.
    r = client.post(reverse("field-question-create"), question_post(
        tree["clc"], "support", "Support?", [("1", "Y", "Yes"), ("x", "N", "No")]))
    assert r.status_code == 400
    assert ('<p class="error" id="r-1-error" style="margin:0">order &#x27;x&#x27; is not a whole number: '
            "write 1, 2, 3...</p>") in r.content.decode()
    # The service's problems come all at once, each next to its field, the input kept.
    r = client.post(reverse("field-question-create"), question_post(
        tree["clc"], "Support!", "", [("1", "Y", "Yes"), ("2", "Y", "Yes again"), ("3", "N", "No")]))
    assert r.status_code == 400
    body = r.content.decode()
    assert '<p class="error" id="code-error">use only letters, digits' in body
    assert '<p class="error" id="text-error">write the question as the canvasser will ask it</p>' in body
    assert ('<p class="error" id="r-1-error" style="margin:0">code Y is already used by response 1: give each '
            "response its own code</p>") in body
    assert 'value="Yes again"' in body and 'value="Support!"' in body
    assert not SurveyQuestion.objects.exists()
    r = client.post(reverse("field-question-create"), question_post(tree["clc"], "support", "Support?", []))
    assert r.status_code == 400
    assert '<p class="error" id="responses-error">give the question at least 2 responses' in r.content.decode()
    assert not SurveyQuestion.objects.exists()


def test_more_rows_adds_rows_and_saves_nothing(client: Any, org: Any, tree: dict[str, Committee]) -> None:
    login_verified(client, org)
    r = client.post(reverse("field-question-create"), question_post(
        tree["clc"], "support", "Support?", [("1", "Y", "Yes"), ("2", "N", "No")], more="1"))
    assert r.status_code == 200
    body = r.content.decode()
    assert 'name="r-4-code"' in body and 'value="Yes"' in body
    assert not SurveyQuestion.objects.exists()


def test_activist_code_form_reports_duplicates_next_to_the_name(client: Any, org: Any, tree: dict[str, Committee]
                                                                ) -> None:
    scripts.activist_code_create(user=org, committee=tree["clc"], name="Will volunteer")
    login_verified(client, org)
    r = client.post(reverse("field-activist-code-create"), {"committee": tree["clc"].pk, "name": "will volunteer"})
    assert r.status_code == 400
    assert ('<p class="error" id="name-error">Triangle CLC already has an activist code will volunteer: use it, '
            "or choose another name</p>") in r.content.decode()
    assert ActivistCode.objects.count() == 1


def test_a_user_with_several_committees_chooses_one(client: Any, org: Any, tree: dict[str, Committee]) -> None:
    org.role_grants.create(committee=tree["affiliate"], role="data_manager")
    login_verified(client, org)
    r = client.get(reverse("field-script-create"))
    assert r.status_code == 200 and "Which committee is it for?" in r.content.decode()
    r = client.post(reverse("field-activist-code-create"), {"name": "Will volunteer"})
    assert r.status_code == 400
    assert "choose the committee the activist code is for" in r.content.decode()
    r = client.post(reverse("field-activist-code-create"), {"committee": tree["affiliate"].pk, "name": "Steward"})
    assert r.status_code == 302
    assert r["Location"] == f"{reverse('field-scripts')}?committee={tree['affiliate'].pk}#activist-codes"
    body = client.get(r["Location"]).content.decode()
    assert "Steward" in body and f'<option value="{tree["affiliate"].pk}" selected>Nurses United' in body
    assert "Steward" not in client.get(reverse("field-scripts"), {"committee": tree["clc"].pk}).content.decode()


# -- happy paths ---------------------------------------------------------------------------


def test_an_organizer_builds_a_script_through_the_pages(client: Any, org: Any, tree: dict[str, Committee]) -> None:
    login_verified(client, org)
    clc = tree["clc"]
    r = client.post(reverse("field-question-create"), question_post(
        clc, "Support-Contract", "Will you vote yes on the contract?",
        [("2", "N", "No"), ("1", "Y", "Yes"), ("", "", ""), ("3", "U", "Undecided")]))
    assert r.status_code == 302 and r["Location"].endswith("#questions")
    support = SurveyQuestion.objects.get(committee=clc)
    assert support.code == "support-contract"
    assert [(x.code, x.order) for x in support.responses.all()] == [("Y", 1), ("N", 2), ("U", 3)]
    # Edit: reorder, relabel, add one in a spare row.
    form = client.get(reverse("field-question-edit", args=[support.pk])).content.decode()
    assert 'value="Undecided"' in form and 'name="r-4-code"' in form
    r = client.post(reverse("field-question-edit", args=[support.pk]), question_post(
        clc, "support-contract", "Will you vote yes on the contract?",
        [("3", "Y", "Yes"), ("1", "N", "No"), ("2", "U", "Not sure yet"), ("4", "R", "Refused to say")]))
    assert r.status_code == 302
    assert [(x.code, x.label) for x in support.responses.all()] == [
        ("N", "No"), ("U", "Not sure yet"), ("Y", "Yes"), ("R", "Refused to say")]
    client.post(reverse("field-question-create"), question_post(
        clc, "strike", "Would you join a strike?", [("1", "1", "Yes"), ("2", "2", "No")]))
    strike = SurveyQuestion.objects.get(code="strike")
    client.post(reverse("field-activist-code-create"), {"committee": clc.pk, "name": "Will volunteer",
                                                        "description": "Said yes to a shift"})
    client.post(reverse("field-activist-code-create"), {"committee": clc.pk, "name": "Bargaining team"})
    volunteer = ActivistCode.objects.get(name="Will volunteer")

    form = client.get(reverse("field-script-create"))  # one committee: no need to choose
    assert 'name="question"' in form.content.decode()
    r = client.post(reverse("field-script-create"), {
        "committee": clc.pk, "name": "Contract doors", "intro": "Hi, I'm a nurse with the CLC.",
        "closing": "Thanks!", "question": [str(support.pk), str(strike.pk)],
        f"order-{support.pk}": "2", f"order-{strike.pk}": "1", "activist_code": [str(volunteer.pk)]})
    script = Script.objects.get(name="Contract doors")
    assert r.status_code == 302 and r["Location"] == reverse("field-script", args=[script.pk])
    assert script.created_by == org
    preview = client.get(r["Location"]).content.decode()
    assert preview.index("Hi, I&#x27;m a nurse") < preview.index("1. Would you join a strike?") < preview.index(
        "2. Will you vote yes on the contract?") < preview.index("Will volunteer") < preview.index("Thanks!")
    assert "Bargaining team" not in preview
    # Edit keeps the chosen order on the form; saving a new order is post-redirect-get.
    form = client.get(reverse("field-script-edit", args=[script.pk])).content.decode()
    assert form.index(f'name="order-{strike.pk}" value="1"') < form.index(f'name="order-{support.pk}" value="2"')
    r = client.post(reverse("field-script-edit", args=[script.pk]), {
        "name": "Contract doors", "intro": "Hi!", "closing": "", "question": [str(support.pk)],
        f"order-{support.pk}": "1"})
    assert r.status_code == 302
    assert scripts.script_payload(script)["questions"][0]["code"] == "support-contract"
    assert len(scripts.script_payload(script)["questions"]) == 1
    assert scripts.script_payload(script)["activist_codes"] == []

    index = client.get(reverse("field-scripts")).content.decode()
    for text in ("Contract doors", "support-contract", "Not sure yet", "Will volunteer", "Said yes to a shift",
                 "Bargaining team", "Left Message", "Come Back / Call Back"):
        assert text in index, text


def test_the_overview_lists_result_codes_and_reads_in_a_fixed_number_of_queries(
        client: Any, org: Any, tree: dict[str, Committee]) -> None:
    login_verified(client, org)

    def load() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(reverse("field-scripts"))
        assert r.status_code == 200
        return len(ctx), r.content.decode()

    def add(n: int) -> None:
        q = question(org, tree["clc"], code=f"q{n}")
        a = scripts.activist_code_create(user=org, committee=tree["clc"], name=f"Code {n}")
        scripts.script_create(user=org, committee=tree["clc"], name=f"Script {n}", questions=[q], activist_codes=[a])

    add(0)  # one of each, so every prefetch runs (an empty page skips them)
    few, _ = load()
    for n in range(1, 6):
        add(n)
    many, body = load()
    assert many == few
    assert all(f"Script {n}" in body and f"Code {n}" in body for n in range(6))
    for rc in ResultCode.objects.all():
        assert f"<td><code>{rc.code}</code> {rc.label}</td>" in body, rc.code
    assert "<td>Phones</td>" in body and "<td>Doors</td>" in body and "<td>Doors and phones</td>" in body


# -- script_payload ------------------------------------------------------------------------


def test_script_payload_is_ready_for_json_in_a_fixed_number_of_queries(org: Any, tree: dict[str, Committee]
                                                                        ) -> None:
    import json

    strike = question(org, tree["clc"], code="strike", text="Would you join a strike?",
                      responses=[ResponseInput("1", "Yes", 2), ResponseInput("2", "No", 3),
                                 ResponseInput("0", "Already on the committee", 1)])
    support = question(org, tree["clc"], code="support")
    codes = [scripts.activist_code_create(user=org, committee=tree["clc"], name=n) for n in ("Volunteer", "Captain")]
    script = scripts.script_create(user=org, committee=tree["clc"], name="Doors", intro="Hello.", closing="Bye.",
                                   questions=[support, strike], activist_codes=codes)
    with CaptureQueriesContext(connection) as ctx:
        payload = scripts.script_payload(Script.objects.get(pk=script.pk))
    assert len(ctx) <= 6
    assert payload == {
        "id": script.pk, "name": "Doors", "intro": "Hello.", "closing": "Bye.",
        "questions": [
            {"code": "support", "text": "Will you support the contract?",
             "responses": [{"code": "Y", "label": "Yes"}, {"code": "N", "label": "No"}]},
            {"code": "strike", "text": "Would you join a strike?",
             "responses": [{"code": "0", "label": "Already on the committee"}, {"code": "1", "label": "Yes"},
                           {"code": "2", "label": "No"}]},
        ],
        "activist_codes": ["Captain", "Volunteer"],
    }
    assert json.loads(json.dumps(payload)) == payload
    # From the scoped selector everything is prefetched: no query at all.
    visible = scripts.scripts_visible(user=org).get(pk=script.pk)
    with CaptureQueriesContext(connection) as ctx:
        assert scripts.script_payload(visible) == payload
    assert len(ctx) == 0
    assert scripts.script_payload(scripts.script_create(user=org, committee=tree["clc"], name="Empty")) == {
        "id": Script.objects.get(name="Empty").pk, "name": "Empty", "intro": "", "closing": "", "questions": [],
        "activist_codes": []}


def test_selectors_show_only_the_users_committees(org: Any, rival: Any, tree: dict[str, Committee],
                                                  clc_work: dict[str, Any]) -> None:
    assert list(scripts.scripts_visible(user=rival)) == []
    assert list(scripts.survey_questions_visible(user=rival)) == []
    assert list(scripts.activist_codes_visible(user=rival)) == []
    assert list(scripts.scripts_visible(user=org)) == [clc_work["script"]]
    admin = type(org).objects.create_superuser("root", password="a-long-passw0rd!")
    assert list(scripts.scripts_visible(user=admin)) == [clc_work["script"]]
