"""Account-level gates that block all member data, each with a way forward."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from unionhall.access.models import AgreementAcceptance, AgreementText, ApprovedUser, RoleGrant
from unionhall.access.scope import PERSON_ROLES


@dataclass(frozen=True)
class Block:
    """Why an account may not see member data now, and where to go to fix it."""

    reason: str
    fix_url: str | None = None
    fix_label: str | None = None


def current_agreement() -> AgreementText | None:
    return AgreementText.objects.order_by("-version").first()


def needs_two_factor(user: Any) -> bool:
    """Every role that sees member data needs 2FA (platform administrators too;
    canvassers, who see the names, addresses and ages of their turfs; vendors, who
    download the files approved for them)."""
    return bool(getattr(user, "is_superuser", False)) or RoleGrant.objects.filter(
        user=user, role__in=[*PERSON_ROLES, RoleGrant.Role.CANVASSER, RoleGrant.Role.VENDOR]
    ).exists()


def access_block(user: Any, *, today: dt.date | None = None) -> Block | None:
    """Why this account may not see member data now (None: it may).

    Two-factor verification is checked when the user object comes from a request that
    went through django-otp's middleware (it then has `is_verified`).
    """
    today = today or timezone.localdate()
    approval = ApprovedUser.objects.filter(user=user).first()
    if approval is not None:
        if approval.deactivated_at is not None:
            return Block("This account was deactivated. Ask your data coordinator to reactivate it.")
        if approval.expires_on is not None and approval.expires_on < today:
            return Block(
                f"This account expired on {approval.expires_on:%Y-%m-%d}. "
                "Ask your sponsoring committee's data coordinator to renew it."
            )
    agreement = current_agreement()
    if (
        agreement is not None
        and not getattr(user, "is_superuser", False)
        and not AgreementAcceptance.objects.filter(user=user, agreement=agreement).exists()
    ):
        return Block(
            f"You have not accepted version {agreement.version} of the Affiliate Member Data Agreement.",
            "/account/agreement/", "Read and accept the agreement",
        )
    is_verified = getattr(user, "is_verified", None)
    if callable(is_verified) and not is_verified() and needs_two_factor(user):
        return Block(
            "Member data needs two-factor authentication.", "/account/two-factor/", "Set up or enter your code"
        )
    return None


def access_block_reason(user: Any) -> str | None:
    block = access_block(user)
    return None if block is None else block.reason
