"""A small world behind every door: persons and every person-bearing table around them
(member records, identity records and pairs, voter registrations, vote history,
ballots, absentee events, provenance, quarantined rows), with a distinctive token in
each value, so a test can tell from any page, JSON or CSV which persons and fields it
let through.

Persons are those of `factories.PERSONS` plus person 8, a nurse who is also a teacher
(a dual member: a nurses user sees that person but not the teachers record).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from tests.access.factories import PERSONS
from unionhall.access.gateway import person_member_bits_refresh
from unionhall.warehouse import Warehouse

WORLD = [*PERSONS, (8, "Hu", "Vo", "NC", "WAKE", "+19195550108", "hu@example.org", "R8",
                    ["nurses", "teachers"], ["nurses:1"])]
BY_ID = {p[0]: p for p in WORLD}
SOURCES = ("nurses", "teachers")
ELECTION = dt.date(2026, 11, 3)
IMPORT_IDS = {"nurses": 9001, "teachers": 9002}
GROUPS = ("name", "address", "phone", "email", "dob", "age")


def first(pid: int) -> str:
    return f"fn{pid}zq"


def last(pid: int) -> str:
    return f"ln{pid}zq"


def street(pid: int) -> str:
    return f"{pid}11 QZ{pid} ST"


def email(pid: int) -> str | None:
    return f"em{pid}zq@example.org" if BY_ID[pid][6] else None


def phone(pid: int) -> str | None:
    return BY_ID[pid][5]


def voter_phone(pid: int) -> str:
    return f"+1984555020{pid}"


def dob(pid: int) -> dt.date:
    return dt.date(1950 + pid, pid, 10 + pid)


def member_key(source: str, pid: int) -> str:
    return f"mk{source}{pid}zq"


def relative(pid: int) -> str:
    return f"relative{pid}zq"


def quarantine_raw(source: str) -> str:
    return f"qraw{source}zq"


@dataclass(frozen=True)
class Sentinel:
    """A token that may only show to a user who sees `group` of person `pid` (group
    "all": every group), or (`source`) that person's membership of `source`, or
    (`quarantine`) the raw rows of that source's import."""

    text: str
    pid: int | None = None
    group: str | None = None
    source: str | None = None
    quarantine: str | None = None


def sentinels() -> list[Sentinel]:
    out: list[Sentinel] = []
    for pid, *_rest in WORLD:
        sources = BY_ID[pid][8]
        out += [Sentinel(first(pid), pid, "name"), Sentinel(last(pid), pid, "name"),
                Sentinel(f"qz{pid} st", pid, "address"), Sentinel(dob(pid).isoformat(), pid, "dob")]
        if phone(pid):
            out.append(Sentinel(str(phone(pid))[2:], pid, "phone"))
        if email(pid):
            out.append(Sentinel(str(email(pid)), pid, "email"))
        if BY_ID[pid][7]:
            out += [Sentinel(voter_phone(pid)[2:], pid, "phone"), Sentinel(relative(pid), pid, "all")]
        out += [Sentinel(member_key(s, pid), pid, source=s) for s in sources]
    out += [Sentinel(quarantine_raw(s), quarantine=s) for s in SOURCES]
    return out


def load_world(wh: Warehouse) -> dict[str, Any]:
    """Insert the world into the warehouse and the app database (sources, jobs and
    import runs for the quarantine). Returns the identity pairs as (key_l, key_r)."""
    from unionhall.ingest.mapping import ColumnMapping
    from unionhall.ingest.models import ImportRun, Source
    from unionhall.jobs.models import Job

    cur = wh.cursor()
    now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC).replace(tzinfo=None)  # warehouse TIMESTAMPs are UTC
    for pid, _f, _l, state, county, _p, _e, reg, sources, locs in WORLD:
        cur.execute(
            "INSERT INTO person (person_id, first_name, last_name, addr_line1, city, zip5, state, county, phone, "
            "email, birth_date, voter_reg_num, member_sources, member_locals) "
            "VALUES (?, ?, ?, ?, 'RALEIGH', '27601', ?, ?, ?, ?, ?, ?, ?, ?)",
            [pid, first(pid), last(pid), street(pid), state, county, phone(pid), email(pid), dob(pid), reg,
             sources, locs])
        for s in sources:
            local = next((x.split(":")[1] for x in locs if x.startswith(f"{s}:")), None)
            cur.execute(
                "INSERT INTO member_record (source, member_key, status, row_hash, first_import_id, import_id, "
                "last_seen_import_id, member_id, local, first_name, last_name, addr_line1, city, state, zip5, "
                "phone, email, dob) VALUES (?, ?, 'active', 'h', ?, ?, ?, ?, ?, ?, ?, ?, 'RALEIGH', ?, '27601', "
                "?, ?, ?)",
                [s, member_key(s, pid), IMPORT_IDS[s], IMPORT_IDS[s], IMPORT_IDS[s], member_key(s, pid), local,
                 first(pid), last(pid), street(pid), state, phone(pid), email(pid), dob(pid)])
            cur.execute(
                "INSERT INTO identity_record (source_kind, source_name, record_key, person_id, voter_ncid, "
                "match_probability, method, row_hash, import_id, run_id, updated_at) "
                "VALUES ('member', ?, ?, ?, ?, 0.99, 'voter_link', 'h', ?, 1, ?)",
                [s, member_key(s, pid), pid, f"NCID{pid}" if reg else None, IMPORT_IDS[s], now])
            cur.execute(
                "INSERT INTO person_provenance VALUES (?, 'phone', ?, 'member', ?, ?, ?, ?, 'newest')",
                [pid, phone(pid), s, member_key(s, pid), IMPORT_IDS[s], now])
        cur.execute("INSERT INTO person_provenance VALUES (?, 'first_name', ?, 'member', ?, ?, NULL, ?, 'newest')",
                    [pid, first(pid), (sources or ["voter file"])[0], "k", now])
        if reg:
            ncid = f"NCID{pid}"
            cur.execute(
                "INSERT INTO voter (county_id, county_desc, voter_reg_num, ncid, last_name, first_name, "
                "res_street_address, res_city_desc, state_cd, zip_code, full_phone_number, birth_year, "
                "status_cd, voter_status_desc, party_cd, precinct_desc, in_file, row_hash, first_load_id, "
                "last_load_id, changed_load_id, registr_dt) VALUES (1, ?, ?, ?, ?, ?, ?, 'RALEIGH', ?, '27601', ?, "
                "?, 'A', 'ACTIVE', 'UNA', '01-01', true, 1, 1, 1, 1, DATE '2010-01-01')",
                [county, reg, ncid, last(pid), first(pid), street(pid), state, voter_phone(pid), dob(pid).year])
            cur.execute("INSERT INTO voter_person VALUES (?, ?)", [ncid, pid])
            cur.execute(
                "INSERT INTO vote_history (ncid, county_desc, election_date, election_lbl, method, row_hash, "
                "first_load_id, last_load_id) VALUES (?, ?, DATE '2024-11-05', '11/05/2024', 'early', 1, 1, 1)",
                [ncid, county])
            cur.execute(
                "INSERT INTO ballot_status (election_dt, ncid, county_desc, voter_reg_num, party, age, age_group, "
                "ballot_type, stage, status_date, already_voted, requested_not_returned, needs_cure, events, "
                "last_event_id, updated_load_id) VALUES (?, ?, ?, ?, 'UNA', ?, '65+', 'mail', 'accepted', "
                "DATE '2026-10-15', true, false, false, 1, ?, 1)",
                [ELECTION, ncid, county, reg, 2026 - dob(pid).year, pid])
            cur.execute(
                "INSERT INTO absentee_event (event_id, row_hash, county_desc, voter_reg_num, ncid, voter_last_name, "
                "voter_first_name, voter_street_address, age, relative_request_name, election_dt, ballot_type, "
                "stage, stage_rank, event_date, first_load_id, first_snapshot) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, "
                "?, ?, 'mail', 'accepted', 5, DATE '2026-10-15', 1, DATE '2026-10-15')",
                [pid, county, reg, ncid, last(pid), first(pid), street(pid), 2026 - dob(pid).year, relative(pid),
                 ELECTION])
    pairs = [
        ("member_voter", f"m|nurses|{member_key('nurses', 2)}", "v|NCID5"),
        ("member_member", f"m|nurses|{member_key('nurses', 1)}", f"m|nurses|{member_key('nurses', 6)}"),
        ("member_member", f"m|nurses|{member_key('nurses', 8)}", f"m|teachers|{member_key('teachers', 8)}"),
        ("member_voter", f"m|teachers|{member_key('teachers', 4)}", "v|NCID3"),
    ]
    for kind, a, b in pairs:
        cur.execute("INSERT INTO identity_pair VALUES (?, ?, ?, 3.0, 0.7, '{\"first_name\": [\"exact\", 3.0]}', "
                    "'review', 1)", [kind, a, b])
    runs = {}
    for s in SOURCES:
        cur.execute("INSERT INTO member_quarantine VALUES (?, ?, 2, 'bad_row', 'no name', ?)",
                    [IMPORT_IDS[s], s, f"{quarantine_raw(s)},,,"])
        source = Source.objects.create(slug=s, name=s)
        job = Job.objects.create(pk=IMPORT_IDS[s], kind="ingest.import_members", status="succeeded")
        runs[s] = ImportRun.objects.create(
            job=job, source=source, file_name=f"{s}.csv", file_sha256=s * 4, file_size=10, mapping_json=ColumnMapping(columns={}).to_json(),
            imported_at=timezone.now(), rows_read=len(WORLD), rows_loaded=len(WORLD) - 1, rows_quarantined=1,
            new=0, updated=0, unchanged=0, dropped=0)
    person_member_bits_refresh(cur)
    return {"pairs": [(a, b) for _k, a, b in pairs], "runs": runs}


PERSON_TABLES = ("person", "member_record", "identity_record", "identity_pair", "person_provenance", "voter",
                 "voter_person", "vote_history", "ballot_status", "absentee_event", "member_quarantine")


def clear_world(wh: Warehouse) -> None:
    cur = wh.cursor()
    for t in PERSON_TABLES:
        cur.execute(f"DELETE FROM {t}")
