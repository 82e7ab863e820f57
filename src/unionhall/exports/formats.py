"""Writing an export's cells to a file: CSV, XLSX, fixed-width (with its layout) and a
VAN-style tab-delimited person file.

`cells_frame` turns the export's rows into the exact text of every cell (what the
watermark marks are taken from); the writers only lay that text out. Every format
is formula-safe: a cell a spreadsheet would run (=, +, -, @ first) starts with an
apostrophe, in the XLSX too (a workbook saved again as CSV stays safe).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from unionhall.exports.fields import ExportField
from unionhall.web.csvsafe import safe_expr

XLSX_ROWS = 1_048_575  # a worksheet's rows below the header; longer exports take more sheets
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "fixed": "txt", "van": "txt"}


def _text(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.List):
        return col.list.join(";")
    if dtype == pl.Date:
        return col.dt.strftime("%Y-%m-%d")
    return col.cast(pl.Utf8)


def cells_frame(rows: pl.DataFrame, fields: list[ExportField], fmt: str) -> pl.DataFrame:
    """One Utf8 column per field, in order, holding the text the file will hold
    (empty string for no value); fixed-width cells are ASCII and cut to width."""
    exprs = []
    for f in fields:
        src = "export_key" if f.name == "uh_key" else f.name
        v = _text(pl.col(src), rows.schema[src]).fill_null("")
        if fmt == "fixed":
            v = v.str.normalize("NFKD").str.replace_all(r"[^\x20-\x7E]", "").str.slice(0, f.width).str.strip_chars_end()
        elif fmt == "van":
            v = v.str.replace_all(r"[\t\r\n]+", " ")
        exprs.append(safe_expr(v).alias(f.name))
    return rows.select(exprs)


def header(fields: list[ExportField], fmt: str) -> list[str]:
    return [f.van for f in fields] if fmt == "van" else [f.name for f in fields]


def write(cells: pl.DataFrame, fields: list[ExportField], fmt: str, path: Path) -> None:
    """Write the cells to `path` in `fmt` (the caller renames it into place)."""
    names = header(fields, fmt)
    if fmt == "csv":
        cells.rename(dict(zip(cells.columns, names, strict=True))).write_csv(path)
    elif fmt == "van":
        cells.rename(dict(zip(cells.columns, names, strict=True))).write_csv(path, separator="\t", quote_style="never")
    elif fmt == "fixed":
        padded = cells.select([pl.col(f.name).str.pad_end(f.width) for f in fields])
        lines = padded.select(pl.concat_str(padded.columns).alias("line"))
        with path.open("w", encoding="ascii", newline="\r\n") as fh:
            for line in lines.get_column("line"):
                fh.write(line + "\n")
    elif fmt == "xlsx":
        _xlsx(cells, names, path)
    else:
        raise ValueError(f"unknown export format {fmt!r}")


def layout_text(fields: list[ExportField]) -> str:
    """The fixed-width layout for the mail house: name,start,width,end (1-based)."""
    lines = ["name,start,width,end"]
    start = 1
    for f in fields:
        lines.append(f"{f.name},{start},{f.width},{start + f.width - 1}")
        start += f.width
    return "\n".join(lines) + "\n"


def _xlsx(cells: pl.DataFrame, names: list[str], path: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                           "strings_to_urls": False, "strings_to_numbers": False})
    bold = book.add_format({"bold": True})
    n = cells.height
    for part, start in enumerate(range(0, max(n, 1), XLSX_ROWS)):
        sheet = book.add_worksheet("persons" if part == 0 else f"persons {part + 1}")
        sheet.write_row(0, 0, names, bold)
        sheet.freeze_panes(1, 0)
        for r, row in enumerate(cells.slice(start, XLSX_ROWS).iter_rows(), start=1):
            sheet.write_row(r, 0, row)
    book.set_properties({"title": path.stem, "comments": "Union Hall export"})
    book.close()
