"""Person ids: a function of the person's records, never of a counter or of run order.

A person id is the first 60 bits of the MD5 of an anchor key: ``voter:<NCID>`` for a
person with a voter registration, else ``member:<source>:<member_key>`` of the smallest
record key among the person's member records (`component_person_id`). The same records
grouped the same way therefore get the same ids whatever order files were loaded and
matched in. Re-running on unchanged data or re-importing a snapshot keeps every id; an
id changes only when its person gains a voter registration or a record with a smaller
key (a merge), and the retired id stays resolvable through ``person_alias``.
"""

from __future__ import annotations

import hashlib


def person_id_for(anchor: str) -> int:
    """The person id founded by an anchor key (same value as `person_id_sql`)."""
    return int(hashlib.md5(anchor.encode("utf-8")).hexdigest()[:15], 16)  # noqa: S324  (an id, not security)


def component_person_id(*, voter_person_id: int | None, record_keys: list[str]) -> int:
    """The id of a person: its registration's person id, else the id founded by the
    smallest of its member record keys (``m|<source>|<member_key>``)."""
    if voter_person_id is not None:
        return voter_person_id
    _, source, member_key = min(record_keys).split("|", 2)
    return person_id_for(member_anchor(source, member_key))


def person_id_sql(anchor_expr: str) -> str:
    """SQL for `person_id_for` of a VARCHAR expression (DuckDB)."""
    return f"('0x' || substr(md5({anchor_expr}), 1, 15))::BIGINT"


def voter_anchor(ncid: str) -> str:
    return f"voter:{ncid}"


def member_anchor(source: str, member_key: str) -> str:
    return f"member:{source}:{member_key}"
