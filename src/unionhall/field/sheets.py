"""Walk sheets and call sheets as PDF: the paper a canvasser or phone banker carries.

Pure rendering: frozen dataclasses in, PDF bytes out; no Django, no database. The caller
(a selector that reads a turf in walk order) builds the dataclasses; these functions only
lay them out.

Drawn straight on a ReportLab canvas rather than with platypus tables: the layout is a
fixed grid, so a small paginator here is simpler than Table's general cell model and
several times faster on a 1,000-door turf. Every person row's bubbles are identical,
so they are drawn once into a PDF form XObject and stamped per row (one `Do` operator
instead of ~20 circles), which keeps both the time and the file size close to plain text.
Text stays real text, so `pdftotext` reads names and addresses in walk order.

Layout decisions are written up in docs/field.md ("Walk and call sheets: layout decisions").
"""

from __future__ import annotations

import io
import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path

import reportlab
from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

__all__ = [
    "SheetDoor",
    "SheetHeader",
    "SheetPerson",
    "SheetQuestion",
    "SheetScript",
    "call_sheet_pdf",
    "walk_sheet_pdf",
]


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class SheetPerson:
    """One person to contact. `phone` may hold several numbers separated by , ; or /."""

    person_id: int
    name: str
    age: int | None = None
    sex: str | None = None
    party: str | None = None
    phone: str | None = None
    member_of: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class SheetDoor:
    """One door (household), already in walk order; `seq` is its number on the sheet."""

    seq: int
    address: str
    unit: str | None = None
    city_zip: str | None = None
    persons: Sequence[SheetPerson] = ()


@dataclass(frozen=True)
class SheetQuestion:
    """A survey question; `responses` are (code, label) pairs, e.g. ("1", "Strong yes")."""

    code: str
    text: str
    responses: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class SheetScript:
    """What the canvasser says: intro, questions, activist codes to tick, closing."""

    name: str
    intro: str = ""
    questions: Sequence[SheetQuestion] = ()
    activist_codes: Sequence[str] = ()
    closing: str = ""


@dataclass(frozen=True)
class SheetHeader:
    """Printed at the top of every page. `tracking` is a short id, printed on every page,
    by which returned paper is matched to this print run when results are keyed in."""

    title: str
    committee: str
    list_name: str
    turf_name: str
    canvasser: str | None
    generated_at: datetime
    tracking: str

    def __post_init__(self) -> None:
        if self.generated_at.tzinfo is None or self.generated_at.utcoffset() is None:
            raise ValueError("SheetHeader.generated_at must be timezone-aware (e.g. django.utils.timezone.now())")
        if not self.tracking.strip():
            raise ValueError("SheetHeader.tracking must not be empty: it keys returned sheets to this print run")


# --------------------------------------------------------------------------- fonts


@dataclass(frozen=True)
class _FontFamily:
    name: str
    regular: Path
    bold: Path
    italic: Path


# Where distributions put DejaVu (Debian/Ubuntu, Fedora, Arch, Alpine). Looked up by path,
# not fc-list: no subprocess per render, and the same answer in a container without fontconfig.
_SYSTEM_FONT_DIRS = (
    # Shipped with Union Hall (Bitstream Vera licence, fonts/LICENSE-DejaVu.txt), so
    # Vietnamese and other accented names print the same on every machine.
    Path(__file__).resolve().parent / "fonts",
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu-sans-fonts"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/share/fonts/dejavu"),
)
_REPORTLAB_FONTS = Path(reportlab.__file__).resolve().parent / "fonts"


def _font_candidates() -> list[_FontFamily]:
    """Font families in order of preference.

    DejaVu Sans Condensed first: it covers Vietnamese and most Latin/Cyrillic/Greek names
    and its narrow width fits long names in the name column. Bitstream Vera (which ships
    inside the reportlab package, so it is always there) next: same design, Latin-1 and
    part of Latin Extended-A; characters it lacks are transliterated (Nguyễn -> Nguyên).
    """
    out = [
        _FontFamily(
            "UH-DejaVuSansCondensed",
            d / "DejaVuSansCondensed.ttf",
            d / "DejaVuSansCondensed-Bold.ttf",
            d / "DejaVuSansCondensed-Oblique.ttf",
        )
        for d in _SYSTEM_FONT_DIRS
    ]
    out.append(_FontFamily("UH-Vera", _REPORTLAB_FONTS / "Vera.ttf", _REPORTLAB_FONTS / "VeraBd.ttf",
                           _REPORTLAB_FONTS / "VeraIt.ttf"))
    return out


# Letters with no Unicode decomposition to a base letter, spelled as people write them in ASCII.
_NO_DECOMPOSITION = {"đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae",
                     "Æ": "AE", "œ": "oe", "Œ": "OE", "\u0131": "i", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D"}
_WHITESPACE = re.compile(r"\s+")


def _fallback_char(c: str, covers: Callable[[str], bool]) -> str:
    """The closest spelling of `c` the font can draw: `c` itself, `c` with fewer accents
    (ễ -> ê: keep as many marks as the font has a precomposed glyph for), a plain-ASCII
    spelling, or '?'. Never a tofu box."""
    if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn"):
        return ""  # control / zero-width / unassigned: nothing to draw
    if covers(c):
        return c
    decomposed = unicodedata.normalize("NFD", c)
    base, marks = decomposed[0], decomposed[1:]
    for keep in range(len(marks) - 1, -1, -1):
        for combo in itertools.combinations(marks, keep):
            cand = unicodedata.normalize("NFC", base + "".join(combo))
            if len(cand) == 1 and covers(cand):
                return cand
    for cand in (_NO_DECOMPOSITION.get(c, ""), unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode()):
        if cand and all(covers(x) for x in cand):
            return cand
    return "?"


@dataclass
class _Fonts:
    """The family in use and a text cleaner matched to its glyph coverage."""

    family: str
    regular: str
    bold: str
    italic: str
    covers: Callable[[str], bool]
    _memo: dict[str, str] = field(default_factory=dict)

    def clean(self, text: str | None) -> str:
        """One line of drawable text: whitespace collapsed, undrawable characters replaced."""
        if not text:
            return ""
        t = _WHITESPACE.sub(" ", text).strip()
        if t.isascii() and t.isprintable():  # the common case, and every font has ASCII
            return t
        out = []
        for ch in t:
            got = self._memo.get(ch)
            if got is None:
                got = self._memo[ch] = _fallback_char(ch, self.covers)
            out.append(got)
        return "".join(out)


def _cp1252(c: str) -> bool:
    # ReportLab's standard Type 1 fonts use WinAnsiEncoding (cp1252).
    try:
        c.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _in_cmap(cmap: set[int]) -> Callable[[str], bool]:
    def covers(c: str) -> bool:
        return ord(c) in cmap

    return covers


_FONTS_CACHE: dict[tuple[_FontFamily, ...], _Fonts] = {}


def _fonts() -> _Fonts:
    """The first candidate family whose three faces load, else Helvetica (always present)."""
    candidates = tuple(_font_candidates())
    cached = _FONTS_CACHE.get(candidates)
    if cached is not None:
        return cached
    chosen: _Fonts | None = None
    registered = set(pdfmetrics.getRegisteredFontNames())
    for fam in candidates:
        if not (fam.regular.is_file() and fam.bold.is_file() and fam.italic.is_file()):
            continue
        names = (fam.name, f"{fam.name}-Bold", f"{fam.name}-Italic")
        try:
            for name, path in zip(names, (fam.regular, fam.bold, fam.italic), strict=True):
                if name not in registered:
                    pdfmetrics.registerFont(TTFont(name, str(path)))
        except (TTFError, OSError):
            continue  # a damaged or unreadable font file: try the next family
        faces = [pdfmetrics.getFont(n).face for n in names]
        # Only characters every face has: a name must look the same in bold and regular.
        cmap = set.intersection(*(set(f.charToGlyph) for f in faces))
        chosen = _Fonts(fam.name, *names, covers=_in_cmap(cmap))
        break
    if chosen is None:
        chosen = _Fonts("Helvetica", "Helvetica", "Helvetica-Bold", "Helvetica-Oblique", covers=_cp1252)
    _FONTS_CACHE[candidates] = chosen
    return chosen


_ELLIPSIS = "…"  # in every font used here (and in cp1252)


def _fit(text: str, font: str, size: float, width: float) -> str:
    """`text` if it fits in `width`, else the longest prefix that fits with an ellipsis."""
    sw = pdfmetrics.stringWidth
    if sw(text, font, size) <= width:
        return text
    room = width - sw(_ELLIPSIS, font, size)
    if room <= 0:
        return ""
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix that fits: binary search, stringWidth is the cost
        mid = (lo + hi + 1) // 2
        if sw(text[:mid], font, size) <= room:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + _ELLIPSIS


def _shrink(text: str, font: str, size: float, width: float, smallest: float) -> tuple[str, float]:
    """A column head: shrink the type down to `smallest` before cutting it (a cut code is unreadable)."""
    s = size
    while s > smallest and pdfmetrics.stringWidth(text, font, s) > width:
        s -= 0.5
    return _fit(text, font, s, width), s


# --------------------------------------------------------------------------- page geometry

_PAGE_W, _PAGE_H = letter
_MARGIN = 30.0  # 0.42 in: inside every office printer's unprintable edge
_LEFT, _RIGHT = _MARGIN, _PAGE_W - _MARGIN
_BODY_W = _RIGHT - _LEFT
_HEADER_H = 50.0
_FOOTER_H = 26.0
_BODY_TOP = _PAGE_H - _MARGIN - _HEADER_H
_BODY_BOTTOM = _MARGIN + _FOOTER_H

_ROW_H = 14.0  # one person line: room for an 8 pt bubble a pencil can fill
_DOOR_H = 13.0
_BUILDING_H = 14.0
_NOTE_H = 9.0
_BAND_HEAD_H = 19.0  # group label line + code line over the bubbles
_GROUP_GAP = 6.0
_BUBBLE_WIDTHS = (13.5, 13.0, 12.5, 12.0, 11.5, 11.0)  # tried widest first until one band fits

# Text columns of a walk-sheet person row (points).
_ID_W = 34.0
_NAME_MIN = 92.0  # ~20 characters at 8.5 pt
_NAME_GOOD = 134.0  # ~30 characters: most full names
_AGE_W = 30.0
_PARTY_W = 26.0
_UNION_W = 58.0

_INK = 0.0
_GREY_TEXT = 0.35
_BUBBLE_INK = 0.25


Draw = Callable[[Canvas, float], None]


@dataclass
class _Row:
    """Something drawn across the body: `draw(canvas, top_y)` paints it below top_y."""

    height: float
    draw: Draw


class _Flow:
    """Stacks rows down pages. Blocks stay together when they fit on a page; a block that
    has to split repeats its continuation rows (e.g. the door line) at the top of the next
    page, and `context` rows (the building heading) open every new page while set."""

    def __init__(self) -> None:
        self.pages: list[list[tuple[float, _Row]]] = []
        self.table_head: list[_Row] = []  # column heads, repeated on every page once the table starts
        self.context: list[_Row] = []
        self._y = 0.0
        self._fresh = True
        self.new_page()

    @property
    def remaining(self) -> float:
        return self._y - _BODY_BOTTOM

    def new_page(self) -> None:
        self.pages.append([])
        self._y = _BODY_TOP
        for row in self.table_head + self.context:
            self._put(row)
        self._fresh = True

    def _put(self, row: _Row) -> None:
        self.pages[-1].append((self._y, row))
        self._y -= row.height

    def add(self, rows: Sequence[_Row], cont: Sequence[_Row] = ()) -> None:
        """Place `rows` together if they fit (moving to a new page if needed), else split."""
        if not rows:
            return
        total = sum(r.height for r in rows)
        full_page = _BODY_TOP - _BODY_BOTTOM - sum(r.height for r in self.table_head + self.context)
        if total > full_page:
            # It will split wherever it starts: start here if its first two rows fit (a door
            # and its first person), rather than leave the rest of this page empty.
            if sum(r.height for r in rows[:2]) > self.remaining and not self._fresh:
                self.new_page()
        elif total > self.remaining and not self._fresh:
            self.new_page()
        for i, row in enumerate(rows):
            if row.height > self.remaining and not self._fresh:
                self.new_page()
                if i:
                    for c in cont:
                        self._put(c)
            self._put(row)
            self._fresh = False

    def start_table(self, head: list[_Row]) -> None:
        """Column heads from here on; they also go at the top of this page if rows follow."""
        self.table_head = head
        need = sum(r.height for r in head) + _DOOR_H + _ROW_H
        if need > self.remaining:
            self.new_page()  # puts the heads
        else:
            for row in head:
                self._put(row)


# --------------------------------------------------------------------------- shared drawing


def _text(c: Canvas, x: float, y: float, s: str, font: str, size: float, gray: float = _INK) -> None:
    c.setFillGray(gray)
    c.setFont(font, size)
    c.drawString(x, y, s)


def _fmt_phone(raw: str) -> str:
    """US numbers in E.164 (how ingest stores them) read as (919) 555-0123; others as given."""
    digits = re.sub(r"\D", "", raw)
    if raw.strip().startswith("+1") and len(digits) == 11:
        return f"({digits[1:4]}) {digits[4:7]}-{digits[7:]}"
    if len(digits) == 10 and not raw.strip().startswith("+"):
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return raw.strip()


def _phones(raw: str | None) -> list[str]:
    if not raw:
        return []
    return [_fmt_phone(p) for p in re.split(r"[;,/]", raw) if p.strip()]


def _when(dt: datetime) -> str:
    # Built by hand: %-d is not portable, and the zone name (EDT) is what a canvasser knows.
    zone = dt.strftime("%Z") or dt.strftime("%z")
    return f"{dt:%b} {dt.day}, {dt.year} {dt:%H:%M} {zone}".rstrip()


@dataclass(frozen=True)
class _Legend:
    """Codes as printed: column heads (short) with the labels the legend explains."""

    results: list[tuple[str, str]]
    questions: list[tuple[str, str, list[tuple[str, str]]]]  # code, text, responses
    activist: list[tuple[str, str]]  # head, full name ("" when the head is the name)


class _Sheet:
    """What walk and call sheets share: fonts, page header and footer, the script block."""

    def __init__(self, header: SheetHeader, script: SheetScript, result_codes: Sequence[tuple[str, str]],
                 kind: str) -> None:
        self.f = _fonts()
        cl = self.f.clean
        self.header = header
        self.kind = kind
        self.title = cl(header.title) or kind
        self.committee = cl(header.committee)
        self.list_name = cl(header.list_name)
        self.turf = cl(header.turf_name)
        self.canvasser = cl(header.canvasser)
        self.tracking = _fonts_tracking(header.tracking)
        self.when = cl(_when(header.generated_at))
        self.script = script
        activist = []
        for i, name in enumerate(script.activist_codes, start=1):
            full = cl(name)
            # A short code is its own head; a long name gets A1, A2… and the legend spells it out.
            head = full if len(full) <= 3 and " " not in full else f"A{i}"
            activist.append((head, "" if head == full else full))
        self.legend = _Legend(
            results=[(cl(k), cl(v)) for k, v in result_codes],
            questions=[(cl(q.code), cl(q.text), [(cl(k), cl(v)) for k, v in q.responses])
                       for q in script.questions],
            activist=activist,
        )
        self.footer_legend = ""

    # --- page furniture

    def draw_page(self, c: Canvas, n: int, m: int) -> None:
        f = self.f
        top = _PAGE_H - _MARGIN
        # Tracking box, top right: the first thing whoever keys results in looks for.
        bw, bh = 118.0, 34.0
        c.setStrokeGray(0.0)
        c.setLineWidth(1.0)
        c.rect(_RIGHT - bw, top - bh, bw, bh, stroke=1, fill=0)
        _text(c, _RIGHT - bw + 5, top - 9, "TRACKING", f.bold, 6.0, _GREY_TEXT)
        tid, size = _shrink(self.tracking, "Courier-Bold", 14.0, bw - 10, 8.0)
        _text(c, _RIGHT - bw + 5, top - 26, tid, "Courier-Bold", size)
        width = _BODY_W - bw - 10
        _text(c, _LEFT, top - 12, _fit(self.title, f.bold, 13.0, width), f.bold, 13.0)
        line2 = " · ".join(s for s in (self.committee, self.list_name) if s)
        _text(c, _LEFT, top - 25, _fit(line2, f.regular, 8.5, width), f.regular, 8.5)
        who = self.canvasser or "_______________________"
        _text(c, _LEFT, top - 37, "Turf:", f.bold, 8.0)
        tx = _LEFT + pdfmetrics.stringWidth("Turf: ", f.bold, 8.0)
        turf = _fit(self.turf, f.regular, 8.0, width * 0.42)
        _text(c, tx, top - 37, turf, f.regular, 8.0)
        tx += max(pdfmetrics.stringWidth(turf, f.regular, 8.0) + 12, 60)
        label = "Canvasser:" if self.kind == "Walk sheet" else "Caller:"
        _text(c, tx, top - 37, label, f.bold, 8.0)
        tx += pdfmetrics.stringWidth(label + " ", f.bold, 8.0)
        who = _fit(who, f.regular, 8.0, max(_LEFT + width - tx - 110, 40))
        _text(c, tx, top - 37, who, f.regular, 8.0)
        c.setFillGray(_GREY_TEXT)
        c.setFont(f.regular, 7.0)
        c.drawRightString(_LEFT + width, top - 37, f"Printed {self.when}")
        c.setLineWidth(0.8)
        c.line(_LEFT, _BODY_TOP + 6, _RIGHT, _BODY_TOP + 6)
        # Footer: the code legend for a canvasser who has flipped past page 1, then the ids.
        fy = _MARGIN
        c.setLineWidth(0.5)
        c.line(_LEFT, fy + _FOOTER_H - 8, _RIGHT, fy + _FOOTER_H - 8)
        if self.footer_legend:
            _text(c, _LEFT, fy + 9, _fit(self.footer_legend, f.regular, 6.5, _BODY_W), f.regular, 6.5, _GREY_TEXT)
        third = _BODY_W / 3 - 8  # three slots that cannot run into each other
        _text(c, _LEFT, fy, _fit(f"Tracking {self.tracking}", "Courier-Bold", 8.0, third), "Courier-Bold", 8.0)
        c.setFont(f.regular, 7.0)
        c.setFillGray(_GREY_TEXT)
        c.drawCentredString(_LEFT + _BODY_W / 2, fy, _fit(f"{self.kind} · {self.turf}", f.regular, 7.0, third))
        c.setFillGray(_INK)
        c.setFont(f.bold, 8.0)
        c.drawRightString(_RIGHT, fy, f"Page {n} of {m}")

    # --- the script block (page 1)

    def _para(self, label: str, text: str, label_w: float, size: float = 8.5,
              font: str | None = None) -> list[_Row]:
        """A paragraph with a bold label in a hanging column."""
        f = self.f
        font = font or f.regular
        width = _BODY_W - label_w
        lines = simpleSplit(text, font, size, width) if text else []
        lead = size + 2.5
        rows: list[_Row] = []
        for i, line in enumerate(lines or [""]):
            lab = label if i == 0 else ""
            rows.append(_Row(lead, partial(self._draw_para_line, lab=lab, line=_fit(line, font, size, width),
                                           label_w=label_w, size=size, font=font)))
        return rows

    def _draw_para_line(self, c: Canvas, y: float, *, lab: str, line: str, label_w: float, size: float,
                        font: str) -> None:
        if lab:
            _text(c, _LEFT, y - size, _fit(lab, self.f.bold, size, label_w - 4), self.f.bold, size)
        if line:
            _text(c, _LEFT + label_w, y - size, line, font, size)

    def _items(self, label: str, items: Sequence[tuple[str, str]], label_w: float, size: float = 8.0,
               mark: str = "") -> list[_Row]:
        """`code label` pairs flowed across lines after a bold label; mark draws a bubble or box."""
        f = self.f
        width = _BODY_W - label_w
        mark_w = size + 2 if mark else 0.0
        placed: list[list[tuple[float, str, str]]] = [[]]
        x = 0.0
        for code, text in items:
            text = _fit(text, f.regular, size, 150)
            w = mark_w + pdfmetrics.stringWidth(code, f.bold, size) + 3 + pdfmetrics.stringWidth(text, f.regular, size)
            if x and x + w > width:
                placed.append([])
                x = 0.0
            placed[-1].append((x, code, text))
            x += w + 11
        lead = size + 4.5
        return [_Row(lead, partial(self._draw_items_line, lab=label if i == 0 else "", line=line,
                                   label_w=label_w, size=size, mark=mark))
                for i, line in enumerate(placed)]

    def _draw_items_line(self, c: Canvas, y: float, *, lab: str, line: list[tuple[float, str, str]],
                         label_w: float, size: float, mark: str) -> None:
        f = self.f
        base = y - size - 1
        if lab:
            _text(c, _LEFT, base, _fit(lab, f.bold, size, label_w - 4), f.bold, size)
        c.setLineWidth(0.6)
        c.setStrokeGray(_BUBBLE_INK)
        for x, code, text in line:
            x += _LEFT + label_w
            if mark:
                _mark(c, x + size / 2, base + size * 0.35, size * 0.42, mark)
                x += size + 2
            _text(c, x, base, code, f.bold, size)
            x += pdfmetrics.stringWidth(code, f.bold, size) + 3
            _text(c, x, base, text, f.regular, size)

    def _gap(self, h: float) -> _Row:
        return _Row(h, lambda c, y: None)

    def script_blocks(self, how_to: str) -> list[list[_Row]]:
        """The script, codes and marking instructions, as blocks kept together."""
        s, lg, f = self.script, self.legend, self.f
        cl = f.clean
        blocks: list[list[_Row]] = []
        name = cl(s.name)
        blocks.append([_Row(15, partial(self._draw_heading, text=f"Script: {name}" if name else "Script"))])
        if cl(s.intro):
            blocks.append([*self._para("Intro", cl(s.intro), 50), self._gap(3)])
        for code, text, responses in lg.questions:
            rows = self._para(code, text, 50, font=f.bold)
            if responses:
                rows += self._items("", responses, 50, mark="o")
            blocks.append([*rows, self._gap(2)])
        if lg.activist:
            blocks.append([*self._items("Activist", lg.activist, 50, mark="box"), self._gap(2)])
        if cl(s.closing):
            blocks.append([*self._para("Closing", cl(s.closing), 50), self._gap(3)])
        if lg.results:
            blocks.append(self._items("Results", lg.results, 50, mark="o"))
        blocks.append([*self._para("", how_to, 50, size=7.5, font=f.italic), self._gap(8)])
        return blocks

    def _draw_heading(self, c: Canvas, y: float, *, text: str) -> None:
        _text(c, _LEFT, y - 11, _fit(text, self.f.bold, 11.0, _BODY_W), self.f.bold, 11.0)

    def _draw_message(self, c: Canvas, y: float, *, text: str) -> None:
        c.setFillGray(0.93)
        c.rect(_LEFT, y - 26, _BODY_W, 24, stroke=0, fill=1)
        _text(c, _LEFT + 8, y - 18, text, self.f.bold, 11.0)

    def render(self, flow: _Flow) -> bytes:
        buf = io.BytesIO()
        # invariant: no timestamp or random id in the file, so the same input gives the same bytes.
        c = Canvas(buf, pagesize=letter, pageCompression=1, invariant=1)
        # ...and the file's creation date is when the list was generated, not ReportLab's 2000-01-01.
        c.setDateFormatter(partial(_pdf_date, self.header.generated_at))
        c.setTitle(f"{self.title} · {self.turf}")
        c.setAuthor(self.committee)
        c.setSubject(f"{self.kind} {self.tracking}")
        c.setCreator("Union Hall")
        self.define_forms(c)
        m = len(flow.pages)
        for n, page in enumerate(flow.pages, start=1):
            self.draw_page(c, n, m)
            for y, row in page:
                row.draw(c, y)
            c.showPage()
        c.save()
        return buf.getvalue()

    def define_forms(self, c: Canvas) -> None:
        """Form XObjects a sheet stamps on every row (none by default)."""


def _pdf_date(dt: datetime, *_ymdhms: int) -> str:
    off = dt.utcoffset()
    minutes = int(off.total_seconds() // 60) if off is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"D:{dt:%Y%m%d%H%M%S}{sign}{abs(minutes) // 60:02d}'{abs(minutes) % 60:02d}'"


def _fonts_tracking(tracking: str) -> str:
    # Courier (Type 1, cp1252) prints the tracking id: fixed width keeps 0/O and 1/l apart.
    t = _WHITESPACE.sub(" ", tracking).strip()
    return "".join(ch if _cp1252(ch) else _fallback_char(ch, _cp1252) for ch in t)


def _cells(c: Canvas, cells: Sequence[tuple[float, float, str, str, float, float]]) -> None:
    """Strings (x, y, text, font, size, gray) in one text object, setting font and colour
    only when they change: a person row costs one BT/ET instead of five (the walk sheet's
    time is mostly ReportLab formatting operators)."""
    t = c.beginText()
    font, size, gray = "", -1.0, -1.0
    for x, y, text, fn, sz, g in cells:
        if not text:
            continue
        if g != gray:
            t.setFillGray(g)
            gray = g
        if fn != font or sz != size:
            t.setFont(fn, sz)
            font, size = fn, sz
        t.setTextOrigin(x, y)
        t.textOut(text)
    c.drawText(t)


def _mark(c: Canvas, x: float, y: float, r: float, mark: str) -> None:
    if mark == "box":
        c.rect(x - r, y - r, 2 * r, 2 * r, stroke=1, fill=0)
    else:
        c.circle(x, y, r, stroke=1, fill=0)


# --------------------------------------------------------------------------- walk sheet


@dataclass(frozen=True)
class _Col:
    x: float  # centre
    band: int
    head: str
    mark: str  # "o" bubble, "box" checkbox


@dataclass(frozen=True)
class _GroupHead:
    label: str
    x0: float
    x1: float
    band: int


def _bubble_layout(groups: Sequence[tuple[str, Sequence[str], str]], text_min: float
                   ) -> tuple[list[_Col], list[_GroupHead], int, float, float]:
    """Place bubble columns: (columns, group heads, bands, bubble width, left edge of band 0).

    All groups on the person's line if they fit at some bubble width; otherwise they flow
    onto extra lines ("bands") under the person, whole groups where possible."""
    if not groups:
        return [], [], 1, _BUBBLE_WIDTHS[0], _RIGHT
    best = None
    # Widest bubbles that leave the name a comfortable column; else that leave it the
    # minimum; else more than one line of bubbles per person.
    for name_room in (_NAME_GOOD - _NAME_MIN, 0.0):
        caps = (_BODY_W - text_min - name_room, _BODY_W - _ID_W)
        for bw in _BUBBLE_WIDTHS:
            placed = _place_groups(groups, bw, caps)
            if placed[2] == 1:
                best = (*placed, bw)
                break
        if best is not None:
            break
    caps = (_BODY_W - text_min, _BODY_W - _ID_W)
    if best is None:
        best = (*_place_groups(groups, 12.0, caps), 12.0)
    rel_cols, rel_heads, bands, used, bw = best
    # Right-align each band: the bubbles line up at the right edge, the name gets the slack.
    shift = [_RIGHT - u for u in used]
    cols = [_Col(x + shift[b], b, h, m) for x, b, h, m in rel_cols]
    heads = [_GroupHead(lab, x0 + shift[b], x1 + shift[b], b) for lab, x0, x1, b in rel_heads]
    return cols, heads, bands, bw, shift[0]


def _place_groups(groups: Sequence[tuple[str, Sequence[str], str]], bw: float, caps: tuple[float, float]
                  ) -> tuple[list[tuple[float, int, str, str]], list[tuple[str, float, float, int]], int, list[float]]:
    cols: list[tuple[float, int, str, str]] = []
    heads: list[tuple[str, float, float, int]] = []
    band, x = 0, 0.0
    used = [0.0]

    def cap() -> float:
        return caps[0] if band == 0 else caps[1]

    for label, codes, mark in groups:
        sep = _GROUP_GAP if x else 0.0
        if x and x + sep + len(codes) * bw > cap():
            band, x, sep = band + 1, 0.0, 0.0
            used.append(0.0)
        x += sep
        start = x
        for code in codes:
            if x + bw > cap() and x > start:  # a group wider than a whole line: continue it below
                heads.append((label, start, x, band))
                band, x, start = band + 1, 0.0, 0.0
                used.append(0.0)
            cols.append((x + bw / 2, band, code, mark))
            x += bw
        heads.append((label, start, x, band))
        used[band] = x
    return cols, heads, band + 1, used


class _WalkSheet(_Sheet):
    def __init__(self, header: SheetHeader, script: SheetScript, result_codes: Sequence[tuple[str, str]],
                 doors: Sequence[SheetDoor]) -> None:
        super().__init__(header, script, result_codes, "Walk sheet")
        lg = self.legend
        persons = [p for d in doors for p in d.persons]
        # Columns nobody on this turf has a value for are dropped: the name gets the room.
        self.show_age = any(p.age is not None or p.sex for p in persons)
        self.show_party = any(p.party for p in persons)
        self.show_union = any(p.member_of for p in persons)
        fixed = (_AGE_W if self.show_age else 0) + (_PARTY_W if self.show_party else 0) + \
            (_UNION_W if self.show_union else 0)
        groups: list[tuple[str, Sequence[str], str]] = []
        if lg.results:
            groups.append(("Result", [k for k, _ in lg.results], "o"))
        groups += [(code, [k for k, _ in responses], "o") for code, _, responses in lg.questions if responses]
        if lg.activist:
            groups.append(("Activist", [h for h, _ in lg.activist], "box"))
        self.cols, self.heads, self.bands, self.bw, band0 = _bubble_layout(groups, _ID_W + _NAME_MIN + fixed + 6)
        self.x_name = _LEFT + _ID_W
        right = band0 - 6
        self.x_union = right - (_UNION_W if self.show_union else 0)
        self.x_party = self.x_union - (_PARTY_W if self.show_party else 0)
        self.x_age = self.x_party - (_AGE_W if self.show_age else 0)
        self.name_w = self.x_age - self.x_name - 4
        self.person_h = _ROW_H * self.bands
        self.footer_legend = "   ".join(
            (" · ".join(f"{k} {v}" for k, v in lg.results),
             " · ".join(f"{h} {n}" for h, n in lg.activist if n))
        ).strip(" ·")
        self.doors = doors

    def define_forms(self, c: Canvas) -> None:
        if not self.cols:
            return
        # Bubbles for one person row, drawn once; every row stamps it. Coordinates: row
        # bottom at y=0, band 0 on top.
        c.beginForm("uh_bubbles", 0, 0, _PAGE_W, self.person_h)
        c.setLineWidth(0.6)
        c.setStrokeGray(_BUBBLE_INK)
        r = min(4.0, self.bw * 0.3)
        for col in self.cols:
            cy = self.person_h - col.band * _ROW_H - _ROW_H / 2
            _mark(c, col.x, cy, r * (0.9 if col.mark == "box" else 1.0), col.mark)
        c.endForm()

    def build(self) -> _Flow:
        flow = _Flow()
        how_to = ("For each person, fill one circle: a Result if you did not talk with them; otherwise "
                  "their answer to each question. Tick the activist boxes that apply. Write corrections "
                  "beside the name.")
        for block in self.script_blocks(how_to):
            flow.add(block)
        if not self.doors:
            flow.add([_Row(30, partial(self._draw_message, text="No doors in this turf."))])
            return flow
        head = [_Row(_BAND_HEAD_H * self.bands + 2, self._draw_table_head)]
        flow.start_table(head)
        for building in _buildings(self.doors):
            if len(building) == 1:
                door = building[0]
                flow.add(self._household(door, self._door_row(door, in_building=False)),
                         cont=[self._door_row(door, in_building=False, cont=True)])
                continue
            first = building[0]
            heading = self._building_row(first, len(building), cont=False)
            for i, door in enumerate(building):
                rows = self._household(door, self._door_row(door, in_building=True))
                flow.add([heading, *rows] if i == 0 else rows,
                         cont=[self._door_row(door, in_building=True, cont=True)])
                # The building heading opens each later page of the building.
                flow.context = [self._building_row(first, len(building), cont=True)]
            flow.context = []
        return flow

    # --- rows

    def _household(self, door: SheetDoor, door_row: _Row) -> list[_Row]:
        rows = [door_row]
        for p in door.persons:
            note = self.f.clean(p.notes)
            rows.append(_Row(self.person_h + (_NOTE_H if note else 0), partial(self._draw_person, p=p, note=note)))
        return rows

    def _door_row(self, door: SheetDoor, *, in_building: bool, cont: bool = False) -> _Row:
        return _Row(_DOOR_H, partial(self._draw_door, door=door, in_building=in_building, cont=cont))

    def _building_row(self, door: SheetDoor, units: int, *, cont: bool) -> _Row:
        return _Row(_BUILDING_H, partial(self._draw_building, door=door, units=units, cont=cont))

    def _draw_table_head(self, c: Canvas, y: float) -> None:
        f = self.f
        code_y = y - _BAND_HEAD_H + 4
        for label, x, show in (("ID", _LEFT, True), ("Name", self.x_name, True), ("Age/Sex", self.x_age, self.show_age),
                               ("Party", self.x_party, self.show_party), ("Union", self.x_union, self.show_union)):
            if show:
                _text(c, x, code_y, label, f.bold, 6.5, _GREY_TEXT)
        c.setLineWidth(0.5)
        c.setStrokeGray(0.3)
        for g in self.heads:
            gy = y - g.band * _BAND_HEAD_H
            lab, size = _shrink(g.label, f.bold, 7.0, g.x1 - g.x0, 5.0)
            c.setFillGray(_INK)
            c.setFont(f.bold, size)
            c.drawCentredString((g.x0 + g.x1) / 2, gy - 7, lab)
            c.line(g.x0 + 1, gy - 9.5, g.x1 - 1, gy - 9.5)  # bracket: which codes belong to the group
        for col in self.cols:
            head, size = _shrink(col.head, f.bold, 6.0, self.bw - 1.5, 4.5)
            c.setFont(f.bold, size)
            c.drawCentredString(col.x, y - col.band * _BAND_HEAD_H - _BAND_HEAD_H + 4, head)
        c.setLineWidth(0.8)
        c.setStrokeGray(0.0)
        c.line(_LEFT, y - self.bands * _BAND_HEAD_H - 1, _RIGHT, y - self.bands * _BAND_HEAD_H - 1)

    def _draw_building(self, c: Canvas, y: float, *, door: SheetDoor, units: int, cont: bool) -> None:
        f = self.f
        c.setFillGray(0.80)
        c.rect(_LEFT, y - _BUILDING_H, _BODY_W, _BUILDING_H, stroke=0, fill=1)
        base = y - _BUILDING_H + 4
        right_text = f"Building · {units} units on this list" + (" (continued)" if cont else "")
        c.setFillGray(_INK)
        c.setFont(f.regular, 7.0)
        c.drawRightString(_RIGHT - 4, base, right_text)
        room = _BODY_W - 12 - pdfmetrics.stringWidth(right_text, f.regular, 7.0) - 12
        addr = _fit(f.clean(door.address), f.bold, 9.0, room)
        _text(c, _LEFT + 4, base, addr, f.bold, 9.0)
        cz = f.clean(door.city_zip)
        if cz:
            x = _LEFT + 4 + pdfmetrics.stringWidth(addr, f.bold, 9.0) + 8
            _text(c, x, base, _fit(cz, f.regular, 7.5, room - (x - _LEFT - 4)), f.regular, 7.5)

    def _draw_door(self, c: Canvas, y: float, *, door: SheetDoor, in_building: bool, cont: bool) -> None:
        f = self.f
        c.setFillGray(0.93 if in_building else 0.88)
        c.rect(_LEFT, y - _DOOR_H, _BODY_W, _DOOR_H, stroke=0, fill=1)
        if not in_building:  # households separated by a firm rule; units in a building by the shading
            c.setLineWidth(0.9)
            c.setStrokeGray(0.0)
            c.line(_LEFT, y, _RIGHT, y)
        base = y - _DOOR_H + 3.5
        _text(c, _LEFT + 3, base, _fit(str(door.seq), f.bold, 8.5, _ID_W - 5), f.bold, 8.5)
        suffix = " (continued)" if cont else ""
        cz = "" if in_building else f.clean(door.city_zip)
        cz_w = 0.0
        if cz:
            cz = _fit(cz, f.regular, 7.0, 150)
            cz_w = pdfmetrics.stringWidth(cz, f.regular, 7.0) + 10
            c.setFillGray(_GREY_TEXT)
            c.setFont(f.regular, 7.0)
            c.drawRightString(_RIGHT - 4, base, cz)
        unit = f.clean(door.unit)
        if in_building:
            x = self.x_name + 8  # units indented under the building's address
            text = unit or f.clean(door.address)
            _text(c, x, base, _fit(text + suffix, f.bold, 8.5, _RIGHT - x - 4), f.bold, 8.5)
            return
        room = _RIGHT - self.x_name - cz_w - 4
        addr = f.clean(door.address)
        if unit:
            unit_s = _fit(unit, f.bold, 8.5, room * 0.35)
            unit_w = pdfmetrics.stringWidth(unit_s, f.bold, 8.5) + 8
            addr = _fit(addr, f.bold, 8.5, room - unit_w)
            _text(c, self.x_name, base, addr, f.bold, 8.5)
            ux = self.x_name + pdfmetrics.stringWidth(addr, f.bold, 8.5) + 8
            _text(c, ux, base, _fit(unit_s + suffix, f.bold, 8.5, _RIGHT - cz_w - ux - 4), f.bold, 8.5)
        else:
            _text(c, self.x_name, base, _fit(addr + suffix, f.bold, 8.5, room), f.bold, 8.5)

    def _draw_person(self, c: Canvas, y: float, *, p: SheetPerson, note: str) -> None:
        f = self.f
        base = y - _ROW_H + 4
        cells = [(_LEFT + 3, base, _fit(str(p.person_id), f.regular, 6.5, _ID_W - 5), f.regular, 6.5, _GREY_TEXT),
                 (self.x_name, base, _fit(f.clean(p.name), f.regular, 8.5, self.name_w), f.regular, 8.5, _INK)]
        if self.show_age:
            age = " ".join(s for s in (str(p.age) if p.age is not None else "", f.clean(p.sex)) if s)
            cells.append((self.x_age, base, _fit(age, f.regular, 7.5, _AGE_W - 3), f.regular, 7.5, _INK))
        if self.show_party and p.party:
            cells.append((self.x_party, base, _fit(f.clean(p.party), f.regular, 7.5, _PARTY_W - 3), f.regular, 7.5,
                          _INK))
        if self.show_union and p.member_of:
            cells.append((self.x_union, base, _fit(f.clean(p.member_of), f.regular, 7.0, _UNION_W - 3), f.regular,
                          7.0, _INK))
        bottom = y - self.person_h
        if note:
            bottom -= _NOTE_H
            cells.append((self.x_name, bottom + 2.5, _fit(f"Note: {note}", f.italic, 7.0, _RIGHT - self.x_name),
                          f.italic, 7.0, _GREY_TEXT))
        _cells(c, cells)
        if self.cols:
            c.saveState()
            c.translate(0, y - self.person_h)
            c.doForm("uh_bubbles")
            c.restoreState()
        c.setLineWidth(0.3)
        c.setStrokeGray(0.75)
        c.line(self.x_name, bottom, _RIGHT, bottom)


def _buildings(doors: Sequence[SheetDoor]) -> list[list[SheetDoor]]:
    """Consecutive doors at the same street address, each with a unit, are one building."""
    def key(d: SheetDoor) -> tuple[str, str] | None:
        if not (d.unit and d.unit.strip()):
            return None
        return (_WHITESPACE.sub(" ", d.address).strip().casefold(),
                _WHITESPACE.sub(" ", d.city_zip or "").strip().casefold())

    out: list[list[SheetDoor]] = []
    last: tuple[str, str] | None = None
    for d in doors:
        k = key(d)
        if k is not None and k == last:
            out[-1].append(d)
        else:
            out.append([d])
        last = k
    return out


def walk_sheet_pdf(*, header: SheetHeader, script: SheetScript, result_codes: Sequence[tuple[str, str]],
                   doors: Sequence[SheetDoor]) -> bytes:
    """A walk packet for one turf as PDF bytes (US Letter, portrait).

    Page 1 opens with the script (intro, each question with its responses, activist codes,
    closing) and the code legend; then the doors in the order given (walk order), each a
    shaded door line with the people under it. Each person line has one bubble per result
    code and per response of each question, and a box per activist code, under column
    heads repeated on every page. Consecutive doors at one street address with units print
    the address once as a building heading with the units below. Every page carries the
    header, "Page N of M" and the tracking id. Text too long for its cell ends in "…".
    """
    sheet = _WalkSheet(header, script, result_codes, doors)
    return sheet.render(sheet.build())


# --------------------------------------------------------------------------- call sheet

_CALL_LABEL_W = 150.0


class _CallSheet(_Sheet):
    def __init__(self, header: SheetHeader, script: SheetScript, result_codes: Sequence[tuple[str, str]],
                 persons: Sequence[SheetPerson]) -> None:
        super().__init__(header, script, result_codes, "Call sheet")
        self.persons = persons
        self.footer_legend = " · ".join(f"{k} {v}" for k, v in self.legend.results)
        lg, f = self.legend, self.f
        # The response lines are the same for everyone: built once, drawn as one form per person.
        lines: list[_Row] = []
        if lg.results:
            lines += self._items("Result", lg.results, _CALL_LABEL_W, size=7.5, mark="o")
        for code, text, responses in lg.questions:
            if responses:
                label = _fit(f"{code}  {text}", f.bold, 7.5, _CALL_LABEL_W - 6)
                lines += self._items(label, responses, _CALL_LABEL_W, size=7.5, mark="o")
        if lg.activist:
            lines += self._items("Activist", lg.activist, _CALL_LABEL_W, size=7.5, mark="box")
        self.form_rows = lines
        self.form_h = sum(r.height for r in lines)

    def define_forms(self, c: Canvas) -> None:
        if not self.form_rows:
            return
        c.beginForm("uh_call_bubbles", 0, 0, _PAGE_W, self.form_h)
        y = self.form_h
        for row in self.form_rows:
            row.draw(c, y)
            y -= row.height
        c.endForm()

    def build(self) -> _Flow:
        flow = _Flow()
        how_to = ("For each call, fill one Result circle if you did not talk with the person; otherwise "
                  "their answer to each question. Tick the activist boxes that apply. Write a new number "
                  "or correction beside the name.")
        for block in self.script_blocks(how_to):
            flow.add(block)
        if not self.persons:
            flow.add([_Row(30, partial(self._draw_message, text="No people on this call list."))])
            return flow
        for p in self.persons:
            flow.add(self._block(p))
        return flow

    def _block(self, p: SheetPerson) -> list[_Row]:
        f = self.f
        phones = [f.clean(x) for x in _phones(p.phone)]
        note = f.clean(p.notes)
        details = " · ".join(s for s in (
            str(p.age) if p.age is not None else "", f.clean(p.sex), f.clean(p.party),
            f"Member: {f.clean(p.member_of)}" if p.member_of else "") if s)
        rows = [_Row(18, partial(self._draw_name, p=p, phones=phones[:2]))]
        if len(phones) > 2:  # the first two share the name line; more get a line of their own
            rows.append(_Row(14, partial(self._draw_more_phones, phones=phones[2:])))
        if details or note:
            rows.append(_Row(11, partial(self._draw_details, details=details, note=note)))
        if self.form_rows:
            rows.append(_Row(self.form_h, self._draw_form))
        rows.append(_Row(5, self._draw_rule))
        return rows

    def _draw_name(self, c: Canvas, y: float, *, p: SheetPerson, phones: list[str]) -> None:
        f = self.f
        base = y - 13.5
        c.setLineWidth(1.0)
        c.setStrokeGray(0.0)
        c.line(_LEFT, y, _RIGHT, y)
        id_s = f"ID {p.person_id}"
        c.setFillGray(_GREY_TEXT)
        c.setFont(f.regular, 6.5)
        c.drawRightString(_RIGHT, base, id_s)
        phone_x = _LEFT + _BODY_W * 0.46
        _text(c, _LEFT, base, _fit(f.clean(p.name), f.bold, 11.0, phone_x - _LEFT - 8), f.bold, 11.0)
        room = _RIGHT - pdfmetrics.stringWidth(id_s, f.regular, 6.5) - 8 - phone_x
        if phones:
            _text(c, phone_x, base, _fit("   ".join(phones), f.bold, 12.5, room), f.bold, 12.5)
        else:
            _text(c, phone_x, base, "no phone on file", f.italic, 9.0, _GREY_TEXT)

    def _draw_more_phones(self, c: Canvas, y: float, *, phones: list[str]) -> None:
        phone_x = _LEFT + _BODY_W * 0.46
        _text(c, phone_x, y - 11, _fit("   ".join(phones), self.f.bold, 11.0, _RIGHT - phone_x), self.f.bold, 11.0)

    def _draw_details(self, c: Canvas, y: float, *, details: str, note: str) -> None:
        f = self.f
        half = _BODY_W * 0.46 - 8
        if details:
            _text(c, _LEFT, y - 9, _fit(details, f.regular, 8.0, half), f.regular, 8.0)
        if note:
            x = _LEFT + _BODY_W * 0.46
            _text(c, x, y - 9, _fit(f"Note: {note}", f.italic, 7.5, _RIGHT - x), f.italic, 7.5, _GREY_TEXT)

    def _draw_form(self, c: Canvas, y: float) -> None:
        c.saveState()
        c.translate(0, y - self.form_h)
        c.doForm("uh_call_bubbles")
        c.restoreState()

    def _draw_rule(self, c: Canvas, y: float) -> None:
        return None  # spacing only: the next block's top rule separates people


def call_sheet_pdf(*, header: SheetHeader, script: SheetScript, result_codes: Sequence[tuple[str, str]],
                   persons: Sequence[SheetPerson]) -> bytes:
    """A call sheet as PDF bytes (US Letter, portrait).

    Page 1 opens with the script and code legend; then one block per person in the order
    given: name, phone number(s) large (US E.164 numbers shown as (919) 555-0123), age,
    party, union membership and notes, then result-code bubbles with their labels, each
    question's responses as bubbles, and activist-code boxes. Blocks never split across
    pages. Every page carries the header, "Page N of M" and the tracking id.
    """
    sheet = _CallSheet(header, script, result_codes, persons)
    return sheet.render(sheet.build())
