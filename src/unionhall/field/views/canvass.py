"""The canvass page (a phone at the door), the phone-bank page (a desk), and the results
API the canvass page sends its queue to.

The canvass page is a shell: `canvass.js` fetches the turf once as JSON
(`canvass_data`), keeps it on the phone, queues each result there with an id made when
it was tapped, and posts the queue to `results_api` whenever the network lets it. The
id makes a resend harmless (`contact_result_record` is idempotent by it), so the page
can always resend when it is unsure whether a batch arrived.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import phonenumbers
from django.contrib import messages
from django.db import IntegrityError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from unionhall.access.gate import access_block
from unionhall.errors import ScopeError, UserError, WarehouseLocked
from unionhall.field import selectors
from unionhall.field.models import ContactResult, ResultCode, Script, Turf
from unionhall.field.selectors import (
    field_committees,
    saved_lists_visible,
    turf_doors,
)
from unionhall.field.services import contact_result_record
from unionhall.web.decorators import member_data_view

# One POST carries at most this many results; the page sends 50 at a time.
MAX_BATCH = 200
# The codes of the page's two special buttons: "Nobody home" (every person at the door)
# and "Done talking" at the end of the script.
NOBODY_HOME = "NH"
CANVASSED = "CV"


# -- helpers -----------------------------------------------------------------------------


def _script_payload(script: Script | None) -> dict[str, Any] | None:
    """What a script says and asks, as plain data (None without a script)."""
    from unionhall.field.scripts import script_payload

    return None if script is None else script_payload(script)


def _result_codes(channel: str) -> list[dict[str, Any]]:
    """The result codes of a channel (door or phone), in their usual order."""
    return [{"code": c.code, "label": c.label, "contact": c.contact}
            for c in ResultCode.objects.filter(channel__in=[channel, ResultCode.Channel.BOTH])]


def _turfs_of(user: Any) -> Any:
    """Turfs a user may open: their own, and every turf of a committee they organize for
    (to check a canvasser's packet)."""
    qs = Turf.objects.select_related("cut__saved_list__committee", "script", "canvasser")
    if user.is_superuser:
        return qs
    return qs.filter(Q(canvasser=user) | Q(cut__saved_list__committee__in=field_committees(user)))


def _turf_get(user: Any, turf_id: int) -> Turf:
    """A turf the user may open; 404 alike for a missing turf and somebody else's."""
    turf = _turfs_of(user).filter(pk=turf_id).first()
    if turf is None:
        raise Http404("No such turf")
    return turf


def _name(p: dict[str, Any]) -> str:
    return " ".join(str(p[k]) for k in ("first_name", "last_name", "suffix") if p.get(k)) or "(name not shown)"


def _json_error(detail: str, status: int, **extra: Any) -> JsonResponse:
    return JsonResponse({"detail": detail, **extra}, status=status)


# -- the canvass pages -------------------------------------------------------------------


@member_data_view
def my_turfs(request: HttpRequest) -> HttpResponse:
    """The turfs assigned to me, in any committee, with doors done of total."""
    turfs = list(Turf.objects.filter(canvasser_id=request.user.pk).select_related("cut__saved_list__committee", "script")
                 .order_by("cut__saved_list__committee__name", "name"))
    rows = [{"turf": t, "done": selectors.turf_progress(user=request.user, turf=t)} for t in turfs]
    return render(request, "field/canvass_turfs.html", {"rows": rows})


@member_data_view
def canvass_page(request: HttpRequest, turf_id: int) -> HttpResponse:
    """The shell of the canvass page; its data comes from `canvass_data`."""
    turf = _turf_get(request.user, turf_id)
    return render(request, "field/canvass_turf.html", {
        "turf": turf, "mine": turf.canvasser_id == request.user.pk,
        "data_url": reverse("field-canvass-data", args=[turf.pk]), "api_url": reverse("field-results-api"),
    })


@never_cache  # person data: the page keeps its own copy, no cache in between should
def canvass_data(request: HttpRequest, turf_id: int) -> JsonResponse:
    """A turf's doors in walk order with the people at each (name and age only: what is
    needed at the door), the latest result recorded on the turf per person, the script
    and the door result codes. Logged as a turf view."""
    if not request.user.is_authenticated:
        return _json_error("log in again to load the turf", 403)
    block = access_block(request.user)
    if block is not None:
        return _json_error(block.reason, 403, fix_url=block.fix_url)
    turf = _turf_get(request.user, turf_id)
    try:
        doors = turf_doors(user=request.user, turf=turf, log_as="canvass page")
    except ScopeError as exc:
        return _json_error(str(exc), 403)
    return JsonResponse({
        "turf": {"id": turf.pk, "name": turf.name, "committee": turf.committee.name,
                 "script": turf.script.name if turf.script else None},
        "doors": [{
            "door_id": d["door_id"], "seq": d["seq"], "address": d["address"], "unit": d["unit"],
            "city": d["city"], "zip5": d["zip5"],
            # Person ids are 64-bit: as text, or JavaScript rounds them past 2**53.
            "persons": [{"person_id": str(p["person_id"]), "name": _name(p), "age": p.get("age"),
                         "latest": p["latest"] and {k: p["latest"][k] for k in ("code", "label", "at")}}
                        for p in d["persons"]],
        } for d in doors],
        "script": _script_payload(turf.script),
        "result_codes": _result_codes(ResultCode.Channel.DOOR),
        "nobody_home": NOBODY_HOME, "canvassed": CANVASSED,
        "generated_at": timezone.now().isoformat(),
    })


# -- the results API ---------------------------------------------------------------------


def _int_or_none(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise UserError(f"{field} must be a whole number")
    try:
        return int(value)
    except ValueError:
        raise UserError(f"{field} must be a whole number, not {value!r}") from None


def _when(value: Any) -> dt.datetime:
    if not isinstance(value, str) or not value:
        raise UserError("contacted_at is missing: send the time of the contact (ISO 8601 with its offset)")
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UserError(f"contacted_at {value!r} is not an ISO 8601 time") from None
    if timezone.is_naive(when):
        raise UserError("contacted_at needs its offset (e.g. 2026-11-03T10:15:00-05:00)")
    return when


def _record_item(user: Any, item: Any) -> dict[str, Any]:
    """One result of a batch through `contact_result_record`; a bad one answers with
    its message and does not stop the others."""
    client_id = str(item.get("client_id") or "") if isinstance(item, dict) else ""
    try:
        if not isinstance(item, dict):
            raise UserError("each result must be a JSON object")
        person_id = _int_or_none(item.get("person_id"), "person_id")
        if person_id is None:
            raise UserError("person_id is missing")
        turf_id = _int_or_none(item.get("turf_id"), "turf_id")
        list_id = _int_or_none(item.get("list_id"), "list_id")
        turf = saved_list = None
        if turf_id is not None:
            turf = _turfs_of(user).filter(pk=turf_id).first()
            if turf is None:  # the same words for missing and not yours: no probing ids
                raise UserError(f"turf {turf_id} is not one you may record on")
        if list_id is not None:
            saved_list = saved_lists_visible(user).filter(pk=list_id).first()
            if saved_list is None:
                raise UserError(f"list {list_id} is not one you may record on")
        responses = item.get("responses") or {}
        activist_codes = item.get("activist_codes") or []
        if not isinstance(responses, dict) or not isinstance(activist_codes, list):
            raise UserError("responses must be an object (question: response) and activist_codes a list")
        _, created = contact_result_record(
            user=user, client_id=client_id, person_id=person_id, result_code=str(item.get("result_code") or ""),
            channel=str(item.get("channel") or ("door" if turf else "phone")),
            source=str(item.get("source") or ("canvass" if turf else "phone")),
            contacted_at=_when(item.get("contacted_at")), responses=responses, activist_codes=activist_codes,
            note=str(item.get("note") or ""), turf=turf, saved_list=saved_list)
    except WarehouseLocked as exc:
        # Not the result's fault: the page keeps it and sends it again later.
        return {"client_id": client_id, "status": "error", "message": exc.message, "retry": True}
    except UserError as exc:
        return {"client_id": client_id, "status": "error", "message": exc.message}
    except IntegrityError:
        # The same result arriving twice at once (two tabs, a retry racing the
        # original): the other request stored it first.
        if ContactResult.objects.filter(client_id=client_id.strip(), canvasser=user).exists():
            return {"client_id": client_id, "status": "duplicate"}
        return {"client_id": client_id, "status": "error", "message": "this result could not be stored: send it again",
                "retry": True}
    return {"client_id": client_id, "status": "accepted" if created else "duplicate"}


@require_POST
def results_api(request: HttpRequest) -> JsonResponse:
    """`POST {"results": [...]}`: record each result separately and answer per item
    `{"client_id", "status": "accepted" | "duplicate" | "error", "message"?, "retry"?}`
    (`retry`: the error was not the result's, e.g. the warehouse was busy; send it again).

    Session and CSRF (the canvass page calls it); 403 with the reason for a blocked
    account or an expired session, 400 for a body that is not a batch."""
    user = request.user
    if not user.is_authenticated:
        return _json_error("log in again: your results are kept on this device until then", 403)
    block = access_block(user)
    if block is not None:
        return _json_error(block.reason, 403, fix_url=block.fix_url)
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return _json_error("the body is not JSON", 400)
    items = body.get("results") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return _json_error('send {"results": [ ... ]}', 400)
    if len(items) > MAX_BATCH:
        return _json_error(f"send at most {MAX_BATCH} results at a time, not {len(items)}", 400)
    return JsonResponse({"results": [_record_item(user, item) for item in items]})


# -- the phone-bank page -----------------------------------------------------------------


def _phone_display(e164: str) -> str:
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, "US"), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return e164


@member_data_view
def phone_bank(request: HttpRequest, list_id: int) -> HttpResponse:
    """Call the people of a saved list one by one and record each call (plain form: a
    desk connection). A hidden client id made per render keeps a double submit to one
    result."""
    saved_list = saved_lists_visible(request.user).filter(pk=list_id).first()
    if saved_list is None:
        raise Http404("No such list")
    scripts = list(Script.objects.filter(committee=saved_list.committee))
    script = next((s for s in scripts if str(s.pk) == (request.POST.get("script") or request.GET.get("script"))),
                  scripts[0] if scripts else None)
    here = reverse("field-phone-bank", args=[saved_list.pk]) + (f"?script={script.pk}" if script else "")
    error = ""
    posted: dict[str, Any] = {"responses": {}, "activist_codes": [], "note": ""}
    if request.method == "POST":
        payload = _script_payload(script)
        codes = [q["code"] for q in payload["questions"]] if payload else []
        posted = {"responses": {c: request.POST.get(f"q-{c}", "") for c in codes},
                  "activist_codes": request.POST.getlist("activist_code"), "note": request.POST.get("note", "")}
        try:
            person_id = _int_or_none(request.POST.get("person_id"), "person_id")
            if person_id is None:
                raise UserError("the form lost the person: reload the page")
            result, created = contact_result_record(
                user=request.user, client_id=request.POST.get("client_id", ""), person_id=person_id,
                result_code=request.POST.get("result_code", ""), channel=ContactResult.Channel.PHONE,
                source=ContactResult.Source.PHONE, contacted_at=timezone.now(), responses=posted["responses"],
                activist_codes=posted["activist_codes"], note=posted["note"], saved_list=saved_list, script=script)
        except UserError as exc:
            error = exc.message
        else:
            who = request.POST.get("who", "")[:100] or "the person"  # display only: the form's own echo
            messages.success(request, f"Recorded {result.result_code.label} for {who}." if created
                             else "That call was already recorded.")
            return redirect(here)
    try:
        person, left = selectors.phone_bank_next(
            user=request.user, saved_list=saved_list, after=_int_or_none(request.GET.get("after"), "after"))
    except UserError:
        raise Http404("No such person") from None
    return render(request, "field/canvass_phone.html", {
        "saved_list": saved_list, "person": person, "left": left, "error": error, "posted": posted,
        "name": _name(person) if person else "", "phone_display": _phone_display(person["phone"]) if person else "",
        "script": script, "scripts": scripts, "payload": _script_payload(script),
        "result_codes": _result_codes(ResultCode.Channel.PHONE), "client_id": uuid.uuid4().hex, "here": here,
    }, status=400 if error else 200)
