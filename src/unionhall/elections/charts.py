"""Server-side SVG charts: no JavaScript, readable by people who don't read tables."""

from __future__ import annotations

from html import escape
from typing import Any

MAIL_COLOR = "#1f4fa3"
EARLY_COLOR = "#b3261e"


def daily_returns_svg(days: list[dict[str, Any]], *, width: int = 760, height: int = 300) -> str:
    """Stacked bars of ballots cast per day (by mail, early in person), total on top."""
    if not days:
        return ""
    left, right, top, bottom = 48, 12, 28, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(d["mail"] + d["early"] for d in days) or 1
    step = plot_w / len(days)
    bar = max(2.0, step * 0.7)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="chart" aria-label="Ballots cast per day: by mail and early in person">',
        f'<rect x="{left}" y="{top - 22}" width="12" height="12" fill="{MAIL_COLOR}"/>'
        f'<text x="{left + 16}" y="{top - 12}" font-size="12">By mail</text>'
        f'<rect x="{left + 80}" y="{top - 22}" width="12" height="12" fill="{EARLY_COLOR}"/>'
        f'<text x="{left + 96}" y="{top - 12}" font-size="12">Early in person</text>',
    ]
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d9dee7"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{round(peak * frac):,}</text>'
        )
    label_every = max(1, len(days) // 12)
    for i, d in enumerate(days):
        x = left + i * step + (step - bar) / 2
        mail_h = plot_h * d["mail"] / peak
        early_h = plot_h * d["early"] / peak
        y_mail = top + plot_h - mail_h
        y_early = y_mail - early_h
        day = d["day"]
        label = day.strftime("%b %d") if hasattr(day, "strftime") else str(day)
        tip = escape(f"{label}: {d['mail']:,} by mail, {d['early']:,} early in person")
        parts.append(
            f'<g><title>{tip}</title>'
            f'<rect x="{x:.1f}" y="{y_mail:.1f}" width="{bar:.1f}" height="{mail_h:.1f}" fill="{MAIL_COLOR}"/>'
            f'<rect x="{x:.1f}" y="{y_early:.1f}" width="{bar:.1f}" height="{early_h:.1f}" fill="{EARLY_COLOR}"/></g>'
        )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 16}" font-size="11" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
