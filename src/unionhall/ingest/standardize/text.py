"""Helpers shared by the field standardizers: whitespace, empty tokens, markup, formulas."""

from __future__ import annotations

import re

# Values people type for "nothing here". Compared after collapsing and upper-casing.
NULL_TOKENS = frozenset(
    {"", "N/A", "NA", "N.A.", "NULL", "NONE", "NIL", "-", "--", "---", "?", "??", "UNKNOWN",
     "UNK", "TBD", "#N/A", "(BLANK)", "BLANK", "NAN", "NOT AVAILABLE", "NO DATA", "."}
)
_MARKUP_RE = re.compile(r"<\s*/?\s*[A-Za-z!][^>]*>|&(?:[A-Za-z]+|#\d+);|javascript:", re.I)
FORMULA_PREFIXES = ("=", "+", "-", "@")


def collapse(value: str) -> str:
    """Trim and collapse runs of whitespace (tabs, line breaks, no-break spaces) to one space."""
    return " ".join(value.split())


def is_null(value: str) -> bool:
    """True for an empty value or a placeholder such as 'N/A', 'NULL', 'unknown'."""
    return collapse(value).upper() in NULL_TOKENS


def has_markup(value: str) -> bool:
    """HTML tags or entities: kept literally (escaped when shown) but flagged for review."""
    return bool(_MARKUP_RE.search(value))


def formula_like(value: str) -> bool:
    """Starts like a spreadsheet formula. Kept as text, never evaluated; exports escape it."""
    return value.startswith(FORMULA_PREFIXES)


def text_flags(value: str) -> list[str]:
    """The generic flags for a free-text value."""
    flags = []
    if has_markup(value):
        flags.append("markup")
    if formula_like(value):
        flags.append("formula_like")
    return flags
