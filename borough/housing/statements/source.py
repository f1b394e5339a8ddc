"""Opening a statement file and telling what it is, without reading it whole.

A file is opened once, as a binary stream the parsers read to the end in one pass. What it is
(camt.053, MT940, CSV, or something Borough does not read: a zip file, a PDF, other binary data)
is told from how it starts, whatever its encoding (UTF-8, UTF-16/32 with a byte order mark, or
UTF-16 without one) and however long its prologue (an XML comment, a bank's header lines before
the first MT940 tag). Progress is the share of the file's bytes read so far.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .models import StatementError

#: The format names Borough reads, and every other name people give them (the command's
#: ``--format``, the upload page, the docs).
FORMAT_NAMES = {
    "camt.053": "camt.053",
    "camt053": "camt.053",
    "camt": "camt.053",
    "xml": "camt.053",
    "mt940": "mt940",
    "mt-940": "mt940",
    "swift": "mt940",
    "csv": "csv",
}
FORMATS = ("camt.053", "mt940", "csv")

#: ``progress(bytes_read, total_bytes)``
Progress = Callable[[int, int], None]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MT940_FIRST_TAG = re.compile(r"^:(?:20|940):")
_MT940_ANY_TAG = re.compile(r"^:[0-9]{2}[A-Z]?:")
_PEEK = 64 * 1024


def format_of(name: str | None, *, source: str) -> str | None:
    """``camt.053``, ``mt940`` or ``csv`` for any name the help or docs give, or ``None``."""
    if name is None or not name.strip():
        return None
    found = FORMAT_NAMES.get(name.strip().lower())
    if found is None:
        raise StatementError(
            f"{source}: unknown format {name!r}; use one of {', '.join(FORMATS)} "
            "(or leave it out to tell from the file)"
        )
    return found


@dataclass
class Opened:
    """A statement file open for one pass: ``stream`` from its first byte, its ``size``."""

    stream: IO[bytes]
    size: int
    source: str
    encoding: str | None
    progress: Progress | None = None
    _reported: int = -1

    def report(self, force: bool = False) -> None:
        """Tell ``progress`` how far the stream has got (at most about every 1% of the file)."""
        if self.progress is None:
            return
        done = self.size if force else min(self.stream.tell(), self.size)
        if force or done - self._reported >= max(self.size // 100, 64 * 1024):
            self._reported = done
            self.progress(done, self.size)

    def text_lines(self) -> Iterator[tuple[int, str]]:
        """The file's lines, numbered from 1, line ends removed; a byte order mark's encoding
        when there is one, else UTF-8, a line that is not UTF-8 read as Windows-1252 (latin-1
        for the five bytes it leaves out): bank exports are one or the other."""
        if self.encoding and self.encoding not in ("utf-8", "utf-8-sig"):
            reader = io.TextIOWrapper(self.stream, encoding=self.encoding, newline="")
            try:
                for number, line in enumerate(reader, start=1):
                    if number % 2000 == 0:
                        self.report()
                    yield number, line.rstrip("\r\n")
            finally:
                reader.detach()  # the stream stays open: it is not the reader's to close
            return
        for number, raw in enumerate(self.stream, start=1):
            if number % 2000 == 0:
                self.report()
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                line = raw.decode("cp1252", errors="replace")
            yield number, line.rstrip("\r\n")


@contextmanager
def open_statement(
    path_or_bytes: str | Path | bytes | IO[bytes], *, name: str | None, progress: Progress | None
) -> Iterator[Opened]:
    """Open ``path_or_bytes`` (a path, bytes, or a binary file already open) for one pass."""
    if isinstance(path_or_bytes, bytes):
        stream: IO[bytes] = io.BytesIO(path_or_bytes)
        source, close = name or "statement", False
    elif isinstance(path_or_bytes, str | Path):
        path = Path(path_or_bytes)
        source = name or path.name
        try:
            stream = path.open("rb")
        except OSError as exc:
            raise StatementError(f"{source}: cannot be read: {exc.strerror}") from None
        close = True
    else:
        stream, close = path_or_bytes, False
        source = name or Path(getattr(stream, "name", "") or "statement").name
    try:
        start = stream.tell()
        size = stream.seek(0, io.SEEK_END) - start
        stream.seek(start)
        head = stream.read(_PEEK)
        stream.seek(start)
        encoding = next((enc for bom, enc in _BOMS if head.startswith(bom)), None)
        encoding = encoding or _utf16_without_bom(head)
        yield Opened(stream, size, source, encoding, progress)
    finally:
        if close:
            stream.close()


def _utf16_without_bom(head: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` for UTF-16 text with no byte order mark, told as the XML
    specification's Appendix F tells it: a statement starts with Latin characters, each of which
    has a zero byte beside it in UTF-16 (on the right in little-endian, on the left in
    big-endian), and text in any other encoding has almost no zero bytes."""
    sample = head[:512]
    sample = sample[: len(sample) - len(sample) % 2]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    zero_left = sample[0::2].count(0)
    zero_right = sample[1::2].count(0)
    if zero_right >= 0.9 * pairs and zero_left <= 0.1 * pairs:
        return "utf-16-le"
    if zero_left >= 0.9 * pairs and zero_right <= 0.1 * pairs:
        return "utf-16-be"
    return None


def _head_text(head: bytes, encoding: str | None) -> str:
    decoder = codecs.getincrementaldecoder(encoding or "utf-8")(errors="replace")
    return decoder.decode(head)


def detect_format(opened: Opened, looks_like_csv: Callable[[str], bool]) -> str:
    """What the file is, or a :class:`StatementError` saying what it is instead."""
    stream, source = opened.stream, opened.source
    start = stream.tell()
    head = stream.read(_PEEK)
    stream.seek(start)
    if not head.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise StatementError(f"{source}: the file is empty")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        raise StatementError(
            f"{source}: a zip file, not a statement; unzip it and import the statement inside "
            "(a spreadsheet saved as .xlsx is a zip file too: export it as CSV)"
        )
    if head.startswith(b"%PDF"):
        raise StatementError(
            f"{source}: a PDF, not a statement file; ask the bank for camt.053, MT940 or CSV"
        )
    if opened.encoding is None and b"\x00" in head:
        raise StatementError(
            f"{source}: not a statement format Borough reads: binary data, not text "
            "(camt.053 XML, MT940 or CSV)"
        )
    text = _head_text(head, opened.encoding).lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        return "camt.053"  # the parser checks it is a camt.053 Document
    first_line = next(iter(text.splitlines()), "")  # a bare carriage return ends a line too
    if looks_like_csv(first_line):
        return "csv"
    # MT940: the first tag is :20: (or :940:) after any header lines a bank puts first, however
    # many; a line that is a tag of any other kind first means this is not MT940.
    lines = text.splitlines() if opened.encoding not in (None, "utf-8-sig") else stream
    try:
        for line in lines:
            if isinstance(line, bytes):
                line = line.decode("utf-8", errors="replace")
            stripped = line.strip().lstrip("\ufeff")
            if _MT940_FIRST_TAG.match(stripped):
                return "mt940"
            if _MT940_ANY_TAG.match(stripped):
                break
    finally:
        stream.seek(start)
    raise StatementError(
        f"{source}: not a statement format Borough reads "
        "(camt.053 XML, MT940, or CSV with the declared columns)"
    )
