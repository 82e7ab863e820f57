"""The member schema and the mapping of a source file's columns onto it.

A `ColumnMapping` says, for each source column, which schema field it holds (or that it
is a custom field, or to skip it). `suggest_mapping()` proposes one from the header names
and the values; a person confirms or edits it, and it is saved per source (affiliate) as
JSON and reused for that source's next file (`ColumnMapping.for_header`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

from unionhall.errors import UserError

MAPPING_VERSION = 1

# field name -> description shown on the mapping page.
MEMBER_SCHEMA: dict[str, str] = {
    "member_id": "Member id or number assigned by the union or affiliate",
    "local": "Local union number (e.g. 'Local 123' -> 123)",
    "prefix": "Title before the name (Mr, Ms, Dr, Rev...)",
    "first_name": "First (given) name",
    "middle_name": "Middle name or initial",
    "last_name": "Last (family) name",
    "suffix": "Generational or professional suffix (Jr, Sr, III, MD...)",
    "full_name": "Whole name in one column ('LAST, FIRST M' or 'First M Last Jr')",
    "addr_line1": "Street address (house number, street, optionally the unit)",
    "addr_line2": "Second address line (apartment, suite, unit)",
    "city": "City",
    "state": "State (code or name)",
    "zip": "ZIP code (5 digits or ZIP+4)",
    "full_address": "Whole mailing address in one column ('123 Main St, Springfield, IL 62701')",
    "phone": "A phone number; several columns allowed, each with a type (cell, home, work)",
    "email": "An email address; several columns allowed",
    "dob": "Date of birth",
    "gender": "Gender",
    "employer": "Employer",
    "worksite": "Worksite, shop or workplace",
    "member_status": "Membership status (active, retired, ...)",
    "dues_status": "Dues status (current, in arrears, ...)",
    "join_date": "Date the person joined (initiation date)",
}
CUSTOM = "custom"  # keep the column as a custom field
SKIP = "skip"  # do not import the column (e.g. SSNs the federation must not hold)
MULTI_FIELDS = frozenset({"phone", "email"})
PHONE_TYPES = ("cell", "home", "work", "other")
DATE_ORDERS = ("MDY", "DMY", "YMD")


@dataclass(frozen=True)
class ColumnRule:
    """What one source column holds.

    `confidence` and `reason` explain a suggestion (1.0 / "" once a person confirmed it).
    """

    field: str
    phone_type: str | None = None
    custom_name: str | None = None
    confidence: float = 1.0
    reason: str = ""

    def __post_init__(self) -> None:
        if self.field not in MEMBER_SCHEMA and self.field not in (CUSTOM, SKIP) and not _other_schema_field(self.field):
            raise UserError(
                f"unknown member field {self.field!r}; choose one of "
                f"{', '.join(MEMBER_SCHEMA)}, {CUSTOM} or {SKIP}"
            )
        if self.phone_type is not None and self.phone_type not in PHONE_TYPES:
            raise UserError(f"unknown phone type {self.phone_type!r}; choose one of {', '.join(PHONE_TYPES)}")


@dataclass
class ColumnMapping:
    """Source column -> `ColumnRule`, in source column order, plus file-wide options.

    `date_order` settles dates like 03/04/1980 (MDY in US files; DMY for some exports).
    Columns not mentioned are kept as custom fields.
    """

    columns: dict[str, ColumnRule] = field(default_factory=dict)
    date_order: str = "MDY"
    source: str | None = None
    schema: str = "member"
    """The target schema's name: "member" (MEMBER_SCHEMA) or "voter" (voter files)."""

    def __post_init__(self) -> None:
        if self.date_order not in DATE_ORDERS:
            raise UserError(f"date order must be one of {', '.join(DATE_ORDERS)}, not {self.date_order!r}")
        fields = target_schema(self.schema).fields
        for col, rule in self.columns.items():
            if rule.field not in fields and rule.field not in (CUSTOM, SKIP):
                raise UserError(
                    f"column {col!r}: {rule.field!r} is not a {self.schema} field; choose one of "
                    f"{', '.join(fields)}, {CUSTOM} or {SKIP}"
                )

    def rule(self, column: str) -> ColumnRule:
        return self.columns.get(column) or ColumnRule(CUSTOM, confidence=0.0, reason="not mapped")

    def columns_for(self, field_name: str) -> list[str]:
        """Source columns mapped to `field_name`, in source order."""
        return [c for c, r in self.columns.items() if r.field == field_name]

    def column_for(self, field_name: str) -> str | None:
        cols = self.columns_for(field_name)
        return cols[0] if cols else None

    def problems(self) -> list[str]:
        """Things a person must fix before importing (empty list when the mapping is usable)."""
        ts = target_schema(self.schema)
        out = []
        for name in ts.fields:
            cols = self.columns_for(name)
            if len(cols) > 1 and name not in ts.multi_fields:
                out.append(f"{name} is mapped from more than one column ({', '.join(map(repr, cols))}); keep one")
        for alternatives, what in ts.required:
            if not any(self.columns_for(f) for f in alternatives):
                out.append(f"no column is mapped to {what} ({' or '.join(alternatives)})")
        return out

    def to_json(self) -> str:
        """Serialize for storage (stable key order, human-readable)."""
        data: dict[str, object] = {
            "version": MAPPING_VERSION,
            "source": self.source,
            "date_order": self.date_order,
        }
        if self.schema != "member":
            data["schema"] = self.schema
        data |= {
            "columns": [
                {"column": col, **{k: v for k, v in asdict(rule).items() if v is not None}}
                for col, rule in self.columns.items()
            ],
        }
        return json.dumps(data, indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> ColumnMapping:
        """Load a mapping saved by `to_json` (raises UserError on malformed JSON)."""
        try:
            data = json.loads(text)
            if data.get("version") != MAPPING_VERSION:
                raise UserError(f"saved mapping has version {data.get('version')!r}; expected {MAPPING_VERSION}")
            columns = {}
            for item in data["columns"]:
                item = dict(item)
                col = item.pop("column")
                columns[col] = ColumnRule(**item)
            return cls(columns=columns, date_order=data.get("date_order", "MDY"), source=data.get("source"),
                       schema=data.get("schema", "member"))
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"saved column mapping is not valid JSON for a mapping ({exc})") from None

    def for_header(self, header: Sequence[str]) -> tuple[ColumnMapping, list[str]]:
        """Reuse a saved mapping for a new file from the same source.

        Columns are matched by name, ignoring case and spacing. New columns become custom
        fields; mapped columns missing from the new file are reported.
        """
        by_key = {_key(c): r for c, r in self.columns.items()}
        columns: dict[str, ColumnRule] = {}
        notes = []
        for col in header:
            rule = by_key.get(_key(col))
            if rule is None:
                notes.append(f"new column {col!r} kept as a custom field")
                rule = ColumnRule(CUSTOM, confidence=0.0, reason="new column")
            columns[col] = rule
        present = {_key(c) for c in header}
        for col, rule in self.columns.items():
            if _key(col) not in present and rule.field not in (CUSTOM, SKIP):
                notes.append(f"column {col!r} ({rule.field}) is missing from this file")
        return replace(self, columns=columns), notes


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9#]+", " ", name.casefold()).strip()


# ---------------------------------------------------------------------------------------
# Suggestions


def _syn(*names: str) -> set[str]:
    return {_key(n) for n in names}


# Exact header names (after _key) per field, with the phone type where one is implied.
_HEADER_SYNONYMS: list[tuple[str, str | None, set[str]]] = [
    ("member_id", None, _syn("member id", "memberid", "member #", "member no", "member number", "mbr id",
                             "mbr #", "id", "member_num", "membership id", "membership number", "badge",
                             "badge number", "union id", "card number", "emp id", "employee id", "employee number")),
    ("local", None, _syn("local", "local #", "local number", "local no", "local union", "lu", "local id",
                         "chapter", "local name", "affiliate local")),
    ("prefix", None, _syn("prefix", "title", "salutation", "honorific", "name prefix")),
    ("first_name", None, _syn("first name", "first", "fname", "first_name", "given name", "forename",
                              "member first", "member first name", "firstname", "f name", "first nm", "nickname first")),
    ("middle_name", None, _syn("middle name", "middle", "mname", "mi", "middle initial", "m i", "middle_name",
                               "member middle", "middlename", "init", "initial")),
    ("last_name", None, _syn("last name", "last", "lname", "surname", "family name", "member last",
                             "member last name", "lastname", "l name", "last nm")),
    ("suffix", None, _syn("suffix", "name suffix", "sfx", "jr sr", "generation")),
    ("full_name", None, _syn("name", "full name", "member name", "fullname", "member", "name last first",
                             "last first", "last, first", "member full name", "contact name", "display name")),
    ("addr_line1", None, _syn("address", "address 1", "address1", "address line 1", "addr1", "addr 1",
                              "street", "street address", "mailing address", "home address", "res address",
                              "residential address", "address line1", "mail address 1", "addr line 1", "street 1")),
    ("addr_line2", None, _syn("address 2", "address2", "address line 2", "addr2", "addr 2", "apt", "apartment",
                              "unit", "suite", "apt #", "apt no", "address line2", "mail address 2", "street 2")),
    ("city", None, _syn("city", "town", "municipality", "mail city", "res city", "city name")),
    ("state", None, _syn("state", "st", "state code", "province", "mail state", "res state", "state abbr")),
    ("zip", None, _syn("zip", "zip code", "zipcode", "postal", "postal code", "postcode", "zip5", "zip 5",
                       "mail zip", "res zip", "zip+4", "zip 4", "post code")),
    ("full_address", None, _syn("full address", "complete address", "mailing address full", "address full")),
    ("phone", "cell", _syn("cell", "cell phone", "cellphone", "mobile", "mobile phone", "cell #", "cell number",
                           "mobile number", "wireless", "text", "sms", "cell no")),
    ("phone", "home", _syn("home phone", "home", "home #", "home number", "landline", "residence phone", "home tel")),
    ("phone", "work", _syn("work phone", "work", "business phone", "office phone", "work #", "office",
                           "daytime phone", "work tel")),
    ("phone", "other", _syn("phone", "phone number", "telephone", "tel", "phone #", "phone no", "contact phone",
                            "primary phone", "alt phone", "other phone", "phone 1", "phone 2", "phone 3", "phone1",
                            "phone2", "phone3")),
    ("email", None, _syn("email", "e mail", "email address", "e mail address", "emailaddress", "mail",
                         "personal email", "work email", "email 1", "email 2", "email1", "email2", "primary email")),
    ("dob", None, _syn("dob", "birth date", "birthdate", "date of birth", "birthday", "birth dt", "d o b",
                       "bdate", "born", "birth")),
    ("gender", None, _syn("gender", "sex", "gender identity", "m f")),
    ("employer", None, _syn("employer", "employer name", "company", "company name", "agency", "department",
                            "dept", "bargaining unit", "contractor", "signatory", "signatory employer")),
    ("worksite", None, _syn("worksite", "work site", "work location", "jobsite", "job site", "site", "location",
                            "facility", "shop", "workplace", "building", "store", "store #", "worksite name",
                            "school", "campus", "unit name")),
    ("member_status", None, _syn("status", "member status", "membership status", "mbr status", "member type",
                                 "membership type", "class", "member class", "category")),
    ("dues_status", None, _syn("dues status", "dues", "dues paid", "dues standing", "in good standing",
                               "good standing", "arrears", "paid thru", "paid through", "dues paid thru")),
    ("join_date", None, _syn("join date", "joined", "init date", "initiation date", "date joined", "member since",
                             "start date", "hire date", "enrollment date", "date of initiation", "initiated",
                             "join dt", "membership date", "seniority date")),
]
def _exact_table(synonyms: Sequence[tuple[str, str | None, set[str]]]) -> dict[str, tuple[str, str | None]]:
    table: dict[str, tuple[str, str | None]] = {}
    for fld, ptype, names in synonyms:
        for n in names:
            table.setdefault(n, (fld, ptype))
            table.setdefault(n.replace(" ", ""), (fld, ptype))
    return table


_EXACT = _exact_table(_HEADER_SYNONYMS)

# Word rules for headers not in the table ("Member Cell Phone", "Primary E-mail Addr").
_WORD_RULES: list[tuple[re.Pattern[str], str, str | None]] = [
    (re.compile(r"\b(e ?mail)\b"), "email", None),
    (re.compile(r"\b(cell|mobile|wireless)\b"), "phone", "cell"),
    (re.compile(r"\bhome\b.*\b(phone|tel|number)\b|\b(phone|tel)\b.*\bhome\b"), "phone", "home"),
    (re.compile(r"\b(work|office|business)\b.*\b(phone|tel)\b"), "phone", "work"),
    (re.compile(r"\b(phone|tel|telephone)\b"), "phone", "other"),
    (re.compile(r"\b(birth|dob)\b"), "dob", None),
    (re.compile(r"\b(zip|postal)\b"), "zip", None),
    (re.compile(r"\b(init|initiation|join|joined)\b.*\b(date|dt)\b"), "join_date", None),
    (re.compile(r"\blast\b.*\bname\b|\bsurname\b"), "last_name", None),
    (re.compile(r"\bfirst\b.*\bname\b|\bgiven\b"), "first_name", None),
    (re.compile(r"\bmiddle\b"), "middle_name", None),
    (re.compile(r"\bdues\b"), "dues_status", None),
    (re.compile(r"\bstatus\b"), "member_status", None),
    (re.compile(r"\bemployer\b"), "employer", None),
    (re.compile(r"\b(worksite|work site|work location|job site)\b"), "worksite", None),
    (re.compile(r"\bcity\b"), "city", None),
    (re.compile(r"\bstate\b"), "state", None),
    (re.compile(r"\baddr(ess)?\b.*\b(2|two|ii)\b"), "addr_line2", None),
    (re.compile(r"\b(addr|address|street)\b"), "addr_line1", None),
    (re.compile(r"\blocal\b"), "local", None),
    (re.compile(r"\b(member|mbr)\b.*\b(id|no|num|number|#)\b"), "member_id", None),
    (re.compile(r"\bname\b"), "full_name", None),
]



@dataclass(frozen=True)
class TargetSchema:
    """What a mapping maps onto: the fields and how to recognise them in headers and values.

    `content_fields` renames the content guesses (which speak member fields: dob, join_date,
    phone...) to this schema's fields; a guess with no entry is ignored. `header_wins` are
    fields whose header name is trusted over what the values look like (ids and district
    numbers look like ZIPs or phone numbers). `combined` lists a whole-value field and the
    part fields that make it redundant. `prefixes` are vendor prefixes stripped from header
    names before the synonym lookup ("voters", "vb tsmart").
    """

    name: str
    fields: dict[str, str]
    synonyms: list[tuple[str, str | None, set[str]]]
    word_rules: list[tuple[re.Pattern[str], str, str | None]]
    multi_fields: frozenset[str]
    required: tuple[tuple[tuple[str, ...], str], ...]
    content_fields: dict[str, str]
    compatible: tuple[frozenset[str], ...] = ()
    header_wins: frozenset[str] = frozenset()
    zip_header_wins: frozenset[str] = frozenset()
    combined: tuple[tuple[str, tuple[str, ...]], ...] = ()
    prefixes: tuple[str, ...] = ()
    unmapped: str = "kept as a custom field"
    """What happens to a column mapped to nothing (said in suggestion reasons)."""
    exact: dict[str, tuple[str, str | None]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not self.exact:
            self.exact.update(_exact_table(self.synonyms))


MEMBER_TARGET = TargetSchema(
    name="member",
    fields=MEMBER_SCHEMA,
    synonyms=_HEADER_SYNONYMS,
    word_rules=_WORD_RULES,
    multi_fields=MULTI_FIELDS,
    required=((("first_name", "last_name", "full_name"), "a name"),),
    content_fields={f: f for f in MEMBER_SCHEMA},
    compatible=(frozenset({"dob", "join_date"}), frozenset({"addr_line1", "full_address"})),
    zip_header_wins=frozenset({"member_id", "local", CUSTOM}),
    combined=(("full_name", ("first_name", "last_name")), ("full_address", ("addr_line1",))),
    exact=_EXACT,
)
_TARGETS: dict[str, TargetSchema] = {"member": MEMBER_TARGET}


def target_schema_register(schema: TargetSchema) -> TargetSchema:
    """Make a target schema available to `ColumnMapping(schema=...)` and `suggest_mapping`."""
    _TARGETS[schema.name] = schema
    return schema


def target_schema(name: str) -> TargetSchema:
    """The registered target schema called `name` ("member", "voter")."""
    if name not in _TARGETS and name == "voter":
        # Defined beside the voter-file importer; imported here on first use.
        import unionhall.ingest.voter_schema  # noqa: F401
    try:
        return _TARGETS[name]
    except KeyError:
        raise UserError(f"unknown mapping schema {name!r}; choose one of {', '.join(_TARGETS)}") from None


def _other_schema_field(name: str) -> bool:
    return any(name in t.fields for t in _TARGETS.values()) or (
        "voter" not in _TARGETS and name in target_schema("voter").fields
    )


_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE_RE = re.compile(r"^\+?1?[\s().\-]*\d{3}[\s).\-]*\d{3}[\s.\-]*\d{4}$")
_ZIP_RE = re.compile(r"^\d{5}(-?\d{4})?$|^\d{4}$")
_COMMA_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z'\-. ]*,\s*[A-Za-z][A-Za-z'\-. ]*$")
_FULL_ADDRESS_RE = re.compile(r"^\d+\s+\S.*,\s*[A-Za-z .]+,?\s+[A-Za-z]{2}\s+\d{5}(-\d{4})?$")
_STREET_RE = re.compile(r"^\d+[A-Za-z]?\s+[A-Za-z0-9 .#'\-]+$")
_GENDER_VALUES = {"m", "f", "male", "female", "x", "u", "nb", "non-binary", "nonbinary", "w", "woman", "man", "unknown"}


def is_known_header(name: str) -> bool:
    """True when `name` is a usual column name for a member field ("Last Name", "DOB")."""
    key = _key(name)
    return key in _EXACT or key.replace(" ", "") in _EXACT


def _share(values: Sequence[str], test: re.Pattern[str] | Callable[[str], object]) -> float:
    if not values:
        return 0.0
    fn = test.match if isinstance(test, re.Pattern) else test
    return sum(1 for v in values if fn(v)) / len(values)


def _content_guess(values: Sequence[str], date_order: str) -> tuple[str, str | None, float, str] | None:
    """Guess a field from a column's values alone: (field, phone type, share, reason)."""
    from unionhall.ingest.standardize.codes import STATE_CODES, STATE_NAMES
    from unionhall.ingest.standardize.dates import parse_date

    vals = [v.strip() for v in values if v and v.strip()]
    if len(vals) < 3:
        return None
    checks: list[tuple[str, str | None, float, str]] = []
    s = _share(vals, _EMAIL_RE)
    checks.append(("email", None, s, "look like email addresses"))
    s = _share(vals, _PHONE_RE)
    checks.append(("phone", "other", s, "look like 10-digit phone numbers"))
    s = _share(vals, _FULL_ADDRESS_RE)
    checks.append(("full_address", None, s, "look like whole addresses with state and ZIP"))
    s = _share(vals, _COMMA_NAME_RE)
    checks.append(("full_name", None, s, "look like 'LAST, FIRST' names"))
    s = _share(vals, lambda v: v.upper() in STATE_CODES or v.upper() in STATE_NAMES)
    checks.append(("state", None, s, "are state codes or names"))
    s = _share(vals, _ZIP_RE)
    checks.append(("zip", None, s, "look like ZIP codes"))
    s = _share(vals, lambda v: v.lower() in _GENDER_VALUES)
    checks.append(("gender", None, s * 0.99, "look like gender codes"))
    # Dates: pure digit runs are ZIPs or ids, so only values with separators or month names.
    s = _share(vals, lambda v: not v.isdigit() and parse_date(v, date_order)[0] is not None)
    if s:
        years = [d.year for v in vals if (d := parse_date(v, date_order)[0]) is not None]
        median = sorted(years)[len(years) // 2]
        # Birth years sit decades back; join dates are recent. Header names decide when present.
        fld = "dob" if median < 1995 else "join_date"
        checks.append((fld, None, s, "look like dates" + (" of birth" if fld == "dob" else "")))
    s = _share(vals, _STREET_RE)
    checks.append(("addr_line1", None, s * 0.95, "look like street addresses"))
    best = max(checks, key=lambda c: c[2])
    return best if best[2] >= 0.8 else None


def _header_guess(name: str, ts: TargetSchema = MEMBER_TARGET) -> tuple[str, str | None, str] | None:
    key = _key(name)
    keys = [key]
    for prefix in ts.prefixes:
        if key.startswith(prefix + " ") and len(key) > len(prefix) + 1:
            keys.append(key[len(prefix) + 1:])
    for base in keys:
        compact = base.replace(" ", "")
        for k in (base, compact, re.sub(r"\s*\d+$", "", base)):
            if k in ts.exact:
                fld, ptype = ts.exact[k]
                return fld, ptype, f"header {name!r} is a usual name for {fld}"
    for pattern, fld, ptype in ts.word_rules:
        if pattern.search(keys[-1]):
            return fld, ptype, f"header {name!r} mentions {fld.replace('_', ' ')}"
    return None


def suggest_mapping(
    header: Sequence[str],
    sample_rows: Sequence[Sequence[str]],
    *,
    source: str | None = None,
    schema: str = "member",
) -> ColumnMapping:
    """Propose a mapping from header names and the values in `sample_rows`.

    Header names win when the content does not contradict them; content decides for
    unknown or generic headers ("Field7", "Contact") and overrides a header that the
    values clearly contradict (a "Phone" column full of email addresses). Single-valued
    fields go to the most confident column; the rest become custom fields. `schema` names
    the target ("member", or "voter" for voter files).
    """
    ts = target_schema(schema)
    columns_values = [[str(r[i]) if i < len(r) else "" for r in sample_rows] for i in range(len(header))]
    date_order = _suggest_date_order(columns_values, header)
    proposals: list[tuple[str, ColumnRule]] = []
    for name, values in zip(header, columns_values, strict=True):
        by_header = _header_guess(name, ts)
        by_content = _content_guess(values, date_order)
        if by_content is not None:
            c_target = ts.content_fields.get(by_content[0])
            by_content = None if c_target is None else (c_target, *by_content[1:])
        rule: ColumnRule
        if by_header and by_content and by_header[0] != by_content[0]:
            h_field, h_type, h_reason = by_header
            c_field, c_type, c_share, c_reason = by_content
            compatible = any({h_field, c_field} <= group for group in ts.compatible) or (
                h_field in ts.zip_header_wins and c_field == "zip"
            ) or h_field in ts.header_wins
            if compatible or c_share < 0.95:
                rule = ColumnRule(h_field, h_type, confidence=0.8, reason=h_reason)
            else:
                rule = ColumnRule(
                    c_field,
                    c_type,
                    confidence=0.7,
                    reason=f"{c_share:.0%} of the values {c_reason}, although the header says {h_field}",
                )
        elif by_header:
            fld, ptype, reason = by_header
            conf = 0.95 if by_content else 0.85
            if by_content:
                reason += f"; {by_content[2]:.0%} of the values agree"
            rule = ColumnRule(fld, ptype, confidence=conf, reason=reason)
        elif by_content:
            fld, ptype, share, reason = by_content
            rule = ColumnRule(fld, ptype, confidence=0.6, reason=f"{share:.0%} of the values {reason}")
        else:
            rule = ColumnRule(CUSTOM, confidence=0.5, reason=f"no {ts.name} field recognised; {ts.unmapped}")
        proposals.append((name, rule))
    # One column per single-valued field: keep the most confident, demote the others.
    best: dict[str, tuple[float, int]] = {}
    for i, (_name, rule) in enumerate(proposals):
        if rule.field in ts.multi_fields or rule.field in (CUSTOM, SKIP):
            continue
        if rule.field not in best or rule.confidence > best[rule.field][0]:
            best[rule.field] = (rule.confidence, i)
    columns: dict[str, ColumnRule] = {}
    for i, (name, rule) in enumerate(proposals):
        if rule.field in best and best[rule.field][1] != i:
            rule = ColumnRule(
                CUSTOM,
                confidence=0.4,
                reason=f"also looked like {rule.field}, but another column fits better",
            )
        columns[name] = rule
    # A combined name/address and its parts both mapped would load the name twice.
    for whole, parts in ts.combined:
        if whole in best and any(p in best for p in parts):
            col = proposals[best[whole][1]][0]
            what = "name" if "name" in whole else "address"
            columns[col] = ColumnRule(CUSTOM, confidence=0.4, reason=f"{what} parts are mapped from other columns")
    return ColumnMapping(columns=columns, date_order=date_order, source=source, schema=ts.name)


def _suggest_date_order(columns_values: list[list[str]], header: Sequence[str]) -> str:
    """DMY if some slash/dash date has a first part over 12 and none has a second part over 12."""
    first_big = second_big = 0
    pat = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})\s*$")
    for values in columns_values:
        for v in values:
            m = pat.match(v or "")
            if m:
                a, b = int(m.group(1)), int(m.group(2))
                first_big += a > 12
                second_big += b > 12
    return "DMY" if first_big and not second_big else "MDY"
