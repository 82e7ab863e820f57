"""Election pages: thin over selectors."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe

from unionhall.elections.charts import daily_returns_svg
from unionhall.elections.selectors import early_vote_report, election_loads, person_election_detail
from unionhall.errors import ScopeError, UserError
from unionhall.web.decorators import member_data_view, voter_file_view


@member_data_view
def person_page(request: HttpRequest, person_id: int) -> HttpResponse:
    try:
        detail = person_election_detail(user=request.user, person_id=person_id)
    except ScopeError:
        detail = None
    if detail is None:
        raise Http404("No such person")
    # The person page is every capability's view of one person: the field program adds
    # what happened at their door and on their phone.
    from unionhall.field.selectors import contact_history_for

    detail["contacts"] = contact_history_for(user=request.user, person_id=detail["person"]["person_id"])
    return render(request, "elections/person.html", detail)


@member_data_view
def early_vote_page(request: HttpRequest) -> HttpResponse:
    election: dt.date | None = None
    raw = request.GET.get("election", "")
    if raw:
        try:
            election = dt.date.fromisoformat(raw)
        except ValueError:
            raise Http404("No such election") from None
    try:
        report = early_vote_report(user=request.user, election_dt=election)
    except ScopeError as exc:
        # Blocked accounts (2FA, agreement, expiry) see why, never other people's numbers.
        return render(request, "elections/early_vote.html", {"blocked": str(exc)}, status=403)
    report["chart"] = mark_safe(daily_returns_svg(report["by_day"]))  # noqa: S308 (built with escape())
    return render(request, "elections/early_vote.html", report)


@login_required
def loads_page(request: HttpRequest) -> HttpResponse:
    return render(request, "elections/loads.html", {"loads": election_loads()})


_SESSION_KEY = "voter_uploads"


@voter_file_view
def voter_files_page(request: HttpRequest) -> HttpResponse:
    """Saved voter-file layouts, and the upload of another state's or a vendor's file."""
    from django.conf import settings

    from unionhall.elections.vendor import STATE_FIPS, state_check
    from unionhall.elections.voter_layouts import (
        voter_layout_get,
        voter_layout_list,
        voter_upload_create,
    )

    error = ""
    if request.method == "POST":
        f = request.FILES.get("file")
        layout_name = request.POST.get("layout", "").strip()
        try:
            if f is None:
                raise UserError("Choose the voter file to load.")
            lay = voter_layout_get(name=layout_name) if layout_name else None
            state = state_check(request.POST.get("state") or (lay.state if lay else ""))
            token, path = voter_upload_create(name=f.name or "voterfile", chunks=f.chunks(),
                                              data_dir=settings.UNIONHALL.data_dir)
        except UserError as exc:
            error = exc.message
        else:
            uploads = dict(request.session.get(_SESSION_KEY, {}))
            uploads[token] = {"path": path, "file_name": f.name, "state": state, "layout": layout_name}
            request.session[_SESSION_KEY] = uploads
            return redirect("elections-voter-file-map", token=token)
    return render(
        request, "elections/voter_files.html",
        {"layouts": voter_layout_list(), "states": sorted(STATE_FIPS), "error": error},
        status=400 if error else 200,
    )


@voter_file_view
def voter_file_map(request: HttpRequest, token: str) -> HttpResponse:
    """The ingest mapping screen, with the voter schema, for an uploaded voter file."""
    from unionhall.elections.vendor import VoterLayout, layout_resolve
    from unionhall.elections.voter_layouts import voter_import_submit, voter_layout_get
    from unionhall.ingest.mapping import CUSTOM, SKIP, ColumnMapping, ColumnRule
    from unionhall.ingest.voter_schema import VOTER_FIELDS

    info = request.session.get(_SESSION_KEY, {}).get(token)
    if info is None:
        raise Http404("No such upload")
    errors: list[str] = []
    try:
        given = voter_layout_get(name=info["layout"]) if info["layout"] else None
        resolved = layout_resolve(path=info["path"], layout=given, strict=False)
    except UserError as exc:
        return render(request, "elections/voter_files.html", {"error": exc.message, "layouts": [], "states": []},
                      status=400)
    layout = resolved.layout
    reader = resolved.reader
    if request.method == "POST":
        try:
            columns = {col: ColumnRule(request.POST.get(f"field_{i}", CUSTOM)) for i, col in enumerate(reader.header)}
            layout = VoterLayout(
                mapping=ColumnMapping(columns=columns, date_order=request.POST.get("date_order", "MDY"),
                                      schema="voter"),
                name=layout.name, state=info["state"], encoding=layout.encoding, delimiter=layout.delimiter,
                column_names=layout.column_names, fixed_width=layout.fixed_width, header_lines=layout.header_lines,
            )
            job = voter_import_submit(path=info["path"], state=info["state"], layout=layout,
                                      save_layout=request.POST.get("layout_name", "").strip(), user=request.user)
        except UserError as exc:
            errors = exc.message.split("; ")
        else:
            return redirect("job-detail", job_id=job.pk)
    samples = reader.sample_rows(5)
    rows = [
        {"index": i, "column": col, "rule": layout.mapping.rule(col),
         "samples": [r[i] for r in samples if i < len(r) and r[i]][:3]}
        for i, col in enumerate(reader.header)
    ]
    return render(
        request, "elections/voter_mapping.html",
        {
            "upload": {"file_name": info["file_name"], "source_name": f"a {info['state']} voter file"},
            "rows": rows, "origin": "suggested" if resolved.suggested else "layout",
            "layout_name": layout.name or "", "notes": resolved.notes,
            "fields": list(VOTER_FIELDS.items()), "custom": CUSTOM, "skip": SKIP, "phone_types": (),
            "custom_label": "keep in voter_extra", "date_order": layout.mapping.date_order, "errors": errors,
        },
        status=400 if errors else 200,
    )
