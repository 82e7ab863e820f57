"""Spreadsheet-formula-safe CSV (list security): a cell that a spreadsheet would run as a
formula (=, +, -, @, tab, carriage return first) is written with a leading apostrophe."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """CSV text line by line (for streaming responses)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([safe_cell(h) for h in header])
    yield buf.getvalue()
    for row in rows:
        buf.seek(0)
        buf.truncate()
        writer.writerow([safe_cell(v) for v in row])
        yield buf.getvalue()


def safe_expr(col: pl.Expr) -> pl.Expr:
    """`safe_cell` for a whole string column at once (large exports)."""
    import polars as pl

    return pl.when(col.str.contains(r"^[=+\-@\t\r]")).then(pl.concat_str([pl.lit("'"), col])).otherwise(col)
