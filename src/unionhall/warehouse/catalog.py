"""Which warehouse tables hold person-level data, and how each row reaches its person.

Each capability's schema module declares its person-bearing tables in a
``PERSON_TABLES: dict[str, PersonTable]`` beside its ``MIGRATIONS``. The warehouse uses
the names to refuse plain `Warehouse.table()` reads of them (the one gateway in
`unionhall.access.gateway` reads them for users, with scope and masks); the gateway
uses the rest of the declaration to decide which rows and fields a user sees.

The warehouse only knows *that* a table is person-bearing and how its rows link to
persons; *who* may see what is access's business (so this layer imports nothing of it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache

# Field groups a data agreement shares (DataAgreement.FIELD_GROUPS), "age" (birth year,
# age: in the public voter file, and implied by a date of birth), and "all": a
# column that may hold anything (raw text, unmapped columns) shows only to a user who
# sees every group for that person.
GROUPS = frozenset({"name", "address", "phone", "email", "dob", "age", "all"})
LINKS = frozenset({"person", "ncid", "member", "none"})


@dataclass(frozen=True)
class PersonTable:
    """A person-bearing warehouse table.

    * ``link``: how a row finds its person: ``person`` (it has ``person_id``), ``ncid``
      (a voter registration: through ``voter_person``), ``member`` (a member record:
      ``source`` + ``member_key`` through ``identity_record``), ``none`` (rows of no
      person yet, e.g. quarantined input: the gateway has a dedicated reader).
    * ``groups``: column -> field group; the value shows only where the user's scope
      grants that group for that row's person.
    * ``open``: columns shown on every path (ids, codes, dates, geography the scope
      itself is decided on). Every column is in exactly one of ``groups`` and ``open``
      (a test checks this against the live schema, so a new column must be classified).
    * ``source``: the column naming a member source (affiliate slug); the row shows only
      where the user's scope shows that membership (a nurses organizer sees the nurses
      record of a dual member, not the teachers one).
      ``source_kind``, when set, names a column that says whether the row came from a
      member list (``member``) at all; other kinds name no membership.
    * ``value_group_of``: for key/value tables (provenance), the column naming the
      person field whose group governs ``value_column``.
    """

    link: str
    groups: Mapping[str, str] = field(default_factory=dict)
    open: frozenset[str] = frozenset()
    source: str | None = None
    source_kind: str | None = None
    value_group_of: str | None = None
    value_column: str = "value"

    def __post_init__(self) -> None:
        if self.link not in LINKS:
            raise ValueError(f"link must be one of {sorted(LINKS)}, not {self.link!r}")
        bad = {g for g in self.groups.values() if g not in GROUPS}
        if bad:
            raise ValueError(f"unknown field groups {sorted(bad)}")
        both = set(self.groups) & self.open
        if both:
            raise ValueError(f"columns both masked and open: {sorted(both)}")

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(self.groups) | self.open


# The golden record (warehouse/migrations.py creates it). Field groups as the scope has
# always applied them; `member_sources`/`member_locals` are shown filtered to the
# memberships the user's paths grant, never masked whole.
PERSON = PersonTable(
    link="person",
    groups={
        "first_name": "name", "middle_name": "name", "last_name": "name", "suffix": "name", "sex": "name",
        "addr_line1": "address", "addr_line2": "address", "city": "address", "zip5": "address",
        "phone": "phone", "email": "email", "birth_date": "dob",
    },
    open=frozenset({"person_id", "state", "county", "voter_reg_num", "created_at", "updated_at",
                    "member_sources", "member_locals", "member_source_bits"}),
)

CORE_PERSON_TABLES: dict[str, PersonTable] = {"person": PERSON}


@dataclass(frozen=True)
class PersonColumns:
    """Columns a capability adds to another capability's person-bearing table (its
    migration adds them; it classifies them here, beside that migration)."""

    groups: Mapping[str, str] = field(default_factory=dict)
    open: frozenset[str] = frozenset()


@cache
def person_tables() -> dict[str, PersonTable]:
    """Every declared person-bearing table, by name (with the columns other capabilities
    add to it: ``PERSON_COLUMNS`` in their schema modules)."""
    from unionhall.warehouse.migrations import schema_modules

    found = dict(CORE_PERSON_TABLES)
    extras: list[tuple[str, PersonColumns]] = []
    for module in schema_modules():
        for table, spec in getattr(module, "PERSON_TABLES", {}).items():
            if table in found:
                raise RuntimeError(f"person table {table!r} is declared twice")
            found[table] = spec
        extras.extend(getattr(module, "PERSON_COLUMNS", {}).items())
    for table, more in extras:
        spec = found[table]
        found[table] = replace(spec, groups={**spec.groups, **more.groups}, open=spec.open | more.open)
    return found


def is_person_table(name: str) -> bool:
    return name in person_tables()
