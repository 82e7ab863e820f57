"""Bulk set-up from spreadsheets: committees and agreements, approved users.

Files are read with the member-list reader (CSV/TSV/XLSX, any encoding). Each import is
all-or-nothing: the first bad row stops it with a message naming the file, row and
column, and nothing is created.

Committees file columns: ``name, kind, parent, state, counties, source, local``
(kind: national, state_federation, clc, affiliate, local; counties separated by ";";
source: the affiliate's member-list name as used in `unionhall import members`).

Agreements file columns: ``affiliate, grantee, fields, covers_descendants, starts_on,
ends_on`` (fields: name;address;phone;email;dob).

Users file columns: ``username, email, first_name, last_name, sponsor, expires_on,
roles`` (roles: ``organizer@Triangle CLC; analyst@Nurses United``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from unionhall.access.models import ApprovedUser, Committee, DataAgreement, RoleGrant
from unionhall.errors import UserError
from unionhall.ingest.readers import open_source

COMMITTEE_COLUMNS = ("name", "kind")
AGREEMENT_COLUMNS = ("affiliate", "grantee", "fields")
USER_COLUMNS = ("username", "roles")


def _rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    reader = open_source(path)
    header = [h.strip().lower().replace(" ", "_") for h in reader.header]

    def gen() -> Iterator[tuple[int, dict[str, str]]]:
        for batch in reader.batches():
            for bad in batch.rejected:
                if bad.code != "blank":
                    raise UserError(f"{path.name}: row {bad.row_number}: {bad.reason}")
            for number, values in zip(batch.row_numbers.to_list(), batch.frame.rows(), strict=True):
                yield int(number), {h: (v or "").strip() for h, v in zip(header, values, strict=False)}

    return header, gen()


def _need(path: Path, header: list[str], columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in header]
    if missing:
        raise UserError(f"{path.name}: missing column(s) {', '.join(missing)}; the header has {', '.join(header)}")


def _date(path: Path, row: int, column: str, value: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{path.name}: row {row}, column {column}: {value!r} is not a date like 2026-12-31") from None


def _committee(path: Path, row: int, column: str, name: str) -> Committee:
    try:
        return Committee.objects.get(name=name)
    except Committee.DoesNotExist:
        raise UserError(f"{path.name}: row {row}, column {column}: no committee named {name!r}; "
                        "import it first or fix the name") from None


@transaction.atomic
def committees_import(path: Path) -> dict[str, int]:
    """Create or update committees, or agreements, from a file (detected by its columns)."""
    header, rows = _rows(path)
    if set(AGREEMENT_COLUMNS) <= set(header):
        return _agreements_import(path, rows)
    _need(path, header, COMMITTEE_COLUMNS)
    kinds = set(Committee.Kind.values)
    created = updated = 0
    for row, r in rows:
        if r["kind"] not in kinds:
            raise UserError(f"{path.name}: row {row}, column kind: {r['kind']!r} is not one of {', '.join(sorted(kinds))}")
        if not r["name"]:
            raise UserError(f"{path.name}: row {row}, column name: empty; every committee needs a name")
        parent = _committee(path, row, "parent", r["parent"]) if r.get("parent") else None
        _, was_created = Committee.objects.update_or_create(
            name=r["name"],
            defaults={
                "kind": r["kind"], "parent": parent, "state": r.get("state", "").upper()[:2],
                "counties": [c.strip().upper() for c in r.get("counties", "").split(";") if c.strip()],
                "source_slug": slugify(r.get("source", "")), "local_number": r.get("local", ""),
            },
        )
        created += was_created
        updated += not was_created
    return {"committees_created": created, "committees_updated": updated}


def _agreements_import(path: Path, rows: Iterator[tuple[int, dict[str, str]]]) -> dict[str, int]:
    created = 0
    for row, r in rows:
        fields = [f.strip().lower() for f in r["fields"].split(";") if f.strip()]
        bad = [f for f in fields if f not in DataAgreement.FIELD_GROUPS]
        if bad:
            raise UserError(f"{path.name}: row {row}, column fields: unknown {', '.join(bad)}; "
                            f"use {';'.join(DataAgreement.FIELD_GROUPS)}")
        DataAgreement.objects.update_or_create(
            affiliate=_committee(path, row, "affiliate", r["affiliate"]),
            grantee=_committee(path, row, "grantee", r["grantee"]),
            defaults={
                "fields": fields,
                "covers_descendants": r.get("covers_descendants", "yes").lower() not in ("no", "false", "0"),
                "starts_on": _date(path, row, "starts_on", r.get("starts_on", "")),
                "ends_on": _date(path, row, "ends_on", r.get("ends_on", "")),
            },
        )
        created += 1
    return {"agreements": created}


@transaction.atomic
def users_import(path: Path) -> list[dict[str, Any]]:
    """Create approved users with their roles; returns each new user's one-time password."""
    header, rows = _rows(path)
    _need(path, header, USER_COLUMNS)
    roles = set(RoleGrant.Role.values)
    out = []
    users = get_user_model().objects
    for row, r in rows:
        if not r["username"]:
            raise UserError(f"{path.name}: row {row}, column username: empty")
        user, created = users.get_or_create(username=r["username"], defaults={
            "email": r.get("email", ""), "first_name": r.get("first_name", ""), "last_name": r.get("last_name", "")})
        password = ""
        if created:
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.save()
        sponsor = _committee(path, row, "sponsor", r["sponsor"]) if r.get("sponsor") else None
        ApprovedUser.objects.update_or_create(user=user, defaults={
            "sponsor": sponsor, "expires_on": _date(path, row, "expires_on", r.get("expires_on", ""))})
        for item in [x.strip() for x in r["roles"].split(";") if x.strip()]:
            role, _, committee_name = item.partition("@")
            if role.strip() not in roles or not committee_name.strip():
                raise UserError(f"{path.name}: row {row}, column roles: {item!r} is not ROLE@COMMITTEE "
                                f"with ROLE one of {', '.join(sorted(roles))}")
            RoleGrant.objects.get_or_create(user=user, role=role.strip(),
                                            committee=_committee(path, row, "roles", committee_name.strip()))
        out.append({"username": user.username, "created": created, "password": password})
    return out
