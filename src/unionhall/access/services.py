"""State changes of access and governance; each writes its audit/usage row."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from unionhall.access.models import AuditEvent, Committee, RoleGrant, UsageEvent


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


def agreement_accept(*, user: Any, version: int) -> None:
    """Record that `user` accepted agreement `version` (idempotent)."""
    from unionhall.access.models import AgreementAcceptance, AgreementText

    agreement = AgreementText.objects.get(version=version)
    AgreementAcceptance.objects.get_or_create(user=user, agreement=agreement)


def totp_device_for(*, user: Any) -> Any:
    """The user's TOTP device: the confirmed one, else a fresh unconfirmed one to set up."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
            user=user, name="authenticator app", confirmed=False
        )
    return device


def totp_verify(*, request: Any, token: str) -> bool:
    """Check a 6-digit code; on success confirm the device and mark the session verified."""
    from django_otp import login as otp_login

    device = totp_device_for(user=request.user)
    if not token.strip().isdigit() or not device.verify_token(token.strip()):
        return False
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    otp_login(request, device)
    return True


def command_line_actor() -> str:
    """How the audit trail names an action taken at the command line (no web user)."""
    import getpass
    import socket

    return f"command line ({getpass.getuser()}@{socket.gethostname()})"


@transaction.atomic
def api_token_issue(*, user: Any, actor: Any = None) -> tuple[str, bool]:
    """The user's API token, created on first use; returns (key, created). Both the
    creation and showing an existing key again are audited (a key is a credential).
    `actor` is the user doing it; None is the operator at the command line."""
    from rest_framework.authtoken.models import Token

    token, created = Token.objects.get_or_create(user=user)
    real_actor = actor if getattr(actor, "pk", None) else None
    AuditEvent.objects.create(
        actor=real_actor, actor_name=real_actor.get_username() if real_actor else command_line_actor(),
        action=AuditEvent.Action.TOKEN_ISSUE if created else AuditEvent.Action.TOKEN_SHOW,
        subject=user, detail={"username": user.get_username()},
    )
    return token.key, created
