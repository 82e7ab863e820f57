"""The per-export watermark: export keys, keyed variations, and the cell hashes a
found file is traced by.

Every export gives its persons an **export key** (12 characters of Crockford base32,
a letter first) drawn from the export's secret `mark_seed`: the same person has a
different key in every export, and vendors never see Union Hall's person ids.

Each row also takes **variations** chosen by bits of a keyed hash of (export, person):
written forms a mail house or dialer reads the same, that differ between two exports
of the same list: the street suffix spelled out or not ("OAK ST" / "OAK STREET"), the
directional spelled out ("N MAIN" / "NORTH MAIN"), the unit designator ("APT 4" /
"# 4"), the phone's format ("(919) 555-0142", "919-555-0142", "919.555.0142",
"9195550142"), and the case of the name and the city ("MCDONALD" / "McDonald").

`cell_hashes` gives the distinct normalized values of a file's cells; the export job
stores them (``export_mark``) and `exports.trace` matches a found file against them.
Normalizing undoes what spreadsheets and re-saving do to a file (the formula guard's
apostrophe, a ZIP's leading zeros, "12.0", a date's midnight), never the variations.
"""

from __future__ import annotations

import numpy as np
import polars as pl

_CROCKFORD = np.frombuffer(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ", dtype=np.uint8)
_LETTERS = _CROCKFORD[10:]
KEY_LENGTH = 12
KEY_PATTERN = r"[A-HJKMNP-TV-Z][0-9A-HJKMNP-TV-Z]{11}"

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def keyed_hash(values: np.ndarray, seed: int) -> np.ndarray:
    """SplitMix64 of each int64 value mixed with `seed`: uniform uint64 bits, the same on
    every machine and version (unlike a dataframe library's hash)."""
    with np.errstate(over="ignore"):
        z = values.astype(np.uint64) ^ np.uint64(seed & 0xFFFFFFFFFFFFFFFF)
        z = (z + np.uint64(0x9E3779B97F4A7C15)) & _M64
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def export_keys(person_ids: np.ndarray, seed: int) -> np.ndarray:
    """One key per person (numpy array of str), distinct within the export."""
    for attempt in range(8):
        h = keyed_hash(person_ids, seed + 7919 * (attempt + 1))
        codes = np.empty((len(h), KEY_LENGTH), dtype=np.uint8)
        codes[:, 0] = _LETTERS[(h % np.uint64(len(_LETTERS))).astype(np.intp)]
        rest = h // np.uint64(len(_LETTERS))
        for i in range(1, KEY_LENGTH):
            codes[:, i] = _CROCKFORD[(rest & np.uint64(31)).astype(np.intp)]
            rest >>= np.uint64(5)
        keys = codes.view(f"S{KEY_LENGTH}").ravel().astype(str)
        if len(np.unique(keys)) == len(keys):
            return keys
    raise RuntimeError("could not draw distinct export keys")  # 2**-50 odds per attempt


# -- variations ------------------------------------------------------------------------

# USPS street suffixes (Publication 28, appendix C1) of the streets people live on.
SUFFIXES = {
    "ST": "STREET", "AVE": "AVENUE", "DR": "DRIVE", "LN": "LANE", "CT": "COURT", "PL": "PLACE",
    "CIR": "CIRCLE", "BLVD": "BOULEVARD", "TER": "TERRACE", "RD": "ROAD", "HWY": "HIGHWAY", "TRL": "TRAIL",
    "PKWY": "PARKWAY", "SQ": "SQUARE", "XING": "CROSSING", "CV": "COVE", "PT": "POINT", "RUN": "RUN",
}
DIRECTIONS = {"N": "NORTH", "S": "SOUTH", "E": "EAST", "W": "WEST", "NE": "NORTHEAST", "NW": "NORTHWEST",
              "SE": "SOUTHEAST", "SW": "SOUTHWEST"}
CASED = ("first_name", "middle_name", "last_name", "city")  # take the row's case variation


def _suffix_swap(col: pl.Expr, table: dict[str, str]) -> pl.Expr:
    """Short form <-> long form of the last word (both directions)."""
    both = {**table, **{v: k for k, v in table.items() if v != k}}
    pattern = r"\s(" + "|".join(sorted(both, key=len, reverse=True)) + r")$"
    last = col.str.extract(pattern, 1)
    return pl.when(last.is_not_null()).then(
        pl.concat_str([col.str.slice(0, col.str.len_chars() - last.str.len_chars()),
                       last.replace_strict(both, default=last)])).otherwise(col)


def _direction_swap(col: pl.Expr) -> pl.Expr:
    """ "123 N MAIN ST" <-> "123 NORTH MAIN ST" (the directional after the number)."""
    both = {**DIRECTIONS, **{v: k for k, v in DIRECTIONS.items()}}
    pattern = r"^(\S+\s)(" + "|".join(sorted(both, key=len, reverse=True)) + r")(\s.+)$"
    word = col.str.extract(pattern, 2)
    return pl.when(word.is_not_null()).then(
        pl.concat_str([col.str.extract(pattern, 1), word.replace_strict(both, default=word),
                       col.str.extract(pattern, 3)])).otherwise(col)


def _unit_swap(col: pl.Expr) -> pl.Expr:
    """ "APT 4" <-> "# 4"."""
    return (pl.when(col.str.contains(r"^APT\s")).then(col.str.replace(r"^APT\s+", "# "))
            .when(col.str.contains(r"^#\s?\S")).then(col.str.replace(r"^#\s*", "APT "))
            .otherwise(col))


def _phone_format(col: pl.Expr, style: pl.Expr) -> pl.Expr:
    """A ten-digit (or +1 and ten digits) phone in one of four formats."""
    digits = col.str.replace_all(r"\D", "")
    ten = pl.when(digits.str.len_chars() == 11).then(digits.str.slice(1)).otherwise(digits)
    ok = (ten.str.len_chars() == 10) & (digits.str.len_chars() <= 11)
    a, b, c = ten.str.slice(0, 3), ten.str.slice(3, 3), ten.str.slice(6, 4)
    formatted = (pl.when(style == 0).then(pl.concat_str([pl.lit("("), a, pl.lit(") "), b, pl.lit("-"), c]))
                 .when(style == 1).then(pl.concat_str([a, b, c], separator="-"))
                 .when(style == 2).then(pl.concat_str([a, b, c], separator="."))
                 .otherwise(ten))
    return pl.when(ok).then(formatted).otherwise(col)


def _other_case(col: pl.Expr) -> pl.Expr:
    """Title case for a name or city written in one case ("MCDONALD" -> "McDonald");
    upper case for one already mixed."""
    titled = col.str.to_titlecase()
    mc = titled.str.contains(r"^Mc[a-z]")
    titled = pl.when(mc).then(pl.concat_str([pl.lit("Mc"), titled.str.slice(2).str.to_titlecase()])).otherwise(titled)
    one_case = (col == col.str.to_uppercase()) | (col == col.str.to_lowercase())
    return pl.when(one_case).then(titled).otherwise(col.str.to_uppercase())


def vary(frame: pl.DataFrame, bits: np.ndarray) -> pl.DataFrame:
    """The frame's cells with each row's variations (`bits`: one uint64 per row).
    Only columns present are varied; the others pass through."""
    b = pl.Series("_bits", (bits >> np.uint64(8)).astype(np.int64))  # positive, 56 bits
    f = frame.with_columns(b)
    bit = [(pl.col("_bits") // (1 << i)) % 2 == 1 for i in range(8)]
    out: list[pl.Expr] = []
    if "addr_line1" in frame.columns:
        a = pl.col("addr_line1")
        a = pl.when(bit[0]).then(_suffix_swap(a, SUFFIXES)).otherwise(a)
        out.append(pl.when(bit[1]).then(_direction_swap(a)).otherwise(a).alias("addr_line1"))
    if "addr_line2" in frame.columns:
        u = pl.col("addr_line2")
        out.append(pl.when(bit[2]).then(_unit_swap(u)).otherwise(u).alias("addr_line2"))
    if "phone" in frame.columns:
        out.append(_phone_format(pl.col("phone"), (pl.col("_bits") // 8) % 4).alias("phone"))
    for name in CASED:
        if name in frame.columns:
            flip = bit[5] if name != "city" else bit[6]
            out.append(pl.when(flip).then(_other_case(pl.col(name))).otherwise(pl.col(name)).alias(name))
    return f.with_columns(out).drop("_bits") if out else frame


# -- tracing ---------------------------------------------------------------------------


def normalize(col: pl.Expr) -> pl.Expr:
    """A cell as written, undoing what spreadsheets and re-saving do (not the variations)."""
    v = col.cast(pl.Utf8).str.strip_chars().str.strip_prefix("'")
    v = v.str.replace(r"^(\d+)\.0+$", "$1").str.replace(r"^(\d{4}-\d\d-\d\d)[ T]00:00(:00)?$", "$1")
    v = pl.when(v.str.contains(r"^\d+$")).then(v.str.strip_chars_start("0")).otherwise(v)
    return pl.when(v.str.len_chars() >= 2).then(v)  # one character tells nothing; empty is no cell


def cell_values(frame: pl.DataFrame) -> pl.Series:
    """The distinct normalized values of every cell of `frame` (any columns)."""
    if frame.width == 0 or frame.height == 0:
        return pl.Series("v", [], dtype=pl.Utf8)
    # Distinct per column before and after normalizing (a pure function of the cell):
    # most columns repeat their values, so far fewer cells pass the regular expressions.
    lazy = frame.lazy()
    parts = [lazy.select(pl.col(c).unique()).select(normalize(pl.col(c)).alias("v")).drop_nulls().unique()
             for c in frame.columns]
    return pl.concat(parts).unique().collect().get_column("v")
