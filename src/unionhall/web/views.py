"""Pages. Each view parses input, calls one selector or service, and renders."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from unionhall.jobs.models import Job
from unionhall.jobs.selectors import job_get, job_list
from unionhall.web.selectors import health_check, home_summary


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_check()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "unionhall/home.html",
        {"summary": home_summary(user=request.user), "jobs": job_list(user=request.user, limit=10)},
    )


@login_required
def job_list_page(request: HttpRequest) -> HttpResponse:
    return render(request, "unionhall/job_list.html", {"jobs": job_list(user=request.user)})


def _job_or_404(request: HttpRequest, job_id: int) -> Job:
    try:
        return job_get(user=request.user, job_id=job_id)
    except Job.DoesNotExist:
        raise Http404("No such job") from None


@login_required
def job_page(request: HttpRequest, job_id: int) -> HttpResponse:
    return render(request, "unionhall/job_detail.html", {"job": _job_or_404(request, job_id)})


@login_required
def job_status_partial(request: HttpRequest, job_id: int) -> HttpResponse:
    return render(request, "unionhall/_job_status.html", {"job": _job_or_404(request, job_id)})
