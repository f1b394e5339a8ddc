"""Bacs Standard 18: the layout, the inputs and the rules that the writer
(``standard18_writer``) and the independent validator (``standard18_validator``) share.

A file is ``VOL1 HDR1 HDR2 UHL1``, the data records, then ``EOF1 EOF2 UTL1`` (labels can be left
out for bureaus that take "payment lines only"). Data records are 100 characters, 106 in a
multi-processing-day file, where each carries its own processing date. AUDDIS instructions
(0N/0C/0S, amount zero) and collections (01/17/18/19) go to the payer's account; one contra
record (99) per processing day credits the council's account with the sum of the debits.

Every position, fixed value and code list is data (``Standard18Layout``), so a council or its
bureau can correct a value without touching the code. The layouts follow public descriptions,
not the licensed Bacs specification: the ANSI/ISO tape labels that VOL1, HDR1/2 and EOF1/2 are,
bureau and bank guides, and open-source writers; ``docs/direct-debit.md`` cites each field's
source and says which are unverified.

Text goes into the Bacs character set by transliteration (``anyascii``: Ø → O, ß → SS, Cyrillic
and other scripts to Latin letters), never by dropping letters. A payer's name is cut to its
18 characters, as the descriptions say; the service user's name is not cut: one that does not
fit is refused (``service_user_name_problem``), because it is the name the sponsoring bank
registered for the SUN.

``validate_standard18`` re-reads a file from its text alone, field by field, and recomputes the
contra totals and the UTL1 totals and counts. It shares the position table with the writer (so a
correction applies to both) but none of the writer's code or state: it checks what the writer
wrote, and files that came from elsewhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from zoneinfo import ZoneInfo

from anyascii import anyascii

LONDON = ZoneInfo("Europe/London")

# --------------------------------------------------------------------------- layout (data)


@dataclass(frozen=True)
class Field:
    """One field: 1-based ``start``, ``length``, ``kind`` ("n" digits, right-justified and
    zero-filled; "a" text, left-justified and space-filled; "d" a Julian date " yyddd"), and
    ``value`` when the field is fixed text."""

    name: str
    start: int
    length: int
    kind: str = "a"
    value: str | None = None

    @property
    def end(self) -> int:
        return self.start + self.length - 1

    def cut(self, line: str) -> str:
        return line[self.start - 1 : self.start - 1 + self.length]


DATA_RECORD_FIELDS: tuple[Field, ...] = (
    Field("destination_sort_code", 1, 6, "n"),
    Field("destination_account", 7, 8, "n"),
    Field("destination_account_type", 15, 1, "n"),
    Field("transaction_code", 16, 2),
    Field("originating_sort_code", 18, 6, "n"),
    Field("originating_account", 24, 8, "n"),
    Field("free_format", 32, 4),
    Field("amount", 36, 11, "n"),
    Field("service_user_name", 47, 18),
    Field("reference", 65, 18),
    Field("destination_name", 83, 18),
)
#: Only in multi-processing-day files.
PROCESSING_DATE_FIELD = Field("processing_date", 101, 6, "d")


def _label(name: str, *fields: Field) -> tuple[Field, ...]:
    return (Field("label", 1, 4, "a", name), *fields)


def _hdr1(name: str) -> tuple[Field, ...]:
    return _label(
        name,
        Field("file_id_type", 5, 1, "a", "A"),
        Field("sun", 6, 6, "n"),
        Field("file_id_s", 12, 1, "a", "S"),
        Field("file_id_gap", 13, 2, "a", "  "),
        Field("file_id_number", 15, 1, "a", "1"),
        Field("sun", 16, 6, "n"),
        Field("serial_number", 22, 6),
        Field("file_section", 28, 4, "n", "0001"),
        Field("file_sequence", 32, 4, "n", "0001"),
        Field("generation", 36, 6, "a", " " * 6),
        Field("creation_date", 42, 6, "d"),
        Field("expiry_date", 48, 6, "d"),
        Field("accessibility", 54, 1, "a", " "),
        Field("block_count", 55, 6, "n", "000000"),
        Field("system_code", 61, 20, "a", " " * 20),
    )


def _hdr2(name: str) -> tuple[Field, ...]:
    return _label(
        name,
        Field("record_format", 5, 1, "a", "F"),
        Field("block_length", 6, 5, "n", "02000"),
        Field("record_length", 11, 5, "n"),
        Field("reserved", 16, 35, "a", " " * 35),
        # The ANSI/ISO label's buffer-offset length: "00", no offset.
        Field("buffer_offset", 51, 2, "n", "00"),
        Field("reserved_2", 53, 28, "a", " " * 28),
    )


LABEL_FIELDS: Mapping[str, tuple[Field, ...]] = MappingProxyType(
    {
        "VOL1": _label(
            "VOL1",
            Field("serial_number", 5, 6),
            Field("accessibility", 11, 1, "a", " "),
            Field("reserved_1", 12, 30, "a", " " * 30),
            Field("sun", 42, 6, "n"),
            Field("reserved_2", 48, 32, "a", " " * 32),
            Field("label_standard", 80, 1, "a", "1"),
        ),
        "HDR1": _hdr1("HDR1"),
        "HDR2": _hdr2("HDR2"),
        "UHL1": _label(
            "UHL1",
            # " yyddd", or six spaces in a multi-processing-day file.
            Field("processing_date", 5, 6),
            Field("receiving_party", 11, 6, "n"),
            Field("receiving_party_gap", 17, 4, "a", "    "),
            Field("currency_country", 21, 8, "n", "00000000"),
            Field("work_code", 29, 9),
            # The user file number: told apart from the SUN's other files of the same day;
            # Bacs reports name it back (AUDDIS ``originator-file-number``).
            Field("file_number", 38, 3, "n"),
            Field("reserved", 41, 40, "a", " " * 40),
        ),
        "EOF1": _hdr1("EOF1"),
        "EOF2": _hdr2("EOF2"),
        "UTL1": _label(
            "UTL1",
            Field("debit_total", 5, 13, "n"),
            Field("credit_total", 18, 13, "n"),
            Field("debit_count", 31, 7, "n"),
            Field("credit_count", 38, 7, "n"),
            Field("reserved", 45, 8, "a", " " * 8),
            # The count of AUDDIS instructions (0N, 0C, 0S) in the file.
            Field("instruction_count", 53, 7, "n"),
            Field("reserved_2", 60, 21, "a", " " * 21),
        ),
    }
)
HEADER_LABELS = ("VOL1", "HDR1", "HDR2", "UHL1")
TRAILER_LABELS = ("EOF1", "EOF2", "UTL1")


@dataclass(frozen=True)
class Standard18Layout:
    """Every position, fixed value, code and limit the writer and validator use."""

    data_record: tuple[Field, ...] = DATA_RECORD_FIELDS
    processing_date: Field = PROCESSING_DATE_FIELD
    labels: Mapping[str, tuple[Field, ...]] = field(default_factory=lambda: LABEL_FIELDS)
    label_length: int = 80
    record_length: int = 100
    multi_day_record_length: int = 106
    work_code_single: str = "1 DAILY  "
    work_code_multi: str = "4 MULTI  "
    #: UHL1's receiving party when the file is not for one SUN (bureau files).
    bureau_receiving_party: str = "999999"
    instruction_codes: tuple[str, ...] = ("0N", "0C", "0S")
    debit_codes: tuple[str, ...] = ("01", "17", "18", "19")
    contra_code: str = "99"
    contra_reference: str = "CONTRA"
    account_types: tuple[str, ...] = ("0",)
    #: The 11-digit amount field; a single contra must not exceed it either.
    max_amount_pence: int = 99_999_999_999
    #: Bacs characters (A1). Odoo also allows "," — add it here if the bureau does.
    allowed_characters: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ./-&"
    reference_min_length: int = 6
    reference_max_length: int = 18
    reference_min_alphanumeric: int = 6
    reference_forbidden_prefixes: tuple[str, ...] = ("DDIC",)
    #: Whether 0N/0C/0S records count as debits in UTL1 (not spec-verified; see the docs).
    count_instructions_in_utl1: bool = False

    def data_field(self, name: str) -> Field:
        for candidate in (*self.data_record, self.processing_date):
            if candidate.name == name:
                return candidate
        raise KeyError(name)


DEFAULT_LAYOUT = Standard18Layout()

# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class ServiceUser:
    """The council: its SUN, its name as Bacs shows it, and the account collections go to."""

    sun: str
    name: str
    sort_code: str
    account_number: str


@dataclass(frozen=True)
class Instruction:
    """An AUDDIS record: ``kind`` is 0N (new), 0C (cancel) or 0S (convert / re-lodge)."""

    kind: str
    sort_code: str
    account_number: str
    name: str
    reference: str
    processing_date: dt.date | None = None


@dataclass(frozen=True)
class Collection:
    """A Direct Debit: ``code`` 01 (first), 17 (regular), 18 (re-presentation), 19 (final)."""

    code: str
    sort_code: str
    account_number: str
    name: str
    amount_pence: int
    reference: str
    processing_date: dt.date | None = None


@dataclass(frozen=True)
class FileOptions:
    """How to write the file. ``processing_date`` is needed unless ``multi_day``, when each
    instruction and collection carries its own."""

    processing_date: dt.date | None = None
    creation_date: dt.date | None = None  # default: today in London
    expiry_date: dt.date | None = None  # default: the creation date
    serial_number: str = "000001"
    #: UHL1's user file number, 3 digits: ``None`` for the serial number's last three.
    file_number: str | None = None
    labels: bool = True
    multi_day: bool = False
    line_ending: str = "\r\n"
    free_format: str = "    "
    contra_narrative: str = "DIRECT DEBITS"
    #: UHL1's receiving party: ``None`` for the SUN, or the layout's bureau number.
    receiving_party: str | None = None


class BatchError(ValueError):
    """The batch cannot be written; ``problems`` lists every reason, one per item."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


# --------------------------------------------------------------------------- shared rules


def julian(day: dt.date) -> str:
    """Bacs date format: a space, two-digit year, three-digit day of the year."""
    return f" {day:%y}{day.timetuple().tm_yday:03d}"


def parse_julian(text: str) -> dt.date | None:
    """The date in a " yyddd" field, or ``None`` if it is not one."""
    if len(text) != 6 or text[0] != " " or not text[1:].isdigit():
        return None
    year = 2000 + int(text[1:3])
    day_of_year = int(text[3:])
    if not 1 <= day_of_year <= (366 if _is_leap(year) else 365):
        return None
    return dt.date(year, 1, 1) + dt.timedelta(days=day_of_year - 1)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def clean_name(
    name: str, layout: Standard18Layout = DEFAULT_LAYOUT, length: int | None = 18
) -> str:
    """A name in Bacs characters: transliterated to Latin letters (``anyascii``: é → E,
    Ø → O, ß → SS, Иван → IVAN), upper case, apostrophes dropped, any other character outside
    the set replaced by a space, spaces collapsed, then cut to ``length`` (``None``: not cut)."""
    text = anyascii(name or "").upper().replace("'", "")
    allowed = set(layout.allowed_characters)
    text = " ".join("".join(ch if ch in allowed else " " for ch in text).split())
    return text if length is None else text[:length].rstrip()


def service_user_name_problem(name: str, layout: Standard18Layout = DEFAULT_LAYOUT) -> str | None:
    """Why ``name`` cannot be the service user's name on a file, or ``None``. The field holds
    18 Bacs characters and the name is the one the sponsoring bank registered for the SUN, so
    a longer name is refused, never cut (a cut name is not the registered one)."""
    cleaned = clean_name(name, layout, length=None)
    size = next(spec.length for spec in layout.data_record if spec.name == "service_user_name")
    if not cleaned:
        return "the service user name is blank"
    if len(cleaned) > size:
        return (
            f"the service user name {cleaned!r} is {len(cleaned)} characters; the field in a "
            f"Bacs file holds {size}. Use the short name your sponsoring bank registered for "
            "your SUN"
        )
    return None


def reference_problem(reference: str, layout: Standard18Layout = DEFAULT_LAYOUT) -> str | None:
    """Why ``reference`` (already upper-cased) is not a valid DD reference, or ``None``."""
    if reference[:1] == " ":
        return "must not start with a space"
    stripped = reference.rstrip(" ")
    if not layout.reference_min_length <= len(stripped) <= layout.reference_max_length:
        return (
            f"must be {layout.reference_min_length} to {layout.reference_max_length} "
            f"characters (it is {len(stripped)})"
        )
    bad = sorted({ch for ch in stripped if ch not in layout.allowed_characters})
    if bad:
        return "has characters Bacs does not allow: " + " ".join(repr(ch) for ch in bad)
    if sum(ch.isalnum() for ch in stripped) < layout.reference_min_alphanumeric:
        return f"needs at least {layout.reference_min_alphanumeric} letters or digits"
    for prefix in layout.reference_forbidden_prefixes:
        if stripped.startswith(prefix):
            return f"must not start with {prefix!r}"
    if len(set(stripped.replace(" ", ""))) == 1:
        return "must not be one repeated character"
    return None


def without_separators(value: str) -> str:
    return "".join(ch for ch in (value or "") if ch not in " -")
