"""Turnout and support models over the small synthetic state (tests/field/state.py):
trained and judged on elections and people they did not learn from, scored into slots
that the list builder filters on, within the trainer's scope only."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import numpy as np
import pytest

from tests.access.factories import user_with
from unionhall.access.gateway import person_base
from unionhall.analytics import services
from unionhall.analytics.evaluate import deciles, evaluate
from unionhall.analytics.models import ScoreModel
from unionhall.errors import UserError
from unionhall.field.lists import ListDefinition, list_counts
from unionhall.jobs.runner import job_run
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db


def _tag() -> str:
    return uuid.uuid4().hex[:6]


def _train(wh: Warehouse, user: Any, committee: Any, **kw: Any) -> ScoreModel:
    m = services.model_train_submit(user=user, committee=committee, **{"kind": "turnout", "name": "Turnout",
                                                                        "slot": "turnout", **kw})
    assert m.job is not None
    job = job_run(job=m.job, warehouse=wh)
    assert job.status == "succeeded", job.error
    m.refresh_from_db()
    return m


def _scored(wh: Warehouse, model_id: int) -> set[int]:
    return {r[0] for r in wh.cursor().execute("SELECT person_id FROM person_score WHERE model_id = ?",
                                              [model_id]).fetchall()}


def _registered(user: Any, wh: Warehouse) -> set[int]:
    p = person_base(user=user, warehouse=wh)
    return set(p.filter(p.voter_reg_num.notnull()).person_id.to_pyarrow().to_pylist())


def test_evaluation_numbers() -> None:
    y = np.array([0, 0, 1, 1])
    ev = evaluate(y, np.array([0.1, 0.4, 0.35, 0.8]), baseline=np.array([0, 0, 0, 1]), baseline_name="b")
    assert ev["auc"] == pytest.approx(0.75)
    assert ev["baseline"]["auc"] == pytest.approx(0.75)
    assert ev["brier"] == pytest.approx(np.mean((np.array([0.1, 0.4, 0.35, 0.8]) - y) ** 2))
    d = deciles(np.random.default_rng(1).random(1000))
    assert np.bincount(d)[1:].tolist() == [100] * 10
    # A score that is the true probability is calibrated: predicted and observed agree.
    rng = np.random.default_rng(2)
    p = rng.random(200_000)
    ev = evaluate((rng.random(p.size) < p).astype(np.int8), p)
    assert ev["calibration_error"] < 0.01
    assert [r["decile"] for r in ev["lift"]] == list(range(10, 0, -1))
    assert ev["lift"][0]["lift"] > 1.8 > 0.2 > ev["lift"][-1]["lift"]
    with pytest.raises(ValueError, match="both outcomes"):
        evaluate(np.zeros(5, dtype=np.int8), np.full(5, 0.5))


def test_turnout_model_beats_voting_in_the_last_two_generals_on_a_held_out_election(
        field_wh: Warehouse, tree: dict[str, Any]) -> None:
    fed = user_with("analyst", tree["state_federation"], f"fed-an-{_tag()}")
    m = _train(field_wh, fed, tree["state_federation"], name="Turnout 2026")
    assert m.status == ScoreModel.Status.ACTIVE
    card = m.card
    latest = field_wh.cursor().execute(
        "SELECT max(election_date) FROM vote_history WHERE month(election_date) = 11").fetchone()[0]
    assert card["data"]["heldout"] == str(latest)
    assert card["data"]["trained_on"] < card["data"]["heldout"]
    ev = card["evaluation"]
    print(f"held-out AUC {ev['auc']:.3f} vs voted in the last two generals {ev['baseline']['auc']:.3f}")
    assert ev["auc"] > ev["baseline"]["auc"] + 0.01
    assert ev["calibration_error"] < 0.15
    assert ev["lift"][0]["rate"] > ev["lift"][-1]["rate"]
    assert {f["feature"] for f in card["features"]} >= {"age", "general_1_back", "party"}
    assert "race" not in {f["feature"] for f in card["features"]}
    # Everyone registered in the trainer's scope is scored, once, with a probability.
    scored = _scored(field_wh, m.pk)
    assert scored == _registered(fed, field_wh) and m.scored == len(scored)
    lo, hi, n_deciles = field_wh.cursor().execute(
        "SELECT min(score), max(score), count(DISTINCT decile) FROM person_score WHERE model_id = ?",
        [m.pk]).fetchone()
    assert 0 <= lo < hi <= 1 and n_deciles == 10


def test_a_model_learns_and_scores_only_the_trainers_scope(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    clc = user_with("analyst", tree["clc"], f"clc-an-{_tag()}")
    m = _train(field_wh, clc, tree["clc"])
    scored = _scored(field_wh, m.pk)
    assert scored == _registered(clc, field_wh)
    everyone = {r[0] for r in field_wh.cursor().execute(
        "SELECT person_id FROM person WHERE voter_reg_num IS NOT NULL").fetchall()}
    assert scored < everyone
    assert m.card["data"]["train_n"] <= len(scored)


def test_the_list_builder_filters_on_a_score_slot(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    fed = user_with("analyst", tree["state_federation"], f"fed-an-{_tag()}")
    m = _train(field_wh, fed, tree["state_federation"])
    organizer = user_with("organizer", tree["clc"], f"org-{_tag()}")  # the CLC finds the federation's slot
    counts = list_counts(user=organizer, definition=ListDefinition(scores=("turnout:60-100",)), warehouse=field_wh)
    p = person_base(user=organizer, warehouse=field_wh)
    mine = set(p.person_id.to_pyarrow().to_pylist())
    high = {r[0] for r in field_wh.cursor().execute(
        "SELECT person_id FROM person_score WHERE model_id = ? AND score >= 0.6", [m.pk]).fetchall()}
    assert counts.people == len(mine & high) > 0
    low = list_counts(user=organizer, definition=ListDefinition(scores=("turnout:0-59",)), warehouse=field_wh)
    assert low.people + counts.people <= len(mine) and low.people > 0
    with pytest.raises(UserError, match="no active model fills the score slot 'support'"):
        list_counts(user=organizer, definition=ListDefinition(scores=("support:50-100",)), warehouse=field_wh)
    for bad in ("turnout", "turnout:70-40", "turnout:0-101", ":1-2", "turnout:a-b"):
        with pytest.raises(UserError, match="slot:low-high"):
            ListDefinition(scores=(bad,)).check()
    # An organizer of an affiliate outside the federation's tree has no such slot.
    outsider = user_with("organizer", tree["affiliate1"] if "affiliate1" in tree else tree["affiliate"],
                         f"aff-{_tag()}")
    with pytest.raises(UserError, match="no active model"):
        list_counts(user=outsider, definition=ListDefinition(scores=("turnout:0-100",)), warehouse=field_wh)


def test_a_new_model_of_a_slot_retires_the_old_one_and_its_scores(field_wh: Warehouse,
                                                                   tree: dict[str, Any]) -> None:
    fed = user_with("analyst", tree["state_federation"], f"fed-an-{_tag()}")
    first = _train(field_wh, fed, tree["state_federation"], seed=1)
    second = _train(field_wh, fed, tree["state_federation"], seed=2)
    first.refresh_from_db()
    assert first.status == ScoreModel.Status.RETIRED and second.status == ScoreModel.Status.ACTIVE
    assert _scored(field_wh, first.pk) == set()
    assert services.slot_model(fed, "turnout") == second


def test_a_failed_training_keeps_the_slot_as_it_was(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    fed = user_with("analyst", tree["state_federation"], f"fed-an-{_tag()}")
    good = _train(field_wh, fed, tree["state_federation"])
    before = _scored(field_wh, good.pk)
    bad = services.model_train_submit(user=fed, committee=tree["state_federation"], kind="support", name="S",
                                      slot="turnout", target={"question": "NOSUCH", "response": "Y"})
    assert bad.job is not None
    job = job_run(job=bad.job, warehouse=field_wh)
    assert job.status == "failed" and "answered 'NOSUCH'" in job.error
    good.refresh_from_db()
    assert good.status == ScoreModel.Status.ACTIVE and _scored(field_wh, good.pk) == before


def test_bad_requests_say_what_is_wrong(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    fed = user_with("analyst", tree["state_federation"], f"fed-an-{_tag()}")
    with pytest.raises(UserError, match="lower-case letters"):
        services.model_train_submit(user=fed, committee=tree["state_federation"], kind="turnout", name="x",
                                    slot="Turnout Score!")
    with pytest.raises(UserError, match="only for committees where you are"):
        services.model_train_submit(user=fed, committee=tree["affiliate"], kind="turnout", name="x", slot="t")
    with pytest.raises(UserError, match="question and the response"):
        services.model_train_submit(user=fed, committee=tree["state_federation"], kind="support", name="x",
                                    slot="s", target={"question": "SUP"})
    with pytest.raises(UserError, match="YYYY-MM-DD"):
        services.model_train_submit(user=fed, committee=tree["state_federation"], kind="turnout", name="x",
                                    slot="t", target={"heldout": "Nov 2024"})
    m = services.model_train_submit(user=fed, committee=tree["state_federation"], kind="turnout", name="x",
                                    slot="t", target={"heldout": "2021-06-01"})
    assert m.job is not None
    job = job_run(job=m.job, warehouse=field_wh)
    assert job.status == "failed" and "is not a general election" in job.error


def test_support_model_learns_a_survey_answer(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    fed = user_with("analyst", tree["state_federation"], f"fed-an-{_tag()}")
    cur = field_wh.cursor()
    rows = cur.execute("SELECT person_id, party, age FROM person WHERE voter_reg_num IS NOT NULL "
                       "ORDER BY person_id").fetchall()
    rng = np.random.default_rng(11)
    at = dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC)
    answers = []
    for pid, party, age in rows[:1400]:
        p = {"DEM": 0.8, "REP": 0.2}.get(party or "", 0.5) + (0.1 if (age or 50) < 35 else 0.0)
        answers.append((f"t-{pid}", pid, None, "SUP", "Y" if rng.random() < p else "N", at))
    cur.executemany("INSERT INTO contact_response VALUES (?, ?, ?, ?, ?, ?)", answers)
    m = _train(field_wh, fed, tree["state_federation"], kind="support", slot="support",
               target={"question": "SUP", "response": "Y"})
    ev = m.card["evaluation"]
    assert ev["auc"] > 0.65
    assert ev["baseline"]["name"] == "registered Democrat"
    assert m.card["data"]["answered"] == len({a[1] for a in answers} & _registered(fed, field_wh))
    assert _scored(field_wh, m.pk) == _registered(fed, field_wh)


def test_model_pages(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    from django.test import Client

    from tests.access.factories import login_verified

    fed = user_with("analyst", tree["state_federation"], f"fed-an-{_tag()}")
    client = Client()
    login_verified(client, fed)
    assert client.get("/analytics/models/").status_code == 200
    bad = client.post("/analytics/models/", {"kind": "turnout", "slot": "Not A Slot",
                                             "committee": tree["state_federation"].pk})
    assert bad.status_code == 400 and "lower-case letters" in bad.content.decode()
    r = client.post("/analytics/models/", {"kind": "turnout", "slot": "turnout", "name": "Page model",
                                           "committee": tree["state_federation"].pk})
    assert r.status_code == 302
    m = ScoreModel.objects.get(name="Page model")
    assert "Training" in client.get(r["Location"]).content.decode()
    assert m.job is not None
    job_run(job=m.job, warehouse=field_wh)
    m.refresh_from_db()
    page = client.get(f"/analytics/models/{m.pk}/").content.decode()
    assert f"{m.card['evaluation']['auc']:.3f}" in page and "voted in the last two generals" in page
    assert "Lift by score decile" in page
    # Another committee's analyst cannot open it; an organizer has no analytics pages.
    other = user_with("analyst", tree["affiliate"], f"aff-an-{_tag()}")
    login_verified(client, other)
    assert client.get(f"/analytics/models/{m.pk}/").status_code == 404
    organizer = user_with("organizer", tree["clc"], f"org-{_tag()}")
    login_verified(client, organizer)
    assert client.get("/analytics/models/").status_code == 403
