"""Small coded fields: state, ZIP, gender, local, member id, member and dues status."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import polars as pl
from scourgify.address_constants import STATE_ABBREVIATIONS

from unionhall.ingest.standardize.text import collapse, is_null

# USPS state and territory codes, military "states" included (members serve overseas).
STATE_CODES = frozenset(
    ["AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "AS", "GU", "MP", "PR", "VI", "UM", "FM", "MH", "PW", "AA", "AE", "AP"]
)
STATE_NAMES: dict[str, str] = {
    **{k: v for k, v in STATE_ABBREVIATIONS.items() if v in STATE_CODES},
    "DISTRICT OF COLUMBIA": "DC", "WASHINGTON DC": "DC", "WASHINGTON D C": "DC", "D C": "DC",
    "PUERTO RICO": "PR", "GUAM": "GU", "VIRGIN ISLANDS": "VI", "US VIRGIN ISLANDS": "VI",
    "AMERICAN SAMOA": "AS", "NORTHERN MARIANA ISLANDS": "MP", "NEW HAMPSHIRE": "NH",
    "NEW JERSEY": "NJ", "NEW MEXICO": "NM", "NEW YORK": "NY", "NORTH CAROLINA": "NC",
    "NORTH DAKOTA": "ND", "SOUTH CAROLINA": "SC", "SOUTH DAKOTA": "SD", "WEST VIRGINIA": "WV",
    "RHODE ISLAND": "RI",
}
# Canadian provinces: a valid code there means a foreign (not unparseable) address.
PROVINCES = frozenset(["AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"])


@lru_cache(maxsize=4096)
def standardize_state(raw: str) -> tuple[str | None, str | None]:
    """'il', 'Ill.', 'Illinois' -> ('IL', None); a Canadian province -> (code, 'foreign')."""
    v = collapse(raw).upper().replace(".", "").strip()
    if not v or is_null(v):
        return None, None
    if v in STATE_CODES:
        return v, None
    if v in STATE_NAMES:
        return STATE_NAMES[v], None
    if v in PROVINCES:
        return v, "foreign"
    return None, "invalid"


_ZIP_RE = re.compile(r"^(\d{5})(?:[\s-]?(\d{4}))?$")
_FOREIGN_POSTCODE_RE = re.compile(
    r"^[A-Z]\d[A-Z]\s?\d[A-Z]\d$"  # Canada
    r"|^[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}$"  # UK
    r"|^\d{4}\s?[A-Z]{2}$"  # Netherlands
)


@lru_cache(maxsize=131072)
def standardize_zip(raw: str) -> tuple[str | None, str | None, str | None]:
    """ZIP -> (zip5, zip4, flag). Flags: zip_padded (Excel dropped a leading zero: 2134 ->
    02134), foreign (a foreign postcode), invalid."""
    v = collapse(raw).upper()
    if not v or is_null(v):
        return None, None, None
    if v.endswith(".0") and v[:-2].isdigit():  # number cell exported from a spreadsheet
        v = v[:-2]
    m = _ZIP_RE.match(v)
    if m:
        return m.group(1), m.group(2), None
    digits = v.replace("-", "").replace(" ", "")
    if digits.isdigit() and len(digits) in (3, 4):
        return digits.zfill(5), None, "zip_padded"
    if digits.isdigit() and len(digits) in (7, 8):  # ZIP+4 that lost its leading zeros
        full = digits.zfill(9)
        return full[:5], full[5:], "zip_padded"
    if _FOREIGN_POSTCODE_RE.match(v):
        return None, None, "foreign"
    return None, None, "invalid"


_GENDER = {
    "M": "M", "MALE": "M", "MAN": "M", "MR": "M", "H": "M",
    "F": "F", "FEMALE": "F", "WOMAN": "F", "W": "F", "MS": "F", "MRS": "F",
    "X": "X", "NB": "X", "NON-BINARY": "X", "NONBINARY": "X", "NON BINARY": "X", "OTHER": "X",
    "GENDERQUEER": "X", "GENDER NONCONFORMING": "X",
    "U": None, "UNKNOWN": None, "DECLINED": None, "PREFER NOT TO SAY": None, "N": None,
}


@lru_cache(maxsize=1024)
def standardize_gender(raw: str) -> tuple[str | None, str | None]:
    """-> ('F' | 'M' | 'X' | None, flag). Unrecognised values are flagged, never guessed."""
    v = collapse(raw).upper().rstrip(".")
    if not v or is_null(v):
        return None, None
    if v in _GENDER:
        return _GENDER[v], None
    return None, "unrecognized"


_LOCAL_PREFIX_RE = re.compile(r"^(?:LOCAL\s*(?:UNION)?|L\.?U\.?|LU|L)\s*(?:NO\.?|NUMBER|#)?\s*[-#:]?\s*", re.I)


@lru_cache(maxsize=4096)
def standardize_local(raw: str) -> tuple[str | None, str | None]:
    """'Local 123', 'L-123', 'LU #123', '123.0' -> '123'; keeps letters ('32BJ')."""
    v = collapse(raw)
    if not v or is_null(v):
        return None, None
    v = _LOCAL_PREFIX_RE.sub("", v).strip().upper()
    if v.endswith(".0") and v[:-2].isdigit():
        v = v[:-2]
    v = v.lstrip("#").strip()
    return (v or None), None


_SCI_RE = re.compile(r"^\d(?:\.\d+)?E\+\d+$", re.I)
# Ids the columnar path passes through unchanged: no spaces, not '123.0', not a placeholder.
_PLAIN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_/\-]*$"


def member_id_vector_exprs(col: pl.Expr) -> tuple[pl.Expr, pl.Expr, Callable[[pl.Expr], pl.Expr]]:
    """(handled, id, flag) for plain ids, which `standardize_member_id` returns unchanged."""
    from unionhall.ingest.standardize.text import NULL_TOKENS

    handled = col.str.contains(_PLAIN_ID_PATTERN) & ~col.str.to_uppercase().is_in(list(NULL_TOKENS))
    return handled, col, lambda _value: pl.lit(None, dtype=pl.Utf8)


@lru_cache(maxsize=262144)
def standardize_member_id(raw: str) -> tuple[str | None, str | None]:
    """Trimmed id. '1.23457E+11' means Excel rounded the id away: flagged scientific_notation."""
    v = collapse(raw)
    if not v or is_null(v):
        return None, None
    if _SCI_RE.match(v):
        return v, "scientific_notation"
    if v.endswith(".0") and v[:-2].isdigit():
        v = v[:-2]
    return v, None


_MEMBER_STATUS = {
    "A": "active", "ACT": "active", "ACTIVE": "active", "ACTIVE MEMBER": "active", "FULL": "active",
    "I": "inactive", "INACT": "inactive", "INACTIVE": "inactive",
    "R": "retired", "RET": "retired", "RETIRED": "retired", "RETIREE": "retired",
    "S": "suspended", "SUSP": "suspended", "SUSPENDED": "suspended",
    "T": "terminated", "TERM": "terminated", "TERMINATED": "terminated",
    "D": "deceased", "DEC": "deceased", "DECEASED": "deceased",
    "P": "pending", "PEND": "pending", "PENDING": "pending", "NEW": "pending",
    "L": "lapsed", "LAPSED": "lapsed", "W": "withdrawn", "WITHDRAWN": "withdrawn",
    "AGENCY FEE": "agency_fee", "FEE PAYER": "agency_fee", "NON-MEMBER": "non_member",
    "NONMEMBER": "non_member", "NON MEMBER": "non_member", "HONORARY": "honorary",
}
_DUES_STATUS = {
    "C": "current", "CURRENT": "current", "PAID": "current", "GOOD STANDING": "current",
    "IN GOOD STANDING": "current", "Y": "current", "YES": "current", "TRUE": "current",
    "ARREARS": "arrears", "IN ARREARS": "arrears", "DELINQUENT": "arrears", "LATE": "arrears",
    "PAST DUE": "arrears", "BEHIND": "arrears", "N": "arrears", "NO": "arrears", "FALSE": "arrears",
    "EXEMPT": "exempt", "WAIVED": "exempt", "DUES EXEMPT": "exempt", "CHECKOFF": "current",
    "DUES CHECKOFF": "current", "PAYROLL DEDUCTION": "current",
}


def _status(raw: str, table: dict[str, str]) -> tuple[str | None, str | None]:
    v = collapse(raw)
    if not v or is_null(v):
        return None, None
    key = v.upper().rstrip(".")
    if key in table:
        return table[key], None
    # Unknown codes stay as the affiliate wrote them (lower-cased), flagged for the mapping page.
    return v.lower(), "unrecognized"


@lru_cache(maxsize=1024)
def standardize_member_status(raw: str) -> tuple[str | None, str | None]:
    """'A', 'Active', 'ACTIVE MEMBER' -> 'active'; unknown codes kept lower-cased and flagged."""
    return _status(raw, _MEMBER_STATUS)


@lru_cache(maxsize=1024)
def standardize_dues_status(raw: str) -> tuple[str | None, str | None]:
    """'Paid', 'Current', 'Checkoff' -> 'current'; 'Delinquent' -> 'arrears'; etc."""
    return _status(raw, _DUES_STATUS)


@lru_cache(maxsize=65536)
def standardize_text(raw: str) -> tuple[str | None, str | None]:
    """Free text (employer, worksite, city...): whitespace collapsed, case kept; flags joined by ','."""
    from unionhall.ingest.standardize.text import text_flags

    v = collapse(raw)
    if not v or is_null(v):
        return None, None
    flags = text_flags(v)
    return v, ",".join(flags) or None
