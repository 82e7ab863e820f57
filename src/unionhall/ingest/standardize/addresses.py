"""Street addresses in USPS Publication 28 style, through usaddress-scourgify.

scourgify (usaddress's CRF tagger + the Pub 28 abbreviation tables) costs ~150 µs an
address, and nearly every member has a distinct address. Most street lines have one
simple shape, though -- house number, optional directional, a street name of plain words,
a street type, optional directional, optional unit -- and for that shape the result is
fixed by the same Pub 28 tables scourgify uses. `_fast_street` handles exactly that shape
and declines anything else (a street name that is itself a street type or directional,
fractions, hyphenated numbers, "#" after a unit type...), so the slow path sees every
address whose tagging could be in doubt. tests/ingest/test_addresses.py compares both
paths on generated addresses, and bench/bench_ingest_standardize.py reports agreement on
its own data.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import polars as pl
import usaddress
from scourgify import normalize_address_record
from scourgify.address_constants import (
    DIRECTIONAL_REPLACEMENTS,
    OCCUPANCY_TYPE_ABBREVIATIONS,
    STREET_TYPE_ABBREVIATIONS,
)

from unionhall.ingest.standardize.codes import STATE_CODES, STATE_NAMES
from unionhall.ingest.standardize.text import collapse, is_null

_DIRS = {**DIRECTIONAL_REPLACEMENTS, **{v: v for v in DIRECTIONAL_REPLACEMENTS.values()}}
_TYPES = STREET_TYPE_ABBREVIATIONS
_OCC = {k: v for k, v in OCCUPANCY_TYPE_ABBREVIATIONS.items() if k != "#"}
_OCC.update({v: v for v in list(_OCC.values())})
# Words that make the CRF's choice less predictable: keep them off the fast path.
_RESERVED = set(_TYPES) | set(_TYPES.values()) | set(_DIRS) | set(_OCC) | {
    "AND", "OF", "THE", "BOX", "PO", "RR", "HC", "ROUTE", "RTE", "HWY", "HIGHWAY", "COUNTY",
    "STATE", "US", "FM", "CR", "SR", "I", "INTERSTATE", "APT", "UNIT", "STE", "FL", "RM",
    "BLDG", "LOT", "TRLR", "SPC", "DEPT", "OFC", "PH", "REAR", "FRONT", "SIDE", "UPPER",
    "LOWER", "PIER", "SLIP", "STOP", "KEY", "LOBBY", "BASEMENT", "NO", "NUMBER", "ST",
    "SAINT", "MT", "MOUNT", "FT", "FORT", "PT", "POINT", "CIR", "AT", "C/O", "ATTN",
}
_FAST_POSTDIRS = frozenset({"NE", "NW", "SE", "SW"})
# Unit types the tagger reliably labels as such; others (TRLR, RM, LOT...) can be read as
# part of the street, so they take the slow path to give scourgify's exact answer.
_FAST_UNITS = {"APT": "APT", "APARTMENT": "APT", "UNIT": "UNIT", "STE": "STE", "SUITE": "STE"}
# Street types the tagger labels reliably in the plain shape (checked against scourgify).
_FAST_TYPES = frozenset(
    {"ST", "STREET", "AVE", "AVENUE", "AV", "RD", "ROAD", "DR", "DRIVE", "LN", "LANE", "CT", "COURT",
     "BLVD", "BOULEVARD", "WAY", "PL", "PLACE", "CIR", "CIRCLE", "TER", "TERRACE", "PKWY", "PARKWAY",
     "HWY", "HIGHWAY"}
)
# Long-hand types the tagger sometimes folds into a numbered street's name.
_ORDINAL_UNSAFE_TYPES = frozenset({"ROAD", "HIGHWAY"})
# Street-type words that are also common street names.
_NAME_TYPES = frozenset(
    {"PARK", "LAKE", "HILL", "MILL", "SPRING", "FOREST", "UNION", "PINE", "RIDGE", "VALLEY",
     "MEADOW", "GROVE", "GARDEN", "HARBOR", "CREEK", "BROOK", "GLEN", "HOLLOW", "MOUNTAIN",
     "VIEW", "CENTER", "STATION", "SPRINGS", "FORGE", "HEIGHTS", "SHORE", "ISLAND"}
) - {"ST"}
_NAME_WORD = re.compile(r"^(?:[A-Z]{2,}|\d+(?:ST|ND|RD|TH))$")
_NUMBER = re.compile(r"^[1-9]\d{0,5}$")
_UNIT_ID = re.compile(r"^[A-Z0-9]{1,6}$")
_PO_BOX = re.compile(r"^(?:P\.?\s*O\.?\s*|POST\s+OFFICE\s+)?BOX\s*#?\s*([A-Z0-9-]+)$", re.I)
_LINE1_SPLIT = re.compile(r"^(\d+[A-Z]?(?:-\d+[A-Z]?)?(?: 1/2)?)\s+(.+)$")


class Street(NamedTuple):
    line1: str | None
    line2: str | None
    number: str | None
    street: str | None
    flag: str | None  # None (ok), 'po_box' or 'unparsed'


_WORD = r"(?:[A-Z]{2,}|\d+(?:ST|ND|RD|TH))"
_FAST_RE = re.compile(
    r"^([1-9]\d{0,5}) "
    r"(?:(NORTHEAST|NORTHWEST|SOUTHEAST|SOUTHWEST|NORTH|SOUTH|EAST|WEST|NE|NW|SE|SW|N|S|E|W) )?"
    rf"({_WORD}(?: {_WORD}){{0,3}}) ([A-Z]+)"
    r"(?: (NE|NW|SE|SW))?"
    r"(?: (?:(APT|APARTMENT|UNIT|STE|SUITE) ([A-Z0-9]{1,6})|# ?([A-Z0-9]{1,6})))?$"
)
_TRAILING_DOT = re.compile(r"(?<=[A-Z])\.(?= |$)")
_MIXED_ORDINAL = re.compile(r"\d(?:St|Nd|Rd|Th|sT|nD|rD|tH)\b")


def _fast_street(text: str) -> tuple[str, str | None] | None:
    """(line1, line2) for the plain shape, or None to defer to scourgify."""
    if _MIXED_ORDINAL.search(text):
        return None  # the tagger's features see letter case: "1St" is tagged unlike "1ST"
    up = _TRAILING_DOT.sub("", text.upper().replace(",", " "))
    if "  " in up:
        up = " ".join(up.split())
    m = _FAST_RE.match(up)
    if m is None:
        return None
    number, predir, name, stype, postdir, unit_type, unit_id, hash_id = m.groups()
    if stype not in _FAST_TYPES:
        return None
    words = name.split(" ")
    if len(words) > 3:
        return None
    # A street named after a street type ("PARK AVE", "LAKE ST", "MILL RD") is still the
    # plain shape when exactly one such word leads and the real type follows.
    rest = words[1:] if words[0] in _NAME_TYPES else words
    if any(w in _RESERVED for w in rest):
        return None
    if words[0] in _NAME_TYPES and len(words) > 1 and words[1] in _TYPES:
        return None
    if stype in _ORDINAL_UNSAFE_TYPES and any(w[0].isdigit() for w in words):
        return None  # "E 3RD ROAD" is sometimes tagged as one street name and left long-hand
    # A one-letter post-directional ("HWY E") is read as a unit letter by the tagger, so
    # only the two-letter ones take the fast path, and only at the very end.
    if postdir and (unit_type or hash_id):
        return None
    unit = unit_id or hash_id
    if unit is not None and unit in _RESERVED:
        return None
    parts = [number]
    if predir:
        parts.append(_DIRS[predir])
    parts.extend(words)
    parts.append(_TYPES[stype])
    if postdir:
        parts.append(postdir)
    if unit_type:
        line2: str | None = f"{_FAST_UNITS[unit_type]} {unit_id}"
    elif hash_id:
        line2 = f"# {hash_id}"
    else:
        line2 = None
    return " ".join(parts), line2


def _slow_street(text: str) -> tuple[str | None, str | None]:
    """scourgify's answer; raises on addresses it cannot parse."""
    rec = normalize_address_record(text)
    return rec.get("address_line_1") or None, rec.get("address_line_2") or None


def _split_line1(line1: str | None) -> tuple[str | None, str | None]:
    if not line1:
        return None, None
    m = _LINE1_SPLIT.match(line1)
    if not m:
        return None, line1
    return m.group(1), m.group(2)


def _street_text(line1: str, line2: str) -> str:
    a = collapse(line1) if not is_null(line1) else ""
    b = collapse(line2) if line2 and not is_null(line2) else ""
    if a and b:
        return f"{a}, {b}"
    return a or b


@lru_cache(maxsize=262144)
def standardize_street(line1: str, line2: str = "") -> Street:
    """Street line(s) -> USPS style. line2 (a unit) may also be inside line1.

    Unparseable lines are kept (upper-cased, whitespace collapsed) in line1 and flagged
    'unparsed', never dropped.
    """
    text = _street_text(line1, line2)
    if not text or is_null(text):
        return Street(None, None, None, None, None)
    if "BOX" in text.upper() and (m := _PO_BOX.match(text)):
        return Street(f"PO BOX {m.group(1).upper()}", None, None, None, "po_box")
    fast = _fast_street(text)
    if fast is not None:
        number, _, street = fast[0].partition(" ")
        return Street(fast[0], fast[1], number, street, None)
    return _standardize_street_slow(text)


def _standardize_street_slow(text: str) -> Street:
    try:
        l1, l2 = _slow_street(text)
    except Exception:  # scourgify raises several error types; all mean "could not parse"
        return Street(collapse(text).upper(), None, None, None, "unparsed")
    if not l1:
        return Street(collapse(text).upper(), None, None, None, "unparsed")
    number, street = _split_line1(l1)
    return Street(l1, l2, number, street, None)


def standardize_street_slow(line1: str, line2: str = "") -> Street:
    """Always through scourgify (for tests and the benchmark's agreement check)."""
    text = _street_text(line1, line2)
    if not text:
        return Street(None, None, None, None, None)
    if m := _PO_BOX.match(text):
        return Street(f"PO BOX {m.group(1).upper()}", None, None, None, "po_box")
    return _standardize_street_slow(text)


class FullAddress(NamedTuple):
    street: str
    city: str
    state: str
    zip: str


_FULL_RE = re.compile(
    r"^(?P<street>.+?),\s*(?P<city>[A-Za-z][A-Za-z .'\-]*?)\s*,?\s+(?P<state>[A-Za-z]{2}|[A-Za-z][A-Za-z ]+?)\.?"
    r"\s*,?\s+(?P<zip>\d{5}(?:-?\d{4})?)$"
)


@lru_cache(maxsize=262144)
def split_full_address(raw: str) -> FullAddress | None:
    """'123 Main St Apt 4, Springfield, IL 62701' -> parts; None when no US shape is found."""
    v = collapse(raw)
    if not v or is_null(v):
        return None
    m = _FULL_RE.match(v)
    if m and (m.group("state").upper() in STATE_CODES or m.group("state").upper() in STATE_NAMES):
        return FullAddress(m.group("street"), m.group("city"), m.group("state"), m.group("zip"))
    try:
        tagged, _kind = usaddress.tag(v)
    except usaddress.RepeatedLabelError:
        return None
    city = tagged.get("PlaceName", "")
    state = tagged.get("StateName", "")
    zipcode = tagged.get("ZipCode", "")
    if not (city or state or zipcode):
        return None
    street = " ".join(
        val for label, val in tagged.items() if label not in ("PlaceName", "StateName", "ZipCode", "CountryName")
    )
    return FullAddress(street.strip(" ,"), city.strip(" ,"), state.strip(" ,."), zipcode.strip(" ,"))


def _alternation(words: set[str] | frozenset[str]) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_RESERVED_WORD_PATTERN = rf"(?:^| )(?:{_alternation(_RESERVED)})(?: |$)"
_NAME_TYPE_THEN_TYPE = rf"^(?:{_alternation(_NAME_TYPES)}) (?:{_alternation(set(_TYPES))})(?: |$)"
_STREET_OUT = ["a_line1", "a_line2", "a_number", "a_street", "a_flag"]


def street_vector_frame(line1: pl.Series, line2: pl.Series) -> pl.DataFrame:
    """The plain-shape fast path in Polars: `_fast_street` as column expressions.

    Returns columns __h (handled) and the `standardize_street` outputs for handled rows.
    Only plain ASCII lines without placeholders are taken; everything else (PO boxes,
    N/A, accents, odd shapes) is left to the Python path. Tests check the two agree.
    """
    from unionhall.ingest.standardize.text import NULL_TOKENS

    nulls = list(NULL_TOKENS)
    frame = pl.DataFrame({"l1": line1, "l2": line2})
    l1 = pl.col("l1").str.strip_chars()
    l2 = pl.col("l2").str.strip_chars()
    simple = (
        l1.str.contains(r"^[A-Za-z0-9 .,#]+$")
        & ((l2 == "") | l2.str.contains(r"^[A-Za-z0-9 .,#]+$"))
        & ~l1.str.to_uppercase().is_in(nulls)
        & ~((l2 != "") & l2.str.to_uppercase().is_in(nulls))
        & ~(l1 + pl.lit(" ") + l2).str.contains(r"\d(?:St|Nd|Rd|Th|sT|nD|rD|tH)\b")
        & ~(l1 + pl.lit(" ") + l2).str.to_uppercase().str.contains(r"\bBOX\b")
    )
    text = pl.when(l2 == "").then(l1).otherwise(l1 + pl.lit(", ") + l2)
    up = (
        text.str.to_uppercase()
        .str.replace_all(",", " ")
        .str.replace_all(r"([A-Z])\.( |$)", "${1}${2}")
        .str.replace_all(r" +", " ")
        .str.strip_chars()
    )
    # Staged with_columns: an eager select does not share repeated sub-expressions, and the
    # regex groups are used many times below.
    names = ["number", "predir", "name", "stype", "postdir", "unit_type", "unit_id", "hash_id"]
    g = (
        frame.select(simple=simple, m=up.str.extract_groups(_FAST_RE.pattern))
        .unnest("m")
        .rename({str(i): n for i, n in enumerate(names, start=1)})
    )
    number, predir, name, stype, postdir, unit_type, unit_id, hash_id = (pl.col(n) for n in names)
    g = g.with_columns(first_word=name.str.extract(r"^(\S+)"))
    rest = pl.when(pl.col("first_word").is_in(list(_NAME_TYPES))).then(name.str.replace(r"^\S+ ?", "")).otherwise(name)
    ok = (
        pl.col("simple")
        & number.is_not_null()
        & stype.is_in(list(_FAST_TYPES))
        & (name.str.count_matches(" ") <= 2)
        & ~rest.str.contains(_RESERVED_WORD_PATTERN).fill_null(False)
        & ~name.str.contains(_NAME_TYPE_THEN_TYPE)
        & ~(stype.is_in(list(_ORDINAL_UNSAFE_TYPES)) & name.str.contains(r"(?:^| )\d"))
        & ~(postdir.is_not_null() & (unit_type.is_not_null() | hash_id.is_not_null()))
        & ~pl.coalesce(unit_id, hash_id).is_in(list(_RESERVED)).fill_null(False)
    ).fill_null(False)
    g = g.with_columns(
        __h=ok,
        street=pl.concat_str(
            [
                predir.replace_strict(_DIRS, default=None, return_dtype=pl.Utf8),
                name,
                stype.replace_strict(dict(_TYPES), default=None, return_dtype=pl.Utf8),
                postdir,
            ],
            separator=" ",
            ignore_nulls=True,
        ),
    )
    unit_abbr = unit_type.replace_strict(_FAST_UNITS, default=None, return_dtype=pl.Utf8)
    return g.select(
        "__h",
        a_line1=number + pl.lit(" ") + pl.col("street"),
        a_line2=pl.when(unit_type.is_not_null()).then(unit_abbr + pl.lit(" ") + unit_id)
        .when(hash_id.is_not_null()).then(pl.lit("# ") + hash_id),
        a_number=number,
        a_street=pl.col("street"),
        a_flag=pl.lit(None, dtype=pl.Utf8),
    )
