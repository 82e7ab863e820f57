"""North Carolina State Board of Elections (NCSBE) public file layouts.

The NCSBE publishes its voter file (`ncvoter`), vote history (`ncvhis`) and daily
absentee file together with plain-text layout documents. Copies of those documents ship
inside this package (`unionhall/elections/layouts/`) and this module parses them, so the
generator that writes these files and the importer that reads them agree on one source:
the column names and order, the declared types and widths, and the code tables the
documents list (status, race, ethnicity, county, absentee parties).

Some code values that appear in the public files are *not* listed in the layout
documents (party codes, gender codes, status reason codes, voting methods, absentee
ballot statuses...). Those live in `SUPPLEMENTARY_CODES`, kept apart from
`Layout.codes` so it is always clear which values the official document vouches for.

Typical use::

    layout = ncvoter_layout()
    layout.column_names            # ('county_id', 'county_desc', 'voter_reg_num', ...)
    layout.codes["status_cd"]      # {'A': 'ACTIVE', 'D': 'DENIED', ...}
    layout.allowed("party_cd")     # documented or supplementary codes for a column
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType

__all__ = [
    "SUPPLEMENTARY_CODES",
    "CodeTable",
    "Column",
    "Layout",
    "absentee_layout",
    "load_layout",
    "ncvhis_layout",
    "ncvoter_layout",
]

_SEPARATOR = re.compile(r"^-{2,}\s*-*\s*$|^-- -{5,}")
_COLUMN_LINE = re.compile(r"^(?P<name>[A-Za-z][\w-]*)\s+(?P<type>\S+)\s*(?P<desc>.*)$")
# `varchar(3)0` in the ncvoter layout is a typo for varchar(30): digits on both sides
# of the closing parenthesis are joined so the documented width is not silently 3.
_WIDTH = re.compile(r"\((\d+)\)(\d*)")


@dataclass(frozen=True)
class Column:
    """One column of a layout, as documented."""

    name: str
    data_type: str
    width: int | None
    description: str
    removed: bool = False
    """True for columns the document marks `REMOVED-`: no longer present in files."""


@dataclass(frozen=True)
class CodeTable:
    """A code table from a layout document: code -> description, in document order."""

    title: str
    codes: Mapping[str, str]


@dataclass(frozen=True)
class Layout:
    """A parsed NCSBE layout document.

    `columns` is the current layout in file order (columns marked removed are kept, with
    `removed=True`, because the document lists them; `file_columns` drops them).
    `previous_columns` is the older vintage the document still describes (ncvoter only).
    `codes` maps a column name to its documented code table (code -> description); a
    description column such as `voter_status_desc` maps description -> code.
    """

    name: str
    updated: str
    format: str
    columns: tuple[Column, ...]
    previous_columns: tuple[Column, ...] = ()
    code_tables: tuple[CodeTable, ...] = ()
    codes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    delimiter: str = "\t"

    @property
    def file_columns(self) -> tuple[Column, ...]:
        """Columns present in files written today (documented removals dropped)."""
        return tuple(c for c in self.columns if not c.removed)

    @property
    def column_names(self) -> tuple[str, ...]:
        """Names of the columns present in files, in file order."""
        return tuple(c.name for c in self.file_columns)

    def column(self, name: str) -> Column:
        """The column called `name` (KeyError if the layout has none)."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def allowed(self, column: str) -> frozenset[str]:
        """Allowed values of a coded column: the document's codes, else supplementary ones.

        Raises KeyError for a column with no known code list.
        """
        if column in self.codes:
            return frozenset(self.codes[column])
        supplementary = SUPPLEMENTARY_CODES.get(self.name, {})
        if column in supplementary:
            return frozenset(supplementary[column])
        raise KeyError(column)


def _parse_width(data_type: str) -> int | None:
    match = _WIDTH.search(data_type)
    if not match:
        return None
    return int(match.group(1) + match.group(2))


def _parse_columns(lines: list[str], start: int) -> tuple[tuple[Column, ...], int]:
    """Parse a column block whose header line (`name  data type ...`) is at `start`."""
    i = start + 1
    while i < len(lines) and _SEPARATOR.match(lines[i].strip()):
        i += 1
    columns: list[Column] = []
    while i < len(lines):
        line = lines[i].rstrip()
        if not line.strip() or _SEPARATOR.match(line.strip()):
            break
        match = _COLUMN_LINE.match(line)
        if match is None:
            break
        # Column types are written like `varchar(25)` or `char(12)`; the document also
        # has a literal typo, `varvarchar(65)`, kept as written.
        raw_type = match.group("type")
        desc = match.group("desc").strip()
        name = match.group("name")
        removed = name.startswith("REMOVED-")
        columns.append(
            Column(
                name=name.removeprefix("REMOVED-"),
                data_type=raw_type,
                width=_parse_width(raw_type),
                description=desc,
                removed=removed,
            )
        )
        i += 1
    return tuple(columns), i


def _parse_code_tables(lines: list[str]) -> list[CodeTable]:
    """Parse `/* ****` blocks: title, header, `****` rule, then `CODE  DESCRIPTION` lines."""
    tables: list[CodeTable] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("/* ***") and i + 2 < len(lines):
            title = lines[i + 1].strip()
            header = lines[i + 2].split()
            j = i + 3
            while j < len(lines) and not lines[j].startswith("****"):
                j += 1
            j += 1
            codes: dict[str, str] = {}
            # The county table is written `NAME  id` (header `county  county_id`);
            # the others `CODE  DESCRIPTION`. Either way the code is keyed to its text.
            name_first = len(header) >= 2 and header[1].endswith("_id")
            while j < len(lines) and not lines[j].lstrip().startswith("*"):
                row = lines[j].strip()
                if row:
                    if name_first:
                        text, code = row.rsplit(None, 1)
                    else:
                        code, _, text = row.partition(" ")
                    codes[code.strip()] = text.strip()
                j += 1
            tables.append(CodeTable(title=title, codes=MappingProxyType(codes)))
            i = j
        i += 1
    return tables


def _header_value(lines: list[str], key: str) -> str:
    for line in lines:
        body = line.lstrip("/* ").strip()
        if body.lower().startswith(key + ":"):
            return body.split(":", 1)[1].strip()
    return ""


def _parties(lines: list[str]) -> list[str]:
    out: list[str] = []
    in_block = False
    for line in lines:
        if line.strip() == "PARTIES:":
            in_block = True
            continue
        if in_block:
            if line.startswith("- "):
                out.append(line[2:].strip())
            elif line.strip():
                break
    return out


# Which documented code table belongs to which columns of each layout.
_TABLE_COLUMNS: dict[str, dict[str, tuple[str, str]]] = {
    # title keyword -> (code column, description column)
    "ncvoter": {
        "Status codes": ("status_cd", "voter_status_desc"),
        "Race codes": ("race_code", ""),
        "Ethnic codes": ("ethnic_code", ""),
        "County identification number codes": ("county_id", "county_desc"),
    },
    "ncvhis": {
        "County and identification number/codes": ("county_id", "county_desc"),
    },
}


def load_layout(name: str) -> Layout:
    """Parse the packaged layout document `name` (`ncvoter`, `ncvhis` or `absentee`)."""
    files = {
        "ncvoter": "layout_ncvoter.txt",
        "ncvhis": "layout_ncvhis.txt",
        "absentee": "absentee_layout.txt",
    }
    if name not in files:
        raise KeyError(f"unknown layout {name!r}; expected one of {sorted(files)}")
    text = (
        resources.files("unionhall.elections")
        .joinpath("layouts", files[name])
        .read_text(encoding="ascii")
    )
    lines = text.splitlines()
    blocks: list[tuple[str, tuple[Column, ...]]] = []
    context = ""
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if stripped.startswith("--") and "layout" in stripped.lower():
            context = stripped.strip("- ").strip()
        if re.match(r"^name\s+data type\s+description", stripped):
            cols, i = _parse_columns(lines, i)
            blocks.append((context, cols))
            continue
        i += 1
    if not blocks:
        raise ValueError(f"layout {name}: no column block found")
    current = blocks[0][1]
    previous = blocks[1][1] if len(blocks) > 1 else ()

    tables = _parse_code_tables(lines)
    codes: dict[str, Mapping[str, str]] = {}
    for table in tables:
        target = _TABLE_COLUMNS.get(name, {}).get(table.title)
        if target is None:
            continue
        code_col, desc_col = target
        codes[code_col] = table.codes
        if desc_col:
            by_desc: dict[str, str] = {}
            for code, text in table.codes.items():
                by_desc[text] = code
                # "TEMPORARY (APPLICABLE TO MILITARY AND OVERSEAS)" is longer than the
                # varchar(25) column it documents; files carry the text before the note.
                if " (" in text:
                    by_desc[text.split(" (", 1)[0]] = code
            codes[desc_col] = MappingProxyType(by_desc)
    if name == "absentee":
        parties = _parties(lines)
        by_name = {p: PARTY_NAME_TO_CODE.get(p, "") for p in parties}
        codes["party_desc"] = MappingProxyType(by_name)
        party_codes = {code: p for p, code in by_name.items() if code}
        codes["voter_party_code"] = MappingProxyType(party_codes)
        codes["ballot_request_party"] = MappingProxyType(party_codes)

    fmt = _header_value(lines, "format")
    return Layout(
        name=name,
        updated=_header_value(lines, "updated"),
        format=fmt,
        columns=current,
        previous_columns=previous,
        code_tables=tuple(tables),
        codes=MappingProxyType(codes),
        delimiter="," if "comma" in fmt else "\t",
    )


@cache
def ncvoter_layout() -> Layout:
    """The voter-file layout (67 columns in the current vintage)."""
    return load_layout("ncvoter")


@cache
def ncvhis_layout() -> Layout:
    """The vote-history layout (15 columns)."""
    return load_layout("ncvhis")


@cache
def absentee_layout() -> Layout:
    """The daily absentee / early-vote file layout (comma delimited)."""
    return load_layout("absentee")


# The absentee layout lists party names only; these are the three-letter codes the
# voter file's `party_cd` and the absentee `voter_party_code` columns carry.
PARTY_NAME_TO_CODE: dict[str, str] = {
    "CONSTITUTION": "CST",
    "DEMOCRATIC": "DEM",
    "GREEN": "GRE",
    "LIBERTARIAN": "LIB",
    "NO LABELS": "NLB",
    "REPUBLICAN": "REP",
    "UNAFFILIATED": "UNA",
    "WE THE PEOPLE": "WTP",
}

# Values present in NCSBE public files but not listed in the layout documents. They
# are this project's reading of those files, not an official code list: importers
# should accept unknown values here with a warning rather than reject a row.
SUPPLEMENTARY_CODES: dict[str, dict[str, dict[str, str]]] = {
    "ncvoter": {
        "party_cd": {code: name for name, code in PARTY_NAME_TO_CODE.items()},
        "gender_code": {"F": "FEMALE", "M": "MALE", "U": "UNDESIGNATED"},
        "confidential_ind": {"N": "NO", "Y": "YES"},
        "drivers_lic": {"N": "NO", "Y": "YES"},
        "reason_cd": {
            "AV": "VERIFIED",
            "AN": "UNVERIFIED NEW",
            "AP": "VERIFICATION PENDING",
            "IN": "CONFIRMATION NOT RETURNED",
            "IU": "CONFIRMATION RETURNED UNDELIVERABLE",
            "RD": "DECEASED",
            "RF": "FELONY CONVICTION",
            "RL": "MOVED FROM COUNTY",
            "RS": "MOVED FROM STATE",
            "RP": "REMOVED AFTER 2 FED GENERAL ELECTIONS IN INACTIVE STATUS",
            "R2": "DUPLICATE",
            "DI": "UNAVAILABLE ESSENTIAL INFORMATION",
            "DN": "NOT A CITIZEN",
            "DU": "VERIFICATION RETURNED UNDELIVERABLE",
            "SM": "MILITARY",
            "SO": "OVERSEAS CITIZEN",
        },
    },
    "ncvhis": {
        "voting_method": {
            "IN-PERSON": "IN-PERSON",
            "ABSENTEE ONESTOP": "ABSENTEE ONESTOP",
            "ABSENTEE BY MAIL": "ABSENTEE BY MAIL",
            "ABSENTEE CURBSIDE": "ABSENTEE CURBSIDE",
            "CURBSIDE": "CURBSIDE",
            "PROVISIONAL": "PROVISIONAL",
            "TRANSFER": "TRANSFER",
        },
        "voted_party_cd": {code: name for name, code in PARTY_NAME_TO_CODE.items()},
        "voted_party_desc": {name: code for name, code in PARTY_NAME_TO_CODE.items()},
    },
    "absentee": {
        "gender": {"FEMALE": "F", "MALE": "M", "UNDESIGNATED": "U"},
        "race": {
            "ASIAN": "A",
            "BLACK or AFRICAN AMERICAN": "B",
            "AMERICAN INDIAN or ALASKA NATIVE": "I",
            "TWO or MORE RACES": "M",
            "OTHER": "O",
            "NATIVE HAWAIIAN or PACIFIC ISLANDER": "P",
            "UNDESIGNATED": "U",
            "WHITE": "W",
        },
        "ethnicity": {"HL": "HISPANIC or LATINO", "NL": "NOT HISPANIC or NOT LATINO", "UN": "UNDESIGNATED"},
        "ballot_req_type": {"MAIL": "MAIL", "ONE-STOP": "ONE-STOP"},
        "ballot_req_delivery_type": {
            "MAIL": "MAIL",
            "EMAIL": "EMAIL",
            "FAX": "FAX",
            "IN PERSON": "IN PERSON",
        },
        "ballot_rtn_status": {
            "": "NOT RETURNED",
            "ACCEPTED": "ACCEPTED",
            "ACCEPTED - CURED": "ACCEPTED - CURED",
            "PENDING CURE": "PENDING CURE",
            "WITNESS INFO INCOMPLETE": "WITNESS INFO INCOMPLETE",
            "SIGNATURE DIFFERENT": "SIGNATURE DIFFERENT",
            "SPOILED": "SPOILED",
            "RETURNED UNDELIVERABLE": "RETURNED UNDELIVERABLE",
            "CONFLICT": "CONFLICT",
            "DUPLICATE": "DUPLICATE",
        },
        "sdr": {"N": "NO", "Y": "YES"},
    },
}
