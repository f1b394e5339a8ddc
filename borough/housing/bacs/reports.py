"""Parsers for the Bacs reports a bureau sends back, in their XML form.

- **ARUDD** (unpaid Direct Debits): ``BACSDocument/Data/ARUDD`` with a ``Header``
  (``currentProcessingDate``), ``ServiceLicenseInformation`` (``userNumber``) and
  ``Advice/OriginatingAccountRecords/OriginatingAccountRecord``, each holding
  ``ReturnedDebitItem`` elements (``ref``, ``transCode``, ``returnCode``, ``returnDescription``,
  ``originalProcessingDate``, ``valueOf`` in pounds, ``currency``) with a ``PayerAccount``
  child (``number``, ``sortCode``, ``name``, ``ref``), and a ``Totals`` element
  (``numberOf``, ``valueOf``) that is checked against the items.
- **ADDACS** (amendments and cancellations) and the **AUDDIS** report: ``BACSDocument/Data/
  MessagingAdvices`` with a ``MessagingHeader`` and ``MessagingAdvice`` elements whose
  attributes are hyphenated in the examples we followed (``reference``, ``reason-code``,
  ``payer-name``, ``payer-sort-code``, ``payer-account-number``, ``payer-new-sort-code``,
  ``payer-new-account-number``, ``effective-date``, ``record-type``, ``transaction-code``).
  Attribute names are matched ignoring case, hyphens and underscores, so ``reasonCode`` and
  ``reason-code`` both work. The header's ``advice-type`` (``ADDACS``, ``AUDACC`` for an AUDDIS
  report that accepts a file, ``AUDREJ`` for one that rejects it) says which report it is
  (``report_kind``). A ``MessagingError`` with no text, or only ``"0"`` in its ``line1``…,
  means "no error": banks send ``<MessagingError/>`` in ADDACS and ``line1="0"`` in AUDACC.

Reason codes and what to do about them are tables in ``reason_codes`` (A1 of the domain
brief), re-exported here. ARUDD ``returnCode`` values are four-digit Bacs codes (for example
``1012`` with the description ``INSTRUCTION CANCELLED``); the one-character ARUDD reason is
taken from a ``reasonCode`` attribute when there is one, else from ``returnCode`` when it is
already one character, else from the description (``ARUDD_DESCRIPTION_REASONS``), else left
``None``.

A file that is not the report it should be raises ``ReportError`` naming the file and the
element. The files come from outside the council: they are read by
``borough.core.untrusted_xml`` (as bank statements are), which refuses a DTD and so any entity.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException

from borough.core.untrusted_xml import fromstring
from borough.housing.bacs.reason_codes import (
    ADDACS_REASONS,
    ARUDD_DESCRIPTION_REASONS,
    ARUDD_REASONS,
    AUDDIS_REASONS,
    Reason,
)

__all__ = [
    "ADDACS_REASONS",
    "ARUDD_DESCRIPTION_REASONS",
    "ARUDD_REASONS",
    "AUDDIS_REASONS",
    "AddacsReport",
    "AruddReport",
    "AuddisReport",
    "FileSummary",
    "InstructionRejection",
    "MandateAdvice",
    "Reason",
    "ReportError",
    "UnpaidItem",
    "parse_addacs",
    "parse_arudd",
    "parse_auddis",
    "report_kind",
]


class ReportError(ValueError):
    """A report that cannot be read: ``source`` (the file), ``element`` (where), ``message``."""

    def __init__(self, source: str, element: str, message: str) -> None:
        self.source = source
        self.element = element
        self.message = message
        super().__init__(f"{source}: {element}: {message}")


@dataclass(frozen=True)
class UnpaidItem:
    """One unpaid Direct Debit from an ARUDD report."""

    reference: str
    amount_pence: int
    return_code: str
    description: str
    original_processing_date: dt.date
    payer_sort_code: str
    payer_account: str
    payer_name: str = ""
    transaction_code: str = ""
    reason_code: str | None = None

    @property
    def reason(self) -> Reason | None:
        return ARUDD_REASONS.get(self.reason_code or "")


@dataclass(frozen=True)
class AruddReport:
    service_user_number: str
    processing_date: dt.date | None
    items: tuple[UnpaidItem, ...]

    @property
    def total_pence(self) -> int:
        return sum(item.amount_pence for item in self.items)


@dataclass(frozen=True)
class MandateAdvice:
    """One ADDACS advice: a change to, or the end of, an instruction."""

    reference: str
    reason_code: str
    effective_date: dt.date | None
    payer_name: str
    payer_sort_code: str
    payer_account: str
    new_sort_code: str | None = None
    new_account: str | None = None

    @property
    def reason(self) -> Reason | None:
        return ADDACS_REASONS.get(self.reason_code)

    @property
    def has_new_details(self) -> bool:
        return bool(self.new_sort_code and self.new_account)


@dataclass(frozen=True)
class AddacsReport:
    service_user_number: str
    processing_date: dt.date | None
    advices: tuple[MandateAdvice, ...]
    #: Text of ``MessagingError`` elements that say something (most ADDACS carry an empty one).
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class InstructionRejection:
    """One instruction the paying bank rejected, from an AUDDIS report."""

    reference: str
    reason_code: str
    payer_name: str
    payer_sort_code: str
    payer_account: str
    transaction_code: str = ""
    effective_date: dt.date | None = None

    @property
    def reason(self) -> Reason | None:
        return AUDDIS_REASONS.get(self.reason_code)


@dataclass(frozen=True)
class FileSummary:
    """An AUDDIS record about a whole file the council sent: ``record_type`` ``V`` (the file
    was accepted, though some instructions in it may be rejected) or ``R`` (the whole file was
    rejected). ``volume_serial`` is the file's VOL1 serial and ``file_number`` its UHL1 user
    file number, which tie the report to a run."""

    record_type: str
    volume_serial: str
    file_number: str
    processing_date: dt.date | None
    accepted: int | None
    rejected: int | None
    error_code: str
    rejected_file: bool


@dataclass(frozen=True)
class AuddisReport:
    service_user_number: str
    processing_date: dt.date | None
    rejections: tuple[InstructionRejection, ...]
    #: Why a whole file was rejected (the ``MessagingError`` text of an ``AUDREJ`` report).
    file_errors: tuple[str, ...] = ()
    #: The header's ``advice-type``: ``AUDACC``, ``AUDREJ``, ``AUDDIS`` or "" if absent.
    advice_type: str = ""
    files: tuple[FileSummary, ...] = ()
    #: ``MessagingError`` text in a report that rejects no file (kept for the officer).
    messages: tuple[str, ...] = ()


# --------------------------------------------------------------------------- helpers


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _key(name: str) -> str:
    return _local(name).replace("-", "").replace("_", "").lower()


class _Reader:
    def __init__(self, data: bytes | str, source: str, expected: str) -> None:
        self.source = source
        try:
            self.root = fromstring(data)
        except (ParseError, DefusedXmlException) as error:
            raise ReportError(source, "document", f"not well-formed XML ({error})") from error
        if _local(self.root.tag) != "BACSDocument":
            raise ReportError(
                source, _local(self.root.tag), f"expected a BACSDocument ({expected} report)"
            )

    def path(self, *names: str) -> list[Element]:
        """Elements under the root following ``names`` (local names)."""
        current = [self.root]
        for name in names:
            current = [
                child for element in current for child in element if _local(child.tag) == name
            ]
        return current

    def one(self, *names: str) -> Element:
        found = self.path(*names)
        if len(found) != 1:
            where = "/".join(("BACSDocument", *names))
            raise ReportError(
                self.source, where, "missing" if not found else f"found {len(found)}, expected 1"
            )
        return found[0]

    def attributes(self, element: Element) -> dict[str, str]:
        return {_key(name): (value or "").strip() for name, value in element.attrib.items()}

    def text(self, values: Mapping[str, str], where: str, name: str, required: bool = True) -> str:
        value = values.get(_key(name), "")
        if required and not value:
            raise ReportError(self.source, where, f"{name} is missing")
        return value

    def date(self, values: Mapping[str, str], where: str, name: str, required: bool = True):
        text = self.text(values, where, name, required)
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError as error:
            raise ReportError(self.source, where, f"{name} {text!r} is not a date") from error

    def pence(self, values: Mapping[str, str], where: str, name: str) -> int:
        text = self.text(values, where, name).replace(",", "")
        try:
            pounds = Decimal(text)
        except InvalidOperation as error:
            raise ReportError(self.source, where, f"{name} {text!r} is not an amount") from error
        pence = pounds * 100
        if pence != pence.to_integral_value() or pence < 0:
            raise ReportError(self.source, where, f"{name} {text!r} is not an amount in pounds")
        return int(pence)

    def sort_code(self, values: Mapping[str, str], where: str, name: str, required=True) -> str:
        text = self.text(values, where, name, required)
        if not text and not required:
            return ""
        digits = text.replace("-", "").replace(" ", "")
        if len(digits) != 6 or not digits.isdigit():
            raise ReportError(self.source, where, f"{name} {text!r} is not a sort code")
        return f"{digits[0:2]}-{digits[2:4]}-{digits[4:6]}"

    def account(self, values: Mapping[str, str], where: str, name: str, required=True) -> str:
        text = self.text(values, where, name, required)
        if not text and not required:
            return ""
        if not text.isdigit() or not 6 <= len(text) <= 10:
            raise ReportError(self.source, where, f"{name} {text!r} is not an account number")
        return text.zfill(8)


def _header(reader: _Reader, *names: str) -> dict[str, str]:
    found = reader.path(*names)
    return reader.attributes(found[0]) if found else {}


def _error_code(text: str) -> str:
    """A file error code, or "" for none (AUDACC reports say ``file-error-code="0"``)."""
    return "" if text.strip("0 ") == "" else text


def _count(values: Mapping[str, str], name: str) -> int | None:
    text = values.get(_key(name), "")
    return int(text) if text.isdigit() else None


def _reason_from_description(description: str) -> str | None:
    return ARUDD_DESCRIPTION_REASONS.get(" ".join(description.upper().split()))


# --------------------------------------------------------------------------- parsers


def parse_arudd(data: bytes | str, source: str = "ARUDD report") -> AruddReport:
    """The unpaid items of an ARUDD report; raises ``ReportError`` if it is malformed or its
    ``Totals`` disagree with its items."""
    reader = _Reader(data, source, "ARUDD")
    reader.one("Data", "ARUDD")
    header = _header(reader, "Data", "ARUDD", "Header")
    licence = _header(reader, "Data", "ARUDD", "ServiceLicenseInformation")
    records = reader.path(
        "Data", "ARUDD", "Advice", "OriginatingAccountRecords", "OriginatingAccountRecord"
    )
    items: list[UnpaidItem] = []
    for record_number, record in enumerate(records, start=1):
        record_items: list[UnpaidItem] = []
        returned = [child for child in record if _local(child.tag) == "ReturnedDebitItem"]
        for number, element in enumerate(returned, start=1):
            where = f"OriginatingAccountRecord {record_number}, ReturnedDebitItem {number}"
            values = reader.attributes(element)
            payers = [child for child in element if _local(child.tag) == "PayerAccount"]
            if len(payers) != 1:
                raise ReportError(source, where, "needs exactly one PayerAccount")
            payer = reader.attributes(payers[0])
            payer_where = f"{where}, PayerAccount"
            currency = values.get("currency", "GBP") or "GBP"
            if currency != "GBP":
                raise ReportError(source, where, f"currency {currency!r} is not GBP")
            return_code = reader.text(values, where, "returnCode")
            description = reader.text(values, where, "returnDescription", required=False)
            reason_code = values.get("reasoncode") or (
                return_code if return_code in ARUDD_REASONS else None
            )
            reason_code = reason_code or _reason_from_description(description)
            record_items.append(
                UnpaidItem(
                    reference=reader.text(values, where, "ref"),
                    amount_pence=reader.pence(values, where, "valueOf"),
                    return_code=return_code,
                    description=description,
                    original_processing_date=reader.date(values, where, "originalProcessingDate"),
                    payer_sort_code=reader.sort_code(payer, payer_where, "sortCode"),
                    payer_account=reader.account(payer, payer_where, "number"),
                    payer_name=payer.get("name", ""),
                    transaction_code=values.get("transcode", ""),
                    reason_code=reason_code,
                )
            )
        totals = [child for child in record if _local(child.tag) == "Totals"]
        if totals:
            where = f"OriginatingAccountRecord {record_number}, Totals"
            total_values = reader.attributes(totals[0])
            count_text = reader.text(total_values, where, "numberOf")
            if not count_text.isdigit() or int(count_text) != len(record_items):
                raise ReportError(
                    source, where, f"numberOf {count_text} but {len(record_items)} items"
                )
            total = reader.pence(total_values, where, "valueOf")
            if total != sum(item.amount_pence for item in record_items):
                raise ReportError(
                    source,
                    where,
                    f"valueOf is {total} pence but the items add up to "
                    f"{sum(item.amount_pence for item in record_items)}",
                )
        items.extend(record_items)
    return AruddReport(
        service_user_number=licence.get("usernumber", ""),
        processing_date=reader.date(header, "ARUDD Header", "currentProcessingDate", False),
        items=tuple(items),
    )


def _messaging(reader: _Reader) -> tuple[dict[str, str], list[Element]]:
    reader.one("Data", "MessagingAdvices")
    header = _header(reader, "Data", "MessagingAdvices", "MessagingHeader")
    return header, reader.path("Data", "MessagingAdvices", "MessagingAdvice")


def _report_date(reader: _Reader, header: Mapping[str, str]) -> dt.date | None:
    """The report's day: ``currentProcessingDate`` as in the examples we followed, else the
    ``report-generation-date`` that banks' reports carry."""
    for name in ("currentProcessingDate", "report-generation-date"):
        day = reader.date(header, "MessagingHeader", name, required=False)
        if day is not None:
            return day
    return None


#: ``MessagingError`` values that mean "no error" (AUDACC reports carry ``line1="0"``).
_NO_ERROR = ("", "0")


def _messaging_errors(reader: _Reader) -> tuple[str, ...]:
    """The text of each ``MessagingError`` that says something: its ``line1``, ``line2``…
    attributes in order, or its own text; an empty element or one of zeros is no error."""
    texts = []
    for element in reader.path("Data", "MessagingAdvices", "MessagingError"):
        lines = [
            value.strip()
            for name, value in sorted(element.attrib.items())
            if _key(name).startswith("line") and value.strip() not in _NO_ERROR
        ]
        text = " ".join(lines) or (element.text or "").strip()
        if text not in _NO_ERROR:
            texts.append(text)
    return tuple(texts)


#: ``advice-type`` values of the reports parsed here; ``AUDACC`` and ``AUDREJ`` are the AUDDIS
#: reports that accept and reject a file.
ADVICE_TYPES: Mapping[str, str] = MappingProxyType(
    {"ADDACS": "ADDACS", "AUDDIS": "AUDDIS", "AUDACC": "AUDDIS", "AUDREJ": "AUDDIS"}
)


def report_kind(data: bytes | str, source: str = "report") -> str:
    """``"ARUDD"``, ``"ADDACS"`` or ``"AUDDIS"``. A messaging report is known by its header's
    ``advice-type``; without one, by its records (``record-type="A"`` is ADDACS, any other
    AUDDIS). Raises ``ReportError`` for a document that is none of these, naming what it is."""
    reader = _Reader(data, source, "ARUDD, ADDACS or AUDDIS")
    reports = [child for data_element in reader.path("Data") for child in data_element]
    if not reports:
        raise ReportError(source, "BACSDocument/Data", "has no report in it")
    name = _local(reports[0].tag)
    if name == "ARUDD":
        return "ARUDD"
    if name != "MessagingAdvices":
        raise ReportError(
            source,
            f"BACSDocument/Data/{name}",
            f"this is a Bacs {name}, not an ARUDD, ADDACS or AUDDIS report, which are the "
            "reports Borough reads",
        )
    header = _header(reader, "Data", "MessagingAdvices", "MessagingHeader")
    advice_type = header.get("advicetype", "").upper()
    if advice_type:
        if advice_type not in ADVICE_TYPES:
            raise ReportError(
                source,
                "MessagingHeader",
                f"advice-type {advice_type!r} is not a report Borough reads "
                f"({', '.join(ADVICE_TYPES)})",
            )
        return ADVICE_TYPES[advice_type]
    record_types = {
        reader.attributes(element).get("recordtype", "").upper()
        for element in reader.path("Data", "MessagingAdvices", "MessagingAdvice")
    }
    if record_types == {"A"}:
        return "ADDACS"
    if "A" not in record_types and (record_types or _messaging_errors(reader)):
        return "AUDDIS"
    raise ReportError(
        source, "MessagingAdvices", "cannot tell whether this is an ADDACS or an AUDDIS report"
    )


def parse_addacs(data: bytes | str, source: str = "ADDACS report") -> AddacsReport:
    """The advices of an ADDACS report; raises ``ReportError`` if it is malformed."""
    reader = _Reader(data, source, "ADDACS")
    header, elements = _messaging(reader)
    advices: list[MandateAdvice] = []
    for number, element in enumerate(elements, start=1):
        where = f"MessagingAdvice {number}"
        values = reader.attributes(element)
        record_type = values.get("recordtype", "A")
        if record_type != "A":
            raise ReportError(source, where, f"record-type {record_type!r} is not an ADDACS 'A'")
        reason_code = reader.text(values, where, "reason-code").upper()
        if reason_code not in ADDACS_REASONS:
            raise ReportError(source, where, f"reason-code {reason_code!r} is not an ADDACS code")
        new_sort_code = reader.sort_code(values, where, "payer-new-sort-code", required=False)
        new_account = reader.account(values, where, "payer-new-account-number", required=False)
        advices.append(
            MandateAdvice(
                reference=reader.text(values, where, "reference"),
                reason_code=reason_code,
                effective_date=reader.date(values, where, "effective-date", required=False),
                payer_name=values.get("payername", ""),
                payer_sort_code=reader.sort_code(values, where, "payer-sort-code"),
                payer_account=reader.account(values, where, "payer-account-number"),
                new_sort_code=new_sort_code or None,
                new_account=new_account or None,
            )
        )
    return AddacsReport(
        service_user_number=header.get("usernumber", ""),
        processing_date=_report_date(reader, header),
        advices=tuple(advices),
        messages=_messaging_errors(reader),
    )


#: AUDDIS ``record-type`` values that carry a rejected instruction.
AUDDIS_REJECTION_RECORD_TYPES = ("N", "D")
#: AUDDIS ``record-type`` values about a whole file: accepted (``V``) or rejected (``R``).
AUDDIS_FILE_RECORD_TYPES = ("V", "R")


def parse_auddis(data: bytes | str, source: str = "AUDDIS report") -> AuddisReport:
    """The rejected instructions of an AUDDIS report, its summary of each file (accepted or
    rejected whole) and, for a rejected file, the bank's reason; raises ``ReportError`` if it
    is malformed. An acceptance (``AUDACC``) has no file errors, whatever placeholder its
    ``MessagingError`` carries."""
    reader = _Reader(data, source, "AUDDIS")
    header, elements = _messaging(reader)
    advice_type = header.get("advicetype", "").upper()
    rejections: list[InstructionRejection] = []
    files: list[FileSummary] = []
    for number, element in enumerate(elements, start=1):
        where = f"MessagingAdvice {number}"
        values = reader.attributes(element)
        record_type = values.get("recordtype", "").upper()
        if record_type in AUDDIS_FILE_RECORD_TYPES:
            files.append(
                FileSummary(
                    record_type=record_type,
                    volume_serial=values.get("volserialnumber", ""),
                    file_number=values.get("originatorfilenumber", ""),
                    processing_date=reader.date(values, where, "processing-date", False),
                    accepted=_count(values, "accepted-ddi"),
                    rejected=_count(values, "rejected-ddi"),
                    error_code=_error_code(values.get("fileerrorcode", "")),
                    rejected_file=record_type == "R" or advice_type == "AUDREJ",
                )
            )
            continue
        if record_type and record_type not in AUDDIS_REJECTION_RECORD_TYPES:
            continue
        if not record_type and "reasoncode" not in values:
            continue
        reason_code = reader.text(values, where, "reason-code").upper()
        if reason_code not in AUDDIS_REASONS:
            raise ReportError(source, where, f"reason-code {reason_code!r} is not an AUDDIS code")
        rejections.append(
            InstructionRejection(
                reference=reader.text(values, where, "reference"),
                reason_code=reason_code,
                payer_name=values.get("payername", ""),
                payer_sort_code=reader.sort_code(values, where, "payer-sort-code", False),
                payer_account=reader.account(values, where, "payer-account-number", False),
                transaction_code=values.get("transactioncode", ""),
                effective_date=reader.date(values, where, "effective-date", required=False),
            )
        )
    messages = _messaging_errors(reader)
    # An error is a whole-file rejection only in a report that rejects a file (AUDREJ, or an
    # "R" record); one with neither but with an error and no instructions is read the same way.
    rejects_a_file = any(summary.rejected_file for summary in files) or (
        advice_type in ("", "AUDDIS", "AUDREJ") and not files and not rejections
    )
    return AuddisReport(
        service_user_number=header.get("usernumber", ""),
        processing_date=_report_date(reader, header),
        rejections=tuple(rejections),
        file_errors=messages if rejects_a_file else (),
        advice_type=advice_type,
        files=tuple(files),
        messages=() if rejects_a_file else messages,
    )
