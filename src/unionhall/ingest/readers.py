"""Readers for affiliate member files: delimited text, Excel workbooks, fixed-width.

`open_source(path)` looks at the bytes (not the file name) to decide what the file is,
reads its header, and returns a `SourceReader` whose `batches()` stream the data rows in
columnar batches. Whole-file problems (empty, binary, password-protected) raise a
one-line `UserError`; problems with single rows (undecodable bytes, ragged rows, an
unterminated quote, NUL bytes, a value too long for any spreadsheet cell, blank lines)
come out as `RejectedRow`s in the batch, so every row is accounted for.

Row numbers are 1-based and physical: for text files the line in a text editor where
the row starts (the header is usually line 1), for workbooks the row number Excel shows.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import math
import os
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from unionhall.errors import UserError
from unionhall.ingest import quarantine as q
from unionhall.ingest.encodings import (
    UNDECODABLE_ERRORS,
    UNDECODABLE_RE,
    EncodingGuess,
    describe_undecodable,
    detect_encoding,
    normalize_encoding_name,
    printable_raw,
)
from unionhall.ingest.quarantine import RejectedRow

# Excel cannot hold more than this in one cell, so a longer value is a broken quote or a
# pasted document rather than member data.
MAX_CELL_CHARS = 32_767
# A csv field may legitimately span lines (an address with a line break); one that runs
# past this many characters is treated as a quote that was never closed.
_CSV_FIELD_LIMIT = 1_000_000
_SAMPLE_BYTES = 1 << 20
_CHUNK_BYTES = 4 << 20
_HEADER_SCAN_ROWS = 30
DEFAULT_BATCH_SIZE = 50_000

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTED_MARKERS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
_KNOWN_BINARY = {
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip-compressed file (decompress it first)",
    b"PAR1": "a Parquet file",
    b"SQLite format 3": "an SQLite database",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
}
_WHAT_TO_DO = "export the member list as CSV or XLSX and try again"


@dataclass(frozen=True)
class Batch:
    """One slice of a source file.

    `frame` has one Utf8 column per header column (empty cells are ""), in header order;
    `row_numbers` and `raw` are aligned with `frame`'s rows. `rejected` are rows of the
    same slice that the reader could not parse. rows_read = frame.height + len(rejected).
    """

    frame: pl.DataFrame
    row_numbers: pl.Series
    raw: pl.Series
    rejected: list[RejectedRow]

    @property
    def rows_read(self) -> int:
        return self.frame.height + len(self.rejected)


@dataclass(frozen=True)
class FixedField:
    """One column of a fixed-width layout; `start` and `end` are 1-based and inclusive."""

    name: str
    start: int
    end: int


@dataclass(frozen=True)
class FixedWidthLayout:
    """Column positions for a fixed-width file, as printed in a layout document."""

    fields: tuple[FixedField, ...]
    header_lines: int = 0  # lines to skip at the top (a title or a header line)

    @classmethod
    def parse(cls, text: str, *, header_lines: int = 0) -> FixedWidthLayout:
        """Read a layout from CSV text with columns name,start,end or name,start,width."""
        rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
        if not rows:
            raise UserError("fixed-width layout is empty; give lines of name,start,end")
        head = [c.strip().lower() for c in rows[0]]
        use_width = "width" in head or "length" in head
        if head[0] in {"name", "field", "column"}:
            rows = rows[1:]
        fields = []
        for i, r in enumerate(rows, start=1):
            try:
                name, start, third = r[0].strip(), int(r[1]), int(r[2])
            except (IndexError, ValueError):
                raise UserError(
                    f"fixed-width layout line {i}: expected name,start,end but got {','.join(r)!r}"
                ) from None
            end = start + third - 1 if use_width else third
            fields.append(FixedField(name, start, end))
        return cls(tuple(fields), header_lines=header_lines)

    def __post_init__(self) -> None:
        for f in self.fields:
            if f.start < 1 or f.end < f.start:
                raise UserError(
                    f"fixed-width layout: field {f.name!r} has start {f.start}, end {f.end}; "
                    "positions are 1-based and end must not be before start"
                )


@dataclass
class SourceReader:
    """A member file opened for reading. Use `header` and then iterate `batches()`.

    `notes` are things a person should know about how the file was read (encoding chosen,
    renamed duplicate columns, title lines skipped above the header, sheet used...).
    """

    path: Path
    format: str  # "delimited", "xlsx", "fixed-width"
    header: list[str]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int = 1
    notes: list[str] = field(default_factory=list)
    renamed_columns: dict[str, str] = field(default_factory=dict)

    def batches(self, size: int = DEFAULT_BATCH_SIZE) -> Iterator[Batch]:
        """Stream the data rows after the header in batches of at most `size` rows."""
        raise NotImplementedError

    def sample_rows(self, n: int = 200) -> list[list[str]]:
        """The first `n` parsed data rows (for mapping suggestions)."""
        out: list[list[str]] = []
        for batch in self.batches(size=n):
            out.extend(list(r) for r in batch.frame.rows())
            if len(out) >= n:
                break
        return [list(r) for r in out[:n]]

    def _make_batch(
        self,
        rows: list[list[str]],
        numbers: list[int],
        raws: list[str],
        rejected: list[RejectedRow],
    ) -> Batch:
        schema = {name: pl.Utf8 for name in self.header}
        # orient="row" transposes in Rust; zip(*rows) in Python costs twice as much.
        frame = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
        return Batch(
            frame=frame,
            row_numbers=pl.Series("row_number", numbers, dtype=pl.Int64),
            raw=pl.Series("raw", raws, dtype=pl.Utf8),
            rejected=rejected,
        )


def open_source(
    path: str | os.PathLike[str],
    *,
    encoding: str | None = None,
    sheet: str | int | None = None,
    layout: FixedWidthLayout | None = None,
    delimiter: str | None = None,
    quotechar: str = '"',
    column_names: Sequence[str] | None = None,
) -> SourceReader:
    """Open a member file, detecting its format from its content, and read its header.

    - `encoding` overrides detection (e.g. "cp1252", "utf-16", "cp437").
    - `sheet` picks a workbook sheet by name or 0-based index (default: the first).
    - `layout` makes the file fixed-width.
    - `delimiter` overrides delimiter detection (",", "\\t", ";", "|"...).
    - `column_names` says a delimited file has no header row: every line is data and
      the columns are called these names (a saved layout's, e.g. Florida's extract).

    Raises `UserError` for a file that cannot be read at all.
    """
    p = Path(path)
    if not p.exists():
        raise UserError(f"{p}: file not found")
    if p.is_dir():
        raise UserError(f"{p}: is a folder, not a file")
    size = p.stat().st_size
    if size == 0:
        raise UserError(f"{p}: the file is empty (0 bytes); {_WHAT_TO_DO}")
    with p.open("rb") as fh:
        head = fh.read(_SAMPLE_BYTES)
    if head.startswith(_ZIP_MAGIC):
        return _open_zip(p, sheet)
    if head.startswith(_OLE2_MAGIC):
        return _open_ole2(p, head, sheet)
    if layout is None and encoding is None:
        for magic, what in _KNOWN_BINARY.items():
            if head.startswith(magic):
                raise UserError(f"{p}: this is {what}, not a member list; {_WHAT_TO_DO}")
    if encoding is not None:
        enc = normalize_encoding_name(encoding, path=str(p))
        guess = EncodingGuess(enc, f"encoding {enc} given by the user")
    else:
        guess = detect_encoding(_spread_sample(p, head, size))
    text_sample = _decode_sample(head, guess.encoding)
    _reject_binary(p, text_sample)
    if layout is not None:
        return _FixedWidthReader.create(p, guess, text_sample, layout)
    reader = _DelimitedReader.create(p, guess, text_sample, delimiter, quotechar)
    if column_names is not None:
        reader = _headerless(reader, column_names)
    return reader


def _headerless(reader: _DelimitedReader, column_names: Sequence[str]) -> _DelimitedReader:
    """The same file read with no header row: the first line is data too."""
    header, renamed, notes = _clean_header(list(column_names))
    kept = [n for n in reader.notes if n.startswith(("encoding:", "delimiter:", "the file mixes"))]
    return replace(
        reader,
        header=header,
        header_row=0,
        first_data_line=0,
        renamed_columns=renamed,
        notes=[*kept, *notes, f"no header row: the {len(header)} columns are named by the layout"],
    )


# ---------------------------------------------------------------------------------------
# Shared helpers


def _spread_sample(p: Path, head: bytes, size: int) -> bytes:
    """The head plus a few slices from further in, so a stray byte deep in a big file still
    influences detection (files are often clean ASCII for the first megabyte)."""
    if size <= len(head):
        return head
    parts = [head]
    with p.open("rb") as fh:
        for frac in (0.25, 0.5, 0.75):
            fh.seek(int(size * frac))
            chunk = fh.read(64 << 10)
            # Start at a line boundary to avoid cutting a multi-byte character in half.
            nl = chunk.find(b"\n")
            parts.append(chunk[nl + 1 :] if nl >= 0 else b"")
        fh.seek(max(0, size - (64 << 10)))
        tail = fh.read()
        nl = tail.find(b"\n")
        parts.append(tail[nl + 1 :] if nl >= 0 else tail)
    if not _is_wide_or_bom(head):
        return b"\n".join(parts)
    return head


def _is_wide_or_bom(head: bytes) -> bool:
    # UTF-16/32 (or BOM-marked) files can't be sampled by gluing slices at arbitrary offsets.
    return head[:2] in (b"\xff\xfe", b"\xfe\xff") or head[:3] == codecs.BOM_UTF8 or (
        head.count(0) > len(head) // 4
    )


def _decode_sample(head: bytes, encoding: str) -> str:
    dec = codecs.getincrementaldecoder(encoding)(UNDECODABLE_ERRORS)
    return dec.decode(head, final=False)


def _reject_binary(p: Path, text: str) -> None:
    """A file that is mostly control characters or undecodable bytes is not a table."""
    sample = text[:200_000]
    if not sample.strip():
        raise UserError(f"{p}: the file has only blank lines, no header row; {_WHAT_TO_DO}")
    bad = sum(
        1 for ch in sample if (ord(ch) < 32 and ch not in "\t\r\n\x0c") or 0xDC00 <= ord(ch) <= 0xDCFF
    )
    if bad > max(8, 0.05 * len(sample)):
        share = 100 * bad / len(sample)
        raise UserError(
            f"{p}: does not look like a text table ({share:.0f}% of the first characters are "
            f"binary control bytes or undecodable); {_WHAT_TO_DO}"
        )


def _clean_header(cells: Sequence[str]) -> tuple[list[str], dict[str, str], list[str]]:
    """Trim header names, name empty ones and make duplicates unique (Phone, Phone_2...)."""
    names: list[str] = []
    renamed: dict[str, str] = {}
    notes: list[str] = []
    seen: dict[str, int] = {}
    taken = {" ".join(str(c).split()).lstrip("\ufeff") for c in cells}
    for i, cell in enumerate(cells, start=1):
        base = " ".join(str(cell).replace("\ufeff", "").split())
        name = base or f"column_{i}"
        if not base:
            notes.append(f"column {i} has no header; called it {name!r}")
        key = name.casefold()
        if key in seen:
            n = seen[key] + 1
            while f"{name}_{n}" in taken:
                n += 1
            seen[key] = n
            new = f"{name}_{n}"
            renamed[new] = name
            notes.append(f"duplicate column name {name!r} (column {i}) renamed to {new!r}")
            name = new
        else:
            seen[key] = 1
        taken.add(name)
        names.append(name)
    return names, renamed, notes


def _pick_header(records: list[list[str]]) -> int:
    """Index of the header among the first records: skip title lines above it.

    A title ("LOCAL 123 MEMBER LIST - MARCH") fills one cell; the header fills most of
    them. Take the first record with at least half as many filled cells as the fullest,
    unless the first record is itself a known column name ("Name" over a one-column list).
    """
    from unionhall.ingest.mapping import is_known_header

    filled = [sum(1 for c in r if str(c).strip()) for r in records]
    if not filled:
        return 0
    if all(is_known_header(str(c)) for c in records[0] if str(c).strip()):
        return 0
    most = max(filled)
    need = max(1, math.ceil(most / 2)) if most < 2 else max(2, math.ceil(most / 2))
    for i, n in enumerate(filled):
        if n >= need:
            return i
    return 0


def _too_long(row: Sequence[str], header: Sequence[str]) -> RejectedRowParts | None:
    for name, value in zip(header, row, strict=False):
        if len(value) > MAX_CELL_CHARS:
            return (
                q.TOO_LONG,
                f"value in column {name!r} is {len(value):,} characters long, more than a "
                f"spreadsheet cell can hold ({MAX_CELL_CHARS:,}); likely a broken quote or "
                "pasted text",
            )
    return None


RejectedRowParts = tuple[str, str]


# ---------------------------------------------------------------------------------------
# Delimited text


_DELIMITERS = (",", "\t", ";", "|")
_SINGLE_COLUMN = "\x1e"  # ASCII record separator: never in member data, so no splitting
_DELIM_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe", _SINGLE_COLUMN: "none (one column)"}


def _split_lines(text: str, newline: str) -> list[str]:
    """Split decoded text into physical lines, keeping line ends (csv needs them)."""
    if newline == "\r":
        parts = text.split("\r")
        return [p + "\r" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _sniff_dialect(lines: list[str], quotechar: str) -> tuple[str, str | None]:
    """Pick the delimiter that splits the first lines into the most consistent columns."""
    best: tuple[float, int, int] = (-1.0, 0, 0)
    best_delim = ","
    sample = [ln for ln in lines[:60] if ln.strip()]
    for order, delim in enumerate(_DELIMITERS):
        counts = [len(r) for r in csv.reader(sample, delimiter=delim, quotechar=quotechar, strict=False)]
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        share = counts.count(mode) / len(counts)
        score = (share, mode, -order)
        if score > best:
            best, best_delim = score, delim
    text = "".join(sample)
    escape = "\\" if f"\\{quotechar}" in text and f"{quotechar}{quotechar}" not in text else None
    return best_delim, escape


class _LineStore:
    """Physical lines of a text file, decoded chunk by chunk, addressable by line index.

    The csv module pulls lines through `iterator`; we keep the chunks it is still working
    on so a record's raw text (possibly spanning lines) can be recovered, and so parsing
    can restart after a line with an unterminated quote.
    """

    def __init__(self, path: Path, encoding: str, newline: str, skip_lines: int) -> None:
        self.path = path
        self.encoding = encoding
        self.newline = newline
        self.chunks: list[tuple[int, list[str], bool]] = []  # (first line index, lines, dirty)
        self._skip = skip_lines
        self.chunk_iter = self._gen()  # (first line index, lines, dirty) per chunk
        self.iterator = itertools.chain.from_iterable(lines for _, lines, _ in self.chunk_iter)

    def _gen(self) -> Iterator[tuple[int, list[str], bool]]:
        dec = codecs.getincrementaldecoder(self.encoding)(UNDECODABLE_ERRORS)
        base = 0
        carry = ""
        with self.path.open("rb") as fh:
            while True:
                data = fh.read(_CHUNK_BYTES)
                final = not data
                text = carry + dec.decode(data, final=final)
                if not final:
                    cut = text.rfind(self.newline)
                    if cut < 0:
                        carry = text
                        continue
                    text, carry = text[: cut + 1], text[cut + 1 :]
                else:
                    carry = ""
                lines = _split_lines(text, self.newline)
                if base == 0 and lines:
                    lines[0] = lines[0].lstrip("\ufeff")
                if self._skip:
                    drop = min(self._skip, len(lines))
                    lines = lines[drop:]
                    self._skip -= drop
                    base += drop
                if lines:
                    dirty = "\x00" in text or UNDECODABLE_RE.search(text) is not None
                    self.chunks.append((base, lines, dirty))
                    yield base, lines, dirty
                    base += len(lines)
                if final:
                    return

    def forget_before(self, index: int) -> None:
        """Drop chunks that end before line `index` (memory stays bounded)."""
        while len(self.chunks) > 1 and self.chunks[0][0] + len(self.chunks[0][1]) <= index:
            self.chunks.pop(0)

    def line(self, index: int) -> str:
        for base, lines, _ in reversed(self.chunks):
            if index >= base:
                return lines[index - base]
        raise IndexError(index)

    def text(self, start: int, end: int) -> str:
        return "".join(self.line(i) for i in range(start, end))

    def dirty(self, index: int) -> bool:
        for base, _lines, dirty in reversed(self.chunks):
            if index >= base:
                return dirty
        return True


def _rows_frame(header: Sequence[str], rows: list[list[str]]) -> pl.DataFrame:
    schema = {name: pl.Utf8 for name in header}
    # orient="row" transposes in Rust; zip(*rows) in Python costs twice as much.
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


class _BatchBuilder:
    """Collects parsed rows and rejects, in file order, into batches of `size` rows read."""

    def __init__(self, header: Sequence[str], size: int) -> None:
        self.header = list(header)
        self.size = size
        self.frames: list[pl.DataFrame] = []
        self.numbers: list[pl.Series] = []
        self.raws: list[pl.Series] = []
        self.rejected: list[RejectedRow] = []
        self.count = 0  # rows + rejects held

    @property
    def room(self) -> int:
        return self.size - self.count

    def add_rows(
        self, rows: list[list[str]], numbers: list[int], raws: list[str], rejected: list[RejectedRow]
    ) -> Iterator[Batch]:
        if rows or rejected:
            yield from self.add_frame(
                _rows_frame(self.header, rows),
                pl.Series("row_number", numbers, dtype=pl.Int64),
                pl.Series("raw", raws, dtype=pl.Utf8),
                rejected,
            )

    def add_frame(
        self, frame: pl.DataFrame, numbers: pl.Series, raws: pl.Series, rejected: list[RejectedRow]
    ) -> Iterator[Batch]:
        """Add rows (aligned frame, numbers, raws; numbers ascending) and rejects."""
        taken_rows = taken_rejects = 0
        while (frame.height - taken_rows) + (len(rejected) - taken_rejects) >= self.room:
            # The batch ends at the room-th entry, rows and rejects merged by row number.
            need = self.room
            row_numbers = numbers.slice(taken_rows).to_numpy()
            reject_numbers = [r.row_number for r in rejected[taken_rejects:]]
            merged = sorted([*row_numbers[:need].tolist(), *reject_numbers[:need]])
            last = merged[need - 1]
            n_rows = int((row_numbers <= last).sum())
            n_rejects = sum(1 for n in reject_numbers if n <= last)
            self._hold(frame.slice(taken_rows, n_rows), numbers.slice(taken_rows, n_rows),
                       raws.slice(taken_rows, n_rows), rejected[taken_rejects:taken_rejects + n_rejects])
            taken_rows += n_rows
            taken_rejects += n_rejects
            yield self._emit()
        self._hold(frame.slice(taken_rows), numbers.slice(taken_rows), raws.slice(taken_rows),
                   rejected[taken_rejects:])

    def finish(self) -> Iterator[Batch]:
        if self.count:
            yield self._emit()

    def _hold(self, frame: pl.DataFrame, numbers: pl.Series, raws: pl.Series, rejected: list[RejectedRow]) -> None:
        if frame.height:
            self.frames.append(frame)
            self.numbers.append(numbers)
            self.raws.append(raws)
        self.rejected.extend(rejected)
        self.count += frame.height + len(rejected)

    def _emit(self) -> Batch:
        if self.frames:
            frame = pl.concat(self.frames) if len(self.frames) > 1 else self.frames[0]
            numbers = pl.concat(self.numbers) if len(self.numbers) > 1 else self.numbers[0]
            raws = pl.concat(self.raws) if len(self.raws) > 1 else self.raws[0]
        else:
            frame = _rows_frame(self.header, [])
            numbers = pl.Series("row_number", [], dtype=pl.Int64)
            raws = pl.Series("raw", [], dtype=pl.Utf8)
        batch = Batch(frame=frame.rechunk(), row_numbers=numbers.rechunk().alias("row_number"),
                      raw=raws.rechunk().alias("raw"), rejected=self.rejected)
        self.frames, self.numbers, self.raws, self.rejected, self.count = [], [], [], [], 0
        return batch


@dataclass
class _DelimitedReader(SourceReader):
    newline: str = "\n"
    quotechar: str = '"'
    escapechar: str | None = None
    first_data_line: int = 1  # 0-based physical line index of the first data line

    @classmethod
    def create(
        cls,
        p: Path,
        guess: EncodingGuess,
        text_sample: str,
        delimiter: str | None,
        quotechar: str,
    ) -> _DelimitedReader:
        text_sample = text_sample.lstrip("\ufeff")
        newline = "\r" if "\n" not in text_sample and "\r" in text_sample else "\n"
        lines = _split_lines(text_sample, newline)
        if delimiter is None:
            delim, escape = _sniff_dialect(lines, quotechar)
        else:
            delim = "\t" if delimiter in ("\\t", "tab") else delimiter
            escape = None
        # Find the header among the first non-blank records.
        records: list[tuple[int, list[str]]] = []
        reader = csv.reader(lines, delimiter=delim, quotechar=quotechar, escapechar=escape, strict=False)
        prev = 0
        try:
            for rec in reader:
                if any(c.strip() for c in rec):
                    records.append((prev, rec))
                prev = reader.line_num
                if len(records) >= _HEADER_SCAN_ROWS:
                    break
        except csv.Error:
            pass
        if not records:
            raise UserError(f"{p}: the file has only blank lines, no header row; {_WHAT_TO_DO}")
        idx = _pick_header([r for _, r in records])
        header_line, header_cells = records[idx]
        if delimiter is None and len(header_cells) == 1 and not any(d in lines[header_line] for d in _DELIMITERS):
            # One column: commas inside values ("SMITH, JOHN") are data, not separators.
            delim = _SINGLE_COLUMN
        header, renamed, notes = _clean_header(header_cells)
        # Where the header ends: re-parse just the header record to count its lines.
        header_reader = csv.reader(
            lines[header_line:], delimiter=delim, quotechar=quotechar, escapechar=escape, strict=False
        )
        next(header_reader)
        first_data = header_line + header_reader.line_num
        notes = [f"encoding: {guess.encoding} ({guess.reason})", *notes]
        if guess.mixed:
            notes.append("the file mixes encodings: rows that are not valid UTF-8 are quarantined")
        notes.append(f"delimiter: {_DELIM_NAMES.get(delim, repr(delim))}")
        if header_line:
            skipped = [printable_raw(lines[i].rstrip("\r\n")) for i in range(header_line) if lines[i].strip()]
            notes.append(
                f"header found on line {header_line + 1}; skipped the lines above it: "
                + "; ".join(repr(s[:80]) for s in skipped)
            )
        return cls(
            path=p,
            format="delimited",
            header=header,
            encoding=guess.encoding,
            delimiter=delim,
            header_row=header_line + 1,
            notes=notes,
            renamed_columns=renamed,
            newline=newline,
            quotechar=quotechar,
            escapechar=escape,
            first_data_line=first_data,
        )

    def _csv(self, lines: Iterator[str]) -> Any:
        return csv.reader(
            lines,
            delimiter=self.delimiter or ",",
            quotechar=self.quotechar,
            escapechar=self.escapechar,
            strict=False,
        )

    def batches(self, size: int = DEFAULT_BATCH_SIZE) -> Iterator[Batch]:
        old_limit = csv.field_size_limit(_CSV_FIELD_LIMIT)
        try:
            yield from self._batches(size)
        finally:
            csv.field_size_limit(old_limit)

    def _batches(self, size: int) -> Iterator[Batch]:
        store = _LineStore(self.path, self.encoding or "utf-8", self.newline, self.first_data_line)
        out = _BatchBuilder(self.header, size)
        for base, lines, dirty in store.chunk_iter:
            plain = None if dirty else self._plain_chunk(store, base, lines)
            if plain is not None:
                yield from out.add_frame(*plain)
            else:
                # Record by record with the csv module until a record ends where a chunk does.
                yield from self._records(store, base, lines, out)
            store.forget_before(store.chunks[-1][0])
        yield from out.finish()

    def _plain_chunk(
        self, store: _LineStore, base: int, lines: list[str]
    ) -> tuple[pl.DataFrame, pl.Series, pl.Series, list[RejectedRow]] | None:
        """Parse a chunk column-wise in Polars when it has nothing the csv module would
        treat specially (no quote or escape character, no stray carriage return, no
        value too long for a cell): then a line is a record and a delimiter a boundary.
        Returns None when the chunk needs the csv module.
        """
        delim = self.delimiter or ","
        text_has = "".join(lines)
        if (
            len(delim) != 1
            or self.quotechar in text_has
            or (self.escapechar and self.escapechar in text_has)
            or max(map(len, lines)) > MAX_CELL_CHARS
        ):
            return None
        ncols = len(self.header)
        full = pl.Series(lines, dtype=pl.Utf8)
        body = full.str.strip_chars_end("\r\n")
        ends = full.str.len_bytes() - body.str.len_bytes()
        inner = body.str.contains("[\r\n]")
        odd_end = (ends > 2) | ((ends == 2) & ~full.str.ends_with("\r\n"))
        if bool((inner | odd_end).any()):
            return None
        right = body.str.count_matches(delim, literal=True) == ncols - 1
        blank = right & (body.str.replace_all(delim, "", literal=True) == "")
        good = right & ~blank
        numbers = pl.Series("row_number", range(base + 1, base + 1 + len(lines)), dtype=pl.Int64)
        rows = body.filter(good)
        frame = rows.str.split_exact(delim, ncols - 1).struct.unnest()
        frame.columns = list(self.header)
        rejected = [
            RejectedRow(number, q.BLANK, "blank line", raw)
            for number, raw in zip(numbers.filter(blank).to_list(), body.filter(blank).to_list(), strict=True)
        ]
        row_numbers, raws = numbers.filter(good), rows.alias("raw")
        if not bool(right.all()):
            # Wrong number of fields: the same checks as the csv path, one line at a time.
            o_rows: list[list[str]] = []
            o_numbers: list[int] = []
            o_raws: list[str] = []
            for number, line in zip(numbers.filter(~right).to_list(), body.filter(~right).to_list(), strict=True):
                self._odd_record(store, line.split(delim), number - 1, number, None, o_rows, o_numbers, o_raws, rejected)
            if o_rows:
                odd = _rows_frame(self.header, o_rows)
                order = pl.concat([row_numbers, pl.Series(o_numbers, dtype=pl.Int64)]).arg_sort()
                frame = pl.concat([frame, odd]).select(pl.all().gather(order))
                row_numbers = pl.concat([row_numbers, pl.Series(o_numbers, dtype=pl.Int64)]).gather(order)
                raws = pl.concat([raws, pl.Series("raw", o_raws, dtype=pl.Utf8)]).gather(order)
            rejected.sort(key=lambda r: r.row_number)
        return frame, row_numbers.alias("row_number"), raws.alias("raw"), rejected

    def _records(self, store: _LineStore, base: int, lines: list[str], out: _BatchBuilder) -> Iterator[Batch]:
        """The csv module from line `base` (the start of chunk `lines`) until a record
        ends exactly at the end of the chunks read so far."""
        header = self.header
        ncols = len(header)
        delim = self.delimiter or ","
        rows: list[list[str]] = []
        numbers: list[int] = []
        raws: list[str] = []
        rejected: list[RejectedRow] = []
        source = itertools.chain(lines, store.iterator)
        offset = base  # physical index of the line the csv reader starts at
        reader = self._csv(source)
        prev_end = offset
        while True:
            try:
                row = next(reader)
                end = offset + reader.line_num
                error: str | None = None
            except StopIteration:
                break
            except csv.Error as exc:
                row, end, error = [], offset + reader.line_num, str(exc)
            start = prev_end
            prev_end = end
            nlines = end - start
            cbase, clines, cdirty = store.chunks[-1]
            plain = error is None and nlines == 1 and len(row) == ncols and start >= cbase and not cdirty
            line = clines[start - cbase] if plain else ""
            if plain and (len(line) <= MAX_CELL_CHARS or _too_long(row, header) is None):
                # One clean line, right number of fields.
                if any(row) or line.strip(delim + self.quotechar + " \t\r\n"):
                    rows.append(row)
                    numbers.append(start + 1)
                    raws.append(line.rstrip("\r\n"))
                else:
                    rejected.append(RejectedRow(start + 1, q.BLANK, "blank line", line.rstrip("\r\n")))
            else:
                # Slow path: anything unusual about this record.
                restart = self._odd_record(store, row, start, end, error, rows, numbers, raws, rejected)
                if restart is not None:
                    # Re-read from the line after the bad one: the lines a runaway quote
                    # swallowed are ordinary rows.
                    replay = [store.line(i) for i in range(restart, end)]
                    offset = restart
                    prev_end = restart
                    reader = self._csv(itertools.chain(replay, source))
                    continue
            if len(rows) + len(rejected) >= out.room:
                yield from out.add_rows(rows, numbers, raws, rejected)
                rows, numbers, raws, rejected = [], [], [], []
                store.forget_before(prev_end)
            last_base, last_lines, _ = store.chunks[-1]
            if prev_end == last_base + len(last_lines):
                break  # a record boundary at a chunk boundary: the next chunk may be plain
        yield from out.add_rows(rows, numbers, raws, rejected)

    def _odd_record(
        self,
        store: _LineStore,
        row: list[str],
        start: int,
        end: int,
        error: str | None,
        rows: list[list[str]],
        numbers: list[int],
        raws: list[str],
        rejected: list[RejectedRow],
    ) -> int | None:
        """Classify a record that is not a plain clean line. Returns a line index to restart
        parsing from when the record swallowed lines after an unterminated quote."""
        header = self.header
        ncols = len(header)
        delim = self.delimiter or ","
        raw_text = store.text(start, end).rstrip("\r\n")
        first_line = store.line(start).rstrip("\r\n")
        number = start + 1
        nlines = end - start

        def reject(code: str, reason: str, raw: str = raw_text) -> None:
            rejected.append(RejectedRow(number, code, reason, printable_raw(raw)))

        if nlines > 1 or error is not None:
            continuation = [store.line(i) for i in range(start + 1, end)]
            runaway = (
                error is not None
                or len(row) != ncols
                or any(len(v) > MAX_CELL_CHARS for v in row)
                or any(ln.count(delim) >= max(1, ncols - 1) for ln in continuation)
            )
            if runaway:
                if error and "field larger" in error and nlines == 1:
                    reject(q.TOO_LONG, "a value on this line is over 1,000,000 characters long", first_line[:200])
                    return None
                if nlines > 1:
                    reject(
                        q.UNTERMINATED_QUOTE,
                        f"a quote ({self.quotechar}) opened on this line is never closed; "
                        "the rest of the line was not loaded, later lines were read normally",
                        first_line,
                    )
                    return start + 1
                reject(q.UNPARSEABLE, f"the CSV parser could not read this line ({error})", first_line)
                return None
        blank = not row or not any(v.strip() for v in row)
        if blank and not UNDECODABLE_RE.search(raw_text) and "\x00" not in raw_text:
            reject(q.BLANK, "blank line")
            return None
        if "\x00" in raw_text:
            col = next((header[i] for i, v in enumerate(row[:ncols]) if "\x00" in v), None)
            where = f" in column {col!r}" if col else ""
            reject(q.NUL_BYTES, f"contains NUL (0x00) bytes{where}; the file may be corrupted or partly binary")
            return None
        if UNDECODABLE_RE.search(raw_text):
            col = next((header[i] for i, v in enumerate(row[:ncols]) if UNDECODABLE_RE.search(v)), None)
            bad_line = next(store.line(i) for i in range(start, end) if UNDECODABLE_RE.search(store.line(i)))
            offset, hint = describe_undecodable(bad_line, store.encoding)
            where = f" in column {col!r}" if col else ""
            label = {"cp1252": "windows-1252", "cp437": "cp437"}.get(store.encoding, store.encoding)
            extra = f"; {hint}" if hint else ""
            reject(
                q.UNDECODABLE,
                f"undecodable bytes{where} at byte {offset} (file read as {label}){extra}",
            )
            return None
        if len(row) != ncols and nlines == 1 and raw_text.count(self.quotechar) % 2 == 1:
            reject(
                q.UNTERMINATED_QUOTE,
                f"a quote ({self.quotechar}) opened on this line is never closed",
            )
            return None
        if len(row) != ncols:
            extra_empty = len(row) > ncols and not any(v.strip() for v in row[ncols:])
            if not extra_empty:
                reject(
                    q.RAGGED,
                    f"has {len(row)} fields but the header has {ncols}; a value probably "
                    f"contains an unquoted {_DELIM_NAMES.get(delim, repr(delim))} or cells are missing",
                )
                return None
            row = row[:ncols]
        too_long = _too_long(row, header)
        if too_long:
            reject(*too_long, raw=raw_text[:200] + f"... ({len(raw_text):,} characters)")
            return None
        rows.append(row)
        numbers.append(number)
        raws.append(raw_text)
        return None


# ---------------------------------------------------------------------------------------
# Fixed width


@dataclass
class _FixedWidthReader(SourceReader):
    layout: FixedWidthLayout | None = None
    newline: str = "\n"

    @classmethod
    def create(
        cls, p: Path, guess: EncodingGuess, text_sample: str, layout: FixedWidthLayout
    ) -> _FixedWidthReader:
        header, renamed, notes = _clean_header([f.name for f in layout.fields])
        newline = "\r" if "\n" not in text_sample and "\r" in text_sample else "\n"
        notes = [f"encoding: {guess.encoding} ({guess.reason})", *notes]
        return cls(
            path=p,
            format="fixed-width",
            header=header,
            encoding=guess.encoding,
            header_row=layout.header_lines,
            notes=notes,
            renamed_columns=renamed,
            layout=layout,
            newline=newline,
        )

    def batches(self, size: int = DEFAULT_BATCH_SIZE) -> Iterator[Batch]:
        assert self.layout is not None
        skip = self.layout.header_lines
        store = _LineStore(self.path, self.encoding or "utf-8", self.newline, skip)
        spans = [(f.start - 1, f.end) for f in self.layout.fields]
        width = max(e for _, e in spans)
        rows: list[list[str]] = []
        numbers: list[int] = []
        raws: list[str] = []
        rejected: list[RejectedRow] = []
        for index, line in enumerate(store.iterator, start=skip):
            text = line.rstrip("\r\n")
            number = index + 1
            if not text.strip():
                rejected.append(RejectedRow(number, q.BLANK, "blank line", text))
            elif "\x00" in text:
                rejected.append(RejectedRow(number, q.NUL_BYTES, "contains NUL (0x00) bytes", printable_raw(text)))
            elif UNDECODABLE_RE.search(text):
                offset, hint = describe_undecodable(text, store.encoding)
                extra = f"; {hint}" if hint else ""
                rejected.append(
                    RejectedRow(number, q.UNDECODABLE, f"undecodable bytes at byte {offset}{extra}", printable_raw(text))
                )
            elif len(text) > width and text[width:].strip():
                rejected.append(
                    RejectedRow(
                        number,
                        q.RAGGED,
                        f"line is {len(text)} characters long but the layout ends at column {width}",
                        text,
                    )
                )
            else:
                rows.append([text[s:e].strip() for s, e in spans])
                numbers.append(number)
                raws.append(text)
            if len(rows) + len(rejected) >= size:
                yield self._make_batch(rows, numbers, raws, rejected)
                rows, numbers, raws, rejected = [], [], [], []
                store.forget_before(index)
        if rows or rejected:
            yield self._make_batch(rows, numbers, raws, rejected)


# ---------------------------------------------------------------------------------------
# Workbooks (XLSX, ODS, legacy XLS) through calamine


def _open_zip(p: Path, sheet: str | int | None) -> SourceReader:
    try:
        with zipfile.ZipFile(p) as zf:
            names = set(zf.namelist())
    except zipfile.BadZipFile:
        raise UserError(f"{p}: looks like a ZIP/XLSX file but is damaged or cut short; {_WHAT_TO_DO}") from None
    if "xl/workbook.xml" not in names and "content.xml" not in names:
        raise UserError(
            f"{p}: is a ZIP archive, not an Excel workbook; unzip it and import the member list inside"
        )
    return _WorkbookReader.create(p, sheet, "xlsx" if "xl/workbook.xml" in names else "ods")


def _open_ole2(p: Path, head: bytes, sheet: str | int | None) -> SourceReader:
    with p.open("rb") as fh:
        data = fh.read(4 << 20)
    if any(m in data for m in _ENCRYPTED_MARKERS):
        raise UserError(
            f"{p}: the workbook is password-protected; open it in Excel, save a copy "
            "without a password (or as CSV) and import that"
        )
    try:
        return _WorkbookReader.create(p, sheet, "xls")
    except UserError:
        raise
    except Exception:
        raise UserError(
            f"{p}: password-protected or legacy .xls file that could not be read; save it as "
            "unencrypted .xlsx or CSV and import that"
        ) from None


def _cell_text(v: Any) -> str:
    """A workbook cell as the text a person sees (integers without '.0', dates as ISO)."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(v, dt.datetime):
        if v.time() == dt.time(0, 0):
            return v.date().isoformat()
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    return str(v)


@dataclass
class _WorkbookReader(SourceReader):
    sheet_index: int = 0
    header_offset: int = 0  # index (within calamine's used range) of the header row
    first_row: int = 0  # 0-based sheet row of calamine's first used row
    first_col: int = 0
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)

    @classmethod
    def create(cls, p: Path, sheet: str | int | None, kind: str) -> _WorkbookReader:
        from python_calamine import CalamineWorkbook

        try:
            wb = CalamineWorkbook.from_path(str(p))
        except Exception as exc:
            if "password" in str(exc).lower() or "encrypt" in str(exc).lower():
                raise UserError(
                    f"{p}: the workbook is password-protected; save a copy without a "
                    "password (or as CSV) and import that"
                ) from None
            if kind == "xls":
                raise
            raise UserError(f"{p}: the workbook could not be read ({exc}); {_WHAT_TO_DO}") from None
        names = list(wb.sheet_names)
        if not names:
            raise UserError(f"{p}: the workbook has no sheets; {_WHAT_TO_DO}")
        if sheet is None:
            index = 0
        elif isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in names):
            index = int(sheet)
            if not 0 <= index < len(names):
                raise UserError(f"{p}: no sheet number {index}; the sheets are {', '.join(map(repr, names))}")
        else:
            matches = [i for i, n in enumerate(names) if n.casefold() == str(sheet).casefold()]
            if not matches:
                raise UserError(f"{p}: no sheet named {sheet!r}; the sheets are {', '.join(map(repr, names))}")
            index = matches[0]
        ws = wb.get_sheet_by_index(index)
        start = ws.start or (0, 0)
        head_rows: list[list[str]] = []
        for r in itertools.islice(ws.iter_rows(), _HEADER_SCAN_ROWS):
            head_rows.append([_cell_text(v) for v in r])
        nonblank = [(i, r) for i, r in enumerate(head_rows) if any(c.strip() for c in r)]
        if not nonblank:
            raise UserError(f"{p}: sheet {names[index]!r} is empty; {_WHAT_TO_DO}")
        hidx = nonblank[_pick_header([r for _, r in nonblank])][0]
        cells = head_rows[hidx]
        # Trailing empty header cells past the last named column are not columns.
        while cells and not cells[-1].strip():
            cells = cells[:-1]
        header, renamed, notes = _clean_header(cells)
        notes.insert(0, f"read sheet {names[index]!r} of {len(names)} ({kind})")
        if kind == "xlsx" and p.suffix.lower() not in (".xlsx", ".xlsm"):
            notes.insert(0, f"{p.name} is really an Excel workbook (by its content); read it as one")
        if len(names) > 1:
            notes.append("other sheets (choose one with --sheet): " + ", ".join(repr(n) for i, n in enumerate(names) if i != index))
        if hidx:
            notes.append(f"header found on row {start[0] + hidx + 1}; skipped the rows above it")
        merged = list(getattr(ws, "merged_cell_ranges", None) or [])
        return cls(
            path=p,
            format=kind,
            header=header,
            sheet=names[index],
            header_row=start[0] + hidx + 1,
            notes=notes,
            renamed_columns=renamed,
            sheet_index=index,
            header_offset=hidx,
            first_row=start[0],
            first_col=start[1],
            merged=merged,
        )

    def batches(self, size: int = DEFAULT_BATCH_SIZE) -> Iterator[Batch]:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(self.path))
        ws = wb.get_sheet_by_index(self.sheet_index)
        ncols = len(self.header)
        # Vertically merged cells show one value over several rows; Excel users read it as
        # belonging to each row, so we copy it down. Keyed by sheet row -> [(col, top row)].
        fill: dict[int, list[tuple[int, int]]] = {}
        for (r1, c1), (r2, _c2) in self.merged:
            for r in range(r1 + 1, r2 + 1):
                fill.setdefault(r, []).append((c1 - self.first_col, r1))
        top_values: dict[tuple[int, int], str] = {}
        tops = {(r1, c1 - self.first_col) for (r1, c1), _ in self.merged}
        rows: list[list[str]] = []
        numbers: list[int] = []
        raws: list[str] = []
        rejected: list[RejectedRow] = []
        it = ws.iter_rows()
        for _ in range(self.header_offset + 1):
            next(it, None)
        sheet_row = self.first_row + self.header_offset
        for cells in it:
            sheet_row += 1
            values = [_cell_text(v) for v in cells]
            if fill or tops:
                for col in range(len(values)):
                    if (sheet_row, col) in tops:
                        top_values[(sheet_row, col)] = values[col]
                for col, top in fill.get(sheet_row, ()):
                    if 0 <= col < len(values) and not values[col]:
                        values[col] = top_values.get((top, col), "")
            number = sheet_row + 1
            raw = "\t".join(values).rstrip("\t")
            extra = values[ncols:]
            values = values[:ncols] + [""] * (ncols - len(values))
            if not any(v.strip() for v in values) and not any(v.strip() for v in extra):
                rejected.append(RejectedRow(number, q.BLANK, "blank row", raw))
            elif any(v.strip() for v in extra):
                rejected.append(
                    RejectedRow(
                        number,
                        q.RAGGED,
                        f"has values in {len(extra)} column(s) right of the last header column",
                        raw,
                    )
                )
            elif (tl := _too_long(values, self.header)) is not None:
                rejected.append(RejectedRow(number, tl[0], tl[1], raw[:200]))
            else:
                rows.append(values)
                numbers.append(number)
                raws.append(raw)
            if len(rows) + len(rejected) >= size:
                yield self._make_batch(rows, numbers, raws, rejected)
                rows, numbers, raws, rejected = [], [], [], []
        if rows or rejected:
            yield self._make_batch(rows, numbers, raws, rejected)
