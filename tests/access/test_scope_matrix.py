"""Role × committee kind: which persons and which fields `person_base` returns."""

from __future__ import annotations

import pytest

from tests.access.factories import committee_tree, load_persons, user_with
from unionhall.warehouse import Warehouse, person_base

pytestmark = pytest.mark.django_db

EVERYTHING = {"name", "address", "phone", "email"}
VOTER = {"name", "address"}

# committee key, role -> {person id: visible field groups}
MATRIX = {
    ("affiliate", "organizer"): {1: EVERYTHING, 2: EVERYTHING, 6: EVERYTHING},
    ("affiliate", "data_manager"): {1: EVERYTHING, 2: EVERYTHING, 6: EVERYTHING},
    ("affiliate", "administrator"): {1: EVERYTHING, 2: EVERYTHING, 6: EVERYTHING},
    ("affiliate", "analyst"): {1: {"name"}, 2: {"name"}, 6: {"name"}},
    ("affiliate", "canvasser"): {},
    ("affiliate", "vendor"): {},
    ("local", "organizer"): {1: EVERYTHING, 6: EVERYTHING},
    ("other_affiliate", "organizer"): {3: EVERYTHING, 4: EVERYTHING},
    # NC: voters of the state (name, address) + nurses in NC under the agreement (name, address)
    ("state_federation", "organizer"): {1: VOTER, 2: VOTER, 3: VOTER, 5: VOTER, 7: VOTER},
    ("state_federation", "analyst"): {1: {"name"}, 2: {"name"}, 3: {"name"}, 5: {"name"}, 7: {"name"}},
    ("clc", "organizer"): {1: VOTER, 3: VOTER, 5: VOTER},
    ("clc", "vendor"): {},
    ("national", "organizer"): {1: VOTER, 3: VOTER, 5: VOTER, 6: VOTER, 7: VOTER},
}
COLUMNS = {"name": "first_name", "address": "addr_line1", "phone": "phone", "email": "email"}


def _visible(wh: Warehouse, user: object) -> dict[int, set[str]]:
    from tests.access.factories import PERSONS

    truth = {p[0]: p for p in PERSONS}
    df = person_base(user=user, warehouse=wh).to_pyarrow().to_pylist()
    out: dict[int, set[str]] = {}
    for row in df:
        pid = row["person_id"]
        groups = set()
        for group, col in COLUMNS.items():
            if row[col] is not None:
                groups.add(group)
        # a masked field is null; a field the source never had is null too: compare to truth
        source_has = {"name": True, "address": True, "phone": truth[pid][5] is not None, "email": truth[pid][6] is not None}
        out[pid] = groups | {g for g, has in source_has.items() if not has and g in EVERYTHING}
    return out


@pytest.mark.parametrize(("committee", "role"), list(MATRIX))
def test_scope_matrix(warehouse: Warehouse, committee: str, role: str) -> None:
    load_persons(warehouse)
    tree = committee_tree()
    user = user_with(role, tree[committee])
    seen = _visible(warehouse, user)
    expected = MATRIX[(committee, role)]
    assert set(seen) == set(expected)
    for pid, groups in expected.items():
        missing_in_source = {g for g in EVERYTHING if g not in groups}
        # fields outside scope are null (we only know "null", so check the granted ones are present
        # and that nothing beyond the grant is shown when the source has it)
        assert groups <= seen[pid], (pid, groups, seen[pid])
        from tests.access.factories import PERSONS

        truth = {p[0]: p for p in PERSONS}[pid]
        shown = person_base(user=user, warehouse=warehouse).filter(lambda t: t.person_id == pid).to_pyarrow().to_pylist()[0]
        for g in missing_in_source:
            assert shown[COLUMNS[g]] is None, (pid, g)
        assert truth is not None


def test_membership_is_shown_only_where_granted(warehouse: Warehouse) -> None:
    load_persons(warehouse)
    tree = committee_tree()
    fed = user_with("organizer", tree["state_federation"])
    rows = {r["person_id"]: r for r in person_base(user=fed, warehouse=warehouse).to_pyarrow().to_pylist()}
    assert rows[1]["member_sources"] == ["nurses"]  # shared by the nurses' agreement
    assert rows[3]["member_sources"] == []  # a teacher, seen only as a voter: membership hidden
    assert rows[1]["member_locals"] == []


def test_several_grants_add_up(warehouse: Warehouse) -> None:
    load_persons(warehouse)
    tree = committee_tree()
    user = user_with("organizer", tree["local"])
    from unionhall.access.models import RoleGrant

    RoleGrant.objects.create(user=user, committee=tree["other_affiliate"], role="analyst")
    rows = {r["person_id"]: r for r in person_base(user=user, warehouse=warehouse).to_pyarrow().to_pylist()}
    assert set(rows) == {1, 3, 4, 6}
    assert rows[1]["phone"] == "+19195550101"
    assert rows[3]["phone"] is None and rows[3]["first_name"] == "Cy"
