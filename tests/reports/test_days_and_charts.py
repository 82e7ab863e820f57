"""Days in the installation's time zone (daylight saving included), computed in DuckDB,
against Python's zoneinfo; and every kind of chart as inline SVG and PNG."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import ibis
import pyarrow as pa
import pytest
from django.test import override_settings

from tests.reports.test_contacts import non_white
from unionhall.reports.charts import chart_png, chart_svg
from unionhall.reports.report import Chart, Series
from unionhall.reports.selectors.common import local_day, offset_changes, utc_naive

NY = ZoneInfo("America/New_York")


@override_settings(TIME_ZONE="America/New_York")
def test_offsets_change_at_the_daylight_saving_instants() -> None:
    changes = offset_changes(dt.datetime(2026, 3, 1), dt.datetime(2026, 11, 30))  # noqa: DTZ001 (naive UTC)
    spring = dt.datetime(2026, 3, 8, 7, tzinfo=dt.UTC)  # 2:00 EST
    fall = dt.datetime(2026, 11, 1, 6, tzinfo=dt.UTC)  # 2:00 EDT
    assert changes == [(None, -5 * 3600), (int(spring.timestamp()), -4 * 3600), (int(fall.timestamp()), -5 * 3600)]
    assert utc_naive(dt.date(2026, 7, 4)) == dt.datetime(2026, 7, 4, 4)  # noqa: DTZ001
    with override_settings(TIME_ZONE="UTC"):
        assert offset_changes(dt.datetime(2026, 1, 1), dt.datetime(2026, 12, 31)) == [(None, 0)]  # noqa: DTZ001


@override_settings(TIME_ZONE="America/New_York")
def test_local_days_in_duckdb_match_zoneinfo() -> None:
    base = [dt.datetime(2026, 3, 8, h, m) for h in range(0, 12) for m in (0, 59)]  # noqa: DTZ001
    base += [dt.datetime(2026, 11, 1, h, 30) for h in range(0, 12)]  # noqa: DTZ001
    base += [dt.datetime(2026, 7, 4, 3, 59, 59), dt.datetime(2026, 7, 4, 4, 0, 0),  # noqa: DTZ001
             dt.datetime(2026, 1, 15, 4, 59), dt.datetime(2026, 1, 15, 5, 1)]  # noqa: DTZ001
    con = ibis.duckdb.connect()
    t = con.create_table("ts", pa.table({"ts": pa.array(base, pa.timestamp("us"))}))
    expr = t.select(t.ts, day=local_day(t.ts, min(base), max(base))).order_by("ts")
    got = {r["ts"]: r["day"] for r in expr.to_pyarrow().to_pylist()}
    want = {ts: ts.replace(tzinfo=dt.UTC).astimezone(NY).date() for ts in base}
    assert got == want
    assert len(set(want.values())) > 3  # the cases cross local midnights


def _chart(kind: str, n: int) -> Chart:
    cats = [f"Category {i} with a longer name than fits" if i % 3 == 0 else f"C{i}" for i in range(n)]
    return Chart(title=f"A {kind} chart", kind=kind, categories=cats,  # type: ignore[arg-type]
                 series=[Series("First", [float(i * 3 + 1) for i in range(n)], "#9db4d9"),
                         Series("Second", [None if i == 1 else float(i) for i in range(n)], "#1f4fa3")],
                 y_label="things", note="a note")


@pytest.mark.parametrize("kind", ["bars", "hbars", "stacked", "hstacked", "lines"])
@pytest.mark.parametrize("n", [1, 7, 40])
def test_every_chart_kind_draws_svg_and_png(kind: str, n: int) -> None:
    chart = _chart(kind, n)
    svg = chart_svg(chart)
    assert svg.startswith('<svg class="report-chart-svg" role="img" aria-label="A ')
    root = ET.fromstring(svg)  # noqa: S314 (our own output: well-formed, one element)
    assert root.tag.endswith("svg") and "viewBox" in root.attrib and root.find("{*}title") is not None
    assert "First" in svg and "Second" in svg  # the legend is text, not paths
    png = chart_png(chart)
    # The bars or lines add ink to the same chart with no values (axes, labels, legend).
    no_values = Chart(title=chart.title, kind=chart.kind, categories=chart.categories, y_label=chart.y_label,
                      note=chart.note, series=[Series(s.label, [None] * n, s.color) for s in chart.series])
    assert png.startswith(b"\x89PNG") and non_white(png) > non_white(chart_png(no_values)) + 0.002
    assert chart_svg(chart) == svg  # the same chart, the same bytes


def test_nothing_to_draw_is_still_an_image() -> None:
    assert non_white(chart_png(None)) > 0.001
    assert "Nothing to draw" in chart_svg(None)
