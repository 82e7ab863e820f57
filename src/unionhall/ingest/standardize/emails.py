"""Email addresses: syntax check, lower-cased domain, common wrappers removed."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import polars as pl

from unionhall.ingest.standardize.text import collapse, is_null

# RFC 5321/5322 "dot-atom" local part and a dotted domain with a letter TLD; quoted local
# parts and IP-literal domains are legal but never seen in member files, so flagged.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
EMAIL_PATTERN = rf"^({_LOCAL})@({_DOMAIN})$"
_EMAIL_RE = re.compile(EMAIL_PATTERN)
# Frequent typos of the biggest providers' domains: flagged (not changed) for review.
_SUSPECT_DOMAINS = frozenset(
    {"gmial.com", "gmai.com", "gmal.com", "gamil.com", "gmail.co", "gmail.con", "gmail.cm",
     "yaho.com", "yahoo.co", "yahoo.con", "hotmial.com", "hotmail.co", "hotmail.con",
     "outlok.com", "aol.co", "icloud.co", "comcast.ent"}
)


@lru_cache(maxsize=262144)
def standardize_email(raw: str) -> tuple[str | None, str | None]:
    """-> (address with lower-cased domain or None, flag). Flags: ok, invalid, suspect_domain.

    The local part keeps its case: it is case-sensitive by the standard, and matching
    compares lower-cased copies anyway.
    """
    v = collapse(raw)
    if not v or is_null(v):
        return None, None
    if v.lower().startswith("mailto:"):
        v = v[7:]
    v = v.strip("<>\"' ;,")
    m = _EMAIL_RE.match(v)
    if not m or len(v) > 254:
        return None, "invalid"
    domain = m.group(2).lower()
    address = f"{m.group(1)}@{domain}"
    if domain in _SUSPECT_DOMAINS:
        return address, "suspect_domain"
    return address, "ok"


def email_vector_exprs(col: pl.Expr) -> tuple[pl.Expr, pl.Expr, Callable[[pl.Expr], pl.Expr]]:
    """(handled, email, flag from email) for values that are already a clean address (no
    spaces, wrappers or mailto:), which is `standardize_email`'s answer for them."""
    handled = col.str.contains(EMAIL_PATTERN) & (col.str.len_chars() <= 254)
    # The domain is everything after the last "@" (the local part cannot contain one).
    email = col.str.replace(r"@([^@]*)$", "@") + col.str.extract(r"@([^@]*)$", 1).str.to_lowercase()

    def flag(value: pl.Expr) -> pl.Expr:
        suspect = value.str.extract(r"@([^@]*)$", 1).is_in(list(_SUSPECT_DOMAINS))
        return pl.when(suspect).then(pl.lit("suspect_domain")).otherwise(pl.lit("ok"))

    return handled, email, flag
