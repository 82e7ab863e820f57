"""Reads behind the import pages: each for a user, quarantined rows through the gateway."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ibis
from django.db.models import Q, QuerySet

from unionhall.access.gateway import person_rows
from unionhall.access.gateway import quarantine_rows as quarantine_table
from unionhall.access.roles import member_sources_loadable
from unionhall.access.services import usage_record
from unionhall.errors import ScopeError
from unionhall.ingest.models import ImportRun, Source
from unionhall.jobs.models import Job

QUARANTINE_PAGE = 50


def import_run_list(*, user: Any) -> QuerySet[ImportRun]:
    """Imports the user may see: of the sources they may load, and their own."""
    qs = ImportRun.objects.select_related("source", "imported_by", "job")
    loadable = member_sources_loadable(user)
    if loadable is None:
        return qs
    return qs.filter(Q(source__slug__in=sorted(loadable)) | Q(imported_by=user))


def import_failures(*, user: Any, limit: int = 20) -> QuerySet[Job]:
    qs = Job.objects.filter(kind="ingest.import_members", status=Job.Status.FAILED)
    if member_sources_loadable(user) is not None:
        qs = qs.filter(created_by=user)
    return qs[:limit]


def _quarantine(user: Any, run: ImportRun) -> ibis.Table:
    if run.job_id is None:
        raise ScopeError("this import's job record is gone")
    q = quarantine_table(user=user, import_id=run.job_id, imported_by_id=run.imported_by_id)
    return q.select("row_number", "code", "reason", "raw")


def quarantine_page(*, user: Any, run: ImportRun, page: int) -> tuple[list[tuple[Any, ...]], int]:
    """One page of an import's quarantined rows and the total count (ScopeError when
    the user may not see them). Logged with the rows shown."""
    q = _quarantine(user, run)
    total = int(q.count().execute())
    rows = q.order_by("row_number").limit(QUARANTINE_PAGE, offset=max(0, page - 1) * QUARANTINE_PAGE)
    out = [tuple(r.values()) for r in rows.to_pyarrow().to_pylist()]
    usage_record(user=user, action="quarantine_view", persons=len(out),
                 detail={"import": run.pk, "source": run.source.slug, "page": page})
    return out, total


def quarantine_rows(*, user: Any, run: ImportRun) -> Iterator[tuple[Any, ...]]:
    """Every quarantined row of an import, in file order, streamed (ScopeError, raised
    at once, when the user may not see them). Logged as an export of those rows."""
    q = _quarantine(user, run).order_by("row_number")
    usage_record(user=user, action="export", persons=int(q.count().execute()),
                 detail={"kind": "quarantine download", "import": run.pk, "source": run.source.slug})

    def stream() -> Iterator[tuple[Any, ...]]:
        for batch in q.to_pyarrow_batches(chunk_size=5000):
            for r in batch.to_pylist():
                yield tuple(r.values())

    return stream()


def member_totals(*, user: Any) -> list[dict[str, Any]]:
    """Active and dropped member records per source, over the member records the user
    may see (none without a role that sees persons)."""
    try:
        m = person_rows(user=user, table="member_record")
    except ScopeError:
        return []
    rows = m.group_by("source").aggregate(
        active=(m.status == "active").sum(), dropped=(m.status == "dropped").sum()
    ).order_by("source").to_pyarrow().to_pylist()
    names = dict(Source.objects.values_list("slug", "name"))
    return [{"source": names.get(r["source"], r["source"]), "active": int(r["active"] or 0),
             "dropped": int(r["dropped"] or 0)} for r in rows]
