from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from unionhall.jobs.models import Job


def job_list(*, user: Any, limit: int = 50) -> QuerySet[Job]:
    """Jobs the user may see: platform administrators see all, others their own (a
    job's log names files and counts of the data it touched)."""
    qs = Job.objects.select_related("created_by")
    if not user.is_superuser:
        qs = qs.filter(created_by=user)
    return qs[:limit]


def job_get(*, user: Any, job_id: int) -> Job:
    """One job, with the same DoesNotExist for missing and not-yours."""
    qs = Job.objects.select_related("created_by")
    if not user.is_superuser:
        qs = qs.filter(created_by=user)
    return qs.get(pk=job_id)
