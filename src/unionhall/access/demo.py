"""The demo's governance: a realistic committee tree, data agreements, the agreement
text, and one demo user per role and committee kind. Idempotent."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from unionhall.access.models import (
    AgreementAcceptance,
    AgreementText,
    ApprovedUser,
    Committee,
    DataAgreement,
    RoleGrant,
)

AGREEMENT = """Affiliate Member Data Agreement (demo)

1. Member data belongs to the affiliates. You may use it only for the labor movement's
   member contact and political programs you are approved for.
2. Do not copy, export or share member data except through approved exports.
3. Your use of the system is logged and reviewed.
4. Report any loss or misuse of member data to your data coordinator at once."""

ROLES = [r for r, _ in RoleGrant.Role.choices]
KINDS = [k for k, _ in Committee.Kind.choices]


def demo_password(store: Path, username: str) -> str:
    """A random password kept in the data directory, so re-runs print the same login."""
    store.mkdir(exist_ok=True)
    path = store / username
    if path.is_file():
        return path.read_text().strip()
    password = "uh-" + secrets.token_urlsafe(12)
    path.write_text(password)
    path.chmod(0o600)
    return password


@transaction.atomic
def demo_governance_ensure(
    *, affiliates: list[str], counties: list[str], locals_by_affiliate: dict[str, str], state: str,
    password_store: Path, say: Callable[[str], None] = lambda _: None,
) -> list[dict[str, Any]]:
    """Create the demo committee tree, agreements and users; returns the users' logins."""
    national, _ = Committee.objects.get_or_create(name="AFL-CIO", defaults={"kind": "national"})
    fed, _ = Committee.objects.get_or_create(
        name=f"{state} State AFL-CIO", defaults={"kind": "state_federation", "parent": national, "state": state})
    clcs = []
    for i in range(0, len(counties), 2):
        group = counties[i:i + 2]
        clc, _ = Committee.objects.get_or_create(
            name=f"{' & '.join(c.title() for c in group)} Central Labor Council",
            defaults={"kind": "clc", "parent": fed, "state": state, "counties": group})
        clcs.append(clc)
    affiliate_committees = []
    for n, name in enumerate(affiliates):
        aff, _ = Committee.objects.get_or_create(
            name=name, defaults={"kind": "affiliate", "source_slug": slugify(name)})
        affiliate_committees.append(aff)
        local = locals_by_affiliate.get(slugify(name))
        if local:
            Committee.objects.get_or_create(
                name=f"{name} Local {local}", defaults={"kind": "local", "parent": aff, "local_number": local})
        # Most affiliates share names and addresses with the state federation (and its
        # CLCs); one shares phones and emails too; the last shares nothing.
        if n < len(affiliates) - 1:
            fields = ["name", "address", "phone", "email"] if n == 0 else ["name", "address"]
            DataAgreement.objects.get_or_create(affiliate=aff, grantee=fed, defaults={"fields": fields})
        if n == 0:
            DataAgreement.objects.get_or_create(affiliate=aff, grantee=national, defaults={"fields": ["name", "address"]})
    agreement, _ = AgreementText.objects.get_or_create(version=1, defaults={"text": AGREEMENT})

    sample = {
        "national": national, "state_federation": fed, "clc": clcs[0] if clcs else fed,
        "affiliate": affiliate_committees[0],
        "local": Committee.objects.filter(kind="local", parent=affiliate_committees[0]).first() or affiliate_committees[0],
    }
    logins = []
    users = get_user_model().objects
    for kind in KINDS:
        committee = sample[kind]
        for role in ROLES:
            username = f"{role.replace('_', '')}-{kind.replace('_', '')}"
            user, _ = users.get_or_create(username=username, defaults={"first_name": role.replace("_", " ").title()})
            password = demo_password(password_store, username)
            user.set_password(password)
            user.save()
            RoleGrant.objects.get_or_create(user=user, committee=committee, role=role)
            ApprovedUser.objects.get_or_create(user=user, defaults={"sponsor": committee})
            AgreementAcceptance.objects.get_or_create(user=user, agreement=agreement)
            logins.append({"username": username, "password": password, "role": role, "committee": committee.name})
    say(f"{Committee.objects.count()} committees, {DataAgreement.objects.count()} agreements, {len(logins)} demo users")
    return logins
