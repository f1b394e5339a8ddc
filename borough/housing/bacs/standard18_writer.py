"""The Bacs Standard 18 writer: Direct Debit instructions and collections as a file, with one
contra record per processing day and the labels, from the layout in ``standard18``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from borough.housing.bacs.standard18 import (
    DEFAULT_LAYOUT,
    HEADER_LABELS,
    LONDON,
    TRAILER_LABELS,
    BatchError,
    Collection,
    Field,
    FileOptions,
    Instruction,
    ServiceUser,
    Standard18Layout,
    clean_name,
    julian,
    reference_problem,
    service_user_name_problem,
    without_separators,
)


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
        self.sun = without_separators(service_user.sun)
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
        digits = without_separators(value)
        if len(digits) != 6 or not digits.isdigit():
            self.problems.append(f"{who}: sort code {value!r} is not 6 digits")
            return "000000"
        return digits

    def account(self, who: str, value: str) -> str:
        digits = without_separators(value)
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
