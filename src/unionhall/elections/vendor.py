"""Voter files of other states and of vendors, through the member-list mapping machinery.

A *layout* says how to read a file (encoding, delimiter, header row or column names, or a
fixed-width spec) and how its columns map onto the voter schema
(`unionhall.ingest.voter_schema`). Reading is `unionhall.ingest.open_source` (any
encoding, CSV/TSV/XLSX/fixed-width); the mapping is a `ColumnMapping(schema="voter")`,
suggested from headers and values when no layout is given. Rows are normalized into the
`voter` table's columns and applied by the NC importer's own apply step
(`voterfile._apply`): the same new / changed / removed diff, `voter_history` and persons.

Ids are state-aware so states never collide: the registration's `ncid` (the statewide id
the person link uses) is `"OH:" + the file's id`, and counties get ids in the state's own
range, state FIPS x 1000 + n (Ohio's counties are 39001...; NC's own file keeps 1-100),
allocated by county name in order of first appearance and reused on every reload.

What NC's columns have no room for goes to `voter_extra`: the full date of birth and the
columns mapped to no voter field (as JSON), one row per registration.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from unionhall.elections.files import file_check, file_fingerprint, memory_capped, relation_drop
from unionhall.elections.loads import (
    Progress,
    Reconciliation,
    already_loaded,
    flagged_rows,
    load_next_id,
    load_record,
    snapshot_date_resolve,
)
from unionhall.elections.nc_layout import ncvoter_layout
from unionhall.elections.people import person_upsert_from_voters
from unionhall.errors import UserError
from unionhall.ingest.mapping import CUSTOM, SKIP, ColumnMapping, ColumnRule, suggest_mapping
from unionhall.ingest.readers import FixedField, FixedWidthLayout, SourceReader, open_source
from unionhall.warehouse import Warehouse

LAYOUT_VERSION = 1

STATE_FIPS: dict[str, int] = {
    "AL": 1, "AK": 2, "AZ": 4, "AR": 5, "CA": 6, "CO": 8, "CT": 9, "DE": 10, "DC": 11, "FL": 12,
    "GA": 13, "HI": 15, "ID": 16, "IL": 17, "IN": 18, "IA": 19, "KS": 20, "KY": 21, "LA": 22,
    "ME": 23, "MD": 24, "MA": 25, "MI": 26, "MN": 27, "MS": 28, "MO": 29, "MT": 30, "NE": 31,
    "NV": 32, "NH": 33, "NJ": 34, "NM": 35, "NY": 36, "NC": 37, "ND": 38, "OH": 39, "OK": 40,
    "OR": 41, "PA": 42, "RI": 44, "SC": 45, "SD": 46, "TN": 47, "TX": 48, "UT": 49, "VT": 50,
    "VA": 51, "WA": 53, "WV": 54, "WI": 55, "WY": 56, "PR": 72, "GU": 66, "VI": 78,
}

# Party names and codes seen in state and vendor files -> the NC-style codes lists use.
PARTY_CODES: dict[str, str] = {
    **dict.fromkeys(("DEM", "D", "DEMOCRAT", "DEMOCRATIC", "DEMOCRATIC PARTY"), "DEM"),
    **dict.fromkeys(("REP", "R", "REPUBLICAN", "REPUBLICAN PARTY", "GOP"), "REP"),
    **dict.fromkeys(
        ("UNA", "U", "UNAFFILIATED", "NPA", "NO PARTY AFFILIATION", "NO PARTY", "NON-PARTISAN",
         "NONPARTISAN", "NP", "N", "NON", "DTS", "DECLINE TO STATE", "NO AFFILIATION", "NOT AFFILIATED"),
        "UNA",
    ),
    **dict.fromkeys(("LIB", "L", "LIBERTARIAN", "LPF"), "LIB"),
    **dict.fromkeys(("GRE", "G", "GREEN", "GRN", "GREEN PARTY"), "GRE"),
    **dict.fromkeys(("CST", "CONSTITUTION", "CPF"), "CST"),
    **dict.fromkeys(("NLB", "NO LABELS"), "NLB"),
}
# Registration statuses -> (status_cd, description); codes match codes.STATUS_RANK.
STATUS_CODES: dict[str, tuple[str, str]] = {
    **dict.fromkeys(("A", "ACT", "ACTIVE", "ACTV"), ("A", "ACTIVE")),
    **dict.fromkeys(("I", "INA", "INACTIVE", "INACT", "CONFIRMATION", "CONF"), ("I", "INACTIVE")),
    **dict.fromkeys(("R", "REMOVED", "CANCELLED", "CANCELED", "PURGED", "DROPPED"), ("R", "REMOVED")),
    **dict.fromkeys(("D", "DENIED"), ("D", "DENIED")),
    **dict.fromkeys(("S", "TEMPORARY", "TEMP"), ("S", "TEMPORARY")),
}
_NULLS = frozenset({"", "NULL", "N/A", "NA", "NONE", "#N/A", "-"})
_WITHHELD = frozenset({"CONFIDENTIAL", "REMOVED", "PROTECTED", "EXEMPT"})
_DIGITS = re.compile(r"\D+")

# The voter columns a layout can fill; all other ncvoter columns stay empty.
_TYPED = {"county_id": pl.Int32, "registr_dt": pl.Date, "birth_year": pl.Int32, "age_at_year_end": pl.Int32}


# ---------------------------------------------------------------------------------------
# Layouts


@dataclass
class VoterLayout:
    """How to read one kind of voter file and what its columns are.

    `column_names` is for delimited files without a header row (the names the mapping
    refers to); `fixed_width` for fixed-width files (1-based, inclusive positions).
    """

    mapping: ColumnMapping
    name: str | None = None
    state: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    column_names: list[str] | None = None
    fixed_width: list[FixedField] | None = None
    header_lines: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        reader: dict[str, Any] = {}
        if self.encoding:
            reader["encoding"] = self.encoding
        if self.delimiter:
            reader["delimiter"] = self.delimiter
        if self.column_names is not None:
            reader["header"] = False
            reader["columns"] = list(self.column_names)
        if self.fixed_width is not None:
            reader["fixed_width"] = [{"name": f.name, "start": f.start, "end": f.end} for f in self.fixed_width]
            if self.header_lines:
                reader["header_lines"] = self.header_lines
        out: dict[str, Any] = {"layout_version": LAYOUT_VERSION}
        if self.name:
            out["name"] = self.name
        if self.state:
            out["state"] = self.state
        out["reader"] = reader
        out["mapping"] = {
            "date_order": self.mapping.date_order,
            "columns": {
                col: rule.field for col, rule in self.mapping.columns.items()
            },
        }
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def to_toml(self) -> str:
        return _toml_dump(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "layout") -> VoterLayout:
        try:
            if data.get("layout_version", LAYOUT_VERSION) != LAYOUT_VERSION:
                raise UserError(f"{where}: layout_version {data.get('layout_version')!r} is not {LAYOUT_VERSION}")
            reader = dict(data.get("reader") or {})
            mdata = dict(data.get("mapping") or {})
            cols = mdata.get("columns") or {}
            rules: dict[str, ColumnRule] = {}
            if isinstance(cols, dict):
                items: Iterable[tuple[str, str]] = cols.items()
            else:  # ColumnMapping.to_json's list form
                items = ((c["column"], c["field"]) for c in cols)
            for col, fld in items:
                rules[str(col)] = ColumnRule(str(fld), confidence=1.0, reason="from the layout")
            mapping = ColumnMapping(columns=rules, date_order=mdata.get("date_order", "MDY"), schema="voter")
            fixed = reader.get("fixed_width")
            names = reader.get("columns")
            if reader.get("header", True) is False and not names:
                raise UserError(f"{where}: reader.header is false but reader.columns does not name the columns")
            state = data.get("state")
            return cls(
                mapping=mapping,
                name=data.get("name"),
                state=state_check(state) if state else None,
                encoding=reader.get("encoding"),
                delimiter=reader.get("delimiter"),
                column_names=[str(n) for n in names] if names and reader.get("header", True) is False else None,
                fixed_width=[FixedField(str(f["name"]), int(f["start"]), int(f["end"])) for f in fixed]
                if fixed else None,
                header_lines=int(reader.get("header_lines", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"{where}: not a voter-file layout ({exc}); see docs/elections.md") from None

    @classmethod
    def read(cls, path: str | Path) -> VoterLayout:
        """A layout from a .json or .toml file (as written by `--save-layout` / `layout export`)."""
        p = Path(path).expanduser()
        if not p.is_file():
            raise UserError(f"{p}: no such layout file — check the path, or give a saved layout's name")
        text = p.read_text(encoding="utf-8-sig")
        try:
            data = json.loads(text) if text.lstrip().startswith("{") else tomllib.loads(text)
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            raise UserError(f"{p.name}: not valid JSON or TOML ({exc})") from None
        return cls.from_dict(data, where=p.name)

    def write(self, path: str | Path) -> Path:
        """Write as TOML (a .toml name) or JSON (anything else)."""
        p = Path(path).expanduser()
        p.write_text(self.to_toml() if p.suffix.lower() == ".toml" else self.to_json() + "\n", encoding="utf-8")
        return p

    def open(self, path: Path) -> SourceReader:
        """Open the file the way this layout says (the ingest readers do the work)."""
        fw = FixedWidthLayout(tuple(self.fixed_width), header_lines=self.header_lines) if self.fixed_width else None
        return open_source(
            path, encoding=self.encoding, layout=fw, delimiter=self.delimiter, column_names=self.column_names
        )


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _toml_dump(data: dict[str, Any]) -> str:
    """TOML for a layout dict (scalars, lists, tables, one array of tables)."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for key, table in data.items():
        if not isinstance(table, dict) or not table:
            continue
        lines += ["", f"[{key}]"]
        for k, v in table.items():
            if isinstance(v, list) and v and isinstance(v[0], dict):
                continue
            if isinstance(v, dict):
                continue
            lines.append(f"{k} = {_toml_value(v)}")
        for k, v in table.items():
            if isinstance(v, dict):
                lines += ["", f"[{key}.{k}]"]
                lines += [f"{json.dumps(str(c), ensure_ascii=False)} = {_toml_value(f)}" for c, f in v.items()]
            elif isinstance(v, list) and v and isinstance(v[0], dict):
                for item in v:
                    lines += ["", f"[[{key}.{k}]]"]
                    lines += [f"{ik} = {_toml_value(iv)}" for ik, iv in item.items()]
    return "\n".join(lines) + "\n"


def state_check(state: str | None) -> str:
    """A two-letter state code, upper case, or a UserError."""
    code = (state or "").strip().upper()
    if code not in STATE_FIPS:
        raise UserError(
            f"--state {state!r} is not a US state code; give the two-letter code of the state "
            "whose voter file this is (e.g. OH, FL, PA)"
        )
    return code


@dataclass
class ResolvedLayout:
    """A layout fitted to one file: the reader, the mapping for its header, and notes."""

    layout: VoterLayout
    reader: SourceReader
    notes: list[str]
    suggested: bool


def layout_resolve(*, path: str | Path, layout: VoterLayout | None = None, strict: bool = True) -> ResolvedLayout:
    """Open `path` with `layout` (or the defaults) and fit the mapping to its header.

    Without a layout (or with one that maps no columns: reader options only) the mapping
    is suggested from the header and the first 200 rows. Raises UserError when a required
    field (registration id, last name) is not mapped, unless `strict` is False.
    """
    p = Path(path)
    base = layout or VoterLayout(mapping=ColumnMapping(schema="voter"))
    reader = base.open(p)
    notes = list(reader.notes)
    suggested = not base.mapping.columns
    if suggested:
        mapping = suggest_mapping(reader.header, reader.sample_rows(), schema="voter")
    else:
        mapping, more = base.mapping.for_header(reader.header)
        notes += [n.replace("custom field", "unmapped column") for n in more]
    resolved = VoterLayout(
        mapping=mapping, name=base.name, state=base.state, encoding=base.encoding,
        delimiter=base.delimiter if base.fixed_width is None else None,
        column_names=base.column_names, fixed_width=base.fixed_width, header_lines=base.header_lines,
    )
    problems = mapping.problems()
    if problems and strict:
        listing = "; ".join(f"{c!r} -> {r.field}" for c, r in mapping.columns.items())
        what = "the suggested mapping" if suggested else f"layout {base.name or ''}".strip()
        raise UserError(
            f"{p.name}: row {reader.header_row or 1}: {what} cannot load this file: {'; '.join(problems)}. "
            f"Columns: {listing}. Write a layout that maps them (--write-layout FILE, edit it, "
            "then --layout FILE)"
        )
    return ResolvedLayout(layout=resolved, reader=reader, notes=notes, suggested=suggested)


def mapping_lines(layout: VoterLayout) -> list[str]:
    """The mapping as lines for a person: `column -> field  (why)`."""
    width = max((len(c) for c in layout.mapping.columns), default=0)
    out = []
    for col, rule in layout.mapping.columns.items():
        target = {CUSTOM: "(kept in voter_extra)", SKIP: "(not loaded)"}.get(rule.field, rule.field)
        # Say why only when it is not plain from the header name.
        why = f"  ({rule.reason})" if rule.reason and not rule.reason.startswith(("header ", "from the", "no voter")) else ""
        out.append(f"{col.ljust(width)} -> {target}{why}")
    return out


# ---------------------------------------------------------------------------------------
# Normalization of one batch


def _clean(s: pl.Series) -> pl.Series:
    """Trimmed, runs of spaces collapsed, placeholders empty (null)."""
    out = s.str.replace_all(r"\s+", " ").str.strip_chars()
    frame = pl.DataFrame({"v": out})
    return frame.select(
        pl.when(pl.col("v").str.to_uppercase().is_in(list(_NULLS))).then(None).otherwise(pl.col("v")).alias(s.name)
    ).to_series()


def _upper(s: pl.Series) -> pl.Series:
    return _clean(s).str.to_uppercase()


def _mapped(frame: pl.DataFrame, mapping: ColumnMapping, fld: str) -> pl.Series | None:
    cols = [c for c in mapping.columns_for(fld) if c in frame.columns]
    if not cols:
        return None
    if len(cols) == 1:
        return _clean(frame[cols[0]])
    joined = frame.select(pl.concat_str([pl.col(c) for c in cols], separator=" ").alias(fld))[fld]
    return _clean(joined)


def _per_value(s: pl.Series, fn: Callable[[str], Any]) -> list[Any]:
    """fn over distinct values only (voter files repeat cities, parties, dates...)."""
    memo: dict[str, Any] = {}
    out: list[Any] = []
    for v in s.to_list():
        if v is None:
            out.append(None)
            continue
        if v not in memo:
            memo[v] = fn(v)
        out.append(memo[v])
    return out


@dataclass
class _Norm:
    frame: pl.DataFrame
    flags: list[tuple[int, str, str | None, str]]
    rejects: list[tuple[int, str | None, str, str, str]]
    keys: list[tuple[str, str | None]]


def _district(s: pl.Series | None) -> pl.Series | None:
    if s is None:
        return None
    return pl.Series(s.name, _per_value(_upper(s), lambda v: v.lstrip("0") or "0" if v.isdigit() else v), pl.Utf8)


def _normalize_batch(
    frame: pl.DataFrame,
    row_numbers: list[int],
    raws: list[str],
    *,
    mapping: ColumnMapping,
    state: str,
    snapshot: dt.date,
) -> _Norm:
    """Turn one batch of mapped text columns into `voter` columns, flags and rejects."""
    from unionhall.ingest.standardize.codes import (
        standardize_gender,
        standardize_state,
        standardize_zip,
    )
    from unionhall.ingest.standardize.dates import parse_date
    from unionhall.ingest.standardize.names import standardize_full_name

    n = frame.height
    get = lambda f: _mapped(frame, mapping, f)  # noqa: E731
    col_of = lambda f: mapping.column_for(f) or f  # noqa: E731
    flags: list[tuple[int, str, str | None, str]] = []
    empty = pl.Series([None] * n, dtype=pl.Utf8)
    out: dict[str, pl.Series] = {}

    # Names: parts, else the combined column split by the ingest name parser.
    first, middle, last, suffix = get("first_name"), get("middle_name"), get("last_name"), get("suffix")
    full = get("full_name")
    if full is not None and last is None:
        parts = _per_value(full, standardize_full_name)
        pick = lambda i: pl.Series([p[i] if p else None for p in parts], dtype=pl.Utf8)  # noqa: E731
        first, middle, last = first if first is not None else pick(1), middle if middle is not None else pick(2), pick(3)
        suffix = suffix if suffix is not None else pick(4)
    for name, s in (("first_name", first), ("middle_name", middle), ("last_name", last), ("name_suffix_lbl", suffix)):
        out[name] = s.str.to_uppercase() if s is not None else empty

    reg = get("registration_id")
    reg_id = reg.str.to_uppercase() if reg is not None else empty
    out["voter_reg_num"] = reg_id
    out["ncid"] = pl.Series([f"{state}:{v}" if v else None for v in reg_id.to_list()], dtype=pl.Utf8)

    # Residential address: a street line, else its parts; the unit line is appended.
    line1 = get("addr_line1")
    if line1 is None:
        parts_s = [s for s in (get("house_number"), get("street_name")) if s is not None]
        if parts_s:
            line1 = _clean(pl.DataFrame(parts_s).select(pl.concat_str(pl.all(), separator=" ", ignore_nulls=True))
                           .to_series())
    street = line1.str.to_uppercase() if line1 is not None else empty
    unit = get("addr_line2")
    if unit is not None:
        street = pl.DataFrame([street.alias("a"), unit.str.to_uppercase().alias("b")]).select(
            pl.concat_str(["a", "b"], separator=" ", ignore_nulls=True)
        ).to_series()
        street = pl.Series([v or None for v in street.to_list()], dtype=pl.Utf8)
    withheld = [v if v in _WITHHELD else None for v in street.to_list()]
    out["res_street_address"] = pl.Series([None if w else v for v, w in zip(street.to_list(), withheld, strict=True)],
                                          dtype=pl.Utf8)
    city = get("city")
    out["res_city_desc"] = city.str.to_uppercase() if city is not None else empty
    st = get("state")
    res_state = [state] * n
    if st is not None:
        codes = _per_value(st, lambda v: standardize_state(v)[0])
        for i, (raw, code) in enumerate(zip(st.to_list(), codes, strict=True)):
            if raw is None:
                continue
            if code is None:
                flags.append((i, col_of("state"), raw, "state is not a US state code or name (the file's state is used)"))
            elif code != state:
                res_state[i] = code
                flags.append((i, col_of("state"), raw, f"residential state {code} is not --state {state} (kept)"))
    out["state_cd"] = pl.Series(res_state, dtype=pl.Utf8)
    zips = get("zip")
    zip4 = get("zip4")
    zip_out: list[str | None] = [None] * n
    if zips is not None:
        parsed = _per_value(zips, standardize_zip)
        z4 = zip4.to_list() if zip4 is not None else [None] * n
        for i, (raw, pz) in enumerate(zip(zips.to_list(), parsed, strict=True)):
            if raw is None:
                continue
            z5, z4z, _flag = pz
            if z5 is None:
                zip_out[i] = raw
                flags.append((i, col_of("zip"), raw, "ZIP code is not readable (kept as written)"))
                continue
            plus = z4z or (z4[i] if z4[i] and str(z4[i]).isdigit() and len(str(z4[i])) == 4 else None)
            zip_out[i] = f"{z5}-{plus}" if plus else z5
    out["zip_code"] = pl.Series(zip_out, dtype=pl.Utf8)
    for target, fld in (("mail_addr1", "mail_addr1"), ("mail_addr2", "mail_addr2"), ("mail_addr3", "mail_addr3"),
                        ("mail_city", "mail_city"), ("mail_state", "mail_state"), ("mail_zipcode", "mail_zip")):
        s = get(fld)
        out[target] = s.str.to_uppercase() if s is not None else empty

    phone = get("phone")
    if phone is not None:
        digits = [_DIGITS.sub("", v) if v else None for v in phone.to_list()]
        ph: list[str | None] = []
        for i, (raw, d) in enumerate(zip(phone.to_list(), digits, strict=True)):
            if d and len(d) == 11 and d.startswith("1"):
                d = d[1:]
            if raw is not None and (not d or len(d) != 10):
                flags.append((i, col_of("phone"), raw, "phone number does not have 10 digits (kept as written)"))
                ph.append(raw)
            else:
                ph.append(d or None)
        out["full_phone_number"] = pl.Series(ph, dtype=pl.Utf8)
    else:
        out["full_phone_number"] = empty

    # Codes: party and status normalized to the codes lists use; unknown values kept, flagged.
    party = get("party")
    if party is not None:
        up = party.str.to_uppercase().to_list()
        vals = []
        for i, v in enumerate(up):
            code = PARTY_CODES.get(v) if v else None
            if v and code is None:
                flags.append((i, col_of("party"), v, "party is not a known party code or name (kept as written)"))
            vals.append(code or v)
        out["party_cd"] = pl.Series(vals, dtype=pl.Utf8)
    else:
        out["party_cd"] = empty
    status = get("status")
    if status is not None:
        up = status.str.to_uppercase().to_list()
        cds, descs = [], []
        for i, v in enumerate(up):
            found = STATUS_CODES.get(v) if v else None
            if v and found is None:
                flags.append((i, col_of("status"), v, "status is not a known registration status (kept as written)"))
            cds.append(found[0] if found else v)
            descs.append(found[1] if found else v)
        out["status_cd"] = pl.Series(cds, dtype=pl.Utf8)
        out["voter_status_desc"] = pl.Series(descs, dtype=pl.Utf8)
    else:
        out["status_cd"] = out["voter_status_desc"] = empty
    reason = get("status_reason")
    out["voter_status_reason_desc"] = reason.str.to_uppercase() if reason is not None else empty
    gender = get("gender")
    if gender is not None:
        gs = _per_value(gender, standardize_gender)
        vals = []
        for i, (raw, g) in enumerate(zip(gender.to_list(), gs, strict=True)):
            if raw is not None and g is not None and g[1]:
                flags.append((i, col_of("gender"), raw, "gender is not a known code (kept as written)"))
                vals.append(raw.upper())
            else:
                vals.append(g[0] if g else None)
        out["gender_code"] = pl.Series(vals, dtype=pl.Utf8)
    else:
        out["gender_code"] = empty
    for target, fld in (("race_code", "race"), ("ethnic_code", "ethnicity"), ("precinct_abbrv", "precinct"),
                        ("municipality_desc", "municipality"), ("ward_desc", "ward")):
        s = get(fld)
        out[target] = s.str.to_uppercase() if s is not None else empty
    pname = get("precinct_name")
    out["precinct_desc"] = pname.str.to_uppercase() if pname is not None else out["precinct_abbrv"]
    for target, fld in (("cong_dist_abbrv", "congressional_district"), ("nc_senate_abbrv", "state_senate_district"),
                        ("nc_house_abbrv", "state_house_district")):
        dist = _district(get(fld))
        out[target] = dist if dist is not None else empty

    # Dates: registration date, date of birth -> birth year; else birth year; else age.
    def dates(fld: str) -> list[dt.date | None]:
        s = get(fld)
        if s is None:
            return [None] * n
        fast = _fast_dates(s, mapping.date_order).to_list()
        slow = _per_value(
            pl.Series([v if f is None else None for v, f in zip(s.to_list(), fast, strict=True)], dtype=pl.Utf8),
            lambda v: parse_date(v, mapping.date_order)[0],
        )
        res: list[dt.date | None] = []
        for i, (raw, f, sl) in enumerate(zip(s.to_list(), fast, slow, strict=True)):
            d = f if f is not None else sl
            if raw is not None and (d is None or d > snapshot or d.year < 1850):
                why = "is not a readable date" if d is None else "is out of range"
                flags.append((i, col_of(fld), raw, f"{fld} {raw!r} {why} (stored empty; the value is kept here)"))
                d = None
            res.append(d)
        return res

    out_reg = dates("registration_date")
    dob = dates("dob")
    by = get("birth_year")
    age = get("age")
    by_vals: list[str | None] = by.to_list() if by is not None else [None] * n
    age_vals: list[str | None] = age.to_list() if age is not None else [None] * n
    birth: list[int | None] = []
    for i in range(n):
        born = dob[i]
        year: int | None = born.year if born is not None else None
        y = by_vals[i]
        if year is None and y:
            if y.isdigit() and 1850 <= int(y) <= snapshot.year:
                year = int(y)
            else:
                flags.append((i, col_of("birth_year"), y, "birth_year is not a year (stored empty)"))
        a = age_vals[i]
        if year is None and a:
            if a.isdigit() and int(a) < 130:
                year = snapshot.year - int(a)
            else:
                flags.append((i, col_of("age"), a, "age is not a number of years (stored empty)"))
        birth.append(year)
    out["registr_dt"] = pl.Series(out_reg, dtype=pl.Date)
    out["birth_year"] = pl.Series(birth, dtype=pl.Int32)
    out["age_at_year_end"] = pl.Series([snapshot.year - y if y else None for y in birth], dtype=pl.Int32)
    county = get("county")
    out["county_desc"] = (
        pl.Series(_per_value(county, _county_key), dtype=pl.Utf8) if county is not None else empty
    )

    cols = {}
    for name in ncvoter_layout().column_names:
        if name == "county_id":
            cols[name] = pl.Series(name, [None] * n, dtype=pl.Int32)
        elif name in out:
            cols[name] = out[name].alias(name)
        else:
            cols[name] = pl.Series(name, [None] * n, dtype=_TYPED.get(name, pl.Utf8))
    df = pl.DataFrame(cols).with_columns(
        pl.Series("address_withheld", withheld, dtype=pl.Utf8),
        pl.Series("_line", row_numbers, dtype=pl.Int64),
        pl.Series("_raw", raws, dtype=pl.Utf8),
        pl.Series("_birth_date", dob, dtype=pl.Date),
        _extra_json(frame, mapping),
    )

    # Rows that cannot be loaded: no id, no last name, an empty county when counties are mapped.
    rejects: list[tuple[int, str | None, str, str, str]] = []
    keys: list[tuple[str, str | None]] = []
    keep = [True] * n
    reg_l, last_l = reg_id.to_list(), out["last_name"].to_list()
    county_l = out["county_desc"].to_list()
    for i in range(n):
        why: tuple[str | None, str, str] | None = None
        if not reg_l[i]:
            why = (col_of("registration_id"), "missing_key",
                   f"column {col_of('registration_id')!r} (registration id) is empty; "
                   "a registration cannot be loaded without its id")
        elif not last_l[i]:
            src_col = mapping.column_for("last_name") or mapping.column_for("full_name")
            why = (src_col, "bad_value", f"column {src_col!r} (last name) is empty; fix the row and reload the file")
        elif county is not None and not county_l[i]:
            why = (col_of("county"), "missing_key",
                   f"column {col_of('county')!r} (county) is empty; the registration cannot be placed in a county")
        if why:
            keep[i] = False
            rejects.append((row_numbers[i], why[0], why[1], why[2], raws[i]))
            if reg_l[i]:
                keys.append((reg_l[i], county_l[i]))
    mask = pl.Series("keep", keep, dtype=pl.Boolean)
    dropped = {row_numbers[i] for i in range(n) if not keep[i]}
    flag_rows = [(row_numbers[i], c, v, r) for i, c, v, r in flags if row_numbers[i] not in dropped]
    return _Norm(frame=df.filter(mask), flags=flag_rows, rejects=rejects, keys=keys)


_SLASH_DATE = r"^\d{1,2}/\d{1,2}/\d{4}$"
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"


def _fast_dates(s: pl.Series, order: str) -> pl.Series:
    """Column-wise parse of the two common shapes (a/b/yyyy in the layout's order, ISO);
    null where the shape is different or the date impossible (the ingest parser decides)."""
    slash = {"MDY": "%m/%d/%Y", "DMY": "%d/%m/%Y"}.get(order)
    frame = pl.DataFrame({"v": s})
    exprs = [pl.when(pl.col("v").str.contains(_ISO_DATE)).then(pl.col("v").str.to_date("%Y-%m-%d", strict=False))]
    if slash:
        exprs.append(
            pl.when(pl.col("v").str.contains(_SLASH_DATE)).then(pl.col("v").str.to_date(slash, strict=False))
        )
    return frame.select(pl.coalesce(exprs).alias("d")).to_series()


def _extra_json(frame: pl.DataFrame, mapping: ColumnMapping) -> pl.Series:
    """The columns mapped to no voter field (custom) as one JSON object per row; null if all empty."""
    cols = [c for c in frame.columns if mapping.rule(c).field == CUSTOM]
    if not cols:
        return pl.Series("_extra", [None] * frame.height, dtype=pl.Utf8)
    clean = pl.DataFrame([_clean(frame[c]) for c in cols])
    return clean.select(
        pl.when(pl.any_horizontal(pl.all().is_not_null()))
        .then(pl.struct(pl.all()).struct.json_encode())
        .alias("_extra")
    ).to_series()


def _county_key(v: str) -> str:
    v = " ".join(v.upper().split())
    return v[: -len(" COUNTY")] if v.endswith(" COUNTY") and len(v) > 7 else v


# ---------------------------------------------------------------------------------------
# The import


def _noop(_pct: float, _msg: str) -> None:
    return None


@memory_capped
def vendor_voterfile_import(
    *,
    warehouse: Warehouse,
    path: str,
    state: str,
    layout: VoterLayout | None = None,
    as_of: str | None = None,
    job_id: int | None = None,
    progress: Progress | None = None,
) -> Reconciliation:
    """Load another state's or a vendor's voter file into `voter` (+ history, persons).

    Runs inside the caller's (the job's) warehouse transaction; a failure leaves nothing.
    """
    from unionhall.elections.voterfile import _apply  # the NC importer's diff, history and write

    say = progress or _noop
    state = state_check(state)
    if layout is not None and layout.state and layout.state != state:
        raise UserError(
            f"layout {layout.name or ''} is for {layout.state}, not --state {state}: pick the layout "
            "for this state's file (or leave --state out to use the layout's)"
        )
    file = file_check(path)
    say(2, "fingerprinting the file")
    info = file_fingerprint(file)
    cur = warehouse.cursor()
    kind = f"voterfile_{state.lower()}"
    rec = Reconciliation(kind=kind, file=info.name, sha256=info.sha256)
    if already_loaded(cur, rec):
        return rec
    snapshot, source = snapshot_date_resolve(as_of, file)
    rec.snapshot_date = snapshot.isoformat()
    rec.notes.append(f"snapshot date {snapshot} (from the {source})")
    newer = cur.execute(
        "SELECT max(snapshot_date), arg_max(load_id, snapshot_date) FROM election_load WHERE kind = ?", [kind]
    ).fetchone()
    if newer and newer[0] is not None and newer[0] > snapshot:
        raise UserError(
            f"{info.name}: this file is dated {snapshot}, older than the {state} voter file already loaded "
            f"({newer[0]}, load {newer[1]}); loading it would roll registrations back — "
            "pass --as-of with the file's real date if it is wrong"
        )
    say(4, "reading the header and fitting the layout")
    resolved = layout_resolve(path=file, layout=layout)
    lay = resolved.layout
    rec.layout = f"{lay.name or 'suggested mapping'} ({state})"
    rec.encoding = resolved.reader.encoding or ""
    rec.notes += resolved.notes
    mapping = lay.mapping
    load_id = load_next_id(cur)
    rec.load_id = load_id

    frames: list[pl.DataFrame] = []
    flags: list[tuple[int, str, str | None, str]] = []
    rejects: list[tuple[int, str | None, str, str, str]] = []
    keys: list[tuple[str, str | None]] = []
    say(6, "reading and normalizing rows")
    for batch in resolved.reader.batches():
        rec.rows_read += batch.rows_read
        for r in batch.rejected:
            rejects.append((r.row_number, None, r.code, r.reason, r.raw))
        if batch.frame.height:
            norm = _normalize_batch(
                batch.frame, batch.row_numbers.to_list(), batch.raw.to_list(),
                mapping=mapping, state=state, snapshot=snapshot,
            )
            frames.append(norm.frame)
            flags += norm.flags
            rejects += norm.rejects
            keys += norm.keys
        say(min(50.0, 6 + rec.rows_read / 20_000), f"read {rec.rows_read:,} rows")
    staged = pl.concat(frames) if frames else _normalize_batch(
        pl.DataFrame({c: pl.Series([], dtype=pl.Utf8) for c in resolved.reader.header}), [], [],
        mapping=mapping, state=state, snapshot=snapshot,
    ).frame
    say(55, "placing counties and checking duplicates")
    fips = STATE_FIPS[state] * 1000
    cur.execute("DROP TABLE IF EXISTS _el_vvstage")
    cur.register("_el_vvstage_arrow", staged.to_arrow())
    cur.execute("CREATE TEMP TABLE _el_vvstage AS SELECT * FROM _el_vvstage_arrow")
    cur.unregister("_el_vvstage_arrow")
    county_ids = _county_ids(cur, fips=fips, names=staged["county_desc"].unique().to_list())
    cur.execute("DROP TABLE IF EXISTS _el_vvcounty")
    cur.execute("CREATE TEMP TABLE _el_vvcounty (county_desc VARCHAR, county_id INTEGER)")
    if county_ids:
        cur.executemany("INSERT INTO _el_vvcounty VALUES (?, ?)", [[k, v] for k, v in county_ids.items()])
    cur.execute(
        "UPDATE _el_vvstage SET county_id = c.county_id FROM _el_vvcounty c "
        "WHERE c.county_desc = _el_vvstage.county_desc"
    )
    cur.execute("UPDATE _el_vvstage SET county_id = ? WHERE county_id IS NULL", [fips])
    # Ids are unique in a state: a second row with the same id is quarantined.
    dupes = cur.execute(
        """
        SELECT _line, voter_reg_num, first_line, _raw FROM (
          SELECT _line, voter_reg_num, _raw, min(_line) OVER (PARTITION BY voter_reg_num) AS first_line
          FROM _el_vvstage) WHERE _line > first_line ORDER BY _line
        """
    ).fetchall()
    reg_col = mapping.column_for("registration_id")
    for line, reg, first_line, raw in dupes:
        rejects.append((line, reg_col, "duplicate",
                        f"registration {state}:{reg} in column {reg_col!r} already appears on row {first_line} "
                        "(that row was loaded)", raw))
    if dupes:
        cur.execute("DELETE FROM _el_vvstage WHERE _line IN (SELECT unnest(?::BIGINT[]))", [[d[0] for d in dupes]])
    flags = [f for f in flags if f[0] not in {d[0] for d in dupes}]

    say(60, "recording quarantined rows and flags")
    if rejects:
        cur.executemany(
            "INSERT INTO election_quarantine VALUES (?, ?, ?, ?, ?, ?)",
            [(load_id, line, col, code, reason, raw) for line, col, code, reason, raw in sorted(rejects, key=lambda r: r[0])],
        )
        for _l, _c, code, _r, _raw in rejects:
            rec.quarantine[code] = rec.quarantine.get(code, 0) + 1
        rec.rows_quarantined += len(rejects)
    if flags:
        cur.executemany(
            "INSERT INTO election_flag VALUES (?, ?, ?, ?, ?)",
            [(load_id, line, col, value, reason) for line, col, value, reason in flags],
        )
        for _l, col, _v, _r in flags:
            rec.flags[col] = rec.flags.get(col, 0) + 1
    # Keys readable from quarantined rows: those registrations are not "removed".
    relation_drop(cur, "_el_vrejkeys")
    cur.execute("CREATE TEMP TABLE _el_vrejkeys (county_id INTEGER, voter_reg_num VARCHAR)")
    if keys:
        cur.executemany(
            "INSERT INTO _el_vrejkeys VALUES (?, ?)",
            [(county_ids.get(c, fips) if c else fips, r) for r, c in keys],
        )
    cur.execute("DROP TABLE IF EXISTS _el_vvextra")
    cur.execute(
        "CREATE TEMP TABLE _el_vvextra AS SELECT county_id, voter_reg_num, ncid, _birth_date, _extra FROM _el_vvstage"
    )
    cols = ", ".join(ncvoter_layout().column_names)
    relation_drop(cur, "_el_vn")
    cur.execute(f"CREATE TEMP TABLE _el_vn AS SELECT _line, {cols}, address_withheld FROM _el_vvstage")  # noqa: S608
    cur.execute("DROP TABLE _el_vvstage")
    cur.execute("DROP TABLE _el_vvcounty")

    say(65, "comparing with the registrations already loaded")
    _apply(cur, load_id=load_id, snapshot=snapshot.isoformat(), rec=rec)
    _moves_close(cur, load_id=load_id, snapshot=snapshot.isoformat(), fips=fips, rec=rec)
    # The date of birth and the unmapped columns, which NC's columns have no room for.
    cur.execute(
        """
        DELETE FROM voter_extra USING _el_vvextra e
        WHERE voter_extra.county_id = e.county_id AND voter_extra.voter_reg_num = e.voter_reg_num
        """
    )
    cur.execute(
        """
        INSERT INTO voter_extra
        SELECT county_id, voter_reg_num, ncid, ?, _birth_date, _extra::JSON, ? FROM _el_vvextra
        WHERE _birth_date IS NOT NULL OR _extra IS NOT NULL
        """,
        [state, load_id],
    )
    say(85, "updating persons")
    person_upsert_from_voters(warehouse=warehouse, load_id=load_id)
    rec.rows_flagged = flagged_rows(cur, load_id)
    relation_drop(cur, "_el_vn", "_el_vcmp", "_el_vgone", "_el_vrejkeys", "_el_vvextra")
    load_record(cur, rec, info=info, job_id=job_id)
    say(100, f"{rec.new:,} new, {rec.changed:,} changed, {rec.removed:,} removed")
    return rec


def _moves_close(cur: duckdb.DuckDBPyConnection, *, load_id: int, snapshot: str, fips: int, rec: Reconciliation) -> None:
    """Registrations that moved to another county of the state: the old one is dropped.

    Ids are unique in a state, so the id listed under a new county means the old county's
    registration is gone, even when the file does not cover the old county (the NC apply
    step only removes within the counties a file covers).
    """
    from unionhall.elections.schema import TRACKED_COLUMNS

    tracked = ", ".join(TRACKED_COLUMNS)
    cur.execute("DROP TABLE IF EXISTS _el_vvmoved")
    cur.execute(
        """
        CREATE TEMP TABLE _el_vvmoved AS
        SELECT o.* FROM voter o
        WHERE o.in_file AND o.county_id >= ? AND o.county_id < ? AND o.last_load_id <> ?
          AND o.voter_reg_num IN (SELECT voter_reg_num FROM voter
                                  WHERE last_load_id = ? AND county_id >= ? AND county_id < ?)
        """,
        [fips, fips + 1000, load_id, load_id, fips, fips + 1000],
    )
    moved = int(cur.execute("SELECT count(*) FROM _el_vvmoved").fetchone()[0])  # type: ignore[index]
    if moved:
        cur.execute(
            """
            UPDATE voter_history SET valid_to = ?::DATE, closed_load_id = ?
            FROM _el_vvmoved m
            WHERE voter_history.closed_load_id IS NULL
              AND voter_history.county_id = m.county_id AND voter_history.voter_reg_num = m.voter_reg_num
            """,
            [snapshot, load_id],
        )
        cur.execute(
            f"""
            INSERT INTO voter_history
            SELECT county_id, voter_reg_num, ncid, {tracked}, false, 'dropped', ?::DATE, NULL, ?, NULL
            FROM _el_vvmoved
            """,  # noqa: S608  (column names are constants)
            [snapshot, load_id],
        )
        cur.execute(
            """
            UPDATE voter SET in_file = false, changed_load_id = ?, last_load_id = ?
            FROM _el_vvmoved m WHERE voter.county_id = m.county_id AND voter.voter_reg_num = m.voter_reg_num
            """,
            [load_id, load_id],
        )
        rec.removed += moved
        rec.notes.append(f"{moved:,} registration(s) moved to another county: the old county's one is dropped")
    cur.execute("DROP TABLE _el_vvmoved")


def _county_ids(cur: duckdb.DuckDBPyConnection, *, fips: int, names: list[str | None]) -> dict[str, int]:
    """County name -> id in the state's range, reusing the ids earlier loads gave."""
    rows = cur.execute(
        "SELECT county_desc, min(county_id) FROM voter WHERE county_id > ? AND county_id < ? "
        "AND county_desc IS NOT NULL GROUP BY county_desc",
        [fips, fips + 1000],
    ).fetchall()
    known = {str(r[0]): int(r[1]) for r in rows}
    nxt = max(known.values(), default=fips) + 1
    for name in sorted(n for n in names if n):
        if name not in known:
            if nxt >= fips + 1000:
                raise UserError(f"more than 999 counties for one state in the voter file: is the county column right ({name!r})?")
            known[name] = nxt
            nxt += 1
    return known
