"""Polls: import a pollster's respondent file, weight it to voter-file or member-file
margins, and read toplines and crosstabs with design-based margins of error.

* `poll_import`: a CSV/TSV/XLSX (ingest's `open_source`: any encoding, title lines,
  ragged rows...) with one row per respondent: a respondent id column, demographic
  columns recognized by their headers (county, sex, age or age band, party, union
  member, optionally a base weight and a stratum) and question columns (every other
  column). Each demographic is read into the categories the voter file uses (county
  names, F/M/U, age bands 18-29/30-44/45-64/65+, party codes, yes/no); a row that
  cannot be read is quarantined (`poll_quarantine`) with a code and a reason naming
  the column; rows read = respondents + rejected. Synchronous, in one app-database
  transaction around one warehouse transaction: a poll is thousands of rows, and a
  failure leaves nothing behind.
* `poll_margins`: the universe's counts by each raking variable (registered voters, or
  the members of one affiliate), aggregated over the user's scope through the gateway.
* `poll_rake`: rakes the base weights to those margins (`weighting.rake`) and replaces
  the poll's weights in one warehouse transaction; the report (target vs achieved
  shares, design effect) goes in ``Poll.detail["weighting"]``.
* `poll_topline`: weighted shares of every answer with SE and 95% MOE, or a crosstab by
  a demographic or another question (row percentages).

Who may: analysts, data managers and administrators of the poll's committee or one
above it (`analytics_committees`); a poll of another committee is "not found". A
quarantined row's raw text shows only to its uploader and platform administrators.

This module writes and reads ``poll_quarantine`` (person-bearing: raw text may hold
anything), a system-module exception listed in tests/access/test_only_door.py.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import polars as pl
import pyarrow as pa
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from unionhall.access.models import Committee
from unionhall.analytics.models import Poll
from unionhall.analytics.selectors import analytics_committees
from unionhall.analytics.weighting import (
    DEFAULT_MAX_ITER,
    DEFAULT_TOL,
    ShareTable,
    effective_n,
    kish_deff,
    proportions,
    rake,
)
from unionhall.errors import UserError
from unionhall.ingest.encodings import printable_raw
from unionhall.ingest.readers import open_source
from unionhall.ingest.standardize.text import collapse, is_null
from unionhall.warehouse import Warehouse, get_warehouse

QUARANTINE_PAGE = 50
MAX_CATEGORIES = 40  # more distinct answers than this: an open-ended question, no topline
AGE_BANDS = ("18-29", "30-44", "45-64", "65+")
UNIVERSE_VOTERS = "voters"
VOTER_STATUSES = ("A", "I")  # active and inactive registrations: the registered voters
WEIGHT = "base_weight"
STRATUM = "stratum"
RESPONDENT = "respondent"

QUARANTINE_CODES: dict[str, str] = {
    "blank": "the row is empty",
    "repeated_header": "the row repeats the header (files glued together)",
    "no_respondent": "the row has no respondent id",
    "duplicate_respondent": "the respondent id appears on an earlier row",
    "bad_age": "the age cannot be read as an age in years (18 to 120) or an age band",
    "bad_category": "a demographic value that is none of the variable's categories",
    "bad_weight": "the base weight is not a positive number",
}


def quarantine_code_text(code: str) -> str:
    """What a quarantine code means (reader-level codes keep ingest's text)."""
    from unionhall.ingest.quarantine import QUARANTINE_CODES as READER_CODES

    return QUARANTINE_CODES.get(code) or READER_CODES.get(code, "")


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z+]+", " ", text.casefold()).split())


# -- demographic variables ---------------------------------------------------------------

_SEX = {"f": "F", "female": "F", "woman": "F", "w": "F", "m": "M", "male": "M", "man": "M",
        "u": "U", "undesignated": "U", "other": "U", "x": "U", "nonbinary": "U", "non binary": "U"}
_PARTY_WORDS = {"democrat": "DEM", "democratic": "DEM", "dem": "DEM", "d": "DEM", "republican": "REP", "rep": "REP",
                "r": "REP", "gop": "REP", "unaffiliated": "UNA", "una": "UNA", "independent": "UNA", "ind": "UNA",
                "i": "UNA", "no party": "UNA", "libertarian": "LIB", "lib": "LIB", "l": "LIB", "green": "GRE",
                "gre": "GRE", "constitution": "CST", "cst": "CST", "no labels": "NLB", "nlb": "NLB",
                "we the people": "WTP", "wtp": "WTP"}
PARTY_GROUPS = ("DEM", "REP", "UNA")  # every other party is OTH: too few voters to weight apart


def party_group(code: str) -> str:
    """DEM, REP, UNA or OTH (Libertarians, Greens and the other parties together)."""
    return code if code in PARTY_GROUPS else "OTH"


def _party(text: str) -> str | None:
    k = _key(text)
    if k in ("oth", "other", "other party", "third party"):
        return "OTH"
    code = _PARTY_WORDS.get(k)
    return None if code is None else party_group(code)


_YES = {"yes", "y", "1", "true", "t", "member", "union member", "union"}
_NO = {"no", "n", "0", "false", "f", "non member", "nonmember", "not a member", "not member"}


@cache
def _counties() -> dict[str, str]:
    from unionhall.elections.nc_layout import ncvoter_layout

    names = ncvoter_layout().codes["county_id"].values()
    return {_key(n): n.upper() for n in names if n}


def _county(text: str) -> str | None:
    k = _key(text)
    if k.endswith(" county"):
        k = k[: -len(" county")]
    return _counties().get(k)


def _band_of_age(age: int) -> str:
    return "18-29" if age < 30 else "30-44" if age < 45 else "45-64" if age < 65 else "65+"


_BAND_RE = re.compile(r"^(\d{2})\s*(?:-|to|\u2013)\s*(\d{2})$|^(\d{2})\s*(?:\+|plus|and over|or older|and older)$")


def _band(text: str) -> str | None:
    m = _BAND_RE.match(text.strip().casefold())
    if m is None:
        return None
    label = f"{m.group(1)}-{m.group(2)}" if m.group(1) else f"{m.group(3)}+"
    return label if label in AGE_BANDS else None


@dataclass(frozen=True)
class Variable:
    """A demographic a poll can be weighted on: the headers that name it, how a cell is
    read (None: not a category), and what the reason says the categories are."""

    name: str
    headers: frozenset[str]
    read: Callable[[str], str | None]
    categories: str
    code: str = "bad_category"


VARIABLES: dict[str, Variable] = {v.name: v for v in (
    Variable("county", frozenset({"county", "county name", "county desc", "cnty", "res county"}), _county,
             "a North Carolina county name (e.g. Wake)"),
    Variable("sex", frozenset({"sex", "gender", "gender code", "sex code"}), lambda s: _SEX.get(_key(s)),
             "F (female), M (male) or U (undesignated)"),
    Variable("age_band", frozenset({"age band", "age group", "age cat", "agecat", "age range", "age bracket",
                                    "age category"}), _band, "18-29, 30-44, 45-64 or 65+", code="bad_age"),
    Variable("party", frozenset({"party", "party id", "party cd", "party code", "party registration",
                                 "registered party", "party reg", "partyid"}),
             _party, "a party code or name (DEM, REP, UNA; LIB, GRE and the other parties are OTH)"),
    Variable("member", frozenset({"member", "union member", "is member", "member yn", "union", "union membership"}),
             lambda s: "yes" if _key(s) in _YES else "no" if _key(s) in _NO else None, "yes or no"),
)}
AGE_HEADERS = frozenset({"age", "age years", "respondent age", "age in years", "age yrs"})
RESPONDENT_HEADERS = frozenset({"respondent", "respondent id", "respondentid", "resp id", "respid", "id", "caseid",
                                "case id", "record id", "response id", "responseid", "interview id"})
WEIGHT_HEADERS = frozenset({"weight", "base weight", "wt", "design weight", "baseweight", "sample weight"})
STRATUM_HEADERS = frozenset({"stratum", "strata", "sample stratum"})
_RESERVED = frozenset({"row_number", "weight", "base_weight", "respondent", "age", STRATUM, *VARIABLES})


@dataclass
class _Columns:
    respondent: str
    variables: dict[str, str] = field(default_factory=dict)  # variable -> column
    age: str | None = None
    weight: str | None = None
    stratum: str | None = None
    questions: list[str] = field(default_factory=list)


def _columns(header: list[str], file_name: str) -> _Columns:
    found: dict[str, list[str]] = {}
    rest: list[str] = []
    for col in header:
        k = _key(col)
        role = next((v.name for v in VARIABLES.values() if k in v.headers), None)
        if role is None:
            role = ("respondent" if k in RESPONDENT_HEADERS else "age" if k in AGE_HEADERS
                    else "weight" if k in WEIGHT_HEADERS else "stratum" if k in STRATUM_HEADERS else None)
        if role is None:
            rest.append(col)
        else:
            found.setdefault(role, []).append(col)
    if "age" in found and "age_band" in found:  # the age in years wins; the band stays a column
        rest.extend(found.pop("age_band"))
    twice = {r: cs for r, cs in found.items() if len(cs) > 1}
    if twice:
        listing = "; ".join(f"{' and '.join(repr(c) for c in cs)} are both the {r}" for r, cs in twice.items())
        raise UserError(f"{file_name}: {listing}: keep one of them (rename the other) and upload again")
    if "respondent" not in found:
        raise UserError(f"{file_name}: no respondent id column (a header such as respondent_id, resp_id or "
                        f"caseid; the columns are {', '.join(header)}): add one and upload again")
    questions = [c for c in header if c in rest]
    reserved = [c for c in questions if c in _RESERVED]
    if reserved:
        raise UserError(f"{file_name}: column {reserved[0]!r} has a name Union Hall keeps for itself: rename it "
                        "(e.g. Q_" + reserved[0] + ") and upload again")
    if not questions:
        raise UserError(f"{file_name}: no question columns: every column is a demographic or the respondent id")
    cols = _Columns(respondent=found["respondent"][0], questions=questions)
    for name in VARIABLES:
        if name in found:
            cols.variables[name] = found[name][0]
    if "age" in found:
        cols.age = found["age"][0]
        cols.variables["age_band"] = cols.age
    cols.weight = found.get("weight", [None])[0]
    cols.stratum = found.get("stratum", [None])[0]
    return cols


# -- import -----------------------------------------------------------------------------


@dataclass
class _Reject:
    row: int
    column: str | None
    code: str
    reason: str
    raw: str


def _age(text: str) -> tuple[str | None, int | None]:
    """(age band, age) of an age cell; (None, None) when it cannot be read."""
    band = _band(text)
    if band is not None:
        return band, None
    try:
        value = float(text.strip())
    except ValueError:
        return None, None
    if not value.is_integer() or not 18 <= value <= 120:
        return None, None
    return _band_of_age(int(value)), int(value)


def _check_row(cells: dict[str, str], cols: _Columns) -> tuple[dict[str, str | None], float, list[tuple[str, str, str]]]:
    """The row's variables (None: blank), base weight, and problems (code, column, reason)."""
    values: dict[str, str | None] = {}
    problems: list[tuple[str, str, str]] = []
    for name, col in cols.variables.items():
        text = collapse(cells[col])
        if is_null(text):
            values[name] = None
            continue
        if col == cols.age:
            band, age = _age(text)
            if band is None:
                problems.append(("bad_age", col, f"column {col!r}: {text!r} is not an age in years (18 to 120) "
                                 "or an age band (18-29, 30-44, 45-64, 65+): write the number or leave it blank"))
            values["age_band"] = band
            values["age"] = None if age is None else str(age)
            continue
        var = VARIABLES[name]
        got = var.read(text)
        if got is None:
            problems.append((var.code, col, f"column {col!r}: {text!r} is not {var.categories}: correct it, or "
                             "leave it blank if unknown"))
        values[name] = got
    weight = 1.0
    if cols.weight is not None:
        text = collapse(cells[cols.weight])
        try:
            weight = float(text)
            ok = np.isfinite(weight) and weight > 0
        except ValueError:
            ok = False
        if not ok:
            problems.append(("bad_weight", cols.weight, f"column {cols.weight!r}: {text!r} is not a positive "
                             "number: give every respondent a base weight above 0 (or drop the column)"))
    if cols.stratum is not None:
        text = collapse(cells[cols.stratum])
        values[STRATUM] = None if is_null(text) else text
        if values[STRATUM] is None:
            problems.append(("bad_category", cols.stratum, f"column {cols.stratum!r} is blank: every respondent "
                             "needs a stratum when the file has one"))
    return values, weight, problems


@dataclass
class ImportResult:
    poll: Poll
    rows_read: int
    respondents: int
    rejected: int
    by_code: dict[str, int]


def _committee_check(user: Any, committee: Committee) -> None:
    if committee not in analytics_committees(user):
        raise UserError(f"{user.get_username()} does no analytics for {committee.name}: choose a committee you are "
                        "an analyst, data manager or administrator of")


def poll_import(*, user: Any, committee: Committee, path: Path, name: str, file_name: str | None = None,
                warehouse: Warehouse | None = None) -> ImportResult:
    """Read a poll file, store its respondents' answers and the rows it could not read;
    all or nothing. Raises `UserError` for a file that cannot be used at all (naming
    the file, and the row and column where there is one)."""
    _committee_check(user, committee)
    file_name = file_name or path.name
    if not name.strip():
        raise UserError("give the poll a name")
    reader = open_source(path)
    cols = _columns(reader.header, file_name)
    header_keys = [_key(h) for h in reader.header]
    position = {h: i for i, h in enumerate(reader.header)}
    rejects: list[_Reject] = []
    kept: list[tuple[int, str, dict[str, str | None], float, dict[str, str | None]]] = []
    first_row: dict[str, int] = {}
    rows_read = 0
    for batch in reader.batches(size=10_000):
        rows_read += batch.rows_read
        rejects.extend(_Reject(r.row_number, None, r.code, r.reason, r.raw) for r in batch.rejected)
        for number, raw, row in zip(batch.row_numbers.to_list(), batch.raw.to_list(), batch.frame.rows(),
                                    strict=True):
            cells = dict(zip(reader.header, (str(c) if c is not None else "" for c in row), strict=True))
            if all(not collapse(c) for c in cells.values()):
                rejects.append(_Reject(number, None, "blank", "the row is empty: nothing to do", raw))
                continue
            if [_key(c) for c in cells.values()] == header_keys:
                rejects.append(_Reject(number, None, "repeated_header", "the row repeats the header: nothing to do",
                                       raw))
                continue
            rid = collapse(cells[cols.respondent])
            if not rid:
                rejects.append(_Reject(number, cols.respondent, "no_respondent",
                                       f"column {cols.respondent!r} is blank: give the respondent's id", raw))
                continue
            values, weight, problems = _check_row(cells, cols)
            problems.sort(key=lambda p: position[p[1]])  # in the file's column order
            if rid in first_row:
                problems.insert(0, ("duplicate_respondent", cols.respondent,
                                    f"column {cols.respondent!r}: respondent {rid!r} is on row {first_row[rid]} "
                                    "already: remove one of the two rows, or give them distinct ids"))
            if problems:
                code, col, reason = problems[0]
                more = [p[2] for p in problems[1:]]
                rejects.append(_Reject(number, col, code, reason + (f"; also: {'; '.join(more)}" if more else ""),
                                       raw))
                continue
            first_row[rid] = number
            answers = {q: (collapse(cells[q]) or None) for q in cols.questions}
            kept.append((number, rid, values, weight, answers))
    if not kept:
        shown = "; ".join(f"row {r.row}: {r.reason}" for r in rejects[:5])
        raise UserError(f"{file_name}: no respondent could be read ({rows_read} rows): {shown or 'the file has no rows'}")
    if rows_read != len(kept) + len(rejects):
        raise RuntimeError(f"row accounting does not balance: read {rows_read}, kept {len(kept)}, "
                           f"rejected {len(rejects)}")

    variables = [v for v in (*VARIABLES, "age") if v in cols.variables or (v == "age" and cols.age)]
    if cols.stratum:
        variables.append(STRATUM)
    detail: dict[str, Any] = {
        "rows_read": rows_read,
        "columns": {RESPONDENT: cols.respondent, **cols.variables, **({WEIGHT: cols.weight} if cols.weight else {}),
                    **({STRATUM: cols.stratum} if cols.stratum else {})},
        "variables": {v: _tally(k[2].get(v) for k in kept) for v in variables},
        "questions": [{"name": q, "answers": _tally(k[4][q] for k in kept),
                       "blank": sum(1 for k in kept if k[4][q] is None)} for q in cols.questions],
        "quarantine_by_code": dict(Counter(r.code for r in rejects).most_common()),
        "base_weight": cols.weight,
        "strata": STRATUM if cols.stratum else None,
        "notes": list(reader.notes),
        "weighting": None,
    }
    for q in detail["questions"]:
        q["open"] = len(q["answers"]) > MAX_CATEGORIES
    wh = warehouse or get_warehouse()
    with transaction.atomic():
        poll = Poll.objects.create(name=name.strip()[:200], committee=committee, uploaded_by=user,
                                   file_name=file_name[:300], respondents=len(kept), rejected=len(rejects),
                                   detail=detail)
        with wh.transaction() as cur:
            _responses_write(cur, poll.pk, kept, variables)
            _quarantine_write(cur, poll.pk, rejects)
    return ImportResult(poll=poll, rows_read=rows_read, respondents=len(kept), rejected=len(rejects),
                        by_code=detail["quarantine_by_code"])


def _tally(values: Iterable[str | None]) -> dict[str, int]:
    counts = Counter(v for v in values if v is not None)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _responses_write(cur: Any, poll_id: int, kept: list[tuple[int, str, dict[str, str | None], float,
                                                                 dict[str, str | None]]],
                     variables: list[str]) -> None:
    resp: list[str] = []
    numbers: list[int] = []
    questions: list[str] = []
    answers: list[str | None] = []
    for number, rid, values, _, given in kept:
        for v in variables:
            resp.append(rid)
            numbers.append(number)
            questions.append(v)
            answers.append(values.get(v))
        for q, a in given.items():
            resp.append(rid)
            numbers.append(number)
            questions.append(q)
            answers.append(a)
    table = pa.table({"poll_id": pa.array([poll_id] * len(resp), pa.int64()), "respondent": resp,
                      "row_number": pa.array(numbers, pa.int64()), "question": questions,
                      "answer": pa.array(answers, pa.string())})
    weights = pa.table({"poll_id": pa.array([poll_id] * len(kept), pa.int64()), "respondent": [k[1] for k in kept],
                        "base_weight": [k[3] for k in kept], "weight": [k[3] for k in kept]})
    cur.register("_poll_rows", table)
    cur.register("_poll_weights", weights)
    try:
        cur.execute("INSERT INTO poll_response SELECT poll_id, respondent, row_number, question, answer "
                    "FROM _poll_rows")
        cur.execute("INSERT INTO poll_weight SELECT poll_id, respondent, base_weight, weight FROM _poll_weights")
    finally:
        cur.unregister("_poll_rows")
        cur.unregister("_poll_weights")


def _quarantine_write(cur: Any, poll_id: int, rejects: list[_Reject]) -> None:
    if not rejects:
        return
    rows = sorted(rejects, key=lambda r: r.row)
    table = pa.table({
        "poll_id": pa.array([poll_id] * len(rows), pa.int64()),
        "row_number": pa.array([r.row for r in rows], pa.int64()),
        "column_name": pa.array([r.column for r in rows], pa.string()),
        "code": [r.code for r in rows], "reason": [r.reason for r in rows],
        "raw": pa.array([printable_raw(r.raw) for r in rows], pa.string()),
    })
    cur.register("_poll_q", table)
    try:
        cur.execute("INSERT INTO poll_quarantine SELECT poll_id, row_number, column_name, code, reason, raw "
                    "FROM _poll_q")
    finally:
        cur.unregister("_poll_q")


def poll_delete(*, user: Any, poll: Poll, warehouse: Warehouse | None = None) -> None:
    """Remove a poll with its responses, weights and quarantine."""
    _committee_check(user, poll.committee)
    wh = warehouse or get_warehouse()
    with transaction.atomic():
        pk = poll.pk
        poll.delete()
        with wh.transaction() as cur:
            for table in ("poll_response", "poll_weight", "poll_quarantine"):
                cur.execute(f"DELETE FROM {table} WHERE poll_id = ?", [pk])  # noqa: S608 (constant names)


# -- reads -------------------------------------------------------------------------------


def polls_visible(*, user: Any) -> QuerySet[Poll]:
    """Polls of the committees the user does analytics for."""
    return Poll.objects.filter(committee__in=analytics_committees(user)).select_related("committee", "uploaded_by")


def poll_get(*, user: Any, poll_id: int) -> Poll:
    """One poll the user may see; `Poll.DoesNotExist` alike for missing and another
    committee's."""
    return polls_visible(user=user).get(pk=poll_id)


def poll_variables(poll: Poll) -> list[str]:
    """The demographic variables the poll can be weighted on (present in its file)."""
    return [v for v in VARIABLES if v in poll.detail.get("variables", {})]


def poll_questions(poll: Poll) -> list[dict[str, Any]]:
    return list(poll.detail.get("questions", []))


def poll_frame(*, poll: Poll, warehouse: Warehouse | None = None) -> pl.DataFrame:
    """One row per respondent (file order): respondent, row_number, each variable and
    question, base_weight and weight."""
    wh = warehouse or get_warehouse()
    r = wh.table("poll_response")
    long = pl.from_arrow(r.filter(r.poll_id == poll.pk).select("respondent", "row_number", "question", "answer")
                         .to_pyarrow())
    assert isinstance(long, pl.DataFrame)
    w = wh.table("poll_weight")
    weights = pl.from_arrow(w.filter(w.poll_id == poll.pk).select("respondent", "base_weight", "weight").to_pyarrow())
    assert isinstance(weights, pl.DataFrame)
    wide = long.pivot(on="question", index=["respondent", "row_number"], values="answer", aggregate_function="first")
    return wide.join(weights, on="respondent", how="left").sort("row_number")


@dataclass(frozen=True)
class QuarantinePage:
    rows: list[dict[str, Any]]
    total: int
    raw_shown: bool


def poll_quarantine_page(*, user: Any, poll: Poll, page: int = 1, warehouse: Warehouse | None = None
                         ) -> QuarantinePage:
    """One page of a poll's rejected rows in file order. A raw row may hold anything the
    pollster sent (names, phone numbers) and cannot be masked: it shows only to the
    uploader and platform administrators; others see row, column, code and reason."""
    _committee_check(user, poll.committee)
    wh = warehouse or get_warehouse()
    q = wh.unscoped_table("poll_quarantine")
    q = q.filter(q.poll_id == poll.pk)
    raw = bool(user.is_superuser or poll.uploaded_by_id == user.pk)
    total = int(q.count().execute())
    shown = q.select("row_number", "column_name", "code", "reason", raw=q.raw if raw else ibis.null("string"))
    rows = shown.order_by(["row_number", "code"]).limit(QUARANTINE_PAGE, offset=max(0, page - 1) * QUARANTINE_PAGE)
    out = rows.to_pyarrow().to_pylist()
    for r in out:
        r["meaning"] = quarantine_code_text(str(r["code"]))
    return QuarantinePage(rows=out, total=total, raw_shown=raw)


# -- margins -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Margins:
    """A universe's persons by each variable's categories (persons whose value is
    unknown to the user are counted apart and left out of the shares)."""

    universe: str
    total: int
    counts: dict[str, dict[str, int]]
    unknown: dict[str, int]

    def shares(self) -> dict[str, dict[str, float]]:
        out = {}
        for v, cats in self.counts.items():
            s = sum(cats.values())
            out[v] = {c: n / s for c, n in cats.items()}
        return out


def _universe(t: ibis.Table, universe: str) -> ibis.Table:
    if universe == UNIVERSE_VOTERS:
        return t.filter(t.reg_status.isin(list(VOTER_STATUSES)))
    if universe.startswith("members:") and universe.split(":", 1)[1].strip():
        return t.filter(t.member_sources.contains(universe.split(":", 1)[1].strip()))
    raise UserError(f"universe {universe!r}: use 'voters' (registered voters) or 'members:SOURCE' (the members "
                    "of one affiliate's member file, e.g. members:nurses)")


def _variable_expr(t: ibis.Table, name: str) -> ibis.Value:
    if name == "county":
        return t.county.upper()
    if name == "sex":
        return t.sex
    if name == "age_band":
        a = t.age
        return ibis.cases((a < 18, ibis.null("string")), (a < 30, "18-29"), (a < 45, "30-44"), (a < 65, "45-64"),
                          (a <= 120, "65+"), else_=ibis.null("string"))
    if name == "party":
        p = t.party
        return ibis.cases((p.isnull(), ibis.null("string")), (p.isin(list(PARTY_GROUPS)), p), else_="OTH")
    if name == "member":
        return ibis.ifelse(t.member_sources.length() > 0, "yes", "no")
    raise UserError(f"{name!r} is not a weighting variable: use {', '.join(VARIABLES)}")


def poll_margins(*, user: Any, variables: list[str], universe: str = UNIVERSE_VOTERS,
                 warehouse: Warehouse | None = None) -> Margins:
    """Counts of the universe's persons in the user's scope by each variable (through
    the gateway: aggregates only). For analysts, whose reads are aggregates with small
    cells hidden, a category smaller than the minimum cell refuses the margin."""
    from django.conf import settings

    from unionhall.access.gateway import person_base
    from unionhall.access.models import RoleGrant
    from unionhall.access.scope import PERSON_ROLES
    from unionhall.access.services import usage_record

    t = _universe(person_base(user=user, warehouse=warehouse), universe)
    total = int(t.count().execute())
    if total == 0:
        raise UserError(f"no persons in the universe {universe!r} in your scope: choose another universe, or give "
                        "the margins yourself")
    roles = set(RoleGrant.objects.filter(user=user, role__in=PERSON_ROLES).values_list("role", flat=True))
    analyst_only = bool(roles) and roles <= {RoleGrant.Role.ANALYST} and not user.is_superuser
    min_cell = int(settings.UNIONHALL_MIN_CELL)
    counts: dict[str, dict[str, int]] = {}
    unknown: dict[str, int] = {}
    for name in variables:
        g = t.select(v=_variable_expr(t, name))
        rows = g.group_by("v").agg(n=g.count()).to_pyarrow().to_pylist()
        counts[name] = {str(r["v"]): int(r["n"]) for r in sorted(rows, key=lambda r: str(r["v"]))
                        if r["v"] is not None}
        unknown[name] = sum(int(r["n"]) for r in rows if r["v"] is None)
        small = sorted(c for c, n in counts[name].items() if n < min_cell)
        if analyst_only and small:
            raise UserError(f"{name}: {', '.join(small)} have fewer than {min_cell} persons in the universe, and "
                            "analysts see no cells that small: weight without it, or give the margins yourself")
        if not counts[name]:
            raise UserError(f"{name}: unknown for every person of the universe in your scope: weight without it")
    usage_record(user=user, action="search", persons=0,
                 detail={"kind": "poll margins", "universe": universe, "aggregate_by": variables})
    return Margins(universe=universe, total=total, counts=counts, unknown=unknown)


# -- weighting ---------------------------------------------------------------------------


def _weighting_report(result: Any, *, by: list[str], universe: str, margins: Margins | None,
                      bounds: tuple[float, float] | None, user: Any) -> dict[str, Any]:
    return {
        "by": by, "universe": universe, "bounds": list(bounds) if bounds else None,
        "iterations": result.iterations, "converged": result.converged, "trimmed": result.trimmed,
        "deff": result.deff, "effective_n": result.effective_n, "max_margin_error": result.max_margin_error,
        "margins": [asdict(m) for m in result.margins],
        "universe_total": margins.total if margins else None,
        "unknown": margins.unknown if margins else {},
        "at": timezone.now().isoformat(), "by_user": user.get_username(),
    }


def poll_rake(*, user: Any, poll: Poll, by: list[str], universe: str = UNIVERSE_VOTERS,
              margins: Mapping[str, Mapping[str, float]] | None = None, bounds: tuple[float, float] | None = None,
              tol: float = DEFAULT_TOL, max_iter: int = DEFAULT_MAX_ITER,
              warehouse: Warehouse | None = None) -> dict[str, Any]:
    """Rake the poll's base weights to the margins of `by` (from `universe` through the
    user's scope, or `margins` given as counts or shares) and store the weights; the
    report is kept in the poll's detail and returned. The previous weights stay when
    anything fails."""
    _committee_check(user, poll.committee)
    by = [b.strip() for b in by if b.strip()]
    if not by:
        raise UserError("choose at least one variable to weight on")
    have = poll_variables(poll)
    missing = [b for b in by if b not in have]
    if missing:
        raise UserError(f"poll {poll.pk} has no {', '.join(missing)} column: weight on {', '.join(have) or 'nothing'}")
    wh = warehouse or get_warehouse()
    frame = poll_frame(poll=poll, warehouse=wh)
    for b in by:
        blank = frame.filter(pl.col(b).is_null())
        if blank.height:
            rows = ", ".join(str(x) for x in blank.get_column("row_number").head(5).to_list())
            raise UserError(f"{blank.height} respondents have no {b} (rows {rows}{'...' if blank.height > 5 else ''}):"
                            f" weight without {b}, or fill it in and import the file again")
    got: Margins | None = None
    if margins is None:
        got = poll_margins(user=user, variables=by, universe=universe, warehouse=wh)
        targets: Mapping[str, Mapping[str, float]] = got.shares()
    else:
        targets = {b: margins[b] for b in by if b in margins}
        if set(targets) != set(by):
            raise UserError(f"give margins for {', '.join(b for b in by if b not in targets)} too")
        universe = "given"
    base = frame.get_column("base_weight").to_numpy()
    result = rake(base, {b: frame.get_column(b).to_numpy() for b in by}, targets, tol=tol, ctrl_tol=tol,
                  max_iter=max_iter, bounds=bounds)
    if not result.converged:
        raise UserError(f"the weights did not converge in {max_iter} iterations (a margin is off by "
                        f"{result.max_margin_error:.1%}): allow more iterations, widen the weight bounds, or "
                        "weight on fewer or coarser variables")
    report = _weighting_report(result, by=by, universe=universe, margins=got, bounds=bounds, user=user)
    weights = pa.table({"poll_id": pa.array([poll.pk] * frame.height, pa.int64()),
                        "respondent": frame.get_column("respondent").to_list(),
                        "base_weight": base, "weight": result.weights})
    with transaction.atomic():
        poll.detail = {**poll.detail, "weighting": report}
        poll.save(update_fields=["detail"])
        with wh.transaction() as cur:
            cur.execute("DELETE FROM poll_weight WHERE poll_id = ?", [poll.pk])
            cur.register("_poll_weights", weights)
            try:
                cur.execute("INSERT INTO poll_weight SELECT poll_id, respondent, base_weight, weight "
                            "FROM _poll_weights")
            finally:
                cur.unregister("_poll_weights")
    return report


def poll_unweight(*, user: Any, poll: Poll, warehouse: Warehouse | None = None) -> None:
    """Back to the base weights."""
    _committee_check(user, poll.committee)
    wh = warehouse or get_warehouse()
    with transaction.atomic():
        poll.detail = {**poll.detail, "weighting": None}
        poll.save(update_fields=["detail"])
        with wh.transaction() as cur:
            cur.execute("UPDATE poll_weight SET weight = base_weight WHERE poll_id = ?", [poll.pk])


# -- toplines and crosstabs --------------------------------------------------------------


@dataclass(frozen=True)
class QuestionResult:
    question: str
    by: str | None
    weighted: bool
    tables: list[ShareTable]  # one (topline) or one per row of the crosstab
    categories: list[str]
    blank: int
    deff: float
    effective_n: float

    def as_dict(self) -> dict[str, Any]:
        return {"question": self.question, "by": self.by, "weighted": self.weighted, "categories": self.categories,
                "blank": self.blank, "deff": self.deff, "effective_n": self.effective_n,
                "tables": [asdict(t) for t in self.tables]}


def _categories(poll: Poll, name: str) -> list[str]:
    for q in poll_questions(poll):
        if q["name"] == name:
            return list(q["answers"])
    if name == "age_band":
        return [b for b in AGE_BANDS if b in poll.detail["variables"].get(name, {})]
    return list(poll.detail.get("variables", {}).get(name, {}))


def poll_topline(*, user: Any, poll: Poll, by: str | None = None, questions: list[str] | None = None,
                 weighted: bool = True, warehouse: Warehouse | None = None) -> list[QuestionResult]:
    """Weighted shares of each answer of each question (or `questions`), with standard
    error, 95% margin of error and unweighted n; with `by` (a demographic variable or
    another question), the crosstab: one row of percentages per category of `by`.
    `user=None` is the operator on the warehouse host (the command line without
    --user): a poll's answers are anonymous respondents' aggregates, not person rows."""
    if user is not None:
        _committee_check(user, poll.committee)
    frame = poll_frame(poll=poll, warehouse=warehouse)
    names = [q["name"] for q in poll_questions(poll) if not q.get("open")]
    chosen = questions or names
    unknown = [q for q in chosen if q not in frame.columns]
    if unknown:
        raise UserError(f"poll {poll.pk} has no question {', '.join(map(repr, unknown))}: its questions are "
                        f"{', '.join(names)}")
    if by is not None and by not in frame.columns:
        raise UserError(f"cannot cross by {by!r}: use a demographic ({', '.join(poll_variables(poll))}) or a "
                        f"question ({', '.join(names)})")
    w = frame.get_column("weight" if weighted else "base_weight").to_numpy()
    strata = frame.get_column(STRATUM).to_numpy() if poll.detail.get("strata") and STRATUM in frame.columns else None
    domain = frame.get_column(by).to_numpy() if by else None
    out = []
    for q in chosen:
        if q == by:
            continue
        answers = frame.get_column(q).to_numpy()
        cats = _categories(poll, q)
        tables = proportions(answers, w, domain=domain, strata=strata, categories=cats)
        if by is not None:
            order = {c: i for i, c in enumerate(_categories(poll, by))}
            tables.sort(key=lambda t: (order.get(str(t.domain), len(order)), str(t.domain)))
        mask = np.array([a is not None for a in answers.tolist()])
        out.append(QuestionResult(question=q, by=by, weighted=weighted, tables=tables, categories=cats,
                                  blank=int((~mask).sum()), deff=kish_deff(w[mask]), effective_n=effective_n(w[mask])))
    return out
