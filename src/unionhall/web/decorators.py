"""Access decorators for pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required, user_passes_test
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render


def staff_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Logged in and staff (data coordinators); others are sent to log in."""
    return login_required(user_passes_test(lambda u: u.is_active and u.is_staff)(view))


def member_data_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A page that shows member data: logged in, and not blocked (expired account,
    agreement not accepted, no two-factor) — blocked users get the reason and the fix."""
    from unionhall.access.gate import access_block

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        block = access_block(request.user)
        if block is not None:
            return render(request, "access/blocked.html", {"gate": block}, status=403)  # not "block": Django uses that name in templates
        return view(request, *args, **kwargs)

    return login_required(wrapped)
