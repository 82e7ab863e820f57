"""Identity pages: match summary, review queue, a person's source records.

Views parse input, call one selector or service, and render (STYLE.md rule 1). They
are for data managers and administrators (blocked accounts get the reason); the
selectors show only the records of their scope and write the usage log.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from unionhall.errors import UserError
from unionhall.identity.selectors import identity_summary, pair_detail, person_sources, review_queue
from unionhall.identity.services import pair_decide, person_merge, person_split
from unionhall.web.decorators import data_manager_view


@data_manager_view
def summary(request: HttpRequest) -> HttpResponse:
    return render(request, "identity/summary.html", identity_summary(user=request.user))


@data_manager_view
def review(request: HttpRequest) -> HttpResponse:
    pairs, total = review_queue(user=request.user)
    return render(request, "identity/review.html", {"pairs": pairs, "total": total})


@data_manager_view
def review_pair(request: HttpRequest, pair: str) -> HttpResponse:
    detail = pair_detail(user=request.user, token=pair)
    if detail is None:
        raise Http404("no such pair")
    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision not in ("accept", "reject"):
            return render(request, "identity/pair.html", {"pair": detail, "error": "Choose Accept or Reject."},
                          status=400)
        pair_decide(key_l=detail["key_l"], key_r=detail["key_r"], accept=decision == "accept",
                    user=request.user, note=request.POST.get("note", ""))
        messages.success(request, f"{'Accepted' if decision == 'accept' else 'Rejected'}: the next "
                                  "matching run applies it.")
        return redirect("identity-review")
    return render(request, "identity/pair.html", {"pair": detail})


@data_manager_view
def person(request: HttpRequest, person_id: int) -> HttpResponse:
    data = person_sources(user=request.user, person_id=person_id)
    if data is None:
        raise Http404("no such person")
    return render(request, "identity/person.html", data)


@data_manager_view
@require_POST
def person_split_view(request: HttpRequest, person_id: int) -> HttpResponse:
    try:
        person_split(record_key=request.POST.get("record_key", ""), user=request.user,
                     note=request.POST.get("note", ""))
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Split recorded: the next matching run makes that record its own person.")
    return redirect("identity-person", person_id=person_id)


@data_manager_view
@require_POST
def person_merge_view(request: HttpRequest, person_id: int) -> HttpResponse:
    try:
        other = int(request.POST.get("other_person_id", "").strip())
        person_merge(person_id=person_id, other_person_id=other, user=request.user,
                     note=request.POST.get("note", ""))
    except ValueError:
        messages.error(request, "Give the other person's id (a number).")
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Merge recorded: the next matching run moves person {other} into this one.")
    return redirect("identity-person", person_id=person_id)
