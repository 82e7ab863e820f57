"""Walk and call sheets: real PDFs, checked the way a person reads them (pdftotext, pdftoppm)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from tests.conftest import ARTIFACTS
from unionhall.field import sheets
from unionhall.field.sheets import (
    SheetDoor,
    SheetHeader,
    SheetPerson,
    SheetQuestion,
    SheetScript,
    call_sheet_pdf,
    walk_sheet_pdf,
)

TRACKING = "WK-7F3A-12"
RESULTS = [("NH", "Not Home"), ("RF", "Refused"), ("MV", "Moved"), ("WN", "Wrong Number"),
           ("DC", "Deceased"), ("IN", "Inaccessible")]
PHONE_RESULTS = [*RESULTS, ("LM", "Left Message"), ("DS", "Disconnected")]
FIRST = ["Maria", "Robert", "Aaliyah", "Kwame", "Siobhan", "Wei", "Olga", "DeShawn", "Priya", "Tomás"]
LAST = ["Smith", "Garcia", "Washington", "Mensah", "Kowalski", "Zhang", "Ivanova", "Okafor", "Patel", "Reyes"]


def header(**kw: object) -> SheetHeader:
    base: dict[str, object] = dict(
        title="Fall member canvass 2026", committee="NC AFL-CIO", list_name="Wake union households",
        turf_name="Turf 12 Oak Park", canvasser="Dana Whitfield",
        generated_at=datetime(2026, 10, 1, 14, 5, tzinfo=ZoneInfo("America/New_York")), tracking=TRACKING)
    base.update(kw)
    return SheetHeader(**base)  # type: ignore[arg-type]


def script(questions: int = 3) -> SheetScript:
    qs = [
        SheetQuestion("Q1", "Will you vote in the election on November 3?",
                      [("1", "Definitely"), ("2", "Probably"), ("3", "Unsure"), ("4", "No")]),
        SheetQuestion("Q2", "Do you support the union-endorsed candidate for governor?",
                      [("1", "Strong yes"), ("2", "Lean yes"), ("3", "Undecided"), ("4", "Lean no"),
                       ("5", "Strong no")]),
        SheetQuestion("Q3", "How do you plan to vote?", [("E", "Early"), ("M", "Mail"), ("D", "Election day")]),
    ]
    for i in range(4, questions + 1):
        qs.append(SheetQuestion(f"Q{i}", f"Extra question number {i}?",
                                [("Y", "Yes"), ("N", "No"), ("U", "Unsure"), ("X", "Skip")]))
    return SheetScript(
        name="Member GOTV 2026",
        intro="Hi, I'm a volunteer with the NC AFL-CIO talking with union members about the November 3 election.",
        questions=qs[:questions], activist_codes=["VOL", "Yard sign"],
        closing="Thank you! Early voting is at the Main Street library, 8 to 7.")


def make_doors(n: int, *, apartments_every: int = 7) -> list[SheetDoor]:
    """n doors in walk order; every `apartments_every`-th stop is a 4-unit building.
    Each person's name is unique (Name0001 ...) so order checks can find them."""
    doors: list[SheetDoor] = []
    seq = pid = 0

    def persons(k: int) -> list[SheetPerson]:
        nonlocal pid
        out = []
        for _ in range(k):
            pid += 1
            out.append(SheetPerson(
                person_id=100000 + pid, name=f"{FIRST[pid % 10]} {LAST[pid % 7]} N{pid:04d}",
                age=18 + pid % 70, sex="FM"[pid % 2], party=["DEM", "REP", "UNA", None][pid % 4],
                phone=f"+1919555{pid:04d}", member_of=["SEIU 1199", None, "AFT Local 2"][pid % 3],
                notes="Dog in yard" if pid % 23 == 0 else None))
        return out

    stop = 0
    while len(doors) < n:
        stop += 1
        if stop % apartments_every == 0:
            for u in range(min(4, n - len(doors))):
                seq += 1
                doors.append(SheetDoor(seq, f"{1000 + stop} Oak Park Ave", f"Apt {101 + u}", "Raleigh 27601",
                                       persons(1 + u % 2)))
        else:
            seq += 1
            doors.append(SheetDoor(seq, f"{100 + 2 * stop} Maple St", None, "Raleigh 27601",
                                   persons(1 + stop % 3)))
    return doors


def pdftotext(pdf: bytes, tmp_path: Path, *extra: str) -> str:
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", *extra, str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def pages_of(text: str) -> list[str]:
    pages = text.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def page_count(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "count.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    m = re.search(r"^Pages:\s+(\d+)", info, re.M)
    assert m
    return int(m.group(1))


def walk(doors: Sequence[SheetDoor], *, hdr: SheetHeader | None = None, scr: SheetScript | None = None) -> bytes:
    return walk_sheet_pdf(header=hdr or header(), script=scr or script(), result_codes=RESULTS, doors=doors)


def assert_in_order(text: str, needles: Sequence[str]) -> None:
    pos = -1
    for s in needles:
        i = text.find(s, pos + 1)
        assert i > pos, f"{s!r} missing or out of order (after position {pos})"
        pos = i


# --------------------------------------------------------------------------- walk sheet


@pytest.fixture(scope="module")
def big_doors() -> list[SheetDoor]:
    return make_doors(160)


@pytest.fixture(scope="module")
def big_pdf(big_doors: list[SheetDoor]) -> bytes:
    return walk(big_doors)


def test_walk_sheet_lists_doors_and_people_in_walk_order(big_doors: list[SheetDoor], big_pdf: bytes,
                                                          tmp_path: Path) -> None:
    text = pdftotext(big_pdf, tmp_path)
    needles: list[str] = []
    for door in big_doors:
        # Buildings print their street address once; the unit lines carry the order.
        if door.unit:
            if f"{door.address}" not in needles:
                needles.append(door.address)
            needles.append(door.unit)
        else:
            needles.append(door.address)
        needles += [p.name for p in door.persons]
    assert_in_order(text, needles)
    assert len(pages_of(text)) > 3  # the order held across page breaks


def test_every_page_has_page_n_of_m_tracking_and_header(big_pdf: bytes, tmp_path: Path) -> None:
    pages = pages_of(pdftotext(big_pdf, tmp_path))
    n = page_count(big_pdf, tmp_path)
    assert len(pages) == n
    for i, page in enumerate(pages, start=1):
        assert f"Page {i} of {n}" in page
        assert page.count(TRACKING) >= 2  # the box at the top and the footer
        assert "Fall member canvass 2026" in page
        assert "NC AFL-CIO" in page and "Turf 12 Oak Park" in page and "Dana Whitfield" in page
        assert "Oct 1, 2026 14:05 EDT" in page


def test_column_heads_repeat_on_every_page_of_the_door_list(big_pdf: bytes, tmp_path: Path) -> None:
    for page in pages_of(pdftotext(big_pdf, tmp_path)):
        heads = re.search(r"NH\s+RF\s+MV\s+WN\s+DC\s+IN\s+1\s+2\s+3\s+4\s+1\s+2\s+3\s+4\s+5\s+E\s+M\s+D\s+VOL\s+A2",
                          page)
        assert heads, page[:800]


def test_script_questions_and_codes_are_on_page_one(big_pdf: bytes, tmp_path: Path) -> None:
    first = pages_of(pdftotext(big_pdf, tmp_path))[0]
    flat = " ".join(first.split())
    for s in ["Script: Member GOTV 2026", "talking with union members about the November 3 election",
              "Will you vote in the election on November 3?", "1 Definitely", "4 No", "5 Strong no",
              "D Election day", "Thank you! Early voting is at the Main Street library, 8 to 7.",
              "NH Not Home", "WN Wrong Number", "IN Inaccessible", "VOL", "A2 Yard sign"]:
        assert s in flat, s
    # Legend before the first door.
    assert flat.index("IN Inaccessible") < flat.index("Maple St")


def test_apartments_print_the_building_once_with_units_below(tmp_path: Path) -> None:
    doors = [
        SheetDoor(1, "12 Elm St", None, "Durham 27701", [SheetPerson(1, "Ann Single")]),
        *[SheetDoor(2 + u, "400 W Main St", f"Apt {u + 1}", "Durham 27701", [SheetPerson(10 + u, f"Tenant {u}")])
          for u in range(5)],
        SheetDoor(7, "14 Elm St", "Unit B", "Durham 27701", [SheetPerson(20, "Bea Duplex")]),
    ]
    text = pdftotext(walk(doors), tmp_path)
    assert text.count("400 W Main St") == 1
    assert "Building · 5 units on this list" in text
    assert_in_order(text, ["12 Elm St", "Ann Single", "400 W Main St", "Apt 1", "Tenant 0", "Apt 5", "Tenant 4",
                           "14 Elm St", "Unit B", "Bea Duplex"])
    # A lone door with a unit is an ordinary door: address and unit on one line.
    assert re.search(r"14 Elm St\s+Unit B", text)


def test_a_building_across_a_page_break_repeats_its_heading(tmp_path: Path) -> None:
    doors = [SheetDoor(1 + u, "900 Tower Blvd", f"Apt {u + 1}", "Raleigh 27601",
                       [SheetPerson(u * 3 + k, f"Resident {u}-{k}") for k in range(2)]) for u in range(40)]
    pages = pages_of(pdftotext(walk(doors), tmp_path))
    assert len(pages) >= 2
    assert "900 Tower Blvd" in pages[0] and "(continued)" not in pages[0]
    for page in pages[1:]:
        assert re.search(r"900 Tower Blvd.*units on this list \(continued\)", page)


def test_a_household_longer_than_a_page_splits_with_its_door_repeated(tmp_path: Path) -> None:
    doors = [SheetDoor(1, "1 Dorm Row", None, None, [SheetPerson(i, f"Student S{i:03d}") for i in range(90)]),
             SheetDoor(2, "3 Dorm Row", None, None, [SheetPerson(500, "After Dorm")])]
    text = pdftotext(walk(doors), tmp_path)
    pages = pages_of(text)
    assert len(pages) >= 3
    # It starts under the script rather than leaving page 1 empty, and each later page
    # opens with the door it continues.
    assert "Student S000" in pages[0]
    assert "1 Dorm Row (continued)" in pages[1] and "1 Dorm Row (continued)" in pages[2]
    assert_in_order(text, [f"Student S{i:03d}" for i in range(90)] + ["3 Dorm Row", "After Dorm"])


def test_empty_turf_is_one_page_saying_so(tmp_path: Path) -> None:
    pdf = walk([])
    assert pdf.startswith(b"%PDF-")
    assert page_count(pdf, tmp_path) == 1
    text = pdftotext(pdf, tmp_path)
    assert "No doors in this turf." in text and "Page 1 of 1" in text and TRACKING in text


def test_non_ascii_names_round_trip(tmp_path: Path) -> None:
    doors = [SheetDoor(1, "5 Calle Núñez", None, "Durham 27701",
                       [SheetPerson(1, "José Núñez"), SheetPerson(2, "Zoë Brontë-Ødegård"),
                        SheetPerson(3, "Łukasz Wójcik")])]
    text = pdftotext(walk(doors), tmp_path)
    for s in ["José Núñez", "Zoë Brontë", "Łukasz Wójcik", "5 Calle Núñez"]:
        assert s in text, s


@pytest.mark.skipif(not any((d / "DejaVuSansCondensed.ttf").is_file() for d in sheets._SYSTEM_FONT_DIRS),
                    reason="DejaVu Sans Condensed is not installed")
def test_vietnamese_names_round_trip_with_dejavu(tmp_path: Path) -> None:
    doors = [SheetDoor(1, "8 Phố Huế", None, None, [SheetPerson(1, "Nguyễn Thị Minh Khai"), SheetPerson(2, "Đặng Văn Lâm")])]
    text = pdftotext(walk(doors), tmp_path)
    assert "Nguyễn Thị Minh Khai" in text and "Đặng Văn Lâm" in text and "8 Phố Huế" in text


def test_without_dejavu_the_bundled_vera_font_transliterates_what_it_lacks(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheets, "_font_candidates", lambda: [
        sheets._FontFamily("UH-Vera", sheets._REPORTLAB_FONTS / "Vera.ttf", sheets._REPORTLAB_FONTS / "VeraBd.ttf",
                           sheets._REPORTLAB_FONTS / "VeraIt.ttf")])
    assert sheets._fonts().family == "UH-Vera"
    doors = [SheetDoor(1, "8 Phố Huế", None, None, [SheetPerson(1, "Nguyễn Thị"), SheetPerson(2, "José Núñez")])]
    text = pdftotext(walk(doors), tmp_path)
    assert "José Núñez" in text  # Latin-1: drawn as is
    assert "Nguyên Thi" in text  # ễ keeps the circumflex Vera has; ị loses its dot
    assert "8 Phô Huê" in text


def test_without_any_ttf_helvetica_is_used_with_transliteration(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # A machine with neither DejaVu nor a usable reportlab font directory.
    missing = tmp_path / "none"
    monkeypatch.setattr(sheets, "_font_candidates", lambda: [
        sheets._FontFamily("UH-Missing", missing / "a.ttf", missing / "b.ttf", missing / "c.ttf")])
    assert sheets._fonts().family == "Helvetica"
    doors = [SheetDoor(1, "5 Calle Núñez", None, None,
                       [SheetPerson(1, "Nguyễn Thị"), SheetPerson(2, "José Núñez"), SheetPerson(3, "Łukasz Đặng")])]
    pdf = walk(doors)
    text = pdftotext(pdf, tmp_path)
    assert "José Núñez" in text and "Nguyên Thi" in text and "Lukasz Dang" in text
    assert "Page 1 of 1" in text


def test_transliteration_keeps_the_accents_the_font_has() -> None:
    latin1 = sheets._cp1252
    assert sheets._fallback_char("ễ", latin1) == "ê"
    assert sheets._fallback_char("ặ", latin1) == "a"  # neither ạ nor ă is in cp1252
    assert sheets._fallback_char("ặ", lambda c: c in "aă") == "ă"
    assert sheets._fallback_char("Đ", latin1) == "D"
    assert sheets._fallback_char("\u200b", latin1) == ""  # zero-width space: nothing to draw
    assert sheets._fallback_char("中", latin1) == "?"


def test_long_strings_are_cut_with_an_ellipsis_and_stay_on_the_page(tmp_path: Path) -> None:
    long_name = "Maximiliana Wolfeschlegelsteinhausenbergerdorff " * 6
    long_addr = "12345 North Martin Luther King Junior Boulevard Extension Service Road " * 4
    doors = [
        SheetDoor(1, long_addr, "Apartment 1234567890 Rear Entrance Behind The Garage " * 3, "Raleigh-Durham " * 20,
                  [SheetPerson(987654321012, long_name, 101, "Nonbinary", "Libertarian Party of North Carolina",
                               None, "International Brotherhood of Electrical Workers Local 553 " * 3,
                               "Call before visiting; side gate; " * 20)]),
        *[SheetDoor(2 + u, long_addr, f"Apt {u}", "Raleigh", [SheetPerson(10 + u, long_name)]) for u in range(2)],
    ]
    long_script = SheetScript(
        name="S" * 300, intro="Hello " * 400, closing="Bye " * 200, activist_codes=["A very long activist code name"] * 3,
        questions=[SheetQuestion("Q-LONG-CODE", "Why? " * 100, [("LONGCODE1", "Label " * 50), ("2", "Two")])])
    hdr = header(title="T" * 300, committee="C" * 300, list_name="L" * 300, turf_name="U" * 300,
                 canvasser="V" * 300, tracking="TRK-" + "9" * 60)
    pdf = walk(doors, hdr=hdr, scr=long_script)
    text = pdftotext(pdf, tmp_path)
    assert long_name.strip() not in text
    assert "Maximiliana Wolfeschlegelsteinhausenbergerdorff" in text and "…" in text
    assert "12345 North Martin Luther King" in text
    # Every word lies inside the page margins: nothing ran off the sheet or under its neighbour's edge.
    bbox = pdftotext(pdf, tmp_path, "-bbox")
    xs = [float(x) for x in re.findall(r'xMax="([\d.]+)"', bbox)]
    assert xs and max(xs) <= 612 - 30 + 0.5
    assert min(float(x) for x in re.findall(r'xMin="([\d.]+)"', bbox)) >= 30 - 0.5
    # The person's name cell stops before the age column.
    name_words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">'
                            r"(Maximiliana|Wolfeschlegel\S*)</word>", bbox)
    age_words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="[\d.]+">101</word>', bbox)
    assert name_words and age_words
    assert max(float(w[2]) for w in name_words) < float(age_words[0][0])


def test_many_questions_flow_onto_a_second_bubble_line(tmp_path: Path) -> None:
    scr = script(questions=8)
    sheet = sheets._WalkSheet(header(), scr, RESULTS, make_doors(3))
    assert sheet.bands >= 2
    pdf = walk(make_doors(30), scr=scr)
    text = pdftotext(pdf, tmp_path)
    for q in ("Q1", "Q4", "Q8"):
        assert q in text
    assert f"Page 1 of {page_count(pdf, tmp_path)}" in text


def test_columns_nobody_has_are_left_out(tmp_path: Path) -> None:
    doors = [SheetDoor(1, "1 Main St", None, None, [SheetPerson(1, "Only A Name")])]
    text = pdftotext(walk(doors), tmp_path)
    assert "Only A Name" in text
    assert "Party" not in text and "Union" not in text and "Age/Sex" not in text


def test_same_input_gives_the_same_bytes() -> None:
    doors = make_doors(20)
    assert walk(doors) == walk(doors)


def test_pdf_dates_are_the_generation_time(tmp_path: Path) -> None:
    path = tmp_path / "d.pdf"
    path.write_bytes(walk(make_doors(2)))
    info = subprocess.run(["pdfinfo", "-isodates", str(path)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"CreationDate:\s+2026-10-01T14:05:00-04", info), info


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        header(generated_at=datetime(2026, 10, 1, 14, 5))  # noqa: DTZ001 - the point of the test


def test_page_one_renders_to_a_real_image(big_pdf: bytes, tmp_path: Path) -> None:
    path = tmp_path / "walk.pdf"
    path.write_bytes(big_pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")], check=True)
    (png,) = tmp_path.glob("p*.png")
    with Image.open(png) as im:
        assert im.format == "PNG"
        assert im.size == (510, 660)  # Letter at 60 dpi
        grey = im.convert("L")
        hist = grey.histogram()
        dark = sum(hist[:128]) / (im.size[0] * im.size[1])
        assert 0.02 < dark < 0.5  # text and bubbles, not a blank or black page
        # Ink in the top (header), middle (doors) and bottom (footer) of the page.
        for top, bottom in ((0, 60), (300, 360), (610, 660)):
            band = grey.crop((0, top, 510, bottom))
            assert sum(band.histogram()[:100]) > 0, (top, bottom)  # some dark pixels


def test_sample_walk_sheet_png_is_saved_for_review(big_pdf: bytes, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = tmp_path / "walk.pdf"
    path.write_bytes(big_pdf)
    out = ARTIFACTS / "walk-sheet-page1"
    subprocess.run(["pdftoppm", "-r", "110", "-png", "-f", "1", "-l", "1", "-singlefile", str(path), str(out)],
                   check=True)
    assert (ARTIFACTS / "walk-sheet-page1.png").stat().st_size > 10_000


def test_a_thousand_doors_render(tmp_path: Path) -> None:
    doors = make_doors(1000)
    pdf = walk(doors)
    n = page_count(pdf, tmp_path)
    text = pdftotext(pdf, tmp_path)
    assert f"Page {n} of {n}" in text
    assert doors[-1].persons[-1].name in pages_of(text)[-1]


# --------------------------------------------------------------------------- call sheet


def call(persons: Sequence[SheetPerson]) -> bytes:
    return call_sheet_pdf(header=header(title="Phone bank"), script=script(), result_codes=PHONE_RESULTS,
                          persons=persons)


def test_call_sheet_shows_people_with_their_phones(tmp_path: Path) -> None:
    persons = [p for d in make_doors(25) for p in d.persons]
    persons[1] = SheetPerson(1, "Two Phones", phone="+19195550101; +19845550102")
    persons[2] = SheetPerson(2, "No Phone")
    persons[3] = SheetPerson(3, "Abroad", phone="+44 20 7946 0958")
    pdf = call(persons)
    text = pdftotext(pdf, tmp_path)
    assert_in_order(text, [p.name for p in persons])
    assert "(919) 555-0101" in text and "(984) 555-0102" in text
    assert "no phone on file" in text and "+44 20 7946 0958" in text
    assert "(919) 555-0001" in text  # persons[0]: +19195550001
    for s in ("LM Left Message", "DS Disconnected", "WN Wrong Number", "5 Strong no", "A2 Yard sign"):
        assert s in " ".join(text.split()), s
    pages = pages_of(text)
    n = page_count(pdf, tmp_path)
    assert len(pages) == n > 1
    for i, page in enumerate(pages, start=1):
        assert f"Page {i} of {n}" in page and TRACKING in page


def test_call_sheet_blocks_do_not_split_across_pages(tmp_path: Path) -> None:
    persons = [SheetPerson(i, f"Caller Target {i:03d}", 40, "F", "DEM", f"+1919555{i:04d}", "SEIU", "Prefers evenings")
               for i in range(40)]
    for page in pages_of(pdftotext(call(persons), tmp_path))[1:]:
        names = re.findall(r"Caller Target \d{3}", page)
        assert names
        # Each person on the page has the full response block: its last line (Activist) follows the name.
        assert page.count("Activist") == len(names)


def test_empty_call_list_is_one_page_saying_so(tmp_path: Path) -> None:
    pdf = call([])
    assert page_count(pdf, tmp_path) == 1
    text = pdftotext(pdf, tmp_path)
    assert "No people on this call list." in text and "Page 1 of 1" in text
