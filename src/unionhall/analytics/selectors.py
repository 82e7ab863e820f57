"""Who may use analytics, and which committees' models, experiments and polls they see."""

from __future__ import annotations

from typing import Any

from unionhall.access.models import Committee, RoleGrant

ANALYTICS_ROLES = (RoleGrant.Role.ADMINISTRATOR, RoleGrant.Role.DATA_MANAGER, RoleGrant.Role.ANALYST)


def analytics_allowed(user: Any) -> bool:
    """Analysts, data managers and administrators."""
    from unionhall.access.roles import has_role

    return has_role(user, ANALYTICS_ROLES)


def analytics_committees(user: Any) -> list[Committee]:
    """Committees where the user holds an analytics role, with every committee below
    them (all of them for platform administrators)."""
    if getattr(user, "is_superuser", False):
        return list(Committee.objects.all())
    roots = [g.committee for g in RoleGrant.objects.select_related("committee").filter(
        user=user, role__in=list(ANALYTICS_ROLES))]
    seen: dict[int, Committee] = {}
    todo = list(roots)
    while todo:
        c = todo.pop()
        if c.pk in seen:
            continue
        seen[c.pk] = c
        todo.extend(c.children.all())
    return sorted(seen.values(), key=lambda c: c.name)


def analytics_view(view: Any) -> Any:
    """A page for analysts, data managers and administrators (403 page for others)."""
    from unionhall.web.decorators import role_view

    return role_view(analytics_allowed, "analysts, data managers and administrators")(view)
