"""Union members, their affiliates' member files, the mess in them, and the truth.

Pipeline:
1. pick member persons: registered ones among active/inactive voters, unregistered
   adults of the state, and people who live (and vote) in a neighbouring state;
2. give each an affiliate, a local, an employer and worksite, a status, dues and a
   join date; dual members get a second record in another affiliate;
3. put mess into the written values at exactly the configured rates (see
   `MessRates`); the clean values stay in the truth table;
4. write each affiliate's file its own way, adding duplicate rows and junk rows, and
   record for every physical row of every file what it is and who it is.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import xlsxwriter

from unionhall.synth import names as name_tables
from unionhall.synth._common import EPOCH, day_number, pick_exact, rng_for
from unionhall.synth.affiliates import (
    EMPLOYERS,
    EXTRA_VALUES,
    PROFILES,
    WORKSITES,
    AffiliateProfile,
)
from unionhall.synth.geography import STREET_TYPES_TOWN, STREET_WORDS
from unionhall.synth.params import SynthParams
from unionhall.synth.population import Population, draw_first_names, first_name_vocab, vocab

EXCEL_EPOCH_OFFSET = 25569  # Excel serial of 1970-01-01
XLSX_CREATED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # fixed so XLSX bytes never change
OUT_OF_STATE = (
    ("SC", (29701, 29732), (843, 864, 803), ("ROCK HILL", "FORT MILL", "GAFFNEY", "LANCASTER")),
    ("VA", (24501, 24599), (757, 540, 434), ("DANVILLE", "MARTINSVILLE", "SOUTH HILL")),
    ("TN", (37601, 37699), (423, 865), ("BRISTOL", "KINGSPORT", "JOHNSON CITY")),
    ("GA", (30501, 30599), (706, 762), ("BLAIRSVILLE", "HIAWASSEE", "CLAYTON")),
)
UNIT_VARIANTS = ("#{u}", "Apt. {u}", "Unit {u}", "APT{u}", "Apartment {u}", "Ste {u}", "No. {u}")
KEYBOARD_NEIGHBOURS = {
    "A": "QSZ", "B": "VGN", "C": "XDV", "D": "SEF", "E": "WRD", "F": "DRG", "G": "FTH",
    "H": "GYJ", "I": "UOK", "J": "HUK", "K": "JIL", "L": "KO", "M": "NJ", "N": "BHM",
    "O": "IPL", "P": "OL", "Q": "WA", "R": "ETF", "S": "ADW", "T": "RYG", "U": "YIJ",
    "V": "CFB", "W": "QES", "X": "ZSC", "Y": "TUH", "Z": "AX",
}
STATUS_KEYS = ("active", "retired", "agency_fee", "inactive", "leave")
DUES_KEYS = ("current", "arrears", "exempt")


@dataclass
class MemberFile:
    """One written affiliate file."""

    affiliate: str
    slug: str
    path: str  # relative to the output directory
    fmt: str
    encoding: str
    rows: int  # physical data rows after the header (members, duplicates, junk)
    records: int  # member records (excluding duplicates and junk)


@dataclass
class MembersResult:
    """What `build_members` wrote and the truth about it."""

    files: list[MemberFile]
    records: pl.DataFrame  # truth/member_records
    extra_persons: pl.DataFrame  # out-of-state persons (not in the state's persons table)
    locals: pl.DataFrame


def _top_k_weighted(rng: np.random.Generator, pool: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Weighted sample without replacement (Efraimidis-Spirakis), in pool order."""
    if k > pool.size:
        raise ValueError("sample larger than pool")
    keys = np.log(rng.random(pool.size)) / np.maximum(weights, 1e-12)
    top = np.argpartition(-keys, k - 1)[:k] if k else np.zeros(0, dtype=np.int64)
    return pool[np.sort(top)]


def _member_age_weight(age: np.ndarray) -> np.ndarray:
    return np.select(
        [age < 20, age < 22, age < 65, age < 80, age <= 88], [0.0, 0.3, 1.0, 0.35, 0.08], 0.0
    )


def person_email(first: pl.Expr, last: pl.Expr, style: pl.Expr, num: pl.Expr, domain: pl.Expr) -> pl.Expr:
    """A person's email address from their name and drawn style (reserved example domains)."""
    # Census names are letters only, so lower-casing is enough for the local part.
    f = first.str.to_lowercase()
    la = last.str.to_lowercase()
    n = num.cast(pl.Utf8)
    local = (
        pl.when(style == 0).then(pl.concat_str([f, pl.lit("."), la]))
        .when(style == 1).then(pl.concat_str([f, la, n]))
        .when(style == 2).then(pl.concat_str([f.str.slice(0, 1), la]))
        .when(style == 3).then(pl.concat_str([f, pl.lit("_"), la]))
        .otherwise(pl.concat_str([la, pl.lit("."), f, n]))
    )
    return pl.concat_str([local, pl.lit("@"), domain])


def _out_of_state_persons(rng: np.random.Generator, n: int, first_id: int, today: dt.date) -> pl.DataFrame:
    """People who live and are registered in a neighbouring state."""
    female = rng.random(n) < 0.52
    first = draw_first_names(rng, female)
    middle = draw_first_names(rng, female)
    fv = first_name_vocab()
    sn = name_tables.surnames()
    last = np.searchsorted(sn.cdf, rng.random(n) * sn.cdf[-1], side="right")
    age = rng.integers(22, 66, n)
    dob = day_number(today) - np.round(age * 365.2425).astype(np.int64) - rng.integers(0, 365, n)
    st = rng.integers(0, len(OUT_OF_STATE), n)
    zips = np.array([rng.integers(*OUT_OF_STATE[i][1]) for i in st], dtype=np.int64)
    area = np.array([rng.choice(OUT_OF_STATE[i][2]) for i in st], dtype=np.int64)
    city = [str(rng.choice(OUT_OF_STATE[i][3])) for i in st]
    phone = area * 10_000_000 + rng.integers(200, 1000, n) * 10_000 + rng.integers(0, 10_000, n)
    streets = [f"{w} {t}" for w in STREET_WORDS for t in STREET_TYPES_TOWN]
    return pl.DataFrame(
        {
            "person_id": np.arange(first_id, first_id + n, dtype=np.int64),
            "first_name": vocab(fv, first),
            "middle_name": vocab(fv, middle),
            "last_name": vocab(sn.names, last),
            "name_suffix": pl.Series([""] * n, dtype=pl.Utf8),
            "sex": vocab(["M", "F"], female.astype(np.int64)),
            "dob_days": dob,
            "age": age,
            "house_number": rng.integers(100, 9999, n),
            "street_name": vocab(streets, rng.integers(0, len(streets), n)),
            "unit": pl.Series([""] * n, dtype=pl.Utf8),
            "city": pl.Series(city, dtype=pl.Utf8),
            "state": vocab([s[0] for s in OUT_OF_STATE], st),
            "zip": pl.Series(zips).cast(pl.Utf8),
            "phone": pl.Series(phone).cast(pl.Utf8),
            "has_phone": rng.random(n) < 0.85,
            "has_email": rng.random(n) < 0.7,
            "email_style": rng.integers(0, 5, n),
            "email_num": rng.integers(1, 100, n),
            "email_domain": vocab(["example.com", "example.net", "example.org"], rng.integers(0, 3, n)),
        }
    )


def _typo(rng: np.random.Generator, s: str) -> str:
    """One keyboard-style edit: substitution, deletion, doubling or transposition."""
    if len(s) < 3:
        return s + s[-1]
    i = int(rng.integers(1, len(s) - 1))
    kind = int(rng.integers(4))
    if kind == 0 and s[i] in KEYBOARD_NEIGHBOURS:
        nb = KEYBOARD_NEIGHBOURS[s[i]]
        return s[:i] + nb[int(rng.integers(len(nb)))] + s[i + 1 :]
    if kind == 1:
        return s[:i] + s[i + 1 :]
    if kind == 2:
        return s[:i] + s[i] + s[i:]
    if s[i] != s[i + 1] and i + 1 < len(s):
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    return s[:i] + s[i + 1 :]


def _title(s: str) -> str:
    """Title case as an office worker would type it (Mcdonald, O'Brien, Mary-Kate)."""
    return s.title() if s else s


def _fmt_phone(digits: str, style: str) -> str:
    out: list[str] = []
    it = iter(digits)
    for ch in style:
        out.append(next(it) if ch == "#" else ch)
    return "".join(out)


def _fmt_date(days: int | None, style: str, partial: int = 0) -> Any:
    """A date the way a profile writes it; partial 1 = year only, 2 = month and year."""
    if days is None:
        return ""
    d = EPOCH + dt.timedelta(days=int(days))
    if partial == 1:
        return str(d.year)
    if partial == 2:
        return f"{d.month:02d}/{d.year}" if style == "mdy" else f"{d.year}-{d.month:02d}"
    if style == "mdy":
        return f"{d.month:02d}/{d.day:02d}/{d.year}"
    if style == "iso":
        return d.isoformat()
    if style == "serial":
        return int(days) + EXCEL_EPOCH_OFFSET
    return d  # excel_date: a real date cell


def _dates_in_style(days: np.ndarray, style: str) -> list[Any]:
    """Format many dates (day numbers) at once in a profile's date style."""
    series = pl.Series(days.astype(np.int64)).cast(pl.Date)
    if style == "mdy":
        return series.dt.strftime("%m/%d/%Y").to_list()
    if style == "iso":
        return series.dt.strftime("%Y-%m-%d").to_list()
    if style == "serial":
        return (days.astype(np.int64) + EXCEL_EPOCH_OFFSET).tolist()
    return series.to_list()  # excel_date: datetime.date objects for date cells


def build_members(params: SynthParams, pop: Population, out_dir: Path) -> MembersResult:
    """Choose members, add mess, write `members/*`, and return the truth."""
    rng = rng_for(params.seed, "members")
    mess = params.mess
    profiles = PROFILES[: params.affiliates]
    n_members = params.members
    n_oos = round(n_members * mess.out_of_state)
    n_unreg = round(n_members * mess.unregistered)
    n_reg = n_members - n_oos - n_unreg

    persons = pop.persons
    voters = pop.voters
    households = pop.households
    age = persons["age"].to_numpy()
    # Registered members: active or inactive registrations only.
    vs = voters["status_cd"].to_numpy()
    reg_pool = voters["person_row"].to_numpy()[np.isin(vs, ["A", "I"])]
    unreg_pool = np.flatnonzero(~persons["registered"].to_numpy())
    if n_reg > reg_pool.size or n_unreg > unreg_pool.size:
        raise ValueError("member pools too small")
    reg_rows = _top_k_weighted(rng, reg_pool, _member_age_weight(age[reg_pool]), n_reg)
    unreg_rows = _top_k_weighted(rng, unreg_pool, _member_age_weight(age[unreg_pool]), n_unreg)

    hh = households.select(
        "household_idx", "house_number", "street_name", "unit", "town_name", "zip", "county_idx"
    )
    in_state = (
        persons.with_row_index("person_row")
        .with_columns(pl.col("person_row").cast(pl.Int64))
        .filter(pl.col("person_row").is_in(np.concatenate([reg_rows, unreg_rows]).tolist()))
        .join(hh, on="household_idx", how="left", maintain_order="left")
        .join(
            voters.with_row_index("voter_row2").select(
                "person_row", "county_id", "voter_reg_num", "ncid"
            ),
            on="person_row",
            how="left",
            maintain_order="left",
        )
        .select(
            "person_id", "first_name", "middle_name", "last_name", "name_suffix", "sex",
            "dob_days", "age", "house_number", "street_name", "unit",
            pl.col("town_name").alias("city"), pl.lit("NC").alias("state"),
            pl.col("zip").cast(pl.Utf8), "phone", (pl.col("phone") != "").alias("has_phone"),
            "has_email", "email_style", "email_num", "email_domain", "county_idx",
            "county_id", "voter_reg_num", "ncid", "registered",
        )
        .with_columns(
            registration=pl.when(pl.col("registered")).then(pl.lit("registered")).otherwise(pl.lit("unregistered"))
        )
        .drop("registered")
    )
    first_oos_id = int(persons["person_id"].max() or 0) + 1  # type: ignore[arg-type]
    oos = _out_of_state_persons(rng, n_oos, first_oos_id, params.today)
    n_counties = pop.geography.counties.height
    oos_m = oos.with_columns(
        county_idx=pl.Series(rng.integers(0, n_counties, n_oos)),
        county_id=pl.lit(None, dtype=pl.Utf8),
        voter_reg_num=pl.lit(None, dtype=pl.Int64),
        ncid=pl.lit(None, dtype=pl.Utf8),
        registration=pl.lit("out_of_state"),
    ).select(in_state.columns)
    base = pl.concat([in_state, oos_m], how="vertical_relaxed")
    # Member order is random so affiliates are mixes of the three kinds.
    base = base[rng.permutation(base.height)]
    base = base.with_columns(
        email=pl.when(pl.col("has_email")).then(
            person_email(pl.col("first_name"), pl.col("last_name"), pl.col("email_style"), pl.col("email_num"), pl.col("email_domain"))
        ).otherwise(pl.lit("")),
        phone=pl.when(pl.col("has_phone")).then(pl.col("phone")).otherwise(pl.lit("")),
    )

    # Affiliates, their locals and worksites.
    counties = pop.geography.counties
    county_names = counties["county_desc"].to_list()
    county_w = counties["households"].to_numpy().astype(np.float64)
    towns_by_county: dict[int, list[str]] = {}
    for c, t in pop.geography.towns.select("county_idx", "town_name").iter_rows():
        towns_by_county.setdefault(c, []).append(t)
    local_rows: list[dict[str, Any]] = []
    used_numbers: set[int] = set()
    for a, prof in enumerate(profiles):
        homes = rng.choice(n_counties, size=min(prof.locals_count, n_counties), replace=False, p=county_w / county_w.sum())
        for c in homes:
            num = int(rng.integers(100, 3000))
            while num in used_numbers:
                num = int(rng.integers(100, 3000))
            used_numbers.add(num)
            town = towns_by_county[int(c)][0].title()
            county = county_names[int(c)].title()
            sites: list[tuple[str, str]] = []
            for _ in range(int(rng.integers(3, 9))):
                fill = {
                    "county": county,
                    "town": town,
                    "surname": str(name_tables.surnames().names[int(rng.integers(300))]).title(),
                    "word": STREET_WORDS[int(rng.integers(len(STREET_WORDS)))].title(),
                    "n": int(rng.integers(1, 10)),
                }
                emp = EMPLOYERS[prof.sector][int(rng.integers(len(EMPLOYERS[prof.sector])))].format(**fill)
                site = WORKSITES[prof.sector][int(rng.integers(len(WORKSITES[prof.sector])))].format(**fill)
                sites.append((emp, site))
            local_rows.append({"affiliate_idx": a, "local_number": num, "county_idx": int(c), "sites": sites})
    locals_df = pl.DataFrame(
        {
            "affiliate_slug": [profiles[lr["affiliate_idx"]].slug for lr in local_rows],
            "local_number": [lr["local_number"] for lr in local_rows],
            "home_county": [county_names[lr["county_idx"]] for lr in local_rows],
            "worksites": [len(lr["sites"]) for lr in local_rows],
        }
    )

    weights = np.array([p.size_weight for p in profiles]) * rng.uniform(0.8, 1.2, len(profiles))
    counts = np.floor(weights / weights.sum() * n_members).astype(np.int64)
    counts[: n_members - int(counts.sum())] += 1
    member_aff = np.repeat(np.arange(len(profiles)), counts)

    # Dual members: a second record in another affiliate.
    n_dual = round(n_members * mess.dual_member)
    dual_idx = np.sort(rng.choice(n_members, size=n_dual, replace=False)) if n_dual else np.zeros(0, dtype=np.int64)
    shift = rng.integers(1, len(profiles), n_dual)
    dual_aff = (member_aff[dual_idx] + shift) % len(profiles)
    rec_member = np.concatenate([np.arange(n_members), dual_idx])
    rec_aff = np.concatenate([member_aff, dual_aff])
    rec_dual = np.zeros(rec_member.size, dtype=bool)
    rec_dual[np.isin(rec_member, dual_idx)] = True
    n_rec = rec_member.size
    rec = base[rec_member]
    m_age = rec["age"].to_numpy()
    m_county = rec["county_idx"].to_numpy()

    # Local: one in the member's county if the affiliate has one, else any.
    by_aff_county: dict[tuple[int, int], int] = {}
    by_aff: dict[int, list[int]] = {}
    for li, lrow in enumerate(local_rows):
        by_aff_county.setdefault((lrow["affiliate_idx"], lrow["county_idx"]), li)
        by_aff.setdefault(lrow["affiliate_idx"], []).append(li)
    pick_u = rng.random(n_rec)
    site_u = rng.random(n_rec)
    rec_local = np.empty(n_rec, dtype=np.int64)
    employer: list[str] = []
    worksite: list[str] = []
    for i in range(n_rec):
        key = (int(rec_aff[i]), int(m_county[i]))
        found = by_aff_county.get(key)
        if found is None or pick_u[i] < 0.1:
            options = by_aff[int(rec_aff[i])]
            found = options[int(pick_u[i] * len(options)) % len(options)]
        li = found
        rec_local[i] = li
        sites = local_rows[li]["sites"]
        emp, site = sites[int(site_u[i] * len(sites)) % len(sites)]
        employer.append(emp)
        worksite.append(site)

    # Status, dues, join date.
    u = rng.random(n_rec)
    status = np.where(
        m_age >= 66,
        np.where(u < 0.85, 1, np.where(u < 0.95, 0, 3)),
        np.where(
            (m_age >= 58) & (u < 0.25),
            1,
            np.select([u < 0.86, u < 0.92, u < 0.96], [0, 2, 3], 4),
        ),
    )
    du = rng.random(n_rec)
    dues = np.select(
        [status == 1, status == 4, status == 3, status == 0],
        [np.where(du < 0.7, 2, 0), np.full(n_rec, 2), np.where(du < 0.6, 1, 2), np.where(du < 0.92, 0, 1)],
        0,
    )
    dob = rec["dob_days"].to_numpy()
    today_n = day_number(params.today)
    lo = np.maximum(dob + round(18.5 * 365.2425), today_n - 40 * 365)
    join = lo + (rng.random(n_rec) * np.maximum(today_n - 30 - lo, 1)).astype(np.int64)

    # ---- Mess, at exact rates over the eligible records --------------------------------
    first = rec["first_name"].to_list()
    middle = rec["middle_name"].to_list()
    last = rec["last_name"].to_list()
    nick = name_tables.nickname_table()
    in_state_rec = rec["registration"].to_numpy() != "out_of_state"
    m_moved = pick_exact(rng, in_state_rec, mess.moved)
    # Moved members: the file keeps their previous address, some other address slot.
    addr = pop.geography.addresses
    prec_town = pop.geography.precincts.select("precinct_idx", "town_name", "zip")
    old_slots = rng.integers(0, addr.height, int(m_moved.sum()))
    old = addr[old_slots].join(prec_town, on="precinct_idx", how="left", maintain_order="left")
    w_house = rec["house_number"].to_numpy().copy()
    w_street = rec["street_name"].to_list()
    w_unit = rec["unit"].to_list()
    w_city = rec["city"].to_list()
    w_zip = rec["zip"].to_list()
    mi = np.flatnonzero(m_moved)
    w_house[mi] = old["house_number"].to_numpy()
    for j, i in enumerate(mi.tolist()):
        w_street[i] = old["street_name"][j]
        w_unit[i] = old["unit"][j]
        w_city[i] = old["town_name"][j]
        w_zip[i] = str(old["zip"][j])

    m_nick = pick_exact(rng, np.array([f in nick for f in first]), mess.nickname)
    for i in np.flatnonzero(m_nick).tolist():
        nicknames = nick[first[i]]
        first[i] = nicknames[int(rng.integers(len(nicknames)))]
    m_typo = pick_exact(rng, np.ones(n_rec, dtype=bool), mess.typo)
    typo_last = rng.random(n_rec) < 0.6
    for i in np.flatnonzero(m_typo).tolist():
        if typo_last[i]:
            last[i] = _typo(rng, last[i])
        else:
            first[i] = _typo(rng, first[i])
    m_swap = pick_exact(rng, np.ones(n_rec, dtype=bool), mess.transposed_name)
    for i in np.flatnonzero(m_swap).tolist():
        first[i], last[i] = last[i], first[i]
    m_dob_missing = pick_exact(rng, np.ones(n_rec, dtype=bool), mess.dob_missing)
    m_dob_partial = pick_exact(rng, ~m_dob_missing, mess.dob_partial)
    partial_kind = np.where(m_dob_partial, rng.integers(1, 3, n_rec), 0)
    m_apt = pick_exact(rng, np.array([u != "" for u in w_unit]), mess.apartment_variant)
    apt_style = rng.integers(0, len(UNIT_VARIANTS), n_rec)
    apt_in_line1 = rng.random(n_rec) < 0.5

    rec_table = pl.DataFrame(
        {
            "rec_idx": np.arange(n_rec),
            "affiliate_idx": rec_aff,
            "local_idx": rec_local,
            "status": status,
            "dues": dues,
            "join_days": join,
            "is_dual_member": rec_dual,
            "mess_nickname": m_nick,
            "mess_typo": m_typo,
            "mess_typo_field": np.where(m_typo, np.where(typo_last, "last", "first"), ""),
            "mess_transposed_name": m_swap,
            "mess_dob_missing": m_dob_missing,
            "mess_dob_partial": m_dob_partial,
            "mess_moved": m_moved,
            "mess_apartment_variant": m_apt,
        }
    )

    # ---- Write files --------------------------------------------------------------------
    members_dir = out_dir / "members"
    members_dir.mkdir(parents=True, exist_ok=True)
    files: list[MemberFile] = []
    truth_parts: list[pl.DataFrame] = []
    phone = rec["phone"].to_list()
    email = rec["email"].to_list()
    suffix = rec["name_suffix"].to_list()
    rec_state = rec["state"].to_list()
    local_numbers = [str(lr["local_number"]) for lr in local_rows]
    n_totals = round(mess.totals_row * len(profiles))
    totals_files = set(rng.choice(len(profiles), size=n_totals, replace=False).tolist()) if n_totals else set()
    for a, prof in enumerate(profiles):
        prng = rng_for(params.seed, f"members/{prof.slug}")
        idx = np.flatnonzero(rec_aff == a)
        n = idx.size
        # Member ids: sequential with gaps from a random start, in join-date order.
        order = idx[np.argsort(join[idx], kind="stable")]
        id_num = int(prng.integers(100, 5000)) + np.cumsum(prng.integers(1, 6, n))
        member_id = {int(r): prof.id_format.format(int(v)) for r, v in zip(order, id_num, strict=True)}
        # Files are sorted by last name then first, as exported from a membership system.
        idx = np.array(sorted(idx.tolist(), key=lambda r: (last[r], first[r], member_id[r])), dtype=np.int64)

        title_case = prof.name_case == "title"
        fields = [c for c, _ in prof.columns]
        name_cache: dict[str, str] = {}
        # Dates in this profile's style, formatted once per record (partial DOBs aside).
        dob_fmt = _dates_in_style(dob, prof.date_style)
        join_fmt = _dates_in_style(join, prof.date_style)
        senior_fmt = _dates_in_style(join + 30, prof.date_style)

        def nm(s: str, prof: AffiliateProfile = prof, title: bool = title_case, cache: dict[str, str] = name_cache) -> str:
            out = cache.get(s)
            if out is None:
                if prof.accents and s in name_tables.ACCENTED:
                    accented = name_tables.ACCENTED[s]
                    out = accented if title else accented.upper()
                else:
                    out = _title(s) if title else s
                cache[s] = out
            return out

        def written(
            r: int, phone_style: str, prof: AffiliateProfile = prof, title: bool = title_case,
            dob_fmt: list[Any] = dob_fmt, join_fmt: list[Any] = join_fmt, senior_fmt: list[Any] = senior_fmt,
            member_id: dict[int, str] = member_id, a: int = a, fields: list[str] = fields,
        ) -> list[Any]:

            unit = w_unit[r]
            street = f"{w_house[r]} {_title(w_street[r]) if title else w_street[r]}"
            addr2 = ""
            if unit:
                if m_apt[r]:
                    variant = UNIT_VARIANTS[apt_style[r]].format(u=unit)
                    if prof.unit_in_address or apt_in_line1[r]:
                        street = f"{street} {variant}"
                    else:
                        addr2 = variant
                elif prof.unit_in_address:
                    street = f"{street} {'Apt' if title else 'APT'} {unit}"
                else:
                    addr2 = f"{'Apt' if title else 'APT'} {unit}"
            style = prof.date_style
            if m_dob_missing[r]:
                dob_s: Any = ""
            elif partial_kind[r]:
                # Partial dates can't be Excel serials: those files get text like "1975".
                text_style = "iso" if style in ("serial", "excel_date") else style
                dob_s = _fmt_date(int(dob[r]), text_style, int(partial_kind[r]))
            else:
                dob_s = dob_fmt[r]
            ph = _fmt_phone(phone[r], phone_style) if phone[r] else ""
            first_w, last_w, middle_w = nm(first[r]), nm(last[r]), middle[r]
            mid = f" {middle_w[:1]}" if middle_w else ""
            sfx = f" {suffix[r]}" if suffix[r] else ""
            row = {
                "member_id": member_id[r],
                "first": first_w,
                "middle": nm(middle_w),
                "middle_initial": middle_w[:1],
                "last": last_w,
                "suffix": suffix[r],
                "full_name_lfm": f"{last_w}, {first_w}{mid}{sfx}",
                "dob": dob_s,
                "address": street,
                "address2": addr2,
                "city": _title(w_city[r]) if title else w_city[r],
                "state": rec_state[r],
                "zip": w_zip[r],
                "phone": ph,
                "email": email[r],
                "status": prof.status_words[STATUS_KEYS[status[r]]],
                "employer": employer[r],
                "worksite": worksite[r],
                "local": local_numbers[rec_local[r]],
                "dues": prof.dues_words[DUES_KEYS[dues[r]]],
                "join_date": join_fmt[r],
                "extra:seniority": senior_fmt[r],
                "extra:payroll": f"{(r * 7919) % 90_000_000 + 10_000_000}",
            }
            return [
                row[f] if f in row else EXTRA_VALUES[f[6:]][(r * 31 + a) % len(EXTRA_VALUES[f[6:]])]
                for f in fields
            ]

        # Entries: records, duplicate rows and junk rows, placed by sort key.
        styles = prof.phone_styles
        row_style = prng.integers(0, len(styles), n)
        entries: list[tuple[float, str, int, int]] = []  # (key, kind, rec, style)
        for pos, r in enumerate(idx.tolist()):
            entries.append((float(pos), "member", r, int(row_style[pos])))
        n_dup = round(mess.duplicate_row * n)
        dup_pos = np.sort(prng.choice(n, size=n_dup, replace=False)) if n_dup else np.zeros(0, dtype=np.int64)
        dup_exact = prng.random(n_dup) < 0.7
        for j, pos in enumerate(dup_pos.tolist()):
            st = int(row_style[pos]) if dup_exact[j] or len(styles) == 1 else (int(row_style[pos]) + 1) % len(styles)
            key = pos + 0.5 + prng.random() * min(40, n - pos - 1)
            entries.append((key, "duplicate" if dup_exact[j] else "duplicate_variant", int(idx[pos]), st))
        n_junk = max(1, round(mess.junk_row * n)) if mess.junk_row > 0 else 0
        for _ in range(n_junk):
            kind = "junk_blank" if prng.random() < 0.6 else "junk_header"
            entries.append((1.0 + prng.random() * max(1, n - 2), kind, -1, 0))
        if a in totals_files:
            entries.append((float("inf"), "junk_total", -1, 0))
        entries.sort(key=lambda e: e[0])

        header = [h for _, h in prof.columns]
        table_rows: list[list[Any] | None] = []
        t_kind: list[str] = []
        t_rec: list[int] = []
        t_dup_of: list[int | None] = []
        first_row_of: dict[int, int] = {}
        for _, kind, r, st in entries:
            row_number = len(table_rows) + 2
            if kind in ("member", "duplicate", "duplicate_variant"):
                vals = written(r, styles[st])
                if kind == "duplicate_variant" and len(styles) == 1:
                    vals = [v.upper() if isinstance(v, str) else v for v in vals]
                table_rows.append(vals)
                t_rec.append(r)
                if kind == "member":
                    first_row_of[r] = row_number
                    t_dup_of.append(None)
                else:
                    t_dup_of.append(-r - 1)  # resolved below (original may come later)
                t_kind.append("member" if kind == "member" else "duplicate")
            elif kind == "junk_blank":
                table_rows.append(None)
                t_rec.append(-1)
                t_dup_of.append(None)
                t_kind.append(kind)
            elif kind == "junk_header":
                table_rows.append(list(header))
                t_rec.append(-1)
                t_dup_of.append(None)
                t_kind.append(kind)
            else:
                table_rows.append(["TOTAL", str(n)] + [""] * (len(header) - 2))
                t_rec.append(-1)
                t_dup_of.append(None)
                t_kind.append(kind)
        dup_of = [first_row_of[-d - 1] if d is not None else None for d in t_dup_of]

        rel = f"members/{prof.file_name}"
        _write_member_file(out_dir / rel, prof, header, table_rows)
        files.append(
            MemberFile(
                affiliate=prof.name, slug=prof.slug, path=rel, fmt=prof.fmt,
                encoding=prof.encoding or "xlsx", rows=len(table_rows), records=n,
            )
        )
        rec_ids = np.array(t_rec, dtype=np.int64)
        truth_parts.append(
            pl.DataFrame(
                {
                    "file": [rel] * len(table_rows),
                    "affiliate_slug": [prof.slug] * len(table_rows),
                    "row_number": np.arange(2, len(table_rows) + 2, dtype=np.int32),
                    "record_kind": t_kind,
                    "source_member_id": [member_id[r] if r >= 0 else None for r in t_rec],
                    "local_number": [local_rows[rec_local[r]]["local_number"] if r >= 0 else None for r in t_rec],
                    "duplicate_of_row": pl.Series(dup_of, dtype=pl.Int32),
                    "rec_idx": pl.Series(np.where(rec_ids >= 0, rec_ids, -1)),
                }
            )
        )

    truth = pl.concat(truth_parts)
    clean = rec.select(
        pl.col("person_id"),
        pl.col("registration"),
        pl.col("county_id").alias("voter_county_id"),
        pl.col("voter_reg_num").cast(pl.Utf8).str.zfill(12).alias("voter_reg_num"),
        pl.col("ncid"),
        pl.col("first_name").alias("true_first_name"),
        pl.col("middle_name").alias("true_middle_name"),
        pl.col("last_name").alias("true_last_name"),
        pl.col("name_suffix").alias("true_name_suffix"),
        pl.col("dob_days").cast(pl.Date).alias("true_dob"),
        pl.col("house_number").cast(pl.Utf8).alias("true_house_number"),
        pl.col("street_name").alias("true_street_name"),
        pl.col("unit").alias("true_unit"),
        pl.col("city").alias("true_city"),
        pl.col("state").alias("true_state"),
        pl.col("zip").alias("true_zip"),
        pl.when(pl.col("phone") != "").then(pl.concat_str([pl.lit("+1"), pl.col("phone")])).otherwise(None).alias("true_phone_e164"),
        pl.when(pl.col("email") != "").then(pl.col("email")).otherwise(None).alias("true_email"),
    ).with_row_index("rec_idx").with_columns(pl.col("rec_idx").cast(pl.Int64))
    clean = clean.join(rec_table.with_columns(pl.col("rec_idx").cast(pl.Int64)), on="rec_idx", how="left")
    clean = clean.with_columns(
        member_status=pl.col("status").replace_strict(dict(enumerate(STATUS_KEYS)), return_dtype=pl.Utf8),
        dues_status=pl.col("dues").replace_strict(dict(enumerate(DUES_KEYS)), return_dtype=pl.Utf8),
        join_date=pl.col("join_days").cast(pl.Date),
    ).drop("status", "dues", "join_days", "affiliate_idx", "local_idx")
    records = truth.join(clean, on="rec_idx", how="left", maintain_order="left").drop("rec_idx")
    # Junk rows carry no person; mess flags are false there.
    flag_cols = [c for c in records.columns if c.startswith("mess_") and c != "mess_typo_field"] + ["is_dual_member"]
    records = records.with_columns([pl.col(c).fill_null(False) for c in flag_cols])
    return MembersResult(files=files, records=records, extra_persons=oos, locals=locals_df)


def _write_member_file(path: Path, prof: AffiliateProfile, header: list[str], rows: list[list[Any] | None]) -> None:
    if prof.fmt == "xlsx":
        _write_xlsx(path, prof, header, rows)
        return
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter="\t" if prof.fmt == "tsv" else ",", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        if row is None:
            buf.write("\r\n")
        else:
            writer.writerow(["" if v is None else v for v in row])
    path.write_bytes(buf.getvalue().encode(prof.encoding))


def _write_xlsx(path: Path, prof: AffiliateProfile, header: list[str], rows: list[list[Any] | None]) -> None:
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "in_memory": False})
    wb.set_properties({"created": XLSX_CREATED, "author": prof.name, "title": "Member list"})
    ws = wb.add_worksheet("Members")
    date_fmt = wb.add_format({"num_format": "mm/dd/yyyy"})
    ws.write_row(0, 0, header)
    for i, row in enumerate(rows, start=1):
        if row is None:
            continue
        for j, v in enumerate(row):
            if isinstance(v, dt.date):
                ws.write_datetime(i, j, v, date_fmt)
            elif isinstance(v, int):
                ws.write_number(i, j, v)
            elif v != "":
                ws.write_string(i, j, v)
    wb.close()
