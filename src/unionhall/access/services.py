"""State changes of access and governance; each writes its audit/usage row."""

from __future__ import annotations

from typing import Any

from unionhall.access.models import Committee, RoleGrant, UsageEvent


def _primary_committee(user: Any) -> Committee | None:
    grant = RoleGrant.objects.filter(user=user).select_related("committee").order_by("id").first()
    return grant.committee if grant else None


def usage_record(
    *, user: Any, action: str, detail: dict[str, Any] | None = None, persons: int = 0,
    committee: Committee | None = None, username: str | None = None,
) -> UsageEvent:
    """Append one entry to the usage log."""
    real_user = user if getattr(user, "pk", None) else None
    return UsageEvent.objects.create(
        user=real_user,
        username=username or (user.get_username() if real_user else ""),
        committee=committee or (_primary_committee(real_user) if real_user else None),
        action=action,
        detail=detail or {},
        persons=persons,
    )
