"""Reading a large statement on one core while its lines are used on another.

A statement's reading (parsing and checking every entry) and the matching of its lines to rent
accounts each take about half of a large import. :func:`parse_statement_alongside` reads the
file in a forked process, exactly as :func:`~borough.housing.statements.parse_statement` does,
and hands each checked line to this process as it goes, so the caller can work on the lines
while the rest of the file is still being read. The result is the same :class:`Statement`, or
the same :class:`StatementError`, as reading it here.

The reading process only reads: it touches no database connection and no file but the
statement, sends everything through one pipe and ends with ``os._exit`` (nothing the parent
owns is closed or flushed by it). Where ``fork`` does not exist (Windows), or for a file object
(whose position a forked reader would move under its owner), the file is read here instead,
line by line, with the same calls.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO

from . import parse_statement
from .csv_statement import CsvMapping
from .models import Statement, StatementError, StatementLine, lines_told_to

#: Lines sent to the parent at a time: large enough that pickling is cheap per line, small
#: enough that the parent starts at once and the pipe holds few lines (memory stays bounded).
BATCH = 1000

#: Files smaller than this are read here: a second process costs more than it saves.
PARALLEL_FROM_BYTES = 2_000_000

EachLine = Callable[[StatementLine], None]
Progress = Callable[[int, int], None]


def parse_statement_alongside(
    source: str | Path | bytes | IO[bytes],
    format: str | None = None,
    csv_mapping: CsvMapping | None = None,
    *,
    each_line: EachLine,
    account: str | None = None,
    name: str | None = None,
    progress: Progress | None = None,
) -> Statement:
    """``parse_statement(source, ...)``, calling ``each_line(line)`` here for every checked line
    in the file's order while the file is read (lines come without their ``line_hash``, which
    needs the whole statement). Raises what ``parse_statement`` raises; after an error the lines
    already handed over mean nothing."""
    if not _worth_a_process(source):
        with lines_told_to(lambda row: each_line(StatementLine(*row))):
            return parse_statement(
                source, format, csv_mapping, account=account, name=name, progress=progress
            )
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    reader = context.Process(
        target=_read,
        args=(sending, source, format, csv_mapping, account, name, progress is not None),
        name="borough-statement-reader",
        daemon=True,
    )
    reader.start()
    sending.close()  # the reader holds the only sending end: its exit ends the pipe
    try:
        return _receive(receiving, each_line, progress, name or _label(source))
    finally:
        receiving.close()
        if reader.is_alive():
            reader.kill()  # an error here, or in each_line: the rest of the file is not wanted
        reader.join()


def _worth_a_process(source) -> bool:
    if not hasattr(os, "fork"):
        return False
    if isinstance(source, bytes):
        return len(source) >= PARALLEL_FROM_BYTES
    if isinstance(source, str | Path):
        try:
            return Path(source).stat().st_size >= PARALLEL_FROM_BYTES
        except OSError:
            return False  # parse_statement says why it cannot be read
    return False


def _label(source) -> str:
    return Path(source).name if isinstance(source, str | Path) else "statement"


def _receive(receiving, each_line: EachLine, progress: Progress | None, label: str) -> Statement:
    rows: list[tuple] = []
    while True:
        try:
            kind, payload = receiving.recv()
        except EOFError:
            raise RuntimeError(
                f"{label}: the process reading the file stopped unexpectedly"
            ) from None
        if kind == "rows":
            for row in payload:
                rows.append(row)
                each_line(StatementLine(*row))
        elif kind == "progress":
            if progress is not None:
                progress(*payload)
        elif kind == "error":
            raise payload
        elif kind == "crash":
            raise RuntimeError(f"{label}: reading the file failed:\n{payload}")
        else:  # "done": the statement without its lines, and the lines' hashes
            fields, hashes = payload
            if len(hashes) != len(rows):
                raise RuntimeError(f"{label}: {len(rows)} lines were sent for {len(hashes)}")
            lines = tuple(
                StatementLine(*row, line_hash=digest)
                for row, digest in zip(rows, hashes, strict=True)
            )
            return Statement(**fields, lines=lines)


def _read(sending, source, format, csv_mapping, account, name, wants_progress) -> None:
    """The reading process: parse, sending lines in batches as they are checked, then the
    statement's own fields and the lines' hashes. Never returns: ``os._exit``."""
    status = 0
    try:
        batch: list[tuple] = []

        def keep(row: tuple) -> None:
            batch.append(row)
            if len(batch) >= BATCH:
                sending.send(("rows", batch.copy()))
                batch.clear()

        def report(done: int, total: int) -> None:
            if batch:
                sending.send(("rows", batch.copy()))
                batch.clear()
            sending.send(("progress", (done, total)))

        with lines_told_to(keep):
            statement = parse_statement(
                source,
                format,
                csv_mapping,
                account=account,
                name=name,
                progress=report if wants_progress else None,
            )
        if batch:
            sending.send(("rows", batch))
        fields = {
            "account": statement.account,
            "statement_id": statement.statement_id,
            "period_from": statement.period_from,
            "period_to": statement.period_to,
            "opening_balance_pence": statement.opening_balance_pence,
            "closing_balance_pence": statement.closing_balance_pence,
            "format": statement.format,
        }
        sending.send(("done", (fields, [line.line_hash for line in statement.lines])))
    except StatementError as error:
        sending.send(("error", StatementError(str(error))))
    except BaseException:
        # The parent says the reading failed, with this text (if it is still there to hear).
        status = 1
        with contextlib.suppress(BaseException):
            sending.send(("crash", traceback.format_exc()))
    finally:
        try:
            sending.close()
        finally:
            os._exit(status)
