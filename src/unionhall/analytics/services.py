"""Targeting models as users meet them: ask for one (a job trains and scores it), see
the ones of their committees, and find the model that fills a score slot for a list.

A score slot (``turnout``, ``support``…) belongs to a committee; its active model's
scores are what the list builder's score filter reads. Someone building a list finds a
slot in their own committees or the committees above them (a CLC organizer uses the
state federation's turnout slot), nearest first.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from unionhall.access.models import Committee, RoleGrant
from unionhall.analytics.models import ScoreModel
from unionhall.analytics.selectors import analytics_committees
from unionhall.errors import UserError
from unionhall.warehouse import Warehouse

_SLOT = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def slot_check(slot: str) -> str:
    slot = slot.strip().lower()
    if not _SLOT.match(slot):
        raise UserError(f"score slot {slot!r}: use lower-case letters, digits and _ (e.g. turnout, support_2026)")
    return slot


def models_visible(user: Any) -> QuerySet[ScoreModel]:
    return ScoreModel.objects.filter(committee__in=analytics_committees(user)).select_related(
        "committee", "trained_by", "job")


def model_get(user: Any, pk: int) -> ScoreModel:
    m = models_visible(user).filter(pk=pk).first()
    if m is None:
        raise UserError(f"no model {pk} among the models of your committees")
    return m


def model_train_submit(*, user: Any, committee: Committee, kind: str, name: str, slot: str,
                       target: dict[str, Any] | None = None, seed: int = 1) -> ScoreModel:
    """Queue a model: the job `analytics.train_model` trains, judges and scores it."""
    from unionhall.jobs.runner import job_submit

    if committee not in analytics_committees(user):
        raise UserError(f"{committee}: you can train models only for committees where you are an analyst, "
                        "data manager or administrator")
    if kind not in ScoreModel.Kind.values:
        raise UserError(f"model kind {kind!r}: choose turnout or support")
    target = dict(target or {})
    if kind == ScoreModel.Kind.SUPPORT:
        if not target.get("question") or not target.get("response"):
            raise UserError("a support model predicts one survey answer: give the question and the response")
    elif target.get("heldout"):
        try:
            dt.date.fromisoformat(str(target["heldout"]))
        except ValueError:
            raise UserError(f"held-out election {target['heldout']!r}: write it as YYYY-MM-DD") from None
    m = ScoreModel.objects.create(name=name.strip() or f"{kind} model", kind=kind, slot=slot_check(slot),
                                  committee=committee, trained_by=user, target=target)
    job = job_submit(kind="analytics.train_model", params={"model_id": m.pk, "seed": seed}, user=user)
    ScoreModel.objects.filter(pk=m.pk).update(job=job)
    m.job = job
    return m


def model_train_run(*, model_id: int, seed: int, warehouse: Warehouse, log: Any, defer: Any) -> dict[str, Any]:
    """The job: train, judge, score into the slot; the previous active model of the slot
    retires (its scores go) only when this one's scores are written."""
    from unionhall.analytics import targeting
    from unionhall.analytics.store import scores_replace

    m = ScoreModel.objects.select_related("trained_by", "committee").get(pk=model_id)
    user = m.trained_by
    if m.kind == ScoreModel.Kind.TURNOUT:
        held = m.target.get("heldout")
        result = targeting.turnout_train(user=user, heldout=dt.date.fromisoformat(held) if held else None,
                                         seed=seed, warehouse=warehouse, log=log)
    else:
        result = targeting.support_train(user=user, question=m.target["question"], response=m.target["response"],
                                         seed=seed, warehouse=warehouse, log=log)
    previous = list(ScoreModel.objects.filter(committee=m.committee, slot=m.slot, status=ScoreModel.Status.ACTIVE)
                    .exclude(pk=m.pk).values_list("pk", flat=True))
    n = scores_replace(warehouse, slot=m.slot, model_id=m.pk, retired=previous, person_id=result.person_id,
                       score=result.score)
    log(f"scored {n} people into the slot {m.slot!r}")
    card = {**result.card, "name": m.name, "slot": m.slot, "committee": str(m.committee),
            "trained_by": user.get_username(), "trained_at": timezone.now().isoformat(timespec="seconds"),
            "scored": n}

    def activate() -> None:
        ScoreModel.objects.filter(pk__in=previous).update(status=ScoreModel.Status.RETIRED)
        ScoreModel.objects.filter(pk=m.pk).update(status=ScoreModel.Status.ACTIVE, card=card, scored=n)

    defer(activate)
    return {"model_id": m.pk, "scored": n, "auc": card["evaluation"]["auc"],
            "baseline_auc": card["evaluation"]["baseline"]["auc"]}


def _committees_up(user: Any) -> list[Committee]:
    """The user's committees and every committee above them, nearest first."""
    out: list[Committee] = []
    for g in RoleGrant.objects.select_related("committee").filter(user=user).order_by("pk"):
        c: Committee | None = g.committee
        depth = 0
        while c is not None and depth < 20:
            if c not in out:
                out.append(c)
            c = c.parent
            depth += 1
    return out


def slot_model(user: Any, slot: str) -> ScoreModel:
    """The active model filling `slot` for this user: their own committees' first, then
    those above; for platform administrators, the latest active model of the slot."""
    active = ScoreModel.objects.filter(slot=slot, status=ScoreModel.Status.ACTIVE)
    if not getattr(user, "is_superuser", False):
        for c in _committees_up(user):
            m = active.filter(committee=c).order_by("-trained_at").first()
            if m is not None:
                return m
    else:
        m = active.order_by("-trained_at").first()
        if m is not None:
            return m
    known = sorted(set(ScoreModel.objects.filter(status=ScoreModel.Status.ACTIVE).values_list("slot", flat=True)))
    raise UserError(f"no active model fills the score slot {slot!r} for your committees"
                    + (f"; slots in use: {', '.join(known)}" if known else "; ask your analytics lead to train one"))


def slots_available(user: Any) -> list[ScoreModel]:
    """One model per slot the user's lists can filter on (the one `slot_model` picks)."""
    slots = sorted(set(ScoreModel.objects.filter(status=ScoreModel.Status.ACTIVE).values_list("slot", flat=True)))
    out = []
    for s in slots:
        try:
            out.append(slot_model(user, s))
        except UserError:
            continue
    return out
