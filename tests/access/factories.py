"""A small committee tree, agreements and persons for scope tests."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from unionhall.access.gateway import person_member_bits_refresh
from unionhall.access.models import Committee, DataAgreement, RoleGrant
from unionhall.warehouse import Warehouse

PERSONS = [
    # id, first, last, state, county, phone, email, reg num, member_sources, member_locals
    (1, "Ana", "Diaz", "NC", "WAKE", "+19195550101", "ana@example.org", "R1", ["nurses"], ["nurses:1"]),
    (2, "Bo", "Lee", "NC", "ORANGE", "+19195550102", "bo@example.org", None, ["nurses"], ["nurses:2"]),
    (3, "Cy", "Ng", "NC", "WAKE", "+19195550103", "cy@example.org", "R3", ["teachers"], []),
    (4, "Di", "Ray", "NC", "WAKE", "+19195550104", "di@example.org", None, ["teachers"], []),
    (5, "Ed", "Fox", "NC", "DURHAM", "+19195550105", None, "R5", [], []),
    (6, "Fe", "Cruz", "VA", "FAIRFAX", "+17035550106", "fe@example.org", "V6", ["nurses"], ["nurses:1"]),
    (7, "Gu", "Hall", "NC", "MECKLENBURG", None, None, "R7", [], []),
]


def load_persons(wh: Warehouse) -> None:
    cur = wh.cursor()
    for pid, first, last, state, county, phone, email, reg, sources, locs in PERSONS:
        cur.execute(
            "INSERT INTO person (person_id, first_name, last_name, addr_line1, state, county, phone, email, "
            "voter_reg_num, member_sources, member_locals) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [pid, first, last, f"{pid} MAIN ST", state, county, phone, email, reg, sources, locs],
        )
    person_member_bits_refresh(cur)  # as the identity job does after writing memberships


def committee_tree() -> dict[str, Committee]:
    c: dict[str, Committee] = {}
    c["national"] = Committee.objects.create(name="AFL-CIO", kind="national")
    c["state_federation"] = Committee.objects.create(
        name="North Carolina AFL-CIO", kind="state_federation", parent=c["national"], state="NC")
    c["clc"] = Committee.objects.create(
        name="Triangle CLC", kind="clc", parent=c["state_federation"], state="NC", counties=["Wake", "Durham"])
    c["affiliate"] = Committee.objects.create(name="Nurses United", kind="affiliate", source_slug="nurses")
    c["local"] = Committee.objects.create(name="Nurses Local 1", kind="local", parent=c["affiliate"], local_number="1")
    c["other_affiliate"] = Committee.objects.create(name="Teachers Assn", kind="affiliate", source_slug="teachers")
    DataAgreement.objects.create(affiliate=c["affiliate"], grantee=c["state_federation"], fields=["name", "address"])
    return c


def user_with(role: str, committee: Committee, name: str | None = None) -> Any:
    user = get_user_model().objects.create_user(name or f"{role}-{committee.pk}", password="a-long-passw0rd!")
    RoleGrant.objects.create(user=user, committee=committee, role=role)
    return user


def login_verified(client: Any, user: Any) -> None:
    """Log a test client in with a confirmed TOTP device, as after entering a code."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
