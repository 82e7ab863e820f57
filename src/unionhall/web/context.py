"""Template context for every page: which parts of the navigation the user's roles open."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def nav(request: HttpRequest) -> dict[str, Any]:
    from unionhall.access.roles import manages_data, manages_voter_files

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {}}
    return {"nav": {"data": manages_data(user), "voter_files": manages_voter_files(user),
                    "admin": bool(user.is_staff)}}
