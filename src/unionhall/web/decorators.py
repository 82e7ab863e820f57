"""Access decorators for pages: who may open a page, by role (access.roles); which
rows it shows is decided by the gateway underneath."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render


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


def role_view(allowed: Callable[[Any], bool], who: str) -> Callable[[Callable[..., HttpResponseBase]],
                                                                    Callable[..., HttpResponseBase]]:
    """A member-data page for the users `allowed(user)` accepts; others get a 403 page
    saying who the page is for (`who`)."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not allowed(request.user):
                return render(request, "access/not_your_page.html", {"who": who}, status=403)
            return view(request, *args, **kwargs)

        return member_data_view(wrapped)

    return decorate


def data_manager_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """For data managers and administrators (imports, quarantine, identity, usage)."""
    from unionhall.access.roles import manages_data

    return role_view(manages_data, "data managers and administrators")(view)


def voter_file_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """For the federation side's data managers and administrators (state voter files)."""
    from unionhall.access.roles import manages_voter_files

    return role_view(manages_voter_files, "data managers and administrators of a state federation or the "
                                          "national office")(view)
