"""The demo's field program: a script, a universe and its turfs, ready to walk.

For the demo's first central labor council: a support question, a volunteer activist
code, a door script, a saved list (registered voters of its biggest precinct who have
not voted yet, at walkable doors) cut into turfs of about 40 doors, the first turf
assigned to the CLC's demo canvasser. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
from django.contrib.auth import get_user_model

from unionhall.access.models import Committee
from unionhall.field.lists import ListDefinition
from unionhall.field.models import SavedList, Script, Turf

LIST_NAME = "GOTV doors: registered, not yet voted"


def demo_field_ensure(*, say: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Create the demo's script, list and turfs (see the module docstring)."""
    from unionhall.access.gateway import person_base
    from unionhall.field import scripts, services
    from unionhall.jobs.runner import job_run

    users = get_user_model().objects
    organizer = users.filter(username="organizer-clc").first()
    canvasser = users.filter(username="canvasser-clc").first()
    grant = organizer.role_grants.select_related("committee").filter(
        committee__kind=Committee.Kind.CLC).first() if organizer is not None else None
    if organizer is None or canvasser is None or grant is None:
        return {}
    clc = grant.committee
    script = Script.objects.filter(committee=clc).first()
    if script is None:
        support = scripts.question_create(
            user=organizer, committee=clc, code="support", text="Can we count on your vote for the labor-endorsed "
            "candidates this November?", responses=[scripts.ResponseInput(c, label) for c, label in (
                ("1", "Strong yes"), ("2", "Lean yes"), ("3", "Undecided"), ("4", "Lean no"), ("5", "Strong no"))])
        ride = scripts.question_create(
            user=organizer, committee=clc, code="plan", text="How will you vote?",
            responses=[scripts.ResponseInput(c, label) for c, label in (
                ("E", "Early, in person"), ("M", "By mail"), ("D", "On Election Day"), ("R", "Needs a ride"))])
        volunteer = scripts.activist_code_create(user=organizer, committee=clc, name="Will volunteer",
                                                 description="Said yes to a shift at the hall")
        script = scripts.script_create(
            user=organizer, committee=clc, name="Fall door script",
            intro="Hi, I'm ___ with the central labor council, a volunteer talking with union households in the "
                  "neighborhood about the election.",
            closing="Thank you! Early voting is open now; your polling place is on the card.",
            questions=[support, ride], activist_codes=[volunteer])
    saved = SavedList.objects.filter(committee=clc, name=LIST_NAME).first()
    if saved is None:
        t = person_base(user=organizer)  # the organizer's own scope: the CLC's counties
        t = t.filter(t.precinct.notnull() & t.walkable.fill_null(False))
        top = (t.group_by(["county", "precinct"]).aggregate(n=t.count())
               .order_by([ibis.desc("n"), "county", "precinct"]).limit(1).to_pyarrow().to_pylist())
        if not top:
            return {}
        definition = ListDefinition(precincts=(f"{top[0]['county']}|{top[0]['precinct']}",), registered=True,
                                    ballot="not_voted", walkable_only=True)
        saved = services.saved_list_create(user=organizer, name=LIST_NAME, committee=clc, definition=definition)
        job = job_run(job=services.turf_cut_submit(user=organizer, saved_list=saved, target_doors=40))
        if job.status != "succeeded":
            raise RuntimeError(f"demo turf cut failed: {job.error}")
        first = Turf.objects.filter(cut__saved_list=saved).order_by("number").first()
        if first is not None:
            services.turf_assign(user=organizer, turf=first, canvasser=canvasser, script=script)
        say(f"field: list {saved.name!r} ({saved.people:,} people, {saved.doors:,} doors) cut into "
            f"{job.result['turfs']} turfs; turf 1 assigned to {canvasser.get_username()}")
    return {"list": saved.pk, "script": script.pk}
