"""The scoped expression's shape: membership bits, filters moved into the row filter,
counts that compute no mask — all with the same answers as the plain rules."""

from __future__ import annotations

import ibis
import pytest

from tests.access.factories import committee_tree, load_persons, user_with
from tests.backends import warehouse_location
from unionhall.access.gateway import (
    ScopedTable,
    person_base,
    person_member_bits_refresh,
    scoped_count,
    source_bits_for,
)
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db


def _ids(t: ibis.Table) -> set[int]:
    return {r["person_id"] for r in t.select("person_id").to_pyarrow().to_pylist()}


def test_bits_follow_memberships(warehouse: Warehouse) -> None:
    load_persons(warehouse)
    bits = source_bits_for(warehouse)
    assert set(bits) == {"nurses", "teachers"}
    cur = warehouse.cursor()
    row = cur.execute("SELECT member_source_bits FROM person WHERE person_id = 1").fetchone()
    assert row == (1 << bits["nurses"],)
    fed = user_with("organizer", committee_tree()["state_federation"])
    assert _ids(person_base(user=fed, warehouse=warehouse).filter(ibis._.voter_reg_num.isnull())) == {2}
    # Bo leaves the nurses and joins a new union: the refresh after the write keeps up.
    cur.execute("UPDATE person SET member_sources = ['plumbers'] WHERE person_id = 2")
    person_member_bits_refresh(cur)
    assert cur.execute("SELECT member_source_bits FROM person WHERE person_id = 2").fetchone() == (
        1 << source_bits_for(warehouse)["plumbers"],)
    assert _ids(person_base(user=fed, warehouse=warehouse).filter(ibis._.voter_reg_num.isnull())) == set()


def test_a_source_without_a_bit_is_tested_on_the_list(warehouse: Warehouse) -> None:
    load_persons(warehouse)
    # Written without a refresh: no bit for 'teachers' any more, so the list decides.
    warehouse.cursor().execute("DELETE FROM member_source_bit WHERE source = 'teachers'")
    user = user_with("organizer", committee_tree()["other_affiliate"])
    assert _ids(person_base(user=user, warehouse=warehouse)) == {3, 4}


def test_filters_join_the_row_filter_and_a_masked_field_matches_nobody(warehouse: Warehouse) -> None:
    load_persons(warehouse)
    clc = user_with("organizer", committee_tree()["clc"])
    t = person_base(user=clc, warehouse=warehouse)
    assert isinstance(t, ScopedTable)
    by_phone = t.filter(t.phone == "+19195550101")  # Ana's phone, which a CLC may not read
    assert by_phone.to_pyarrow().num_rows == 0
    assert int(scoped_count(by_phone).execute()) == 0
    wake = t.filter(t.county == "WAKE", t.first_name.startswith("A"))
    assert _ids(wake) == {1}
    assert int(scoped_count(wake).execute()) == int(wake.count().execute()) == 1
    sql = ibis.to_sql(scoped_count(wake))
    assert "LIST_FILTER" not in sql and '"phone"' not in sql  # a count computes no mask
    assert "member_source_bits" in sql  # membership by bits, not by reading the list


def test_a_filter_over_other_rows_is_not_moved_below_the_scope(warehouse: Warehouse) -> None:
    load_persons(warehouse)
    clc = user_with("organizer", committee_tree()["clc"])
    t = person_base(user=clc, warehouse=warehouse)
    # The largest id the user can see is 5 (7 is outside the CLC's counties).
    assert _ids(t.filter(t.person_id == t.person_id.max())) == {5}
    assert int(scoped_count(t.filter(t.person_id == t.person_id.max())).execute()) == 1


def test_member_bits_are_never_returned(warehouse: Warehouse) -> None:
    from django.contrib.auth import get_user_model

    load_persons(warehouse)
    tree = committee_tree()
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "a-long-passw0rd!")
    for user in (user_with("organizer", tree["clc"]), user_with("organizer", tree["affiliate"]), admin):
        assert "member_source_bits" not in person_base(user=user, warehouse=warehouse).columns


def test_the_migration_fills_bits_for_persons_already_there(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from unionhall.warehouse.migrations import MIGRATIONS, apply_migrations

    wh = Warehouse(warehouse_location(tmp_path, "w"))
    apply_migrations(wh, [m for m in MIGRATIONS if m.version < 2026113050])
    wh.cursor().execute("INSERT INTO person (person_id, member_sources) VALUES (1, ['nurses']), (2, []), (3, NULL)")
    apply_migrations(wh, MIGRATIONS)
    bits = source_bits_for(wh)
    rows = wh.cursor().execute("SELECT person_id, member_source_bits FROM person ORDER BY 1").fetchall()
    assert rows == [(1, 1 << bits["nurses"]), (2, None), (3, None)]
    wh.close()
