"""Logins and failed logins go to the usage log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from unionhall.access.services import usage_record


@receiver(user_logged_in)
def _on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    usage_record(user=user, action="login")


@receiver(user_login_failed)
def _on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    usage_record(user=None, action="login_failed", username=str(credentials.get("username", ""))[:150])
