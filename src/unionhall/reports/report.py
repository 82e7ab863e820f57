"""A report as plain data: what the page, the CSV, the PDF and the PNG are all drawn
from, so the four can never disagree.

A `Report` has a title, the filters it was made with (in words), headline figures,
tables and at most one chart. Values stay raw (ints, floats, dates, strings, None);
`cell_text` formats one for people (the page and the PDF), the CSV writes them as
they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

# How a column's values are shown: counts with thousands separators, rates as
# percentages, days as dates; None (no data, or hidden because the group is small) as
# a dash.
Kind = Literal["text", "count", "rate", "date", "datetime"]
SUPPRESSED = "<"  # shown for a count hidden from analysts (fewer than the minimum cell)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: Kind = "text"


@dataclass
class Table:
    """One table of a report. `rows` are dicts keyed by the columns' keys (rows may
    carry other keys, e.g. a flag for styling; the CSV writes the columns only)."""

    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    note: str = ""

    def header(self) -> list[str]:
        return [c.key for c in self.columns]

    def values(self) -> Iterable[list[Any]]:
        for r in self.rows:
            yield [csv_value(c, r.get(c.key)) for c in self.columns]


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]
    color: str


@dataclass(frozen=True)
class Chart:
    """What to draw: `bars` (grouped bars over categories), `hbars` (the same, lying
    down: long names read better), `stacked` (stacked bars) or `lines` (series over
    days)."""

    title: str
    kind: Literal["bars", "hbars", "stacked", "hstacked", "lines"]
    categories: Sequence[str]
    series: Sequence[Series]
    y_label: str = ""
    note: str = ""


@dataclass
class Report:
    kind: str  # "contacts", "early_vote", "usage"
    title: str
    filters: list[tuple[str, str]]
    figures: list[tuple[str, Any, Kind]]
    tables: list[Table]
    chart: Chart | None
    generated_at: dt.datetime
    notes: list[str] = field(default_factory=list)
    slug: str = "report"  # file names of the downloads

    def table(self, key: str) -> Table:
        for t in self.tables:
            if t.key == key:
                return t
        raise KeyError(key)

    @property
    def filter_text(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.filters)


def rate(part: Any, whole: Any) -> float | None:
    """part / whole, None when either is unknown (or hidden) or the whole is 0."""
    if not isinstance(part, int | float) or not isinstance(whole, int | float) or not whole:
        return None
    return part / whole


def cell_text(kind: str, value: Any) -> str:
    """A value as people read it."""
    if value is None:
        return "\N{EN DASH}"
    if value == SUPPRESSED:
        return f"fewer than {_min_cell_label()}"
    if kind == "count":
        return f"{int(value):,}"
    if kind == "rate":
        return f"{float(value) * 100:.1f}%"
    if kind == "date" and isinstance(value, dt.date):
        return value.strftime("%a %b %-d, %Y")
    if kind == "datetime" and isinstance(value, dt.datetime):
        from django.utils import timezone

        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


def csv_value(col: Column, value: Any) -> Any:
    """A value as the CSV holds it: counts as numbers, rates as fractions (4 places),
    dates in ISO form, a suppressed count as empty."""
    if value is None or value == SUPPRESSED:
        return ""
    if col.kind == "rate":
        return f"{float(value):.4f}"
    if isinstance(value, dt.datetime):
        from django.utils import timezone

        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _min_cell_label() -> str:
    from django.conf import settings

    return str(settings.UNIONHALL_MIN_CELL)
