"""Scripts and codes pages: a committee's scripts, survey questions and activist codes,
the shared result codes, the forms that create and edit them, and a script's preview
as a canvasser reads it.

Each page is for people who organize for a committee; every object is looked up among
the user's committees' objects, so another committee's is "not found" like a missing
one. Validation is the services' (`unionhall.field.scripts`); these views parse the
form, call one service, put its messages next to their fields, and redirect after a
successful POST.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from unionhall.access.models import Committee
from unionhall.field import scripts
from unionhall.field.models import ActivistCode, Script, SurveyQuestion
from unionhall.field.scripts import FormErrors, ResponseInput
from unionhall.field.selectors import field_committees
from unionhall.web.decorators import role_view

WHO = "organizers, data managers and administrators of a committee"
# Spare rows a question form offers for new responses; "More rows" adds this many again.
SPARE_ROWS = 2
ROWS_LIMIT = scripts.MAX_RESPONSES + 8  # what a form may post, whatever it claims


def field_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """For users who organize for at least one committee; others get the 403 page."""
    return role_view(lambda u: bool(field_committees(u)), WHO)(view)


def _committees(request: HttpRequest) -> list[Committee]:
    return sorted(field_committees(request.user), key=lambda c: c.name.lower())


def _committee(committees: list[Committee], raw: str | None) -> Committee | None:
    """The committee `raw` names among the user's; None when not given; 404 when it is
    not one of theirs (missing and forbidden look alike)."""
    if not raw:
        return committees[0] if len(committees) == 1 else None
    for c in committees:
        if str(c.pk) == raw.strip():
            return c
    raise Http404("No such committee among yours")


def _index_url(committee: Committee, anchor: str) -> str:
    return f"{reverse('field-scripts')}?committee={committee.pk}#{anchor}"


# -- overview --------------------------------------------------------------------------


@field_view
def scripts_index(request: HttpRequest) -> HttpResponse:
    """A committee's scripts, survey questions and activist codes, and the shared
    result codes."""
    committees = _committees(request)
    committee = _committee(committees, request.GET.get("committee")) or committees[0]
    return render(request, "field/scripts_index.html", {
        "committees": committees, "committee": committee,
        "scripts": scripts.script_list(committee=committee),
        "questions": scripts.question_list(committee=committee),
        "activist_codes": scripts.activist_code_list(committee=committee),
        "result_codes": scripts.result_code_list(),
    })


# -- survey questions ------------------------------------------------------------------


def _response_rows(post: QueryDict, errors: dict[str, str]) -> list[dict[str, Any]]:
    """The response rows of a posted question form, as typed (order numbers parsed,
    with a message on the row when one is not a number)."""
    rows: list[dict[str, Any]] = []
    for i in range(ROWS_LIMIT):
        if f"r-{i}-code" not in post and f"r-{i}-label" not in post:
            break
        order_raw = post.get(f"r-{i}-order", "").strip()
        order: int | None = None
        if order_raw:
            try:
                order = int(order_raw)
            except ValueError:
                errors[f"response-{i}"] = f"order {order_raw!r} is not a whole number: write 1, 2, 3..."
        rows.append({"code": post.get(f"r-{i}-code", ""), "label": post.get(f"r-{i}-label", ""),
                     "order": order_raw, "order_value": order})
    return rows


def _spare(rows: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    start = len(rows)
    return [*rows, *({"code": "", "label": "", "order": str(start + k + 1)} for k in range(n))][:ROWS_LIMIT]


def _question_form(request: HttpRequest, question: SurveyQuestion | None) -> HttpResponse:
    committees = _committees(request)
    if question is not None:
        committee: Committee | None = question.committee
    else:
        committee = _committee(committees, request.POST.get("committee") or request.GET.get("committee"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        code, text = request.POST.get("code", ""), request.POST.get("text", "")
        rows = _response_rows(request.POST, errors)
        if "more" in request.POST:  # "More rows": show the form again with spare rows, save nothing
            rows = _spare(rows, SPARE_ROWS + 1)
        elif committee is None:
            errors["committee"] = "choose the committee the question is for"
        elif not errors:
            inputs = [ResponseInput(r["code"], r["label"], r["order_value"]) for r in rows]
            try:
                if question is None:
                    saved = scripts.question_create(user=request.user, committee=committee, code=code, text=text,
                                                    responses=inputs)
                else:
                    saved = scripts.question_update(user=request.user, question=question, code=code, text=text,
                                                    responses=inputs)
            except FormErrors as exc:
                errors = exc.errors
            else:
                messages.success(request, f"Question {saved.code} saved with {saved.responses.count()} responses.")
                return redirect(_index_url(saved.committee, "questions"))
    elif question is not None:
        code, text = question.code, question.text
        rows = _spare([{"code": r.code, "label": r.label, "order": str(n)}
                       for n, r in enumerate(question.responses.all(), start=1)], SPARE_ROWS)
    else:
        code, text = "", ""
        rows = _spare([], scripts.MIN_RESPONSES + SPARE_ROWS)
    for i, r in enumerate(rows):
        r["index"], r["error"] = i, errors.get(f"response-{i}", "")
    used_in = (list(Script.objects.filter(script_questions__question=question).values_list("name", flat=True))
               if question is not None else [])
    return render(request, "field/scripts_question_form.html", {
        "question": question, "committees": committees, "committee": committee, "code": code, "text": text,
        "rows": rows, "errors": errors, "used_in": used_in,
    }, status=400 if errors else 200)


@field_view
def question_create(request: HttpRequest) -> HttpResponse:
    """New survey question with its responses."""
    return _question_form(request, None)


@field_view
def question_edit(request: HttpRequest, question_id: int) -> HttpResponse:
    """Edit a survey question and its responses."""
    question = get_object_or_404(scripts.survey_questions_visible(user=request.user), pk=question_id)
    return _question_form(request, question)


# -- activist codes --------------------------------------------------------------------


@field_view
def activist_code_create(request: HttpRequest) -> HttpResponse:
    """New activist code."""
    committees = _committees(request)
    committee = _committee(committees, request.POST.get("committee") or request.GET.get("committee"))
    errors: dict[str, str] = {}
    name, description = request.POST.get("name", ""), request.POST.get("description", "")
    if request.method == "POST":
        if committee is None:
            errors["committee"] = "choose the committee the activist code is for"
        else:
            try:
                code = scripts.activist_code_create(user=request.user, committee=committee, name=name,
                                                    description=description)
            except FormErrors as exc:
                errors = exc.errors
            else:
                messages.success(request, f"Activist code {code.name} created.")
                return redirect(_index_url(committee, "activist-codes"))
    return render(request, "field/scripts_activist_code_form.html", {
        "committees": committees, "committee": committee, "name": name, "description": description,
        "errors": errors,
    }, status=400 if errors else 200)


# -- scripts ---------------------------------------------------------------------------


def _script_choices(request: HttpRequest, committee: Committee, errors: dict[str, str]
                    ) -> tuple[list[SurveyQuestion], list[ActivistCode], list[dict[str, Any]], set[int]]:
    """The posted questions (in the order their numbers give) and activist codes, and
    the form state to show again: every question of the committee with its
    checkbox and order number, and the ticked activist codes."""
    post = request.POST
    visible_q = {q.pk: q for q in scripts.survey_questions_visible(user=request.user)}
    picked: list[tuple[int, int, SurveyQuestion]] = []
    for pos, raw in enumerate(post.getlist("question")):
        q = visible_q.get(int(raw)) if raw.isdigit() else None
        if q is None:
            # Not one of the user's questions (deleted, or never theirs): same message.
            errors["questions"] = f"question {raw} was not found: reload the page and pick again"
            continue
        order_raw = post.get(f"order-{q.pk}", "").strip()
        try:
            order = int(order_raw) if order_raw else 1 << 31
        except ValueError:
            errors["questions"] = f"order {order_raw!r} of question {q.code} is not a whole number: write 1, 2, 3..."
            order = 1 << 31
        picked.append((order, pos, q))
    picked.sort(key=lambda t: (t[0], t[1]))
    questions = [q for _, _, q in picked]
    visible_a = {a.pk: a for a in scripts.activist_codes_visible(user=request.user)}
    codes: list[ActivistCode] = []
    for raw in post.getlist("activist_code"):
        a = visible_a.get(int(raw)) if raw.isdigit() else None
        if a is None:
            errors["activist_codes"] = f"activist code {raw} was not found: reload the page and pick again"
        else:
            codes.append(a)
    state = {q.pk: post.get(f"order-{q.pk}", "") for q in visible_q.values()}
    rows = _question_rows(committee, [q.pk for q in questions], state)
    return questions, codes, rows, {a.pk for a in codes}


def _question_rows(committee: Committee, chosen: list[int], orders: dict[int, str]) -> list[dict[str, Any]]:
    """Every question of the committee for the picker: the chosen ones first, in
    script order, then the rest by code."""
    questions = list(scripts.question_list(committee=committee))
    rank = {pk: n for n, pk in enumerate(chosen)}
    questions.sort(key=lambda q: (rank.get(q.pk, len(rank)), q.code))
    return [{"question": q, "checked": q.pk in rank,
             "order": orders.get(q.pk) or (str(rank[q.pk] + 1) if q.pk in rank else "")}
            for q in questions]


def _script_form(request: HttpRequest, script: Script | None) -> HttpResponse:
    committees = _committees(request)
    if script is not None:
        committee: Committee | None = script.committee
    else:
        committee = _committee(committees, request.POST.get("committee") or request.GET.get("committee"))
    if committee is None:
        # Which questions and codes the form offers depends on the committee: ask first.
        return render(request, "field/scripts_pick_committee.html",
                      {"committees": committees, "what": "script", "action": reverse("field-script-create")})
    errors: dict[str, str] = {}
    if request.method == "POST":
        name, intro, closing = (request.POST.get("name", ""), request.POST.get("intro", ""),
                                request.POST.get("closing", ""))
        questions, codes, rows, ticked = _script_choices(request, committee, errors)
        if not errors:
            try:
                if script is None:
                    saved = scripts.script_create(user=request.user, committee=committee, name=name, intro=intro,
                                                  closing=closing, questions=questions, activist_codes=codes)
                else:
                    saved = scripts.script_update(user=request.user, script=script, name=name, intro=intro,
                                                  closing=closing, questions=questions, activist_codes=codes)
            except FormErrors as exc:
                errors = exc.errors
            else:
                messages.success(request, f"Script {saved.name} saved.")
                return redirect("field-script", script_id=saved.pk)
    elif script is not None:
        name, intro, closing = script.name, script.intro, script.closing
        rows = _question_rows(committee, [sq.question_id for sq in script.script_questions.all()], {})
        ticked = {a.pk for a in script.activist_codes.all()}
    else:
        name, intro, closing, rows, ticked = "", "", "", _question_rows(committee, [], {}), set()
    return render(request, "field/scripts_script_form.html", {
        "script": script, "committee": committee, "name": name, "intro": intro, "closing": closing,
        "question_rows": rows, "activist_codes": scripts.activist_code_list(committee=committee),
        "ticked": ticked, "errors": errors,
    }, status=400 if errors else 200)


@field_view
def script_create(request: HttpRequest) -> HttpResponse:
    """New script: texts, questions in order, activist codes."""
    return _script_form(request, None)


@field_view
def script_edit(request: HttpRequest, script_id: int) -> HttpResponse:
    """Edit a script."""
    script = get_object_or_404(scripts.scripts_visible(user=request.user), pk=script_id)
    return _script_form(request, script)


@field_view
def script_preview(request: HttpRequest, script_id: int) -> HttpResponse:
    """The script as a canvasser reads it at the door."""
    script = get_object_or_404(scripts.scripts_visible(user=request.user), pk=script_id)
    return render(request, "field/scripts_preview.html",
                  {"script": script, "payload": scripts.script_payload(script)})
