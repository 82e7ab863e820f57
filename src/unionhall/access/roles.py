"""Which pages and actions a user may use, by the roles they hold (RoleGrant).

One authorization model: roles held in committees. Django's `is_staff` only opens the
Django admin; platform administrators are superusers. What rows a page then shows is
the gateway's business (`unionhall.access.gateway`), not this module's.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from unionhall.access.models import Committee, RoleGrant
from unionhall.access.scope import DATA_ROLES


def has_role(user: Any, roles: Collection[str], *, kinds: Collection[str] | None = None) -> bool:
    """Does the user hold one of `roles` (in a committee of one of `kinds`)? Platform
    administrators hold every role."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    grants = RoleGrant.objects.filter(user=user, role__in=list(roles))
    if kinds is not None:
        grants = grants.filter(committee__kind__in=list(kinds))
    return grants.exists()


def manages_data(user: Any) -> bool:
    """Data managers and administrators: imports, quarantine, identity review, usage."""
    return has_role(user, DATA_ROLES)


# Voter files cover a whole state: loaded by the federation side's data team.
VOTER_FILE_KINDS = (Committee.Kind.NATIONAL, Committee.Kind.STATE_FEDERATION)


def manages_voter_files(user: Any) -> bool:
    return has_role(user, DATA_ROLES, kinds=VOTER_FILE_KINDS)


def committees_managed(user: Any) -> list[Committee]:
    """Committees where the user is a data manager or administrator, with every
    committee below them (whose users' usage they monitor)."""
    roots = [g.committee for g in RoleGrant.objects.select_related("committee").filter(
        user=user, role__in=list(DATA_ROLES))]
    seen: dict[int, Committee] = {}
    todo = list(roots)
    while todo:
        c = todo.pop()
        if c.pk in seen:
            continue
        seen[c.pk] = c
        todo.extend(c.children.all())
    return list(seen.values())


def member_sources_loadable(user: Any) -> set[str] | None:
    """Affiliate sources whose member lists the user may import: None means any (and new
    ones): platform administrators and the federation side's data team, who load the
    affiliates' lists; an affiliate's data managers and administrators load their own."""
    if manages_voter_files(user):
        return None
    grants = RoleGrant.objects.select_related("committee").filter(
        user=user, role__in=list(DATA_ROLES), committee__kind=Committee.Kind.AFFILIATE)
    return {g.committee.source_slug for g in grants if g.committee.source_slug}
