"""Every door, every role x committee kind: the persons and fields a user gets from any
page, JSON or CSV are exactly those of their scope (issue 15).

The world (`world.py`) puts a distinctive token in every person value of every
person-bearing table. For each user the test requests every door — the people search
and its CSV, the JSON API, the election person page of every person, the early-vote
report, the home page, the identity summary, review queue, pairs and person pages,
the import history and both quarantines with their CSV — and checks that no token
outside the user's scope appears in any response (0 rows or fields outside scope),
that the doors which should show a token do (so the check cannot pass by showing
nothing), and that the home page's member counts equal the records in scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.access import world
from tests.access.factories import committee_tree, login_verified, user_with
from unionhall.identity.selectors import pair_token
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db

EVERY = set(world.GROUPS)
VOTER = {"name", "address", "age"}

# committee key, role -> {person id: field groups the user sees}
EXPECT: dict[tuple[str, str], dict[int, set[str]]] = {
    ("affiliate", "organizer"): {1: EVERY, 2: EVERY, 6: EVERY, 8: EVERY},
    ("affiliate", "data_manager"): {1: EVERY, 2: EVERY, 6: EVERY, 8: EVERY},
    ("affiliate", "administrator"): {1: EVERY, 2: EVERY, 6: EVERY, 8: EVERY},
    ("affiliate", "analyst"): {p: {"name", "dob", "age"} for p in (1, 2, 6, 8)},
    ("affiliate", "canvasser"): {},
    ("affiliate", "vendor"): {},
    ("local", "organizer"): {1: EVERY, 6: EVERY, 8: EVERY},
    ("local", "data_manager"): {1: EVERY, 6: EVERY, 8: EVERY},
    ("other_affiliate", "data_manager"): {3: EVERY, 4: EVERY, 8: EVERY},
    # NC voters (name, address) + nurses in NC under the agreement (name, address)
    ("state_federation", "organizer"): {p: VOTER for p in (1, 2, 3, 5, 7, 8)},
    ("state_federation", "data_manager"): {p: VOTER for p in (1, 2, 3, 5, 7, 8)},
    ("state_federation", "analyst"): {p: {"name", "age"} for p in (1, 2, 3, 5, 7, 8)},
    ("clc", "organizer"): {p: VOTER for p in (1, 3, 5, 8)},
    ("clc", "data_manager"): {p: VOTER for p in (1, 3, 5, 8)},
    ("clc", "vendor"): {},
    ("national", "organizer"): {p: VOTER for p in (1, 3, 5, 6, 7, 8)},
    ("national", "data_manager"): {p: VOTER for p in (1, 3, 5, 6, 7, 8)},
    ("national", "canvasser"): {},
    ("platform", "superuser"): {p: EVERY for p in world.BY_ID},
}
# Member sources each committee's paths show (affiliate: its own; federation side: by agreement).
SOURCES_SHOWN = {"affiliate": {"nurses"}, "local": {"nurses"}, "other_affiliate": {"teachers"},
                 "state_federation": {"nurses"}, "clc": {"nurses"}, "national": set(),
                 "platform": set(world.SOURCES)}
DATA_ROLES = {"administrator", "data_manager", "superuser"}
MANAGED = {("affiliate", "administrator"): {"nurses"}, ("affiliate", "data_manager"): {"nurses"},
           ("other_affiliate", "data_manager"): {"teachers"}, ("platform", "superuser"): set(world.SOURCES)}


def shown(key: tuple[str, str], pid: int, source: str) -> bool:
    """Does the user see person `pid`'s membership of `source`?"""
    committee = key[0]
    person = world.BY_ID[pid]
    if pid not in EXPECT[key] or source not in SOURCES_SHOWN[committee] or source not in person[8]:
        return False
    return committee != "local" or f"{source}:1" in person[9]


def allowed(key: tuple[str, str], s: world.Sentinel) -> bool:
    if s.quarantine is not None:
        return s.quarantine in MANAGED.get(key, set())
    assert s.pid is not None
    if s.source is not None:
        return shown(key, s.pid, s.source)
    granted = EXPECT[key].get(s.pid, set())
    return granted >= EVERY if s.group == "all" else s.group in granted


def pair_visible(key: tuple[str, str], a: str, b: str) -> bool:
    def record(k: str) -> bool:
        if k.startswith("v|NCID"):
            return int(k.removeprefix("v|NCID")) in EXPECT[key]
        _, source, member_key = k.split("|")
        pid = int(member_key.removeprefix(f"mk{source}").removesuffix("zq"))
        return shown(key, pid, source)

    return record(a) and record(b)


@pytest.fixture
def every_door_world(process_warehouse: Warehouse) -> Iterator[dict[str, Any]]:
    world.clear_world(process_warehouse)
    yield world.load_world(process_warehouse)
    world.clear_world(process_warehouse)


def _user(key: tuple[str, str]) -> Any:
    committee, role = key
    if role == "superuser":
        return get_user_model().objects.create_superuser("root", password="a-long-passw0rd!")
    return user_with(role, committee_tree()[committee])


def _doors(w: dict[str, Any]) -> list[str]:
    urls = ["/", "/people/?registered=yes", "/people/?last_name=ln", "/people/?download=csv&last_name=ln",
            "/api/people?limit=500", "/elections/early-vote/", "/identity/", "/identity/review/", "/imports/"]
    for pid in world.BY_ID:
        urls += [f"/api/people/{pid}", f"/elections/people/{pid}/", f"/identity/people/{pid}/"]
    urls += [f"/identity/review/{pair_token(a, b)}/" for a, b in w["pairs"]]
    for run in w["runs"].values():
        urls += [f"/imports/{run.pk}/", f"/imports/{run.pk}/quarantine/", f"/imports/{run.pk}/quarantine/?download=csv"]
    return urls


def _body(response: Any) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", "replace").lower()


@pytest.mark.parametrize("key", list(EXPECT), ids=["-".join(k) for k in EXPECT])
def test_every_door_shows_only_the_scope(client: Client, every_door_world: dict[str, Any],
                                         key: tuple[str, str]) -> None:
    user = _user(key)
    login_verified(client, user)
    tokens = world.sentinels()
    seen: set[str] = set()
    statuses: dict[str, int] = {}
    for url in _doors(every_door_world):
        response = client.get(url)
        statuses[url] = response.status_code
        body = _body(response)
        leaked = [s.text for s in tokens if not allowed(key, s) and s.text.lower() in body]
        assert not leaked, (url, leaked)
        seen |= {s.text for s in tokens if s.text.lower() in body}

    # The doors that should show something did: every allowed token of the golden
    # records (API, people CSV, person pages) appears somewhere, and for data managers
    # the member records and quarantined rows of their scope too. (No page shows voter
    # phones or ballot requesters' names; they are checked only for not leaking.)
    shows_on_pages = {s.text for s in tokens if s.group in world.GROUPS
                      and not s.text.startswith("98455")} | ({s.text for s in tokens if s.source or s.quarantine}
                                                            if key[1] in DATA_ROLES else set())
    missing = {s.text for s in tokens if allowed(key, s) and s.text in shows_on_pages} - seen
    assert not missing

    data_pages = [u for u in statuses if u.startswith(("/identity/", "/imports/"))]
    for url in data_pages:
        if key[1] not in DATA_ROLES:
            assert statuses[url] == 403, url
    for pid in world.BY_ID:  # the same 404 for out of scope as for missing
        assert statuses[f"/elections/people/{pid}/"] == (200 if pid in EXPECT[key] else 404)
        assert statuses[f"/api/people/{pid}"] == (200 if pid in EXPECT[key] else 404)
    if key[1] in DATA_ROLES:
        for a, b in every_door_world["pairs"]:
            assert statuses[f"/identity/review/{pair_token(a, b)}/"] == (200 if pair_visible(key, a, b) else 404)
        for source, run in every_door_world["runs"].items():
            status = statuses[f"/imports/{run.pk}/quarantine/"]
            assert status == (200 if source in MANAGED.get(key, set()) else 404), source

    home = client.get("/")
    counts = {m["source"]: m["active"] for m in home.context["summary"]["members"]}
    expected_counts = {s: n for s in world.SOURCES
                       if (n := sum(shown(key, pid, s) for pid in world.BY_ID))}
    assert counts == expected_counts
