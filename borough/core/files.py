"""Checking an uploaded or exported file's bytes before anything reads it as text."""

import codecs
import hashlib
from dataclasses import dataclass
from typing import BinaryIO

CHUNK = 1 << 20


@dataclass
class EncodingProblem(Exception):
    """Where a file stops being text in its encoding; callers turn it into their own message.

    ``kind``: ``"utf16"`` (a UTF-16 byte-order mark where UTF-8 was expected), ``"byte"`` (``byte``
    at ``offset`` on ``line`` is not valid) or ``"truncated"`` (the file ends part-way through a
    character that starts at ``offset``; ``size`` is the file's length)."""

    kind: str
    offset: int = 0
    line: int = 0
    byte: int = 0
    size: int = 0


def hash_and_check_encoding(
    handle: BinaryIO, encoding: str = "utf-8", *, check: bool = True
) -> tuple[str, int]:
    """The SHA-256 and size of ``handle``'s bytes, having checked (if ``check``) that every byte
    is text in ``encoding``. Raises ``EncodingProblem`` at the first one that is not."""
    codec = codecs.lookup(encoding).name
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder(codec)("strict")
    consumed = lines_before = 0
    first = True
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
        if not check:
            consumed += len(chunk)
            continue
        if first and codec == "utf-8" and chunk[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            raise EncodingProblem("utf16")
        first = False
        pending = decoder.getstate()[0]
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as error:
            data = pending + chunk
            raise EncodingProblem(
                "byte",
                offset=consumed - len(pending) + error.start,
                line=lines_before - pending.count(b"\n") + data[: error.start].count(b"\n") + 1,
                byte=data[error.start],
            ) from None
        consumed += len(chunk)
        lines_before += chunk.count(b"\n")
    if check:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise EncodingProblem(
                "truncated", offset=consumed - len(decoder.getstate()[0]), size=consumed
            ) from None
    return digest.hexdigest(), consumed
