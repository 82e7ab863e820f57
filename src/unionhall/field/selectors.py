"""Reads of the field program (STYLE.md rule 1). Person rows come through the gateway:
`person_base` / `person_rows` for organizers, `canvass_persons` for a turf's canvasser."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import polars as pl
from django.db.models import Q, QuerySet

from unionhall.access.gateway import canvass_persons, person_base, person_rows
from unionhall.access.models import Committee, RoleGrant
from unionhall.access.services import usage_record
from unionhall.field.models import ContactResult, SavedList, Turf, TurfCut
from unionhall.warehouse import Warehouse

# Roles that build lists, cut and assign turf, and write scripts for their committee.
FIELD_ROLES = (RoleGrant.Role.ADMINISTRATOR, RoleGrant.Role.DATA_MANAGER, RoleGrant.Role.ORGANIZER)
# Roles that may see a committee's shared lists.
LIST_READER_ROLES = (*FIELD_ROLES, RoleGrant.Role.ANALYST)


def field_committees(user: Any) -> list[Committee]:
    """Committees the user organizes for (platform administrators: every committee)."""
    if not getattr(user, "is_authenticated", False):
        return []
    if user.is_superuser:
        return list(Committee.objects.all())
    ids = RoleGrant.objects.filter(user=user, role__in=list(FIELD_ROLES)).values_list("committee_id", flat=True)
    return list(Committee.objects.filter(pk__in=list(ids)))


def saved_lists_visible(user: Any) -> QuerySet[SavedList]:
    """The user's own lists and the shared lists of the committees they work in."""
    qs = SavedList.objects.select_related("committee", "folder", "created_by")
    if user.is_superuser:
        return qs
    committees = RoleGrant.objects.filter(user=user, role__in=list(LIST_READER_ROLES)).values_list(
        "committee_id", flat=True)
    return qs.filter(Q(created_by=user) | Q(shared=True, committee_id__in=list(committees)))


def saved_list_persons(*, user: Any, saved_list: SavedList, version: int | None = None,
                       warehouse: Warehouse | None = None) -> ir.Table:
    """The persons of a saved list's snapshot that the user may see (a shared list
    shows each reader only their own scope's part of it)."""
    lp = person_rows(user=user, table="list_person", warehouse=warehouse)
    members = lp.filter((lp.list_id == saved_list.pk) & (lp.version == (version or saved_list.version)))
    t = person_base(user=user, warehouse=warehouse)
    return t.filter(t.person_id.isin(members.person_id))


LIST_PAGE_FIELDS = ["person_id", "first_name", "last_name", "addr_line1", "city", "zip5", "age", "party",
                    "precinct", "phone", "member_sources"]


def saved_list_page(*, user: Any, saved_list: SavedList, limit: int = 50, offset: int = 0,
                    warehouse: Warehouse | None = None) -> list[dict[str, Any]]:
    """One page of a saved list's persons, by address (logged as a search)."""
    t = saved_list_persons(user=user, saved_list=saved_list, warehouse=warehouse)
    rows = (t.select(*LIST_PAGE_FIELDS).order_by(["zip5", "addr_line1", "last_name", "first_name", "person_id"])
            .limit(limit, offset=offset).to_pyarrow().to_pylist())
    usage_record(user=user, action="search", persons=len(rows), committee=saved_list.committee,
                 detail={"list": saved_list.pk, "offset": offset})
    return rows


def _doors_and_persons(t: ir.Table) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Walkable doors of scoped persons (door_id by address order) and who lives at each."""
    t = t.filter(t.walkable.fill_null(False) & t.door_key.notnull())
    df = pl.from_arrow(t.select("person_id", "door_key", "lat", "lon", "street", "house_number", "unit",
                                "precinct", "zip5").to_pyarrow())
    assert isinstance(df, pl.DataFrame)
    keys = df.select("door_key").unique().sort("door_key").with_row_index("door_id", offset=1)
    df = df.join(keys, on="door_key")
    doors = df.group_by("door_id").agg(
        pl.first("lat"), pl.first("lon"), pl.first("street"), pl.first("house_number"),
        pl.first("unit").fill_null(""), pl.first("precinct"), pl.first("zip5")).sort("door_id")
    doors = doors.with_columns(pl.col("door_id").cast(pl.Int64))
    return doors, df.select(pl.col("person_id"), pl.col("door_id").cast(pl.Int64))


def turf_doors_frame(*, user: Any, saved_list: SavedList, version: int,
                     warehouse: Warehouse | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The doors of a saved list (for turf cutting) and the persons at each."""
    return _doors_and_persons(saved_list_persons(user=user, saved_list=saved_list, version=version,
                                                 warehouse=warehouse))


def cut_doors_frame(*, user: Any, cut: TurfCut, warehouse: Warehouse | None = None
                    ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every door of a cut with its turf and walk position, and the persons at each
    (within the user's scope): what turf edits work on."""
    tp = person_rows(user=user, table="turf_person", warehouse=warehouse)
    tp = tp.filter(tp.cut_id == cut.pk)
    t = person_base(user=user, warehouse=warehouse)
    j = tp.join(t, tp.person_id == t.person_id).select(
        tp.person_id, tp.door_id, tp.turf_no, tp.seq, t.lat, t.lon, t.street, t.house_number, t.unit, t.precinct,
        t.zip5)
    df = pl.from_arrow(j.to_pyarrow())
    assert isinstance(df, pl.DataFrame)
    doors = df.group_by("door_id").agg(
        pl.first("turf_no"), pl.first("seq"), pl.first("lat"), pl.first("lon"), pl.first("street"),
        pl.first("house_number"), pl.first("unit").fill_null(""), pl.first("precinct"), pl.first("zip5"),
    ).sort("door_id")
    return doors, df.select("person_id", "door_id")


def cut_door_at(*, user: Any, cut: TurfCut, turf_no: int, seq: int, warehouse: Warehouse | None = None) -> list[int]:
    """The door at walk number `seq` of turf `turf_no` (as its walk sheet numbers it)."""
    tp = person_rows(user=user, table="turf_person", warehouse=warehouse)
    rows = tp.filter((tp.cut_id == cut.pk) & (tp.turf_no == turf_no) & (tp.seq == seq)).select("door_id").distinct()
    return [int(r["door_id"]) for r in rows.to_pyarrow().to_pylist()]


def turf_persons(*, user: Any, turf: Turf, warehouse: Warehouse | None = None) -> ir.Table:
    """A turf's persons with door and walk order, through the canvass door."""
    return canvass_persons(user=user, committee=turf.committee, cut_id=turf.cut_id, turf_no=turf.number,
                           assigned_user_id=turf.canvasser_id, warehouse=warehouse)


DOOR_FIELDS = ["person_id", "door_id", "seq", "first_name", "middle_name", "last_name", "suffix", "sex", "age",
               "party", "addr_line1", "addr_line2", "city", "zip5", "house_number", "street", "unit", "phone",
               "member_sources", "lat", "lon"]


def turf_doors(*, user: Any, turf: Turf, warehouse: Warehouse | None = None,
               log_as: str = "turf view") -> list[dict[str, Any]]:
    """The doors of a turf in walk order, each with its persons (as the user may see
    them), and the latest result of each person. Logged with the persons shown."""
    t = turf_persons(user=user, turf=turf, warehouse=warehouse)
    rows = t.select(*[c for c in DOOR_FIELDS if c in t.columns]).order_by(
        ["seq", "last_name", "first_name", "person_id"]).to_pyarrow().to_pylist()
    latest = _latest_results(user, [r["person_id"] for r in rows], turf)
    doors: list[dict[str, Any]] = []
    for r in rows:
        r["latest"] = latest.get(r["person_id"])
        if not doors or doors[-1]["door_id"] != r["door_id"]:
            doors.append({"door_id": r["door_id"], "seq": r["seq"], "address": r.get("addr_line1") or "",
                          "unit": r.get("unit") or "", "street": r.get("street") or "",
                          "house_number": r.get("house_number"), "city": r.get("city") or "",
                          "zip5": r.get("zip5") or "", "lat": r.get("lat"), "lon": r.get("lon"), "persons": []})
        doors[-1]["persons"].append(r)
    usage_record(user=user, action="search", persons=len(rows), committee=turf.committee,
                 detail={"turf": turf.pk, "page": log_as})
    return doors


def _latest_results(user: Any, person_ids: list[int], turf: Turf) -> dict[int, dict[str, Any]]:
    """The latest result recorded on this turf per person (app database: what was
    entered here, synced or not), so a canvasser sees what is done."""
    out: dict[int, dict[str, Any]] = {}
    for r in (ContactResult.objects.filter(turf=turf, person_id__in=person_ids)
              .select_related("result_code").order_by("contacted_at", "id")):
        out[r.person_id] = {"code": r.result_code.code, "label": r.result_code.label,
                            "at": r.contacted_at.isoformat(), "responses": r.responses}
    return out


def contact_history_for(*, user: Any, person_id: int, warehouse: Warehouse | None = None) -> list[dict[str, Any]]:
    """A person's contact history (attempts, results, answers), newest first."""
    ch = person_rows(user=user, table="contact_history", warehouse=warehouse)
    ch = ch.filter(ch.person_id == person_id)
    cr = person_rows(user=user, table="contact_response", warehouse=warehouse)
    cr = cr.filter(cr.person_id == person_id)
    answers: dict[str, list[str]] = {}
    for a in cr.select("result_key", "question_code", "response_code").to_pyarrow().to_pylist():
        answers.setdefault(a["result_key"], []).append(f"{a['question_code']}: {a['response_code']}")
    rows = ch.select("result_key", "channel", "result_code", "contacted", "contacted_at", "canvasser", "source",
                     "activist_codes", "note").order_by(ibis.desc("contacted_at")).to_pyarrow().to_pylist()
    from unionhall.field.models import ResultCode

    labels = dict(ResultCode.objects.values_list("code", "label"))
    for r in rows:
        r["answers"] = answers.get(r["result_key"], [])
        r["label"] = labels.get(r["result_code"], r["result_code"])
    return rows


def list_builder_options(*, user: Any, warehouse: Warehouse | None = None) -> dict[str, Any]:
    """The values the list builder offers, over the user's scope only (so no choice
    names a precinct, affiliate or worksite they may not see)."""
    from unionhall.field.models import ActivistCode, ResultCode, SurveyQuestion

    t = person_base(user=user, warehouse=warehouse)

    def distinct(col: str) -> list[Any]:
        f = t.filter(t[col].notnull())
        rows = f.select(v=f[col]).distinct().order_by("v").limit(500)
        return [r["v"] for r in rows.to_pyarrow().to_pylist()]

    precincts = [f"{r['county']}|{r['precinct']}" for r in t.filter(t.precinct.notnull()).select(
        "county", "precinct").distinct().order_by(["county", "precinct"]).limit(3000).to_pyarrow().to_pylist()]
    sources = sorted({s for r in t.select("member_sources").distinct().to_pyarrow().to_pylist()
                      for s in (r["member_sources"] or [])})
    m = person_rows(user=user, table="member_record", warehouse=warehouse)
    m = m.filter(m.status == "active")

    def member_values(col: str) -> list[str]:
        f = m.filter(m[col].notnull())
        rows = f.select(v=f[col]).distinct().order_by("v").limit(300)
        return [r["v"] for r in rows.to_pyarrow().to_pylist()]

    vh = person_rows(user=user, table="vote_history", warehouse=warehouse)
    elections = [r for r in vh.filter(vh.election_date.notnull()).select("election_date", "election_desc")
                 .distinct().order_by(ibis.desc("election_date")).limit(30).to_pyarrow().to_pylist()]
    committees = field_committees(user)
    return {
        "counties": distinct("county"), "precincts": precincts, "cong_dists": distinct("cong_dist"),
        "nc_senates": distinct("nc_senate"), "nc_houses": distinct("nc_house"),
        "municipalities": distinct("municipality"), "parties": distinct("party"),
        "reg_statuses": distinct("reg_status"), "vote_habits": distinct("vote_habit"), "affiliates": sources,
        "member_statuses": member_values("member_status"), "dues_statuses": member_values("dues_status"),
        "worksites": member_values("worksite"),
        "elections": [{"date": e["election_date"].isoformat(), "label": e["election_desc"] or
                       e["election_date"].isoformat()} for e in elections],
        "result_codes": list(ResultCode.objects.values_list("code", "label")),
        "questions": [{"code": q.code, "text": q.text,
                       "responses": list(q.responses.values_list("code", "label"))}
                      for q in SurveyQuestion.objects.filter(committee__in=committees).prefetch_related("responses")],
        "activist_codes": sorted(set(ActivistCode.objects.filter(committee__in=committees)
                                     .values_list("name", flat=True))),
    }


def turf_progress(*, user: Any, turf: Turf) -> int:
    """Doors of the turf where at least one person has a result recorded on it.

    Reads only door ids through the canvass door, and is not logged: it shows counts,
    no person."""
    done = list(ContactResult.objects.filter(turf=turf).values_list("person_id", flat=True).distinct())
    if not done:
        return 0
    t = turf_persons(user=user, turf=turf)
    return int(t.filter(t.person_id.isin(done)).door_id.nunique().execute())


def phone_bank_next(*, user: Any, saved_list: SavedList, after: int | None) -> tuple[dict[str, Any] | None, int]:
    """The next person of the list with a phone number the user may see who has not been
    called on this list yet (after person `after`, wrapping round), and how many are
    left. Logged as a person view when there is one."""
    called = list(ContactResult.objects.filter(saved_list=saved_list, channel=ContactResult.Channel.PHONE)
                  .values_list("person_id", flat=True).distinct())
    t = saved_list_persons(user=user, saved_list=saved_list)
    t = t.filter(t.phone.notnull())  # a masked phone is null here: nobody to call
    if called:
        t = t.filter(~t.person_id.isin(called))
    left = int(t.count().execute())
    fields = ["person_id", "first_name", "last_name", "suffix", "phone", "age", "addr_line1", "city"]
    row = None
    if left:
        if after is not None:
            rows = t.filter(t.person_id > after).select(*fields).order_by("person_id").limit(1).to_pyarrow().to_pylist()
            row = rows[0] if rows else None
        if row is None:
            row = t.select(*fields).order_by("person_id").limit(1).to_pyarrow().to_pylist()[0]
        usage_record(user=user, action="person_view", persons=1, committee=saved_list.committee,
                     detail={"list": saved_list.pk, "page": "phone bank", "person": row["person_id"]})
    return row, left
