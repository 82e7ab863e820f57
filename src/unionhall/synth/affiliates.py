"""Fictional affiliate unions and the way each one exports its member list.

Each profile is a deliberately different, real-world-looking export: its own column
names and order, file format and encoding, name and date conventions, phone styles,
status vocabulary and columns nobody asked for. The first six profiles between them
cover CSV, TSV and XLSX, the Windows-1252 file with accented names, the one-column
"LAST, FIRST M" name, and each date convention; `--affiliates` takes the first N.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Canonical fields a profile column can carry.
CANONICAL_FIELDS = (
    "member_id", "first", "middle", "middle_initial", "last", "suffix", "full_name_lfm",
    "dob", "address", "address2", "city", "state", "zip", "phone", "email", "status",
    "employer", "worksite", "local", "dues", "join_date",
)


@dataclass(frozen=True)
class AffiliateProfile:
    """How one affiliate writes its member list."""

    slug: str
    name: str
    sector: str
    fmt: str  # csv | tsv | xlsx
    encoding: str  # utf-8 | utf-8-sig | cp1252 (xlsx: n/a)
    columns: tuple[tuple[str, str], ...]  # (canonical field or "extra:<kind>", header)
    id_format: str
    date_style: str  # mdy | iso | serial | excel_date (xlsx date cells)
    phone_styles: tuple[str, ...]
    status_words: dict[str, str] = field(default_factory=dict)
    dues_words: dict[str, str] = field(default_factory=dict)
    name_case: str = "upper"  # upper | title
    accents: bool = False
    locals_count: int = 4
    size_weight: float = 1.0

    @property
    def file_name(self) -> str:
        """File name under `members/`."""
        return f"{self.slug}.{self.fmt}"

    @property
    def unit_in_address(self) -> bool:
        """True when the profile has no separate unit column (unit goes in line 1)."""
        return not any(c == "address2" for c, _ in self.columns)


_STATUS_PLAIN = {"active": "Active", "retired": "Retired", "agency_fee": "Agency Fee", "inactive": "Inactive", "leave": "On Leave"}
_STATUS_CODES = {"active": "A", "retired": "R", "agency_fee": "AF", "inactive": "I", "leave": "L"}
_STATUS_UPPER = {"active": "ACTIVE MEMBER", "retired": "RETIREE", "agency_fee": "FAIR SHARE", "inactive": "INACTIVE", "leave": "LEAVE OF ABSENCE"}
_DUES_PLAIN = {"current": "Current", "arrears": "In Arrears", "exempt": "Exempt"}
_DUES_CODES = {"current": "C", "arrears": "A", "exempt": "X"}
_DUES_YN = {"current": "Y", "arrears": "N", "exempt": "EXEMPT"}

PROFILES: tuple[AffiliateProfile, ...] = (
    AffiliateProfile(
        slug="carolina-educators-association",
        name="Carolina Educators Association",
        sector="education",
        fmt="csv",
        encoding="utf-8",
        columns=(
            ("member_id", "Member ID"), ("first", "First Name"), ("middle", "Middle Name"),
            ("last", "Last Name"), ("suffix", "Suffix"), ("dob", "Date of Birth"),
            ("address", "Home Address"), ("address2", "Apt/Unit"), ("city", "City"),
            ("state", "State"), ("zip", "Zip"), ("phone", "Mobile Phone"),
            ("email", "Personal Email"), ("status", "Member Status"), ("employer", "Employer"),
            ("worksite", "School"), ("local", "Local"), ("dues", "Dues Status"),
            ("join_date", "Join Date"), ("extra:shirt", "Shirt Size"),
        ),
        id_format="CEA{:06d}",
        date_style="mdy",
        phone_styles=("(###) ###-####", "###-###-####"),
        status_words=_STATUS_PLAIN,
        dues_words=_DUES_PLAIN,
        name_case="title",
        locals_count=6,
        size_weight=2.5,
    ),
    AffiliateProfile(
        slug="piedmont-nurses-alliance",
        name="Piedmont Nurses Alliance",
        sector="health",
        fmt="xlsx",
        encoding="",
        columns=(
            ("member_id", "EmpID"), ("last", "LastName"), ("first", "FirstName"),
            ("middle_initial", "MI"), ("dob", "Birthdate"), ("address", "Street"),
            ("city", "City"), ("state", "ST"), ("zip", "ZIP"), ("phone", "Phone"),
            ("email", "Email"), ("status", "Status"), ("employer", "Facility"),
            ("worksite", "Unit"), ("local", "Local #"), ("dues", "Dues"),
            ("join_date", "Hire Date"), ("extra:license", "License Type"),
            ("extra:seniority", "Seniority Date"),
        ),
        id_format="{:07d}",
        date_style="serial",
        phone_styles=("##########", "###.###.####", "(###) ###-####"),
        status_words=_STATUS_CODES,
        dues_words=_DUES_CODES,
        name_case="upper",
        locals_count=3,
        size_weight=0.7,
    ),
    AffiliateProfile(
        slug="state-employees-union",
        name="State Employees Union of Carolina",
        sector="public",
        fmt="tsv",
        encoding="utf-8",
        columns=(
            ("member_id", "MEMBER_NO"), ("full_name_lfm", "NAME"), ("dob", "BIRTH_DT"),
            ("address", "ADDR1"), ("address2", "ADDR2"), ("city", "CITY"), ("state", "STATE"),
            ("zip", "ZIP5"), ("phone", "HOME_PHONE"), ("status", "MBR_STATUS"),
            ("employer", "AGENCY"), ("worksite", "WORK_LOCATION"), ("local", "DISTRICT"),
            ("dues", "DUES_CURRENT"), ("join_date", "JOIN_DT"), ("extra:payroll", "PAYROLL_ID"),
            ("extra:notes", "NOTES"),
        ),
        id_format="S{:08d}",
        date_style="iso",
        phone_styles=("###-###-####", "##########"),
        status_words=_STATUS_UPPER,
        dues_words=_DUES_YN,
        name_case="upper",
        locals_count=8,
        size_weight=2.0,
    ),
    AffiliateProfile(
        slug="amalgamated-transit-warehouse",
        name="Amalgamated Transit & Warehouse Workers",
        sector="transport",
        fmt="csv",
        encoding="cp1252",
        columns=(
            ("last", "Last"), ("first", "First"), ("middle", "Middle"), ("member_id", "Mbr No"),
            ("dob", "DOB"), ("address", "Address Line 1"), ("address2", "Address Line 2"),
            ("city", "City"), ("state", "State"), ("zip", "Zip Code"),
            ("phone", "Phone Number"), ("email", "E-mail"), ("status", "Status"),
            ("employer", "Employer"), ("worksite", "Worksite"), ("local", "Local"),
            ("dues", "Dues Status"), ("join_date", "Initiation Date"), ("extra:notes", "Notes"),
        ),
        id_format="{:05d}",
        date_style="mdy",
        phone_styles=("(###) ###-####", "###-###-####", "###.###.####", "+1 ### ### ####"),
        status_words=_STATUS_PLAIN,
        dues_words=_DUES_PLAIN,
        name_case="title",
        accents=True,
        locals_count=4,
        size_weight=1.3,
    ),
    AffiliateProfile(
        slug="building-trades-council",
        name="Tar River Building Trades Council",
        sector="construction",
        fmt="xlsx",
        encoding="",
        columns=(
            ("member_id", "ID"), ("first", "NAME_FIRST"), ("last", "NAME_LAST"),
            ("suffix", "SFX"), ("address", "MAILING_ADDRESS"), ("city", "CITY"),
            ("state", "STATE"), ("zip", "POSTAL"), ("dob", "DOB"), ("phone", "CELL"),
            ("local", "LOCAL_UNION"), ("employer", "CONTRACTOR"), ("worksite", "JOBSITE"),
            ("status", "STATUS"), ("dues", "DUES_PAID_THRU"), ("join_date", "INITIATED"),
            ("extra:craft", "CRAFT"), ("extra:apprentice", "APPRENTICE_Y_N"),
        ),
        id_format="BT-{:05d}",
        date_style="iso",
        phone_styles=("###-###-####", "1-###-###-####"),
        status_words=_STATUS_UPPER,
        dues_words=_DUES_CODES,
        name_case="upper",
        locals_count=5,
        size_weight=0.6,
    ),
    AffiliateProfile(
        slug="hospitality-workers-united",
        name="Hospitality Workers United",
        sector="hospitality",
        fmt="csv",
        encoding="utf-8-sig",
        columns=(
            ("member_id", "member_number"), ("first", "first"), ("last", "last"),
            ("email", "email"), ("phone", "phone"), ("address", "street_address"),
            ("city", "city"), ("state", "state"), ("zip", "zipcode"), ("dob", "birthday"),
            ("status", "membership_status"), ("employer", "property"),
            ("worksite", "department"), ("local", "local_number"), ("dues", "dues"),
            ("join_date", "start_date"), ("extra:language", "preferred_language"),
        ),
        id_format="HWU{:06d}",
        date_style="serial",
        phone_styles=("##########", "(###)###-####", "+1##########"),
        status_words=_STATUS_PLAIN,
        dues_words=_DUES_PLAIN,
        name_case="title",
        accents=True,
        locals_count=3,
        size_weight=1.0,
    ),
    AffiliateProfile(
        slug="communications-workers-guild",
        name="Communications Workers Guild",
        sector="communications",
        fmt="tsv",
        encoding="utf-8",
        columns=(
            ("local", "Local"), ("member_id", "Member #"), ("last", "Last Name"),
            ("first", "First Name"), ("middle_initial", "M.I."), ("address", "Address"),
            ("address2", "Address 2"), ("city", "City"), ("state", "St"), ("zip", "Zip"),
            ("phone", "Phone"), ("email", "Email Address"), ("dob", "Birth Date"),
            ("status", "Status"), ("employer", "Employer"), ("worksite", "Work Location"),
            ("dues", "Dues"), ("join_date", "Member Since"), ("extra:steward", "Steward?"),
        ),
        id_format="{:06d}",
        date_style="mdy",
        phone_styles=("###-###-####", "(###) ###-####"),
        status_words=_STATUS_CODES,
        dues_words=_DUES_YN,
        name_case="title",
        locals_count=3,
        size_weight=0.7,
    ),
    AffiliateProfile(
        slug="public-service-workers",
        name="Public Service Workers Local Council",
        sector="municipal",
        fmt="xlsx",
        encoding="",
        columns=(
            ("member_id", "Member ID"), ("full_name_lfm", "Member Name"), ("dob", "Date of Birth"),
            ("address", "Home Street"), ("city", "Home City"), ("state", "Home State"),
            ("zip", "Home Zip"), ("phone", "Primary Phone"), ("email", "Email"),
            ("status", "Status"), ("employer", "Department"), ("worksite", "Division"),
            ("local", "Chapter"), ("dues", "Dues Status"), ("join_date", "Date Joined"),
            ("extra:committee", "Committee"), ("extra:shirt", "T-Shirt"),
        ),
        id_format="PSW{:05d}",
        date_style="excel_date",
        phone_styles=("(###) ###-####", "###-###-####", "##########"),
        status_words=_STATUS_PLAIN,
        dues_words=_DUES_PLAIN,
        name_case="upper",
        locals_count=4,
        size_weight=0.6,
    ),
    AffiliateProfile(
        slug="food-retail-workers",
        name="Food & Retail Workers Union",
        sector="retail",
        fmt="csv",
        encoding="utf-8",
        columns=(
            ("member_id", "ID#"), ("last", "LNAME"), ("first", "FNAME"), ("middle_initial", "MI"),
            ("address", "ADDRESS"), ("city", "CITY"), ("state", "ST"), ("zip", "ZIP"),
            ("phone", "PHONE"), ("dob", "DOB"), ("employer", "EMPLOYER"),
            ("worksite", "STORE"), ("local", "LOCAL"), ("status", "STATUS"),
            ("dues", "DUES"), ("join_date", "HIRE/JOIN"), ("extra:shift", "SHIFT"),
        ),
        id_format="{:06d}",
        date_style="iso",
        phone_styles=("###-###-####", "##########", "###.###.####"),
        status_words=_STATUS_CODES,
        dues_words=_DUES_CODES,
        name_case="upper",
        accents=True,
        locals_count=4,
        size_weight=1.1,
    ),
    AffiliateProfile(
        slug="electrical-workers-brotherhood",
        name="Brotherhood of Electrical Workers",
        sector="utilities",
        fmt="csv",
        encoding="utf-8",
        columns=(
            ("member_id", "Card Number"), ("first", "First"), ("middle", "Middle"),
            ("last", "Last"), ("suffix", "Sfx"), ("address", "Street"), ("address2", "Unit"),
            ("city", "City"), ("state", "State"), ("zip", "Zip"), ("phone", "Phone"),
            ("email", "Email"), ("dob", "Birth Date"), ("status", "Class"),
            ("employer", "Employer"), ("worksite", "Unit/Shop"), ("local", "Local Union"),
            ("dues", "Paid Through"), ("join_date", "Initiation"), ("extra:classification", "Classification"),
        ),
        id_format="E{:07d}",
        date_style="mdy",
        phone_styles=("(###) ###-####", "###-###-####"),
        status_words=_STATUS_UPPER,
        dues_words=_DUES_YN,
        name_case="title",
        locals_count=3,
        size_weight=0.8,
    ),
)

EMPLOYERS: dict[str, tuple[str, ...]] = {
    "education": ("{county} County Schools", "{town} City Schools", "{town} Community College"),
    "health": ("{town} Regional Medical Center", "{county} Memorial Hospital", "Carolina Health Partners"),
    "public": ("Dept. of Transportation", "Dept. of Health and Human Services", "Dept. of Public Safety", "Dept. of Revenue", "State University System"),
    "transport": ("{town} Area Transit", "Piedmont Logistics", "Coastal Freight Lines", "Blue Ridge Distribution"),
    "construction": ("{surname} Construction", "{surname} & Sons Builders", "Tri-County Mechanical"),
    "hospitality": ("{town} Grand Hotel", "{town} Convention Center", "Harbor Inn & Suites"),
    "communications": ("Carolina Telecom", "Piedmont Broadband", "{town} Daily Ledger"),
    "municipal": ("City of {town}", "{county} County", "{town} Water Authority"),
    "retail": ("FreshWay Grocery", "Mart Foods", "Piedmont Pharmacy"),
    "utilities": ("{county} Electric Cooperative", "Carolina Power & Light Works", "{surname} Electric"),
}
WORKSITES: dict[str, tuple[str, ...]] = {
    "education": ("{town} Elementary", "{town} Middle", "{town} High", "{word} Elementary", "{word} Academy"),
    "health": ("ICU", "Med-Surg 3", "Emergency Dept", "Labor & Delivery", "Oncology", "Float Pool"),
    "public": ("{town} Office", "{county} County Office", "District {n} Garage", "Central Office"),
    "transport": ("{town} Garage", "DC {n}", "{town} Terminal", "Yard {n}"),
    "construction": ("{town} Hospital Expansion", "I-{n}0 Bridge", "{word} Plaza", "Union Hall Dispatch"),
    "hospitality": ("Housekeeping", "Banquets", "Front Desk", "Kitchen", "Laundry"),
    "communications": ("{town} Central Office", "Call Center {n}", "Field Ops {town}"),
    "municipal": ("Sanitation", "Parks & Recreation", "Water Treatment", "Streets", "Libraries"),
    "retail": ("Store #{n}{n}", "{town} #{n}", "Warehouse {n}"),
    "utilities": ("{town} Substation", "Line Crew {n}", "{word} Generating Station"),
}
EXTRA_VALUES: dict[str, tuple[str, ...]] = {
    "shirt": ("S", "M", "L", "XL", "XXL", ""),
    "license": ("RN", "LPN", "CNA", "NP", ""),
    "seniority": (),  # a date, filled by the writer
    "payroll": (),  # an id, filled by the writer
    "notes": ("", "", "", "", "call after 5", "moved?", "do not call", "steward", "check address", "new hire"),
    "craft": ("Carpenter", "Electrician", "Plumber", "Ironworker", "Laborer", "Operating Engineer"),
    "apprentice": ("Y", "N", "N", "N"),
    "language": ("English", "Spanish", "English", "English", "Vietnamese", ""),
    "steward": ("Yes", "No", "No", "No", ""),
    "committee": ("", "", "Political Action", "Safety", "Bargaining", "Communications"),
    "shift": ("1st", "2nd", "3rd", "Weekend"),
    "classification": ("Journeyman Wireman", "Lineman", "Apprentice", "Groundman", "Meter Tech"),
}
