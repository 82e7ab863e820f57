"""Property: over random users (role x committee) and random list filters, a list and
the turfs cut from it hold only persons of the user's scope — and an affiliate
organizer's list holds exactly that affiliate's members who match the filters.

The oracle restates who a committee sees (DESIGN.md capability 4) and what each filter
means as SQL on the raw warehouse tables, independently of the gateway and of
`field.lists`: an affiliate sees its members; a local the members of that local; a CLC
the registered voters of its counties and the first affiliate's members there (its
agreement with the state federation); the state federation the same statewide; the
national office every registered voter. Canvassers and vendors see nobody.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.access.factories import user_with
from unionhall.field import services
from unionhall.field.lists import ListDefinition, list_table
from unionhall.jobs.runner import job_run
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db

EXAMPLES = 150 if os.environ.get("HYPOTHESIS_PROFILE") == "ci" else 30
COMMITTEES = ["affiliate", "affiliate1", "local", "clc", "state_federation", "national"]
ROLES = ["organizer", "data_manager", "administrator", "analyst", "canvasser", "vendor"]
PERSON_ROLES = {"organizer", "data_manager", "administrator", "analyst"}
CHECKED: dict[str, int] = {"lists": 0, "affiliate_exact": 0, "affiliate_nonempty": 0, "turf_cuts": 0}


def _visible_sql(committee: str, tree: dict[str, Any]) -> str:
    src0 = tree["sources"][0]
    counties = ", ".join(f"'{c}'" for c in tree["counties"])
    return {
        "affiliate": f"list_contains(p.member_sources, '{src0}')",
        "affiliate1": f"list_contains(p.member_sources, '{tree['sources'][1]}')",
        "local": f"list_contains(p.member_locals, '{src0}:{tree['local'].local_number}')",
        "clc": f"p.state = 'NC' AND p.county IN ({counties}) AND (p.voter_reg_num IS NOT NULL "
               f"OR list_contains(p.member_sources, '{src0}'))",
        "state_federation": f"p.state = 'NC' AND (p.voter_reg_num IS NOT NULL OR list_contains(p.member_sources, '{src0}'))",
        "national": "p.voter_reg_num IS NOT NULL",
    }[committee]


def _filter_sql(d: ListDefinition) -> str:
    """The filters as SQL on the raw person table (every field visible)."""
    where = ["TRUE"]
    if d.counties:
        where.append("upper(p.county) IN (" + ", ".join(f"'{c}'" for c in d.counties) + ")")
    if d.parties:
        where.append("p.party IN (" + ", ".join(f"'{x}'" for x in d.parties) + ")")
    if d.age_min is not None:
        where.append(f"p.age >= {d.age_min}")
    if d.age_max is not None:
        where.append(f"p.age <= {d.age_max}")
    if d.registered is not None:
        where.append("p.voter_reg_num IS " + ("NOT NULL" if d.registered else "NULL"))
    if d.ballot == "voted":
        where.append("coalesce(p.already_voted, false)")
    if d.ballot == "chase":
        where.append("coalesce(p.ballot_chase, false)")
    if d.walkable_only:
        where.append("coalesce(p.walkable, false)")
    if d.has_phone is not None:
        where.append("p.phone IS " + ("NOT NULL" if d.has_phone else "NULL"))
    if d.affiliates:
        where.append("(" + " OR ".join(f"list_contains(p.member_sources, '{a}')" for a in d.affiliates) + ")")
    for day in d.voted_in:
        where.append(f"p.person_id IN (SELECT vp.person_id FROM voter_person vp JOIN vote_history h USING (ncid) "
                     f"WHERE h.election_date = DATE '{day}')")
    if d.member_statuses:
        where.append("p.person_id IN (SELECT r.person_id FROM identity_record r JOIN member_record m ON "
                     "m.source = r.source_name AND m.member_key = r.record_key WHERE m.status = 'active' AND "
                     "upper(m.member_status) IN (" + ", ".join(f"'{s.upper()}'" for s in d.member_statuses) + "))")
    return " AND ".join(where)


@st.composite
def definitions(draw: Any, tree: dict[str, Any], elections: list[str]) -> ListDefinition:
    counties = tree["counties"] + tree.get("other_counties", [])
    age_min = draw(st.one_of(st.none(), st.integers(18, 70)))
    return ListDefinition(
        counties=tuple(draw(st.lists(st.sampled_from(counties), unique=True, max_size=2))),
        parties=tuple(draw(st.lists(st.sampled_from(["DEM", "REP", "UNA", "LIB"]), unique=True, max_size=2))),
        age_min=age_min,
        age_max=draw(st.one_of(st.none(), st.integers(age_min or 18, 99))),
        registered=draw(st.sampled_from([None, True, False])),
        ballot=draw(st.sampled_from([None, "voted", "chase"])),
        walkable_only=draw(st.booleans()),
        has_phone=draw(st.sampled_from([None, None, True])),
        affiliates=tuple(draw(st.lists(st.sampled_from(tree["sources"][:3]), unique=True, max_size=1))),
        voted_in=tuple(draw(st.lists(st.sampled_from(elections), unique=True, max_size=1))),
        member_statuses=tuple(draw(st.lists(st.sampled_from(["active", "retired"]), unique=True, max_size=1))),
    )


def test_lists_and_turfs_hold_only_the_scope(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    cur = field_wh.cursor()
    tree["other_counties"] = [r[0] for r in cur.execute(
        "SELECT county FROM person WHERE county NOT IN (SELECT unnest(?)) GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
        [tree["counties"]]).fetchall()]
    elections = [str(r[0]) for r in cur.execute(
        "SELECT DISTINCT election_date FROM vote_history ORDER BY 1 DESC LIMIT 3").fetchall()]
    CHECKED.update(lists=0, affiliate_exact=0, affiliate_nonempty=0, turf_cuts=0)

    @given(key=st.tuples(st.sampled_from(COMMITTEES), st.sampled_from(ROLES)),
           d=definitions(tree, elections), cut=st.integers(0, 9))
    @settings(max_examples=EXAMPLES, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    def check(key: tuple[str, str], d: ListDefinition, cut: int) -> None:
        committee, role = key
        user = user_with(role, tree[committee], f"{role}-{committee}-{uuid.uuid4().hex[:6]}")
        got = {r["person_id"] for r in list_table(user=user, definition=d, warehouse=field_wh)
               .select("person_id").to_pyarrow().to_pylist()}
        scope = set() if role not in PERSON_ROLES else {r[0] for r in cur.execute(
            f"SELECT person_id FROM person p WHERE {_visible_sql(committee, tree)}").fetchall()}
        assert got <= scope, (key, d, sorted(got - scope)[:5])
        CHECKED["lists"] += 1
        if committee.startswith("affiliate") and role in PERSON_ROLES - {"analyst"}:
            want = {r[0] for r in cur.execute(
                f"SELECT person_id FROM person p WHERE {_visible_sql(committee, tree)} AND {_filter_sql(d)}"
            ).fetchall()}
            assert got == want, (key, d, sorted(got ^ want)[:5])
            CHECKED["affiliate_exact"] += 1
            CHECKED["affiliate_nonempty"] += bool(want)
        if cut == 0 and role == "organizer" and committee != "national":
            saved = services.saved_list_create(user=user, name="p", committee=tree[committee], definition=d,
                                               warehouse=field_wh)
            if saved.doors >= 10:
                job = job_run(job=services.turf_cut_submit(user=user, saved_list=saved, target_doors=10),
                              warehouse=field_wh)
                assert job.status == "succeeded", job.error
                on_turfs = {r[0] for r in cur.execute(
                    "SELECT person_id FROM turf_person WHERE cut_id = ?", [job.result["cut"]]).fetchall()}
                assert on_turfs and on_turfs <= got <= scope
                CHECKED["turf_cuts"] += 1

    check()
    print(f"checked {CHECKED['lists']} (user, filters) lists against the scope, {CHECKED['affiliate_exact']} "
          f"affiliate lists exactly ({CHECKED['affiliate_nonempty']} not empty), {CHECKED['turf_cuts']} turf cuts")
    assert CHECKED["lists"] >= EXAMPLES and CHECKED["affiliate_nonempty"] > 0
