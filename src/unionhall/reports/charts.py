"""Report charts with matplotlib (Agg, no display): one drawing, three outputs — SVG
inline on the page, PNG to download, PNG inside the PDF.

The elections and field charts (`elections/charts.py`, `field/charts.py`) are
hand-written SVG for one chart each and have no PNG or PDF form; these draw any
`report.Chart` (grouped or stacked bars, standing or lying down, running totals as
lines). Figures are built with the object-oriented API (`Figure`, never pyplot's
global state), and rendering is serialised by a lock: matplotlib's text and font
caches are shared by the threads of `unionhall serve`.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from html import escape
from typing import Literal

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from unionhall.reports.report import Chart, Series

# Text in the SVG stays text (the page's font, searchable, small); ids are stable, so
# the same chart gives the same bytes.
matplotlib.rcParams["svg.fonttype"] = "none"
matplotlib.rcParams["svg.hashsalt"] = "unionhall-reports"

INK = "#1d2330"
MUTED = "#5b6577"
GRID = "#d9dee7"
FONT = "DejaVu Sans"  # ships with matplotlib: the PNG looks the same on every machine
LABEL_MAX = 34
_LOCK = threading.Lock()


def _short(text: str, n: int = LABEL_MAX) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _thousands(v: float, _pos: int) -> str:
    return f"{v:,.0f}"


def _style(ax: Axes, *, value_axis: Literal["x", "y"]) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(GRID)
    ax.tick_params(colors=MUTED, labelsize=9, length=0)
    axis = ax.yaxis if value_axis == "y" else ax.xaxis
    axis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    axis.set_major_formatter(FuncFormatter(_thousands))
    ax.grid(axis=value_axis, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)


def _values(values: Sequence[float | None]) -> np.ndarray:
    return np.array([0.0 if v is None else float(v) for v in values])


def _legend(ax: Axes, n: int) -> None:
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=n, frameon=False, fontsize=9,
              handlelength=1.2, borderaxespad=0.3, labelcolor=INK)


def _label_every(n: int, room: int) -> int:
    return max(1, -(-n // room))


def figure(chart: Chart | None, *, titled: bool = False, width: float = 9.0) -> Figure:
    """The chart drawn on a new figure (`titled`: with its title, for the PNG and PDF,
    which have no page heading above them)."""
    n = len(chart.categories) if chart else 0
    lying = chart is not None and chart.kind in ("hbars", "hstacked")
    height = max(2.8, 1.3 + 0.36 * n) if lying else 4.0
    fig = Figure(figsize=(width, height + (0.35 if titled else 0)), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    fig.set_facecolor("white")
    ax = fig.add_subplot()
    if chart is None or not chart.categories:
        ax.axis("off")
        ax.text(0.5, 0.5, "Nothing to draw for these filters", ha="center", va="center", color=MUTED,
                fontsize=12, family=FONT)
        return fig
    cats = [_short(str(c)) for c in chart.categories]
    series = list(chart.series)
    if chart.kind in ("bars", "stacked"):
        _vertical(ax, chart, cats, series)
    elif chart.kind in ("hbars", "hstacked"):
        _horizontal(ax, chart, cats, series)
    else:
        _lines(ax, chart, cats, series)
    for text in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        text.set_fontfamily(FONT)
    if titled:
        fig.suptitle(chart.title, x=0.01, ha="left", fontsize=12, fontweight="bold", color=INK, family=FONT)
    if chart.note:
        fig.text(0.99, 0.005, chart.note, ha="right", va="bottom", fontsize=8, color=MUTED, family=FONT)
    return fig


def _vertical(ax: Axes, chart: Chart, cats: list[str], series: list[Series]) -> None:
    x = np.arange(len(cats))
    stacked = chart.kind == "stacked"
    width = 0.8 if stacked else 0.8 / len(series)
    bottom = np.zeros(len(cats))
    peak = 0.0
    for i, s in enumerate(series):
        v = _values(s.values)
        pos = x if stacked else x - 0.4 + width * (i + 0.5)
        bars = ax.bar(pos, v, width * (1 if stacked else 0.92), bottom=bottom if stacked else None, color=s.color,
                      label=s.label)
        if not stacked and len(cats) <= 14:
            ax.bar_label(bars, labels=[f"{int(b):,}" if b else "" for b in v], fontsize=8, color=MUTED, padding=2)
        if stacked:
            bottom = bottom + v
        else:
            peak = max(peak, float(v.max(initial=0)))
    peak = max(peak, float(bottom.max(initial=0)))
    ax.set_ylim(0, peak * 1.12 if peak else 1)  # room for the labels; all zero: a 0-1 axis, not "0 0 0"
    every = _label_every(len(cats), 16)
    ax.set_xticks(x[::every], cats[::every], rotation=0 if len(cats) <= 8 else 35,
                  ha="center" if len(cats) <= 8 else "right")
    ax.set_xlim(-0.6, len(cats) - 0.4)
    _style(ax, value_axis="y")
    if chart.y_label:
        ax.set_ylabel(chart.y_label, color=MUTED, fontsize=9, family=FONT)
    _legend(ax, len(series))


def _horizontal(ax: Axes, chart: Chart, cats: list[str], series: list[Series]) -> None:
    y = np.arange(len(cats))[::-1]  # the first category on top
    stacked = chart.kind == "hstacked"
    height = 0.78 if stacked else 0.8 / len(series)
    left = np.zeros(len(cats))
    peak = 0.0
    for i, s in enumerate(series):
        v = _values(s.values)
        pos = y if stacked else y + 0.4 - height * (i + 0.5)
        bars = ax.barh(pos, v, height * (1 if stacked else 0.9), left=left if stacked else None, color=s.color,
                       label=s.label)
        if not stacked:
            ax.bar_label(bars, labels=[f"{int(b):,}" if b else "" for b in v], fontsize=8, color=MUTED, padding=3)
            peak = max(peak, float(v.max(initial=0)))
        else:
            left = left + v
    peak = max(peak, float(left.max(initial=0)))
    ax.set_yticks(y, cats)
    ax.set_ylim(-0.6, len(cats) - 0.4)
    ax.set_xlim(0, (peak or 1) * 1.1)
    _style(ax, value_axis="x")
    if chart.y_label:
        ax.set_xlabel(chart.y_label, color=MUTED, fontsize=9, family=FONT)
    _legend(ax, len(series))


def _lines(ax: Axes, chart: Chart, cats: list[str], series: list[Series]) -> None:
    x = np.arange(len(cats))
    peak = 0.0
    for s in series:
        v = np.array([np.nan if val is None else float(val) for val in s.values])
        ax.plot(x, v, color=s.color, linewidth=2.2, marker="o" if len(cats) <= 31 else None,
                markersize=9 if len(cats) == 1 else 3.5,  # one day: the dots are the chart
                label=s.label)
        finite = np.flatnonzero(~np.isnan(v))
        peak = max(peak, float(np.nanmax(v)) if finite.size else 0.0)
        if finite.size:
            last = int(finite[-1])
            ax.annotate(f"{int(v[last]):,}", (x[last], v[last]), xytext=(5, 0), textcoords="offset points",
                        va="center", fontsize=8, color=s.color, family=FONT)
    every = _label_every(len(cats), 14)
    ax.set_xticks(x[::every], cats[::every], rotation=0 if len(cats) <= 10 else 35,
                  ha="center" if len(cats) <= 10 else "right")
    if len(cats) == 1:
        ax.set_xlim(-1, 1)
    else:
        ax.set_xlim(-0.3, len(cats) - 0.4 + max(0.6, len(cats) * 0.06))
    ax.set_ylim(0, peak * 1.1 if peak else 1)
    _style(ax, value_axis="y")
    if chart.y_label:
        ax.set_ylabel(chart.y_label, color=MUTED, fontsize=9, family=FONT)
    _legend(ax, len(series))


def chart_png(chart: Chart | None, *, dpi: int = 150, width: float = 9.0) -> bytes:
    """The chart as a PNG (with its title)."""
    with _LOCK:
        fig = figure(chart, titled=True, width=width)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


_PROLOGUE = re.compile(r"^.*?(?=<svg\b)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SIZE = re.compile(r'(<svg\b[^>]*?)\s+width="[^"]*"\s+height="[^"]*"')


def chart_svg(chart: Chart | None, *, label: str = "") -> str:
    """The chart as an inline `<svg>` element (no XML prologue), scaling to the width
    of its container, with a title for screen readers."""
    with _LOCK:
        fig = figure(chart)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = _COMMENT.sub("", _PROLOGUE.sub("", buf.getvalue(), count=1))
    text = _SIZE.sub(r"\1", text, count=1)
    name = escape(label or (chart.title if chart else "chart"))
    return text.replace("<svg ", f'<svg class="report-chart-svg" role="img" aria-label="{name}" '
                        'width="100%" preserveAspectRatio="xMinYMin meet" ', 1).replace(
        ">", f"><title>{name}</title>", 1)
