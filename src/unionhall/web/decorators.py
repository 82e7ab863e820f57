"""Access decorators for pages. Roles arrive with committees (issue 7); until then the
data-management pages are for staff."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required, user_passes_test


def staff_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Logged in and staff (data coordinators); others are sent to log in."""
    return login_required(user_passes_test(lambda u: u.is_active and u.is_staff)(view))
