"""Leak tracing: 50 exports of overlapping lists (twins among them: the same list, the
same fields, different vendors); a leaked copy of one, shuffled, cut to 30% of its
rows and of its columns and saved again in another format, is traced to it."""

from __future__ import annotations

import csv
import json
import random
import uuid
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from tests.access.factories import user_with
from tests.exports.test_requests import FIELDS, approved_export
from unionhall.access.models import AuditEvent
from unionhall.errors import UserError
from unionhall.exports import services
from unionhall.exports.models import ExportRequest, Vendor
from unionhall.exports.trace import trace_file
from unionhall.field import services as field_services
from unionhall.field.lists import ListDefinition
from unionhall.warehouse import Warehouse

pytestmark = pytest.mark.django_db
FIELD_SETS = [FIELDS, ["first_name", "last_name", "phone", "age", "party", "precinct"],
              ["first_name", "middle_name", "last_name", "addr_line1", "addr_line2", "city", "zip5", "email"]]


def fifty_exports(wh: Warehouse, tree: dict[str, Any]) -> list[ExportRequest]:
    tag = uuid.uuid4().hex[:4]
    organizers = [user_with("organizer", tree["clc"], f"org{i}-{tag}") for i in range(3)]
    dm = user_with("data_manager", tree["clc"], f"dm-{tag}")
    vendors = [Vendor.objects.create(name=f"Vendor {i} {tag}") for i in range(5)]
    c0, c1 = tree["counties"]
    definitions = [ListDefinition(counties=(c0,)), ListDefinition(counties=(c1,)),
                   ListDefinition(counties=(c0, c1)), ListDefinition(counties=(c0,), registered=True),
                   ListDefinition(counties=(c1,), age_min=40), ListDefinition(counties=(c0, c1), age_max=50)]
    lists = [field_services.saved_list_create(user=organizers[i % 3], name=f"List {i}", committee=tree["clc"],
                                              definition=d, warehouse=wh) for i, d in enumerate(definitions)]
    out = []
    formats = ["csv", "xlsx", "van", "fixed"]
    for i in range(50):
        saved = lists[i % len(lists)]
        out.append(approved_export(wh, saved, organizers[i % 3], dm, fmt=formats[i % 4 if i % 5 else 0],
                                   fields=FIELD_SETS[(i // len(lists)) % len(FIELD_SETS)], vendor=vendors[i % 5]))
    return out


# Columns that carry the watermark in every row that has a value (keys; names, streets
# and cities take keyed variations). Phones do too, but few persons here have one.
MARKED = {"uh_key", "UnionHallID", "first_name", "FirstName", "last_name", "LastName", "addr_line1", "Address",
          "city", "City"}


def leak(er: ExportRequest, out: Path, how: str, rng: random.Random) -> tuple[Path, list[str]]:
    """The export's rows shuffled, 30% of rows and of columns kept, saved as `how`."""
    from unionhall.ingest.readers import FixedWidthLayout, open_source

    path = services.export_dir(er) / er.file_name
    layout = None
    if er.format == "fixed":
        layout = FixedWidthLayout.parse(path.with_name(f"{path.stem}-layout.csv").read_text())
    frame = pl.concat([b.frame for b in open_source(path, layout=layout).batches()])
    columns = rng.sample(frame.columns, k=max(1, round(0.3 * frame.width)))
    keep = rng.sample(range(frame.height), k=round(0.3 * frame.height))
    part = frame.select(columns)[keep]
    if how == "xlsx":
        target = out / "found.xlsx"
        part.write_excel(target)
    elif how == "latin1-semicolon":
        target = out / "found.csv"
        with target.open("w", encoding="latin-1", errors="replace", newline="") as fh:
            w = csv.writer(fh, delimiter=";")
            w.writerow([c.upper() for c in part.columns])  # renamed headers tell nothing
            w.writerows(part.rows())
    else:
        target = out / "found.tsv"
        part.write_csv(target, separator="\t")
    return target, columns


@pytest.mark.parametrize("how", ["xlsx", "latin1-semicolon", "tsv"])
def test_a_partial_reshuffled_re_encoded_copy_names_its_export_out_of_50(
        field_wh: Warehouse, tree: dict[str, Any], tmp_path: Path, how: str) -> None:
    exports = fifty_exports(field_wh, tree)
    assert len({e.pk for e in exports}) == 50
    # Targets: a twin (export 6 has list 0's fields and persons as export 0, another
    # vendor), a fixed-width one, and one drawn at random.
    rng = random.Random(f"leak-{how}")
    named = 0
    for er in [exports[6], exports[23], exports[rng.randrange(50)], exports[rng.randrange(50)]]:
        found, columns = leak(er, tmp_path, how, rng)
        report = trace_file(found, actor=tree["clc"].name)
        # Never a wrong name: the source holds every cell of the copy, and no export
        # holds more (it may tie with others, listed then).
        tied = [c.export_id for c in report.candidates if c.lacks == 0]
        assert er.pk in tied and report.candidates[0].lacks == 0
        if report.verdict != "named":
            # Only a copy left with no marked column (say ages and parties of the same
            # people as its twin's) may be too thin to tell: then the report says so.
            assert not MARKED & set(columns), (er.reference, columns, report.candidates[:3])
            assert report.verdict == "ambiguous"
            continue
        named += 1
        best = report.best
        assert best is not None and best.export_id == er.pk and tied == [er.pk]
        assert (best.requester, best.approver) == (er.requested_by.get_username(), er.decided_by.get_username())
        assert best.vendor == er.vendor.name  # type: ignore[union-attr]
        assert report.rows == round(0.3 * (er.persons + er.seeds))
    assert named >= 3
    assert AuditEvent.objects.filter(action="export_trace").count() == 4

    # The command line says the same, from the file alone.
    from unionhall.cli import app

    result = CliRunner().invoke(app, ["trace", str(found), "--json"])
    assert json.loads(result.output)["candidates"][0]["export_id"] == report.candidates[0].export_id
    assert result.exit_code == (0 if report.verdict == "named" else 1), result.output


def test_a_file_from_elsewhere_matches_nothing_and_bad_files_say_why(
        field_wh: Warehouse, tree: dict[str, Any], tmp_path: Path) -> None:
    dm = user_with("data_manager", tree["clc"], f"dm-{uuid.uuid4().hex[:4]}")
    organizer = user_with("organizer", tree["clc"], f"org-{uuid.uuid4().hex[:4]}")
    saved = field_services.saved_list_create(user=organizer, name="County", committee=tree["clc"],
                                             definition=ListDefinition(counties=(tree["counties"][0],)),
                                             warehouse=field_wh)
    approved_export(field_wh, saved, organizer, dm)
    # The same people straight from the warehouse (not from an export): no keys, no
    # seeds, no variations; whatever it shares with the export is shared by every
    # export of those people.
    other = tmp_path / "vendor-list.csv"
    other.write_text("name,town\nZQXJ PLOVERTON,NOWHERESVILLE\nAAAA BBBB,CCCCC\n")
    report = trace_file(other, actor="test")
    assert report.verdict == "no match" and report.best is None
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(UserError, match="empty"):
        trace_file(empty, actor="test")
    from unionhall.cli import app

    result = CliRunner().invoke(app, ["trace", str(tmp_path / "missing.csv")])
    assert result.exit_code != 0 and isinstance(result.exception, UserError)
    assert "missing.csv: file not found" in str(result.exception)
