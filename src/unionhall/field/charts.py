"""A map of a turf cut as server-side SVG: every door a dot in its turf's colour, each
turf's number at its centre (no map tiles: nothing is fetched from outside)."""

from __future__ import annotations

import math

import polars as pl

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#393b79", "#637939", "#843c39", "#7b4173", "#3182bd", "#e6550d")


def turf_map_svg(doors: pl.DataFrame, *, width: int = 760, max_height: int = 560) -> str:
    """Doors (columns turf_no, seq, lat, lon) as dots in their turf's colour, joined in
    walk order; doors without coordinates are left out. The map keeps the ground's
    proportions (east-west distances shrink with the cosine of the latitude)."""
    d = doors.filter(pl.col("lat").is_not_null() & pl.col("lon").is_not_null()).sort("turf_no", "seq")
    if d.height == 0:
        return ""
    lat0 = float(d["lat"].mean())  # type: ignore[arg-type]
    kx = math.cos(math.radians(lat0))
    xs = d["lon"].to_numpy() * kx
    ys = d["lat"].to_numpy()
    pad = 16
    span_x = max(float(xs.max() - xs.min()), 1e-6)
    span_y = max(float(ys.max() - ys.min()), 1e-6)
    scale = min((width - 2 * pad) / span_x, (max_height - 2 * pad) / span_y)
    height = int(min(max_height, max(220, span_y * scale + 2 * pad)))
    off_x = (width - span_x * scale) / 2
    off_y = (height - span_y * scale) / 2
    px = off_x + (xs - xs.min()) * scale
    py = height - off_y - (ys - ys.min()) * scale
    turfs = d["turf_no"].to_numpy()
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart turf-map" '
             f'role="img" aria-label="Map of the doors, coloured by turf, joined in walk order">',
             f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fbfbfd"/>']
    numbers = sorted({int(t) for t in turfs})
    for t in numbers:
        mask = turfs == t
        colour = PALETTE[t % len(PALETTE)]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(px[mask], py[mask], strict=True))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1" '
                     f'stroke-opacity="0.45"/>')
        parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>'
                     for x, y in zip(px[mask], py[mask], strict=True))
    for t in numbers:
        mask = turfs == t
        cx, cy = float(px[mask].mean()), float(py[mask].mean())
        parts.append(f'<text x="{cx:.1f}" y="{cy - 6:.1f}" font-size="13" font-weight="700" text-anchor="middle" '
                     f'stroke="#fff" stroke-width="3" paint-order="stroke">{t}</text>')
    parts.append("</svg>")
    return "".join(parts)
