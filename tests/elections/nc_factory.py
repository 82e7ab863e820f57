"""Small NCSBE-format files for tests, written from the packaged layout documents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from unionhall.elections.files import POLLING_COLUMNS
from unionhall.elections.nc_layout import absentee_layout, ncvhis_layout, ncvoter_layout

VOTER_DEFAULTS: dict[str, str] = {
    "county_id": "25",
    "county_desc": "CRAVEN",
    "last_name": "SMITH",
    "first_name": "ANN",
    "middle_name": "B",
    "status_cd": "A",
    "voter_status_desc": "ACTIVE",
    "reason_cd": "AV",
    "voter_status_reason_desc": "VERIFIED",
    "res_street_address": "12 MAIN ST",
    "res_city_desc": "NEW BERN",
    "state_cd": "NC",
    "zip_code": "28560",
    "confidential_ind": "N",
    "registr_dt": "03/04/2010",
    "race_code": "W",
    "ethnic_code": "NL",
    "party_cd": "DEM",
    "gender_code": "F",
    "birth_year": "1970",
    "age_at_year_end": "56",
    "birth_age": "56",
    "drivers_lic": "Y",
    "precinct_abbrv": "CR01",
    "precinct_desc": "NEW BERN 1",
}


def voter(n: int, **over: Any) -> dict[str, str]:
    """Voter number n: zero-padded registration number, NCID `NC<n>`."""
    row = dict(VOTER_DEFAULTS)
    row["voter_reg_num"] = str(n).zfill(12)
    row["ncid"] = f"NC{n}"
    row["last_name"] = f"VOTER{n}"
    row.update({k: str(v) for k, v in over.items()})
    return row


def _quoted_tsv(columns: Iterable[str], rows: Iterable[Mapping[str, str]]) -> str:
    cols = list(columns)
    lines = ["\t".join(f'"{c}"' for c in cols)]
    for r in rows:
        lines.append("\t".join(f'"{r.get(c, "")}"' for c in cols))
    return "\r\n".join(lines) + "\r\n"


def write_ncvoter(path: Path, rows: Iterable[Mapping[str, str]], *, vintage: str = "current",
                  encoding: str = "utf-8") -> Path:
    layout = ncvoter_layout()
    cols = layout.column_names if vintage == "current" else tuple(c.name for c in layout.previous_columns)
    path.write_bytes(_quoted_tsv(cols, rows).encode(encoding))
    return path


def vote(n: int, label: str, method: str = "IN-PERSON", **over: Any) -> dict[str, str]:
    kind = "GENERAL" if label.startswith("11/") else "PRIMARY"
    row = {
        "county_id": "25", "county_desc": "CRAVEN", "voter_reg_num": str(n).zfill(12),
        "election_lbl": label, "election_desc": f"{label} {kind}", "voting_method": method,
        "voted_party_cd": "DEM", "voted_party_desc": "DEMOCRATIC", "pct_label": "CR01",
        "pct_description": "NEW BERN 1", "ncid": f"NC{n}", "voted_county_id": "25",
        "voted_county_desc": "CRAVEN", "vtd_label": "CR01", "vtd_description": "CR01",
    }
    row.update({k: str(v) for k, v in over.items()})
    return row


def write_ncvhis(path: Path, rows: Iterable[Mapping[str, str]]) -> Path:
    path.write_bytes(_quoted_tsv(ncvhis_layout().column_names, rows).encode("utf-8"))
    return path


_SPACE_BLANK = {
    "other_mail_addr1", "other_mail_addr2", "other_city_state_zip", "relative_request_name",
    "relative_request_address", "relative_request_city", "relative_request_state",
    "relative_request_zip",
}


def ballot(n: int, **over: Any) -> dict[str, str]:
    """An absentee row for voter n (a mail request unless overridden)."""
    row = {
        "county_desc": "CRAVEN", "voter_reg_num": str(n).zfill(12), "ncid": f"NC{n}",
        "voter_last_name": f"VOTER{n}", "voter_first_name": "ANN", "voter_middle_name": "B",
        "race": "WHITE", "ethnicity": "NL", "gender": "FEMALE", "age": "56",
        "voter_street_address": "12 MAIN ST", "voter_city": "NEW BERN", "voter_state": "NC",
        "voter_zip": "28560", "election_dt": "11/03/2026", "voter_party_code": "DEM",
        "precinct_desc": "NEW BERN 1", "ballot_req_delivery_type": "MAIL", "ballot_req_type": "MAIL",
        "ballot_request_party": "DEM", "ballot_req_dt": "09/01/2026", "sdr": "N",
    }
    row.update({k: str(v) for k, v in over.items()})
    return row


def write_absentee(path: Path, rows: Iterable[Mapping[str, str]], *, encoding: str = "cp437",
                   columns: Iterable[str] | None = None) -> Path:
    """Comma-delimited, every field quoted but `age`, blanks as "" or " ", CRLF."""
    cols = list(columns or absentee_layout().column_names)
    lines = [",".join(f'"{c}"' for c in cols)]
    for r in rows:
        out = []
        for c in cols:
            v = r.get(c, "")
            if c == "age":
                out.append(v)
            else:
                out.append('"' + (" " if (not v and c in _SPACE_BLANK) else v).replace('"', '""') + '"')
        lines.append(",".join(out))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def write_polling(path: Path, rows: Iterable[Mapping[str, str]]) -> Path:
    lines = ["\t".join(POLLING_COLUMNS)]
    for r in rows:
        lines.append("\t".join(r.get(c, "") for c in POLLING_COLUMNS))
    path.write_bytes(b"\xff\xfe" + ("\r\n".join(lines) + "\r\n").encode("utf-16-le"))
    return path


def polling(precinct: str = "NEW BERN 1", **over: Any) -> dict[str, str]:
    row = {
        "election_dt": "11/03/2026", "county_name": "CRAVEN", "polling_place_id": "1",
        "polling_place_name": "NEW BERN LIBRARY", "precinct_name": precinct, "house_num": "400",
        "street_name": "JOHNSON ST", "city": "NEW BERN", "state": "NC", "zip": "28560",
    }
    row.update({k: str(v) for k, v in over.items()})
    return row
