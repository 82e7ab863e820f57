"""Which persons and fields a user may see, as data (`ScopePath`s).

`unionhall.warehouse.person_base` turns these paths into one filter and per-field masks;
nothing else decides visibility.

Rules (DESIGN.md capability 4):

* affiliate and local staff see their own members (every field);
* a state federation or CLC sees the members of affiliates whose data agreement covers
  it, within its geography, limited to the agreement's fields, plus the registered
  voters of its geography (name and registration address);
* the national level sees what agreements with it allow, and every registered voter;
* the voter paths show what the public voter file holds: name, registration address,
  age (birth year); a date of birth implies the age;
* analysts see the same persons without contact details (address, phone, email);
* canvassers and vendors see no person rows through this path (their turfs and
  approved exports have their own, narrower doors);
* platform administrators (superusers) see everything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from unionhall.access.models import Committee, DataAgreement, RoleGrant

AGREEMENT_FIELDS = frozenset(DataAgreement.FIELD_GROUPS)
# `age` (birth year, age) is its own group: the voter file publishes it with the name and
# address, and whoever sees a date of birth sees the age in it.
ALL_FIELDS = AGREEMENT_FIELDS | {"age"}
VOTER_FIELDS = frozenset({"name", "address", "age"})
CONTACT_FIELDS = frozenset({"address", "phone", "email"})
# Roles that manage data (imports, quarantine, identity review, downloads).
DATA_ROLES = (RoleGrant.Role.ADMINISTRATOR, RoleGrant.Role.DATA_MANAGER)
PERSON_ROLES = {
    RoleGrant.Role.ADMINISTRATOR,
    RoleGrant.Role.DATA_MANAGER,
    RoleGrant.Role.ORGANIZER,
    RoleGrant.Role.ANALYST,
}


@dataclass(frozen=True)
class ScopePath:
    """One way a user can see persons.

    A person is on the path when they are a member of one of `sources` (affiliate source
    slugs) or `locals` (``"<source>:<local>"``), or — for a voter path — registered; and,
    when `state` is set, live in that state (and in one of `counties` when given). On
    the path the user sees the field groups in `fields`.
    """

    kind: str  # "all", "members", "voters"
    fields: frozenset[str]
    sources: tuple[str, ...] = ()
    locals: tuple[str, ...] = ()
    state: str | None = None
    counties: tuple[str, ...] = ()


def _ancestors(c: Committee) -> list[Committee]:
    out = []
    node = c.parent
    while node is not None:
        out.append(node)
        node = node.parent
    return out


def implied(fields: frozenset[str]) -> frozenset[str]:
    """The field groups that shared `fields` show (a date of birth shows the age)."""
    return fields | {"age"} if "dob" in fields else fields


def paths_for_grant(
    *, role: str, committee: Committee, agreements: Sequence[DataAgreement], today: dt.date
) -> list[ScopePath]:
    """The scope paths of one role held in one committee, given the data agreements that
    might apply (pure: no database access, so it can be checked exhaustively)."""
    c = committee
    if role not in PERSON_ROLES:
        return []
    fields_cap = ALL_FIELDS - CONTACT_FIELDS if role == RoleGrant.Role.ANALYST else ALL_FIELDS
    kind = c.kind
    if kind == Committee.Kind.AFFILIATE:
        return [ScopePath("members", fields_cap, sources=(c.source_slug,))] if c.source_slug else []
    if kind == Committee.Kind.LOCAL:
        aff = c.affiliate()
        if aff is None or not aff.source_slug or not c.local_number:
            return []
        return [ScopePath("members", fields_cap, locals=(f"{aff.source_slug}:{c.local_number}",))]
    state = (c.state or None) if kind != Committee.Kind.NATIONAL else None
    counties = tuple(x.upper() for x in c.counties) if kind == Committee.Kind.CLC else ()
    if (kind != Committee.Kind.NATIONAL and state is None) or (kind == Committee.Kind.CLC and not counties):
        return []  # a state body without its geography set up sees nothing (fail closed)
    paths = [ScopePath("voters", VOTER_FIELDS & fields_cap, state=state, counties=counties)]
    ancestors = _ancestors(c)
    for a in agreements:
        covers = a.grantee == c or (a.covers_descendants and any(a.grantee == x for x in ancestors))
        in_force = (a.starts_on is None or a.starts_on <= today) and (a.ends_on is None or a.ends_on >= today)
        if covers and in_force and a.affiliate.source_slug:
            paths.append(
                ScopePath("members", implied(frozenset(a.fields)) & fields_cap, sources=(a.affiliate.source_slug,),
                          state=state, counties=counties)
            )
    return paths


def scope_paths_for(
    user: Any, *, today: dt.date | None = None, roles: Collection[str] | None = None
) -> list[ScopePath]:
    """Every path by which `user` sees persons (empty: sees none); with `roles`, only
    the paths of the user's grants in those roles (e.g. what they may download)."""
    if getattr(user, "is_superuser", False):
        return [ScopePath("all", ALL_FIELDS)]
    today = today or timezone.localdate()
    grants = RoleGrant.objects.select_related("committee", "committee__parent").filter(user=user)
    if roles is not None:
        grants = grants.filter(role__in=list(roles))
    paths: list[ScopePath] = []
    for g in grants:
        candidates = DataAgreement.objects.select_related("affiliate", "grantee").filter(
            grantee__in=[g.committee, *_ancestors(g.committee)]
        )
        paths.extend(paths_for_grant(role=g.role, committee=g.committee, agreements=list(candidates), today=today))
    return paths


# What a canvasser sees of the people at their doors: who they are and where, not how to
# reach them otherwise.
CANVASS_FIELDS = frozenset({"name", "address", "age"})


def canvass_paths(committee: Committee, *, today: dt.date | None = None) -> list[ScopePath]:
    """The paths by which the canvassers of `committee`'s turfs see the people on them:
    the committee's own organizer scope, limited to `CANVASS_FIELDS` (the gateway adds
    the turf's persons as a second condition)."""
    today = today or timezone.localdate()
    candidates = DataAgreement.objects.select_related("affiliate", "grantee").filter(
        grantee__in=[committee, *_ancestors(committee)])
    paths = paths_for_grant(role=RoleGrant.Role.ORGANIZER, committee=committee, agreements=list(candidates),
                            today=today)
    return [ScopePath(p.kind, p.fields & CANVASS_FIELDS, p.sources, p.locals, p.state, p.counties) for p in paths]
