"""A report's downloads: CSV of one of its tables (formula-safe), the whole report as a
PDF (ReportLab, in the DejaVu Sans Condensed the walk sheets ship), the chart as PNG."""

from __future__ import annotations

import io
from collections.abc import Iterator
from html import escape
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import landscape, letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from unionhall.reports.charts import chart_png
from unionhall.reports.report import Report, Table, cell_text
from unionhall.web.csvsafe import csv_lines

INK = colors.HexColor("#1d2330")
MUTED = colors.HexColor("#5b6577")
LINE = colors.HexColor("#d9dee7")
HEAD = colors.HexColor("#eef1f6")
FLAG = colors.HexColor("#fbe1df")
MARGIN = 0.55 * inch
WIDE_TABLE = 9  # more columns than this: the page turns landscape (the usage table has 14)
WIDE = {"text", "detail", "check", "label", "group", "user", "committee", "what", "grantee", "affiliate", "status"}


def report_csv(report: Report, table_key: str | None = None) -> Iterator[str]:
    """One table of the report as CSV lines (the first table unless asked): the
    columns' keys as the header, raw values, every cell formula-safe."""
    table = report.table(table_key) if table_key else report.tables[0]
    return csv_lines(table.header(), table.values())


def _fonts() -> Any:
    # The walk sheets' font loader: DejaVu Sans Condensed from field/fonts (registered
    # with ReportLab once), with its glyph-coverage-aware text cleaner; Vera or
    # Helvetica when the files are missing.
    from unionhall.field.sheets import _fonts as sheet_fonts

    return sheet_fonts()


def report_pdf(report: Report, *, username: str = "") -> bytes:
    """The report on US Letter (landscape when a table is too wide for portrait):
    title, filters, figures, chart, every table, notes; page numbers and the time it
    was made in the footer."""
    f = _fonts()
    page = landscape(letter) if any(len(t.columns) > WIDE_TABLE for t in report.tables) else letter

    def para(text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(f.clean(text)), style)

    title = ParagraphStyle("title", fontName=f.bold, fontSize=16, leading=20, textColor=INK, spaceAfter=4)
    meta = ParagraphStyle("meta", fontName=f.regular, fontSize=8.5, leading=11, textColor=MUTED)
    h2 = ParagraphStyle("h2", fontName=f.bold, fontSize=11, leading=14, textColor=INK, spaceBefore=10, spaceAfter=4)
    cell = ParagraphStyle("cell", fontName=f.regular, fontSize=7.5, leading=9, textColor=INK)
    cell_num = ParagraphStyle("num", parent=cell, alignment=2)
    head = ParagraphStyle("head", parent=cell, fontName=f.bold, textColor=MUTED)
    head_num = ParagraphStyle("headnum", parent=head, alignment=2)
    fig_label = ParagraphStyle("figl", fontName=f.regular, fontSize=7.5, leading=9, textColor=MUTED)
    fig_value = ParagraphStyle("figv", fontName=f.bold, fontSize=13, leading=16, textColor=INK)
    note = ParagraphStyle("note", fontName=f.italic, fontSize=7.5, leading=9.5, textColor=MUTED, spaceBefore=3)

    width = page[0] - 2 * MARGIN
    story: list[Any] = [para(report.title, title)]
    story.extend(para(f"{k}: {v}", meta) for k, v in report.filters)
    made = report.generated_at.strftime("%Y-%m-%d %H:%M %Z").strip()
    story.append(para(f"Made {made}" + (f" for {username}" if username else "") + " by Union Hall", meta))
    story.append(Spacer(1, 8))

    figures = [[para(label, fig_label) for label, _, _ in report.figures],
               [para(cell_text(kind, value), fig_value) for _, value, kind in report.figures]]
    if report.figures:
        ft = PdfTable(figures, colWidths=[width / len(report.figures)] * len(report.figures))
        ft.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.6, LINE), ("BACKGROUND", (0, 0), (-1, -1), HEAD),
                                ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 5)]))
        story.append(ft)
    if report.chart is not None:
        png = chart_png(report.chart, dpi=200, width=width / inch)
        img = ImageReader(io.BytesIO(png))
        w, h = img.getSize()
        shown_w = width
        shown_h = shown_w * h / w
        most = (page[1] - 2 * MARGIN) * 0.55  # a long list of groups: keep the chart on one page
        if shown_h > most:
            shown_h = most
            shown_w = shown_h * w / h
        story.extend([Spacer(1, 10), Image(io.BytesIO(png), width=shown_w, height=shown_h)])

    for t in report.tables:
        story.append(KeepTogether([para(t.title, h2), *_pdf_table(t, width, cell, cell_num, head, head_num, para,
                                                                  first_rows=True)]))
        story.extend(_pdf_table(t, width, cell, cell_num, head, head_num, para, first_rows=False))
        if t.note:
            story.append(para(t.note, note))
    story.append(Spacer(1, 8))
    story.extend(para(n, note) for n in report.notes)

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(f.regular, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, 0.35 * inch, f.clean(f"Union Hall · {report.title} · made {made}"))
        canvas.drawRightString(page[0] - MARGIN, 0.35 * inch, f"Page {doc.page}")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=page, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=0.6 * inch, title=f.clean(report.title), author="Union Hall",
                            creator="Union Hall", invariant=1)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


HEAD_ROWS = 12  # rows kept on the page of the table's heading


def _pdf_table(t: Table, width: float, cell: ParagraphStyle, cell_num: ParagraphStyle, head: ParagraphStyle,
               head_num: ParagraphStyle, para: Any, *, first_rows: bool) -> list[Any]:
    """The table in two parts: its head and first rows (kept with the heading), then
    the rest (split across pages, the column heads repeated)."""
    numeric = [c.kind in ("count", "rate") for c in t.columns]
    weights = [2.6 if c.key in WIDE else 1.0 for c in t.columns]
    widths = [width * w / sum(weights) for w in weights]
    rows = t.rows[:HEAD_ROWS] if first_rows else t.rows[HEAD_ROWS:]
    if not first_rows and not rows:
        return []
    if first_rows and not t.rows:
        return [para(t.note or "Nothing for these filters.", cell)]
    header = [para(c.label, head_num if n else head) for c, n in zip(t.columns, numeric, strict=True)]
    body = [[para(cell_text(c.kind, r.get(c.key)), cell_num if n else cell)
             for c, n in zip(t.columns, numeric, strict=True)] for r in rows]
    pt = PdfTable([header, *body], colWidths=widths, repeatRows=1)
    style = [("LINEBELOW", (0, 0), (-1, 0), 0.8, INK), ("LINEBELOW", (0, 1), (-1, -1), 0.3, LINE),
             ("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 2.5),
             ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5), ("LEFTPADDING", (0, 0), (-1, -1), 3),
             ("RIGHTPADDING", (0, 0), (-1, -1), 3)]
    style.extend(("BACKGROUND", (0, i), (-1, i), FLAG) for i, r in enumerate(rows, start=1) if r.get("flagged"))
    pt.setStyle(TableStyle(style))
    return [pt]
