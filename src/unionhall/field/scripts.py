"""Scripts, survey questions and activist codes, per committee: the services that change
them and the selectors that read them (STYLE.md rule 1).

Everything here belongs to one committee, and only the people who organize for it
(`field_committees`) may see or change it. Selectors hand views a queryset already cut
to the user's committees, so another committee's object is "not found", exactly like a
missing one. Services check the committee again, because the CLI and the API call them
too.

Validation lives in the services. They collect every problem with one input and raise
`FormErrors`, keyed by the field each problem is about, so a page can show each message
next to its field and the CLI can print them all on one line.

Results already recorded (`ContactResult.responses`: question code -> response code)
name questions and responses by their codes. So a question's code cannot change, and a
response code cannot disappear, once an answer has been recorded with it: that would
leave the history pointing at codes that no longer exist.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Prefetch, QuerySet
from django.db.models.fields.json import KeyTextTransform

from unionhall.access.models import Committee
from unionhall.errors import UserError
from unionhall.field.models import (
    ActivistCode,
    ContactResult,
    ResultCode,
    Script,
    ScriptQuestion,
    SurveyQuestion,
    SurveyResponse,
)
from unionhall.field.selectors import field_committees

# Field lengths, from the models.
QUESTION_CODE_MAX = 40
RESPONSE_CODE_MAX = 10
RESPONSE_LABEL_MAX = 100
ACTIVIST_NAME_MAX = 100
ACTIVIST_DESCRIPTION_MAX = 300
SCRIPT_NAME_MAX = 200
MIN_RESPONSES = 2
# Sheets print a bubble per response; more than this no longer fits a walk-sheet row.
MAX_RESPONSES = 12

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class FormErrors(UserError):
    """Several problems with one input, each keyed by the field it is about (`code`,
    `text`, `responses`, `response-2`, `name`, `questions`...). The message joins them,
    for callers that show one line."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class ResponseInput:
    """One response as typed into a form: what is marked on the sheet (`code`), what it
    means (`label`), and an optional order number (rows without one keep their place
    after the numbered ones)."""

    code: str
    label: str
    order: int | None = None


def _committee_check(user: Any, committee: Committee) -> None:
    if committee not in field_committees(user):
        raise FormErrors({"committee": f"you do not organize for {committee.name}: choose one of your committees"})


# -- selectors -------------------------------------------------------------------------


def _user_committee_ids(user: Any) -> list[int]:
    return [c.pk for c in field_committees(user)]


def survey_questions_visible(*, user: Any) -> QuerySet[SurveyQuestion]:
    """The survey questions of the committees the user organizes for, with their
    responses in order."""
    return (SurveyQuestion.objects.filter(committee_id__in=_user_committee_ids(user))
            .select_related("committee").prefetch_related("responses"))


def activist_codes_visible(*, user: Any) -> QuerySet[ActivistCode]:
    """The activist codes of the committees the user organizes for."""
    return ActivistCode.objects.filter(committee_id__in=_user_committee_ids(user)).select_related("committee")


def _payload_prefetch(qs: QuerySet[Script]) -> QuerySet[Script]:
    return qs.select_related("committee").prefetch_related(
        Prefetch("script_questions",
                 queryset=ScriptQuestion.objects.select_related("question").prefetch_related("question__responses")),
        Prefetch("activist_codes", queryset=ActivistCode.objects.order_by("name")),
    )


def scripts_visible(*, user: Any) -> QuerySet[Script]:
    """The scripts of the committees the user organizes for, with their questions
    (and responses) and activist codes prefetched for `script_payload`."""
    return _payload_prefetch(Script.objects.filter(committee_id__in=_user_committee_ids(user)))


def script_list(*, committee: Committee) -> QuerySet[Script]:
    """A committee's scripts by name, each with `question_count` and its activist
    codes. The caller has checked the committee is one of the user's."""
    return (Script.objects.filter(committee=committee)
            .annotate(question_count=Count("script_questions", distinct=True))
            .prefetch_related(Prefetch("activist_codes", queryset=ActivistCode.objects.order_by("name"))))


def question_list(*, committee: Committee) -> QuerySet[SurveyQuestion]:
    """A committee's survey questions by code, with their responses in order."""
    return SurveyQuestion.objects.filter(committee=committee).prefetch_related("responses")


def activist_code_list(*, committee: Committee) -> QuerySet[ActivistCode]:
    """A committee's activist codes by name."""
    return ActivistCode.objects.filter(committee=committee)


def result_code_list() -> QuerySet[ResultCode]:
    """The result codes every committee shares, in sheet order."""
    return ResultCode.objects.all()


def script_payload(script: Script) -> dict[str, Any]:
    """A script as the canvass page and the walk-sheet builder use it, ready for JSON:
    `intro`, `closing`, `questions` in order (each `code`, `text` and `responses` in
    order as `{code, label}`), `activist_codes` (names, alphabetical), plus the
    script's `id` and `name`. Loads in a fixed number of queries whatever its size
    (none if it came from `scripts_visible`)."""
    if "script_questions" not in getattr(script, "_prefetched_objects_cache", {}):
        script = _payload_prefetch(Script.objects.filter(pk=script.pk)).get()
    return {
        "id": script.pk,
        "name": script.name,
        "intro": script.intro,
        "closing": script.closing,
        "questions": [
            {"code": sq.question.code, "text": sq.question.text,
             "responses": [{"code": r.code, "label": r.label} for r in sq.question.responses.all()]}
            for sq in script.script_questions.all()
        ],
        "activist_codes": [a.name for a in script.activist_codes.all()],
    }


def _recorded_answers(question: SurveyQuestion) -> set[str]:
    """Response codes already recorded for this question (any result, synced or not)."""
    values = (ContactResult.objects.filter(committee_id=question.committee_id)
              .annotate(answer=KeyTextTransform(question.code, "responses"))
              .filter(answer__isnull=False).values_list("answer", flat=True).distinct())
    return set(values)


# -- survey questions ------------------------------------------------------------------


def _clean_question(committee: Committee, code: str, text: str, errors: dict[str, str],
                    exclude_pk: int | None = None) -> tuple[str, str]:
    code, text = code.strip().lower(), text.strip()
    if not code:
        errors["code"] = "give the question a short code, e.g. support-prop-1"
    elif len(code) > QUESTION_CODE_MAX:
        errors["code"] = f"make the code at most {QUESTION_CODE_MAX} characters (it has {len(code)})"
    elif not _SLUG.match(code):
        errors["code"] = "use only letters, digits, - and _ in the code, starting with a letter or digit"
    elif SurveyQuestion.objects.filter(committee=committee, code=code).exclude(pk=exclude_pk or 0).exists():
        errors["code"] = f"{committee.name} already has a question {code}: choose another code"
    if not text:
        errors["text"] = "write the question as the canvasser will ask it"
    return code, text


def _clean_responses(responses: Sequence[ResponseInput], errors: dict[str, str]) -> list[tuple[str, str]]:
    """Responses in their final order, as (code, label); rows left blank are skipped
    (forms carry spare rows). Problems go into `errors` under `response-<index>`."""
    rows: list[tuple[int, int, str, str]] = []  # (order, index, code, label)
    seen: dict[str, int] = {}
    for i, r in enumerate(responses):
        code, label = r.code.strip(), r.label.strip()
        if not code and not label:
            continue
        key = f"response-{i}"
        if not code:
            errors[key] = f"give response {label!r} a code to mark on the sheet, e.g. 1 or Y"
        elif not label:
            errors[key] = f"say what response {code} means (its label)"
        elif len(code) > RESPONSE_CODE_MAX:
            errors[key] = f"make code {code!r} at most {RESPONSE_CODE_MAX} characters"
        elif len(label) > RESPONSE_LABEL_MAX:
            errors[key] = f"make the label of {code} at most {RESPONSE_LABEL_MAX} characters"
        elif code.upper() in seen:
            # Case-insensitive: a canvasser's "y" and "Y" on a sheet are the same mark.
            errors[key] = f"code {code} is already used by response {seen[code.upper()] + 1}: give each response its own code"
        else:
            seen[code.upper()] = i
            rows.append((r.order if r.order is not None else 1 << 31, i, code, label))
    # A row with a problem still counts: "at least two" would only repeat its message.
    if len(rows) + sum(k.startswith("response-") for k in errors) < MIN_RESPONSES:
        errors["responses"] = f"give the question at least {MIN_RESPONSES} responses (e.g. 1 Yes, 2 No)"
    elif len(rows) > MAX_RESPONSES:
        errors["responses"] = f"a question can have at most {MAX_RESPONSES} responses (it has {len(rows)})"
    rows.sort()
    return [(code, label) for _, _, code, label in rows]


def _responses_write(question: SurveyQuestion, rows: list[tuple[str, str]]) -> None:
    # Nothing references a response row (results store codes), so replacing them all
    # avoids juggling the unique (question, code) constraint when codes swap places.
    question.responses.all().delete()
    SurveyResponse.objects.bulk_create(
        SurveyResponse(question=question, code=code, label=label, order=n) for n, (code, label) in
        enumerate(rows, start=1))


@transaction.atomic
def question_create(*, user: Any, committee: Committee, code: str, text: str,
                    responses: Sequence[ResponseInput]) -> SurveyQuestion:
    """Create a survey question of `committee` with at least two responses, in order.
    Raises `FormErrors` naming every problem."""
    _committee_check(user, committee)
    errors: dict[str, str] = {}
    code, text = _clean_question(committee, code, text, errors)
    rows = _clean_responses(responses, errors)
    if errors:
        raise FormErrors(errors)
    question = SurveyQuestion.objects.create(committee=committee, code=code, text=text)
    _responses_write(question, rows)
    return question


@transaction.atomic
def question_update(*, user: Any, question: SurveyQuestion, code: str, text: str,
                    responses: Sequence[ResponseInput]) -> SurveyQuestion:
    """Change a question's code and text and replace its responses (the complete new
    list, in order). Refused where it would orphan recorded answers: the code cannot
    change, nor a recorded response code go, once answers have been recorded."""
    _committee_check(user, question.committee)
    question = SurveyQuestion.objects.select_for_update().get(pk=question.pk)
    errors: dict[str, str] = {}
    code, text = _clean_question(question.committee, code, text, errors, exclude_pk=question.pk)
    rows = _clean_responses(responses, errors)
    recorded = _recorded_answers(question)
    if recorded and code != question.code and "code" not in errors:
        errors["code"] = (f"answers to {question.code} are already recorded under that code: keep it, or "
                          "create a new question")
    missing = sorted(recorded - {c for c, _ in rows})
    if missing and "responses" not in errors:
        errors["responses"] = (f"answers are recorded with {', '.join(missing)}: keep "
                               f"{'that response' if len(missing) == 1 else 'those responses'} (you may relabel "
                               "them)")
    if errors:
        raise FormErrors(errors)
    question.code, question.text = code, text
    question.save(update_fields=["code", "text"])
    _responses_write(question, rows)
    return question


def _response_rows(question: SurveyQuestion) -> list[ResponseInput]:
    return [ResponseInput(r.code, r.label) for r in question.responses.order_by("order", "id")]


@transaction.atomic
def response_add(*, user: Any, question: SurveyQuestion, code: str, label: str) -> SurveyResponse:
    """Add a response at the end of a question's list."""
    _committee_check(user, question.committee)
    rows = [*_response_rows(question), ResponseInput(code, label)]
    errors: dict[str, str] = {}
    cleaned = _clean_responses(rows, errors)
    if errors:
        raise FormErrors(errors)
    new_code, new_label = cleaned[-1]
    return SurveyResponse.objects.create(question=question, code=new_code, label=new_label, order=len(cleaned))


@transaction.atomic
def response_remove(*, user: Any, response: SurveyResponse) -> None:
    """Remove a response, keeping at least two and any response already recorded."""
    question = response.question
    _committee_check(user, question.committee)
    if response.code in _recorded_answers(question):
        raise UserError(f"answers are recorded with {response.code}: keep that response (you may relabel it)")
    if question.responses.count() <= MIN_RESPONSES:
        raise UserError(f"a question needs at least {MIN_RESPONSES} responses: add another before removing "
                        f"{response.code}")
    response.delete()
    for n, r in enumerate(question.responses.order_by("order", "id"), start=1):
        if r.order != n:
            r.order = n
            r.save(update_fields=["order"])


@transaction.atomic
def response_reorder(*, user: Any, question: SurveyQuestion, codes: Sequence[str]) -> None:
    """Put a question's responses in the order of `codes` (every code, once)."""
    _committee_check(user, question.committee)
    current = {r.code: r for r in question.responses.all()}
    if sorted(codes) != sorted(current):
        raise UserError(f"list every response of {question.code} once, in the new order: "
                        f"{', '.join(sorted(current))}")
    for n, c in enumerate(codes, start=1):
        r = current[c]
        if r.order != n:
            r.order = n
            r.save(update_fields=["order"])


# -- activist codes --------------------------------------------------------------------


@transaction.atomic
def activist_code_create(*, user: Any, committee: Committee, name: str, description: str = "") -> ActivistCode:
    """Create an activist code of `committee` (names unique within it, ignoring case)."""
    _committee_check(user, committee)
    name, description = " ".join(name.split()), description.strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "give the activist code a name, e.g. Will volunteer"
    elif len(name) > ACTIVIST_NAME_MAX:
        errors["name"] = f"make the name at most {ACTIVIST_NAME_MAX} characters (it has {len(name)})"
    elif ActivistCode.objects.filter(committee=committee, name__iexact=name).exists():
        errors["name"] = f"{committee.name} already has an activist code {name}: use it, or choose another name"
    if len(description) > ACTIVIST_DESCRIPTION_MAX:
        errors["description"] = f"make the description at most {ACTIVIST_DESCRIPTION_MAX} characters"
    if errors:
        raise FormErrors(errors)
    return ActivistCode.objects.create(committee=committee, name=name, description=description)


# -- scripts ---------------------------------------------------------------------------


def _clean_script(committee: Committee, name: str, questions: Sequence[SurveyQuestion],
                  activist_codes: Sequence[ActivistCode], errors: dict[str, str],
                  exclude_pk: int | None = None) -> str:
    name = " ".join(name.split())
    if not name:
        errors["name"] = "give the script a name, e.g. Spring member check-in"
    elif len(name) > SCRIPT_NAME_MAX:
        errors["name"] = f"make the name at most {SCRIPT_NAME_MAX} characters (it has {len(name)})"
    elif Script.objects.filter(committee=committee, name__iexact=name).exclude(pk=exclude_pk or 0).exists():
        errors["name"] = f"{committee.name} already has a script {name}: edit it, or choose another name"
    foreign = [q for q in questions if q.committee_id != committee.pk]
    ids = [q.pk for q in questions]
    if foreign:
        errors["questions"] = (f"question {foreign[0].code} is not one of {committee.name}'s: pick from "
                               f"{committee.name}'s questions")
    elif len(set(ids)) != len(ids):
        twice = next(q for q in questions if ids.count(q.pk) > 1)
        errors["questions"] = f"question {twice.code} is in the script twice: keep it once"
    foreign_codes = [a for a in activist_codes if a.committee_id != committee.pk]
    if foreign_codes:
        errors["activist_codes"] = (f"activist code {foreign_codes[0].name} is not one of {committee.name}'s: "
                                    f"pick from {committee.name}'s codes")
    return name


def _script_write(script: Script, questions: Sequence[SurveyQuestion], activist_codes: Sequence[ActivistCode]
                  ) -> None:
    # Replaced wholesale: (script, question) is unique, so renumbering in place would
    # trip over itself, and nothing references these rows.
    script.script_questions.all().delete()
    ScriptQuestion.objects.bulk_create(
        ScriptQuestion(script=script, question=q, order=n) for n, q in enumerate(questions, start=1))
    script.activist_codes.set(activist_codes)


@transaction.atomic
def script_create(*, user: Any, committee: Committee, name: str, intro: str = "", closing: str = "",
                  questions: Sequence[SurveyQuestion] = (), activist_codes: Sequence[ActivistCode] = ()
                  ) -> Script:
    """Create a script of `committee`: intro and closing text, `questions` in the
    order given, and the activist codes a canvasser may mark. Every question and
    code must be the committee's own."""
    _committee_check(user, committee)
    errors: dict[str, str] = {}
    name = _clean_script(committee, name, questions, activist_codes, errors)
    if errors:
        raise FormErrors(errors)
    script = Script.objects.create(committee=committee, name=name, intro=intro.strip(), closing=closing.strip(),
                                   created_by=user)
    _script_write(script, questions, activist_codes)
    return script


@transaction.atomic
def script_update(*, user: Any, script: Script, name: str, intro: str = "", closing: str = "",
                  questions: Sequence[SurveyQuestion] = (), activist_codes: Sequence[ActivistCode] = ()
                  ) -> Script:
    """Change a script: its name and texts, its questions (the complete new list, in
    order) and its activist codes. Results already recorded keep their answers: they
    are stored by question code, not by script position."""
    _committee_check(user, script.committee)
    script = Script.objects.select_for_update().select_related("committee").get(pk=script.pk)
    errors: dict[str, str] = {}
    name = _clean_script(script.committee, name, questions, activist_codes, errors, exclude_pk=script.pk)
    if errors:
        raise FormErrors(errors)
    script.name, script.intro, script.closing = name, intro.strip(), closing.strip()
    script.save(update_fields=["name", "intro", "closing"])
    _script_write(script, questions, activist_codes)
    return script
