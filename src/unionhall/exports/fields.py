"""The fields an export may carry: the person column each comes from, its label, its
header in a VAN-style file, its width in the fixed-width layout, and the watermark
variation it takes (`exports.watermark`).

Every export starts with the export key (`uh_key`): an opaque id of the person in this
export only (vendors never see Union Hall's person ids); results come back keyed by it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExportField:
    name: str            # person column (or `uh_key`)
    label: str
    van: str             # header in a VAN-style person file
    width: int           # width in the fixed-width layout
    vary: str | None = None  # watermark variation: "street", "unit", "phone"


KEY = ExportField("uh_key", "Union Hall key", "UnionHallID", 12)

EXPORT_FIELDS: list[ExportField] = [
    ExportField("first_name", "First name", "FirstName", 20),
    ExportField("middle_name", "Middle name", "MiddleName", 20),
    ExportField("last_name", "Last name", "LastName", 30),
    ExportField("suffix", "Suffix", "Suffix", 5),
    ExportField("addr_line1", "Address", "Address", 40, vary="street"),
    ExportField("addr_line2", "Address line 2", "Address2", 20, vary="unit"),
    ExportField("city", "City", "City", 28),
    ExportField("state", "State", "State", 2),
    ExportField("zip5", "ZIP", "Zip5", 5),
    ExportField("county", "County", "CountyName", 20),
    ExportField("phone", "Phone", "Phone", 14, vary="phone"),
    ExportField("email", "Email", "Email", 60),
    ExportField("birth_date", "Date of birth", "DOB", 10),
    ExportField("age", "Age", "Age", 3),
    ExportField("sex", "Sex", "Sex", 1),
    ExportField("party", "Party", "Party", 3),
    ExportField("precinct", "Precinct", "PrecinctName", 12),
    ExportField("cong_dist", "Congressional district", "CD", 3),
    ExportField("nc_senate", "State senate district", "SD", 3),
    ExportField("nc_house", "State house district", "HD", 3),
    ExportField("voter_reg_num", "Voter registration number", "StateFileID", 12),
    ExportField("member_sources", "Member of", "Unions", 40),
]
BY_NAME: dict[str, ExportField] = {f.name: f for f in [KEY, *EXPORT_FIELDS]}

# What most mailings, phone banks and canvass tools need.
DEFAULT_FIELDS = ["first_name", "last_name", "addr_line1", "addr_line2", "city", "state", "zip5", "phone", "age",
                  "party", "precinct"]


def fields_check(names: list[str]) -> list[ExportField]:
    """The export's columns in order (the key first); ValueError naming unknown fields."""
    if not names:
        raise ValueError("choose at least one field to export")
    unknown = [n for n in names if n not in BY_NAME or n == KEY.name]
    if unknown:
        raise ValueError(f"unknown export field(s) {', '.join(map(repr, unknown))}; the fields are "
                         + ", ".join(f.name for f in EXPORT_FIELDS))
    seen: list[str] = []
    for n in names:
        if n not in seen:
            seen.append(n)
    return [KEY, *(BY_NAME[n] for n in seen)]
