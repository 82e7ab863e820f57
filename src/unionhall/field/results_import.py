"""Vendor result files: what a phone or mail vendor (or a partner's canvass tool) sends
back after working an approved export. Upload, map the columns, check every row, post
each attempt once to the warehouse contact history, quarantine the rest.

The pieces, in the order an upload uses them:

* The result-file schema (`RESULTS_TARGET`, fields in `RESULT_FIELDS`) is registered
  with ingest's column mapper, so a result file gets the same header/content
  suggestions, JSON form and `for_header` reuse as member lists and voter files.
  Survey answers are columns mapped to ``answer`` with the question's code in the
  rule's ``custom_name``; a header equal to one of the committee's question codes is
  suggested as that question. Long files (a question column and a response column,
  one answer per row) work too.
* The mapping is saved per (committee, vendor) on the `ContactUpload` that used it;
  the next file of that vendor for that committee starts from it.
* The import is a job (`results_import_run`, kind ``field.import_results``): all of it
  happens in the job's warehouse transaction, so a failure posts nothing and
  quarantines nothing; the upload's counts are written with the commit.
* Every row read ends posted or quarantined (`contact_quarantine`, with the column
  and a reason a person can act on); read = posted + quarantined is checked before
  anything commits.
* Each attempt's ``result_key`` is a hash of its content (committee, vendor, person,
  attempt time, result code, answers), so a file uploaded again, or a later file that
  repeats rows, posts nothing twice: those rows are quarantined as ``already_posted``.
* Scope: a row may post only for a person the committee's organizers see (its
  organizer scope) and, when a user uploaded the file, that user sees too (the
  gateway's `person_base`). An unknown id and an out-of-scope id get the same reason,
  "no such person in your scope".

This module is the import job (a system job: it resolves ids over every person and
writes `contact_quarantine`) and the reads behind the upload pages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from unionhall.access.models import Committee
from unionhall.access.services import usage_record
from unionhall.errors import ScopeError, UserError
from unionhall.exports.watermark import KEY_PATTERN
from unionhall.field import store
from unionhall.field.models import ActivistCode, ContactUpload, ResultCode, SurveyQuestion
from unionhall.field.selectors import field_committees
from unionhall.ingest.encodings import printable_raw
from unionhall.ingest.mapping import (
    CUSTOM,
    SKIP,
    ColumnMapping,
    ColumnRule,
    TargetSchema,
    _syn,
    suggest_mapping,
    target_schema_register,
)
from unionhall.ingest.readers import SourceReader, open_source
from unionhall.ingest.standardize import _TOTALS_RE  # ingest's footer pattern: both importers agree
from unionhall.ingest.standardize.dates import parse_date
from unionhall.ingest.standardize.text import collapse, is_null
from unionhall.jobs.runner import JobContext
from unionhall.warehouse import Warehouse

JOB_KIND = "field.import_results"
CHANNELS = ("phone", "door", "mail", "text")
ANSWER = "answer"
QUARANTINE_PAGE = 50
NOTE_MAX = 500
# A device or vendor clock a little ahead is not a future attempt.
_CLOCK_SLACK = dt.timedelta(minutes=10)
# Nothing before this is a contact attempt of a program run with Union Hall; such dates
# are Excel serials or ids in the date column.
_EARLIEST = dt.date(1990, 1, 1)
_KEY_RE = re.compile(KEY_PATTERN)  # an approved export's uh_key

# -- the result-file schema ---------------------------------------------------------------

RESULT_FIELDS: dict[str, str] = {
    "person_id": "The Union Hall key of an approved export (uh_key, UnionHallID) or a Union Hall person id",
    "ncid": "Voter registration id (NCID) of the person",
    "result": "Result of the attempt: a code (NH, CV...) or its label ('Not Home')",
    "contacted_at": "Date of the attempt, with its time if the column has one",
    "contact_time": "Time of the attempt, when it is in a column of its own",
    "channel": "How: phone, door, mail or text (default: the upload's channel)",
    ANSWER: "Answer to a survey question (the column holds its response codes)",
    "question": "Survey question code (files with one answer per row)",
    "response": "Response to the question in the question column",
    "activist_codes": "Activist codes, several separated by ';'",
    "note": "A note about the attempt",
    "canvasser": "Who made the attempt (the vendor's caller or agent)",
}

_SYNONYMS: list[tuple[str, str | None, set[str]]] = [
    ("person_id", None, _syn("person id", "personid", "person_id", "uh id", "union hall id", "unionhall id",
                             "uh person id", "pid", "person", "uh key", "uh_key", "uhkey", "unionhallid",
                             "union hall key", "unionhall key", "export key")),
    ("ncid", None, _syn("ncid", "nc id", "voter ncid", "voter id", "voterid", "state voter id")),
    ("result", None, _syn("result", "result code", "resultcode", "disposition", "dispo", "call result",
                          "outcome", "status", "contact result", "canvass result", "call disposition",
                          "disposition code", "result description", "call status", "call outcome")),
    ("contacted_at", None, _syn("date", "call date", "contact date", "date called", "attempt date",
                                "date canvassed", "canvass date", "datetime", "date time", "timestamp",
                                "called at", "contacted at", "date of contact", "date contacted",
                                "call datetime", "call date time", "contact datetime", "attempted",
                                "attempted at", "date attempted")),
    ("contact_time", None, _syn("time", "call time", "contact time", "time called", "attempt time",
                                "time of call")),
    ("channel", None, _syn("channel", "contact type", "mode", "method", "contact method", "contact mode",
                           "contact channel")),
    ("question", None, _syn("question", "survey question", "question code", "survey question code", "sq",
                            "survey question id", "question id")),
    ("response", None, _syn("response", "survey response", "answer", "response code", "survey answer", "sr",
                            "survey response id", "response id")),
    ("activist_codes", None, _syn("activist codes", "activist code", "activist", "tags", "activist tags")),
    ("note", None, _syn("note", "notes", "comment", "comments", "remarks", "call notes")),
    ("canvasser", None, _syn("caller", "caller id", "caller name", "agent", "agent id", "agent name",
                             "canvasser", "volunteer", "operator", "interviewer")),
]
_WORD_RULES: list[tuple[re.Pattern[str], str, str | None]] = [
    (re.compile(r"\bncid\b"), "ncid", None),
    (re.compile(r"\bperson\b.*\bid\b"), "person_id", None),
    (re.compile(r"\b(date|dt|day)\b"), "contacted_at", None),
    (re.compile(r"\btime\b"), "contact_time", None),
    (re.compile(r"\b(result|disposition|dispo|outcome)\b"), "result", None),
    (re.compile(r"\bactivist\b"), "activist_codes", None),
    (re.compile(r"\bquestion\b"), "question", None),
    (re.compile(r"\b(response|answer)\b"), "response", None),
    (re.compile(r"\b(note|notes|comment|comments)\b"), "note", None),
    (re.compile(r"\b(caller|agent|canvasser)\b"), "canvasser", None),
    (re.compile(r"\bchannel\b"), "channel", None),
]

RESULTS_TARGET = target_schema_register(
    TargetSchema(
        name="results",
        fields=RESULT_FIELDS,
        synonyms=_SYNONYMS,
        word_rules=_WORD_RULES,
        multi_fields=frozenset({ANSWER, "activist_codes"}),
        required=(
            (("person_id", "ncid"), "the person (a person id or an NCID)"),
            (("result",), "the result code"),
            (("contacted_at",), "the date of the attempt"),
        ),
        # Only dates mean something here; a recent "join date" is an attempt date.
        content_fields={"join_date": "contacted_at"},
        # Ids look like ZIPs or phone numbers, codes like gender or state codes.
        header_wins=frozenset(set(RESULT_FIELDS) - {"contacted_at"}),
        unmapped="not posted (ignored)",
    )
)

# -- quarantine codes -------------------------------------------------------------------

QUARANTINE_CODES: dict[str, str] = {
    "blank": "the row is empty",
    "repeated_header": "the row repeats the header (files glued together)",
    "totals_row": "a total or count line, not a result",
    "no_person": "the row names no person",
    "bad_person_id": "neither an export key nor a person id",
    "seed_record": "a seed record of an export (a decoy, nobody): not a real contact",
    "unknown_person": "no such person in your scope (unknown, or not one you may see)",
    "no_result": "no result code",
    "bad_result": "not a result code or label",
    "no_date": "no date of the attempt",
    "bad_date": "the date or time cannot be read",
    "future_date": "the attempt is dated in the future",
    "bad_channel": "not a channel (phone, door, mail, text)",
    "bad_answer": "not a response of that question",
    "unknown_question": "not a survey question of the committee",
    "unknown_activist_code": "not an activist code of the committee",
    "answers_without_contact": "answers or activist codes with a result that is not a conversation",
    "conflicting_answer": "answers the same attempt differently than an earlier row",
    "duplicate": "repeats an earlier row of the same file",
    "already_posted": "posted already by an earlier upload",
}


def quarantine_code_text(code: str) -> str:
    """What a quarantine code means; reader-level rejects (ragged rows, undecodable
    bytes...) keep ingest's codes and descriptions."""
    from unionhall.ingest.quarantine import QUARANTINE_CODES as READER_CODES

    return QUARANTINE_CODES.get(code) or READER_CODES.get(code, "")


@lru_cache(maxsize=65536)  # result words, answers and names repeat on every row
def _norm(text: str) -> str:
    """Lower case, punctuation to spaces, whitespace collapsed: how labels are compared."""
    return " ".join(re.sub(r"[^0-9a-z#]+", " ", text.casefold()).split())


# Vendors' own words for the shared result codes (labels and codes come from ResultCode).
_RESULT_WORDS: dict[str, tuple[str, ...]] = {
    "CV": ("talked", "talked to", "contact", "contacted", "canvassed", "spoke", "spoke to", "spoke with",
           "conversation", "reached", "completed", "complete", "answered", "live contact", "human"),
    "NH": ("not home", "nobody home", "no one home", "noone home", "not at home"),
    "RF": ("refused", "refusal", "refuse", "declined", "hung up", "hang up", "hangup"),
    "MV": ("moved", "moved away", "no longer lives here", "does not live here", "doesnt live here",
           "not at this address"),
    "WN": ("wrong number", "wrong #", "wrong no", "wrong num", "wrong person", "bad number wrong person"),
    "DC": ("deceased", "dead", "died", "passed away"),
    "IN": ("inaccessible", "no access", "gated", "locked gate", "cannot access"),
    "LB": ("language barrier", "language", "other language", "non english"),
    "CB": ("call back", "callback", "come back", "call back later", "busy call back"),
    "LM": ("left message", "left msg", "left voicemail", "left vm", "voicemail", "voice mail", "vm",
           "answering machine", "machine", "message left", "left message machine"),
    "NA": ("no answer", "not answered", "no ans", "rna", "ring no answer", "unanswered", "no pickup",
           "no pick up"),
    "DS": ("disconnected", "disconnected number", "not in service", "number disconnected",
           "out of service", "bad number", "invalid number", "nis"),
    "HO": ("hostile",),
}
_CHANNEL_WORDS: dict[str, tuple[str, ...]] = {
    "phone": ("phone", "phones", "call", "calls", "phone call", "telephone", "tel", "dial", "dialer"),
    "door": ("door", "doors", "canvass", "walk", "knock", "door knock", "field", "in person"),
    "mail": ("mail", "postcard", "letter", "mailer", "direct mail"),
    "text": ("text", "texts", "sms", "p2p", "texting", "text message"),
}
_CHANNEL_OF = {_norm(w): ch for ch, words in _CHANNEL_WORDS.items() for w in words}


@dataclass(frozen=True)
class _Question:
    pk: int
    code: str
    responses: dict[str, str]  # normalized code or label -> response code
    listing: str  # "1 Strong yes, 2 Lean yes..." for reasons


@dataclass(frozen=True)
class Vocabulary:
    """What a committee's result files may say: result codes (code, label, contact?),
    its survey questions and their responses, its activist codes."""

    committee: Committee
    results: dict[str, tuple[str, str, bool]]  # normalized word -> (code, label, contact)
    questions: dict[str, _Question]  # normalized code or text -> question
    activist: dict[str, str]  # normalized name -> name

    @property
    def contact_codes(self) -> str:
        return ", ".join(sorted({c for c, _, contact in self.results.values() if contact}))

    @property
    def question_codes(self) -> list[str]:
        return sorted({q.code for q in self.questions.values()})

    def question(self, text: str) -> _Question | None:
        return self.questions.get(_norm(text))


def vocabulary_for(committee: Committee) -> Vocabulary:
    """Result codes (shared), and the committee's questions and activist codes."""
    results: dict[str, tuple[str, str, bool]] = {}
    codes = list(ResultCode.objects.all())
    for rc in codes:  # vendors' words first, so a label or code of the table wins a clash
        for word in _RESULT_WORDS.get(rc.code, ()):
            results[_norm(word)] = (rc.code, rc.label, rc.contact)
    for rc in codes:
        results[_norm(rc.label)] = (rc.code, rc.label, rc.contact)
        results[_norm(rc.label.split("(")[0])] = (rc.code, rc.label, rc.contact)  # "Canvassed"
        results[_norm(rc.code)] = (rc.code, rc.label, rc.contact)
    questions: dict[str, _Question] = {}
    for q in SurveyQuestion.objects.filter(committee=committee).prefetch_related("responses"):
        rs = list(q.responses.all())
        responses: dict[str, str] = {}
        for r in rs:
            responses.setdefault(_norm(r.label), r.code)
        for r in rs:
            responses[_norm(r.code)] = r.code
        info = _Question(q.pk, q.code, responses, ", ".join(f"{r.code} {r.label}" for r in rs) or "none")
        questions.setdefault(_norm(q.text), info)
        questions[_norm(q.code)] = info
    activist = {_norm(a.name): a.name for a in ActivistCode.objects.filter(committee=committee)}
    return Vocabulary(committee=committee, results=results, questions=questions, activist=activist)


# -- dates and times ---------------------------------------------------------------------

_DATETIME_RE = re.compile(
    r"^(?P<date>.+?)(?:[ T]+(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AP]\.?M\.?)?)"
    r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})?)?$", re.I)  # an offset only after a time: 04-Mar-2026 has none
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(?:([AP])\.?M\.?)?$", re.I)
_SERIAL_TIME_RE = re.compile(r"^(\d{4,5})\.(\d+)$")  # an Excel date-time serial (days.fraction)


def _clock(text: str) -> dt.time | None:
    m = _TIME_RE.match(text.strip())
    if not m:
        return None
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    ampm = (m.group(4) or "").upper()
    if ampm:
        if not 1 <= h <= 12:
            return None
        h = (h % 12) + (12 if ampm == "P" else 0)
    if h > 23 or mi > 59 or s > 59:
        return None
    return dt.time(h, mi, s)


def _offset(text: str) -> dt.tzinfo:
    if text.upper() in ("Z", "UTC", "GMT"):
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def attempt_time_parse(value: str, *, order: str = "MDY", time_value: str | None = None
                       ) -> tuple[dt.datetime | None, bool, str | None]:
    """The attempt time of a date cell (and an optional separate time cell): returns
    (aware datetime, date only?, None) or (None, False, what is wrong).

    Dates in the shapes member files carry (ISO, 03/04/2026 by `order`, 4-Mar-2026,
    March 4, 2026, 20260304, Excel serials), optionally followed by a time (14:05,
    2:05 PM, 14:05:33) and an offset (Z, -05:00). A time without an offset is in the
    installation's time zone (TIME_ZONE); a date alone is that day's midnight there.
    """
    text = collapse(value)
    when: dt.time | None = None
    tz: dt.tzinfo | None = None
    serial = _SERIAL_TIME_RE.match(text)
    if serial:  # workbook date-times that reached us as numbers
        day, _ = parse_date(serial.group(1), order)
        seconds = min(round(float("0." + serial.group(2)) * 86400), 86399)
        when = dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60)
    else:
        m = _DATETIME_RE.match(text)
        date_text = m.group("date") if m else text
        if m and m.group("time"):
            when = _clock(m.group("time"))
            if when is None:
                return None, False, "unparsed time"
        if m and m.group("tz"):
            tz = _offset(m.group("tz"))
        day, _ = parse_date(date_text, order)
    if day is None:
        return None, False, "unparsed"
    if time_value is not None and collapse(time_value):
        if when is not None:
            return None, False, "both cells give a time"
        when = _clock(collapse(time_value))
        if when is None:
            return None, False, "unparsed time"
    date_only = when is None
    naive = dt.datetime.combine(day, when or dt.time(0, 0))
    aware = naive.replace(tzinfo=tz) if tz is not None else timezone.make_aware(naive, timezone.get_default_timezone())
    return aware.astimezone(dt.UTC), date_only, None


# -- column mapping ----------------------------------------------------------------------


def _answer_rules(mapping: ColumnMapping, header: Iterable[str], vocab: Vocabulary, *, only_unmapped: bool
                  ) -> ColumnMapping:
    """Columns named by one of the committee's question codes (or texts) hold its answers."""
    columns = dict(mapping.columns)
    for col in header:
        q = vocab.question(col)
        rule = columns.get(col)
        if q is None or (only_unmapped and rule is not None and rule.field not in (CUSTOM, SKIP)):
            continue
        columns[col] = ColumnRule(ANSWER, custom_name=q.code, confidence=0.95,
                                  reason=f"header {col!r} is survey question {q.code}")
    return replace(mapping, columns=columns)


def result_mapping_suggest(*, header: list[str], sample_rows: list[list[str]], committee: Committee,
                           vendor: str | None = None) -> ColumnMapping:
    """A mapping proposed from the header names and values, with the committee's
    question codes recognised as answer columns."""
    mapping = suggest_mapping(header, sample_rows, source=vendor, schema="results")
    return _answer_rules(mapping, header, vocabulary_for(committee), only_unmapped=False)


def result_mapping_problems(mapping: ColumnMapping, vocab: Vocabulary) -> list[str]:
    """What must be fixed before a mapping can import (empty when usable)."""
    if mapping.schema != "results":
        return [f"this is a {mapping.schema} mapping, not one for a result file"]
    out = mapping.problems()
    seen: dict[str, str] = {}
    for col, rule in mapping.columns.items():
        if rule.field != ANSWER:
            continue
        if not rule.custom_name:
            out.append(f"column {col!r} holds answers but no question is chosen for it")
            continue
        q = vocab.question(rule.custom_name)
        if q is None:
            out.append(f"column {col!r} answers question {rule.custom_name!r}, which is not a survey question of "
                       f"{vocab.committee.name} (its questions: {', '.join(vocab.question_codes) or 'none'})")
        elif q.code in seen:
            out.append(f"question {q.code} is answered in two columns ({seen[q.code]!r}, {col!r}); keep one")
        else:
            seen[q.code] = col
    if bool(mapping.column_for("question")) != bool(mapping.column_for("response")):
        out.append("a question column needs a response column beside it (and the other way round)")
    return out


@dataclass
class ResolvedMapping:
    mapping: ColumnMapping
    origin: str  # "given", "saved" or "suggested"
    notes: list[str]


def _vendor_key(vendor: str) -> str:
    return " ".join(vendor.split()).casefold()


def saved_mapping_for(*, committee: Committee, vendor: str, exclude: int | None = None) -> str | None:
    """The mapping last used for this vendor's files for this committee (JSON)."""
    qs = ContactUpload.objects.filter(committee=committee, vendor__iexact=" ".join(vendor.split())).exclude(
        mapping_json="")
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    latest = qs.order_by("-uploaded_at", "-id").first()
    return latest.mapping_json if latest is not None else None


def result_mapping_resolve(*, reader: SourceReader, committee: Committee, vendor: str,
                           mapping_json: str | None = None, exclude_upload: int | None = None) -> ResolvedMapping:
    """The mapping for this file: the one given, the vendor's saved one fitted to this
    header, or a suggestion from the header and values."""
    vocab = vocabulary_for(committee)
    text = mapping_json or saved_mapping_for(committee=committee, vendor=vendor, exclude=exclude_upload)
    if text:
        mapping = ColumnMapping.from_json(text)
        if mapping.schema != "results":
            raise UserError(f"the mapping given is a {mapping.schema} mapping, not one for a result file")
        fitted, notes = mapping.for_header(reader.header)
        notes = [n.replace("kept as a custom field", "ignored") for n in notes]
        fitted = _answer_rules(fitted, reader.header, vocab, only_unmapped=True)
        problems = result_mapping_problems(fitted, vocab)
        if mapping_json or not problems:
            return ResolvedMapping(fitted, "given" if mapping_json else "saved", notes)
        # The vendor changed its layout: a suggestion that fits beats a saved one that does not.
        suggested = _answer_rules(suggest_mapping(reader.header, reader.sample_rows(), source=vendor,
                                                  schema="results"), reader.header, vocab, only_unmapped=False)
        if result_mapping_problems(suggested, vocab):
            return ResolvedMapping(fitted, "saved", notes)
        return ResolvedMapping(suggested, "suggested", [
            f"the columns saved for {vendor} do not fit this file ({'; '.join(problems)}); "
            "suggested from its headers instead"])
    suggested = suggest_mapping(reader.header, reader.sample_rows(), source=vendor, schema="results")
    return ResolvedMapping(_answer_rules(suggested, reader.header, vocab, only_unmapped=False), "suggested", [])


# -- uploads (app database) --------------------------------------------------------------


def _channel_check(channel: str) -> str:
    ch = _CHANNEL_OF.get(_norm(channel or ""))
    if ch is None:
        raise UserError(f"channel {channel!r} is not one of {', '.join(CHANNELS)}")
    return ch


def upload_path(upload: ContactUpload, data_dir: Path) -> Path:
    """Where an upload's file is kept: under the data directory, by upload id."""
    return data_dir / "field-results" / str(upload.pk) / upload.file_name


@transaction.atomic
def results_upload_create(*, user: Any, committee: Committee, vendor: str, channel: str, name: str,
                          chunks: Iterable[bytes], data_dir: Path) -> ContactUpload:
    """Keep a vendor's result file for `committee` (the user must do field work for
    it); returns the upload, whose columns are mapped next."""
    if user is not None and committee not in field_committees(user):
        raise UserError(f"you do not organize for {committee.name}: choose one of your committees")
    vendor = " ".join((vendor or "").split())
    if not vendor:
        raise UserError("say which vendor sent the file (e.g. the phone vendor's name)")
    safe = Path(name or "results").name or "results"
    upload = ContactUpload.objects.create(
        committee=committee, vendor=vendor[:200], channel=_channel_check(channel), file_name=safe[:500],
        file_sha256="", uploaded_by=user if getattr(user, "pk", None) else None)
    target = upload_path(upload, data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with target.open("wb") as fh:
        for chunk in chunks:
            digest.update(chunk)
            fh.write(chunk)
    upload.file_sha256 = digest.hexdigest()
    upload.save(update_fields=["file_sha256"])
    return upload


def results_upload_from_path(*, path: Path, user: Any, committee: Committee, vendor: str, channel: str,
                             data_dir: Path) -> ContactUpload:
    """`results_upload_create` for a file on disk (the command line)."""
    if not path.is_file():
        raise UserError(f"{path}: file not found; check the path")

    def chunks() -> Iterator[bytes]:
        with path.open("rb") as fh:
            yield from iter(lambda: fh.read(1 << 20), b"")

    return results_upload_create(user=user, committee=committee, vendor=vendor, channel=channel, name=path.name,
                                 chunks=chunks(), data_dir=data_dir)


def results_import_submit(*, upload: ContactUpload, mapping: ColumnMapping, user: Any) -> Any:
    """Queue the import of an upload with a mapping a person confirmed; the mapping is
    saved for the vendor's next file. Returns the Job."""
    from unionhall.jobs.models import Job
    from unionhall.jobs.runner import job_submit

    if upload.job_id is not None and upload.job is not None and upload.job.status != Job.Status.FAILED:
        raise UserError(f"upload {upload.pk} is already imported or on its way; upload the file again to re-check it")
    problems = result_mapping_problems(mapping, vocabulary_for(upload.committee))
    if problems:
        raise UserError("; ".join(problems))
    text = mapping.to_json()
    with transaction.atomic():
        job = job_submit(kind=JOB_KIND, params={"upload_id": upload.pk, "mapping_json": text}, user=user)
        upload.mapping_json = text
        upload.job = job
        upload.save(update_fields=["mapping_json", "job"])
    return job


# -- the import job ----------------------------------------------------------------------


@dataclass
class _Row:
    """One data row as read, then as checked."""

    number: int
    raw: str
    problems: list[tuple[str, str | None, str]] = field(default_factory=list)  # code, column, reason
    person_id: int | None = None
    ncid: str | None = None
    export_key: str | None = None
    person_what: str = ""  # "person id '12' in column 'VANID'": for the scope reason
    person_col: str | None = None
    code: str = ""
    label: str = ""
    contacted: bool = False
    at: dt.datetime | None = None
    channel: str = ""
    answers: dict[str, str] = field(default_factory=dict)  # question code -> response code
    answer_cols: dict[str, str] = field(default_factory=dict)  # question code -> column
    activist: list[str] = field(default_factory=list)
    note: str = ""
    canvasser: str = ""

    def problem(self, code: str, column: str | None, reason: str) -> None:
        self.problems.append((code, column, reason))


@dataclass
class _Attempt:
    """The rows of one file that describe one attempt (same person, time and result)."""

    first: _Row
    rows: list[_Row]
    answers: dict[str, str]
    activist: list[str]
    notes: list[str]
    key: str = ""


class _RowChecker:
    """Checks one row's cells under the mapping; collects every problem of the row."""

    def __init__(self, header: list[str], mapping: ColumnMapping, vocab: Vocabulary, default_channel: str,
                 vendor: str) -> None:
        self.header = header
        self.vocab = vocab
        self.order = mapping.date_order
        self.default_channel = default_channel
        self.vendor = vendor
        col = mapping.column_for
        self.c_pid, self.c_ncid, self.c_result = col("person_id"), col("ncid"), col("result")
        self.c_date, self.c_time, self.c_channel = col("contacted_at"), col("contact_time"), col("channel")
        self.c_question, self.c_response = col("question"), col("response")
        self.c_note, self.c_canvasser = col("note"), col("canvasser")
        self.c_activist = mapping.columns_for("activist_codes")
        self.answer_cols = [(c, r.custom_name or "") for c, r in mapping.columns.items() if r.field == ANSWER]
        self.now = timezone.now()
        self.tz = timezone.get_current_timezone()  # asked once: it costs a context lookup per call
        self.today = self.now.astimezone(self.tz).date()
        ncols = len(header)
        self.header_need = max(2, -(-3 * ncols // 5)) if ncols > 1 else 1
        self.few = max(3, ncols // 3)
        self._times: dict[tuple[str, str], tuple[dt.datetime | None, bool, str | None]] = {}

    def junk(self, cells: list[str]) -> tuple[str, str] | None:
        """Blank rows, repeated headers and footers ("Total: 120"), as ingest sees them."""
        stripped = [c.strip() for c in cells]
        filled = [c for c in stripped if c]
        if not filled:
            return "blank", "blank row (every cell is empty)"
        if sum(1 for c, h in zip(stripped, self.header, strict=False) if c.casefold() == h.strip().casefold()
               ) >= self.header_need:
            return "repeated_header", "repeated header row (two files glued together?)"
        if len(filled) <= self.few:
            hit = next((c for c in filled if _TOTALS_RE.search(c)), None)
            if hit is not None:
                return "totals_row", f"totals row ({collapse(hit)[:80]!r}), not a result"
        return None

    def check(self, row: _Row, cells: dict[str, str]) -> None:
        self._person(row, cells)
        self._result(row, cells)
        self._date(row, cells)
        self._channel(row, cells)
        self._answers(row, cells)
        self._activist(row, cells)
        if row.code and not row.contacted and (row.answers or row.activist):
            col = next(iter(row.answer_cols.values()), None) or (self.c_activist[0] if self.c_activist else None)
            row.problem("answers_without_contact", col,
                        f"has answers or activist codes (column {col!r}) but its result {row.code} "
                        f"({row.label}) is not a conversation; answers go with a conversation result "
                        f"({self.vocab.contact_codes}): fix the result or remove the answers")
        if self.c_note:
            row.note = collapse(cells.get(self.c_note, ""))[:NOTE_MAX]
        caller = collapse(cells.get(self.c_canvasser, "")) if self.c_canvasser else ""
        row.canvasser = f"{self.vendor}: {caller}"[:200] if caller else self.vendor

    def _person(self, row: _Row, cells: dict[str, str]) -> None:
        pid = collapse(cells.get(self.c_pid, "")) if self.c_pid else ""
        if pid:
            row.person_col = self.c_pid
            if _KEY_RE.fullmatch(pid.upper()):
                row.export_key = pid.upper()
                row.person_what = f"export key {row.export_key} in column {self.c_pid!r}"
                return
            digits = re.fullmatch(r"(\d{1,18})(?:\.0+)?", pid)
            if digits is None:
                # The cell is not quoted: it is not an id, so it may be anything (a name, a
                # phone number), and reasons show to the whole committee, raw rows do not.
                row.problem("bad_person_id", self.c_pid,
                            f"column {self.c_pid!r} holds neither an export key (12 letters and digits, the uh_key "
                            "column of the export the vendor worked from) nor a person id (a whole number)")
                return
            row.person_id = int(digits.group(1))
            row.person_what = f"person id {row.person_id} in column {self.c_pid!r}"
            return
        ncid = collapse(cells.get(self.c_ncid, "")).upper() if self.c_ncid else ""
        if ncid:
            row.person_col = self.c_ncid
            row.ncid = ncid
            row.person_what = f"NCID {ncid[:40]!r} in column {self.c_ncid!r}"
            return
        cols = " and ".join(repr(c) for c in (self.c_pid, self.c_ncid) if c)
        row.problem("no_person", self.c_pid or self.c_ncid,
                    f"names no person: {cols} {'are' if ' and ' in cols else 'is'} empty")

    def _result(self, row: _Row, cells: dict[str, str]) -> None:
        c = self.c_result
        value = collapse(cells.get(c, "")) if c else ""
        if not value:
            row.problem("no_result", c, f"no result code: column {c!r} is empty")
            return
        hit = self.vocab.results.get(_norm(value))
        if hit is None:
            row.problem("bad_result", c,
                        f"{value[:40]!r} in column {c!r} is not a result code: use a code "
                        f"({', '.join(sorted({v[0] for v in self.vocab.results.values()}))}) or a label such as "
                        "'Not Home' or 'Left Message'")
            return
        row.code, row.label, row.contacted = hit

    def _date(self, row: _Row, cells: dict[str, str]) -> None:
        c = self.c_date
        value = collapse(cells.get(c, "")) if c else ""
        time_value = collapse(cells.get(self.c_time, "")) if self.c_time else ""
        if not value:
            row.problem("no_date", c, f"no date of the attempt: column {c!r} is empty")
            return
        key = (value, time_value)
        if key not in self._times:
            self._times[key] = attempt_time_parse(value, order=self.order, time_value=time_value or None)
        at, date_only, wrong = self._times[key]
        if at is None:
            if wrong == "unparsed time" and time_value:
                row.problem("bad_date", self.c_time, f"{time_value[:40]!r} in column {self.c_time!r} is not a time "
                                                     "(use e.g. 14:05 or 2:05 PM)")
            elif wrong == "both cells give a time":
                row.problem("bad_date", self.c_time, f"column {c!r} ({value[:40]!r}) already has a time and column "
                                                     f"{self.c_time!r} gives another ({time_value[:20]!r})")
            else:
                order = {"MDY": "month/day/year", "DMY": "day/month/year", "YMD": "year/month/day"}[self.order]
                row.problem("bad_date", c, f"{value[:40]!r} in column {c!r} is not a date (use e.g. 2026-03-04, "
                                           f"a {order} date, or 2026-03-04 14:05)")
            return
        local = at.astimezone(self.tz)
        local_day = local.date()
        if local_day < _EARLIEST:
            row.problem("bad_date", c, f"{value[:40]!r} in column {c!r} is {local_day}, before "
                                       f"{_EARLIEST.year}: not the date of an attempt")
            return
        if (date_only and local_day > self.today) or (not date_only and at > self.now + _CLOCK_SLACK):
            when = local_day.isoformat() if date_only else local.strftime("%Y-%m-%d %H:%M")
            row.problem("future_date", c, f"{value[:40]!r} in column {c!r} is {when}, in the future: check the "
                                          "date, and whether dates are month/day or day/month")
            return
        row.at = at

    def _channel(self, row: _Row, cells: dict[str, str]) -> None:
        value = collapse(cells.get(self.c_channel, "")) if self.c_channel else ""
        if not value:
            row.channel = self.default_channel
            return
        ch = _CHANNEL_OF.get(_norm(value))
        if ch is None:
            row.problem("bad_channel", self.c_channel,
                        f"{value[:40]!r} in column {self.c_channel!r} is not a channel: use {', '.join(CHANNELS)} "
                        "(or leave it empty for the upload's channel)")
            return
        row.channel = ch

    def _answer(self, row: _Row, q: _Question, value: str, col: str) -> None:
        code = q.responses.get(_norm(value))
        if code is None:
            if is_null(value):  # "N/A", "-" in an unanswered question's cell
                return
            row.problem("bad_answer", col, f"{value[:40]!r} in column {col!r} is not a response of question "
                                           f"{q.code} (its responses: {q.listing})")
            return
        if q.code in row.answers and row.answers[q.code] != code:
            row.problem("conflicting_answer", col, f"answers question {q.code} with {code!r} in column {col!r} "
                                                   f"and {row.answers[q.code]!r} in column "
                                                   f"{row.answer_cols[q.code]!r}")
            return
        row.answers[q.code] = code
        row.answer_cols[q.code] = col

    def _answers(self, row: _Row, cells: dict[str, str]) -> None:
        for col, qcode in self.answer_cols:
            value = collapse(cells.get(col, ""))
            q = self.vocab.question(qcode)
            if value and q is not None:
                self._answer(row, q, value, col)
        if self.c_question and self.c_response:
            qv = collapse(cells.get(self.c_question, ""))
            rv = collapse(cells.get(self.c_response, ""))
            if not qv and not rv:
                return
            if not qv:
                row.problem("bad_answer", self.c_response,
                            f"a response ({rv[:40]!r}) in column {self.c_response!r} but no question in column "
                            f"{self.c_question!r}")
                return
            q = self.vocab.question(qv)
            if q is None:
                row.problem("unknown_question", self.c_question,
                            f"{qv[:40]!r} in column {self.c_question!r} is not a survey question of "
                            f"{self.vocab.committee.name} (its questions: "
                            f"{', '.join(self.vocab.question_codes) or 'none'})")
                return
            if not rv:
                row.problem("bad_answer", self.c_response,
                            f"question {q.code} (column {self.c_question!r}) has no response in column "
                            f"{self.c_response!r}")
                return
            self._answer(row, q, rv, self.c_response)

    def _activist(self, row: _Row, cells: dict[str, str]) -> None:
        for col in self.c_activist:
            for name in (collapse(n) for n in cells.get(col, "").split(";")):
                if not name:
                    continue
                known = self.vocab.activist.get(_norm(name))
                if known is None:
                    listing = ", ".join(sorted(self.vocab.activist.values())) or "none yet"
                    row.problem("unknown_activist_code", col,
                                f"{name[:60]!r} in column {col!r} is not an activist code of "
                                f"{self.vocab.committee.name} (its codes: {listing}); create it first or fix the "
                                "name")
                    continue
                if known not in row.activist:
                    row.activist.append(known)


def result_key(*, committee_id: int, vendor: str, person_id: int, at: dt.datetime, code: str,
               answers: dict[str, str]) -> str:
    """An attempt's idempotency key: a hash of what makes it this attempt, so the same
    result sent again (this file again, or a later file repeating it) is one row."""
    parts = [str(committee_id), _vendor_key(vendor), str(person_id),
             at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"), code,
             ";".join(f"{q}={a}" for q, a in sorted(answers.items()))]
    return "v:" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]


def _committee_scope(wh: Warehouse, committee: Committee, person_ids: set[int]) -> set[int]:
    """Of `person_ids`, those the committee's organizers see (their scope's row filter;
    the fields shown do not matter here)."""
    from unionhall.access.gateway import scoped_persons, source_bits_for
    from unionhall.access.scope import canvass_paths

    if not person_ids:
        return set()
    persons = scoped_persons(wh.unscoped_table("person"), canvass_paths(committee), source_bits=source_bits_for(wh))
    return _ids_among(persons, person_ids)


def _ids_among(t: ibis.Table, person_ids: set[int]) -> set[int]:
    ids = ibis.memtable(pa.table({"pid": pa.array(sorted(person_ids), pa.int64())}))
    rows = t.filter(t.person_id.isin(ids.pid)).select("person_id").distinct().to_pyarrow()
    return {int(v) for v in rows.column("person_id").to_pylist()}


def _ncid_persons(wh: Warehouse, ncids: set[str]) -> dict[str, int]:
    """NCID -> person (the registration's person link); scope is checked on the person."""
    if not ncids:
        return {}
    vp = wh.unscoped_table("voter_person")
    keys = ibis.memtable(pa.table({"ncid": pa.array(sorted(ncids), pa.string())}))
    rows = (vp.filter(vp.ncid.upper().isin(keys.ncid)).group_by(n=vp.ncid.upper())
            .aggregate(pid=vp.person_id.min()).to_pyarrow().to_pylist())
    return {str(r["n"]): int(r["pid"]) for r in rows}


def _export_keys(wh: Warehouse, committee: Committee, keys: set[str]) -> tuple[dict[str, int], dict[str, str]]:
    """Export keys of the committee's written exports: key -> person, and seed key ->
    the export's reference (EX-00012)."""
    from unionhall.exports import store as export_store
    from unionhall.exports.models import ExportRequest

    if not keys:
        return {}, {}
    ids = list(ExportRequest.objects.filter(committee=committee, status=ExportRequest.Status.READY)
               .values_list("pk", flat=True))
    persons, seeds = export_store.keys_resolve(wh, export_ids=ids, keys=keys)
    return persons, {k: ExportRequest(pk=e).reference for k, e in seeds.items()}


def _scope_check(wh: Warehouse, rows: list[_Row], committee: Committee, user: Any) -> None:
    """Mark rows whose person is unknown or out of scope, alike."""
    from unionhall.access.gateway import person_base

    # Rows with other problems are quarantined for those; their persons are not looked up.
    candidates = [r for r in rows if not r.problems and r.person_col is not None]
    by_ncid = _ncid_persons(wh, {r.ncid for r in candidates if r.ncid})
    by_key, seeds = _export_keys(wh, committee, {r.export_key for r in candidates if r.export_key})
    for r in candidates:
        if r.ncid is not None:
            r.person_id = by_ncid.get(r.ncid)
        elif r.export_key is not None:
            r.person_id = by_key.get(r.export_key)
            if r.export_key in seeds:
                r.problem("seed_record", r.person_col,
                          f"{r.person_what} is a seed record of export {seeds[r.export_key]}: a decoy that is "
                          "nobody, so this row is no real contact; not posted (ask the vendor how it came about)")
    candidates = [r for r in candidates if not r.problems]
    visible = _committee_scope(wh, committee, {r.person_id for r in candidates if r.person_id is not None})
    if user is not None:  # always asked, so a blocked account fails here whatever the file holds
        try:
            base = person_base(user=user, warehouse=wh)
        except ScopeError as exc:
            raise UserError(f"{user.get_username()} may not see member data now ({exc}); nothing was posted") from None
        visible = _ids_among(base, visible) if visible else set()
    for r in candidates:
        if r.person_id is None or r.person_id not in visible:
            r.person_id = None
            r.problem("unknown_person", r.person_col, f"no such person in your scope: {r.person_what}")


def _attempts(rows: list[_Row]) -> tuple[list[_Attempt], list[tuple[_Row, str, str | None, str]]]:
    """Group the good rows into attempts (same person, time and result: a long file
    gives one answer per row); repeats and contradictions are set aside."""
    attempts: dict[tuple[int, dt.datetime, str], _Attempt] = {}
    rejected: list[tuple[_Row, str, str | None, str]] = []
    for r in rows:
        if r.problems:
            continue
        assert r.person_id is not None and r.at is not None
        ident = (r.person_id, r.at, r.code)
        a = attempts.get(ident)
        if a is None:
            attempts[ident] = _Attempt(first=r, rows=[r], answers=dict(r.answers), activist=list(r.activist),
                                       notes=[r.note] if r.note else [])
            continue
        clash = next((q for q, v in r.answers.items() if q in a.answers and a.answers[q] != v), None)
        if clash is not None:
            rejected.append((r, "conflicting_answer", r.answer_cols[clash],
                             f"answers question {clash} with {r.answers[clash]!r} (column {r.answer_cols[clash]!r}) "
                             f"but row {a.first.number} gave {a.answers[clash]!r} for the same attempt (same "
                             "person, time and result); fix one of them"))
            continue
        new = (any(q not in a.answers for q in r.answers) or any(x not in a.activist for x in r.activist)
               or bool(r.note and r.note not in a.notes))
        if not new:
            rejected.append((r, "duplicate", None,
                             f"same attempt as row {a.first.number} (same person, time, result and answers); "
                             f"row {a.first.number} is the one posted"))
            continue
        a.rows.append(r)
        a.answers.update(r.answers)
        a.activist.extend(x for x in r.activist if x not in a.activist)
        if r.note and r.note not in a.notes:
            a.notes.append(r.note)
    return list(attempts.values()), rejected


def _progress_of(ctx: JobContext, size: int) -> Any:
    def say(consumed: int, rows: int) -> None:
        ctx.progress(5 + 55 * min(1.0, consumed / max(size, 1)), f"{rows:,} rows read")
    return say


def results_import_run(ctx: JobContext, *, upload_id: int, mapping_json: str | None = None,
                       encoding: str | None = None, sheet: str | None = None) -> dict[str, Any]:
    """Import one vendor result file (an upload): check every row, post each attempt
    once, quarantine the rest. Runs in the job's transactions; returns the counts."""
    from django.conf import settings

    from unionhall.jobs.models import Job

    upload = ContactUpload.objects.select_related("committee", "job").filter(pk=upload_id).first()
    if upload is None:
        raise UserError(f"upload {upload_id} does not exist")
    if upload.job_id not in (None, ctx.job.pk) and upload.job is not None and upload.job.status == Job.Status.SUCCEEDED:
        raise UserError(f"upload {upload.pk} was imported already (job {upload.job_id}); upload the file again")
    committee, user = upload.committee, ctx.user
    if user is not None and committee not in field_committees(user):
        raise UserError(f"{user.get_username()} does not organize for {committee.name}; nothing was posted")
    path = upload_path(upload, settings.UNIONHALL.data_dir)
    if not path.is_file():
        raise UserError(f"the file of upload {upload.pk} ({upload.file_name}) is gone; upload it again")
    ctx.progress(2, f"reading {upload.file_name}")
    reader = open_source(path, encoding=encoding, sheet=sheet)
    for note in reader.notes:
        ctx.log(note)
    vocab = vocabulary_for(committee)
    resolved = result_mapping_resolve(reader=reader, committee=committee, vendor=upload.vendor,
                                      mapping_json=mapping_json, exclude_upload=upload.pk)
    problems = result_mapping_problems(resolved.mapping, vocab)
    if problems:
        raise UserError(f"{upload.file_name}: the column mapping cannot be used: {'; '.join(problems)}")
    ctx.log(f"column mapping: {resolved.origin}")
    for note in resolved.notes:
        ctx.log(note)

    # 1. Read and check every row's cells.
    checker = _RowChecker(reader.header, resolved.mapping, vocab, upload.channel, upload.vendor)
    rows: list[_Row] = []
    junk: list[tuple[int, str | None, str, str, str]] = []  # row, column, code, reason, raw
    rows_read = consumed = 0
    say = _progress_of(ctx, path.stat().st_size)
    for batch in reader.batches(size=10_000):
        rows_read += batch.rows_read
        junk.extend((r.row_number, None, r.code, r.reason, r.raw) for r in batch.rejected)
        for number, raw, cells in zip(batch.row_numbers.to_list(), batch.raw.to_list(), batch.frame.rows(),
                                      strict=True):
            consumed += len(raw) + 1
            values = list(cells)
            hit = checker.junk(values)
            if hit is not None:
                junk.append((number, None, hit[0], hit[1], raw))
                continue
            row = _Row(number=number, raw=raw)
            checker.check(row, dict(zip(reader.header, values, strict=True)))
            rows.append(row)
        say(consumed, rows_read)

    # 2. Persons: known, and in scope (alike otherwise).
    ctx.progress(62, "checking the persons against your scope")
    wh = ctx.warehouse
    _scope_check(wh, rows, committee, user)

    # 3. Attempts, repeats within the file, and what earlier uploads posted.
    ctx.progress(75, "grouping attempts and looking for results posted before")
    attempts, repeats = _attempts(rows)
    for a in attempts:
        assert a.first.person_id is not None and a.first.at is not None
        a.key = result_key(committee_id=committee.pk, vendor=upload.vendor, person_id=a.first.person_id,
                           at=a.first.at, code=a.first.code, answers=a.answers)
    before = store.posted_keys(wh, [a.key for a in attempts])
    fresh = [a for a in attempts if a.key not in before]
    old = [a for a in attempts if a.key in before]

    quarantine: list[tuple[int, str | None, str, str, str]] = list(junk)
    for r in rows:
        if r.problems:
            code, col, reason = r.problems[0]
            more = [p[2] for p in r.problems[1:]]
            quarantine.append((r.number, col, code, reason + (f"; also: {'; '.join(more)}" if more else ""), r.raw))
    quarantine.extend((r.number, col, code, reason, r.raw) for r, code, col, reason in repeats)
    for a in old:
        quarantine.extend((r.number, None, "already_posted",
                           "posted already by an earlier upload (same person, time, result and answers); "
                           "nothing to do", r.raw) for r in a.rows)

    # 4. Post, quarantine, reconcile: all in the job's warehouse transaction.
    ctx.progress(85, f"posting {len(fresh):,} attempts")
    entered = timezone.now().astimezone(dt.UTC).replace(tzinfo=None)
    contacts: list[dict[str, Any]] = []
    responses: list[dict[str, Any]] = []
    for a in fresh:
        r = a.first
        assert r.at is not None
        at = r.at.replace(tzinfo=None)
        contacts.append({
            "result_key": a.key, "person_id": r.person_id, "channel": r.channel, "result_code": r.code,
            "contacted": r.contacted, "contacted_at": at, "committee_id": committee.pk, "canvasser": r.canvasser,
            "turf_id": None, "list_id": None, "script_id": None, "activist_codes": a.activist,
            "note": " / ".join(a.notes)[:NOTE_MAX] or None, "source": "vendor", "upload_id": upload.pk,
            "row_number": r.number, "entered_at": entered})
        for q, resp in sorted(a.answers.items()):
            qi = vocab.question(q)
            responses.append({"result_key": a.key, "person_id": r.person_id, "question_id": qi.pk if qi else None,
                              "question_code": q, "response_code": resp, "contacted_at": at})
    posted_attempts = store.contact_rows_post(wh, contacts=contacts, responses=responses)
    if posted_attempts != len(fresh):
        raise RuntimeError(f"posted {posted_attempts} attempts, expected {len(fresh)}: another upload of the same "
                           "results ran at the same time")
    ctx.progress(95, f"quarantining {len(quarantine):,} rows")
    _quarantine_write(wh, upload, quarantine)

    rows_posted = sum(len(a.rows) for a in fresh)
    rows_already = sum(len(a.rows) for a in old)
    if rows_read != rows_posted + len(quarantine):
        raise RuntimeError(f"row accounting does not balance: read {rows_read}, posted {rows_posted}, "
                           f"quarantined {len(quarantine)}")
    by_code = Counter(q[2] for q in quarantine)
    mapping_text = resolved.mapping.to_json()

    def record() -> None:
        ContactUpload.objects.filter(pk=upload.pk).update(
            job=ctx.job, mapping_json=mapping_text, rows_read=rows_read, rows_posted=rows_posted,
            rows_quarantined=len(quarantine), rows_already_posted=rows_already)

    ctx.defer_app_write(record)
    ctx.log(f"{rows_read:,} rows read: {rows_posted:,} posted ({len(fresh):,} attempts), "
            f"{len(quarantine):,} quarantined ({rows_already:,} already posted)")
    ctx.progress(100, f"{rows_posted:,} posted, {len(quarantine):,} quarantined")
    return {"upload_id": upload.pk, "committee": committee.name, "vendor": upload.vendor,
            "file": upload.file_name, "mapping": resolved.origin, "rows_read": rows_read,
            "rows_posted": rows_posted, "attempts_posted": len(fresh), "rows_quarantined": len(quarantine),
            "rows_already_posted": rows_already, "quarantine_by_code": dict(by_code.most_common()),
            "reconciles": True}


def _quarantine_write(wh: Warehouse, upload: ContactUpload, rows: list[tuple[int, str | None, str, str, str]]
                      ) -> None:
    if not rows:
        return
    rows = sorted(rows, key=lambda q: q[0])
    table = pa.table({
        "upload_id": pa.array([upload.pk] * len(rows), pa.int64()),
        "committee_id": pa.array([upload.committee_id] * len(rows), pa.int64()),
        "row_number": pa.array([q[0] for q in rows], pa.int64()),
        "column_name": pa.array([q[1] for q in rows], pa.string()),
        "code": pa.array([q[2] for q in rows], pa.string()),
        "reason": pa.array([q[3] for q in rows], pa.string()),
        "raw": pa.array([printable_raw(q[4]) for q in rows], pa.string()),
    })
    cur = wh.cursor()
    cur.register("_rq_rows", table)
    try:
        cur.execute("INSERT INTO contact_quarantine SELECT upload_id, committee_id, row_number, column_name, code, "
                    "reason, raw FROM _rq_rows")
    finally:
        cur.unregister("_rq_rows")


# -- reads behind the upload pages -------------------------------------------------------


def contact_uploads_visible(*, user: Any) -> QuerySet[ContactUpload]:
    """Uploads of the committees the user does field work for, and the user's own."""
    qs = ContactUpload.objects.select_related("committee", "uploaded_by", "job")
    if getattr(user, "is_superuser", False):
        return qs
    return qs.filter(Q(committee__in=field_committees(user)) | Q(uploaded_by=user))


def contact_upload_get(*, user: Any, upload_id: int) -> ContactUpload:
    """One upload the user may see; DoesNotExist alike for missing and another
    committee's."""
    return contact_uploads_visible(user=user).get(pk=upload_id)


def vendors_known(*, user: Any) -> list[str]:
    """Vendor names of earlier uploads the user may see (the form's suggestions)."""
    names = contact_uploads_visible(user=user).values_list("vendor", flat=True)
    return sorted({n for n in names}, key=str.casefold)


def contact_quarantine_rows(*, user: Any, upload: ContactUpload, warehouse: Warehouse | None = None
                            ) -> tuple[ibis.Table, bool]:
    """The quarantined rows of one upload for `user`, and whether their raw text shows
    (the gateway decides: `access.gateway.contact_quarantine_rows`)."""
    from unionhall.access.gateway import contact_quarantine_rows as gateway_rows

    return gateway_rows(user=user, upload_id=upload.pk, committee_id=upload.committee_id,
                        uploaded_by_id=upload.uploaded_by_id, warehouse=warehouse)


def upload_quarantine_page(*, user: Any, upload: ContactUpload, page: int = 1, warehouse: Warehouse | None = None
                           ) -> tuple[list[dict[str, Any]], int, bool]:
    """One page of an upload's quarantine, in file order: (rows, total, raw shown?).
    Logged with the rows shown."""
    q, raw = contact_quarantine_rows(user=user, upload=upload, warehouse=warehouse)
    total = int(q.count().execute())
    rows = q.order_by(["row_number", "code"]).limit(QUARANTINE_PAGE, offset=max(0, page - 1) * QUARANTINE_PAGE)
    out = rows.to_pyarrow().to_pylist()
    usage_record(user=user, action="quarantine_view", persons=len(out), committee=upload.committee,
                 detail={"contact_upload": upload.pk, "page": page})
    return out, total, raw


def upload_quarantine_by_code(*, user: Any, upload: ContactUpload, warehouse: Warehouse | None = None
                              ) -> list[tuple[str, int]]:
    """How many quarantined rows per code, most first."""
    q, _ = contact_quarantine_rows(user=user, upload=upload, warehouse=warehouse)
    rows = q.group_by("code").aggregate(n=q.count()).order_by([ibis.desc("n"), "code"]).to_pyarrow().to_pylist()
    return [(str(r["code"]), int(r["n"])) for r in rows]


QUARANTINE_CSV_HEADER = ["row", "column", "code", "reason", "raw"]


def upload_quarantine_rows(*, user: Any, upload: ContactUpload, warehouse: Warehouse | None = None
                           ) -> Iterator[tuple[Any, ...]]:
    """Every quarantined row of an upload, in file order, streamed (ScopeError at once
    when the user may not see them). Logged as an export."""
    q, _ = contact_quarantine_rows(user=user, upload=upload, warehouse=warehouse)
    q = q.order_by(["row_number", "code"])
    usage_record(user=user, action="export", persons=int(q.count().execute()), committee=upload.committee,
                 detail={"kind": "contact quarantine download", "contact_upload": upload.pk})

    def stream() -> Iterator[tuple[Any, ...]]:
        for batch in q.to_pyarrow_batches(chunk_size=5000):
            for r in batch.to_pylist():
                yield (r["row_number"], r["column_name"] or "", r["code"], r["reason"], r["raw"] or "")

    return stream()
