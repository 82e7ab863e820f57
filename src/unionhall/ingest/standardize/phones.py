"""Phone numbers to E.164 with phonenumbers, and a faster path for plain NANP numbers.

phonenumbers.parse + is_valid_number costs ~50 µs, and member files have as many distinct
phone numbers as rows. For the common shape -- ten digits (or 1 + ten) separated only by
spaces, dashes, dots, slashes or parentheses -- the result is fully determined by the
digits: phonenumbers would produce +1 followed by them, valid exactly when they match one
of the NANP regions' number patterns. We compile those patterns from phonenumbers' own
metadata, so the fast path answers the same question with the same data;
tests/ingest/test_phones.py checks both paths agree on random and real-looking numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import phonenumbers
import polars as pl
from phonenumbers import PhoneNumberFormat
from phonenumbers.phonemetadata import PhoneMetadata

from unionhall.ingest.standardize.text import collapse, is_null

DEFAULT_REGION = "US"
_PLAIN_RE = re.compile(r"^\+?[\d\s().\-/]+$")
_NON_DIGIT = re.compile(r"\D")

_TYPE_DESCS = (
    "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number",
    "voip", "pager", "uan", "voicemail",
)


def _nanp_valid_pattern() -> str:
    """One regex matching every valid 10-digit NANP national number, from the metadata.

    The union of every number-type pattern of every +1 region. libphonenumber's general
    pattern is the union of the type patterns, so it adds nothing and is left out, which
    keeps the regex free of look-arounds (Polars' engine has none); the tests compare the
    result with `phonenumbers.is_valid_number`.
    """
    parts = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1]:
        md = PhoneMetadata.metadata_for_region(region)
        if md is None:
            continue
        types = [
            getattr(md, name).national_number_pattern
            for name in _TYPE_DESCS
            if getattr(md, name) is not None and getattr(md, name).national_number_pattern
        ]
        parts.extend(types)
    return "(?:" + "|".join(f"(?:{p})" for p in parts) + ")"


NANP_VALID_PATTERN = _nanp_valid_pattern()
_NANP_VALID = re.compile(NANP_VALID_PATTERN + r"\Z")
# Shapes the columnar path takes without Python: (1-)NXX-NXX-XXXX with ( ) . - or space.
VECTOR_PHONE_PATTERN = r"^(?:\+?1[ .\-]?)?\(?[2-9]\d{2}\)?[ .\-]?\d{3}[ .\-]?\d{4}$"


def phone_vector_exprs(col: pl.Expr) -> tuple[pl.Expr, pl.Expr, Callable[[pl.Expr], pl.Expr]]:
    """(handled, e164, flag from e164) as Polars expressions for the plain NANP shapes.

    Gives exactly `standardize_phone`'s answer on the rows where `handled` is true (a
    subset of `_fast`'s shape); the other rows go through Python.
    """
    handled = col.str.contains(VECTOR_PHONE_PATTERN)
    national = col.str.replace_all(r"\D", "").str.slice(-10)
    e164 = pl.when(national.str.contains("^" + NANP_VALID_PATTERN + "$")).then(pl.lit("+1") + national)
    return handled, e164, lambda value: pl.when(value.is_not_null()).then(pl.lit("ok")).otherwise(pl.lit("invalid"))


def _fast(raw: str) -> tuple[str | None, str] | None:
    """The plain-NANP shortcut, or None when the value needs the full parser."""
    if not _PLAIN_RE.match(raw) or raw.count("+") > 1 or ("+" in raw and not raw.startswith("+")):
        return None
    digits = _NON_DIGIT.sub("", raw)
    if raw.startswith("+"):
        if len(digits) != 11 or digits[0] != "1":
            return None
        national = digits[1:]
    elif len(digits) == 10:
        national = digits
    elif len(digits) == 11 and digits[0] == "1":
        national = digits[1:]
    else:
        return None
    if national[0] in "01":  # national-prefix handling in the parser; let it decide
        return None
    if _NANP_VALID.match(national):
        return "+1" + national, "ok"
    return None, "invalid"


def _slow(raw: str, region: str) -> tuple[str | None, str]:
    try:
        num = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None, "invalid"
    if not phonenumbers.is_valid_number(num):
        return None, "invalid"
    e164 = phonenumbers.format_number(num, PhoneNumberFormat.E164)
    if num.country_code != 1:
        return e164, "foreign"
    if num.extension:
        return e164, "extension"
    return e164, "ok"


@lru_cache(maxsize=262144)
def standardize_phone(raw: str, region: str = DEFAULT_REGION) -> tuple[str | None, str | None]:
    """-> (E.164 or None, flag). Flags: ok, invalid, foreign (valid, outside NANP),
    extension (valid; the extension is dropped from E.164 but kept in the raw value)."""
    v = collapse(raw)
    if not v or is_null(v):
        return None, None
    if v.endswith(".0") and v[:-2].isdigit():  # a number cell from a spreadsheet
        v = v[:-2]
    if region == "US":
        fast = _fast(v)
        if fast is not None:
            return fast
    return _slow(v, region)


def standardize_phone_slow(raw: str, region: str = DEFAULT_REGION) -> tuple[str | None, str | None]:
    """The same as `standardize_phone` but always through phonenumbers (for tests and audits)."""
    v = collapse(raw)
    if not v or is_null(v):
        return None, None
    if v.endswith(".0") and v[:-2].isdigit():
        v = v[:-2]
    return _slow(v, region)
