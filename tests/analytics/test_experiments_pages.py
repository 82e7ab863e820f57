"""The experiment pages over the small synthetic state: design a list from the form,
see counts, balance and MDE, analyze and read the ITT/CACE table; bad input shown on
the page; an organizer gets 403 and another committee's experiment is not found."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tests.access.factories import login_verified
from tests.analytics.test_experiments import ELECTION, clc_list, people, plant
from unionhall.analytics.models import Experiment
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client()
    login_verified(c, user)
    return c


def test_design_and_analyze_from_the_pages(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    p = people(tree)
    saved = clc_list(field_wh, tree, p["organizer"])
    c = client_for(p["analyst"])
    index = c.get("/analytics/experiments/")
    assert index.status_code == 200 and f'<option value="{saved.pk}">CLC voters' in index.content.decode()
    form = c.get(f"/analytics/experiments/new/?list={saved.pk}")
    assert form.status_code == 200 and "Keep households together" in form.content.decode()
    bad = c.post(f"/analytics/experiments/new/?list={saved.pk}",
                 {"list": saved.pk, "name": "Doors", "arms": "control,door", "shares": "0.5,0.2", "households": "on"})
    assert bad.status_code == 400 and "shares add up to 0.7" in bad.content.decode()
    r = c.post(f"/analytics/experiments/new/?list={saved.pk}",
               {"list": saved.pk, "name": "Doors", "arms": "control,door", "shares": "0.5,0.5",
                "block_by": "precinct", "households": "on", "seed": "7"})
    exp = Experiment.objects.get(name="Doors", saved_list=saved)
    assert r.status_code == 302 and r["Location"] == f"/analytics/experiments/{exp.pk}/"
    page = c.get(r["Location"]).content.decode()
    assert exp.design["seed"] == 7 and "<code>7</code>" in page
    for c_ in exp.design["counts"]:
        assert f"<td>{c_['arm']}</td><td class=\"num\">0.500</td><td class=\"num\">{c_['persons']}</td>" in page
    assert "generals_voted" in page and "MDE of assignment" in page and "Not analyzed yet" in page
    plant(field_wh, exp, effect=0.25)
    wrong = c.post(f"/analytics/experiments/{exp.pk}/analyze/", {"outcome": "turnout"})
    assert wrong.status_code == 400 and "write voted:YYYY-MM-DD" in wrong.content.decode()
    done = c.post(f"/analytics/experiments/{exp.pk}/analyze/", {"outcome": f"voted:{ELECTION}",
                                                                "block_effects": "on"})
    assert done.status_code == 302
    page = c.get(f"/analytics/experiments/{exp.pk}/").content.decode()
    exp.refresh_from_db()
    cace = exp.results["cace"][0]
    assert "CACE (contacted)" in page and "with block fixed effects" in page
    assert f"{100 * cace['estimate']:.2f}" in page and f"{100 * cace['se']:.2f}" in page
    assert re.search(r"<td>control</td><td class=\"num\">\d+</td><td class=\"num\">0</td>", page)  # no contacts
    assert exp.name in c.get("/analytics/experiments/").content.decode()


def test_who_may_see_the_pages(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    p = people(tree)
    saved = clc_list(field_wh, tree, p["organizer"])
    c = client_for(p["analyst"])
    c.post(f"/analytics/experiments/new/?list={saved.pk}",
           {"list": saved.pk, "name": "Doors", "arms": "control,door", "seed": "1", "households": "on"})
    exp = Experiment.objects.get(name="Doors", saved_list=saved)
    org = client_for(p["organizer"])
    for url in ("/analytics/experiments/", f"/analytics/experiments/{exp.pk}/",
                f"/analytics/experiments/new/?list={saved.pk}"):
        assert org.get(url).status_code == 403, url
    other = client_for(p["other"])  # an analyst of another committee
    assert other.get(f"/analytics/experiments/{exp.pk}/").status_code == 404
    assert other.post(f"/analytics/experiments/{exp.pk}/analyze/", {"outcome": f"voted:{ELECTION}"}).status_code == 404
    assert other.get(f"/analytics/experiments/new/?list={saved.pk}").status_code == 404
    assert exp.name not in other.get("/analytics/experiments/").content.decode()
    assert other.get("/analytics/experiments/999999/").status_code == 404
    assert Client().get("/analytics/experiments/").status_code == 302  # to the login page
