"""Dates in the many shapes member files carry them, including Excel serial numbers."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from unionhall.ingest.standardize.text import collapse, is_null

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("JAN", "JANUARY"), ("FEB", "FEBRUARY"), ("MAR", "MARCH"), ("APR", "APRIL"),
            ("MAY",), ("JUN", "JUNE"), ("JUL", "JULY"), ("AUG", "AUGUST"),
            ("SEP", "SEPT", "SEPTEMBER"), ("OCT", "OCTOBER"), ("NOV", "NOVEMBER"),
            ("DEC", "DECEMBER"),
        ],
        start=1,
    )
    for m in names
}
_ISO_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_NUM_RE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AP]M)?)?$", re.I)
_DMONY_RE = re.compile(r"^(\d{1,2})[-/ .]([A-Z]{3,9})\.?[-/ .,]+(\d{2}|\d{4})$", re.I)
_MONDY_RE = re.compile(r"^([A-Z]{3,9})\.?[-/ .]+(\d{1,2})(?:ST|ND|RD|TH)?,?[-/ .]+(\d{2}|\d{4})$", re.I)
_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL_RE = re.compile(r"^(\d{1,5})(?:\.\d+)?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 (Excel's 1900 leap-year bug aside)


def _year(text: str) -> int:
    if len(text) == 4:
        return int(text)
    # Two-digit years: the most recent year with those digits that is not in the future.
    yy = int(text)
    this = dt.date.today().year  # noqa: DTZ011 - a calendar year, no time zone involved
    year = (this // 100) * 100 + yy
    return year - 100 if year > this else year


def _make(year: int, month: int, day: int) -> tuple[dt.date | None, str | None]:
    try:
        return dt.date(year, month, day), None
    except ValueError:
        return None, "impossible"


@lru_cache(maxsize=131072)
def parse_date(raw: str, order: str = "MDY") -> tuple[dt.date | None, str | None]:
    """Parse a date; returns (date, None) or (None, flag).

    Flags: 'impossible' (02/30/1980, month 13), 'unparsed' (not a date we recognise),
    'year_only' (just '1980'). `order` settles numeric dates like 03/04/1980. Whole numbers
    of up to five digits are Excel serial day numbers (29284 = 1980-03-04).
    """
    v = collapse(raw).upper()
    if not v or is_null(v):
        return None, None
    if m := _ISO_RE.match(v):
        return _make(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _NUM_RE.match(v):
        a, b, c = m.group(1), m.group(2), m.group(3)
        if order == "DMY":
            return _make(_year(c), int(b), int(a))
        if order == "YMD":  # only 4-digit-first dates are YMD; this shape has the year last
            return _make(_year(c), int(a), int(b))
        return _make(_year(c), int(a), int(b))
    if m := _DMONY_RE.match(v):
        month = _MONTHS.get(m.group(2).upper())
        if month:
            return _make(_year(m.group(3)), month, int(m.group(1)))
        return None, "unparsed"
    if m := _MONDY_RE.match(v):
        month = _MONTHS.get(m.group(1).upper())
        if month:
            return _make(_year(m.group(3)), month, int(m.group(2)))
        return None, "unparsed"
    if m := _COMPACT_RE.match(v):
        return _make(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _SERIAL_RE.match(v):
        n = int(m.group(1))
        if len(m.group(1)) == 4 and 1800 <= n <= 2100 and "." not in v:
            return None, "year_only"
        if n == 60:
            return None, "impossible"  # Excel's fictitious 1900-02-29
        if n < 60:
            n += 1  # before the fictitious leap day Excel's serials are off by one
        return _EXCEL_EPOCH + dt.timedelta(days=n), None
    return None, "unparsed"


def check_range(
    value: dt.date | None, flag: str | None, *, earliest: dt.date, latest: dt.date
) -> tuple[dt.date | None, str | None]:
    """Null a date outside [earliest, latest] and flag it (out_of_range or future)."""
    if value is None:
        return None, flag
    if value > latest:
        return None, "future"
    if value < earliest:
        return None, "out_of_range"
    return value, flag
