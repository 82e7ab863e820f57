"""Small vendor- and state-style voter files for the generic importer's tests."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from unionhall.elections import vendor
from unionhall.elections.loads import Reconciliation
from unionhall.warehouse import Warehouse

OHIO_HEADER = [
    "SOS_VOTERID", "COUNTY_NUMBER", "LAST_NAME", "FIRST_NAME", "MIDDLE_NAME", "SUFFIX", "DATE_OF_BIRTH",
    "REGISTRATION_DATE", "VOTER_STATUS", "PARTY_AFFILIATION", "RESIDENTIAL_ADDRESS1",
    "RESIDENTIAL_SECONDARY_ADDR", "RESIDENTIAL_CITY", "RESIDENTIAL_STATE", "RESIDENTIAL_ZIP",
    "PRECINCT_NAME", "PRECINCT_CODE", "CONGRESSIONAL_DISTRICT", "STATE_REPRESENTATIVE_DISTRICT",
    "STATE_SENATE_DISTRICT",
]


def ohio_row(n: int, **over: str) -> dict[str, str]:
    row = {
        "SOS_VOTERID": f"OH{n:010d}", "COUNTY_NUMBER": "25", "LAST_NAME": "SMITH", "FIRST_NAME": "ANN",
        "MIDDLE_NAME": "B", "SUFFIX": "", "DATE_OF_BIRTH": "1970-03-04", "REGISTRATION_DATE": "2001-02-03",
        "VOTER_STATUS": "ACTIVE", "PARTY_AFFILIATION": "D", "RESIDENTIAL_ADDRESS1": f"{n} MAIN ST",
        "RESIDENTIAL_SECONDARY_ADDR": "", "RESIDENTIAL_CITY": "COLUMBUS", "RESIDENTIAL_STATE": "OH",
        "RESIDENTIAL_ZIP": "43215", "PRECINCT_NAME": "COLUMBUS 1-A", "PRECINCT_CODE": "25AAA",
        "CONGRESSIONAL_DISTRICT": "03", "STATE_REPRESENTATIVE_DISTRICT": "17", "STATE_SENATE_DISTRICT": "15",
    }
    row.update(over)
    return row


def write_csv(
    path: Path, header: Sequence[str], rows: Iterable[dict[str, str] | Sequence[str]], *,
    encoding: str = "utf-8", delimiter: str = ",", with_header: bool = True,
) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    if with_header:
        w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header] if isinstance(r, dict) else list(r))
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def load_vendor(warehouse: Warehouse, path: Path, **kw: Any) -> Reconciliation:
    """Run the generic import in its own transaction, as the job does."""
    with warehouse.transaction():
        rec = vendor.vendor_voterfile_import(warehouse=warehouse, path=str(path), **kw)
    rec.check()
    return rec
