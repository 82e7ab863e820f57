"""Property: over random committee trees, agreements, users, persons and filters, no
user ever receives a person or a field outside their scope.

The oracle below re-states the rules of DESIGN.md capability 4 directly, person by
person. Two properties check the real code against it:

* `test_scope_paths_match_the_rules`: the paths `paths_for_grant` derives, applied to
  each person, give exactly the oracle's persons, fields and memberships. Cheap, so the
  CI profile (`HYPOTHESIS_PROFILE=ci`, set by scripts/test.sh) runs 2,500 examples of 4
  users each: 10,000 user-scope cases.
* `test_no_user_sees_outside_their_scope_on_duckdb`: end to end. Each generated world
  is loaded into a DuckDB person table (membership bits by the real
  `person_member_bits_refresh`, some sources left to the list test); then for every one
  of its 12 users and 8 filters (on visible, masked and membership fields, and one over
  other rows), the rows `scoped_persons(...).filter(f)` returns (persons, field masks,
  memberships shown) and the count `scoped_count` gives are checked against the
  oracle; so are the CSV download's rows (`download_table`, through the user's
  administrator / data-manager grants only) on each user's first 3 filters. Compiled
  SQL is cached per distinct query (the table keeps its name and columns from world to
  world), so the CI profile's 110 worlds check 10,560 search + 3,960 download cases in
  about two minutes; the test prints and asserts the number it checked.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import ibis
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unionhall.access.gateway import (
    FIELD_GROUP_OF,
    person_member_bits_refresh,
    scoped_count,
    scoped_persons,
)
from unionhall.access.models import Committee, DataAgreement
from unionhall.access.scope import (
    AGREEMENT_FIELDS,
    ALL_FIELDS,
    CONTACT_FIELDS,
    PERSON_ROLES,
    VOTER_FIELDS,
    ScopePath,
    paths_for_grant,
)
from unionhall.access.selectors import DOWNLOAD_ROLES, download_table

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
            fields=draw(st.lists(st.sampled_from(sorted(AGREEMENT_FIELDS)), unique=True)),
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
    return {"agreements": agreements, "persons": persons, "users": users, "committees": committees}


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
                shared = set(a.fields) | ({"age"} if "dob" in a.fields else set())  # a birth date shows the age
                visible, fields = True, fields | (shared & cap)
                shown.add(slug)
    return visible, fields, shown


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


FILTERS = st.one_of(
    st.just(("none", None)),
    st.tuples(st.just("county"), st.sampled_from(COUNTIES)),
    st.tuples(st.just("state"), st.sampled_from(STATES)),
    st.tuples(st.just("registered"), st.booleans()),
    st.tuples(st.just("first_name"), st.integers(0, 11)),
    st.tuples(st.just("phone"), st.integers(0, 11)),
    st.tuples(st.just("member_of"), st.sampled_from(SOURCES)),
    st.tuples(st.just("local_of"), st.sampled_from(LOCALS)),
    st.just(("has_dob", None)),
    st.just(("last_id", None)),  # not row-wise: a window over the user's rows
)
E2E_USERS = 12
E2E_FILTERS = 8
E2E_EXAMPLES = 110 if os.environ.get("HYPOTHESIS_PROFILE") == "ci" else 8
E2E_CHECKED = {"search": 0, "download": 0}
_DB: dict[str, Any] = {}


def _duckdb() -> Any:
    if "con" not in _DB:
        con = ibis.duckdb.connect()
        con.con.execute("CREATE TABLE member_source_bit (source VARCHAR PRIMARY KEY, bit INTEGER NOT NULL UNIQUE)")
        _DB["con"] = con
    return _DB["con"]


def _load(persons: list[dict[str, Any]]) -> ibis.Table:
    """The world's persons as a DuckDB person table, membership bits by the real refresh."""
    data: dict[str, Any] = {k: [p[k] for p in persons] for k in persons[0]}
    for col in FIELD_GROUP_OF:
        data[col] = [f"{col}-{p['person_id']}" for p in persons]  # every field has a value: null = masked
    data["birth_date"] = [dt.date(1980, 1, 1)] * len(persons)
    arrays = {k: pa.array(v, type=pa.list_(pa.string())) if k.startswith("member_") else pa.array(v)
              for k, v in data.items()}
    arrays["voter_reg_num"] = pa.array(data["voter_reg_num"], type=pa.string())
    arrays["member_source_bits"] = pa.array([None] * len(persons), type=pa.int64())
    con = _duckdb()
    con.create_table("person", pa.table(arrays), overwrite=True)
    person_member_bits_refresh(con.con)
    return con.table("person")


def _predicate(t: ibis.Table, f: tuple[str, Any]) -> Any:
    kind, arg = f
    return {
        "county": lambda: t.county == arg,
        "state": lambda: t.state == arg,
        "registered": lambda: t.voter_reg_num.notnull() if arg else t.voter_reg_num.isnull(),
        "first_name": lambda: t.first_name == f"first_name-{arg}",
        "phone": lambda: t.phone == f"phone-{arg}",
        "member_of": lambda: t.member_sources.contains(arg),
        "local_of": lambda: t.member_locals.contains(arg),
        "has_dob": lambda: t.birth_date.notnull(),
        "last_id": lambda: t.person_id == t.person_id.max(),
    }[kind]()


def _shown_locals(grants: list[tuple[str, Committee]], person: dict[str, Any]) -> set[str]:
    """Local memberships shown: a local's own staff see that local (rule restated)."""
    out = set()
    for role, c in grants:
        if role in PERSON_ROLES and c.kind == "local" and c.parent.source_slug:  # type: ignore[union-attr]
            key = f"{c.parent.source_slug}:{c.local_number}"  # type: ignore[union-attr]
            if key in person["member_locals"]:
                out.add(key)
    return out


def _passes(f: tuple[str, Any], person: dict[str, Any], fields: set[str], shown: set[str],
            shown_locals: set[str], last_id: int | None) -> bool:
    kind, arg = f
    pid = person["person_id"]
    return {
        "none": lambda: True,
        "county": lambda: person["county"] == arg,
        "state": lambda: person["state"] == arg,
        "registered": lambda: (person["voter_reg_num"] is not None) == arg,
        "first_name": lambda: "name" in fields and pid == arg,  # a masked field matches nobody
        "phone": lambda: "phone" in fields and pid == arg,
        "member_of": lambda: arg in shown,
        "local_of": lambda: arg in shown_locals,
        "has_dob": lambda: "dob" in fields,
        "last_id": lambda: pid == last_id,
    }[kind]()


@st.composite
def e2e_worlds(draw: Any) -> dict[str, Any]:
    world = draw(worlds())
    world["users"] = [draw(st.lists(st.tuples(st.sampled_from(ROLES), st.sampled_from(world["committees"])),
                                    min_size=1, max_size=3)) for _ in range(E2E_USERS)]
    world["filters"] = draw(st.lists(FILTERS, min_size=E2E_FILTERS, max_size=E2E_FILTERS))
    world["bit_sources"] = draw(st.sets(st.sampled_from(SOURCES)))  # the others: tested on the lists
    return world


def _compiled(table: ibis.Table, paths: list[ScopePath], bits: dict[str, int], f: tuple[str, Any],
              door: str) -> tuple[str, str]:
    """The SQL of the filtered scoped rows (as search returns them, or as the CSV
    download selects them) and of their count, compiled once per distinct (paths, bits,
    filter, door): ibis builds the same SQL for the same expression, and the table
    keeps its name and columns from world to world (only its rows change)."""
    key = (tuple(paths), tuple(sorted(bits.items())), f, door)
    if key not in _SQL:
        scoped = scoped_persons(table, paths, source_bits=bits)
        x = scoped if f[0] == "none" else scoped.filter(_predicate(scoped, f))
        rows = download_table(x) if door == "download" else x
        con = _duckdb()
        _SQL[key] = (str(con.compile(rows)), str(con.compile(scoped_count(x))))
    return _SQL[key]


_SQL: dict[Any, tuple[str, str]] = {}
DOWNLOAD_FILTERS = 3  # the CSV download door is checked on each user's first filters


def _check_door(cur: Any, table: ibis.Table, world: dict[str, Any], grants: list[tuple[str, Committee]],
                mapping: list[tuple[str, int]], door: str) -> None:
    persons = {p["person_id"]: p for p in world["persons"]}
    if door == "download":
        grants = [(role, c) for role, c in grants if role in DOWNLOAD_ROLES]
    paths: list[ScopePath] = []
    for role, committee in grants:
        paths.extend(paths_for_grant(role=role, committee=committee, agreements=world["agreements"], today=TODAY))
    named = {s for p in paths for s in p.sources}
    bits = {s: b for s, b in mapping if s in world["bit_sources"] and s in named}
    truth = {pid: (*_oracle(grants, world["agreements"], p), _shown_locals(grants, p)) for pid, p in persons.items()}
    visible_ids = [pid for pid, (vis, *_) in truth.items() if vis]
    last_id = max(visible_ids) if visible_ids else None
    filters = world["filters"][:DOWNLOAD_FILTERS] if door == "download" else world["filters"]
    for f in filters:
        rows_sql, count_sql = _compiled(table, paths, bits, f, door)
        want = {pid: t for pid, t in truth.items() if t[0] and _passes(f, persons[pid], t[1], t[2], t[3], last_id)}
        got_rows = cur.execute(rows_sql).fetch_arrow_table().to_pylist()
        got = {r["person_id"]: r for r in got_rows}
        context = (door, grants, f)
        assert len(got) == len(got_rows), context  # nobody twice
        assert set(got) == set(want), context
        assert cur.execute(count_sql).fetchone() == (len(want),), context
        for pid, (_, fields, shown, shown_locals) in want.items():
            row = got[pid]
            for group, column in CHECKED.items():
                if column in row:  # the download has no age column
                    assert (row[column] is not None) == (group in fields), (pid, group, fields, context)
            assert set(row["member_sources"]) == shown, (pid, row["member_sources"], shown, context)
            if door == "search":
                assert set(row["member_locals"]) == shown_locals, (pid, row["member_locals"], shown_locals, context)
        E2E_CHECKED[door] += 1


@given(e2e_worlds())
@settings(max_examples=E2E_EXAMPLES)
def _check_world_end_to_end(world: dict[str, Any]) -> None:
    table = _load(world["persons"])
    cur = _duckdb().con
    mapping = cur.execute("SELECT source, bit FROM member_source_bit").fetchall()
    for grants in world["users"]:
        _check_door(cur, table, world, grants, mapping, "search")
        _check_door(cur, table, world, grants, mapping, "download")


def test_no_user_sees_outside_their_scope_on_duckdb() -> None:
    E2E_CHECKED.update(search=0, download=0)
    _check_world_end_to_end()
    cases = E2E_CHECKED["search"] + E2E_CHECKED["download"]
    print(f"\nscope end to end on DuckDB: {cases:,} (user, filter) cases checked "
          f"({E2E_CHECKED['search']:,} search, {E2E_CHECKED['download']:,} CSV download), "
          f"{len(_SQL):,} distinct queries compiled")
    assert E2E_CHECKED["search"] >= E2E_EXAMPLES * E2E_USERS * E2E_FILTERS
    if os.environ.get("HYPOTHESIS_PROFILE") == "ci":
        assert cases >= 10_000
