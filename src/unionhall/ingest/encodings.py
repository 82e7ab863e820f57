"""Text encoding detection and lossless decoding for member files.

Affiliates send files from Excel on Windows (Windows-1252), from old DOS-era membership
systems (code page 437), from Excel's "Unicode text" export (UTF-16) and from everything
else (UTF-8, with or without a byte-order mark). We detect which one from the bytes, let
the user override it, and decode in a way that never loses a byte: an undecodable byte
becomes a marker character so the row holding it can be quarantined with its column and
byte offset instead of being silently "fixed" or dropped.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

from charset_normalizer import from_bytes

from unionhall.errors import UserError

# Undecodable bytes are mapped to U+DC00 + byte value (lone low surrogates). Python's own
# "surrogateescape" only covers bytes >= 0x80, and UTF-16 errors can involve any byte, so
# we register our own handler with the same idea for every byte value.
UNDECODABLE_ERRORS = "unionhall-undecodable"
UNDECODABLE_RE = re.compile("[\udc00-\udcff]")


def _undecodable_handler(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeDecodeError):
        raise err
    bad = err.object[err.start : err.end]
    return "".join(chr(0xDC00 + b) for b in bad), err.end


codecs.register_error(UNDECODABLE_ERRORS, _undecodable_handler)

# What the user can type after --encoding, mapped to Python codec names.
ENCODING_ALIASES = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf8-sig": "utf-8-sig",
    "utf16": "utf-16",
    "utf-16": "utf-16",
    "utf-16le": "utf-16-le",
    "utf-16-le": "utf-16-le",
    "utf-16be": "utf-16-be",
    "utf-16-be": "utf-16-be",
    "windows-1252": "cp1252",
    "win1252": "cp1252",
    "cp1252": "cp1252",
    "latin1": "latin-1",
    "latin-1": "latin-1",
    "iso-8859-1": "latin-1",
    "cp437": "cp437",
    "ibm437": "cp437",
    "dos": "cp437",
}

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # must precede UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class EncodingGuess:
    """The encoding chosen for a file and why (shown to the user in import notes)."""

    encoding: str
    reason: str
    mixed: bool = False  # mostly UTF-8 with some lines in another encoding


def normalize_encoding_name(name: str, *, path: str = "") -> str:
    """Turn a user-supplied encoding name into a Python codec name, or raise UserError."""
    key = name.strip().lower().replace("_", "-")
    if key in ENCODING_ALIASES:
        return ENCODING_ALIASES[key]
    try:
        return codecs.lookup(key).name
    except LookupError:
        where = f"{path}: " if path else ""
        raise UserError(
            f"{where}unknown encoding {name!r}; use one of utf-8, utf-8-sig, utf-16, "
            "cp1252 (Windows-1252), cp437 (DOS) or latin-1"
        ) from None


def _looks_utf16(sample: bytes) -> str | None:
    """UTF-16 without a BOM: ASCII text leaves a NUL in every other byte."""
    n = len(sample) - len(sample) % 2
    if n < 4:
        return None
    even_nuls = sample[0:n:2].count(0)
    odd_nuls = sample[1:n:2].count(0)
    half = n // 2
    if odd_nuls > 0.4 * half and even_nuls < 0.05 * half:
        return "utf-16-le"
    if even_nuls > 0.4 * half and odd_nuls < 0.05 * half:
        return "utf-16-be"
    return None


def _latin_letter_score(text: str) -> int:
    """How many non-ASCII characters are Latin letters (é, ñ, ü...), minus the rest.

    Names and places decode to accented Latin letters in the right code page and to
    box-drawing symbols, Greek letters or punctuation in the wrong one.
    """
    score = 0
    for ch in text:
        if ord(ch) < 128:
            continue
        name = unicodedata.name(ch, "")
        score += 1 if name.startswith("LATIN") else -1
    return score


def detect_encoding(sample: bytes) -> EncodingGuess:
    """Guess the encoding of a file from a sample of its bytes.

    Order: byte-order mark; BOM-less UTF-16 (NUL pattern); valid UTF-8 (pure ASCII counts
    as UTF-8); mostly-valid UTF-8 with stray bytes (reported as mixed, so the stray lines
    are quarantined rather than mis-decoded); otherwise Windows-1252 or code page 437,
    chosen by charset-normalizer restricted to those two and checked by whether the
    non-ASCII characters come out as Latin letters.
    """
    for bom, enc in _BOMS:
        if sample.startswith(bom):
            return EncodingGuess(enc, f"byte-order mark says {enc.replace('-sig', ' with BOM')}")
    utf16 = _looks_utf16(sample)
    if utf16:
        return EncodingGuess(utf16, "every other byte is NUL: UTF-16 without a byte-order mark")
    # A sample may end in the middle of a multi-byte character; the incremental decoder
    # with final=False tolerates exactly that and nothing else.
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=False)
        return EncodingGuess("utf-8", "valid UTF-8")
    except UnicodeDecodeError:
        pass
    text = sample.decode("utf-8", errors=UNDECODABLE_ERRORS)
    bad = len(UNDECODABLE_RE.findall(text))
    good_multibyte = sum(1 for ch in text if 127 < ord(ch) < 0xDC00 or ord(ch) > 0xDCFF)
    # Windows-1252 text almost never forms valid multi-byte UTF-8 by accident, so a few
    # valid sequences mean UTF-8 with some stray lines (pasted from elsewhere).
    if good_multibyte >= 2:
        return EncodingGuess(
            "utf-8",
            f"mostly UTF-8 ({good_multibyte} multi-byte characters) with {bad} stray bytes",
            mixed=True,
        )
    candidates = ["cp1252", "cp437"]
    best = from_bytes(sample, cp_isolation=candidates).best()
    scores = {enc: _latin_letter_score(sample.decode(enc, errors="replace")) for enc in candidates}
    if "\ufffd" in sample.decode("cp1252", errors="replace"):
        scores["cp1252"] -= 10_000  # bytes undefined in Windows-1252 rule it out
    chosen = max(candidates, key=lambda e: (scores[e], best is not None and best.encoding == e))
    label = {"cp1252": "Windows-1252", "cp437": "code page 437 (DOS)"}[chosen]
    return EncodingGuess(chosen, f"not UTF-8; non-ASCII bytes read best as {label}")


def describe_undecodable(line: str, encoding: str) -> tuple[int, str]:
    """For a decoded line holding undecodable-byte markers, return (byte offset, hint).

    The byte offset is 1-based within the physical line, as a hex editor would count it.
    The hint names an encoding under which the line reads cleanly, if one does.
    """
    m = UNDECODABLE_RE.search(line)
    pos = m.start() if m else 0
    try:
        offset = len(line[:pos].encode(encoding)) + 1
    except (UnicodeEncodeError, LookupError):
        offset = pos + 1
    raw = restore_bytes(line, encoding)
    hint = ""
    for alt, label in (("utf-8", "utf-8"), ("cp1252", "cp1252"), ("cp437", "cp437")):
        if alt == encoding:
            continue
        try:
            decoded = raw.decode(alt)
        except UnicodeDecodeError:
            continue
        if alt == "cp437" or _latin_letter_score(decoded) > 0:
            hint = f"this line reads as {label}; if the whole file is, re-run with --encoding {label}"
            break
    return offset, hint


def restore_bytes(text: str, encoding: str) -> bytes:
    """Re-encode decoded text, putting undecodable bytes back as they were."""
    out = bytearray()
    for piece in re.split("([\udc00-\udcff]+)", text):
        if piece and UNDECODABLE_RE.match(piece):
            out.extend(ord(ch) - 0xDC00 for ch in piece)
        elif piece:
            out.extend(piece.encode(encoding, errors="replace"))
    return bytes(out)


def printable_raw(text: str) -> str:
    """Raw text safe to store and show: undecodable bytes as \\xNN, NUL as \\x00."""
    if not UNDECODABLE_RE.search(text) and "\x00" not in text:
        return text
    text = UNDECODABLE_RE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)
    return text.replace("\x00", "\\x00")
