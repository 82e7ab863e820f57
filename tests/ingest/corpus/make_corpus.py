"""Regenerate the bad-input corpus deterministically.

    .venv/bin/python tests/ingest/corpus/make_corpus.py

Every file is written from this script (seeded where random), so the corpus can be
rebuilt and reviewed as code. The password-protected workbook needs msoffcrypto-tool
(a dev-only tool: `pip install msoffcrypto-tool==6.1.0`); without it, the committed file
is left as it is. tests/ingest/test_bad_inputs.py says what each file must produce.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import random
import zipfile
from pathlib import Path

HERE = Path(__file__).parent
HEADER = "Member ID,First Name,Last Name,Address,City,State,Zip,Cell Phone,Email,DOB,Employer"
ROWS = [
    "1001,John,Smith,123 N Main St,Springfield,IL,62701,(217) 555-0123,john@example.org,03/04/1980,Acme Corp",
    "1002,Mary,Jones,45 Oak Ave Apt 2,Chicago,IL,60601,312-555-0188,mary@example.org,1975-12-01,City of Chicago",
    "1003,Luis,Garcia,9 Elm Rd,Peoria,IL,61602,3095550100,luis@example.org,7/4/66,General Hospital",
]


def text(name: str, content: str, encoding: str = "utf-8", newline: str = "\n") -> None:
    data = content.replace("\n", newline).encode(encoding)
    (HERE / name).write_bytes(data)


def raw(name: str, data: bytes) -> None:
    (HERE / name).write_bytes(data)


def good_csv() -> str:
    return HEADER + "\n" + "\n".join(ROWS) + "\n"


def xlsx_bytes(build) -> bytes:  # type: ignore[no-untyped-def]
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    build(wb)
    wb.close()
    return _fixed_zip_times(buf.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps so regenerated workbooks are byte-identical."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                import re

                body = re.sub(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", b"2024-01-01T00:00:00Z", body)
            zi = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, body)
    return out.getvalue()


def members_sheet(wb) -> None:  # type: ignore[no-untyped-def]
    ws = wb.add_worksheet("Members")
    for r, line in enumerate([HEADER, *ROWS]):
        ws.write_row(r, 0, line.split(","))


def merged_totals(wb) -> None:  # type: ignore[no-untyped-def]
    ws = wb.add_worksheet("Roster")
    bold = wb.add_format({"bold": True})
    datefmt = wb.add_format({"num_format": "mm/dd/yyyy"})
    ws.merge_range("A1:F1", "LOCAL 123 MEMBERSHIP ROSTER - JANUARY", bold)
    ws.write_row(2, 0, ["Member #", "Last Name", "First Name", "Employer", "Cell", "DOB"], bold)
    people = [
        ("5001", "Nguyen", "Anh", 3125550101, dt.date(1984, 5, 6)),
        ("5002", "Okafor", "Chidi", 3125550102, dt.date(1990, 1, 31)),
        ("5003", "Kowalski", "Ewa", 3125550103, dt.date(1972, 11, 2)),
        ("5004", "Haddad", "Omar", 3125550104, dt.date(1969, 7, 20)),
    ]
    for i, (mid, last, first, phone, dob) in enumerate(people):
        r = 3 + i
        ws.write_string(r, 0, mid)
        ws.write_string(r, 1, last)
        ws.write_string(r, 2, first)
        ws.write_number(r, 4, phone)
        ws.write_datetime(r, 5, dob, datefmt)
    # One employer cell merged over the first three members, as rosters group them.
    ws.merge_range("D4:D6", "Metro Transit")
    ws.write_string(6, 3, "County Hospital")
    ws.merge_range("A9:C9", "TOTAL MEMBERS: 4", bold)
    ws.write_formula(8, 4, "=COUNT(E4:E7)", None, 4)


def main() -> None:
    rng = random.Random(20240501)
    raw("empty.csv", b"")
    text("header_only.csv", HEADER + "\n")
    text("whitespace_only.csv", "\n  \n\t\n\n")
    raw("binary_garbage.csv", bytes(rng.randrange(256) for _ in range(4096)))
    raw("pdf_named_csv.csv", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    names = "First Name,Last Name,City\nJosé,Muñoz,Peñasco\nFrançois,Lefèvre,Montréal\nZoë,Brontë,Nuñez\nRenée,O\u2019Brien,Añasco\n"
    text("windows_1252.csv", names, "cp1252", "\r\n")
    text("cp437_dos.csv", names.replace("\u2019", "'"), "cp437", "\r\n")
    text("utf8_bom.csv", "\ufeff" + good_csv())
    raw("utf16_bom_excel_unicode.txt", codecs.BOM_UTF16_LE + good_csv().replace(",", "\t").replace("\n", "\r\n").encode("utf-16-le"))
    raw("utf16_no_bom.tsv", good_csv().replace(",", "\t").encode("utf-16-le"))
    # A UTF-8 export with one row pasted in from a Windows-1252 file.
    mixed = good_csv().encode("utf-8") + "1004,Renée,Côté,1 Pine St,Peoria,IL,61602,,,,Café Lumière\n".encode("cp1252")
    mixed += "1005,Zoë,Šimić,2 Pine St,Peoria,IL,61602,,,,Crème Brûlée Bakery\n1006,Łukasz,Nowak,3 Pine St,Peoria,IL,61602,,,,\n".encode()
    raw("mixed_encoding.csv", mixed)
    text("ragged_rows.csv", good_csv() + "1004,Ann,Lee,1 Elm St\n1005,Bo,Ng,2 Elm St,Peoria,IL,61602,,,,Acme,EXTRA,MORE\n1006,Cy,Ox,3 Elm St,Peoria,IL,61602,,,,,,\n")
    text("unterminated_quote.csv", HEADER + "\n" + ROWS[0] + '\n1004,"Ann,Lee,1 Elm St,Peoria,IL,61602,,,,\n' + ROWS[1] + "\n" + ROWS[2] + "\n")
    text("unterminated_quote_at_end.csv", good_csv() + '1004,Ann,"Lee,1 Elm St,Peoria,IL,61602,,,,\n')
    text("huge_field.csv", HEADER + ",Notes\n" + ROWS[0] + ",ok\n" + ROWS[1] + "," + "x" * 100_000 + "\n" + ROWS[2] + ",fine\n")
    text("nul_bytes.csv", HEADER + "\n" + ROWS[0] + "\n1002,Ma\x00ry,Jones,45 Oak Ave,Chicago,IL,60601,,,,\n" + ROWS[2] + "\n")
    text(
        "formula_cells.csv",
        "First Name,Last Name,Employer,Cell Phone,Notes\n"
        '"=HYPERLINK(""http://evil.example"",""Click"")",Smith,Acme,(217) 555-0123,a\n'
        "+Bob,-Jones,@Acme,+1 217 555 0124,=1+1\n"
        "Ann,Lee,=cmd|' /C calc'!A0,-2175550125,@SUM(A1)\n",
    )
    text(
        "html_names.csv",
        "First Name,Last Name,Employer\n<script>alert(1)</script>,Smith,Acme\nAnn,<b>Lee</b>,Acme\nJo,O&amp;Neil,<img src=x onerror=alert(1)>\n",
    )
    text("duplicate_columns.csv", "First Name,Last Name,Phone,Phone,Email,email\nAnn,Lee,2175550101,3125550102,a@example.org,b@example.org\n")
    raw("merged_cells_totals.xlsx", xlsx_bytes(merged_totals))
    raw("really_xlsx.csv", xlsx_bytes(members_sheet))
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("members/readme.txt", date_time=(2024, 1, 1, 0, 0, 0)), "not a workbook")
    raw("zip_not_xlsx.csv", zbuf.getvalue())
    raw("truncated.xlsx", xlsx_bytes(members_sheet)[:700])
    raw("empty_sheet.xlsx", xlsx_bytes(lambda wb: wb.add_worksheet("Empty")))
    _password_protected()
    text(
        "dates_extreme.csv",
        "First Name,Last Name,DOB,Join Date\n"
        "Ann,Old,01/01/1700,2010-01-01\nBo,Future,1980-01-01,01/01/2999\nCy,Impossible,02/30/1980,13/01/2001\n"
        "Di,Serial,29284,43831\nEd,TwoDigit,7/4/66,1/2/03\nFay,Words,March 4 1980,4-Mar-2015\nGus,Junk,not a date,1980\n",
    )
    text("blank_lines.csv", HEADER + "\n" + ROWS[0] + "\n\n" + ROWS[1] + "\n,,,,,,,,,,\n   \n" + ROWS[2] + "\n\n")
    text("repeated_header.csv", good_csv() + HEADER + "\n" + ROWS[0].replace("1001", "2001") + "\n")
    text("totals_row.csv", good_csv() + "TOTAL,,,,,,,,,,\nTotal members: 3,,,,,,,,,,\n")
    text("no_name_rows.csv", good_csv() + "1004,,,1 Elm St,Peoria,IL,61602,,,,\n1005,123,456,,,,,,,,\n1006,N/A,N/A,,,,,,,,\n")
    text("semicolon_delimited.csv", good_csv().replace(",", ";").replace("Acme Corp", '"Acme; Corp"'))
    text("pipe_delimited.txt", good_csv().replace(",", "|"))
    text("title_rows_above_header.csv", "LOCAL 55 MEMBER LIST,,,,,,,,,,\nExported 2024-01-05,,,,,,,,,,\n\n" + good_csv())
    text("cr_only_newlines.csv", good_csv(), newline="\r")
    text(
        "embedded_newlines.csv",
        HEADER + "\n" + ROWS[0] + '\n1002,Mary,Jones,"45 Oak Ave\nApt 2",Chicago,IL,60601,,,,\n' + ROWS[2] + "\n",
    )
    text("backslash_escaped_quotes.csv", 'First Name,Last Name,Employer\nAnn,Lee,"Joe\\"s Diner"\nBo,Ng,"Acme, Inc"\n')
    text("quoted_everything.csv", "\n".join(",".join(f'"{c}"' for c in line.split(",")) for line in [HEADER, *ROWS]) + "\n")
    layout = "name,start,end\nFirst Name,1,10\nLast Name,11,22\nZip,23,27\n"
    text("fixed_width.layout.csv", layout)
    text(
        "fixed_width.txt",
        "John      Smith       62701\nMary      Jones       60601\n\nLuis      Garcia      61602   EXTRA\nAnn       Lee\n",
    )
    text("single_column.csv", "Name\nSMITH, JOHN Q\nJones, Mary\n\nGarcia Jr, Luis\n")


def _password_protected() -> None:
    """A real Agile-encrypted OOXML workbook (an OLE2/CFB container), password 'union'."""
    try:
        from msoffcrypto.format.ooxml import OOXMLFile  # type: ignore[import-untyped]
    except ImportError:
        print("msoffcrypto-tool not installed: keeping the committed password_protected.xlsx")
        return
    plain = io.BytesIO(xlsx_bytes(members_sheet))
    out = io.BytesIO()
    # Encryption uses a random salt, so the bytes differ per run; the structure does not.
    OOXMLFile(plain).encrypt("union", out)
    raw("password_protected.xlsx", out.getvalue())


if __name__ == "__main__":
    main()
    print(f"corpus: {len([p for p in HERE.iterdir() if p.suffix != '.py'])} files in {HERE}")
