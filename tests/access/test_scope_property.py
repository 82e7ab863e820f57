"""Property: over random committee trees, agreements, users, persons and filters, no
user ever receives a person or a field outside their scope.

The oracle below re-states the rules of DESIGN.md capability 4 directly, person by
person. Two properties check the real code against it:

* `test_scope_paths_match_the_rules`: the paths `paths_for_grant` derives, applied to
  each person, give exactly the oracle's persons, fields and memberships. Cheap, so the
  CI profile (`HYPOTHESIS_PROFILE=ci`, set by scripts/test.sh) runs 2,500 examples of 4
  users each: 10,000 user-scope cases.
* `test_no_user_sees_outside_their_scope_on_duckdb`: the same worlds through
  `scoped_persons` compiled by ibis and run on DuckDB (what person_base, the API, CSV
  downloads and counts all use). Compiling a scoped query costs ~0.2 s, so this one
  runs 300 examples (1,200 user cases) in CI.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import ibis
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unionhall.access.models import Committee, DataAgreement
from unionhall.access.scope import (
    ALL_FIELDS,
    CONTACT_FIELDS,
    PERSON_ROLES,
    VOTER_FIELDS,
    ScopePath,
    paths_for_grant,
)
from unionhall.warehouse.scope import FIELD_GROUP_OF, scoped_persons

settings.register_profile("ci", max_examples=2500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=120, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

TODAY = dt.date(2026, 11, 30)
STATES = ["NC", "VA"]
COUNTIES = ["ALAMANCE", "BUNCOMBE", "CRAVEN", "DARE"]
SOURCES = ["nurses", "teachers", "transit"]
LOCALS = ["nurses:1", "nurses:2", "teachers:7"]
ROLES = ["administrator", "data_manager", "organizer", "canvasser", "analyst", "vendor"]
CHECKED = {g: next(c for c, grp in FIELD_GROUP_OF.items() if grp == g) for g in ALL_FIELDS}


@st.composite
def worlds(draw: Any) -> dict[str, Any]:
    national = Committee(name="national", kind="national")
    feds = [Committee(name=f"fed{i}", kind="state_federation", parent=national,
                      state=draw(st.sampled_from([*STATES, ""]))) for i in range(draw(st.integers(1, 2)))]
    clcs = [Committee(name=f"clc{i}", kind="clc", parent=draw(st.sampled_from(feds)),
                      counties=draw(st.lists(st.sampled_from(COUNTIES), max_size=3, unique=True)))
            for i in range(draw(st.integers(0, 2)))]
    for clc in clcs:
        clc.state = clc.parent.state if draw(st.booleans()) else draw(st.sampled_from(STATES))  # type: ignore[union-attr]
    affiliates = [Committee(name=s, kind="affiliate", source_slug=draw(st.sampled_from([s, s, ""]))) for s in SOURCES]
    locals_ = [Committee(name=f"{a.name}-{n}", kind="local", parent=a, local_number=n)
               for a in affiliates for n in draw(st.lists(st.sampled_from(["1", "2", "7"]), max_size=2, unique=True))]
    federation_side = [national, *feds, *clcs]
    agreements = [
        DataAgreement(
            affiliate=draw(st.sampled_from(affiliates)), grantee=draw(st.sampled_from(federation_side)),
            fields=draw(st.lists(st.sampled_from(sorted(ALL_FIELDS)), unique=True)),
            covers_descendants=draw(st.booleans()),
            starts_on=draw(st.sampled_from([None, TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=1)])),
            ends_on=draw(st.sampled_from([None, TODAY, TODAY - dt.timedelta(days=1)])),
        )
        for _ in range(draw(st.integers(0, 4)))
    ]
    committees = [*federation_side, *affiliates, *locals_]
    persons = [
        {
            "person_id": i,
            "state": draw(st.sampled_from(STATES)),
            "county": draw(st.sampled_from(COUNTIES)),
            "voter_reg_num": draw(st.sampled_from([None, f"R{i}"])),
            "member_sources": draw(st.lists(st.sampled_from(SOURCES), unique=True, max_size=2)),
            "member_locals": draw(st.lists(st.sampled_from(LOCALS), unique=True, max_size=2)),
        }
        for i in range(draw(st.integers(1, 12)))
    ]
    users = [draw(st.lists(st.tuples(st.sampled_from(ROLES), st.sampled_from(committees)), min_size=1, max_size=3))
             for _ in range(4)]
    county_filter = draw(st.sampled_from([None, *COUNTIES]))
    return {"agreements": agreements, "persons": persons, "users": users, "county_filter": county_filter}


def _oracle(grants: list[tuple[str, Committee]], agreements: list[DataAgreement],
            person: dict[str, Any]) -> tuple[bool, set[str], set[str]]:
    """(visible, field groups shown, memberships shown) by the rules, for one person."""
    visible, fields, shown = False, set(), set()
    for role, c in grants:
        if role not in PERSON_ROLES:
            continue
        cap = ALL_FIELDS - CONTACT_FIELDS if role == "analyst" else ALL_FIELDS
        if c.kind == "affiliate":
            if c.source_slug and c.source_slug in person["member_sources"]:
                visible, fields = True, fields | cap
                shown.add(c.source_slug)
            continue
        if c.kind == "local":
            key = f"{c.parent.source_slug}:{c.local_number}"  # type: ignore[union-attr]
            if c.parent.source_slug and key in person["member_locals"]:  # type: ignore[union-attr]
                visible, fields = True, fields | cap
            continue
        if c.kind != "national" and (not c.state or (c.kind == "clc" and not c.counties)):
            continue
        in_geo = c.kind == "national" or (
            person["state"] == c.state and (c.kind != "clc" or person["county"] in c.counties))
        if not in_geo:
            continue
        if person["voter_reg_num"] is not None:
            visible, fields = True, fields | (VOTER_FIELDS & cap)
        chain = []
        node = c.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        for a in agreements:
            covers = a.grantee is c or (a.covers_descendants and any(a.grantee is x for x in chain))
            in_force = (a.starts_on is None or a.starts_on <= TODAY) and (a.ends_on is None or a.ends_on >= TODAY)
            slug = a.affiliate.source_slug
            if covers and in_force and slug and slug in person["member_sources"]:
                visible, fields = True, fields | (set(a.fields) & cap)
                shown.add(slug)
    return visible, fields, shown


def _table(persons: list[dict[str, Any]]) -> ibis.Table:
    data = {k: [p[k] for p in persons] for k in persons[0]}
    for col in FIELD_GROUP_OF:
        data[col] = [f"{col}-{p['person_id']}" for p in persons]  # every field has a value: null = masked
    data["birth_date"] = [dt.date(1980, 1, 1)] * len(persons)
    arrays = {k: pa.array(v, type=pa.list_(pa.string())) if k.startswith("member_") else pa.array(v)
              for k, v in data.items()}
    arrays["voter_reg_num"] = pa.array(data["voter_reg_num"], type=pa.string())
    return ibis.memtable(pa.table(arrays))


def _apply_paths(paths: list[ScopePath], person: dict[str, Any]) -> tuple[bool, set[str], set[str]]:
    """What the paths grant on one person (the semantics scoped_persons compiles to SQL)."""
    visible, fields, shown = False, set(), set()
    for p in paths:
        if p.kind == "all":
            return True, set(ALL_FIELDS), set(person["member_sources"])
        if p.kind == "voters":
            hit = person["voter_reg_num"] is not None
        else:
            hit = any(s in person["member_sources"] for s in p.sources) or any(
                loc in person["member_locals"] for loc in p.locals)
        if p.state:
            hit = hit and person["state"] == p.state
        if p.counties:
            hit = hit and person["county"] in p.counties
        if hit:
            visible, fields = True, fields | set(p.fields)
            if p.kind == "members":
                shown |= {s for s in p.sources if s in person["member_sources"]}
    return visible, fields, shown


@given(worlds())
@settings(max_examples=settings().max_examples)
def test_scope_paths_match_the_rules(world: dict[str, Any]) -> None:
    for grants in world["users"]:
        paths: list[ScopePath] = []
        for role, committee in grants:
            paths.extend(paths_for_grant(role=role, committee=committee, agreements=world["agreements"], today=TODAY))
        for person in world["persons"]:
            assert _apply_paths(paths, person) == _oracle(grants, world["agreements"], person), (person, grants)


@given(worlds())
@settings(max_examples=300 if os.environ.get("HYPOTHESIS_PROFILE") == "ci" else 40)
def test_no_user_sees_outside_their_scope_on_duckdb(world: dict[str, Any]) -> None:
    table = _table(world["persons"])
    persons = {p["person_id"]: p for p in world["persons"]}
    # One query for all users of the example (a user column tells them apart).
    parts = []
    for u, grants in enumerate(world["users"]):
        paths: list[ScopePath] = []
        for role, committee in grants:
            paths.extend(paths_for_grant(role=role, committee=committee, agreements=world["agreements"], today=TODAY))
        scoped = scoped_persons(table, paths)
        if world["county_filter"]:
            scoped = scoped.filter(scoped.county == world["county_filter"])
        parts.append(scoped.mutate(user_ix=ibis.literal(u)))
    result = ibis.union(*parts).to_pyarrow().to_pylist()
    for u, grants in enumerate(world["users"]):
        rows = {r["person_id"]: r for r in result if r["user_ix"] == u}
        for pid, person in persons.items():
            visible, fields, shown = _oracle(grants, world["agreements"], person)
            if world["county_filter"] and person["county"] != world["county_filter"]:
                visible = False
            assert (pid in rows) == visible, (pid, grants)
            if not visible:
                continue
            row = rows[pid]
            for group, column in CHECKED.items():
                assert (row[column] is not None) == (group in fields), (pid, group, fields)
            assert set(row["member_sources"]) <= set(person["member_sources"])
            assert set(row["member_sources"]) == shown, (pid, row["member_sources"], shown)
