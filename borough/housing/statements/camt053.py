"""ISO 20022 camt.053 (bank-to-customer statement), read in one streaming pass.

The file is read with ``borough.core.untrusted_xml.iterparse`` (DTDs and entities refused): the
statement's header (``Id``, ``Acct``, ``Bal``) is read when its first ``<Ntry>`` starts, and each
entry is read, checked and dropped from the tree when it ends, so memory holds the checked lines,
never the document. Any camt.053 version (001.02 to 001.13) is read the same way: elements are
found by their local names under the document's own namespace.

An entry (``<Ntry>``) is one payment unless its transaction details say otherwise (ISO 20022
batch booking): several ``<TxDtls>`` with no amount of their own are one payment of the entry's
amount; ``<TxDtls>`` that each give an amount (``TxDtls/Amt``, or ``AmtDtls/TxAmt/Amt``) are one
payment each, and must add up to the entry.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException

from borough.core import untrusted_xml

from .models import (
    RawLine,
    Statement,
    StatementBuilder,
    StatementError,
    clean_bank_ref,
    pounds,
    sort_code_and_account_from_iban,
)
from .source import Opened

NAMESPACE_MARK = "camt.053"

#: Leaves of an element, by path of local names: {"RmtInf/Ustrd": [(text, Ccy), ...]}.
Leaves = dict[str, list[tuple[str | None, str | None]]]

#: The leaves read from a statement, an entry and a transaction detail (by path below it).
_WANTED = (
    "Id", "Acct/Id/IBAN", "Acct/Id/Othr/Id", "Acct/Ccy", "FrToDt/FrDtTm", "FrToDt/ToDtTm",
    "Tp/CdOrPrtry/Cd", "Tp/CdOrPrtry/Prtry", "Amt", "CdtDbtInd", "Sts", "Sts/Cd",
    "BookgDt/Dt", "BookgDt/DtTm", "ValDt/Dt", "ValDt/DtTm", "AcctSvcrRef", "AddtlNtryInf",
    "BkTxCd/Domn/Cd", "BkTxCd/Domn/Fmly/Cd", "BkTxCd/Domn/Fmly/SubFmlyCd",
    "Refs/EndToEndId", "Refs/AcctSvcrRef", "AmtDtls/TxAmt/Amt", "RltdPties/Dbtr/Nm",
    "RltdPties/Dbtr/Pty/Nm", "RltdPties/DbtrAcct/Id/IBAN", "RmtInf/Ustrd",
    "RmtInf/Strd/CdtrRefInf/Ref", "RvslInd",
)  # fmt: skip

_AMOUNTS = frozenset(path for path in _WANTED if path.endswith("Amt"))

#: A branch of the walk: {full tag: a leaf's path, or a deeper branch}; a branch's "" key is
#: its own path when the element may also be a leaf (<Sts>BOOK</Sts> or <Sts><Cd>BOOK</Cd>).
Schema = dict[str, "str | Schema"]


@functools.lru_cache(maxsize=8)
def _schema(namespace: str) -> Schema:
    """The walk's map of the wanted paths, by full tag in ``namespace`` ("{urn:…}" or "")."""
    root: Schema = {}
    for path in _WANTED:
        node = root
        parts = path.split("/")
        for depth, part in enumerate(parts, start=1):
            tag = namespace + part
            if depth == len(parts):
                if isinstance(node.get(tag), dict):
                    node[tag][""] = path  # type: ignore[index]
                else:
                    node[tag] = path
            else:
                branch = node.get(tag)
                if not isinstance(branch, dict):
                    branch = node[tag] = {"": branch} if branch else {}
                node = branch
    return root


def _collect(element, schema: Schema, out: Leaves) -> None:
    """Record ``element``'s wanted leaves in ``out``, skipping every branch that holds none
    (addresses, the creditor, agents...): a statement's entries are mostly such branches, and
    most of a large file's reading time is spent here."""
    for child in element:
        found = schema.get(child.tag)  # type: ignore[arg-type]
        if found is None:
            continue
        if type(found) is dict:
            if len(child):
                _collect(child, found, out)
                continue
            found = found.get("")
            if found is None:
                continue
        # only an amount's currency is read: an attribute look-up per leaf adds up
        currency = child.get("Ccy") if found in _AMOUNTS else None
        out.setdefault(found, []).append((child.text, currency))  # type: ignore[arg-type]


def _text(leaves: Leaves, *paths: str) -> str | None:
    for path in paths:
        for text, _ in leaves.get(path, ()):
            if text and text.strip():
                return text.strip()
    return None


def _amount(leaves: Leaves, *paths: str) -> tuple[str, str | None] | None:
    for path in paths:
        found = leaves.get(path)
        if found:
            text, currency = found[0]
            return (text or "").strip(), currency
    return None


def _date(text: str | None, *, builder: StatementBuilder, where: str) -> dt.date | None:
    if not text:
        return None
    try:
        # <Dt> is a date, <DtTm> a date and time; the booking day is what matters.
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise builder.error(where, f"date {text!r} is not a date") from None


def _signed(text: str, indicator: str | None, *, builder: StatementBuilder, where: str) -> Decimal:
    if indicator not in ("CRDT", "DBIT"):
        raise builder.error(where, "no credit/debit indicator")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise builder.error(where, f"amount {text!r} is not a number") from None
    if not value.is_finite():
        raise builder.error(where, f"amount {text!r} is not a number")
    return -value if indicator == "DBIT" else value


class _Header:
    """What the statement says about itself: read from ``<Stmt>`` before its first entry."""

    def __init__(
        self, stmt, namespace: str, builder: StatementBuilder, required: str | None
    ) -> None:
        schema = _schema(namespace)
        leaves: Leaves = {}
        _collect(stmt, schema, leaves)  # <Bal> and <Ntry> are not in the schema: skipped
        balances: list[Leaves] = []
        for element in stmt.iterchildren(namespace + "Bal"):
            balance: Leaves = {}
            _collect(element, schema, balance)
            balances.append(balance)
        self.statement_id = _text(leaves, "Id")
        self.account = _text(leaves, "Acct/Id/IBAN", "Acct/Id/Othr/Id")
        self.currency = (_text(leaves, "Acct/Ccy") or "").upper() or None
        self.period_from = _date(_text(leaves, "FrToDt/FrDtTm"), builder=builder, where="period")
        self.period_to = _date(_text(leaves, "FrToDt/ToDtTm"), builder=builder, where="period")
        if required and self.currency and self.currency != required:
            raise builder.error(
                "", f"the account is in {self.currency}, but only {required} is accepted"
            )
        found: dict[str, Decimal] = {}
        for balance in balances:
            code = _text(balance, "Tp/CdOrPrtry/Cd", "Tp/CdOrPrtry/Prtry")
            amount = _amount(balance, "Amt")
            if code not in ("OPBD", "PRCD", "CLBD") or amount is None or code in found:
                continue
            label = {"OPBD": "opening", "PRCD": "opening", "CLBD": "closing"}[code]
            where = f"{label} balance ({code})"
            if required and amount[1] and amount[1].upper() != required:
                raise builder.error(
                    where, f"in {amount[1]}, but only {required} is accepted on this account"
                )
            indicator = _text(balance, "CdtDbtInd") or "CRDT"
            found[code] = _signed(amount[0], indicator, builder=builder, where=where)
        # The opening booked balance; a bank that gives only the previous day's closing (PRCD)
        # means the same amount.
        self.opening = found.get("OPBD", found.get("PRCD"))
        self.closing = found.get("CLBD")


class _Entries:
    """Turns each ``<Ntry>`` into its payments (see the module's rules on batch bookings)."""

    def __init__(self, builder: StatementBuilder, header: _Header, namespace: str) -> None:
        self.builder = builder
        self.header = header
        self.schema = _schema(namespace)
        self.entry_tag = namespace + "Ntry"
        self.details_tag = namespace + "NtryDtls"
        self.detail_tag = namespace + "TxDtls"
        self.count = 0

    def add(self, entry) -> None:
        self.count += 1
        builder, schema = self.builder, self.schema
        leaves: Leaves = {}
        _collect(entry, schema, leaves)  # <NtryDtls> is not in the schema: read below
        details: list[Leaves] = []
        for group in entry.iterchildren(self.details_tag):
            for element in group.iterchildren(self.detail_tag):
                detail: Leaves = {}
                _collect(element, schema, detail)
                details.append(detail)
        first = details[0] if details else {}
        entry_ref = _text(leaves, "AcctSvcrRef") or _text(first, "Refs/AcctSvcrRef")
        label = clean_bank_ref(entry_ref)
        where = f"entry {self.count}" + (f" ({label})" if label else "")
        status = _text(leaves, "Sts", "Sts/Cd")
        if status not in (None, "BOOK"):
            raise builder.error(where, f"status {status}, not a booked entry")
        amount = _amount(leaves, "Amt")
        indicator = _text(leaves, "CdtDbtInd")
        signed = None
        if amount is not None and amount[0]:
            signed = _signed(amount[0], indicator, builder=builder, where=where)
        currency = (amount[1] if amount else None) or self.header.currency
        booking = _date(_text(leaves, "BookgDt/Dt", "BookgDt/DtTm"), builder=builder, where=where)
        value = _date(_text(leaves, "ValDt/Dt", "ValDt/DtTm"), builder=builder, where=where)
        codes = [
            _text(leaves, path) or _text(first, path)
            for path in ("BkTxCd/Domn/Cd", "BkTxCd/Domn/Fmly/Cd", "BkTxCd/Domn/Fmly/SubFmlyCd")
        ]
        common = {
            "booking_date": booking,
            "value_date": value,
            "currency": currency,
            "bank_tx_code": "/".join(code for code in codes if code) or None,
            "reversal": (_text(leaves, "RvslInd") or "").lower() in ("true", "1"),
        }
        # One detail: the entry's amount is the payment (a detail's own amount may be before
        # charges). Several: their own amounts, when each has one, split the entry.
        own = (
            [self._detail_amount(detail, indicator, currency, where) for detail in details]
            if len(details) > 1
            else []
        )
        if own and all(part is not None for part in own):
            total = sum(own, Decimal(0))  # type: ignore[arg-type]
            if signed is not None and total != signed:
                raise builder.error(
                    where,
                    f"its {len(details)} transaction details add up to "
                    f"{pounds(_pence(total))}, but the entry is {pounds(_pence(signed))}",
                )
            for number, (detail, part) in enumerate(zip(details, own, strict=True), start=1):
                builder.add(
                    self._line(f"{where}, transaction {number}", part, entry_ref, detail, common)
                )
            return
        if any(part is not None for part in own):
            raise builder.error(
                where,
                "some transaction details give an amount and some do not, so the entry "
                "cannot be split into payments",
            )
        if len(details) > 1:
            # One batch payment: every detail's words, and the payer only if all agree.
            merged: Leaves = {
                "RmtInf/Ustrd": [(words, {}) for words in map(self._reference, details) if words]
            }
            for path in ("RltdPties/Dbtr/Nm", "RltdPties/DbtrAcct/Id/IBAN"):
                values = {
                    _text(detail, path, path.replace("Dbtr/Nm", "Dbtr/Pty/Nm"))
                    for detail in details
                }
                if len(values) == 1:
                    merged[path] = [(values.pop(), {})]
            first = merged
        builder.add(
            self._line(
                where,
                signed,
                entry_ref,
                first,
                common,
                end_to_end=len(details) == 1,
                entry_text=_text(leaves, "AddtlNtryInf"),
            )
        )

    def _detail_amount(self, detail: Leaves, indicator, currency, where) -> Decimal | None:
        found = _amount(detail, "Amt", "AmtDtls/TxAmt/Amt")
        if found is None or not found[0]:
            return None
        if found[1] and currency and found[1].upper() != currency.upper():
            raise self.builder.error(
                where, f"a transaction detail is in {found[1]}, but the entry is in {currency}"
            )
        own_indicator = _text(detail, "CdtDbtInd") or indicator
        return _signed(found[0], own_indicator, builder=self.builder, where=where)

    @staticmethod
    def _reference(detail: Leaves) -> str | None:
        words = [
            text.strip() for text, _ in detail.get("RmtInf/Ustrd", ()) if text and text.strip()
        ]
        return " ".join(words) or _text(detail, "RmtInf/Strd/CdtrRefInf/Ref")

    def _line(
        self,
        where: str,
        amount: Decimal | None,
        entry_ref: str | None,
        detail: Leaves,
        common: dict,
        *,
        end_to_end: bool = True,
        entry_text: str | None = None,
    ) -> RawLine:
        refs = [clean_bank_ref(entry_ref)]
        if end_to_end:
            refs.append(clean_bank_ref(_text(detail, "Refs/EndToEndId")))
        sort_code, account = sort_code_and_account_from_iban(
            _text(detail, "RltdPties/DbtrAcct/Id/IBAN")
        )
        return RawLine(
            where=where,
            amount=amount,
            reference=self._reference(detail) or entry_text,
            payer_name=_text(detail, "RltdPties/Dbtr/Nm", "RltdPties/Dbtr/Pty/Nm"),
            payer_sort_code=sort_code,
            payer_account=account,
            bank_ref="/".join(ref for ref in refs if ref) or None,
            **common,
        )


def _pence(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def parse_camt053(opened: Opened, *, currency: str | None = "GBP") -> Statement:
    """Read one camt.053 statement in one pass (see the module's rules)."""
    source = opened.source
    builder = StatementBuilder(source=source, format="camt.053", currency=currency)
    declared: str | None = None  # the first camt namespace the document declares
    statements = 0
    header: _Header | None = None
    entries: _Entries | None = None
    try:
        # Only the ends of <Stmt> and <Ntry>: by the first entry's end its statement's header
        # (Id, Acct, Bal) is complete and still in the tree.
        events = untrusted_xml.iterparse(
            opened.stream, events=("start-ns", "end"), tag=("{*}Stmt", "{*}Ntry")
        )
        for event, item in events:
            if event == "start-ns":
                if "camt." in item[1]:
                    declared = declared or item[1]
                continue
            tag = item.tag
            if entries is None or tag != entries.entry_tag:
                namespace = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
                if tag == namespace + "Stmt":
                    statements += 1
                    _check_namespace(namespace.strip("{}"), source)
                    if header is None:  # a statement with no entries
                        header = _Header(item, namespace, builder, currency)
                    continue
            if statements == 0:
                if header is None:
                    parent = item.getparent()
                    _check_namespace(namespace.strip("{}"), source)
                    if parent is None or parent.tag != namespace + "Stmt":
                        raise StatementError(f"{source}: an entry (<Ntry>) outside a <Stmt>")
                    header = _Header(parent, namespace, builder, currency)
                    entries = _Entries(builder, header, namespace)
                assert entries is not None
                entries.add(item)
                if entries.count % 1000 == 0:
                    opened.report()
            # Done with this entry (or one of a second statement, refused below): drop it and
            # the entries before it from the tree.
            item.clear()
            parent, previous = item.getparent(), item.getprevious()
            while previous is not None and previous.tag == tag:
                parent.remove(previous)
                previous = item.getprevious()
    except DefusedXmlException as error:
        raise StatementError(
            f"{source}: has a DTD ({type(error).__name__}: {error}); a bank statement may not "
            "declare a DTD or entities, so it was not read"
        ) from None
    except ParseError as error:
        raise StatementError(f"{source}: not well-formed XML: {error}") from None
    opened.report(force=True)
    if statements == 0:
        raise StatementError(
            f"{source}: not a statement format Borough reads: XML, but not a camt.053 "
            f"statement (no <Stmt> in a camt.053 document{_namespace_note(declared)})"
        )
    if statements > 1:
        raise StatementError(
            f"{source}: holds {statements} statements; import one statement (one <Stmt>) per file"
        )
    assert header is not None
    return builder.finish(
        account=header.account,
        statement_id=header.statement_id,
        period_from=header.period_from,
        period_to=header.period_to,
        opening=header.opening,
        closing=header.closing,
    )


def _namespace_note(namespace: str | None) -> str:
    return f"; its namespace is {namespace}" if namespace else ""


def _check_namespace(namespace: str, source: str) -> None:
    if NAMESPACE_MARK not in namespace:
        raise StatementError(
            f"{source}: not a statement format Borough reads: XML, but not a camt.053 "
            f"statement{_namespace_note(namespace) or ' (no namespace)'}"
        )
