"""A map of a turf cut as server-side SVG: every door a dot in its turf's colour, each
turf's number at its centre (no map tiles: nothing is fetched from outside)."""

from __future__ import annotations

import math

import polars as pl

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#393b79", "#637939", "#843c39", "#7b4173", "#3182bd", "#e6550d")


def turf_map_svg(doors: pl.DataFrame, *, width: int = 760, height: int = 520) -> str:
    """Doors (columns turf_no, lat, lon) as dots; doors without coordinates are left out."""
    d = doors.filter(pl.col("lat").is_not_null() & pl.col("lon").is_not_null())
    if d.height == 0:
        return ""
    lat0 = float(d["lat"].mean())  # type: ignore[arg-type]
    kx = math.cos(math.radians(lat0))
    xs = d["lon"].to_numpy() * kx
    ys = d["lat"].to_numpy()
    pad = 14
    span = max(float(xs.max() - xs.min()), float(ys.max() - ys.min()), 1e-6)
    scale = min((width - 2 * pad) / span, (height - 2 * pad) / span)
    px = pad + (xs - xs.min()) * scale
    py = height - pad - (ys - ys.min()) * scale
    turfs = d["turf_no"].to_numpy()
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart turf-map" '
             f'role="img" aria-label="Map of the doors, coloured by turf">',
             f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fbfbfd"/>']
    for x, y, t in zip(px, py, turfs, strict=True):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="{PALETTE[int(t) % len(PALETTE)]}"/>')
    for t in sorted(set(int(x) for x in turfs)):
        mask = turfs == t
        cx, cy = float(px[mask].mean()), float(py[mask].mean())
        parts.append(f'<text x="{cx:.1f}" y="{cy:.1f}" font-size="13" font-weight="700" text-anchor="middle" '
                     f'stroke="#fff" stroke-width="3" paint-order="stroke">{t}</text>')
    parts.append("</svg>")
    return "".join(parts)
