"""Reading customer lists: which encoding a file is in, and its records, line by line.

Nothing here holds a whole file: an upload is spooled to a temporary file while its
encoding is checked (`Sniffer`), and records are read from a byte stream one physical line
at a time (`Records`), so that the byte offset after each record is known: an import
commits that offset with the members it created and resumes from it.

Encodings: UTF-8 (with or without BOM), and the legacy encodings of our markets, TIS-620
(Thai, read as its superset Windows-874) and Big5 (Traditional Chinese, read as its
superset Windows-950). A declared encoding is checked over the whole file; an undeclared
one is UTF-8 when the file is valid UTF-8, else the one legacy encoding under which the
file decodes cleanly *and* shows letters of its script. Anything else is refused with a
message saying what to do, never read garbled.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from app.errors import ValidationError
from app.i18n import gettext_noop

PIECE = 64 * 1024
MAX_LINE = 64 * 1024
"""A physical line longer than this (in bytes) is a row error, read past without keeping it."""
MAX_FIELD = 128 * 1024
"""csv's cap on one field (a quoted field may span lines); past it the record is an error."""

CODECS = {"utf-8": "utf-8-sig", "tis-620": "cp874", "big5": "cp950"}
"""Our name of each encoding -> the Python codec that reads it."""
ALIASES = {
    "utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8",
    "tis-620": "tis-620", "tis620": "tis-620", "cp874": "tis-620", "windows-874": "tis-620",
    "iso-8859-11": "tis-620", "x-windows-874": "tis-620",
    "big5": "big5", "big-5": "big5", "cp950": "big5", "windows-950": "big5",
    "x-big5": "big5",
}
LETTERS = {"tis-620": re.compile("[\u0e01-\u0e5b]"), "big5": re.compile("[\u4e00-\u9fff]")}
UNLIKE_THAI = re.compile(
    "[\u0e01-\u0e5b][@-~]|(?<![\u0e01-\u0e4e])[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]")
"""What Big5 text read as Windows-874 shows and Thai text does not: a Thai letter glued to
a Latin letter (Big5's second bytes 0x40-0x7E), or a vowel or tone mark on no consonant."""
NON_ASCII = re.compile("[^\x00-\x7f]")
BIG5_SAMPLE = 10_000
"""Characters of a Big5 reading checked for being everyday hanzi (Thai read as Big5 is not:
Thai bytes make symbols and rare characters)."""
NOT_UTF8 = gettext_noop("The file is not UTF-8, and its encoding cannot be told for sure. Save "
                        "it as CSV UTF-8, or say which encoding it is with encoding=tis-620 "
                        "(Thai) or encoding=big5 (Traditional Chinese).")


def encoding_name(declared: str | None) -> str | None:
    """Our name of a declared encoding (charset= or encoding=), or a clear 422."""
    if declared is None or not declared.strip():
        return None
    name = ALIASES.get(declared.strip().lower().replace("_", "-"))
    if name is None:
        raise ValidationError(gettext_noop("Encoding {name} is not supported; send UTF-8, "
                                           "TIS-620 (Thai) or Big5 (Traditional Chinese)."),
                              code="unsupported_encoding", values={"name": repr(declared[:40])})
    return name


class Sniffer:
    """Follows a file piece by piece under every encoding we read, to decide which it is."""

    def __init__(self) -> None:
        self.size = 0
        self._decoders = {name: codecs.getincrementaldecoder(codec)()
                          for name, codec in CODECS.items()}
        self.failed_at: dict[str, int] = {}
        self.letters: set[str] = set()
        self.unlikely: set[str] = set()
        self._big5_seen = self._big5_rare = 0

    def feed(self, data: bytes, final: bool = False) -> None:
        """Decode the next piece under each encoding still possible."""
        for name, decoder in self._decoders.items():
            if name in self.failed_at:
                continue
            try:
                text = decoder.decode(data, final)
            except UnicodeDecodeError as exc:
                self.failed_at[name] = self.size + max(exc.start, 0)
                continue
            pattern = LETTERS.get(name)
            if pattern is not None and name not in self.letters and pattern.search(text):
                self.letters.add(name)
            if name == "tis-620" and name not in self.unlikely and UNLIKE_THAI.search(text):
                self.unlikely.add(name)
            if name == "big5" and self._big5_seen < BIG5_SAMPLE:
                self._count_big5(text)
        self.size += len(data)

    def _count_big5(self, text: str) -> None:
        """Count how many characters of the Big5 reading are outside its everyday hanzi
        (first bytes 0xA4-0xC6); past a fifth, the file is unlikely to be Big5."""
        for char in NON_ASCII.findall(text)[:BIG5_SAMPLE]:
            self._big5_seen += 1
            if not 0xA4 <= char.encode("cp950", errors="replace")[0] <= 0xC6:
                self._big5_rare += 1
        if self._big5_rare * 5 > self._big5_seen:
            self.unlikely.add("big5")

    def decide(self, declared: str | None) -> str:
        """The file's encoding (our name), or a ValidationError saying what to do."""
        if self.size == 0:
            raise ValidationError(gettext_noop("The file is empty."), code="empty_file")
        if declared is not None:
            if declared in self.failed_at:
                raise ValidationError(gettext_noop(
                    "The file is not valid {encoding}: byte {byte} cannot be read as it. Check "
                    "the encoding the file was saved in."), code="wrong_encoding",
                    values={"encoding": declared.upper(), "byte": self.failed_at[declared] + 1})
            return declared
        if "utf-8" not in self.failed_at:
            return "utf-8"
        clean = [n for n in ("tis-620", "big5") if n not in self.failed_at
                 and n in self.letters and n not in self.unlikely]
        if len(clean) != 1:
            raise ValidationError(NOT_UTF8, code="unknown_encoding")
        return clean[0]


@dataclass
class Spooled:
    """An upload copied to a temporary file: its size, SHA-256 and what the sniffer saw."""

    file: IO[bytes]
    size: int
    sha256: str
    sniffer: Sniffer


def spool(source: IO[bytes], limit: int) -> Spooled:
    """Copy a stream to a temporary file piece by piece (at most `limit` bytes, else 413),
    hashing it and following its encoding on the way."""
    out = tempfile.TemporaryFile()
    digest, sniffer = hashlib.sha256(), Sniffer()
    while piece := source.read(PIECE):
        if sniffer.size + len(piece) > limit:
            out.close()
            raise ValidationError(gettext_noop("The file is larger than {limit} bytes; split it "
                                               "in parts."), code="too_large", status=413,
                                  values={"limit": limit})
        out.write(piece)
        digest.update(piece)
        sniffer.feed(piece)
    sniffer.feed(b"", final=True)
    out.seek(0)
    return Spooled(out, sniffer.size, digest.hexdigest(), sniffer)


@dataclass
class Record:
    """One CSV record: where it starts (a line number, as a spreadsheet counts rows) and its
    cells, or why it cannot be read (an English template and its values)."""

    row: int
    cells: list[str]
    problem: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


class Records:
    """The records of a CSV byte stream, from a byte offset on, one physical line at a time.

    After each record, `offset` is the byte offset just past it and `lines` the number of
    physical lines read (both counted from the start of the file).
    """

    def __init__(self, stream: IO[bytes], encoding: str, offset: int = 0, lines: int = 0) -> None:
        self.stream = stream
        self.codec = CODECS[encoding]
        self.offset = offset
        self.lines = lines
        self.blank = 0
        self._problem: tuple[str, dict[str, Any]] | None = None
        if csv.field_size_limit() > MAX_FIELD:  # process-wide; never raised by us
            csv.field_size_limit(MAX_FIELD)
        self._reader = csv.reader(self._text_lines(), strict=False)

    def _text_lines(self) -> Iterator[str]:
        """Decoded physical lines; an overlong line is read past and marked as a problem."""
        readline = self.stream.readline
        while line := readline(MAX_LINE):
            self.offset += len(line)
            self.lines += 1
            if len(line) == MAX_LINE and not line.endswith(b"\n"):
                self.offset += _skip_rest_of_line(self.stream)
                self._problem = (gettext_noop("The row is longer than {limit} bytes."),
                                 {"limit": MAX_LINE})
                yield "\n"
                continue
            yield line.decode(self.codec, errors="strict")

    def __iter__(self) -> Iterator[Record]:
        """Non-blank records (blank lines are counted in `blank`)."""
        while True:
            start = self.lines + 1
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self._problem = None
                yield Record(start, [], gettext_noop("The row cannot be read as CSV ({reason})."),
                             {"reason": _short(exc)})
                continue
            if self._problem is not None:
                (problem, values), self._problem = self._problem, None
                yield Record(start, [], problem, values)
            elif not any(c.strip() for c in cells):
                self.blank += 1
            else:
                yield Record(start, cells)


def _skip_rest_of_line(stream: IO[bytes]) -> int:
    """Read past the rest of an overlong line without keeping it; returns the bytes read."""
    skipped = 0
    while piece := stream.readline(MAX_LINE):
        skipped += len(piece)
        if piece.endswith(b"\n"):
            break
    return skipped


def _short(exc: Any) -> str:
    """An exception's message, bounded."""
    return str(exc)[:200]
