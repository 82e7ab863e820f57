"""Load an NCSBE polling-place file and answer "where do I vote".

The real file (`polling_place_20201103.csv`) is UTF-16LE with a byte-order mark and
tab-delimited despite its `.csv` name; we also accept UTF-8 and comma-delimited copies
(someone opened it in a spreadsheet and saved it). One row per precinct per election;
a reload replaces that election's rows for the counties the file covers. Voters are
joined by county name and precinct name (upper case, single spaces).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pyarrow as pa

from unionhall.elections.files import (
    POLLING_COLUMNS,
    FileInfo,
    file_check,
    file_fingerprint,
    split_header,
    wrong_layout_error,
)
from unionhall.elections.loads import (
    Progress,
    Reconciliation,
    already_loaded,
    load_next_id,
    load_record,
    snapshot_date_resolve,
)
from unionhall.errors import UserError
from unionhall.warehouse import Warehouse

_REQUIRED = ("election_dt", "county_name", "precinct_name")


def _noop(_pct: float, _msg: str) -> None:
    return None


def precinct_key(name: str) -> str:
    """The join form of a precinct name: upper case, single spaces."""
    return " ".join(name.upper().split())


def _decode(info: FileInfo, encoding: str) -> tuple[str, str]:
    data = info.path.read_bytes()
    if encoding == "auto":
        if info.bom == "utf-16":
            encoding = "utf-16"
        elif info.bom == "utf-8-sig":
            encoding = "utf-8-sig"
        elif b"\x00" in data[:4096]:
            encoding = "utf-16-le"
        else:
            encoding = "utf-8"
    try:
        return data.decode(encoding).lstrip("\ufeff"), encoding
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UserError(
            f"{info.name}: row {line}: bytes that are not valid {encoding} text — "
            "NCSBE writes this file as UTF-16; pass the file's real encoding with --encoding"
        ) from None
    except LookupError:
        raise UserError(f"--encoding {encoding!r} is not an encoding Python knows") from None


def polling_places_import(
    *,
    warehouse: Warehouse,
    path: str,
    encoding: str = "auto",
    job_id: int | None = None,
    progress: Progress | None = None,
) -> Reconciliation:
    """Load a polling-place file into `polling_place`."""
    say = progress or _noop
    file = file_check(path)
    info = file_fingerprint(file)
    cur = warehouse.cursor()
    rec = Reconciliation(kind="polling_places", file=info.name, sha256=info.sha256)
    if already_loaded(cur, rec):
        return rec
    text, used = _decode(info, encoding)
    rec.encoding = used
    lines = text.splitlines()
    first = lines[0] if lines else ""
    delimiter = "\t" if "\t" in first else ","
    header = split_header(first, delimiter)
    missing = [c for c in POLLING_COLUMNS if c not in header]
    if missing:
        raise wrong_layout_error(info, header, "polling_places", f"missing {', '.join(missing[:5])}")
    rec.layout = "polling_places" + ("" if delimiter == "\t" else " (comma-delimited copy)")
    load_id = load_next_id(cur)
    rec.load_id = load_id
    say(20, "reading rows")

    index = {c: header.index(c) for c in POLLING_COLUMNS}
    rows: list[tuple[object, ...]] = []
    quarantine: list[tuple[object, ...]] = []
    seen: dict[tuple[dt.date, str, str], int] = {}
    reader = csv.reader(io.StringIO("\n".join(lines[1:])), delimiter=delimiter)
    for offset, fields in enumerate(reader):
        line = offset + 2
        raw = delimiter.join(fields)
        if not any(f.strip() for f in fields):
            continue  # blank line: not a row
        rec.rows_read += 1
        if len(fields) != len(header):
            quarantine.append((load_id, line, None, "ragged",
                               f"the row has {len(fields)} columns, the header {len(header)}", raw))
            continue
        value = {c: fields[i].strip() for c, i in index.items()}
        empty = [c for c in _REQUIRED if not value[c]]
        if empty:
            quarantine.append((load_id, line, empty[0], "missing_key", f"{empty[0]} is empty", raw))
            continue
        try:
            day = dt.datetime.strptime(value["election_dt"], "%m/%d/%Y").date()  # noqa: DTZ007 (a date)
        except ValueError:
            quarantine.append((load_id, line, "election_dt", "bad_value",
                               f"election_dt {value['election_dt']!r} is not a date (MM/DD/YYYY)", raw))
            continue
        county = " ".join(value["county_name"].upper().split())
        key = (day, county, precinct_key(value["precinct_name"]))
        if key in seen:
            quarantine.append((load_id, line, "precinct_name", "duplicate",
                               f"precinct {value['precinct_name']} of {county} already appears on row "
                               f"{seen[key]} (that row was loaded)", raw))
            continue
        seen[key] = line
        rows.append((
            day, county, value["precinct_name"], key[2], value["polling_place_id"] or None,
            value["polling_place_name"] or None, value["house_num"] or None,
            " ".join(value["street_name"].split()) or None, value["city"] or None,
            value["state"] or None, value["zip"] or None, load_id, line,
        ))
    if rec.rows_read == 0:
        raise UserError(f"{info.name}: the file has a header but no rows — download it again")
    if quarantine:
        cur.executemany("INSERT INTO election_quarantine VALUES (?, ?, ?, ?, ?, ?)", quarantine)
        for q in quarantine:
            code = str(q[3])
            rec.quarantine[code] = rec.quarantine.get(code, 0) + 1
    rec.rows_quarantined = len(quarantine)
    rec.rows_loaded = len(rows)

    say(60, "replacing the polling places of this election")
    cur.execute("DROP TABLE IF EXISTS _el_pp")
    cur.execute("CREATE TEMP TABLE _el_pp AS SELECT * FROM polling_place LIMIT 0")
    names = ["election_date", "county_name", "precinct_name", "precinct_key", "polling_place_id",
             "polling_place_name", "house_num", "street_name", "city", "state", "zip", "load_id",
             "row_number"]
    frame = pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})
    cur.register("_el_pp_rows", frame)
    cur.execute(f"INSERT INTO _el_pp SELECT {', '.join(names)} FROM _el_pp_rows")  # noqa: S608
    cur.unregister("_el_pp_rows")
    days = [key[0] for key in seen]
    rec.snapshot_date = (max(days) if days else snapshot_date_resolve(None, file)[0]).isoformat()
    counts = cur.execute(
        """
        SELECT count(*) FILTER (WHERE o.precinct_key IS NULL),
               count(*) FILTER (WHERE o.precinct_key IS NOT NULL AND
                 (n.polling_place_name, n.house_num, n.street_name, n.city, n.zip, n.polling_place_id)
                 IS DISTINCT FROM
                 (o.polling_place_name, o.house_num, o.street_name, o.city, o.zip, o.polling_place_id))
        FROM _el_pp n LEFT JOIN polling_place o
          ON o.election_date = n.election_date AND o.county_name = n.county_name
         AND o.precinct_key = n.precinct_key
        """
    ).fetchone()
    assert counts is not None
    rec.new, rec.changed = int(counts[0]), int(counts[1])
    rec.unchanged = rec.rows_loaded - rec.new - rec.changed
    gone = cur.execute(
        """
        SELECT count(*) FROM polling_place o
        WHERE (o.election_date, o.county_name) IN (SELECT DISTINCT election_date, county_name FROM _el_pp)
          AND NOT EXISTS (SELECT 1 FROM _el_pp n WHERE n.election_date = o.election_date
                          AND n.county_name = o.county_name AND n.precinct_key = o.precinct_key)
        """
    ).fetchone()
    rec.removed = int(gone[0]) if gone else 0
    cur.execute(
        """
        DELETE FROM polling_place
        WHERE (election_date, county_name) IN (SELECT DISTINCT election_date, county_name FROM _el_pp)
        """
    )
    cur.execute("INSERT INTO polling_place SELECT * FROM _el_pp")
    cur.execute("DROP TABLE _el_pp")
    unmatched = cur.execute(
        """
        SELECT count(*) FROM (
          SELECT DISTINCT county_desc, upper(regexp_replace(trim(precinct_desc), '\\s+', ' ', 'g')) AS k
          FROM voter WHERE in_file AND precinct_desc IS NOT NULL AND county_desc IN
            (SELECT DISTINCT county_name FROM polling_place WHERE load_id = ?)
        ) v
        WHERE NOT EXISTS (SELECT 1 FROM polling_place p WHERE p.load_id = ?
                          AND p.county_name = v.county_desc AND p.precinct_key = v.k)
        """,
        [load_id, load_id],
    ).fetchone()
    if unmatched and int(unmatched[0]):
        rec.notes.append(
            f"{int(unmatched[0])} precinct(s) of the loaded voter file in these counties have no "
            "polling place in this file"
        )
    load_record(cur, rec, info=info, job_id=job_id)
    say(100, f"{rec.rows_loaded:,} polling places")
    return rec
