"""Person ids: derived from the record that founded the person, never from a counter.

A person id is the first 60 bits of the MD5 of its anchor key — ``voter:<NCID>`` for a
person founded by a voter registration, ``member:<source>:<member_key>`` for a person
founded by a member record that matched no one. So the same records give the same ids
whatever order files were loaded and matched in, and an id, once given, is kept: when
two persons are merged the younger id is retired into ``person_alias``.
"""

from __future__ import annotations

import hashlib


def person_id_for(anchor: str) -> int:
    """The person id founded by an anchor key (same value as `person_id_sql`)."""
    return int(hashlib.md5(anchor.encode("utf-8")).hexdigest()[:15], 16)  # noqa: S324  (an id, not security)


def person_id_sql(anchor_expr: str) -> str:
    """SQL for `person_id_for` of a VARCHAR expression (DuckDB)."""
    return f"('0x' || substr(md5({anchor_expr}), 1, 15))::BIGINT"


def voter_anchor(ncid: str) -> str:
    return f"voter:{ncid}"


def member_anchor(source: str, member_key: str) -> str:
    return f"member:{source}:{member_key}"
