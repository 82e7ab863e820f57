"""Account-level gates that block all member data, each with a way forward."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from unionhall.access.models import AgreementAcceptance, AgreementText, ApprovedUser


def current_agreement() -> AgreementText | None:
    return AgreementText.objects.order_by("-version").first()


def access_block_reason(user: Any, *, today: dt.date | None = None) -> str | None:
    """Why this account may not see member data now (None: it may).

    Superusers are platform administrators and are not blocked by the agreement.
    """
    today = today or timezone.localdate()
    approval = ApprovedUser.objects.filter(user=user).first()
    if approval is not None:
        if approval.deactivated_at is not None:
            return "this account was deactivated: ask your data coordinator to reactivate it"
        if approval.expires_on is not None and approval.expires_on < today:
            return (f"this account expired on {approval.expires_on:%Y-%m-%d}: "
                    "ask your sponsoring committee's data coordinator to renew it")
    if getattr(user, "is_superuser", False):
        return None
    agreement = current_agreement()
    if agreement is not None and not AgreementAcceptance.objects.filter(user=user, agreement=agreement).exists():
        return (f"you have not accepted version {agreement.version} of the member data agreement: "
                "read and accept it on the agreement page")
    return None
