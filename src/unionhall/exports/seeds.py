"""Seed records: a few decoy persons unique to each export.

A seed looks like the list's people (it copies the city, ZIP, county, precinct,
districts, party and age of a real row of the same export) but is nobody: its name
pair, street address, phone and voter id are checked against every person in the
warehouse. Its phone is in the 555-0100..0199 block the North American numbering plan
keeps for fiction (it rings no one); its email is at `UNIONHALL_SEED_EMAIL_DOMAIN`
(default ``example.net``: set a catch-all mailbox you control, and mail to a seed
tells you the file is in use). Mail to its address comes back undeliverable or to a
seed house you name. A file that holds a seed came from that export.
"""

from __future__ import annotations

import datetime as dt
import math
import os

import numpy as np
import polars as pl

from unionhall.exports import store
from unionhall.exports.watermark import export_keys
from unionhall.warehouse import Warehouse

MAX_SEEDS = 40


def seed_count(persons: int) -> int:
    """How many seeds an export of `persons` carries: at least 3, about a quarter of the
    square root (30 in 15,000; 40 from 25,600 up)."""
    return min(MAX_SEEDS, max(3, round(math.sqrt(persons) / 4)))


def seed_keys(n: int, seed: int) -> list[str]:
    """`n` export keys for seeds, drawn like the persons' (the same export seed) from
    negative ids: person ids are never negative and the hash is a bijection, so a seed's
    key is never a person's (keys of related seeds would be: x ^ s and y ^ s' collide)."""
    return [str(k) for k in export_keys(-np.arange(1, n + 1, dtype=np.int64), seed)]


def email_domain() -> str:
    return os.environ.get("UNIONHALL_SEED_EMAIL_DOMAIN", "example.net").strip() or "example.net"


def _names(rng: np.random.Generator, n: int) -> tuple[list[str], list[str], list[str]]:
    from unionhall.synth import names as census

    male, female, last = census.male_first(), census.female_first(), census.surnames()
    firsts, sexes = [], []
    for _ in range(n):
        table, sex = (male, "M") if rng.random() < 0.5 else (female, "F")
        top = min(len(table.names), 1200)
        p = table.probabilities[:top] / table.probabilities[:top].sum()
        firsts.append(str(table.names[rng.choice(top, p=p)]))
        sexes.append(sex)
    top = min(len(last.names), 6000)
    p = last.probabilities[:top] / last.probabilities[:top].sum()
    lasts = [str(last.names[i]) for i in rng.choice(top, size=n, p=p)]
    return firsts, lasts, sexes


def _as_case(value: str, like: object) -> str:
    """A generated upper-case value in the case of the template's value."""
    if isinstance(like, str) and like and like != like.upper():
        return value.title()
    return value


def seeds_make(*, wh: Warehouse, rows: pl.DataFrame, n: int, seed: int, taken_keys: set[str],
               today: dt.date) -> pl.DataFrame:
    """`n` seed rows with the columns of `rows` (the export's real rows, masked as the
    requester sees them) and an `export_key` none of `taken_keys`; `person_id` null."""
    rng = np.random.default_rng(seed & 0xFFFFFFFFFFFF)
    cols = rows.columns
    if rows.height == 0:
        return pl.DataFrame(schema=rows.schema).with_columns(pl.lit(None, pl.Utf8).alias("export_key"))
    picked = rows.sample(n=n, with_replacement=rows.height < n, seed=int(rng.integers(1 << 31)))
    templates = picked.to_dicts()
    out: list[dict[str, object]] = []
    firsts: list[str] = []
    lasts: list[str] = []
    sexes: list[str] = []
    # Names: redraw the pairs somebody has (or another seed took).
    while len(firsts) < n:
        f, la, s = _names(rng, 3 * (n - len(firsts)))
        pairs = [f"{a}|{b}" for a, b in zip(f, la, strict=True)]
        used = store.taken(wh, "first_last", pairs) | {f"{a}|{b}" for a, b in zip(firsts, lasts, strict=True)}
        for a, b, sx, pair in zip(f, la, s, pairs, strict=True):
            if pair not in used and len(firsts) < n:
                used.add(pair)
                firsts.append(a)
                lasts.append(b)
                sexes.append(sx)
    for i, t in enumerate(templates):
        row: dict[str, object] = {c: t.get(c) for c in cols}
        row["person_id"] = None
        first, last = firsts[i], lasts[i]
        if "first_name" in cols:
            row["first_name"] = _as_case(first, t.get("first_name"))
        if "last_name" in cols:
            row["last_name"] = _as_case(last, t.get("last_name"))
        if "middle_name" in cols:
            row["middle_name"] = _as_case(_names(rng, 1)[0][0], t.get("middle_name")) if t.get("middle_name") else None
        if "suffix" in cols:
            row["suffix"] = None
        if "sex" in cols and t.get("sex") is not None:
            row["sex"] = sexes[i]
        if "email" in cols:
            row["email"] = f"{first}.{last}{int(rng.integers(10, 100))}@{email_domain()}".lower().replace(" ", "")
        if "phone" in cols:
            digits = "".join(ch for ch in str(t.get("phone") or "") if ch.isdigit())[-10:]
            area = digits[:3] if len(digits) == 10 else "919"
            row["phone"] = f"+1{area}55501{int(rng.integers(0, 100)):02d}"
        if "birth_date" in cols or "age" in cols:
            given = t.get("age")
            age = given if isinstance(given, int) else int(rng.integers(25, 70))
            born = today - dt.timedelta(days=int(365.25 * age + rng.integers(1, 360)))
            if "birth_date" in cols:
                row["birth_date"] = born if t.get("birth_date") is not None else None
            if "age" in cols:
                row["age"] = age if t.get("age") is not None else None
        out.append(row)
    _addresses(wh, out, templates, rng)
    _voter_ids(wh, out, rng)
    keys = [k for k in seed_keys(4 * n, seed) if k not in taken_keys]
    frame = pl.DataFrame(out, schema={**rows.schema, "person_id": rows.schema.get("person_id", pl.Int64)})
    return frame.with_columns(pl.Series("export_key", keys[:n], dtype=pl.Utf8))


def _addresses(wh: Warehouse, out: list[dict[str, object]], templates: list[dict[str, object]],
               rng: np.random.Generator) -> None:
    """A house number nobody lives at on the template's street (same side: same parity),
    checked against every person in one query for all the seeds."""
    if not out or "addr_line1" not in out[0]:
        return
    wanted: list[tuple[dict[str, object], list[str], str, str]] = []
    for row, t in zip(out, templates, strict=True):
        line = str(t.get("addr_line1") or "")
        number, _, street = line.partition(" ")
        if "addr_line2" in row:
            row["addr_line2"] = None
        if not number.isdigit() or not street:
            row["addr_line1"] = None if not line else row["addr_line1"]
            continue
        base = int(number)
        tries = [max(1, base + 2 * int(k)) for k in rng.integers(1, 60, size=12)]
        wanted.append((row, [f"{x} {street}" for x in dict.fromkeys(tries)], str(t.get("zip5") or ""),
                       f"{base + 1001} {street}"))
    used = store.taken(wh, "addr_zip", [f"{c}|{z}" for _, cands, z, _ in wanted for c in cands])
    chosen: set[str] = set()
    for row, cands, zip5, fallback in wanted:
        free = [c for c in cands if f"{c}|{zip5}".upper() not in used and f"{c}|{zip5}" not in chosen]
        row["addr_line1"] = free[0] if free else fallback
        chosen.add(f"{row['addr_line1']}|{zip5}")


def _voter_ids(wh: Warehouse, out: list[dict[str, object]], rng: np.random.Generator) -> None:
    """A voter id in the template's style (its letters, as many digits) that no one has
    (nor another seed), twenty candidates a seed checked in one query."""
    if not out or "voter_reg_num" not in out[0]:
        return
    wanted: list[tuple[dict[str, object], list[str]]] = []
    for row in out:
        v = row.get("voter_reg_num")
        if not isinstance(v, str) or not v:
            continue
        prefix = "".join(ch for ch in v if ch.isalpha())
        width = max(1, len(v) - len(prefix))
        wanted.append((row, [f"{prefix}{int(rng.integers(0, 10 ** width)):0{width}d}" for _ in range(20)]))
    used = store.taken(wh, "voter_reg_num", [c for _, cands in wanted for c in cands])
    for row, cands in wanted:
        free = [c for c in cands if c.upper() not in used]
        row["voter_reg_num"] = free[0] if free else None
        used.add(str(row["voter_reg_num"]).upper())
