"""Experiments end to end over the small synthetic state (tests/field/state.py): a saved
list randomized by an analyst (reproducibly, households whole, blocks split to the
shares, written all-or-nothing), bad designs refused with what to fix, and an analysis
that recovers an effect planted in the warehouse and equals the estimators run on the
same data."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import numpy as np
import polars as pl
import pytest

from tests.access.factories import user_with
from unionhall.access.models import UsageEvent
from unionhall.analytics import estimate
from unionhall.analytics.experiments import (
    Outcome,
    analysis_frame,
    experiment_analyze,
    experiment_create,
    experiment_get,
)
from unionhall.analytics.models import Experiment
from unionhall.errors import UserError
from unionhall.field import services as field_services
from unionhall.field.lists import ListDefinition
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db
ELECTION = dt.date(2026, 11, 3)


def people(tree: dict[str, Any]) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:5]
    return {"organizer": user_with("organizer", tree["clc"], f"org-{tag}"),
            "analyst": user_with("analyst", tree["clc"], f"an-{tag}"),
            "other": user_with("analyst", tree["affiliate1"], f"oth-{tag}")}


def clc_list(wh: Warehouse, tree: dict[str, Any], user: Any) -> Any:
    return field_services.saved_list_create(user=user, name="CLC voters", committee=tree["clc"], warehouse=wh,
                                            definition=ListDefinition(counties=tuple(tree["counties"])))


def units_of(wh: Warehouse, experiment: Experiment) -> pl.DataFrame:
    """The assignment as stored (read directly: this is the test's own view)."""
    df = pl.from_arrow(wh.cursor().execute(
        "SELECT person_id, arm, block, cluster FROM experiment_unit WHERE experiment_id = ? ORDER BY person_id",
        [experiment.pk]).fetch_arrow_table())
    assert isinstance(df, pl.DataFrame)
    return df


def test_a_design_is_reproducible_households_whole_blocks_split(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    p = people(tree)
    saved = clc_list(field_wh, tree, p["organizer"])
    ask = {"user": p["analyst"], "saved_list": saved, "arms": ["control", "door"], "shares": [0.5, 0.5],
           "block_by": "precinct", "cluster_households": True, "warehouse": field_wh}
    a = experiment_create(name="GOTV doors", seed=7, **ask)
    b = experiment_create(name="GOTV doors again", seed=7, **ask)
    c = experiment_create(name="Another draw", seed=8, **ask)
    ua, ub, uc = units_of(field_wh, a), units_of(field_wh, b), units_of(field_wh, c)
    assert ua.height == saved.people and ua.equals(ub) and not ua.get_column("arm").equals(uc.get_column("arm"))
    assert ua.group_by("cluster").agg(pl.col("arm").n_unique()).get_column("arm").max() == 1
    # each block's households split as evenly as they can
    per_block = ua.unique("cluster").group_by("block", "arm").len().pivot(on="arm", index="block", values="len")
    diff = per_block.fill_null(0).select((pl.col("door").cast(pl.Int64) - pl.col("control").cast(pl.Int64)).abs())
    assert (diff.to_series() <= 1).all()
    d = a.design
    assert d["seed"] == 7 and d["block_by"] == "precinct" and d["arms"] == ["control", "door"]
    assert sum(c["persons"] for c in d["counts"]) == saved.people == d["persons"]
    assert {r["covariate"] for r in d["balance"]} >= {"age", "generals_voted", "party_dem"}
    assert all(abs(r["std_diffs"][0]) < 0.25 for r in d["balance"] if r["std_diffs"][0] is not None)
    (m,) = d["power"]["mde"]
    assert 0 < d["power"]["base_rate"] < 1 and 0 < m["itt"] < m["cace"] < 1 and m["design_effect"] > 1
    assert UsageEvent.objects.filter(user=p["analyst"], action="experiment", detail__experiment=a.pk,
                                     persons=saved.people).exists()
    assert experiment_get(user=p["analyst"], pk=a.pk) == a
    with pytest.raises(UserError, match=f"no experiment {a.pk} among your committees"):
        experiment_get(user=p["other"], pk=a.pk)


def test_bad_designs_say_what_to_fix(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    p = people(tree)
    saved = clc_list(field_wh, tree, p["organizer"])
    ask: dict[str, Any] = {"user": p["analyst"], "saved_list": saved, "name": "Test", "arms": ["control", "door"],
                           "seed": 1, "warehouse": field_wh}
    for change, message in [
        ({"arms": ["door"]}, "two or more arms"),
        ({"arms": ["door", "mail"]}, "name one arm 'control'"),
        ({"arms": ["control", "control"]}, "each arm once"),
        ({"arms": ["control", "door!"]}, "arm name 'door!'"),
        ({"shares": [0.5, 0.3, 0.2]}, "3 shares for 2 arms"),
        ({"shares": [0.7, 0.7]}, "add up to 1.4"),
        ({"shares": [1.0, 0.0]}, "every share must be above 0"),
        ({"shares": [0.999, 0.001]}, "fewer than 5; use a bigger list"),
        ({"block_by": "ssn"}, "cannot block by 'ssn'"),
        ({"name": "  "}, "give the experiment a name"),
        ({"seed": -1}, "seed -1 must be a whole number"),
        ({"user": p["other"]}, "you cannot see the list"),
    ]:
        with pytest.raises(UserError, match=message):
            experiment_create(**{**ask, **change})
    assert not Experiment.objects.filter(saved_list=saved).exists()
    assert field_wh.cursor().execute("SELECT count(*) FROM experiment_unit").fetchone() == (0,)


def test_a_failed_warehouse_write_leaves_no_experiment(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    p = people(tree)
    saved = clc_list(field_wh, tree, p["organizer"])
    cur = field_wh.cursor()
    cur.execute("ALTER TABLE experiment_unit RENAME TO experiment_unit_away")
    try:
        with pytest.raises(Exception, match="experiment_unit"):
            experiment_create(user=p["analyst"], saved_list=saved, name="Doomed", arms=["control", "door"], seed=1,
                              warehouse=field_wh)
    finally:
        cur.execute("ALTER TABLE experiment_unit_away RENAME TO experiment_unit")
    assert not Experiment.objects.filter(name="Doomed").exists()
    assert not UsageEvent.objects.filter(action="experiment", user=p["analyst"]).exists()


def plant(wh: Warehouse, experiment: Experiment, *, effect: float, seed: int = 3) -> pl.DataFrame:
    """Contact half the registered persons of the door arm (a conversation after the
    experiment began), an old contact of some control persons (before it: outside the
    window), and a vote in ELECTION with probability 0.4, plus `effect` for the
    contacted. Returns the truth: person_id, arm, block, cluster, y, contacted."""
    rng = np.random.default_rng(seed)
    units = units_of(wh, experiment)
    cur = wh.cursor()
    ncid = dict(cur.execute("SELECT person_id, min(ncid) FROM voter_person GROUP BY 1").fetchall())
    pids = units.get_column("person_id").to_numpy()
    arm = units.get_column("arm").to_numpy()
    registered = np.array([p in ncid for p in pids])
    contacted = (arm == "door") & registered & (rng.random(len(pids)) < 0.5)
    voted = registered & (rng.random(len(pids)) < 0.4 + effect * contacted)
    after = (experiment.created_at + dt.timedelta(hours=2)).astimezone(dt.UTC).replace(tzinfo=None)
    before = after - dt.timedelta(days=400)
    rows = [(f"t-{experiment.pk}-{p}", int(p), "door", "CON", True, after, "vendor", after)
            for p in pids[contacted]]
    rows += [(f"old-{experiment.pk}-{p}", int(p), "phone", "CON", True, before, "vendor", before)
             for p in pids[(arm == "control") & registered][:40]]
    rows += [(f"nh-{experiment.pk}-{p}", int(p), "door", "NH", False, after, "vendor", after)
             for p in pids[(arm == "control") & registered][40:80]]  # not home: no conversation
    cur.executemany("INSERT INTO contact_history (result_key, person_id, channel, result_code, contacted, "
                    "contacted_at, source, entered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    cur.execute("DELETE FROM vote_history WHERE election_date = ?", [ELECTION])
    cur.executemany("INSERT INTO vote_history (ncid, election_date, election_lbl, method, row_hash, first_load_id, "
                    "last_load_id) VALUES (?, ?, '11/03/2026', 'in_person', 1, 0, 0)",
                    [(ncid[int(p)], ELECTION) for p in pids[voted]])
    return units.with_columns(pl.Series("y", voted.astype(float)), pl.Series("contacted", contacted))


def test_the_analysis_recovers_a_planted_effect(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    p = people(tree)
    saved = clc_list(field_wh, tree, p["organizer"])
    exp = experiment_create(user=p["analyst"], saved_list=saved, name="Doors", arms=["control", "door"],
                            block_by="precinct", seed=11, warehouse=field_wh)
    truth = plant(field_wh, exp, effect=0.25)
    out = experiment_analyze(user=p["analyst"], experiment=exp, outcome=f"voted:{ELECTION}", warehouse=field_wh)
    (itt,), (cace,) = out["itt"], out["cace"]
    assert cace["ci_low"] < 0.25 < cace["ci_high"] and cace["p_value"] < 0.05
    rate = truth.filter(pl.col("arm") == "door").get_column("contacted").mean()
    assert itt["ci_low"] < 0.25 * rate < itt["ci_high"]
    comp = {r["arm"]: r for r in out["compliance"]}
    assert comp["control"]["contact_rate"] == 0  # the old contact and the not-home are outside the count
    assert comp["door"]["contact_rate"] == pytest.approx(rate)
    # the service's numbers are the estimators' on the planted truth, built here on our own
    truth = truth.with_columns(pl.coalesce("cluster", pl.lit("p:") + pl.col("person_id").cast(pl.Utf8)))
    (ref_itt,), (ref_cace,) = estimate.itt(truth), estimate.cace(truth)
    for key in ("estimate", "se", "ci_low", "ci_high", "p_value", "n", "clusters", "control_mean"):
        assert itt[key] == pytest.approx(getattr(ref_itt, key), abs=1e-12), key
        assert cace[key] == pytest.approx(getattr(ref_cace, key), abs=1e-12), key
    frame = analysis_frame(user=p["analyst"], experiment=exp, outcome=Outcome.parse(f"voted:{ELECTION}"),
                           warehouse=field_wh)
    assert frame.select("person_id", "y", "contacted").equals(truth.select("person_id", "y", "contacted"))
    # with block fixed effects: still the estimators', still covering the truth
    fe = experiment_analyze(user=p["analyst"], experiment=exp, outcome=f"voted:{ELECTION}", block_effects=True,
                            warehouse=field_wh)
    (ref_fe,) = estimate.cace(truth, block_effects=True)
    assert fe["cace"][0]["estimate"] == pytest.approx(ref_fe.estimate, abs=1e-12)
    assert fe["cace"][0]["ci_low"] < 0.25 < fe["cace"][0]["ci_high"]
    exp.refresh_from_db()
    assert exp.status == Experiment.Status.ANALYZED and exp.results["block_effects"] is True
    assert UsageEvent.objects.filter(user=p["analyst"], action="experiment", detail__step="analyze").count() == 2


def test_a_window_and_a_survey_outcome(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    p = people(tree)
    saved = clc_list(field_wh, tree, p["organizer"])
    exp = experiment_create(user=p["analyst"], saved_list=saved, name="Doors", arms=["control", "door"], seed=5,
                            warehouse=field_wh)
    truth = plant(field_wh, exp, effect=0.0)
    # a window starting long before the experiment takes the old control contacts in
    early = experiment_analyze(user=p["analyst"], experiment=exp, outcome=f"voted:{ELECTION}",
                               since=dt.date(2000, 1, 1), warehouse=field_wh)
    assert {r["arm"]: r["contacted"] for r in early["compliance"]}["control"] == 40
    cur = field_wh.cursor()
    treated = truth.filter(pl.col("contacted")).get_column("person_id").to_list()
    at = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=3)
    cur.executemany("INSERT INTO contact_response VALUES (?, ?, NULL, 'SUPPORT', ?, ?)",
                    [(f"t-{exp.pk}-{pid}", pid, "YES" if i % 2 else "NO", at) for i, pid in enumerate(treated)])
    out = experiment_analyze(user=p["analyst"], experiment=exp, outcome="survey:SUPPORT=YES", warehouse=field_wh)
    said_yes = len(treated) // 2
    door = {r["arm"]: r for r in out["compliance"]}["door"]
    assert door["outcome_mean"] * door["n"] == pytest.approx(said_yes)
    assert out["outcome"] == "survey:SUPPORT=YES"


def test_bad_analyses_say_what_to_fix(field_wh: Warehouse, tree: dict[str, Any]) -> None:
    p = people(tree)
    saved = clc_list(field_wh, tree, p["organizer"])
    exp = experiment_create(user=p["analyst"], saved_list=saved, name="Doors", arms=["control", "door"], seed=5,
                            warehouse=field_wh)
    ask = {"user": p["analyst"], "experiment": exp, "warehouse": field_wh}
    for outcome, message in [("turnout", "write voted:YYYY-MM-DD"), ("voted:2026-13-01", "is not a date"),
                             ("voted:1999-11-02", "no vote history for the election of 1999-11-02"),
                             ("survey:NOPE=YES", "nobody you see answered the question 'NOPE'")]:
        with pytest.raises(UserError, match=message):
            experiment_analyze(outcome=outcome, **ask)
    with pytest.raises(UserError, match="ends .* before it starts"):
        experiment_analyze(outcome=f"voted:{ELECTION}", since=dt.date(2026, 5, 2), until=dt.date(2026, 5, 1), **ask)
    with pytest.raises(UserError, match="among your committees"):
        experiment_analyze(outcome=f"voted:{ELECTION}", **{**ask, "user": p["other"]})
    exp.refresh_from_db()
    assert exp.results == {} and exp.status == Experiment.Status.DESIGNED
