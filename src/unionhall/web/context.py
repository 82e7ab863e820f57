"""Template context for every page: which parts of the navigation the user's roles open."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def nav(request: HttpRequest) -> dict[str, Any]:
    from unionhall.access.roles import has_role, manages_data, manages_voter_files
    from unionhall.analytics.selectors import analytics_allowed
    from unionhall.field.selectors import FIELD_ROLES
    from unionhall.reports.selectors import reports_allowed

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {}}
    return {"nav": {"data": manages_data(user), "voter_files": manages_voter_files(user),
                    "field": has_role(user, FIELD_ROLES), "canvass": has_role(user, ["canvasser"]),
                    "reports": reports_allowed(user),
                    "exports": has_role(user, [*FIELD_ROLES, "vendor"]),
                    "analytics": analytics_allowed(user),
                    "admin": bool(user.is_staff)}}
