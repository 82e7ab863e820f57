"""Address points: the coordinates of street addresses, which doors take theirs from.

North Carolina publishes its address points (NC OneMap's Master Address Dataset) and
counties publish their own; a geocoder's output works as well. The file is a CSV with
a header; its columns are found by name (case and punctuation ignored):

| what | accepted header names |
|---|---|
| house number | ADD_NUMBER, house_number, number, addr_num, st_num |
| street (name with its type and directions) | ST_NAME, street, street_name, full_street |
| ZIP code | ZIP_CODE, zip, zip5, zipcode, postal_code |
| city (optional) | POST_CITY, city, municipality |
| latitude | LATITUDE, lat, y |
| longitude | LONGITUDE, lon, lng, long, x |

A load replaces the points of the ZIP codes the file covers, so a state file or one
county's at a time both work. Rows without a number, a street, a ZIP or usable
coordinates are not loaded; the counts say how many, by reason, and the log names the
first of them by line (address points hold no person data, so there is no quarantine).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from unionhall.errors import UserError
from unionhall.warehouse import Warehouse

COLUMNS: dict[str, tuple[str, ...]] = {
    "house_number": ("addnumber", "housenumber", "number", "addrnum", "stnum", "housenum"),
    "street": ("stname", "street", "streetname", "fullstreet", "stfull"),
    "zip5": ("zipcode", "zip", "zip5", "postalcode", "postcode"),
    "city": ("postcity", "city", "municipality"),
    "lat": ("latitude", "lat", "y"),
    "lon": ("longitude", "lon", "lng", "long", "x"),
}
REQUIRED = ("house_number", "street", "zip5", "lat", "lon")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _columns(path: Path, header: list[str]) -> dict[str, str]:
    by_norm = {_norm(h): h for h in header}
    found = {}
    for target, names in COLUMNS.items():
        hit = next((by_norm[n] for n in names if n in by_norm), None)
        if hit is not None:
            found[target] = hit
    missing = [t for t in REQUIRED if t not in found]
    if missing:
        raise UserError(
            f"{path.name}: no column for {', '.join(missing)} in the header ({', '.join(header[:12])}): "
            "name them as in the table of docs/field.md (e.g. ADD_NUMBER, ST_NAME, ZIP_CODE, LATITUDE, LONGITUDE)")
    return found


def address_points_load(*, warehouse: Warehouse, path: Path, load_id: int,
                        log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Load an address-points file (see the module docstring); returns the counts."""
    from unionhall.field.facts import addr_key_sql

    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        df = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        raise UserError(f"{path.name}: not a readable CSV file ({str(exc).splitlines()[0]})") from None
    cols = _columns(path, df.columns)
    frame = df.select(
        (pl.int_range(pl.len()) + 2).alias("line"),
        *[pl.col(src).str.strip_chars().alias(dst) for dst, src in cols.items()],
    ).with_columns(
        pl.col("house_number").str.extract(r"^(\d+)", 1).cast(pl.Int64, strict=False).alias("number"),
        pl.col("lat").cast(pl.Float64, strict=False).alias("lat_f"),
        pl.col("lon").cast(pl.Float64, strict=False).alias("lon_f"),
        pl.col("zip5").str.extract(r"^(\d{5})", 1).alias("zip_ok"),
        pl.col("street").str.to_uppercase().str.replace_all(r"\s+", " ").alias("street_u"),
    )
    reason = (
        pl.when(pl.col("number").is_null()).then(pl.lit("no house number"))
        .when(pl.col("street_u").is_null() | (pl.col("street_u") == "")).then(pl.lit("no street"))
        .when(pl.col("zip_ok").is_null()).then(pl.lit("no 5-digit ZIP code"))
        .when(pl.col("lat_f").is_null() | pl.col("lon_f").is_null()).then(pl.lit("coordinates are not numbers"))
        .when((pl.col("lat_f").abs() > 90) | (pl.col("lon_f").abs() > 180)).then(pl.lit("coordinates out of range"))
        .otherwise(None)
    )
    frame = frame.with_columns(reason.alias("reason"))
    bad = frame.filter(pl.col("reason").is_not_null())
    good = frame.filter(pl.col("reason").is_null()).select(
        pl.col("number").alias("house_number"), pl.col("street_u").alias("street"),
        pl.col("city").str.to_uppercase() if "city" in cols else pl.lit(None, pl.Utf8).alias("city"),
        pl.col("zip_ok").alias("zip5"), pl.col("lat_f").alias("lat"), pl.col("lon_f").alias("lon"))
    for row in bad.head(5).iter_rows(named=True):
        log(f"{path.name}: line {row['line']}: not loaded: {row['reason']}")
    cur = warehouse.cursor()
    cur.register("_ap_new", good.to_arrow())
    cur.execute("DELETE FROM address_point WHERE zip5 IN (SELECT DISTINCT zip5 FROM _ap_new)")
    key = addr_key_sql("house_number", "street", "zip5")  # a constant expression
    sql = f"INSERT INTO address_point SELECT {key}, house_number, street, city, zip5, lat, lon, ? FROM _ap_new"  # noqa: S608
    cur.execute(sql, [load_id])
    cur.unregister("_ap_new")
    skipped = {str(r): int(n) for r, n in bad.group_by("reason").len().iter_rows()}
    return {"rows_read": frame.height, "rows_loaded": good.height, "rows_skipped": bad.height,
            "skipped_by_reason": skipped, "zip_codes": good["zip5"].n_unique()}
