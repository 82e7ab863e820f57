"""Field commands: `unionhall import results` (a vendor's result file in, its
reconciliation printed) and `unionhall import address-points` (coordinates for doors)."""

from __future__ import annotations

import json as jsonlib
from pathlib import Path
from typing import Annotated, Any

import typer

from unionhall.errors import UserError

RESULT_KEYS = ("upload_id", "file", "committee", "vendor", "mapping", "rows_read", "rows_posted", "attempts_posted",
               "rows_quarantined", "rows_already_posted", "quarantine_by_code", "reconciles")


def import_results(
    file: Annotated[Path, typer.Argument(help="The vendor's result file (CSV, TSV, XLSX; any encoding).")],
    committee: Annotated[str, typer.Option("--committee", help="The committee the results are for (its name).")],
    vendor: Annotated[str, typer.Option("--vendor", help="Who sent the file; its saved mapping is reused.")],
    channel: Annotated[str, typer.Option("--channel", help="phone, door, mail or text: rows that do not say.")] = "phone",
    mapping: Annotated[Path | None, typer.Option(
        "--mapping", help="A column mapping JSON file (else the vendor's saved one, else suggested).")] = None,
    user: Annotated[str | None, typer.Option(
        "--user", help="Post as this account: only for persons it may see (default: the committee's scope).")] = None,
    encoding: Annotated[str | None, typer.Option("--encoding", help="Override encoding detection, e.g. cp1252.")] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="XLSX sheet name (default: the first).")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the reconciliation as one JSON object.")] = False,
) -> None:
    """Post a vendor's contact results for a committee; quarantine the rows that cannot be."""
    from unionhall.cli._runtime import out_console, run_job_foreground, setup_django

    if not file.is_file():
        raise UserError(f"{file}: file not found; check the path")
    mapping_json = None
    if mapping is not None:
        try:
            mapping_json = mapping.read_text(encoding="utf-8")
        except OSError as exc:
            raise UserError(f"{mapping}: cannot read the mapping file ({exc.strerror})") from None
    cfg = setup_django()
    from django.contrib.auth import get_user_model

    from unionhall.access.models import Committee
    from unionhall.field.results_import import JOB_KIND, results_upload_from_path

    found = Committee.objects.filter(name__iexact=committee.strip()).first()
    if found is None:
        names = ", ".join(Committee.objects.order_by("name").values_list("name", flat=True)[:20]) or "none yet"
        raise UserError(f"no committee named {committee!r}; committees: {names}")
    account = None
    if user is not None:
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            raise UserError(f"no user named {user!r}: check the spelling")
    up = results_upload_from_path(path=file, user=account, committee=found, vendor=vendor, channel=channel,
                                  data_dir=cfg.data_dir)
    params: dict[str, Any] = {"upload_id": up.pk, "mapping_json": mapping_json, "encoding": encoding,
                              "sheet": sheet}
    job = run_job_foreground(JOB_KIND, {k: v for k, v in params.items() if v is not None}, user=account,
                             quiet=json)
    result = job.result
    if json:
        print(jsonlib.dumps({k: result.get(k) for k in RESULT_KEYS}))
        return
    from rich.markup import escape

    codes = ", ".join(f"{code} {n:,}" for code, n in result["quarantine_by_code"].items())
    lines = [
        f"[bold]{escape(file.name)}[/bold] → {escape(result['committee'])} from {escape(result['vendor'])} "
        f"(mapping: {result['mapping']}, upload {result['upload_id']}, job {job.pk})",
        f"  {'rows read':<24}{result['rows_read']:>8,}",
        f"  {'posted':<24}{result['rows_posted']:>8,}   ({result['attempts_posted']:,} attempts)",
        f"  {'quarantined':<24}{result['rows_quarantined']:>8,}" + (f"   ({escape(codes)})" if codes else ""),
        f"  {'  of them already posted':<24}{result['rows_already_posted']:>8,}   (by an earlier upload)",
        f"  {result['rows_read']:,} read = {result['rows_posted']:,} posted + {result['rows_quarantined']:,} "
        "quarantined ✓",
    ]
    out_console.print("\n".join(lines), highlight=False)


def import_address_points(
    file: Annotated[Path, typer.Argument(help="An address points CSV (state, county or geocoder output).")],
    json: Annotated[bool, typer.Option("--json", help="Print the counts as one JSON object.")] = False,
) -> None:
    """Load the coordinates of street addresses (doors take theirs from here); replaces
    the points of the ZIP codes the file covers."""
    from unionhall.cli._runtime import out_console, run_job_foreground, setup_django

    if not file.is_file():
        raise UserError(f"{file}: file not found; check the path")
    setup_django()
    job = run_job_foreground("field.import_address_points", {"path": str(file.resolve())}, quiet=json)
    r = job.result
    if json:
        print(jsonlib.dumps(r))
        return
    out_console.print(f"{file.name}: {r['rows_read']:,} rows read, {r['rows_loaded']:,} loaded over "
                      f"{r['zip_codes']:,} ZIP codes, {r['rows_skipped']:,} not loaded "
                      f"{r['skipped_by_reason'] or ''}")


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    del app
    import_app.command("results")(import_results)
    import_app.command("address-points")(import_address_points)
