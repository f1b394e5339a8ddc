"""Bank statements: camt.053, MT940 and CSV files read into one :class:`StatementLine` model.

    statement = parse_statement(Path("2026-01-05.xml"))          # format from the content
    statement = parse_statement(data, format="csv", csv_mapping=mapping, account="601613 31926819")

All or nothing: any problem with the file is a :class:`StatementError` and nothing is returned.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from .camt053 import parse_camt053
from .csv_statement import DEFAULT_CSV_MAPPING, CsvMapping, MappingError, parse_csv
from .models import Statement, StatementError, StatementLine, line_identity, with_line_hashes
from .mt940_statement import parse_mt940
from .source import FORMAT_NAMES, FORMATS, Progress, detect_format, format_of, open_statement

__all__ = [
    "DEFAULT_CSV_MAPPING",
    "FORMATS",
    "FORMAT_NAMES",
    "CsvMapping",
    "MappingError",
    "Progress",
    "Statement",
    "StatementError",
    "StatementLine",
    "line_identity",
    "parse_statement",
    "with_line_hashes",
]


def parse_statement(
    path_or_bytes: str | Path | bytes | IO[bytes],
    format: str | None = None,
    csv_mapping: CsvMapping | None = None,
    *,
    account: str | None = None,
    currency: str | None = "GBP",
    name: str | None = None,
    progress: Progress | None = None,
) -> Statement:
    """Read one statement file in one pass; every line checked, balances reconciled, lines
    hashed.

    ``path_or_bytes`` is a path, the file's bytes, or a binary file open at its start.
    ``format`` is any name in :data:`FORMAT_NAMES` (``camt.053``, ``camt053``, ``mt940``,
    ``csv``, ...), or ``None`` to tell from the content. ``account`` names the council's account
    for CSV exports whose mapping does not say. ``currency`` is the only currency accepted
    (``None`` accepts any). ``name`` labels the file in error messages. ``progress(bytes_read,
    total_bytes)`` is called as the file is read.
    """
    label = name or (
        Path(path_or_bytes).name if isinstance(path_or_bytes, str | Path) else "statement"
    )
    chosen = format_of(format, source=label)
    mapping = csv_mapping or DEFAULT_CSV_MAPPING
    with open_statement(path_or_bytes, name=name, progress=progress) as opened:
        if chosen is None:
            chosen = detect_format(opened, mapping.header_matches)
        elif opened.size == 0:
            raise StatementError(f"{opened.source}: the file is empty")
        if chosen == "camt.053":
            return parse_camt053(opened, currency=currency)
        if chosen == "mt940":
            return parse_mt940(opened, currency=currency)
        return parse_csv(opened, mapping=mapping, account=account, currency=currency)
