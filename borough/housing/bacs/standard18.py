"""Bacs Standard 18: a writer for Direct Debit files and an independent validator.

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol
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


def _digits(value: str) -> str:
    return "".join(ch for ch in (value or "") if ch not in " -")


# --------------------------------------------------------------------------- writer


def _render(fields: Sequence[Field], values: Mapping[str, str], length: int) -> str:
    parts: list[str] = []
    position = 1
    for spec in fields:
        if spec.start > position:
            parts.append(" " * (spec.start - position))
        text = spec.value if spec.value is not None else values[spec.name]
        if len(text) != spec.length:
            raise ValueError(f"{spec.name} is {text!r}, not {spec.length} characters")
        parts.append(text)
        position = spec.end + 1
    if position <= length:
        parts.append(" " * (length - position + 1))
    line = "".join(parts)
    if len(line) != length:
        raise ValueError(f"the layout gives {len(line)} characters, not {length}")
    return line


class _Writer:
    def __init__(self, service_user: ServiceUser, options: FileOptions, layout: Standard18Layout):
        self.layout = layout
        self.options = options
        self.problems: list[str] = []
        self.sizes = {spec.name: spec.length for spec in layout.data_record}
        self.order = sorted(layout.data_record, key=lambda spec: spec.start)
        if options.multi_day:
            self.order.append(layout.processing_date)
        self.record_length = (
            layout.multi_day_record_length if options.multi_day else layout.record_length
        )
        self.creation = options.creation_date or dt.datetime.now(LONDON).date()
        self.sun = _digits(service_user.sun)
        if len(self.sun) != 6 or not self.sun.isdigit():
            self.problems.append(f"Service user: SUN {service_user.sun!r} is not 6 digits")
        self.own_sort_code = self.sort_code("Service user", service_user.sort_code)
        self.own_account = self.account("Service user", service_user.account_number)
        problem = service_user_name_problem(service_user.name, layout)
        if problem:
            self.problems.append(f"Service user: {problem}")
        # Cut only so that the batch's other problems can still be found: a batch with a
        # problem is never written.
        self.own_name = clean_name(service_user.name, layout, self.sizes["service_user_name"])
        self.contra_narrative = clean_name(
            options.contra_narrative, layout, self.sizes["service_user_name"]
        )
        if len(options.free_format) != self.sizes["free_format"]:
            self.problems.append("The free-format field must be 4 characters")
        if options.line_ending not in ("\r\n", "\n"):
            self.problems.append("The line ending must be CRLF or LF")
        serial = options.serial_number
        if len(serial) != 6 or any(ch not in layout.allowed_characters for ch in serial):
            self.problems.append(f"The serial number {serial!r} must be 6 Bacs characters")
        self.file_number = options.file_number
        if self.file_number is None:
            self.file_number = serial[-3:] if serial[-3:].isdigit() else "001"
        if len(self.file_number) != 3 or not self.file_number.isdigit():
            self.problems.append(f"The file number {self.file_number!r} must be 3 digits")

    def sort_code(self, who: str, value: str) -> str:
        digits = _digits(value)
        if len(digits) != 6 or not digits.isdigit():
            self.problems.append(f"{who}: sort code {value!r} is not 6 digits")
            return "000000"
        return digits

    def account(self, who: str, value: str) -> str:
        digits = _digits(value)
        if len(digits) != 8 or not digits.isdigit():
            self.problems.append(
                f"{who}: account number {value!r} is not 8 digits (normalise it with "
                "check_bank_details first)"
            )
            return "00000000"
        return digits

    def processing_date(self, who: str, item_date: dt.date | None) -> dt.date:
        if self.options.multi_day:
            if item_date is None:
                self.problems.append(f"{who}: a multi-day file needs a processing date per item")
                return dt.date(2000, 1, 1)
            if item_date < self.creation:
                self.problems.append(
                    f"{who}: processing date {item_date} is before the file's creation date "
                    f"{self.creation}"
                )
            return item_date
        if item_date is not None and item_date != self.options.processing_date:
            self.problems.append(
                f"{who}: processing date {item_date} differs from the file's "
                f"{self.options.processing_date} (use a multi-day file)"
            )
        return self.options.processing_date or dt.date(2000, 1, 1)

    def payer_values(self, who: str, item: Instruction | Collection, code: str, amount: int):
        reference = (item.reference or "").upper().rstrip(" ")
        problem = reference_problem(reference, self.layout)
        if problem:
            self.problems.append(f"{who}: reference {item.reference!r} {problem}")
        name = clean_name(item.name, self.layout, self.sizes["destination_name"])
        if not name:
            self.problems.append(f"{who}: the payer's name is blank")
        return {
            "destination_sort_code": self.sort_code(who, item.sort_code),
            "destination_account": self.account(who, item.account_number),
            "destination_account_type": self.layout.account_types[0],
            "transaction_code": code,
            "originating_sort_code": self.own_sort_code,
            "originating_account": self.own_account,
            "free_format": self.options.free_format,
            "amount": f"{amount:0{self.sizes['amount']}d}",
            "service_user_name": self.own_name.ljust(self.sizes["service_user_name"]),
            "reference": reference.ljust(self.sizes["reference"])[: self.sizes["reference"]],
            "destination_name": name.ljust(self.sizes["destination_name"]),
        }

    def contra_values(self, total: int) -> dict[str, str]:
        return {
            "destination_sort_code": self.own_sort_code,
            "destination_account": self.own_account,
            "destination_account_type": self.layout.account_types[0],
            "transaction_code": self.layout.contra_code,
            "originating_sort_code": self.own_sort_code,
            "originating_account": self.own_account,
            "free_format": self.options.free_format,
            "amount": f"{total:0{self.sizes['amount']}d}",
            "service_user_name": self.contra_narrative.ljust(self.sizes["service_user_name"]),
            "reference": self.layout.contra_reference.ljust(self.sizes["reference"]),
            "destination_name": self.own_name.ljust(self.sizes["destination_name"]),
        }

    def record(self, values: dict[str, str], day: dt.date) -> str:
        if self.options.multi_day:
            values["processing_date"] = julian(day)
        return _render(self.order, values, self.record_length)


def write_standard18(
    service_user: ServiceUser,
    instructions: Iterable[Instruction] = (),
    collections: Iterable[Collection] = (),
    options: FileOptions | None = None,
    layout: Standard18Layout = DEFAULT_LAYOUT,
) -> str:
    """The Standard 18 text for a batch of instructions and collections.

    Raises ``BatchError`` listing every problem in the batch (bad reference, blank name, amount
    out of range, wrong code…) so an officer can fix them all at once; nothing is written then.
    """
    options = options or FileOptions()
    writer = _Writer(service_user, options, layout)
    problems = writer.problems
    if not options.multi_day:
        if options.processing_date is None:
            problems.append("A single-day file needs a processing date")
        elif options.processing_date < writer.creation:
            problems.append(
                f"The processing date {options.processing_date} is before the file's "
                f"creation date {writer.creation}"
            )

    # Records grouped by processing day: instructions, then collections, then the contra.
    days: dict[dt.date, tuple[list[str], list[str], list[int]]] = {}
    seen_new_references: set[str] = set()
    for number, item in enumerate(instructions, start=1):
        who = f"Instruction {number}"
        if item.kind not in layout.instruction_codes:
            problems.append(f"{who}: {item.kind!r} is not an instruction code")
        reference = (item.reference or "").upper().rstrip(" ")
        if item.kind == "0N":
            if reference in seen_new_references:
                problems.append(f"{who}: reference {reference!r} is lodged twice in this file")
            seen_new_references.add(reference)
        day = writer.processing_date(who, item.processing_date)
        values = writer.payer_values(who, item, item.kind, 0)
        days.setdefault(day, ([], [], []))[0].append(writer.record(values, day))
    for number, item in enumerate(collections, start=1):
        who = f"Collection {number}"
        if item.code not in layout.debit_codes:
            problems.append(f"{who}: {item.code!r} is not a collection code")
        amount = item.amount_pence
        if not isinstance(amount, int) or isinstance(amount, bool):
            problems.append(f"{who}: the amount must be whole pence")
            amount = 0
        elif not 0 < amount <= layout.max_amount_pence:
            problems.append(
                f"{who}: the amount must be between 1 and {layout.max_amount_pence} pence"
            )
            amount = 0
        day = writer.processing_date(who, item.processing_date)
        values = writer.payer_values(who, item, item.code, amount)
        group = days.setdefault(day, ([], [], []))
        group[1].append(writer.record(values, day))
        group[2].append(amount)

    records: list[str] = []
    debit_total = debit_count = credit_total = credit_count = instruction_count = 0
    for day in sorted(days):
        instruction_records, collection_records, amounts = days[day]
        records.extend(instruction_records)
        records.extend(collection_records)
        instruction_count += len(instruction_records)
        if collection_records:
            total = sum(amounts)
            if total > layout.max_amount_pence:
                problems.append(
                    f"Processing day {day}: the contra would be {total} pence, more than "
                    f"{layout.max_amount_pence}; split the collections into more files"
                )
                continue
            records.append(writer.record(writer.contra_values(total), day))
            debit_total += total
            debit_count += len(collection_records)
            credit_total += total
            credit_count += 1
    if not records:
        problems.append("The batch is empty")
    if problems:
        raise BatchError(problems)

    if options.labels:
        if layout.count_instructions_in_utl1:
            debit_count += instruction_count
        values = _label_values(writer, options, layout)
        sizes = {spec.name: spec.length for spec in layout.labels["UTL1"]}
        for name, number in (
            ("debit_total", debit_total),
            ("credit_total", credit_total),
            ("debit_count", debit_count),
            ("credit_count", credit_count),
            ("instruction_count", instruction_count),
        ):
            values[name] = f"{number:0{sizes[name]}d}"
        records = [
            *(_render_label(name, values, layout) for name in HEADER_LABELS),
            *records,
            *(_render_label(name, values, layout) for name in TRAILER_LABELS),
        ]
    end = options.line_ending
    return end.join(records) + end


def write_standard18_bytes(
    service_user: ServiceUser,
    instructions: Iterable[Instruction] = (),
    collections: Iterable[Collection] = (),
    options: FileOptions | None = None,
    layout: Standard18Layout = DEFAULT_LAYOUT,
) -> bytes:
    """``write_standard18`` as ASCII bytes, ready to upload."""
    return write_standard18(service_user, instructions, collections, options, layout).encode(
        "ascii"
    )


def _label_values(writer: _Writer, options: FileOptions, layout: Standard18Layout) -> dict:
    creation = writer.creation
    expiry = options.expiry_date or creation
    record_length = layout.multi_day_record_length if options.multi_day else layout.record_length
    return {
        "serial_number": options.serial_number,
        "sun": writer.sun,
        "creation_date": julian(creation),
        "expiry_date": julian(expiry),
        "record_length": f"{record_length:05d}",
        "processing_date": "      " if options.multi_day else julian(options.processing_date),
        "receiving_party": options.receiving_party or writer.sun,
        "work_code": layout.work_code_multi if options.multi_day else layout.work_code_single,
        "file_number": writer.file_number,
    }


def _render_label(name: str, values: Mapping[str, str], layout: Standard18Layout) -> str:
    fields = sorted(layout.labels[name], key=lambda spec: spec.start)
    return _render(fields, values, layout.label_length)


# --------------------------------------------------------------------------- validator


@dataclass(frozen=True)
class Problem:
    """Something wrong in a file: the 1-based ``line`` (0 for the whole file), the ``field``
    if one, a short ``code`` to act on, and a message for the officer."""

    line: int
    field: str | None
    code: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        if self.field:
            where += f", {self.field}"
        return f"{where}: {self.message}"


class WorkingDays(Protocol):
    def is_working_day(self, day: dt.date) -> bool: ...


class _Validator:
    def __init__(self, layout: Standard18Layout) -> None:
        self.layout = layout
        self.problems: list[Problem] = []
        self.allowed = frozenset(layout.allowed_characters)

    def add(self, line: int, field_name: str | None, code: str, message: str) -> None:
        self.problems.append(Problem(line, field_name, code, message))

    # -- labels

    def label(self, number: int, line: str, name: str) -> dict[str, str] | None:
        if not line.startswith(name):
            self.add(number, None, "structure", f"expected the {name} label, found {line[:4]!r}")
            return None
        if len(line) != self.layout.label_length:
            self.add(
                number,
                None,
                "record_length",
                f"{name} is {len(line)} characters, not {self.layout.label_length}",
            )
            return None
        values: dict[str, str] = {}
        for spec in self.layout.labels[name]:
            text = spec.cut(line)
            label_field = f"{name} {spec.name}"
            if spec.value is not None:
                if text != spec.value:
                    self.add(
                        number,
                        label_field,
                        "label_field",
                        f"is {text!r}, expected {spec.value!r}",
                    )
                continue
            if spec.kind == "n" and not text.isdigit():
                self.add(number, label_field, "label_field", f"{text!r} is not digits")
            elif spec.kind == "d" and parse_julian(text) is None:
                self.add(number, label_field, "date", f"{text!r} is not a date like ' 26357'")
            if spec.name in values and values[spec.name] != text:
                self.add(
                    number,
                    label_field,
                    "label_field",
                    f"{text!r} differs from {values[spec.name]!r} earlier in the label",
                )
            values.setdefault(spec.name, text)
        return values

    # -- data records

    def check_text(self, number: int, name: str, text: str, required: bool) -> None:
        bad = sorted({ch for ch in text if ch not in self.allowed})
        if bad:
            self.add(
                number,
                name,
                "characters",
                "has characters Bacs does not allow: " + " ".join(repr(ch) for ch in bad),
            )
        if required and not text.strip():
            self.add(number, name, "name", "is blank")
        elif text[:1] == " " and text.strip():
            self.add(number, name, "name", "must be left-justified")

    def record(self, number: int, line: str, multi_day: bool) -> dict[str, str] | None:
        layout = self.layout
        expected = layout.multi_day_record_length if multi_day else layout.record_length
        if len(line) != expected:
            self.add(
                number,
                None,
                "record_length",
                f"the record is {len(line)} characters, not {expected}",
            )
            return None
        values = {spec.name: spec.cut(line) for spec in layout.data_record}
        if multi_day:
            values["processing_date"] = layout.processing_date.cut(line)
        for spec in layout.data_record:
            if spec.kind == "n" and not values[spec.name].isdigit():
                self.add(number, spec.name, "field_format", f"{values[spec.name]!r} is not digits")
        code = values["transaction_code"]
        if code not in (*layout.instruction_codes, *layout.debit_codes, layout.contra_code):
            self.add(number, "transaction_code", "transaction_code", f"{code!r} is not a code")
        if values["destination_account_type"] not in layout.account_types:
            self.add(
                number,
                "destination_account_type",
                "field_format",
                f"{values['destination_account_type']!r} is not an account type",
            )
        self.check_text(number, "free_format", values["free_format"], required=False)
        self.check_text(number, "service_user_name", values["service_user_name"], True)
        self.check_text(number, "destination_name", values["destination_name"], True)
        amount_text = values["amount"]
        if amount_text.isdigit():
            amount = int(amount_text)
            if code in layout.instruction_codes and amount != 0:
                self.add(number, "amount", "amount", f"must be zero for {code}, not {amount}")
            if code in layout.debit_codes and amount == 0:
                self.add(number, "amount", "amount", f"a {code} collection needs an amount")
        if code == layout.contra_code:
            if values["reference"].rstrip() != layout.contra_reference:
                self.add(
                    number,
                    "reference",
                    "contra",
                    f"a contra's reference is {layout.contra_reference!r}, "
                    f"not {values['reference'].rstrip()!r}",
                )
            if (values["destination_sort_code"], values["destination_account"]) != (
                values["originating_sort_code"],
                values["originating_account"],
            ):
                self.add(
                    number,
                    "destination_account",
                    "contra",
                    "a contra goes to the originating (council's) account",
                )
        else:
            problem = reference_problem(values["reference"], layout)
            if problem:
                self.add(number, "reference", "reference", problem)
        if multi_day and parse_julian(values["processing_date"]) is None:
            self.add(
                number,
                "processing_date",
                "date",
                f"{values['processing_date']!r} is not a date like ' 26357'",
            )
        return values


def validate_standard18(
    text: str | bytes,
    layout: Standard18Layout = DEFAULT_LAYOUT,
    calendar: WorkingDays | None = None,
) -> list[Problem]:
    """Every problem found in a Standard 18 file (an empty list for a good file).

    Checks record lengths, each field's format and characters, transaction codes, amounts
    (zero for instructions, positive for collections), references (A1 rules), dates, the contra
    of each processing day against the sum of its debits, the UTL1 totals and counts, and that
    the labels agree with each other. Works on labelled and "payment lines only" files, single
    or multi-processing-day. With a ``calendar`` (``BacsCalendar``), processing dates must also
    be Bacs working days.
    """
    check = _Validator(layout)
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError as error:
            check.add(0, None, "encoding", f"the file is not ASCII (byte {error.start})")
            text = text.decode("latin-1")
    if "\r\n" in text:
        lines = text.split("\r\n")
        if any("\n" in line or "\r" in line for line in lines):
            check.add(0, None, "line_endings", "the file mixes CRLF and LF line endings")
    else:
        lines = text.split("\n")
        if any("\r" in line for line in lines):
            check.add(0, None, "line_endings", "the file has bare CR line endings")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        check.add(0, None, "structure", "the file is empty")
        return check.problems

    labelled = lines[0].startswith("VOL1")
    header: dict[str, dict[str, str] | None] = {}
    first_data, end_data = 0, len(lines)
    multi_day = False
    if labelled:
        if len(lines) < len(HEADER_LABELS) + len(TRAILER_LABELS):
            check.add(0, None, "structure", "too few lines for the labels")
            return check.problems
        for offset, name in enumerate(HEADER_LABELS):
            header[name] = check.label(offset + 1, lines[offset], name)
        first_data = len(HEADER_LABELS)
        end_data = len(lines) - len(TRAILER_LABELS)
        for offset, name in enumerate(TRAILER_LABELS):
            header[name] = check.label(end_data + offset + 1, lines[end_data + offset], name)
        uhl1 = header.get("UHL1")
        if uhl1:
            work_code = uhl1.get("work_code", "")
            if work_code == layout.work_code_multi:
                multi_day = True
            elif work_code != layout.work_code_single:
                check.add(4, "UHL1 work_code", "label_field", f"{work_code!r} is not a work code")
    else:
        multi_day = len(lines[0]) == layout.multi_day_record_length

    # -- data records, contra by contra
    records: list[tuple[int, dict[str, str]]] = []
    for index in range(first_data, end_data):
        line = lines[index]
        if line[:4] in layout.labels:
            check.add(index + 1, None, "structure", f"unexpected {line[:4]} label among records")
            continue
        values = check.record(index + 1, line, multi_day)
        if values is not None:
            records.append((index + 1, values))
    if end_data <= first_data:
        check.add(0, None, "structure", "the file has no data records")

    debit_total = debit_count = credit_total = credit_count = instruction_count = 0
    section_sum = 0
    section_debits = 0
    section_day: str | None = None
    section_first_line = 0
    contra_days: set[str] = set()
    new_references: dict[str, int] = {}
    for number, values in records:
        code = values["transaction_code"]
        amount = int(values["amount"]) if values["amount"].isdigit() else 0
        day = values.get("processing_date")
        if code in layout.instruction_codes:
            instruction_count += 1
            if code == "0N":
                reference = values["reference"].rstrip()
                if reference in new_references:
                    check.add(
                        number,
                        "reference",
                        "reference",
                        f"{reference!r} is lodged twice (also line {new_references[reference]})",
                    )
                new_references.setdefault(reference, number)
        elif code in layout.debit_codes:
            if multi_day and section_debits and day != section_day:
                check.add(
                    number,
                    "processing_date",
                    "contra",
                    f"debits for {section_day!r} (from line {section_first_line}) have no "
                    "contra before the next processing day",
                )
                section_sum = section_debits = 0
            if not section_debits:
                section_day, section_first_line = day, number
            section_sum += amount
            section_debits += 1
            debit_total += amount
            debit_count += 1
        elif code == layout.contra_code:
            credit_total += amount
            credit_count += 1
            if not section_debits:
                check.add(number, None, "contra", "a contra with no debits before it")
            elif amount != section_sum:
                check.add(
                    number,
                    "amount",
                    "contra_total",
                    f"the contra is {amount} pence but the debits since line "
                    f"{section_first_line} add up to {section_sum}",
                )
            if multi_day:
                if section_debits and day != section_day:
                    check.add(
                        number,
                        "processing_date",
                        "contra",
                        f"the contra's processing date {day!r} is not its debits' {section_day!r}",
                    )
                if day in contra_days:
                    check.add(number, None, "contra", f"a second contra for {day!r}")
                contra_days.add(day or "")
            elif credit_count > 1:
                check.add(number, None, "contra", "a single-day file has one contra")
            if amount > layout.max_amount_pence:
                check.add(number, "amount", "amount", "the contra is over the limit")
            section_sum = section_debits = 0
    if section_debits:
        check.add(
            section_first_line,
            None,
            "contra",
            f"{section_debits} debits from line {section_first_line} have no contra",
        )

    if labelled:
        _check_labels(check, header, end_data, multi_day, records, calendar)
        utl1 = header.get("UTL1")
        if utl1:
            counted_debits = debit_count + (
                instruction_count if layout.count_instructions_in_utl1 else 0
            )
            utl1_line = len(lines)
            for name, actual, kind in (
                ("debit_total", debit_total, "total"),
                ("credit_total", credit_total, "total"),
                ("debit_count", counted_debits, "count"),
                ("credit_count", credit_count, "count"),
                ("instruction_count", instruction_count, "count"),
            ):
                text = utl1.get(name, "")
                if text.isdigit() and int(text) != actual:
                    check.add(
                        utl1_line,
                        f"UTL1 {name}",
                        kind,
                        f"says {int(text)} but the records give {actual}",
                    )
    return check.problems


def _check_labels(
    check: _Validator,
    header: Mapping[str, dict[str, str] | None],
    end_data: int,
    multi_day: bool,
    records: list[tuple[int, dict[str, str]]],
    calendar: WorkingDays | None,
) -> None:
    layout = check.layout
    vol1, hdr1, hdr2, uhl1 = (header.get(name) for name in HEADER_LABELS)
    eof1, eof2 = header.get("EOF1"), header.get("EOF2")
    if vol1 and hdr1:
        if vol1["serial_number"] != hdr1["serial_number"]:
            check.add(2, "HDR1 serial_number", "label_field", "differs from VOL1's serial number")
        if vol1["sun"] != hdr1["sun"]:
            check.add(2, "HDR1 sun", "label_field", "differs from VOL1's SUN")
    for trailer, original, line in ((eof1, hdr1, end_data + 1), (eof2, hdr2, end_data + 2)):
        if trailer and original and trailer != original:
            changed = sorted(name for name in original if trailer.get(name) != original[name])
            check.add(
                line, ", ".join(changed), "label_field", "the trailer differs from its header"
            )
    creation = parse_julian(hdr1["creation_date"]) if hdr1 else None
    if hdr1 and creation:
        expiry = parse_julian(hdr1["expiry_date"])
        if expiry and expiry < creation:
            check.add(2, "HDR1 expiry_date", "date", "is before the creation date")
    if hdr2:
        expected = layout.multi_day_record_length if multi_day else layout.record_length
        if hdr2["record_length"].isdigit() and int(hdr2["record_length"]) != expected:
            check.add(3, "HDR2 record_length", "label_field", f"should be {expected:05d}")
    if uhl1:
        if hdr1 and uhl1["receiving_party"] not in (hdr1["sun"], layout.bureau_receiving_party):
            check.add(4, "UHL1 receiving_party", "label_field", "is neither the SUN nor a bureau")
        text = uhl1["processing_date"]
        if multi_day:
            if text.strip():
                check.add(4, "UHL1 processing_date", "date", "must be blank in a multi-day file")
        else:
            day = parse_julian(text)
            if day is None:
                check.add(4, "UHL1 processing_date", "date", f"{text!r} is not a date")
            else:
                if creation and day < creation:
                    check.add(
                        4, "UHL1 processing_date", "date", "is before the file's creation date"
                    )
                if calendar is not None and not calendar.is_working_day(day):
                    check.add(4, "UHL1 processing_date", "date", f"{day} is not a working day")
    if multi_day:
        for number, values in records:
            day = parse_julian(values.get("processing_date", ""))
            if day is None:
                continue
            if creation and day < creation:
                check.add(number, "processing_date", "date", "is before the file's creation date")
            if calendar is not None and not calendar.is_working_day(day):
                check.add(number, "processing_date", "date", f"{day} is not a working day")
