"""Saved voter-file layouts in the app database, reusable by name.

A layout is stored as an ingest `Source` of kind `voter_layout` with its versions in
`SourceMapping` (the newest is used), the same tables that keep affiliates' saved column
mappings, so saving a layout again keeps the old one in the history.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.text import slugify

from unionhall.elections.vendor import VoterLayout
from unionhall.errors import UserError

_SLUG_PREFIX = "voter-layout-"


def _slug(name: str) -> str:
    slug = slugify(name.strip())
    if not slug:
        raise UserError(f"layout name {name!r} needs letters or digits")
    return _SLUG_PREFIX + slug


@transaction.atomic
def voter_layout_save(*, name: str, layout: VoterLayout, user: Any = None) -> VoterLayout:
    """Save `layout` under `name` (a new version when the name exists); returns it named."""
    from unionhall.ingest.models import Source, SourceMapping

    name = name.strip()
    slug = _slug(name)
    src = Source.objects.filter(slug=slug).first()
    if src is None:
        if Source.objects.filter(name=name).exists():
            raise UserError(f"{name!r} is already the name of a member-list source; pick another layout name")
        src = Source.objects.create(name=name, slug=slug, kind=Source.Kind.VOTER_LAYOUT)
    named = VoterLayout(
        mapping=layout.mapping, name=name, state=layout.state, encoding=layout.encoding,
        delimiter=layout.delimiter, column_names=layout.column_names, fixed_width=layout.fixed_width,
        header_lines=layout.header_lines,
    )
    SourceMapping.objects.create(
        source=src, mapping_json=named.to_json(), saved_by=user if getattr(user, "pk", None) else None
    )
    return named


def voter_layout_get(*, name: str) -> VoterLayout:
    """The newest saved version of the layout called `name`, or a UserError listing the saved ones."""
    from unionhall.ingest.models import SourceMapping

    row = (
        SourceMapping.objects.filter(source__slug=_slug(name), source__kind="voter_layout")
        .order_by("-saved_at", "-id").first()
    )
    if row is None:
        names = [r["name"] for r in voter_layout_list()]
        known = f"saved layouts: {', '.join(names)}" if names else "no layouts are saved yet"
        raise UserError(
            f"no saved voter-file layout called {name!r} ({known}); give a layout file with --layout FILE "
            "or save one with --save-layout NAME"
        )
    import json

    return VoterLayout.from_dict(json.loads(row.mapping_json), where=f"saved layout {name!r}")


def voter_layout_list() -> list[dict[str, Any]]:
    """Saved layouts: name, state, number of mapped columns, versions, last saved."""
    import json

    from unionhall.ingest.models import Source

    out = []
    for src in Source.objects.filter(kind="voter_layout").prefetch_related("mappings").order_by("name"):
        versions = list(src.mappings.all())
        if not versions:
            continue
        data = json.loads(versions[0].mapping_json)
        cols = data.get("mapping", {}).get("columns", {})
        mapped = sum(1 for f in cols.values() if f not in ("custom", "skip")) if isinstance(cols, dict) else len(cols)
        reader = data.get("reader", {})
        fmt = "fixed-width" if reader.get("fixed_width") else ("no header" if reader.get("header") is False else "header")
        out.append({
            "name": src.name, "state": data.get("state") or "", "mapped": mapped, "format": fmt,
            "versions": len(versions), "saved_at": versions[0].saved_at,
            "saved_by": str(versions[0].saved_by) if versions[0].saved_by else "",
        })
    return out


def voter_layout_resolve(*, value: str | None) -> VoterLayout | None:
    """`--layout` value: a layout file when such a file exists, else a saved layout's name."""
    if not value:
        return None
    from pathlib import Path

    p = Path(value).expanduser()
    if p.is_file() or p.suffix.lower() in (".json", ".toml"):
        return VoterLayout.read(p)
    return voter_layout_get(name=value)


def voter_upload_create(*, name: str, chunks: Any, data_dir: Any) -> tuple[str, str]:
    """Store an uploaded voter file under the data directory; returns (token, path)."""
    import secrets
    from pathlib import Path

    token = secrets.token_hex(12)
    folder = Path(data_dir) / "uploads" / "voterfiles" / token
    folder.mkdir(parents=True)
    target = folder / (Path(name).name or "voterfile")
    with target.open("wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
    return token, str(target)


def voter_import_submit(
    *, path: str, state: str, layout: VoterLayout, save_layout: str | None, user: Any
) -> Any:
    """Queue the load of a voter file with a confirmed layout; returns the Job."""
    from unionhall.elections.vendor import state_check
    from unionhall.jobs.runner import job_submit

    problems = layout.mapping.problems()
    if problems:
        raise UserError("; ".join(problems))
    if save_layout:
        _slug(save_layout)
    return job_submit(
        kind="elections.import_voterfile_vendor",
        params={"path": path, "state": state_check(state), "layout": layout.to_dict(),
                "save_layout": save_layout or None},
        user=user,
    )
