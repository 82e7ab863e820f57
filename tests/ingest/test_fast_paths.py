"""The fast paths give the libraries' answers: phonenumbers, scourgify, nameparser."""

from __future__ import annotations

import random

import phonenumbers

from unionhall.ingest.standardize.addresses import (
    _fast_street,
    standardize_street,
    standardize_street_slow,
)
from unionhall.ingest.standardize.names import _fast_split, _slow_split
from unionhall.ingest.standardize.phones import _fast, standardize_phone, standardize_phone_slow

STREET_NAMES = ["MAIN", "OAK", "PINE", "MAPLE", "WASHINGTON", "MARTIN LUTHER KING", "5TH", "21ST", "PARK",
                "LAKE", "HILL", "MILL", "SPRING", "FOREST", "UNION", "CHURCH", "SUNSET", "PEACHTREE", "BROAD",
                "JOHN F KENNEDY", "OLD MILL", "HIGHLAND", "VALLEY", "RIDGE", "MEADOW", "CEDAR CREEK"]
TYPES = ["ST", "STREET", "AVE", "AVENUE", "RD", "ROAD", "DR", "DRIVE", "LN", "LANE", "CT", "COURT", "BLVD",
         "WAY", "PL", "PLACE", "CIR", "TER", "PKWY", "HWY"]
DIRS = ["", "", "N", "S", "E", "W", "NORTH", "SW"]
UNITS = ["", "", "", "APT 4", "APT 12B", "UNIT 3", "STE 200", "SUITE 5", "#7", "# 9", "APARTMENT 2"]


def test_phone_fast_path_matches_phonenumbers() -> None:
    rng = random.Random(42)
    formats = ["({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "1{a}{b}{c}", "+1 {a} {b} {c}", "{a}{b}{c}", "1-{a}-{b}-{c}"]
    checked = 0
    for _ in range(3000):
        a, b, c = rng.randint(200, 999), rng.randint(0, 999), rng.randint(0, 9999)
        raw = rng.choice(formats).format(a=a, b=f"{b:03d}", c=f"{c:04d}")
        fast = _fast(raw)
        if fast is None:
            continue
        checked += 1
        assert fast == standardize_phone_slow(raw), raw
    assert checked > 2500


def test_phone_results() -> None:
    assert standardize_phone("(217) 555-0123") == ("+12175550123", "ok")
    assert standardize_phone("2175550123.0") == ("+12175550123", "ok")
    assert standardize_phone("555-0123") == (None, "invalid")
    assert standardize_phone("+44 20 7946 0958") == ("+442079460958", "foreign")
    assert standardize_phone("217-555-0123 x45") == ("+12175550123", "extension")
    assert standardize_phone("N/A") == (None, None)
    # phonenumbers agrees the number is valid
    assert phonenumbers.is_valid_number(phonenumbers.parse("+12175550123"))


def test_address_fast_path_matches_scourgify_on_generated_addresses() -> None:
    rng = random.Random(7)
    seen: set[str] = set()
    checked = 0
    for _ in range(1500):
        parts = [str(rng.randint(1, 99999)), rng.choice(DIRS), rng.choice(STREET_NAMES), rng.choice(TYPES)]
        text = " ".join(p for p in parts if p)
        unit = rng.choice(UNITS)
        r = rng.random()
        text = text.title() if r < 0.4 else text.lower() if r < 0.6 else text
        if unit:
            text += rng.choice([" ", ", "]) + unit
        if text in seen:
            continue
        seen.add(text)
        fast = _fast_street(text)
        if fast is None:
            continue
        checked += 1
        slow = standardize_street_slow(text)
        assert fast == (slow.line1, slow.line2), text
    assert checked > 300


def test_address_results_usps_style() -> None:
    s = standardize_street("123 north Main Street", "apartment 4")
    assert (s.line1, s.line2, s.number, s.street, s.flag) == ("123 N MAIN ST", "APT 4", "123", "N MAIN ST", None)
    assert standardize_street("P.O. Box 55").line1 == "PO BOX 55"
    assert standardize_street("P.O. Box 55").flag == "po_box"
    unparsed = standardize_street("rr 2 box 5")
    assert unparsed.flag == "unparsed" and unparsed.line1 == "RR 2 BOX 5"  # kept, never lost
    assert standardize_street("1600 Pennsylvania Ave NW").line1 == "1600 PENNSYLVANIA AVE NW"


def test_name_fast_path_matches_nameparser() -> None:
    rng = random.Random(3)
    firsts = ["JOHN", "Mary", "jose", "DeShawn", "Aaliyah", "Wei", "Olga", "Siobhan", "Kwame", "Anne-Marie"]
    lasts = ["SMITH", "Garcia", "o'neil", "McDonald", "Nguyen", "Smith-Jones", "Kowalski", "Okafor"]
    middles = ["", "", "Q", "ANN", "Lee", "J"]
    checked = 0
    for _ in range(600):
        f, m, last = rng.choice(firsts), rng.choice(middles), rng.choice(lasts)
        text = f"{last}, {f} {m}".strip() if rng.random() < 0.5 else " ".join(p for p in (f, m, last) if p)
        fast = _fast_split(text)
        if fast is None:
            continue
        checked += 1
        _title, first, middle, last_name, _suffix = _slow_split(text)
        assert fast == (first, middle, last_name), text
    assert checked > 400


def test_columnar_paths_equal_the_python_standardizers() -> None:
    import polars as pl

    from unionhall.ingest.standardize import _lookup_hybrid
    from unionhall.ingest.standardize.codes import member_id_vector_exprs, standardize_member_id
    from unionhall.ingest.standardize.emails import email_vector_exprs, standardize_email
    from unionhall.ingest.standardize.phones import phone_vector_exprs, standardize_phone_slow

    rng = random.Random(9)
    phones = [
        rng.choice(["({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "1{a}{b}{c}", "+1 {a} {b} {c}", "{a}{b}{c}",
                    "1-{a}-{b}-{c}", "{b}-{c}", "+44 20 7946 {c}", "{a}-{b}-{c} x12", " {a} {b} {c} "]).format(
            a=rng.randint(100, 999), b=f"{rng.randint(0, 999):03d}", c=f"{rng.randint(0, 9999):04d}")
        for _ in range(2000)
    ] + ["", "N/A", "2175550123.0", "555-CALL-NOW"]
    emails = [f"{rng.choice(['Ann', 'bo.x', 'c+d'])}{i}@{rng.choice(['GMAIL.COM', 'gmial.com', 'ex.org', 'x'])}"
              for i in range(500)] + ["", " mailto:A@B.COM ", "<a@b.org>", "a b@c.org", "NULL"]
    ids = ["1001", "A-17", "1.23457E+11", "12.0", " 55 ", "N/A", "", "x/y_z"]
    for values, vector, fn in (
        (phones, phone_vector_exprs, standardize_phone_slow),
        (emails, email_vector_exprs, standardize_email),
        (ids, member_id_vector_exprs, standardize_member_id),
    ):
        got = _lookup_hybrid(pl.Series(values, dtype=pl.Utf8), vector, fn, {"v": pl.Utf8, "f": pl.Utf8}).rows()
        assert got == [tuple(fn(v)) for v in values]


def test_columnar_street_path_equals_python_path() -> None:
    import polars as pl

    from unionhall.ingest.standardize import _street_hybrid
    from unionhall.ingest.standardize.addresses import street_vector_frame

    rng = random.Random(11)
    line1, line2 = [], []
    for _ in range(3000):
        parts = [str(rng.randint(1, 99999)), rng.choice(DIRS), rng.choice(STREET_NAMES), rng.choice([*TYPES, "TRAIL", "LOOP"])]
        text = " ".join(p for p in parts if p)
        r = rng.random()
        text = text.title() if r < 0.4 else text.lower() if r < 0.6 else text
        unit = rng.choice([*UNITS, "TRLR 4", "N/A"])
        if rng.random() < 0.5:
            line1.append(text + (rng.choice([" ", ", "]) + unit if unit else ""))
            line2.append("")
        else:
            line1.append(text)
            line2.append(unit)
    line1 += ["PO Box 12", "N/A", "", "rr 2 box 5", "12 Main St.", "12 Main St., Apt. 4", "1 Rue de Café"]
    line2 += ["", "", "", "", "", "", ""]
    s1, s2 = pl.Series(line1, dtype=pl.Utf8), pl.Series(line2, dtype=pl.Utf8)
    got = _street_hybrid(s1, s2).rows()
    assert got == [tuple(standardize_street(a, b)) for a, b in zip(line1, line2, strict=True)]
    assert street_vector_frame(s1, s2).get_column("__h").sum() > 1000  # the columnar path is used


def test_columnar_dates_and_zips_equal_the_python_standardizers() -> None:
    import datetime as dt

    import polars as pl

    from unionhall.ingest.standardize import _date_hybrid, _dob, _join_date, _today, _zip_hybrid
    from unionhall.ingest.standardize.codes import standardize_zip

    rng = random.Random(4)
    dates = []
    for _ in range(1500):
        y, m, d = rng.randint(1690, 3000), rng.randint(0, 13), rng.randint(0, 32)
        dates.append(rng.choice([f"{y}-{m:02d}-{d:02d}", f"{y}-{m}-{d}", f"{m}/{d}/{y}", f"{m:02d}/{d:02d}/{y}",
                                 f"{m}/{d}/{y % 100:02d}", f"{d}-Mar-{y}", ""]))
    dates += ["1980-02-29", "1981-02-29", "2999-01-01", "1700-01-01", " 1980-01-01", "N/A"]
    for order in ("MDY", "DMY"):
        for fn, latest in ((_dob, _today()), (_join_date, _today() + dt.timedelta(days=366))):
            got = _date_hybrid(pl.Series(dates, dtype=pl.Utf8), order, fn, latest, ("v", "f")).rows()
            assert got == [fn(x, order) for x in dates]
    zips = ["62701", "62701-1234", "627011234", "2134", "02134.0", "K1A 0B1", "", "N/A", "6270", "62701 1234"]
    got = _zip_hybrid(pl.Series(zips, dtype=pl.Utf8)).rows()
    assert got == [standardize_zip(z) for z in zips]
