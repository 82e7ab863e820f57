"""Reads behind the import pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from unionhall.ingest.models import ImportRun, Source
from unionhall.jobs.models import Job
from unionhall.warehouse import get_warehouse

QUARANTINE_PAGE = 50


def import_run_list() -> QuerySet[ImportRun]:
    return ImportRun.objects.select_related("source", "imported_by", "job")


def import_failures(limit: int = 20) -> QuerySet[Job]:
    return Job.objects.filter(kind="ingest.import_members", status=Job.Status.FAILED)[:limit]


def quarantine_page(*, import_id: int, page: int) -> tuple[list[tuple[Any, ...]], int]:
    """One page of an import's quarantined rows and the total count."""
    cur = get_warehouse().cursor()
    total_row = cur.execute("SELECT count(*) FROM member_quarantine WHERE import_id = ?", [import_id]).fetchone()
    rows = cur.execute(
        "SELECT row_number, code, reason, raw FROM member_quarantine WHERE import_id = ? "
        "ORDER BY row_number LIMIT ? OFFSET ?",
        [import_id, QUARANTINE_PAGE, max(0, page - 1) * QUARANTINE_PAGE],
    ).fetchall()
    return rows, int(total_row[0]) if total_row else 0


def quarantine_rows(*, import_id: int) -> Iterator[tuple[Any, ...]]:
    """Every quarantined row of an import, in file order (streamed)."""
    cur = get_warehouse().backend.con.cursor()
    cur.execute(
        "SELECT row_number, code, reason, raw FROM member_quarantine WHERE import_id = ? ORDER BY row_number",
        [import_id],
    )
    while batch := cur.fetchmany(5000):
        yield from batch


def member_totals() -> list[dict[str, Any]]:
    """Active and dropped member records per source (aggregates only, no person rows)."""
    wh = get_warehouse()
    if "member_record" not in wh.tables():
        return []
    rows = wh.cursor().execute(
        "SELECT source, count(*) FILTER (WHERE status = 'active'), count(*) FILTER (WHERE status = 'dropped') "
        "FROM member_record GROUP BY source ORDER BY source"
    ).fetchall()
    names = dict(Source.objects.values_list("slug", "name"))
    return [{"source": names.get(s, s), "active": a, "dropped": d} for s, a, d in rows]
