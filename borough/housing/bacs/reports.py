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
  ``reason-code`` both work.

Reason codes and what to do about them are tables below (A1 of the domain brief), as data. ARUDD
``returnCode`` values are four-digit Bacs codes (for example ``1012`` with the description
``INSTRUCTION CANCELLED``); the one-character ARUDD reason is taken from a ``reasonCode``
attribute when there is one, else from ``returnCode`` when it is already one character, else
from the description (``ARUDD_DESCRIPTION_REASONS``), else left ``None``.

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


@dataclass(frozen=True)
class Reason:
    code: str
    meaning: str
    action: str


def _table(*rows: tuple[str, str, str]) -> Mapping[str, Reason]:
    return MappingProxyType({code: Reason(code, meaning, action) for code, meaning, action in rows})


#: ARUDD reason codes (A1).
ARUDD_REASONS = _table(
    (
        "0",
        "Refer to payer",
        "Re-present (code 18) within 1 month of the original processing day; tell the "
        "payer about 5 working days before",
    ),
    ("1", "Instruction cancelled", "Mark the instruction cancelled; agree another way to pay"),
    ("2", "Payer deceased", "Cancel; start the bereavement process"),
    ("3", "Account transferred", "Suspend; get a new instruction unless new details arrived"),
    ("4", "Advance notice disputed", "Stop collecting until it is resolved"),
    ("5", "No account (or wrong account type)", "Cancel; get a new instruction"),
    ("6", "No instruction", "Re-lodge (0N) or get a new instruction"),
    ("7", "Amount differs", "Fix the amount or the advance notice"),
    ("8", "Amount not yet due", "Fix the date or the advance notice"),
    ("9", "Presentation overdue", "Collected too late (over 1 month); notify again"),
    ("A", "Service user differs", "Check the SUN and the reference"),
    ("B", "Account closed", "Cancel; get a new instruction"),
)

#: ARUDD ``returnDescription`` → reason code, for files whose ``returnCode`` is a four-digit
#: Bacs code. Matched on the upper-cased description with spaces collapsed.
ARUDD_DESCRIPTION_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "REFER TO PAYER": "0",
        "INSTRUCTION CANCELLED": "1",
        "PAYER DECEASED": "2",
        "ACCOUNT TRANSFERRED": "3",
        "ADVANCE NOTICE DISPUTED": "4",
        "NO ACCOUNT": "5",
        "NO INSTRUCTION": "6",
        "AMOUNT DIFFERS": "7",
        "AMOUNT NOT YET DUE": "8",
        "PRESENTATION OVERDUE": "9",
        "SERVICE USER DIFFERS": "A",
        "ORIGINATOR DIFFERS": "A",
        "ACCOUNT CLOSED": "B",
    }
)

#: ADDACS reason codes (A1).
ADDACS_REASONS = _table(
    (
        "0",
        "Instruction cancelled by the bank: refer to payer",
        "Cancel; a new instruction is needed for another account",
    ),
    (
        "1",
        "Instruction cancelled by the payer",
        "Cancel; arrange another way to pay; chase arrears",
    ),
    ("2", "Payer deceased", "Cancel"),
    (
        "3",
        "Account transferred to a new bank",
        "With new details: update and send 0N for the new account (no 0C to the old bank). "
        "Old details only: suspend and get a new instruction",
    ),
    ("B", "Account closed", "Cancel; get a new instruction"),
    (
        "C",
        "Account transferred to another branch, new details supplied",
        "Update the bank details and keep collecting; no 0C/0N pair",
    ),
    ("D", "Advance notice disputed", "Stop collecting until it is resolved"),
    ("E", "Instruction amended", "Update and keep collecting; no 0C/0N pair"),
    ("R", "Instruction reinstated", "Reactivate the instruction"),
)

#: AUDDIS rejection codes (A1): 1, 2, 3, B and C mean what they mean in ADDACS.
AUDDIS_REASONS = _table(
    ("1", "Instruction cancelled by the payer", "Cancel; arrange another way to pay"),
    ("2", "Payer deceased", "Cancel"),
    ("3", "Account transferred", "Get the new details and lodge a new instruction"),
    ("5", "No account", "Check the details with the payer; new instruction"),
    ("6", "No instruction", "Lodge a new instruction"),
    ("B", "Account closed", "Get a new instruction for another account"),
    ("C", "Account transferred to another branch", "Update the bank details and re-lodge"),
    ("F", "Invalid account type", "Ask the payer for an account that takes Direct Debits"),
    ("G", "Bank will not accept Direct Debits on this account", "Ask for another account"),
    ("H", "Instruction has expired", "Get a new instruction"),
    ("I", "Payer reference is not unique", "Give the instruction a unique reference"),
    ("K", "Instruction cancelled by the bank", "Get a new instruction"),
    ("L", "Incorrect payer's account details", "Check the details with the payer"),
    ("M", "Transaction code / user status incompatible", "Check with the sponsoring bank"),
    ("N", "Transaction disallowed at the payer's branch", "Ask for another account"),
    ("O", "Invalid reference", "Fix the reference and re-lodge"),
    ("P", "Payer's name not present", "Add the payer's name and re-lodge"),
    ("Q", "Service user name is blank", "Fix the council's name in the file"),
)


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
class AuddisReport:
    service_user_number: str
    processing_date: dt.date | None
    rejections: tuple[InstructionRejection, ...]
    #: Whole-file errors (``MessagingError`` elements), as their text.
    file_errors: tuple[str, ...] = ()


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
        processing_date=reader.date(header, "MessagingHeader", "currentProcessingDate", False),
        advices=tuple(advices),
    )


#: AUDDIS ``record-type`` values that carry a rejected instruction; others ("V", "R") are
#: file-level summaries.
AUDDIS_REJECTION_RECORD_TYPES = ("N", "D")


def parse_auddis(data: bytes | str, source: str = "AUDDIS report") -> AuddisReport:
    """The rejected instructions (and whole-file errors) of an AUDDIS report; raises
    ``ReportError`` if it is malformed."""
    reader = _Reader(data, source, "AUDDIS")
    header, elements = _messaging(reader)
    rejections: list[InstructionRejection] = []
    for number, element in enumerate(elements, start=1):
        where = f"MessagingAdvice {number}"
        values = reader.attributes(element)
        record_type = values.get("recordtype", "")
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
    errors = tuple(
        " ".join(
            value.strip()
            for name, value in sorted(element.attrib.items())
            if _key(name).startswith("line") and value.strip()
        )
        or (element.text or "").strip()
        for element in reader.path("Data", "MessagingAdvices", "MessagingError")
    )
    return AuddisReport(
        service_user_number=header.get("usernumber", ""),
        processing_date=reader.date(header, "MessagingHeader", "currentProcessingDate", False),
        rejections=tuple(rejections),
        file_errors=errors,
    )
