"""The Bacs Standard 18 validator: a file re-read from its text alone, field by field, with the
contra totals and the UTL1 totals and counts recomputed. It shares the position table with the
writer (``standard18.Standard18Layout``) but none of the writer's code or state: it checks what the
writer wrote, and files that came from elsewhere."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from borough.housing.bacs.standard18 import (
    DEFAULT_LAYOUT,
    HEADER_LABELS,
    TRAILER_LABELS,
    Standard18Layout,
    parse_julian,
    reference_problem,
)


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
