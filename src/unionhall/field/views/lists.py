"""Lists and turfs: the list builder with instant counts, saved lists and folders,
turf cutting, editing and assignment, walk sheets, call sheets and the mail file."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from unionhall.access.models import Committee
from unionhall.errors import ScopeError, UserError
from unionhall.field import selectors, services
from unionhall.field.lists import BALLOT_CHOICES, CONTACTED_CHOICES, ListDefinition, list_counts
from unionhall.field.models import Folder, SavedList, Script, Turf, TurfCut
from unionhall.web.decorators import member_data_view

# Form fields of the builder: (name, kind). Multi-valued ones come as repeated keys or
# one comma-separated text; numbers and booleans are parsed with a message on error.
MULTI = ("counties", "precincts", "cong_dists", "nc_senates", "nc_houses", "municipalities", "zip5s",
         "affiliates", "locals", "member_statuses", "dues_statuses", "worksites", "reg_statuses", "parties",
         "sexes", "vote_habits", "voted_in", "not_voted_in", "last_results", "survey", "activist_codes",
         "scores")
NUMBERS = ("age_min", "age_max", "generals_voted_min", "generals_voted_max")
TRISTATE = ("registered", "first_time_voter", "has_phone", "has_email")
CHOICE = ("ballot", "contacted")
DATES = ("contacted_since", "not_contacted_since")
FLAGS = ("walkable_only", "exclude_final")


def definition_from(q: QueryDict) -> ListDefinition:
    """A list definition from the builder's form fields (UserError on bad input)."""
    values: dict[str, Any] = {}
    for name in MULTI:
        items = [v.strip() for raw in q.getlist(name) for v in raw.split(",") if v.strip()]
        if items:
            values[name] = tuple(dict.fromkeys(items))
    for name in NUMBERS:
        raw = q.get(name, "").strip()
        if raw:
            try:
                values[name] = int(raw)
            except ValueError:
                raise UserError(f"{name.replace('_', ' ')}: {raw!r} is not a whole number") from None
    for name in TRISTATE:
        raw = q.get(name, "")
        if raw in ("yes", "no"):
            values[name] = raw == "yes"
    for name in (*CHOICE, *DATES):
        raw = q.get(name, "").strip()
        if raw:
            values[name] = raw
    for name in FLAGS:
        if q.get(name) in ("on", "1", "yes", "true"):
            values[name] = True
    bands = _score_bands(q)
    if bands:
        values["scores"] = tuple(dict.fromkeys((*values.get("scores", ()), *bands)))
    d = ListDefinition(**values)
    d.check()
    return d


def _score_bands(q: QueryDict) -> list[str]:
    """"slot:low-high" from the builder's score inputs (score__<slot>__low / __high, 0-100;
    one end left empty means 0 or 100)."""
    out = []
    slots = sorted({k.split("__")[1] for k in q if k.startswith("score__") and k.count("__") == 2})
    for slot in slots:
        low, high = q.get(f"score__{slot}__low", "").strip(), q.get(f"score__{slot}__high", "").strip()
        if low or high:
            out.append(f"{slot}:{low or 0}-{high or 100}")
    return out


def field_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """For users who organize for at least one committee."""
    from unionhall.web.decorators import role_view

    return role_view(lambda u: bool(selectors.field_committees(u)),
                     "organizers, data managers and administrators")(view)


def _committee(request: HttpRequest, raw: str | None) -> Committee:
    committees = selectors.field_committees(request.user)
    for c in committees:
        if str(c.pk) == (raw or ""):
            return c
    if raw:
        raise UserError("choose one of your committees")
    return committees[0]


@field_view
def builder(request: HttpRequest) -> HttpResponse:
    """Build a universe: filters on the left, counts that follow every change."""
    error = ""
    definition = ListDefinition()
    try:
        definition = definition_from(request.GET)
    except UserError as exc:
        error = exc.message
    options = selectors.list_builder_options(user=request.user)
    counts = None if error else list_counts(user=request.user, definition=definition)
    return render(request, "field/lists_builder.html", {
        "options": options, "q": request.GET, "counts": counts, "error": error, "definition": definition,
        "committees": selectors.field_committees(request.user),
        "folders": Folder.objects.filter(committee__in=selectors.field_committees(request.user)),
        "ballot_choices": BALLOT_CHOICES, "contacted_choices": CONTACTED_CHOICES,
        "selected": {name: set(request.GET.getlist(name)) for name in MULTI},
        "score_slots": _slots(request),
    })


def _slots(request: HttpRequest) -> list[dict[str, Any]]:
    """The score slots the user's lists can filter on, with the builder's values."""
    from unionhall.analytics.services import slots_available

    return [{"slot": m.slot, "model": m, "low": request.GET.get(f"score__{m.slot}__low", ""),
             "high": request.GET.get(f"score__{m.slot}__high", "")} for m in slots_available(request.user)]


@field_view
def builder_counts(request: HttpRequest) -> HttpResponse:
    """The counts partial the builder asks for as filters change (htmx)."""
    try:
        counts = list_counts(user=request.user, definition=definition_from(request.GET))
        return render(request, "field/lists_counts.html", {"counts": counts})
    except UserError as exc:
        return render(request, "field/lists_counts.html", {"error": exc.message})  # htmx swaps 2xx only


@field_view
@require_POST
def list_save(request: HttpRequest) -> HttpResponse:
    try:
        definition = definition_from(request.POST)
        committee = _committee(request, request.POST.get("committee"))
        folder = None
        folder_name = request.POST.get("new_folder", "").strip()
        if folder_name:
            folder = services.folder_create(user=request.user, committee=committee, name=folder_name)
        elif request.POST.get("folder"):
            folder = get_object_or_404(Folder, pk=request.POST["folder"], committee=committee)
        saved = services.saved_list_create(
            user=request.user, name=request.POST.get("name", ""), committee=committee, definition=definition,
            folder=folder, shared=request.POST.get("shared") != "no")
    except UserError as exc:
        if getattr(request, "htmx", False):
            # htmx swaps 2xx answers only: the message goes under the button
            return HttpResponse(f'<p class="error" role="alert">{escape(exc.message)}</p>')
        messages.error(request, exc.message)
        return redirect("field-list-builder")
    messages.success(request, f"Saved {saved.name}: {saved.people:,} people, {saved.doors:,} doors.")
    url = reverse("field-list", kwargs={"list_id": saved.pk})
    return HttpResponseClientRedirect(url) if getattr(request, "htmx", False) else redirect(url)


@field_view
def list_index(request: HttpRequest) -> HttpResponse:
    lists = list(selectors.saved_lists_visible(request.user))
    folders: dict[str, list[SavedList]] = {}
    for saved in lists:
        key = f"{saved.committee.name} / {saved.folder.name}" if saved.folder else f"{saved.committee.name}"
        folders.setdefault(key, []).append(saved)
    return render(request, "field/lists_index.html", {"folders": sorted(folders.items())})


def _visible_list(request: HttpRequest, list_id: int) -> SavedList:
    try:
        return selectors.saved_lists_visible(request.user).get(pk=list_id)
    except SavedList.DoesNotExist:
        raise Http404("No such list") from None


@member_data_view
def list_detail(request: HttpRequest, list_id: int) -> HttpResponse:
    saved = _visible_list(request, list_id)
    definition = ListDefinition.from_json(saved.definition)
    try:
        offset = max(0, int(request.GET.get("offset", "0")))
    except ValueError:
        offset = 0
    try:
        rows = selectors.saved_list_page(user=request.user, saved_list=saved, offset=offset)
    except ScopeError as exc:
        raise Http404(str(exc)) from None
    cuts = list(TurfCut.objects.filter(saved_list=saved).select_related("job").prefetch_related(
        "turfs", "turfs__canvasser"))
    can_organize = saved.committee in selectors.field_committees(request.user)
    return render(request, "field/lists_detail.html", {
        "list": saved, "filters": definition.describe(), "rows": rows, "offset": offset,
        "next": offset + len(rows) if len(rows) == 50 else None, "prev": max(0, offset - 50) if offset else None,
        "cuts": cuts, "can_organize": can_organize, "can_download": _mail_allowed(request.user),
        "builder_query": _query_of(definition),
    })


def _mail_allowed(user: Any) -> bool:
    from unionhall.access.selectors import download_allowed

    return download_allowed(user=user)


def _query_of(definition: ListDefinition) -> str:
    q = QueryDict(mutable=True)
    for k, v in definition.to_json().items():
        if isinstance(v, list):
            q.setlist(k, [str(x) for x in v])
        elif isinstance(v, bool):
            q[k] = "yes" if k in TRISTATE and v else ("no" if k in TRISTATE else "on")
        else:
            q[k] = str(v)
    return q.urlencode()


@field_view
@require_POST
def list_refresh(request: HttpRequest, list_id: int) -> HttpResponse:
    saved = _visible_list(request, list_id)
    try:
        saved = services.saved_list_refresh(user=request.user, saved_list=saved)
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Refreshed: {saved.people:,} people now (version {saved.version}).")
    return redirect("field-list", list_id=saved.pk)


@field_view
@require_POST
def cut_submit(request: HttpRequest, list_id: int) -> HttpResponse:
    saved = _visible_list(request, list_id)
    try:
        target = int(request.POST.get("target", "60"))
        job = services.turf_cut_submit(user=request.user, saved_list=saved, target_doors=target)
    except ValueError:
        messages.error(request, "Doors per turf must be a whole number.")
        return redirect("field-list", list_id=saved.pk)
    except UserError as exc:
        messages.error(request, exc.message)
        return redirect("field-list", list_id=saved.pk)
    return redirect("job-detail", job_id=job.pk)


def _cut(request: HttpRequest, cut_id: int) -> TurfCut:
    cut = get_object_or_404(TurfCut.objects.select_related("saved_list", "saved_list__committee"), pk=cut_id)
    _visible_list(request, cut.saved_list_id)
    return cut


@member_data_view
def cut_detail(request: HttpRequest, cut_id: int) -> HttpResponse:
    cut = _cut(request, cut_id)
    committee = cut.saved_list.committee
    turfs = list(cut.turfs.select_related("canvasser", "script"))
    users = get_user_model().objects.filter(role_grants__committee=committee).distinct().order_by("username")
    doors, _persons = selectors.cut_doors_frame(user=request.user, cut=cut)
    streets: dict[int, list[str]] = {}
    for no, street in doors.select("turf_no", "street").unique().sort("street").iter_rows():
        if street:
            streets.setdefault(int(no), []).append(str(street))
    from unionhall.field.charts import turf_map_svg

    return render(request, "field/turfs_cut.html", {
        "cut": cut, "turfs": turfs, "users": users, "scripts": Script.objects.filter(committee=committee),
        "streets": streets, "map": turf_map_svg(doors),
        "can_organize": committee in selectors.field_committees(request.user),
    })


@field_view
@require_POST
def cut_edit(request: HttpRequest, cut_id: int) -> HttpResponse:
    """Move a street or a door between turfs, merge two, split one, or assign."""
    cut = _cut(request, cut_id)
    p = request.POST
    action = p.get("action", "")
    try:
        if action == "move":
            seq = p.get("seq", "").strip()
            door_ids = None
            if seq:  # a door by its number on the turf's walk sheet
                door_ids = selectors.cut_door_at(user=request.user, cut=cut, turf_no=int(p["from_turf"]),
                                                 seq=int(seq))
            n = services.turf_move(user=request.user, cut=cut, from_turf=int(p["from_turf"]),
                                   to_turf=int(p["to_turf"]), street=p.get("street") or None, door_ids=door_ids)
            messages.success(request, f"Moved {n} door{'s' if n != 1 else ''}.")
        elif action == "merge":
            t = services.turf_merge(user=request.user, cut=cut, keep=int(p["keep"]), merge=int(p["merge"]))
            messages.success(request, f"Merged into turf {t.number}: {t.doors} doors.")
        elif action == "split":
            t = services.turf_split(user=request.user, cut=cut, number=int(p["number"]))
            messages.success(request, f"Split: the new turf {t.number} has {t.doors} doors.")
        elif action == "assign":
            turf = get_object_or_404(Turf, cut=cut, number=int(p["number"]))
            canvasser = get_user_model().objects.filter(pk=p.get("canvasser") or 0).first()
            script = Script.objects.filter(pk=p.get("script") or 0).first()
            services.turf_assign(user=request.user, turf=turf, canvasser=canvasser, script=script)
            messages.success(request, f"Turf {turf.number} assigned"
                                      f"{' to ' + canvasser.get_username() if canvasser else ''}.")
        else:
            raise UserError("choose what to do: move, merge, split or assign")
    except (KeyError, ValueError):
        messages.error(request, "Give the turf numbers as whole numbers.")
    except UserError as exc:
        messages.error(request, exc.message)
    return redirect("field-cut", cut_id=cut.pk)


def _turf(request: HttpRequest, turf_id: int) -> Turf:
    turf = get_object_or_404(Turf.objects.select_related("cut", "cut__saved_list", "cut__saved_list__committee",
                                                         "canvasser", "script"), pk=turf_id)
    if turf.canvasser_id != request.user.pk:
        _visible_list(request, turf.cut.saved_list_id)
    return turf


@member_data_view
def walk_sheet(request: HttpRequest, turf_id: int) -> HttpResponse:
    """The turf's walk sheet as a PDF (the script, the doors in walk order, bubbles)."""
    from unionhall.field.printing import walk_sheet_for

    turf = _turf(request, turf_id)
    pdf = walk_sheet_for(user=request.user, turf=turf, now=timezone.now())
    return _pdf(pdf, f"walk-sheet-turf-{turf.number}.pdf")


@member_data_view
def call_sheet(request: HttpRequest, list_id: int) -> HttpResponse:
    """Call sheets for the people with a phone on a saved list (200 per file)."""
    from unionhall.field.printing import call_sheet_for

    saved = _visible_list(request, list_id)
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    pdf = call_sheet_for(user=request.user, saved_list=saved, page=page, now=timezone.now())
    return _pdf(pdf, f"call-sheet-{saved.pk}-{page}.pdf")


@member_data_view
def mail_file(request: HttpRequest, list_id: int, fmt: str) -> HttpResponse:
    """One row per household of a saved list, addressed, as formula-safe CSV or XLSX."""
    from unionhall.field.printing import MailRefused, mail_file_for

    saved = _visible_list(request, list_id)
    if fmt not in ("csv", "xlsx"):
        raise Http404("csv or xlsx")
    try:
        body = mail_file_for(user=request.user, saved_list=saved, fmt=fmt)
    except MailRefused as exc:
        return render(request, "access/download_refused.html", {"reason": str(exc)}, status=403)
    content_type = ("text/csv; charset=utf-8" if fmt == "csv"
                    else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="mail-{saved.pk}-{timezone.localdate():%Y%m%d}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


def _pdf(pdf: bytes, name: str) -> HttpResponse:
    response = HttpResponse(io.BytesIO(pdf).getvalue(), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
