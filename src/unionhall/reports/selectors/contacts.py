"""Contact reports: walks, phone contacts and mailings.

The rows are the warehouse contact history as the gateway shows it to the user
(`person_rows(..., "contact_history")`: only attempts on people in their scope), and of
those only the attempts made for the committees their reports cover
(`report_committees`). What counts as a contact is the field program's definition,
stored on every attempt when it was posted: the result code counts as a conversation
(`ResultCode.contact`; `contact_history.contacted`). Nothing here redefines it.

* attempts: rows of contact history (one person, one knock or call or piece of mail);
* contacts: attempts whose result was a conversation;
* people attempted / contacted: distinct persons among those;
* contact rate: contacts / attempts;
* survey responses: the answers recorded with those attempts, by question and code.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir
from django.utils import timezone

from unionhall.access.gateway import person_rows
from unionhall.access.models import Committee
from unionhall.access.services import usage_record
from unionhall.reports.filters import CHANNEL_TITLES, CHANNELS, CONTACT_GROUPS, ContactFilters
from unionhall.reports.report import Chart, Column, Report, Series, Table, rate
from unionhall.reports.selectors.common import (
    committee_choice,
    hide_small,
    local_day,
    min_cell_for,
    number,
    range_words,
    report_committees,
    saved_list_choice,
    utc_naive,
)
from unionhall.warehouse import Warehouse, get_warehouse

ATTEMPTS_COLOR = "#9db4d9"
CONTACTS_COLOR = "#1f4fa3"
CHART_TOP = 15  # groups drawn in a bar chart (the table has them all)
METRIC_COUNTS = ("attempts", "contacts", "people", "people_contacted")
ATTEMPT_WORDS = {
    "walk": "one person at one door knock (nobody home at a house of three is three attempts)",
    "phone": "one call result for one person",
    "mail": "one piece of mail reported by the mail house for one person",
}


def _metrics(f: ir.Table) -> dict[str, Any]:
    return {"attempts": f.count(), "contacts": f.contacted.sum(),
            "people": f.person_id.nunique(), "people_contacted": f.person_id.nunique(where=f.contacted)}


def contact_rows(*, user: Any, filters: ContactFilters, committees: list[Committee],
                 committee: Committee | None, saved_list: Any, warehouse: Warehouse) -> ir.Table:
    """The attempts a contact report counts, as a scoped expression."""
    ch = person_rows(user=user, table="contact_history", warehouse=warehouse)
    preds: list[ir.BooleanValue] = [ch.channel.isin(list(CHANNELS[filters.channel]))]
    if committee is not None:
        preds.append(ch.committee_id == committee.pk)
    elif not user.is_superuser:
        preds.append(ch.committee_id.isin([c.pk for c in committees]) if committees else ibis.literal(False))
    if filters.date_from is not None:
        preds.append(ch.contacted_at >= utc_naive(filters.date_from))
    if filters.date_to is not None:
        preds.append(ch.contacted_at < utc_naive(filters.date_to + dt.timedelta(days=1)))
    if saved_list is not None:
        lp = person_rows(user=user, table="list_person", warehouse=warehouse)
        members = lp.filter((lp.list_id == saved_list.pk) & (lp.version == saved_list.version))
        preds.append(ch.person_id.isin(members.person_id))
    return ch.filter(*preds)


def _group_key(f: ir.Table, group_by: str, first: dt.datetime | None, last: dt.datetime | None) -> ir.Value:
    if group_by == "canvasser":
        return f.canvasser
    if group_by == "turf":
        return f.turf_id
    if group_by == "committee":
        return f.committee_id
    return local_day(f.contacted_at, first or dt.datetime(2000, 1, 1), last or dt.datetime(2000, 1, 1))  # noqa: DTZ001 (naive UTC, as stored)


def _labels(group_by: str, keys: list[Any]) -> dict[Any, str]:
    from unionhall.field.models import Turf

    if group_by == "turf":
        names = dict(Turf.objects.filter(pk__in=[k for k in keys if k is not None]).values_list("pk", "name"))
        return {k: names.get(k, f"turf {k} (removed)") if k is not None else "(no turf)" for k in keys}
    if group_by == "committee":
        names = dict(Committee.objects.filter(pk__in=[k for k in keys if k is not None]).values_list("pk", "name"))
        return {k: names.get(k, f"committee {k}") if k is not None else "(no committee)" for k in keys}
    if group_by == "canvasser":
        return {k: k if k else "(not recorded)" for k in keys}
    return {k: k.strftime("%b %-d") if isinstance(k, dt.date) else "(no date)" for k in keys}


def contact_report_options(*, user: Any) -> dict[str, Any]:
    """The choices a contact report's form offers: the user's committees and lists."""
    from unionhall.field.selectors import saved_lists_visible

    return {"committees": report_committees(user),
            "lists": list(saved_lists_visible(user)[:500]),
            "channels": CHANNEL_TITLES, "groups": CONTACT_GROUPS}


def contact_report(*, user: Any, filters: ContactFilters, warehouse: Warehouse | None = None,
                   now: dt.datetime | None = None, committees: list[Committee] | None = None) -> Report:
    """The contact report asked for: totals, one row per group (canvasser, turf, day or
    committee), attempts by result code, survey responses by code, and a chart of the
    groups. UserError for a committee or list that is not the user's; logged as a
    search touching no person (aggregates only). `committees`: the user's
    `report_committees`, when the caller has them already (the page's form)."""
    from unionhall.field.models import ResultCode, SurveyQuestion, SurveyResponse

    wh = warehouse or get_warehouse()
    committees = report_committees(user) if committees is None else committees
    committee = committee_choice(committees, filters.committee_id)
    saved = saved_list_choice(user, filters.list_id)
    f = contact_rows(user=user, filters=filters, committees=committees, committee=committee, saved_list=saved,
                     warehouse=wh)
    total = f.aggregate(**_metrics(f), first=f.contacted_at.min(), last=f.contacted_at.max()).to_pyarrow().to_pylist()[0]
    for k in METRIC_COUNTS:
        total[k] = int(total[k] or 0)

    key = _group_key(f, filters.group_by, total["first"], total["last"])
    grouped = f.group_by(key=key).aggregate(**_metrics(f)).to_pyarrow().to_pylist()
    labels = _labels(filters.group_by, [g["key"] for g in grouped])
    rows: list[dict[str, Any]] = [{"group": g["key"] if filters.group_by == "day" else labels[g["key"]], "label": labels[g["key"]],
             **{k: int(g[k] or 0) for k in METRIC_COUNTS}} for g in grouped]
    if filters.group_by == "day":
        rows.sort(key=lambda r: (r["group"] is None, r["group"] or dt.date.min))
    else:
        rows.sort(key=lambda r: (-r["attempts"], str(r["group"])))
    for r in rows:
        r["contact_rate"] = rate(r["contacts"], r["attempts"])

    codes = {c.code: c for c in ResultCode.objects.all()}
    by_result = (f.group_by(["result_code", "contacted"]).aggregate(attempts=f.count(), people=f.person_id.nunique())
                 .to_pyarrow().to_pylist())
    result_rows = sorted(
        ({"code": r["result_code"], "label": codes[r["result_code"]].label if r["result_code"] in codes else "",
          "conversation": "yes" if r["contacted"] else "no", "attempts": int(r["attempts"]), "people": int(r["people"]),
          "share": rate(int(r["attempts"]), total["attempts"]),
          "order": codes[r["result_code"]].order if r["result_code"] in codes else 999} for r in by_result),
        key=lambda r: (r["order"], r["code"]))

    cr = person_rows(user=user, table="contact_response", warehouse=wh)
    cr = cr.filter(cr.result_key.isin(f.result_key))
    answers = (cr.group_by(["question_code", "response_code"]).aggregate(answers=cr.count(), people=cr.person_id.nunique())
               .to_pyarrow().to_pylist())
    scope = committees if not user.is_superuser else None
    questions = SurveyQuestion.objects.all() if scope is None else SurveyQuestion.objects.filter(committee__in=scope)
    texts: dict[str, str] = {}
    for code, text in questions.order_by("committee_id").values_list("code", "text"):
        texts.setdefault(code, text)
    responses = SurveyResponse.objects.filter(question__in=questions).order_by("question__committee_id", "order")
    response_labels: dict[tuple[str, str], str] = {}
    response_order: dict[tuple[str, str], int] = {}
    for q_code, r_code, label, order in responses.values_list("question__code", "code", "label", "order"):
        response_labels.setdefault((q_code, r_code), label)
        response_order.setdefault((q_code, r_code), order)
    per_question: dict[str, int] = {}
    for a in answers:
        per_question[a["question_code"]] = per_question.get(a["question_code"], 0) + int(a["answers"])
    response_rows = sorted(
        ({"question": a["question_code"], "text": texts.get(a["question_code"], ""), "code": a["response_code"],
          "label": response_labels.get((a["question_code"], a["response_code"]), ""), "answers": int(a["answers"]),
          "people": int(a["people"]), "share": rate(int(a["answers"]), per_question[a["question_code"]])}
         for a in answers),
        key=lambda r: (r["question"], response_order.get((r["question"], r["code"]), 999), r["code"]))

    threshold = min_cell_for(user)
    hide_small(rows, METRIC_COUNTS, ["contact_rate"], threshold)
    hide_small(result_rows, ["attempts", "people"], ["share"], threshold)
    hide_small(response_rows, ["answers", "people"], ["share"], threshold)
    total_row = dict(total)
    hide_small([total_row], METRIC_COUNTS, [], threshold)

    group_label = CONTACT_GROUPS[filters.group_by]
    title = CHANNEL_TITLES[filters.channel]
    report = Report(
        kind="contacts", slug=f"contacts-{filters.channel}-by-{filters.group_by}",
        title=f"Contact report: {title}",
        filters=[("Channel", title), ("Dates", range_words(filters.date_from, filters.date_to)),
                 ("Committee", committee.name if committee else
                  ("every committee" if user.is_superuser else _committees_words(committees))),
                 ("People", f"on the list {saved.name}" if saved else "everyone in your scope"),
                 ("Grouped by", group_label.lower())],
        figures=[("Attempts", total_row["attempts"], "count"), ("Contacts", total_row["contacts"], "count"),
                 ("Contact rate", rate(total_row["contacts"], total_row["attempts"]), "rate"),
                 ("People attempted", total_row["people"], "count"),
                 ("People contacted", total_row["people_contacted"], "count")],
        tables=[
            Table("groups", f"By {group_label.lower()}", [
                Column("group", group_label, "date" if filters.group_by == "day" else "text"),
                Column("attempts", "Attempts", "count"), Column("contacts", "Contacts", "count"),
                Column("contact_rate", "Contact rate", "rate"), Column("people", "People attempted", "count"),
                Column("people_contacted", "People contacted", "count")], rows),
            Table("results", "Results by code", [
                Column("code", "Code"), Column("label", "Result"), Column("conversation", "Counts as a contact"),
                Column("attempts", "Attempts", "count"), Column("share", "Share of attempts", "rate"),
                Column("people", "People", "count")], result_rows),
            Table("responses", "Survey responses by code", [
                Column("question", "Question"), Column("text", "Asked"), Column("code", "Response"),
                Column("label", "Meaning"), Column("answers", "Answers", "count"),
                Column("share", "Share of answers", "rate"), Column("people", "People", "count")],
                response_rows),
        ],
        chart=_chart(rows, filters.group_by, title),
        generated_at=now or timezone.now(),
        notes=[f"An attempt is {ATTEMPT_WORDS[filters.channel]}. A contact is an attempt whose result counts as a "
               f"conversation ({', '.join(sorted(c.code for c in codes.values() if c.contact)) or 'none defined'}).",
               "Only people in your scope are counted, and only the attempts made for the committees your "
               "reports cover." + (f" Counts under {threshold} are hidden (analysts see aggregates only)."
                                   if threshold else "")],
    )
    usage_record(user=user, action="search", persons=0, committee=committee, detail={
        "report": "contacts", "channel": filters.channel, "group_by": filters.group_by,
        "from": filters.date_from.isoformat() if filters.date_from else None,
        "to": filters.date_to.isoformat() if filters.date_to else None,
        "committee": committee.pk if committee else None, "list": saved.pk if saved else None})
    return report


def _committees_words(committees: list[Committee]) -> str:
    if not committees:
        return "none"
    names = [c.name for c in committees]
    return ", ".join(names) if len(names) <= 3 else f"{', '.join(names[:3])} and {len(names) - 3} more"


def _chart(rows: list[dict[str, Any]], group_by: str, title: str) -> Chart | None:
    if not rows:
        return None
    if group_by == "day":
        return Chart(title=f"{title}: attempts and contacts each day", kind="bars",
                     categories=[r["label"] for r in rows],
                     series=[Series("Attempts", [number(r["attempts"]) for r in rows], ATTEMPTS_COLOR),
                             Series("Contacts", [number(r["contacts"]) for r in rows], CONTACTS_COLOR)],
                     y_label="attempts")
    top = rows[:CHART_TOP]
    more = f"the {CHART_TOP} with the most attempts; the table has all {len(rows)}" if len(rows) > CHART_TOP else ""
    return Chart(title=f"{title}: attempts and contacts by {CONTACT_GROUPS[group_by].lower()}", kind="hbars",
                 categories=[r["label"] for r in top],
                 series=[Series("Attempts", [number(r["attempts"]) for r in top], ATTEMPTS_COLOR),
                         Series("Contacts", [number(r["contacts"]) for r in top], CONTACTS_COLOR)],
                 y_label="attempts", note=more)
