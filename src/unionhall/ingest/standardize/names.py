"""Person names: split combined names, normalise case, separate titles and suffixes.

Combined names ("SMITH, JOHN Q", "Mary Ann O'Neil Jr") go through nameparser, which knows
hundreds of titles, suffixes and surname particles -- at ~250 µs a name. Most names are
two or three plain words none of which nameparser treats specially; for those the split
is positional and we do it directly (`_fast_split`). tests/ingest/test_names.py checks the
shortcut against nameparser on generated names.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from nameparser import HumanName
from nameparser.config import CONSTANTS

from unionhall.ingest.standardize.text import collapse, has_markup, is_null, text_flags

# Placeholders that are also real names (Nan, Na, Nil): in a name column they are names.
_REAL_NAMES = frozenset({"NAN", "NA", "NIL"})


def _is_null_name(value: str) -> bool:
    return is_null(value) and collapse(value).upper() not in _REAL_NAMES

_SPECIAL = (
    {t.lower() for t in CONSTANTS.titles}
    | {s.lower() for s in CONSTANTS.suffix_acronyms}
    | {s.lower() for s in CONSTANTS.suffix_not_acronyms}
    | {c.lower() for c in CONSTANTS.conjunctions}
    | {p.lower() for p in CONSTANTS.prefixes}
)
_PLAIN_WORD = re.compile(r"^[A-Za-z][A-Za-z'\-]*$")
_SUFFIX_CANON = {
    "JR": "Jr", "JNR": "Jr", "JUNIOR": "Jr", "SR": "Sr", "SNR": "Sr", "SENIOR": "Sr",
    "I": "I", "II": "II", "III": "III", "IV": "IV", "V": "V", "VI": "VI", "2ND": "II", "3RD": "III",
    "ESQ": "Esq", "ESQUIRE": "Esq", "MD": "MD", "PHD": "PhD", "DDS": "DDS", "RN": "RN", "CPA": "CPA",
}
_TITLE_CANON = {
    "MR": "Mr", "MRS": "Mrs", "MS": "Ms", "MISS": "Miss", "MX": "Mx", "DR": "Dr", "REV": "Rev",
    "FR": "Fr", "SR": "Sr", "PROF": "Prof", "HON": "Hon", "SIS": "Sis", "BRO": "Bro",
}


class NameParts(NamedTuple):
    prefix: str | None
    first: str | None
    middle: str | None
    last: str | None
    suffix: str | None
    flags: str | None  # comma-joined


def _cap_piece(piece: str) -> str:
    low = piece.lower()
    if low.startswith("mc") and len(low) > 2:
        return "Mc" + low[2:].capitalize()
    return low.capitalize()


def proper_case(word: str) -> str:
    """Case a name the way it is written: keep mixed case as typed (DeShawn, McDonald, de la
    Cruz), and turn ALL CAPS or all lower into Title Case with O'Neil, Smith-Jones, McBride."""
    if not word:
        return word
    if any(c.isupper() for c in word) and any(c.islower() for c in word):
        return word
    out = []
    for token in word.split(" "):
        upper = token.upper().rstrip(".")
        if upper in {"II", "III", "IV", "VI", "VII", "VIII"}:
            out.append(upper)
            continue
        pieces = re.split(r"([-'\u2019])", token)  # hyphen, apostrophe, typographic apostrophe
        out.append("".join(p if p in "-'\u2019" else _cap_piece(p) for p in pieces))
    return " ".join(out)


def _canon_suffix(s: str) -> str:
    key = s.upper().replace(".", "").replace(",", "").strip()
    return _SUFFIX_CANON.get(key, proper_case(s.replace(",", "").strip()))


def _canon_title(s: str) -> str:
    key = s.upper().replace(".", "").strip()
    return _TITLE_CANON.get(key, proper_case(s.strip()))


def _fast_split(v: str) -> tuple[str, str, str] | None:
    """(first, middle, last) for 'LAST, FIRST [MIDDLE]' / 'FIRST [MIDDLE] LAST' made of
    plain words nameparser treats positionally; None for anything else."""
    if "," in v:
        if v.count(",") != 1:
            return None
        last_part, rest = (p.strip() for p in v.split(","))
        last_words = last_part.split(" ")
        given = rest.split(" ")
        if len(last_words) != 1 or not 1 <= len(given) <= 2:
            return None
        words = last_words + given
        if not all(_PLAIN_WORD.match(w) and w.lower() not in _SPECIAL for w in words):
            return None
        return given[0], (given[1] if len(given) == 2 else ""), last_words[0]
    words = v.split(" ")
    if not 2 <= len(words) <= 3:
        return None
    if not all(_PLAIN_WORD.match(w) and w.lower() not in _SPECIAL for w in words):
        return None
    return words[0], (words[1] if len(words) == 3 else ""), words[-1]


def _slow_split(v: str) -> tuple[str, str, str, str, str]:
    h = HumanName(v)
    return h.title, h.first, h.middle, h.last, h.suffix


def split_name_parts(v: str) -> tuple[str, str, str, str, str]:
    """(title, first, middle, last, suffix) as nameparser would give them (fast when possible)."""
    fast = _fast_split(v)
    if fast is not None:
        return "", fast[0], fast[1], fast[2], ""
    return _slow_split(v)


def _parts(title: str, first: str, middle: str, last: str, suffix: str, flags: list[str]) -> NameParts:
    return NameParts(
        _canon_title(title) if title else None,
        proper_case(first) or None,
        proper_case(middle) or None,
        proper_case(last) or None,
        ", ".join(_canon_suffix(s) for s in suffix.split(",") if s.strip()) or None,
        ",".join(flags) or None,
    )


@lru_cache(maxsize=262144)
def standardize_full_name(raw: str) -> NameParts:
    """A whole name in one value -> parts. Values with HTML are kept whole in `last` (so they
    are never lost or half-parsed) and flagged 'markup'."""
    v = collapse(raw)
    if not v or _is_null_name(v):
        return NameParts(None, None, None, None, None, None)
    flags = text_flags(v)
    if has_markup(v) or v.startswith("="):
        return NameParts(None, None, None, v, None, ",".join(flags))
    title, first, middle, last, suffix = split_name_parts(v)
    if not (first or last):
        flags.append("unparsed")
        return NameParts(None, None, None, v, None, ",".join(flags))
    return _parts(title, first, middle, last, suffix, flags)


_LEADING_TITLE = re.compile(
    r"^(MR|MRS|MS|MISS|MX|DR|REV|FR|PROF|HON|SIS|BRO)\.?\s+(?=\S)", re.I
)
_TRAILING_SUFFIX = re.compile(
    r"[\s,]+(JR|JNR|SR|SNR|II|III|IV|ESQ|MD|PHD|2ND|3RD)\.?$", re.I
)


@lru_cache(maxsize=131072)
def standardize_first(raw: str) -> tuple[str | None, str | None, str | None, str | None]:
    """A first-name cell -> (title, first, middle, flags): 'DR. JOHN Q' -> ('Dr', 'John', 'Q')."""
    v = collapse(raw)
    if not v or _is_null_name(v):
        return None, None, None, None
    flags = text_flags(v)
    if flags:
        return None, v, None, ",".join(flags)
    title = None
    if m := _LEADING_TITLE.match(v):
        title, v = _canon_title(m.group(1)), v[m.end():]
    middle = None
    words = v.split(" ")
    # "JOHN Q" / "Mary A." : a trailing initial is the middle initial; "Mary Ann" stays whole.
    if len(words) == 2 and len(words[1].rstrip(".")) == 1 and words[1][0].isalpha():
        v, middle = words[0], words[1].rstrip(".").upper()
    return title, proper_case(v) or None, middle, None


@lru_cache(maxsize=131072)
def standardize_last(raw: str) -> tuple[str | None, str | None, str | None]:
    """A last-name cell -> (last, suffix, flags): 'SMITH JR.' -> ('Smith', 'Jr')."""
    v = collapse(raw)
    if not v or _is_null_name(v):
        return None, None, None
    flags = text_flags(v)
    if flags:
        return v, None, ",".join(flags)
    suffix = None
    if (m := _TRAILING_SUFFIX.search(v)) and m.start() > 0:
        suffix, v = _canon_suffix(m.group(1)), v[: m.start()]
    return proper_case(v.strip(" ,")) or None, suffix, None


@lru_cache(maxsize=16384)
def standardize_name_piece(raw: str) -> tuple[str | None, str | None]:
    """Middle name, suffix or title cells: case-normalised, flagged like other text."""
    v = collapse(raw)
    if not v or _is_null_name(v):
        return None, None
    flags = text_flags(v)
    if flags:
        return v, ",".join(flags)
    return proper_case(v.rstrip(".") if len(v.rstrip(".")) == 1 else v), None


@lru_cache(maxsize=1024)
def standardize_suffix(raw: str) -> tuple[str | None, str | None]:
    """'jr.' -> 'Jr', 'iii' -> 'III'."""
    v = collapse(raw)
    if not v or _is_null_name(v):
        return None, None
    return _canon_suffix(v), None


@lru_cache(maxsize=1024)
def standardize_title(raw: str) -> tuple[str | None, str | None]:
    """'MR.' -> 'Mr'."""
    v = collapse(raw)
    if not v or _is_null_name(v):
        return None, None
    return _canon_title(v), None
