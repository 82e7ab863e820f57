"""What leaves the screen for the field: walk sheets, call sheets, the mail file.

Each reads its persons through the gateway (a turf through the canvass door, a list
through the user's scope), renders with `field.sheets` (PDF) or writes formula-safe
CSV/XLSX, and logs the persons it put on paper or in a file as an export.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from unionhall.access.services import usage_record
from unionhall.field import sheets
from unionhall.field.models import ResultCode, SavedList, Script, Turf
from unionhall.field.selectors import saved_list_persons, turf_doors

CALLS_PER_SHEET = 200
MAIL_LIMIT = 1000  # households; larger mail files are export requests (approved by someone else)


def sheet_script(script: Script | None) -> sheets.SheetScript:
    """A script as the sheets print it (an empty one when the turf has none)."""
    from unionhall.field.scripts import script_payload

    if script is None:
        return sheets.SheetScript(name="(no script assigned)")
    p = script_payload(script)
    questions = [sheets.SheetQuestion(code=q["code"], text=q["text"],
                                      responses=[(r["code"], r["label"]) for r in q["responses"]])
                 for q in p["questions"]]
    return sheets.SheetScript(name=p["name"], intro=p["intro"], questions=questions,
                              activist_codes=p["activist_codes"], closing=p["closing"])


def _codes(channel: str) -> list[tuple[str, str]]:
    return [(c.code, c.label) for c in ResultCode.objects.filter(channel__in=[channel, "both"])]


def _name(p: dict[str, Any]) -> str:
    parts = [p.get("first_name"), p.get("middle_name"), p.get("last_name"), p.get("suffix")]
    return " ".join(str(x) for x in parts if x) or "(name not shared)"


def _person(p: dict[str, Any]) -> sheets.SheetPerson:
    return sheets.SheetPerson(person_id=int(p["person_id"]), name=_name(p), age=p.get("age"), sex=p.get("sex"),
                              party=p.get("party"), phone=p.get("phone"),
                              member_of=", ".join(p.get("member_sources") or []) or None)


def walk_sheet_for(*, user: Any, turf: Turf, now: dt.datetime) -> bytes:
    """The walk sheet of a turf: its script, its doors in walk order with the people at
    each, bubbles for results and answers. Logged as an export of those people."""
    doors = turf_doors(user=user, turf=turf, log_as="walk sheet")
    sheet_doors = [
        sheets.SheetDoor(
            seq=int(d["seq"]),
            address=f"{d['house_number']} {d['street']}" if d["house_number"] and d["street"] else d["address"],
            unit=d["unit"] or None, city_zip=" ".join(x for x in (d["city"], d["zip5"]) if x) or None,
            persons=[_person(p) for p in d["persons"]])
        for d in doors
    ]
    header = sheets.SheetHeader(
        title="Walk sheet", committee=turf.committee.name, list_name=turf.cut.saved_list.name, turf_name=turf.name,
        canvasser=turf.canvasser.get_username() if turf.canvasser else None, generated_at=now,
        tracking=f"T{turf.pk}-C{turf.cut_id}")
    pdf = sheets.walk_sheet_pdf(header=header, script=sheet_script(turf.script), result_codes=_codes("door"),
                                doors=sheet_doors)
    usage_record(user=user, action="export", persons=sum(len(d.persons) for d in sheet_doors),
                 committee=turf.committee, detail={"kind": "walk sheet", "turf": turf.pk, "doors": len(sheet_doors)})
    return pdf


def call_sheet_for(*, user: Any, saved_list: SavedList, page: int, now: dt.datetime) -> bytes:
    """Call sheets for the people of a saved list who have a phone, `CALLS_PER_SHEET`
    a file (page 1, 2...), in list order. Logged as an export of those people."""
    t = saved_list_persons(user=user, saved_list=saved_list)
    t = t.filter(t.phone.notnull())
    rows = (t.select("person_id", "first_name", "middle_name", "last_name", "suffix", "age", "sex", "party", "phone",
                     "member_sources").order_by(["last_name", "first_name", "person_id"])
            .limit(CALLS_PER_SHEET, offset=(page - 1) * CALLS_PER_SHEET).to_pyarrow().to_pylist())
    header = sheets.SheetHeader(
        title="Call sheet", committee=saved_list.committee.name, list_name=saved_list.name,
        turf_name=f"calls {(page - 1) * CALLS_PER_SHEET + 1} to {(page - 1) * CALLS_PER_SHEET + len(rows)}",
        canvasser=None, generated_at=now, tracking=f"L{saved_list.pk}-V{saved_list.version}-P{page}")
    script = Script.objects.filter(committee=saved_list.committee).order_by("name").first()
    pdf = sheets.call_sheet_pdf(header=header, script=sheet_script(script), result_codes=_codes("phone"),
                                persons=[_person(p) for p in rows])
    usage_record(user=user, action="export", persons=len(rows), committee=saved_list.committee,
                 detail={"kind": "call sheet", "list": saved_list.pk, "page": page})
    return pdf


class MailRefused(Exception):
    """Why a mail file was refused (shown as is)."""


MAIL_COLUMNS = ["addressee", "address_line_1", "address_line_2", "city", "state", "zip", "people", "person_ids"]


def _addressee(people: list[dict[str, Any]]) -> str:
    """"Ana Diaz", "Ana Diaz & Bo Lee", "Ana & Luis Diaz", or "The Diaz Household"."""
    names = [(p.get("first_name") or "", p.get("last_name") or "") for p in people]
    if len(names) == 1:
        return " ".join(x for x in names[0] if x)
    if len(names) == 2:
        (f1, l1), (f2, l2) = names
        return f"{f1} & {f2} {l1}".strip() if l1 == l2 else f"{f1} {l1} & {f2} {l2}".strip()
    last = max({n[1] for n in names}, key=lambda s: sum(1 for n in names if n[1] == s))
    return f"The {last.title() if last.isupper() else last} Household" if last else "Current Residents"


def mail_file_for(*, user: Any, saved_list: SavedList, fmt: str) -> bytes:
    """One row per household of a saved list, addressed (CSV or XLSX, formula-safe),
    through the scope of the user's administrator / data-manager grants. Refused for
    other roles and above `MAIL_LIMIT` households (those are export requests). Logged."""
    from unionhall.access.gateway import person_base
    from unionhall.access.selectors import DOWNLOAD_ROLES, download_allowed

    if not download_allowed(user=user):
        raise MailRefused("Mail files are for administrators and data managers; ask yours, or for an export "
                          "request.")
    in_list = saved_list_persons(user=user, saved_list=saved_list).select("person_id")
    t = person_base(user=user, roles=DOWNLOAD_ROLES)
    t = t.filter(t.person_id.isin(in_list.person_id) & t.door_key.notnull())
    households = int(t.door_key.nunique().execute())
    if households > MAIL_LIMIT:
        raise MailRefused(f"{households:,} households; a mail file holds at most {MAIL_LIMIT:,}. Narrow the list, "
                          "or ask for an export request (approved by someone else).")
    rows = t.select("person_id", "first_name", "last_name", "addr_line1", "addr_line2", "city", "state", "zip5",
                    "door_key").order_by(["zip5", "addr_line1", "addr_line2", "last_name", "first_name",
                                          "person_id"]).to_pyarrow().to_pylist()
    by_door: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_door.setdefault(r["door_key"], []).append(r)
    out = [[_addressee(people), people[0]["addr_line1"], people[0]["addr_line2"] or "", people[0]["city"] or "",
            people[0]["state"] or "", people[0]["zip5"] or "", len(people),
            ";".join(str(p["person_id"]) for p in people)] for people in by_door.values()]
    usage_record(user=user, action="export", persons=len(rows), committee=saved_list.committee,
                 detail={"kind": "mail file", "list": saved_list.pk, "households": len(out), "format": fmt})
    return _csv(out) if fmt == "csv" else _xlsx(out)


def _csv(rows: list[list[Any]]) -> bytes:
    from unionhall.web.csvsafe import csv_lines

    return "".join(csv_lines(MAIL_COLUMNS, rows)).encode("utf-8")


def _xlsx(rows: list[list[Any]]) -> bytes:
    """Every cell written as a string or a number, never as a formula."""
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    sheet = book.add_worksheet("households")
    for c, name in enumerate(MAIL_COLUMNS):
        sheet.write_string(0, c, name)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, int):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, str(value))
    book.close()
    return buf.getvalue()
