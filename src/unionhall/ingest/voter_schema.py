"""The voter target schema: what a state's or vendor's voter-file columns map onto.

Registered with the column-mapping machinery (`ColumnMapping(schema="voter")`,
`suggest_mapping(..., schema="voter")`), so voter files get the same suggestions, saved
mappings and `for_header` reuse as member lists. The header synonyms cover state files
(Ohio `SOS_VOTERID`, Florida's extract columns, NC's `ncvoter` names) and the column names
of the big voter-file vendors (L2 `LALVOTERID` / `Voters_FirstName` /
`Residence_Addresses_AddressLine`, TargetSmart `vb.tsmart_first_name`, Catalist-like
`dwid`). The importer is `unionhall.elections.vendor`.
"""

from __future__ import annotations

import re

from unionhall.ingest.mapping import TargetSchema, _syn, target_schema_register

VOTER_FIELDS: dict[str, str] = {
    "registration_id": "The state's (or vendor's) voter id: one per registration, unique in the state",
    "state": "State of the residential address (code or name); defaults to --state",
    "county": "County name or code",
    "precinct": "Precinct code or number",
    "precinct_name": "Precinct name",
    "prefix": "Title before the name (kept with the first name)",
    "first_name": "First (given) name",
    "middle_name": "Middle name or initial",
    "last_name": "Last (family) name",
    "suffix": "Name suffix (Jr, Sr, III)",
    "full_name": "Whole name in one column ('LAST, FIRST M' or 'First M Last Jr')",
    "dob": "Date of birth",
    "birth_year": "Year of birth",
    "age": "Age (used for the birth year when there is no date or year of birth)",
    "addr_line1": "Residential street address (house number and street, maybe the unit)",
    "addr_line2": "Residential unit / apartment; several columns allowed (type and number)",
    "house_number": "Residential house number (when the street line is in parts)",
    "street_name": "Residential street name; several columns allowed (direction, name, type, in file order)",
    "city": "Residential city",
    "zip": "Residential ZIP code (5 digits or ZIP+4)",
    "zip4": "Residential ZIP+4 extension",
    "mail_addr1": "Mailing address, first line",
    "mail_addr2": "Mailing address, second line",
    "mail_addr3": "Mailing address, third line",
    "mail_city": "Mailing city",
    "mail_state": "Mailing state",
    "mail_zip": "Mailing ZIP code",
    "party": "Party (code or name: DEM, Democratic, REP, ...)",
    "status": "Registration status (Active, Inactive, A, I, ...)",
    "status_reason": "Reason for the status",
    "registration_date": "Date of registration",
    "gender": "Gender / sex",
    "race": "Race",
    "ethnicity": "Ethnicity (Hispanic or not)",
    "phone": "Phone number",
    "congressional_district": "US congressional district",
    "state_senate_district": "State senate district",
    "state_house_district": "State house / assembly / representative district",
    "municipality": "Municipality (city, village, township)",
    "ward": "Ward",
}

_SYNONYMS: list[tuple[str, str | None, set[str]]] = [
    ("registration_id", None, _syn(
        "lalvoterid", "sos voterid", "sos voter id", "voter id", "voterid", "voter reg num", "voter_reg_num",
        "voter registration number", "registration number", "registration id", "reg num", "regnum",
        "voter number", "state voter id", "stateid", "voters stateid", "voterbase id", "vf voterid",
        "vf source state voter id", "sos id", "dwid", "voter identification number", "registrant id",
        "voter id number", "reg id", "ncid")),
    ("state", None, _syn(
        "state", "st", "state code", "state cd", "residence addresses state", "residential state",
        "res state", "residence state", "vf source state", "vf reg state")),
    ("county", None, _syn(
        "county", "county name", "county desc", "county code", "county number", "county id", "countyname",
        "vf county name", "county_number", "residence county", "voters countyname")),
    ("precinct", None, _syn(
        "precinct", "precinct code", "precinct number", "precinct id", "precinct abbrv", "vf precinct id",
        "precinct split", "pct", "voters precinct")),
    ("precinct_name", None, _syn("precinct name", "precinct desc", "vf precinct name", "precinct description")),
    ("prefix", None, _syn("prefix", "name prefix", "title", "salutation")),
    ("first_name", None, _syn(
        "first name", "first", "fname", "firstname", "name first", "given name", "tsmart first name",
        "voters firstname", "first nm")),
    ("middle_name", None, _syn(
        "middle name", "middle", "mname", "middlename", "name middle", "middle initial", "mi",
        "tsmart middle name", "voters middlename")),
    ("last_name", None, _syn(
        "last name", "last", "lname", "lastname", "name last", "surname", "family name", "tsmart last name",
        "voters lastname", "last nm")),
    ("suffix", None, _syn(
        "suffix", "name suffix", "namesuffix", "suffix name", "name suffix lbl", "tsmart name suffix", "sfx")),
    ("full_name", None, _syn("name", "full name", "fullname", "voter name", "registrant name", "name full")),
    ("dob", None, _syn(
        "dob", "date of birth", "birth date", "birthdate", "birth dt", "voters birthdate", "voterbase dob",
        "tsmart dob", "date birth")),
    ("birth_year", None, _syn("birth year", "year of birth", "yob", "birthyear", "birth yr")),
    ("age", None, _syn("age", "voters age", "voterbase age", "tsmart age", "age at year end", "current age")),
    ("addr_line1", None, _syn(
        "residence addresses addressline", "residential address1", "residential address 1",
        "residential address", "res street address", "residence address", "residence address line 1",
        "res address", "res address 1", "address", "address 1", "address1", "address line 1", "street address",
        "tsmart full address", "vf reg address 1", "reg address 1", "residence street address")),
    ("addr_line2", None, _syn(
        "residence addresses extraaddressline", "residential secondary addr", "residential address2",
        "residential address 2", "residence address line 2", "address line 2", "address 2", "address2",
        "vf reg address 2", "apt", "apartment", "unit", "unit number", "apartment number", "apt num",
        "residence addresses apartmenttype", "residence addresses apartmentnum", "tsmart unit designator",
        "tsmart secondary number")),
    ("house_number", None, _syn(
        "residence addresses housenumber", "house number", "house num", "house no", "house nbr", "street number",
        "street no", "res house number", "tsmart house number", "housenumber", "address number")),
    ("street_name", None, _syn(
        "residence addresses streetname", "residence addresses prefixdirection",
        "residence addresses suffixdirection", "residence addresses designator", "street name", "streetname",
        "street", "street type", "street suffix", "street dir", "pre direction", "predirection",
        "post direction", "postdirection", "street pre dir", "street post dir", "tsmart street name",
        "tsmart street suffix", "tsmart pre directional", "tsmart post directional")),
    ("city", None, _syn(
        "city", "residence addresses city", "residential city", "res city", "res city desc", "residence city",
        "residence city usps", "tsmart city", "vf reg city", "town")),
    ("zip", None, _syn(
        "zip", "zip code", "zipcode", "zip5", "residence addresses zip", "residential zip", "residence zipcode",
        "residence zip", "res zip", "tsmart zip", "vf reg zip", "postal code")),
    ("zip4", None, _syn(
        "zip4", "zip 4", "zip plus4", "zip plus 4", "zipplus4", "plus4", "residence addresses zipplus4",
        "residential zip plus4", "tsmart zip4", "vf reg zip4")),
    ("mail_addr1", None, _syn(
        "mailing addresses addressline", "mailing address1", "mailing address 1", "mailing address line 1",
        "mailing address", "mail address", "mail addr1", "mail address 1", "vf mail street")),
    ("mail_addr2", None, _syn(
        "mailing addresses extraaddressline", "mailing secondary address", "mailing address2",
        "mailing address 2", "mailing address line 2", "mail addr2", "mail address 2")),
    ("mail_addr3", None, _syn("mailing address line 3", "mailing address3", "mail addr3", "mailing address 3")),
    ("mail_city", None, _syn("mailing addresses city", "mailing city", "mail city", "vf mail city")),
    ("mail_state", None, _syn("mailing addresses state", "mailing state", "mail state", "vf mail state")),
    ("mail_zip", None, _syn(
        "mailing addresses zip", "mailing zip", "mailing zipcode", "mail zip", "mail zipcode", "vf mail zip")),
    ("party", None, _syn(
        "party", "party code", "party cd", "party affiliation", "parties description", "party desc",
        "party description", "registered party", "vf party", "party_affiliation", "political party",
        "tsmart party")),
    ("status", None, _syn(
        "status", "voter status", "voters active", "status cd", "registration status", "voterstatus",
        "vf voter status", "voter status desc", "reg status")),
    ("status_reason", None, _syn("status reason", "voter status reason desc", "reason", "status reason desc")),
    ("registration_date", None, _syn(
        "registration date", "reg date", "registr dt", "voters officialregdate", "officialregdate",
        "registration dt", "date registered", "vf registration date", "original registration date",
        "regdate", "date of registration")),
    ("gender", None, _syn("gender", "sex", "voters gender", "gender code", "tsmart gender", "voterbase gender")),
    ("race", None, _syn(
        "race", "race code", "ethnicgroups ethnicgroup1desc", "voterbase race", "tsmart race", "race desc")),
    ("ethnicity", None, _syn("ethnicity", "ethnic code", "ethnic", "hispanic", "ethnicity code", "ethnic desc")),
    ("phone", None, _syn(
        "phone", "phone number", "telephone", "full phone number", "daytime phone number", "phone num",
        "votertelephones landlineformatted", "votertelephones cellphoneformatted", "voterbase phone",
        "landline", "cell", "cell phone")),
    ("congressional_district", None, _syn(
        "congressional district", "us congressional district", "cd", "cong dist", "cong dist abbrv",
        "congress", "congressional", "vf cd", "us congress")),
    ("state_senate_district", None, _syn(
        "state senate district", "state senate", "senate district", "sd", "ss", "vf sd", "nc senate abbrv",
        "state senate dist")),
    ("state_house_district", None, _syn(
        "state house district", "state representative district", "state rep district", "house district",
        "hd", "vf hd", "nc house abbrv", "assembly district", "state assembly district", "state legislative district",
        "state house dist")),
    ("municipality", None, _syn("municipality", "municipality desc", "city or village", "municipal", "muni")),
    ("ward", None, _syn("ward", "ward desc", "city ward", "ward abbrv")),
]

_MAIL = r"\bmail(ing)?\b"
_WORD_RULES: list[tuple[re.Pattern[str], str, str | None]] = [
    (re.compile(_MAIL + r".*\bcity\b"), "mail_city", None),
    (re.compile(_MAIL + r".*\bstate\b"), "mail_state", None),
    (re.compile(_MAIL + r".*\bzip"), "mail_zip", None),
    (re.compile(_MAIL + r".*\b(addr|address)\w*"), "mail_addr1", None),
    (re.compile(r"\bcongress"), "congressional_district", None),
    (re.compile(r"\bsenate\b"), "state_senate_district", None),
    (re.compile(r"\b(house|representative|assembly)\b.*\bdist"), "state_house_district", None),
    (re.compile(r"\bprecinct\b.*\b(name|desc)"), "precinct_name", None),
    (re.compile(r"\bprecinct\b"), "precinct", None),
    (re.compile(r"\bcounty\b"), "county", None),
    (re.compile(r"\bbirth ?(year|yr)\b|\byob\b"), "birth_year", None),
    (re.compile(r"\b(birth|dob)\b"), "dob", None),
    (re.compile(r"\bregist\w*\b.*\b(date|dt)\b|\breg ?date\b"), "registration_date", None),
    (re.compile(r"\bvoter ?id\b|\breg\w* ?(num|number|id)\b"), "registration_id", None),
    (re.compile(r"\bpart(y|ies)\b"), "party", None),
    (re.compile(r"\bstatus\b"), "status", None),
    (re.compile(r"\b(zip ?4|plus ?4)\b"), "zip4", None),
    (re.compile(r"\b(zip|postal)\b"), "zip", None),
    (re.compile(r"\b(phone|telephone)"), "phone", None),
    (re.compile(r"\blast\b.*\bname\b|\bsurname\b|\blastname\b"), "last_name", None),
    (re.compile(r"\bfirst\b.*\bname\b|\bfirstname\b|\bgiven\b"), "first_name", None),
    (re.compile(r"\bmiddle"), "middle_name", None),
    (re.compile(r"\bsuffix\b"), "suffix", None),
    (re.compile(r"\bcity\b"), "city", None),
    (re.compile(r"\bstate\b"), "state", None),
    (re.compile(r"\b(gender|sex)\b"), "gender", None),
    (re.compile(r"\brace\b"), "race", None),
    (re.compile(r"\bethnic"), "ethnicity", None),
    (re.compile(r"\baddr(ess)?\b.*\b(2|two|ii)\b"), "addr_line2", None),
    (re.compile(r"\b(addr|address|addressline)\b"), "addr_line1", None),
    (re.compile(r"\bname\b"), "full_name", None),
]

VOTER_TARGET = target_schema_register(
    TargetSchema(
        name="voter",
        fields=VOTER_FIELDS,
        synonyms=_SYNONYMS,
        word_rules=_WORD_RULES,
        multi_fields=frozenset({"addr_line2", "street_name"}),
        required=(
            (("registration_id",), "the voter's registration id"),
            (("last_name", "full_name"), "a last name"),
        ),
        content_fields={
            "phone": "phone", "full_name": "full_name", "state": "state", "zip": "zip", "gender": "gender",
            "dob": "dob", "join_date": "registration_date", "addr_line1": "addr_line1",
        },
        compatible=(
            frozenset({"dob", "registration_date"}),
            frozenset({"addr_line1", "mail_addr1"}),
            frozenset({"zip", "mail_zip"}),
            frozenset({"state", "mail_state"}),
        ),
        # Ids, codes and district numbers are digit strings that look like ZIPs or phones.
        header_wins=frozenset({
            "registration_id", "county", "precinct", "precinct_name", "congressional_district",
            "state_senate_district", "state_house_district", "house_number", "birth_year", "age", "zip4",
            "ward", "municipality", "status", "party", "race", "ethnicity", "gender", "city", "mail_city",
            "street_name", "addr_line2", "mail_addr2", "mail_addr3", "suffix", "middle_name", "first_name",
            "last_name",
        }),
        combined=(("full_name", ("first_name", "last_name")),),
        prefixes=("voters", "vb tsmart", "vb vf", "vb voterbase", "vb", "tsmart", "vf"),
        unmapped="kept in voter_extra",
    )
)
