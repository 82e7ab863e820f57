"""State changes of the field program (STYLE.md rule 1): saved lists and folders, turf
cuts and their edits and assignments, contact results.

Every service takes the acting user and checks they may act in the committee the work
belongs to (`field_committees`); person rows they touch come through the gateway.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import polars as pl
import pyarrow as pa
from django.db import transaction
from django.utils import timezone

from unionhall.access.models import Committee
from unionhall.access.services import usage_record
from unionhall.errors import UserError
from unionhall.field import store
from unionhall.field.lists import ListDefinition, counts_of, list_table
from unionhall.field.models import (
    ActivistCode,
    ContactResult,
    Folder,
    ResultCode,
    SavedList,
    Script,
    SurveyQuestion,
    Turf,
    TurfCut,
)
from unionhall.field.selectors import field_committees, turf_doors_frame
from unionhall.warehouse import Warehouse, get_warehouse

LIST_NAME_MAX = 200


def _committee_check(user: Any, committee: Committee) -> None:
    if committee not in field_committees(user):
        raise UserError(f"you do not organize for {committee.name}: choose one of your committees")


# -- saved lists -----------------------------------------------------------------------


@transaction.atomic
def folder_create(*, user: Any, committee: Committee, name: str) -> Folder:
    _committee_check(user, committee)
    name = name.strip()
    if not name:
        raise UserError("give the folder a name")
    folder, _ = Folder.objects.get_or_create(committee=committee, name=name[:200], defaults={"created_by": user})
    return folder


def _export_versions(saved: SavedList) -> set[int]:
    """Versions an export request still waits to write (asked for or approved): kept, so
    the file holds what was asked for and approved."""
    from unionhall.exports.models import ExportRequest

    waiting = (ExportRequest.Status.PENDING, ExportRequest.Status.APPROVED)
    return set(ExportRequest.objects.filter(saved_list=saved, status__in=waiting)
               .values_list("list_version", flat=True))


def _snapshot(user: Any, saved: SavedList, definition: ListDefinition, wh: Warehouse) -> None:
    t = list_table(user=user, definition=definition, warehouse=wh)
    c = counts_of(t)
    with wh.transaction():
        store.list_snapshot_write(wh, list_id=saved.pk, version=saved.version, persons=t)
        keep = {saved.version, *TurfCut.objects.filter(saved_list=saved).values_list("list_version", flat=True),
                *_export_versions(saved)}
        store.list_versions_prune(wh, list_id=saved.pk, keep=keep)
    saved.people, saved.households, saved.doors = c.people, c.households, c.doors
    saved.refreshed_at = timezone.now()


@transaction.atomic
def saved_list_create(
    *, user: Any, name: str, committee: Committee, definition: ListDefinition, folder: Folder | None = None,
    shared: bool = True, warehouse: Warehouse | None = None,
) -> SavedList:
    """Save a list: its definition and a snapshot of the persons it holds now (within
    the user's scope). Logged as a list creation with the persons it holds."""
    _committee_check(user, committee)
    name = name.strip()
    if not name:
        raise UserError("give the list a name")
    if folder is not None and folder.committee_id != committee.pk:
        raise UserError(f"folder {folder.name} belongs to another committee")
    definition.check()
    saved = SavedList.objects.create(name=name[:LIST_NAME_MAX], committee=committee, folder=folder,
                                     created_by=user, shared=shared, definition=definition.to_json(), version=1)
    _snapshot(user, saved, definition, warehouse or get_warehouse())
    saved.save(update_fields=["people", "households", "doors", "refreshed_at"])
    usage_record(user=user, action="list_create", persons=saved.people, committee=committee,
                 detail={"list": saved.pk, "name": saved.name, "filters": saved.definition})
    return saved


@transaction.atomic
def saved_list_refresh(*, user: Any, saved_list: SavedList, warehouse: Warehouse | None = None) -> SavedList:
    """Run the list's definition again (as `user`: within their scope) into a new
    version; the versions turf cuts were made from are kept."""
    _committee_check(user, saved_list.committee)
    saved = SavedList.objects.select_for_update().get(pk=saved_list.pk)
    saved.version += 1
    _snapshot(user, saved, ListDefinition.from_json(saved.definition), warehouse or get_warehouse())
    saved.save(update_fields=["version", "people", "households", "doors", "refreshed_at"])
    usage_record(user=user, action="list_create", persons=saved.people, committee=saved.committee,
                 detail={"list": saved.pk, "refresh": saved.version})
    return saved


# -- turf cutting ----------------------------------------------------------------------


def turf_cut_submit(*, user: Any, saved_list: SavedList, target_doors: int, tolerance: float = 0.15) -> Any:
    """Queue the cutting of a saved list into turfs of about `target_doors` doors."""
    from unionhall.jobs.runner import job_submit

    _committee_check(user, saved_list.committee)
    if not 5 <= target_doors <= 1000:
        raise UserError(f"doors per turf must be between 5 and 1000, not {target_doors}")
    if not saved_list.doors:
        raise UserError(f"list {saved_list.name} has no walkable doors: refresh it, or check its filters")
    with transaction.atomic():
        cut = TurfCut.objects.create(saved_list=saved_list, list_version=saved_list.version,
                                     target_doors=target_doors, tolerance=tolerance, created_by=user)
        job = job_submit(kind="field.cut_turfs", params={"cut_id": cut.pk}, user=user)
        cut.job = job
        cut.save(update_fields=["job"])
    return job


def turf_cut_run(*, user: Any, cut: TurfCut, warehouse: Warehouse, progress: Any = None,
                 defer: Any = None) -> dict[str, Any]:
    """Cut the list's doors into turfs and store them (the body of the job
    `field.cut_turfs`): doors from the list's persons within the user's scope, balanced
    compact turfs (`field.turf.cut_turfs`), walk order, turf membership in the
    warehouse; the Turf rows are written by `defer` with the job's app transaction."""
    from unionhall.field.turf import cut_turfs

    say = progress or (lambda _p, _m: None)
    say(10, "reading the list's doors")
    doors, persons = turf_doors_frame(user=user, saved_list=cut.saved_list, version=cut.list_version,
                                      warehouse=warehouse)
    if doors.height == 0:
        raise UserError(f"list {cut.saved_list.name} has no walkable doors in your scope")
    say(30, f"cutting {doors.height:,} doors into turfs of about {cut.target_doors}")
    result = cut_turfs(doors, target=cut.target_doors, tolerance=cut.tolerance)
    say(80, f"storing {result.k} turfs")
    a = result.assignments.select("door_id", "turf", "seq")
    rows = persons.join(a, on="door_id", how="inner").select(
        pl.lit(cut.pk, dtype=pl.Int64).alias("cut_id"), (pl.col("turf") + 1).cast(pl.Int32).alias("turf_no"),
        pl.col("door_id").cast(pl.Int64), pl.col("seq").cast(pl.Int32), pl.col("person_id").cast(pl.Int64))
    store.turf_persons_write(warehouse, cut_id=cut.pk, turf_nos=None, rows=rows.to_arrow())
    stats = result.turfs.sort("turf")
    people_per = rows.group_by("turf_no").len()
    people = {int(t): int(n) for t, n in people_per.iter_rows()}
    turfs = [
        {"number": int(r["turf"]) + 1, "doors": int(r["doors"]), "lat": r["lat"], "lon": r["lon"],
         "people": people.get(int(r["turf"]) + 1, 0)}
        for r in stats.iter_rows(named=True)
    ]

    def write() -> None:
        Turf.objects.filter(cut=cut).delete()
        Turf.objects.bulk_create([
            Turf(cut=cut, number=t["number"], name=f"{cut.saved_list.name} · turf {t['number']}", doors=t["doors"],
                 people=t["people"], lat=t["lat"], lon=t["lon"]) for t in turfs])
        TurfCut.objects.filter(pk=cut.pk).update(doors=doors.height, people=rows.height)

    (defer or (lambda f: f()))(write)
    sizes = [t["doors"] for t in turfs]
    return {"cut": cut.pk, "turfs": result.k, "doors": doors.height, "people": rows.height,
            "smallest": min(sizes), "largest": max(sizes), "outside_tolerance": result.out_of_tolerance,
            "compactness_m_mean": float(stats["compactness_m"].cast(pl.Float64).mean() or 0.0)}  # type: ignore[arg-type]


_EMPTY_TURF_ROWS = pa.table({"cut_id": pa.array([], pa.int64()), "turf_no": pa.array([], pa.int32()),
                             "door_id": pa.array([], pa.int64()), "seq": pa.array([], pa.int32()),
                             "person_id": pa.array([], pa.int64())})


def _cut_for_edit(user: Any, cut: TurfCut) -> None:
    _committee_check(user, cut.saved_list.committee)


def _rewalk(user: Any, cut: TurfCut, turf_nos: list[int], wh: Warehouse) -> None:
    """Walk order again for edited turfs, and their counts."""
    from unionhall.field.selectors import cut_doors_frame
    from unionhall.field.turf import walk_order

    doors, persons = cut_doors_frame(user=user, cut=cut, warehouse=wh)
    out = []
    for no in turf_nos:
        mine = doors.filter(pl.col("turf_no") == no)
        if mine.height == 0:
            continue
        order = walk_order(mine.drop("turf_no"))
        out.append(persons.join(order, on="door_id").join(mine.select("door_id", "turf_no"), on="door_id"))
    if out:
        rows = pl.concat(out).select(
            pl.lit(cut.pk, dtype=pl.Int64).alias("cut_id"), pl.col("turf_no").cast(pl.Int32),
            pl.col("door_id").cast(pl.Int64), pl.col("seq").cast(pl.Int32), pl.col("person_id").cast(pl.Int64))
        store.turf_persons_write(wh, cut_id=cut.pk, turf_nos=turf_nos, rows=rows.to_arrow())
        counts = rows.group_by("turf_no").agg(pl.col("door_id").n_unique().alias("doors"), pl.len().alias("people"))
        found = {int(r["turf_no"]): r for r in counts.iter_rows(named=True)}
    else:
        store.turf_persons_write(wh, cut_id=cut.pk, turf_nos=turf_nos, rows=_EMPTY_TURF_ROWS)
        found = {}
    for turf in Turf.objects.filter(cut=cut, number__in=turf_nos):
        r = found.get(turf.number)
        if r is None:  # edited down to nothing: no empty packet to hand out
            turf.delete()
            continue
        turf.doors, turf.people = int(r["doors"]), int(r["people"])
        turf.save(update_fields=["doors", "people"])


@transaction.atomic
def turf_move(*, user: Any, cut: TurfCut, door_ids: list[int] | None = None, street: str | None = None,
              from_turf: int, to_turf: int, warehouse: Warehouse | None = None) -> int:
    """Move doors (by id) or a whole street from one turf of a cut to another; both
    turfs are walked again. Returns the doors moved."""
    from unionhall.field.selectors import cut_doors_frame

    _cut_for_edit(user, cut)
    if from_turf == to_turf:
        raise UserError("choose a different turf to move to")
    numbers = set(Turf.objects.filter(cut=cut).values_list("number", flat=True))
    if from_turf not in numbers or to_turf not in numbers:
        raise UserError(f"this cut has turfs 1 to {max(numbers, default=0)}")
    wh = warehouse or get_warehouse()
    doors, persons = cut_doors_frame(user=user, cut=cut, warehouse=wh)
    pick = doors.filter(pl.col("turf_no") == from_turf)
    if street is not None:
        pick = pick.filter(pl.col("street") == street.strip().upper())
    if door_ids is not None:
        pick = pick.filter(pl.col("door_id").is_in(door_ids))
    if pick.height == 0:
        raise UserError("no such doors in that turf")
    moved = set(pick["door_id"].to_list())
    rows = persons.join(doors.select("door_id", "turf_no", "seq"), on="door_id").with_columns(
        pl.when(pl.col("door_id").is_in(list(moved))).then(pl.lit(to_turf)).otherwise(pl.col("turf_no"))
        .alias("turf_no"))
    with wh.transaction():
        store.turf_persons_write(wh, cut_id=cut.pk, turf_nos=[from_turf, to_turf],
                                 rows=rows.filter(pl.col("turf_no").is_in([from_turf, to_turf]))
                                 .select(pl.lit(cut.pk, dtype=pl.Int64).alias("cut_id"),
                                         pl.col("turf_no").cast(pl.Int32), pl.col("door_id").cast(pl.Int64),
                                         pl.col("seq").cast(pl.Int32), pl.col("person_id").cast(pl.Int64))
                                 .to_arrow())
        _rewalk(user, cut, [from_turf, to_turf], wh)
    return len(moved)


@transaction.atomic
def turf_merge(*, user: Any, cut: TurfCut, keep: int, merge: int, warehouse: Warehouse | None = None) -> Turf:
    """Merge turf `merge` into turf `keep` (one walk order over both)."""
    turf_move(user=user, cut=cut, from_turf=merge, to_turf=keep, warehouse=warehouse)
    return Turf.objects.get(cut=cut, number=keep)


@transaction.atomic
def turf_split(*, user: Any, cut: TurfCut, number: int, warehouse: Warehouse | None = None) -> Turf:
    """Split a turf in two compact halves; the new half gets the next free number."""
    from unionhall.field.selectors import cut_doors_frame
    from unionhall.field.turf import cut_turfs

    _cut_for_edit(user, cut)
    turf = Turf.objects.get(cut=cut, number=number)
    wh = warehouse or get_warehouse()
    doors, _persons = cut_doors_frame(user=user, cut=cut, warehouse=wh)
    mine = doors.filter(pl.col("turf_no") == number)
    if mine.height < 2:
        raise UserError("a turf needs at least two doors to split")
    halves = cut_turfs(mine.drop("turf_no", "seq"), target=max(1, -(-mine.height // 2)), tolerance=0.5)
    new_no = max(Turf.objects.filter(cut=cut).values_list("number", flat=True)) + 1
    second = halves.assignments.filter(pl.col("turf") == halves.k - 1)["door_id"].to_list() if halves.k > 1 else []
    if not second:  # the cutter kept them together (one building): split the walk in two
        order = mine.sort("seq")["door_id"].to_list()
        second = order[len(order) // 2:]
    Turf.objects.create(cut=cut, number=new_no, name=f"{turf.name} (split)", canvasser=None, script=turf.script)
    turf_move(user=user, cut=cut, door_ids=second, from_turf=number, to_turf=new_no, warehouse=wh)
    return Turf.objects.get(cut=cut, number=new_no)


@transaction.atomic
def turf_assign(*, user: Any, turf: Turf, canvasser: Any | None, script: Script | None) -> Turf:
    """Assign a turf to a canvasser (who must hold a role in the turf's committee) and
    give it a script of that committee."""
    from unionhall.access.models import RoleGrant

    committee = turf.committee
    _committee_check(user, committee)
    if canvasser is not None and not (canvasser.is_superuser or RoleGrant.objects.filter(
            user=canvasser, committee=committee).exists()):
        raise UserError(f"{canvasser.get_username()} holds no role in {committee.name}: grant one first")
    if script is not None and script.committee_id != committee.pk:
        raise UserError(f"script {script.name} belongs to another committee")
    turf.canvasser, turf.script = canvasser, script
    turf.save(update_fields=["canvasser", "script"])
    return turf


# -- contact results -------------------------------------------------------------------

_SYNC = threading.Lock()


def _check_answers(committee: Committee, script: Script | None, responses: dict[str, str],
                   activist_codes: list[str]) -> None:
    questions = {q.code: q for q in (
        [sq.question for sq in script.script_questions.select_related("question")] if script is not None
        else SurveyQuestion.objects.filter(committee=committee))}
    for code, answer in responses.items():
        q = questions.get(code)
        if q is None:
            raise UserError(f"question {code!r} is not in {'the script' if script else committee.name}")
        if not q.responses.filter(code=answer).exists():
            raise UserError(f"{answer!r} is not a response of question {code}")
    known = set(ActivistCode.objects.filter(committee=committee).values_list("name", flat=True))
    bad = [a for a in activist_codes if a not in known]
    if bad:
        raise UserError(f"unknown activist code {bad[0]!r} for {committee.name}")


def _reachable(user: Any, person_id: int, turf: Turf | None, wh: Warehouse) -> bool:
    """May the user record a result for this person (on this turf)?"""
    from unionhall.access.gateway import canvass_persons, person_base

    if turf is not None:
        t = canvass_persons(user=user, committee=turf.committee, cut_id=turf.cut_id, turf_no=turf.number,
                            assigned_user_id=turf.canvasser_id, warehouse=wh)
    else:
        t = person_base(user=user, warehouse=wh)
    return bool(t.filter(t.person_id == person_id).count().execute())


@transaction.atomic
def contact_result_record(
    *, user: Any, client_id: str, person_id: int, result_code: str, channel: str, source: str,
    contacted_at: dt.datetime | None = None, responses: dict[str, str] | None = None,
    activist_codes: list[str] | None = None, note: str = "", turf: Turf | None = None,
    saved_list: SavedList | None = None, script: Script | None = None, warehouse: Warehouse | None = None,
) -> tuple[ContactResult, bool]:
    """Record what happened at a door or on a call. `client_id` (made by the page that
    took the result) makes it idempotent: the same result sent again returns the first
    one and posts nothing (created False). The warehouse history is filled when the
    transaction commits (`contact_history_sync`)."""
    client_id = (client_id or "").strip()
    if not 8 <= len(client_id) <= 64:
        raise UserError("each result needs its id (8 to 64 characters) so a resend is not counted twice")
    existing = ContactResult.objects.filter(client_id=client_id).first()
    if existing is not None:
        if existing.person_id != person_id or existing.canvasser_id != getattr(user, "pk", None):
            raise UserError(f"result id {client_id} was already used for another result")
        return existing, False
    responses = {str(k): str(v) for k, v in (responses or {}).items() if str(v)}
    activist_codes = [str(a) for a in (activist_codes or [])]
    try:
        code = ResultCode.objects.get(code=result_code.strip().upper())
    except ResultCode.DoesNotExist:
        raise UserError(f"unknown result code {result_code!r}") from None
    if channel not in ContactResult.Channel.values or source not in ContactResult.Source.values:
        raise UserError(f"channel {channel!r} / source {source!r} are not known")
    if (responses or activist_codes) and not code.contact:
        raise UserError(f"{code.label}: answers go with a conversation, not with this result")
    committee = turf.committee if turf is not None else (saved_list.committee if saved_list else None)
    if committee is None:
        committees = field_committees(user)
        if not committees:
            raise UserError("you do not organize for any committee")
        committee = committees[0]
    elif turf is None or turf.canvasser_id != user.pk:
        _committee_check(user, committee)
    script = script or (turf.script if turf is not None else None)
    _check_answers(committee, script, responses, activist_codes)
    wh = warehouse or get_warehouse()
    if not _reachable(user, person_id, turf, wh):
        raise UserError(f"person {person_id} is not on your turf or in your scope")
    when = contacted_at or timezone.now()
    if timezone.is_naive(when):
        raise UserError("the time of the contact needs its time zone")
    if when > timezone.now() + dt.timedelta(minutes=10):
        raise UserError("the time of the contact is in the future: check the device's clock")
    result = ContactResult.objects.create(
        client_id=client_id, person_id=person_id, committee=committee, channel=channel, source=source,
        result_code=code, responses=responses, activist_codes=activist_codes, note=note[:500],
        canvasser=user if getattr(user, "pk", None) else None, turf=turf, saved_list=saved_list, script=script,
        contacted_at=when)
    transaction.on_commit(lambda: contact_history_sync(warehouse=wh))
    return result, True


def contact_history_sync(*, warehouse: Warehouse | None = None, limit: int = 10_000) -> int:
    """Post the results entered in the app database that the warehouse history does not
    have yet (the outbox): idempotent by result key, so a crash between the two stores
    is caught up by the next call. Returns how many were posted."""
    wh = warehouse or get_warehouse()
    posted = 0
    with _SYNC:
        while True:
            batch = list(ContactResult.objects.filter(synced_at__isnull=True).select_related(
                "result_code", "canvasser").order_by("id")[:limit])
            if not batch:
                return posted
            contacts: list[dict[str, Any]] = []
            responses: list[dict[str, Any]] = []
            for r in batch:
                key = f"r:{r.client_id}"
                at = r.contacted_at.astimezone(dt.UTC).replace(tzinfo=None)
                contacts.append({
                    "result_key": key, "person_id": r.person_id, "channel": r.channel,
                    "result_code": r.result_code.code, "contacted": r.result_code.contact, "contacted_at": at,
                    "committee_id": r.committee_id, "canvasser": r.canvasser.get_username() if r.canvasser else None,
                    "turf_id": r.turf_id, "list_id": r.saved_list_id, "script_id": r.script_id,
                    "activist_codes": list(r.activist_codes), "note": r.note or None, "source": r.source,
                    "upload_id": None, "row_number": None,
                    "entered_at": r.entered_at.astimezone(dt.UTC).replace(tzinfo=None)})
                ids = dict(SurveyQuestion.objects.filter(committee=r.committee, code__in=list(r.responses))
                           .values_list("code", "id"))
                responses.extend({"result_key": key, "person_id": r.person_id, "question_id": ids.get(q),
                                  "question_code": q, "response_code": a, "contacted_at": at}
                                 for q, a in r.responses.items())
            with wh.transaction():
                posted += store.contact_rows_post(wh, contacts=contacts, responses=responses)
            ContactResult.objects.filter(pk__in=[r.pk for r in batch]).update(synced_at=timezone.now())
