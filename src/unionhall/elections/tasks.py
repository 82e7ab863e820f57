"""Election-data import jobs. Each runs in the job's one warehouse transaction."""

from __future__ import annotations

from typing import Any

from unionhall.elections import services
from unionhall.jobs.registry import job_kind
from unionhall.jobs.runner import JobContext


def _log_result(ctx: JobContext, result: dict[str, Any]) -> None:
    ctx.log(
        f"{result['file']}: read {result['rows_read']:,}, loaded {result['rows_loaded']:,}, "
        f"quarantined {result['rows_quarantined']:,}, flagged {result['rows_flagged']:,}; "
        f"new {result['new']:,}, changed {result['changed']:,}, removed {result['removed']:,}"
    )
    for note in result["notes"]:
        ctx.log(note)


@job_kind("elections.import_voterfile", title="Import an NC voter file")
def import_voterfile(
    ctx: JobContext, path: str, as_of: str | None = None, encoding: str = "utf-8"
) -> dict[str, Any]:
    result = services.voterfile_import(
        warehouse=ctx.warehouse, path=path, as_of=as_of, encoding=encoding,
        job_id=ctx.job.pk, progress=ctx.progress,
    ).as_dict()
    _log_result(ctx, result)
    return result


@job_kind("elections.import_history", title="Import NC vote history")
def import_history(
    ctx: JobContext, path: str, as_of: str | None = None, encoding: str = "utf-8", last_n: int = 4
) -> dict[str, Any]:
    result = services.vote_history_import(
        warehouse=ctx.warehouse, path=path, as_of=as_of, encoding=encoding, last_n=last_n,
        job_id=ctx.job.pk, progress=ctx.progress,
    ).as_dict()
    _log_result(ctx, result)
    return result


@job_kind("elections.import_polling_places", title="Import NC polling places")
def import_polling_places(ctx: JobContext, path: str, encoding: str = "auto") -> dict[str, Any]:
    result = services.polling_places_import(
        warehouse=ctx.warehouse, path=path, encoding=encoding, job_id=ctx.job.pk,
        progress=ctx.progress,
    ).as_dict()
    _log_result(ctx, result)
    return result


@job_kind("elections.import_absentee", title="Import an NC absentee / early-vote file")
def import_absentee(
    ctx: JobContext, path: str, as_of: str | None = None, encoding: str = "cp437"
) -> dict[str, Any]:
    result = services.absentee_import(
        warehouse=ctx.warehouse, path=path, as_of=as_of, encoding=encoding,
        job_id=ctx.job.pk, progress=ctx.progress,
    ).as_dict()
    _log_result(ctx, result)
    return result


@job_kind("elections.import_voterfile_vendor", title="Import another state's or a vendor's voter file")
def import_voterfile_vendor(
    ctx: JobContext,
    path: str,
    state: str,
    layout: dict[str, Any] | None = None,
    as_of: str | None = None,
    save_layout: str | None = None,
) -> dict[str, Any]:
    from unionhall.elections.vendor import VoterLayout, layout_resolve, mapping_lines
    from unionhall.elections.voter_layouts import voter_layout_save

    given = VoterLayout.from_dict(layout) if layout else None
    resolved = layout_resolve(path=path, layout=given).layout
    rec = services.vendor_voterfile_import(
        warehouse=ctx.warehouse, path=path, state=state, layout=resolved, as_of=as_of,
        job_id=ctx.job.pk, progress=ctx.progress,
    )
    result = rec.as_dict()
    result["mapping"] = mapping_lines(resolved)
    # The first quarantined rows, as a person reads them: file, row, column, reason.
    rows = ctx.warehouse.cursor().execute(
        "SELECT row_number, column_name, reason FROM election_quarantine WHERE load_id = ? "
        "ORDER BY row_number LIMIT 5",
        [rec.load_id],
    ).fetchall() if rec.rows_quarantined and not rec.already_loaded else []
    result["quarantine_examples"] = [
        f"{rec.file}: row {r}: " + (f"column {c}: " if c else "") + reason for r, c, reason in rows
    ]
    if save_layout:
        # Saved only when the load commits (the app database write waits for the warehouse).
        resolved.state = resolved.state or state
        name = save_layout.strip()

        def save() -> None:
            voter_layout_save(name=name, layout=resolved, user=ctx.user)

        ctx.defer_app_write(save)
        result["saved_layout"] = name
        ctx.log(f"layout saved as {name!r}")
    _log_result(ctx, result)
    return result
