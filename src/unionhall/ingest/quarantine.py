"""Quarantined rows and row accounting.

Every data row read from a file ends up either loaded or quarantined, and the numbers
must add up (`Reconciliation`). A quarantined row keeps its 1-based row number (what a
person sees in Excel or a text editor), a stable code for grouping and counting, a
human-readable reason that names the column where there is one, and the row's raw text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

# Stable codes, one per kind of reason. The UI groups and counts by these.
BLANK = "blank"
UNDECODABLE = "undecodable"
NUL_BYTES = "nul_bytes"
RAGGED = "ragged"
UNTERMINATED_QUOTE = "unterminated_quote"
TOO_LONG = "too_long"
UNPARSEABLE = "unparseable"
REPEATED_HEADER = "repeated_header"
TOTALS_ROW = "totals_row"
NO_NAME = "no_name"

QUARANTINE_CODES: dict[str, str] = {
    BLANK: "the row is empty (a blank line or only empty cells)",
    UNDECODABLE: "the row has bytes that are not valid in the file's encoding",
    NUL_BYTES: "the row contains NUL (0x00) bytes, a sign of a corrupted or binary file",
    RAGGED: "the row has a different number of columns than the header",
    UNTERMINATED_QUOTE: "a quote opened on this line is never closed",
    TOO_LONG: "a value is longer than a spreadsheet cell can hold (32,767 characters)",
    UNPARSEABLE: "the CSV parser could not read the row",
    REPEATED_HEADER: "the row repeats the header (files glued together)",
    TOTALS_ROW: "the row is a total or count line, not a member",
    NO_NAME: "the row has no usable name",
}

QUARANTINE_SCHEMA: dict[str, type[pl.DataType] | pl.DataType] = {
    "row_number": pl.Int64,
    "code": pl.Utf8,
    "reason": pl.Utf8,
    "raw": pl.Utf8,
}


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row that cannot be loaded, with why.

    `reason` does not repeat the row number; `message` is the full line for a person.
    """

    row_number: int
    code: str
    reason: str
    raw: str

    @property
    def message(self) -> str:
        return f"row {self.row_number}: {self.reason}"


def quarantine_frame(rows: Iterable[RejectedRow]) -> pl.DataFrame:
    """Rejected rows as a DataFrame with the fixed `QUARANTINE_SCHEMA` (empty, never None)."""
    rows = list(rows)
    return pl.DataFrame(
        {
            "row_number": [r.row_number for r in rows],
            "code": [r.code for r in rows],
            "reason": [r.reason for r in rows],
            "raw": [r.raw for r in rows],
        },
        schema=QUARANTINE_SCHEMA,
    )


@dataclass
class Reconciliation:
    """Row accounting for one import: rows read = rows loaded + rows quarantined.

    `rows_read` counts every data row after the header, blank lines included (they are
    quarantined with code "blank", so nothing disappears without a trace).
    """

    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    by_code: Counter[str] = field(default_factory=Counter)

    def add(self, *, read: int, loaded: int, quarantined: pl.DataFrame) -> None:
        """Account for one batch: `read` rows in, `loaded` out, `quarantined` set aside."""
        self.rows_read += read
        self.rows_loaded += loaded
        self.rows_quarantined += quarantined.height
        if quarantined.height:
            self.by_code.update(quarantined.get_column("code").to_list())

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_quarantined

    def check(self) -> None:
        """Raise RuntimeError if rows went missing: a bug in Union Hall, not bad input."""
        if not self.balanced:
            raise RuntimeError(
                f"row accounting does not balance: read {self.rows_read}, loaded "
                f"{self.rows_loaded}, quarantined {self.rows_quarantined}"
            )

    def summary(self) -> str:
        """One line for a person, e.g. 'read 1,000; loaded 990; quarantined 10 (blank 4, ...)'."""
        parts = ", ".join(f"{code} {n:,}" for code, n in self.by_code.most_common())
        tail = f" ({parts})" if parts else ""
        return (
            f"read {self.rows_read:,}; loaded {self.rows_loaded:,}; "
            f"quarantined {self.rows_quarantined:,}{tail}"
        )
