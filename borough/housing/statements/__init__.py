"""Bank statements: camt.053, MT940 and CSV files read into one :class:`StatementLine` model.

    statement = parse_statement(Path("2026-01-05.xml"))          # format from the content
    statement = parse_statement(data, format="csv", csv_mapping=mapping, account="601613 31926819")

All or nothing: any problem with the file is a :class:`StatementError` and nothing is returned.
"""

from __future__ import annotations

import re
from pathlib import Path

from .camt053 import NAMESPACE_MARK, parse_camt053
from .csv_statement import DEFAULT_CSV_MAPPING, CsvMapping, looks_like_csv, parse_csv
from .models import Statement, StatementError, StatementLine, line_identity, with_line_hashes
from .mt940_statement import parse_mt940

__all__ = [
    "DEFAULT_CSV_MAPPING",
    "FORMATS",
    "CsvMapping",
    "Statement",
    "StatementError",
    "StatementLine",
    "detect_format",
    "line_identity",
    "parse_statement",
    "with_line_hashes",
]

FORMATS = ("camt.053", "mt940", "csv")

_MT940_TAGS = re.compile(r"^:(20|25|60F|61):", re.MULTILINE)


def detect_format(data: bytes, csv_mapping: CsvMapping | None = None) -> str | None:
    """``camt.053``, ``mt940`` or ``csv`` from the content, or ``None`` when it is none of them."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return "camt.053" if NAMESPACE_MARK.encode() in head else None
    text = head.decode("utf-8", errors="replace")
    tags = {match.group(1) for match in _MT940_TAGS.finditer(text)}
    if "20" in tags and ("61" in tags or "60F" in tags):
        return "mt940"
    if looks_like_csv(text, csv_mapping or DEFAULT_CSV_MAPPING):
        return "csv"
    return None


def parse_statement(
    path_or_bytes: str | Path | bytes,
    format: str | None = None,
    csv_mapping: CsvMapping | None = None,
    *,
    account: str | None = None,
    currency: str | None = "GBP",
    name: str | None = None,
) -> Statement:
    """Read one statement file; every line checked, balances reconciled, lines hashed.

    ``format`` is one of :data:`FORMATS`, or ``None`` to tell from the content. ``account``
    names the council's account for CSV exports, which do not say. ``currency`` is the only
    currency accepted (``None`` accepts any). ``name`` labels bytes in error messages.
    """
    if isinstance(path_or_bytes, bytes):
        data, source = path_or_bytes, name or "statement"
    else:
        path = Path(path_or_bytes)
        source = name or path.name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise StatementError(f"{source}: cannot be read: {exc.strerror}") from None
    if not data.strip():
        raise StatementError(f"{source}: the file is empty")
    if format is None:
        format = detect_format(data, csv_mapping)
        if format is None:
            raise StatementError(
                f"{source}: not a statement format Borough reads "
                "(camt.053 XML, MT940, or CSV with the declared columns)"
            )
    if format == "camt.053":
        return parse_camt053(data, source=source, currency=currency)
    if format == "mt940":
        return parse_mt940(data, source=source, currency=currency)
    if format == "csv":
        return parse_csv(
            data,
            source=source,
            mapping=csv_mapping or DEFAULT_CSV_MAPPING,
            account=account,
            currency=currency,
        )
    raise StatementError(f"{source}: unknown format {format!r}; use one of {', '.join(FORMATS)}")
