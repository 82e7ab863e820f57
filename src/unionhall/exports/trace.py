"""Naming the export a found file came from (`unionhall trace FILE`, and the trace page).

The file is read like any member file (`ingest.readers`: any encoding, delimiter or
workbook; a fixed-width file is cut at its runs of spaces), every cell normalized
(`watermark.normalize`) and hashed, and the hashes matched against each export's marks
(``export_mark``). The export a file came from holds every one of its cells; another
export of the same people lacks the cells that tell them apart: export keys, seed
records, and about half of the keyed variations (the same person's "OAK ST" where the
other has "OAK STREET", "McDonald" where it has "MCDONALD"). So exports are ranked by
the cells of the file they lack (fewest first), then by a score that weighs each
cell by how few exports hold it: log((exports + 1) / exports holding the cell), the
inverse document frequency of information retrieval. The report names the best
export when it lacks clearly fewer cells than the next, and says so honestly when
nothing matches or two exports cannot be told apart from what is left of the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from unionhall.errors import UserError
from unionhall.exports.watermark import KEY_LENGTH, KEY_PATTERN, cell_values
from unionhall.warehouse import Warehouse, get_warehouse

COVERED = 0.9  # the source holds (nearly) every cell of the file: all but headers and oddities
MARGIN = 0.03  # the next export lacks at least this share of the file's cells more (and 3)


@dataclass
class Candidate:
    export_id: int
    score: float
    cells: int
    unique_cells: int
    lacks: int = 0
    keys_found: int = 0
    seeds_found: int = 0
    reference: str = ""
    list_name: str = ""
    committee: str = ""
    requester: str = ""
    approver: str = ""
    vendor: str | None = None
    written: str = ""
    seeds: int = 0


@dataclass
class TraceReport:
    file: str
    rows: int
    values: int
    verdict: str  # "named", "ambiguous", "no match"
    candidates: list[Candidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.verdict == "named" else None

    @property
    def verdict_text(self) -> str:
        if self.verdict == "named" and self.best:
            b = self.best
            return (f"This file comes from {b.reference} ({b.list_name}), asked by {b.requester}, approved by "
                    f"{b.approver}, for {b.vendor or 'the committee itself'}, written {b.written}")
        if self.verdict == "ambiguous":
            refs = " and ".join(c.reference for c in self.candidates[:2])
            return (f"Ambiguous: the file matches {refs} about equally (the same people, and too few of the "
                    "cells that tell exports apart); see the candidates")
        return "No export matches this file: it was not written by Union Hall, or holds none of its exports' cells"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "rows": self.rows, "values": self.values, "verdict": self.verdict,
                "verdict_text": self.verdict_text, "notes": self.notes,
                "candidates": [c.__dict__ for c in self.candidates]}


def file_values(path: Path) -> tuple[pl.Series, pl.Series, int, list[str]]:
    """The distinct normalized cell values of a found file, those of its first line
    (a header, or the first row of a file without one), its rows, and notes on how it
    was read."""
    from unionhall.ingest.readers import open_source

    reader = open_source(path)
    notes = list(reader.notes)
    first = pl.DataFrame({f"h{i}": [h] for i, h in enumerate(reader.header)})
    frames = [first]
    rows = 0
    for batch in reader.batches():
        frames.append(batch.frame.rename({c: f"h{i}" for i, c in enumerate(batch.frame.columns)}))
        rows += batch.frame.height
    frame = pl.concat(frames, how="diagonal")
    if frame.width == 1:
        # One column: a fixed-width file (or a list of ids). Cut it at runs of spaces,
        # and take the key from each line's start (it fills its field exactly).
        line = frame.get_column("h0").fill_null("")
        parts = line.str.strip_chars().str.split("  ").explode().str.strip_chars()
        frame = pl.DataFrame({"a": pl.concat([line, parts, line.str.slice(0, KEY_LENGTH),
                                              line.str.extract(rf"^\s*({KEY_PATTERN})", 1).fill_null("")])})
        notes.append("read as fixed-width text (one column)")
    return cell_values(frame), cell_values(first), rows, notes


def trace_file(path: Path, *, actor: Any, warehouse: Warehouse | None = None, top: int = 5) -> TraceReport:
    """Trace a found file; audited (who traced what, and the verdict)."""
    from unionhall.access.models import AuditEvent
    from unionhall.exports import store

    wh = warehouse or get_warehouse()
    values, first, rows, notes = file_values(path)
    cur = wh.cursor()
    # The first line counts only where some export holds it (a header is in none).
    cur.register("_trace_first", pl.DataFrame({"v": first}).to_arrow())
    try:
        header = {r[0] for r in cur.execute(
            "SELECT v FROM _trace_first WHERE md5_number_lower(v) NOT IN (SELECT h FROM export_mark)").fetchall()}
    finally:
        cur.unregister("_trace_first")
    values = values.filter(~values.is_in(list(header)))
    if values.len() == 0:
        raise UserError(f"{path.name}: no cells to match (the file holds no values of two characters or more "
                        "below its header)")
    total = cur.execute("SELECT count(DISTINCT export_id) FROM export_mark").fetchone()
    n_exports = int(total[0]) if total else 0
    cur.register("_trace_values", pl.DataFrame({"v": values}).to_arrow())
    try:
        found = cur.execute(
            """
            WITH q AS (SELECT DISTINCT md5_number_lower(v) AS h FROM _trace_values),
                 m AS (SELECT e.export_id, e.h FROM export_mark e JOIN q USING (h)),
                 d AS (SELECT h, count(*) AS df FROM m GROUP BY h)
            SELECT export_id, sum(ln((? + 1.0) / df)) AS score, count(*) AS cells,
                   count(*) FILTER (WHERE df = 1) AS unique_cells
            FROM m JOIN d USING (h) GROUP BY export_id ORDER BY cells DESC, score DESC, export_id
            """, [n_exports]).fetchall()
    finally:
        cur.unregister("_trace_values")
    n = values.len()
    # The first `top`, and every export tied with the best (an ambiguity lists them all).
    found = [r for i, r in enumerate(found) if i < top or r[2] == found[0][2]]
    cands = [Candidate(export_id=int(e), score=float(s), cells=int(c), unique_cells=int(u), lacks=n - int(c))
             for e, s, c, u in found]
    for c in cands:
        c.keys_found, c.seeds_found = store.keys_found(wh, export_id=c.export_id, values=values.to_list())
    _describe(cands)
    verdict = "no match"
    if cands and cands[0].cells >= COVERED * n:
        best = cands[0]
        clear = len(cands) == 1 or cands[1].lacks - best.lacks >= max(3, MARGIN * n)
        verdict = "named" if clear else "ambiguous"
    elif cands and cands[0].cells >= 0.5 * n:
        verdict = "ambiguous"
    report = TraceReport(file=path.name, rows=rows, values=n, verdict=verdict, candidates=cands,
                         notes=notes)
    AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=actor.get_username() if getattr(actor, "pk", None) else str(actor),
        action=AuditEvent.Action.EXPORT_TRACE,
        subject=None,
        detail={"file": path.name, "verdict": verdict, "export": cands[0].export_id if report.best else None,
                "candidates": [c.export_id for c in cands]})
    return report


def _describe(cands: list[Candidate]) -> None:
    from unionhall.exports.models import ExportRequest

    by_id = {er.pk: er for er in ExportRequest.objects.select_related(
        "saved_list", "committee", "requested_by", "decided_by", "vendor").filter(pk__in=[c.export_id for c in cands])}
    for c in cands:
        er = by_id.get(c.export_id)
        if er is None:
            c.reference = f"export {c.export_id} (request deleted)"
            continue
        c.reference, c.list_name, c.committee = er.reference, er.saved_list.name, er.committee.name
        c.requester = er.requested_by.get_username()
        c.approver = er.decided_by.get_username() if er.decided_by else "—"
        c.vendor = er.vendor.name if er.vendor else None
        c.written = f"{er.ready_at:%Y-%m-%d %H:%M}" if er.ready_at else "—"
        c.seeds = er.seeds
