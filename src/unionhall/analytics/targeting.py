"""Turnout and support models: train, judge on people they were not trained on, score
everyone into a score slot, and write the model card.

* **Turnout** is back-tested the way it will be used: the model learns who voted in a
  past general from what was known the day before it (`features.feature_frame`), then is
  judged on a *later* general it never saw (the held-out election, by default the
  latest), against the rule of thumb "voted in the last two generals". The same model
  then scores everyone with today's features: the card's numbers describe the very model
  that fills the slot. It trains on the previous general of the same kind (presidential
  for a presidential year) when the history has one.
* **Support** learns a survey answer (``question=response`` from contact results) from
  the same features, judged on a random quarter of the people who answered, against
  "registered Democrat".

Both are LightGBM gradient-boosted trees (deterministic, seeded). Everything is read
through the gateway as the model's trainer: a model never sees, nor scores, a person
its trainer may not see. Race (recorded or imputed) is never a feature.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
from django.utils import timezone

from unionhall.analytics import features as feat
from unionhall.analytics.evaluate import evaluate
from unionhall.errors import UserError
from unionhall.warehouse import Warehouse

MIN_TRAIN = 200
PARAMS: dict[str, Any] = {
    "objective": "binary", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 40,
    "feature_fraction": 0.9, "lambda_l2": 1.0, "verbose": -1, "deterministic": True, "force_row_wise": True,
}
ROUNDS = 400
EARLY_STOP = 30


def _threads() -> int:
    return max(1, min(8, os.cpu_count() or 1))


@dataclass
class Fitted:
    booster: lgb.Booster
    names: list[str]
    categorical: list[str]
    categories: dict[str, list[str]]

    def predict(self, X: np.ndarray) -> np.ndarray:
        if len(X) == 0:
            return np.zeros(0)
        return np.asarray(self.booster.predict(X, num_threads=_threads()), dtype=np.float64)

    def importance(self) -> list[dict[str, Any]]:
        gain = self.booster.feature_importance(importance_type="gain")
        total = float(gain.sum()) or 1.0
        pairs = sorted(zip(self.names, gain, strict=True), key=lambda x: -x[1])
        return [{"feature": n, "share": float(g) / total} for n, g in pairs]


def fit(F: feat.Features, y: np.ndarray, mask: np.ndarray, *, seed: int) -> Fitted:
    """Gradient-boosted trees on the rows of `mask`, with an internal fifth held back to
    stop adding trees once they stop helping."""
    X, yy = F.X[mask], y[mask]
    if len(yy) < MIN_TRAIN or len(set(yy.tolist())) < 2:
        raise UserError(f"{len(yy)} people to learn from, with {len(set(yy.tolist()))} outcome(s): a model needs "
                        f"at least {MIN_TRAIN} people and both outcomes")
    rng = np.random.default_rng(seed)
    valid = rng.random(len(yy)) < 0.2
    cat = [F.names.index(c) for c in F.categorical]
    params = {**PARAMS, "seed": seed, "num_threads": _threads()}
    train = lgb.Dataset(X[~valid], yy[~valid], feature_name=F.names, categorical_feature=cat, free_raw_data=True)
    val = lgb.Dataset(X[valid], yy[valid], reference=train)
    booster = lgb.train(params, train, num_boost_round=ROUNDS, valid_sets=[val],
                        callbacks=[lgb.early_stopping(EARLY_STOP, verbose=False)])
    return Fitted(booster=booster, names=F.names, categorical=F.categorical, categories=F.categories)


@dataclass
class Result:
    fitted: Fitted
    card: dict[str, Any]
    person_id: np.ndarray  # everyone scored
    score: np.ndarray


Log = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def turnout_train(*, user: Any, heldout: dt.date | None = None, seed: int = 1, warehouse: Warehouse | None = None,
                  today: dt.date | None = None, log: Log = _quiet) -> Result:
    """Train on one general, judge on a later one, score everyone for the next."""
    today = today or timezone.localdate()
    elections = feat.elections_known(user=user, warehouse=warehouse)
    generals = [e.date for e in elections if e.general]
    if heldout is None:
        if len(generals) < 2:
            raise UserError("a turnout model needs vote history of at least two generals (one to learn, one to "
                            "judge it on); load more vote history")
        heldout = generals[-1]
    if heldout not in generals:
        raise UserError(f"{heldout} is not a general election in the vote history you can see; choose one of "
                        f"{', '.join(map(str, generals))}")
    earlier = [g for g in generals if g < heldout and any(x < g for x in generals)]
    if not earlier:
        raise UserError(f"no general before {heldout} with a general before it: a turnout model needs two past "
                        "generals before the held-out one")
    same_kind = [g for g in earlier if g.year % 4 == heldout.year % 4]
    train_on = (same_kind or earlier)[-1]
    log(f"learning from the {train_on} general, judging on the {heldout} general")
    F_train = feat.feature_frame(user=user, cutoff=train_on, elections=elections, warehouse=warehouse, today=today)
    y_train = feat.voted_in(user=user, day=train_on, person_id=F_train.person_id, warehouse=warehouse)
    fitted = fit(F_train, y_train, F_train.eligible(train_on), seed=seed)
    F_test = feat.feature_frame(user=user, cutoff=heldout, elections=elections, warehouse=warehouse, today=today,
                                categories=F_train.categories)
    y_test = feat.voted_in(user=user, day=heldout, person_id=F_test.person_id, warehouse=warehouse)
    ok = F_test.eligible(heldout)
    p = fitted.predict(F_test.X[ok])
    g1, g2 = F_test.names.index("general_1_back"), F_test.names.index("general_2_back")
    both = (np.nan_to_num(F_test.X[ok, g1]) * np.nan_to_num(F_test.X[ok, g2]))
    ev = evaluate(y_test[ok], p, baseline=both, baseline_name="voted in the last two generals")
    log(f"held-out AUC {ev['auc']:.3f} (voted in the last two generals: {ev['baseline']['auc']:.3f})")
    F_now = feat.feature_frame(user=user, cutoff=today + dt.timedelta(days=1), elections=elections,
                               warehouse=warehouse, today=today, categories=F_train.categories)
    score = fitted.predict(F_now.X)
    card = _card(kind="turnout", fitted=fitted, evaluation=ev, data={
        "universe": "registered voters you can see",
        "trained_on": str(train_on), "heldout": str(heldout),
        "train_n": int(F_train.eligible(train_on).sum()), "train_rate": float(y_train[F_train.eligible(train_on)].mean()),
        "heldout_n": int(ok.sum()), "scored_as_of": str(today), "elections_in_history": len(elections),
    })
    return Result(fitted=fitted, card=card, person_id=F_now.person_id, score=score)


def support_train(*, user: Any, question: str, response: str, seed: int = 1, warehouse: Warehouse | None = None,
                  today: dt.date | None = None, log: Log = _quiet) -> Result:
    """Learn a survey answer from who gave it; judge on a random quarter held out."""
    today = today or timezone.localdate()
    question, response = question.strip(), response.strip()
    if not question or not response:
        raise UserError("a support model needs a survey question and the answer to predict (question=response)")
    elections = feat.elections_known(user=user, warehouse=warehouse)
    F = feat.feature_frame(user=user, cutoff=today + dt.timedelta(days=1), elections=elections, warehouse=warehouse,
                           today=today)
    answered, positive = feat.survey_label(user=user, question=question, response=response, person_id=F.person_id,
                                           warehouse=warehouse)
    if answered.sum() < MIN_TRAIN:
        raise UserError(f"{int(answered.sum())} registered voters you can see answered {question!r}: a support "
                        f"model needs at least {MIN_TRAIN}")
    rng = np.random.default_rng(seed + 7)
    test = answered & (rng.random(len(answered)) < 0.25)
    train = answered & ~test
    log(f"learning {question}={response} from {int(train.sum())} answers, judging on {int(test.sum())}")
    fitted = fit(F, positive, train, seed=seed)
    p = fitted.predict(F.X[test])
    party = F.names.index("party")
    dem = F.categories["party"].index("DEM") if "DEM" in F.categories["party"] else -1
    ev = evaluate(positive[test], p, baseline=(F.X[test, party] == dem).astype(float),
                  baseline_name="registered Democrat")
    log(f"held-out AUC {ev['auc']:.3f} (registered Democrat: {ev['baseline']['auc']:.3f})")
    score = fitted.predict(F.X)
    card = _card(kind="support", fitted=fitted, evaluation=ev, data={
        "universe": "registered voters you can see", "question": question, "response": response,
        "answered": int(answered.sum()), "train_n": int(train.sum()), "train_rate": float(positive[train].mean()),
        "heldout_n": int(test.sum()), "scored_as_of": str(today),
    })
    return Result(fitted=fitted, card=card, person_id=F.person_id, score=score)


def _card(*, kind: str, fitted: Fitted, evaluation: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": kind,
        "method": f"LightGBM {lgb.__version__} gradient-boosted trees, {fitted.booster.num_trees()} trees "
                  f"(early stopping on a fifth of the training people), learning rate {PARAMS['learning_rate']}, "
                  f"{PARAMS['num_leaves']} leaves",
        "data": data,
        "features": fitted.importance(),
        "evaluation": evaluation,
        "limits": [
            "Scores are probabilities for people like those the model learned from; a new kind of election "
            "(a special, a runoff) or a much changed electorate can make them wrong.",
            "Only people the trainer may see were used and scored; others have no score in this slot.",
            "Race and ethnicity (recorded or imputed) are not features; party, age, sex, county and vote "
            "history are, so scores differ between groups as those do.",
            "Registration status is left out (it changes because people stop voting: it would leak the outcome).",
        ],
    }
