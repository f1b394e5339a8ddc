"""The reports a Bacs bureau sends back, applied to mandates and the rent ledger
(``import_bacs_report``; parsing is in ``bacs/reports.py``). The rules:

- A report is ARUDD, ADDACS or AUDDIS, known from its document (``reports.report_kind``: the
  ``advice-type`` of a messaging report). Anything else, a file that does not parse, totals that
  disagree or another council's SUN is refused whole with a message that ends "Nothing was
  changed"; everything else is applied in one transaction.
- ARUDD unpaid items reverse their collection (RDN), ADDACS advices cancel, suspend, reinstate
  or change a mandate's bank details, AUDDIS rejections fail the instruction. Each item is
  applied once (a ``MandateEvent`` source key) and an unknown reference is reported, not
  guessed.
- AUDDIS summaries of whole files are tied to the run by the file's serial number: an
  acceptance (``AUDACC``) is reported as such and changes nothing; a whole-file rejection
  (``AUDREJ``) is listed for the officer with the bank's reason, and nothing is undone.
- Every outcome says what was changed, or that nothing was (``ReportOutcome.summary``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from borough.housing import accounts, bank_details, services
from borough.housing.bacs import calendar as bacs_calendar
from borough.housing.bacs import reports
from borough.housing.direct_debit import (
    LIVE,
    REPRESENT_CODE,
    REPRESENT_NOTICE_WORKING_DAYS,
    REPRESENT_WITHIN_DAYS,
    ReportRefused,
    Status,
    _day,
    _end,
    _notify,
    _recorded,
    _set_status,
    live_mandate,
)
from borough.housing.models import BacsRun, Collection, Mandate, MandateEvent
from borough.transparency.models import Action


@dataclass
class ReportOutcome:
    """What an import did, item by item, in plain words."""

    kind: str  # "ARUDD", "ADDACS" or "AUDDIS"
    source: str
    applied: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Files the bank accepted (AUDDIS ``AUDACC`` summaries), one line each.
    accepted: list[str] = field(default_factory=list)
    #: Short phrases for the summary about whole files: "the bank accepted file 000010".
    files: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether the import changed anything: only applied items do."""
        return bool(self.applied)

    def summary(self) -> str:
        """One sentence saying what changed, or that nothing was changed."""
        parts = []
        if self.applied:
            parts.append(_count(len(self.applied), "change") + " made")
        parts += self.files
        if self.already:
            parts.append(f"{len(self.already)} already applied")
        if self.unknown:
            parts.append(f"{len(self.unknown)} not recognised (nothing done)")
        said = ", ".join(parts) or "nothing in it to apply"
        ending = "." if self.changed else ". Nothing was changed."
        return f"{self.kind} report {self.source}: {said}{ending}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def detect_report(data: bytes | str, source: str = "report") -> str:
    """ "ARUDD", "ADDACS" or "AUDDIS", from the document (``reports.report_kind``); anything
    else is refused with a message that names the file and says nothing was changed."""
    try:
        return reports.report_kind(data, source)
    except reports.ReportError as error:
        raise ReportRefused(f"{error}. Nothing was changed") from None


def import_bacs_report(
    path_or_bytes: str | Path | bytes, *, created_by=None, source: str = ""
) -> ReportOutcome:
    """Apply an ARUDD, ADDACS or AUDDIS report (detected from the file), all or nothing."""
    if isinstance(path_or_bytes, bytes):
        data = path_or_bytes
        source = source or "the report"
    else:
        path = Path(path_or_bytes)
        source = source or path.name
        try:
            data = path.read_bytes()
        except OSError as error:
            raise ReportRefused(f"{source}: cannot be read ({error.strerror})") from None
    kind = detect_report(data, source)
    try:
        parsed = {
            "ARUDD": reports.parse_arudd,
            "ADDACS": reports.parse_addacs,
            "AUDDIS": reports.parse_auddis,
        }[kind](data, source=source)
    except reports.ReportError as error:
        raise ReportRefused(f"{error}. Nothing was changed") from None
    sun = parsed.service_user_number
    if sun and sun != settings.BOROUGH_BACS_SUN:
        raise ReportRefused(
            f"{source}: the report is for service user {sun}, not this council's "
            f"({settings.BOROUGH_BACS_SUN}). Nothing was changed"
        )
    outcome = ReportOutcome(kind, source)
    today = timezone.localdate()
    with transaction.atomic():
        before = MandateEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        if kind == "ARUDD":
            _apply_arudd(parsed, outcome, created_by, today)
        elif kind == "ADDACS":
            _apply_addacs(parsed, outcome, created_by, today)
        else:
            _apply_auddis(parsed, outcome, created_by, today)
        # every payer whose mandate the report changed: one action, per batch
        accounts.record_tenants_use(
            MandateEvent.objects.filter(pk__gt=before).values("mandate__account__tenancy_id"),
            created_by,
            purpose="housing_direct_debit_collection",
            action=Action.UPDATED_RECORDS,
            reference=f"bacs-report-{kind.lower()}-{before}",
            label="Borough Direct Debit reports",
        )
    return outcome


def _mandate(reference: str) -> Mandate | None:
    return (
        Mandate.objects.select_for_update()
        .filter(reference=reference.strip().upper())
        .select_related("account")
        .first()
    )


#: ARUDD reason → what becomes of the mandate (A1). Codes not listed leave it as it is.
ARUDD_MANDATE_ACTIONS = {
    "1": Status.CANCELLED,
    "2": Status.CANCELLED,
    "5": Status.CANCELLED,
    "B": Status.CANCELLED,
    "6": Status.FAILED,
    "3": Status.SUSPENDED,
    "4": Status.SUSPENDED,
}


def _apply_arudd(report, outcome: ReportOutcome, by, today: dt.date) -> None:
    posted_on = report.processing_date or today
    for item in report.items:
        label = f"{item.reference} {accounts.pounds(item.amount_pence)} of {item.original_processing_date}"
        opd = item.original_processing_date
        collection = (
            Collection.objects.select_for_update(of=("self",))
            .filter(
                mandate__reference=item.reference.strip().upper(), amount_pence=item.amount_pence
            )
            .filter(Q(run__processing_date=opd) | Q(run__entry_date=opd))
            .select_related("mandate__account", "entry")
            .order_by("-pk")
            .first()
        )
        if collection is None:
            outcome.unknown.append(f"{label}: no collection has this reference, amount and date")
            continue
        key = f"arudd:{collection.pk}"
        if _recorded(key):
            outcome.already.append(f"{label}: already recorded as unpaid")
            continue
        reason = item.reason
        meaning = reason.meaning if reason else (item.description or item.return_code)
        mandate = collection.mandate
        collection.status = Collection.Status.UNPAID
        collection.save(update_fields=["status"])
        if collection.entry is not None:
            services.reverse_entry(
                collection.entry,
                reason=f"Direct Debit unpaid: {meaning}",
                posted_on=posted_on,
                type_code="RDN",
                created_by=by,
            )
        MandateEvent.objects.create(
            mandate=mandate,
            action="unpaid",
            reason_code=(item.reason_code or "")[:4],
            detail=f"{accounts.pounds(item.amount_pence)} due {collection.due_on} unpaid: {meaning}",
            source_key=key,
            actor=by,
        )
        new_status = ARUDD_MANDATE_ACTIONS.get(item.reason_code or "")
        what = "recorded; the mandate is unchanged"
        represent_on = None
        if item.reason_code == "0" and collection.transaction_code != REPRESENT_CODE:
            cal = bacs_calendar.default_calendar()
            reported = max(today, report.processing_date or today)
            represent_on = cal.add_working_days(
                cal.next_working_day(reported), REPRESENT_NOTICE_WORKING_DAYS
            )
            processed = collection.run.processing_date
            if mandate.status in LIVE and (represent_on - processed).days <= REPRESENT_WITHIN_DAYS:
                MandateEvent.objects.create(
                    mandate=mandate,
                    action="represent_due",
                    detail=f"{collection.pk} {represent_on.isoformat()}",
                    source_key=f"represent:{collection.pk}",
                )
                what = f"recorded; it will be presented again (code 18) from {_day(represent_on)}"
            else:
                represent_on = None
                what = "recorded; too late to present again: collect it another way"
        if new_status and mandate.status in LIVE and mandate.status != new_status:
            if new_status in (Status.CANCELLED, Status.FAILED):
                _end(mandate, new_status, f"Unpaid: {meaning}")
            else:
                _set_status(mandate, new_status)
            what = f"mandate {mandate.get_status_display().lower()}"
        outcome.applied.append(f"{label}: unpaid ({meaning}): reversed; {what}")
        _notify(
            mandate,
            "Your rent Direct Debit payment was not made",
            [
                f"Your bank did not pay the Direct Debit of {accounts.pounds(item.amount_pence)} "
                f"for your rent account {mandate.account.payment_reference} "
                f"(due {_day(collection.due_on)}). The reason your bank gave: {meaning}.",
                "",
                *(
                    [
                        f"We will try to collect it again from your account on or after "
                        f"{_day(represent_on)}. Please make sure the money is there, or contact "
                        "us if you cannot pay it.",
                    ]
                    if represent_on
                    else [
                        "The payment has been taken off your rent account, so the amount is "
                        "still owed. Please pay it another way, or contact us to talk about it.",
                    ]
                ),
                *(
                    ["Your Direct Debit has ended. To pay by Direct Debit again, set up a new one."]
                    if mandate.status in (Status.CANCELLED, Status.FAILED)
                    else []
                ),
            ],
        )


def _bank_messages(report, outcome: ReportOutcome) -> None:
    for message in report.messages:
        outcome.notes.append(f"The report carries a message from the bank: {message}")


def _advised_mandate(outcome: ReportOutcome, prefix: str, item, report, today: dt.date):
    """The mandate an ADDACS advice or AUDDIS rejection is about, with the reason's meaning,
    the item's label and its source key; ``None`` (and a line in the outcome) when no mandate
    has the reference or the item was applied before. The key is the reference, reason and
    effective date, so a report imported again changes nothing."""
    meaning = item.reason.meaning if item.reason else item.reason_code
    when = item.effective_date or report.processing_date or today
    label = f"{item.reference} (reason {item.reason_code}: {meaning})"
    key = f"{prefix}:{item.reference.strip().upper()}:{item.reason_code}:{when.isoformat()}"
    mandate = _mandate(item.reference)
    if mandate is None:
        outcome.unknown.append(f"{label}: no mandate has this reference")
        return None
    if _recorded(key):
        outcome.already.append(f"{label}: already applied")
        return None
    return mandate, meaning, label, key


def _apply_addacs(report, outcome: ReportOutcome, by, today: dt.date) -> None:
    _bank_messages(report, outcome)
    for advice in report.advices:
        found = _advised_mandate(outcome, "addacs", advice, report, today)
        if found is None:
            continue
        mandate, meaning, label, key = found
        code = advice.reason_code
        what = "recorded"
        if code in ("0", "1", "2", "B"):
            if mandate.status in LIVE:
                _end(mandate, Status.CANCELLED, f"Cancelled by the bank: {meaning}")
                what = "mandate cancelled (no 0C: the bank has cancelled it)"
                _notify(
                    mandate,
                    "Your rent Direct Debit has been cancelled",
                    [
                        f"Your bank told us your Direct Debit for rent account "
                        f"{mandate.account.payment_reference} is cancelled ({meaning}).",
                        "No more payments will be taken. Please pay your rent another way, or "
                        "set up a new Direct Debit.",
                    ],
                )
            else:
                what = f"recorded (the mandate had already ended: {mandate.get_status_display()})"
        elif code == "3":
            if advice.has_new_details and mandate.status in LIVE:
                _change_details(mandate, advice)
                _set_status(mandate, Status.NEW)
                what = "bank details updated; a new instruction (0N) goes in the next run"
            elif mandate.status in LIVE:
                _set_status(mandate, Status.SUSPENDED)
                what = "mandate suspended: no new details were given, get a new instruction"
        elif code in ("C", "E"):
            if advice.has_new_details:
                _change_details(mandate, advice)
                what = "bank details updated; collections continue"
            else:
                what = "recorded: no new details were given"
        elif code == "D":
            if mandate.status in LIVE:
                _set_status(mandate, Status.SUSPENDED)
                what = "mandate suspended until the dispute is resolved"
        elif code == "R":
            if mandate.status in (Status.CANCELLED, Status.SUSPENDED):
                other = live_mandate(mandate.account)
                if other is not None and other.pk != mandate.pk:
                    outcome.notes.append(
                        f"{label}: not reinstated, because the account has another live "
                        f"mandate ({other.reference}): decide which to keep"
                    )
                    what = "recorded; not reinstated"
                else:
                    mandate.status = Status.ACTIVE if mandate.lodged_at else Status.NEW
                    mandate.ended_at = None
                    mandate.end_reason = ""
                    mandate.save(update_fields=["status", "ended_at", "end_reason"])
                    what = "mandate reinstated"
        MandateEvent.objects.create(
            mandate=mandate,
            action=f"addacs_{code.lower()}",
            reason_code=code,
            detail=f"ADDACS {meaning}: {what}"[:300],
            source_key=key,
            actor=by,
        )
        outcome.applied.append(f"{label}: {what}")


def _change_details(mandate: Mandate, advice) -> None:
    sort_digits = advice.new_sort_code.replace("-", "")
    bank_details.store(mandate, sort_code_digits=sort_digits, account_number=advice.new_account)
    mandate.save(
        update_fields=[
            "sort_code_encrypted",
            "account_number_encrypted",
            "sort_code_last2",
            "account_number_last4",
        ]
    )


def _apply_auddis(report, outcome: ReportOutcome, by, today: dt.date) -> None:
    for summary in report.files:
        what = f"file {summary.volume_serial or '(no serial number)'}"
        run = (
            BacsRun.objects.filter(serial=summary.volume_serial).order_by("-pk").first()
            if summary.volume_serial
            else None
        )
        which = (
            f" (the run for entry day {_day(run.entry_date)})"
            if run is not None
            else " (no Bacs run here has this serial number)"
        )
        if summary.rejected_file:
            outcome.files.append(f"the bank rejected {what}")
            reasons = "; ".join(report.file_errors) or "no reason was given"
            code = f" (file error code {summary.error_code})" if summary.error_code else ""
            outcome.notes.append(
                f"The bank rejected the whole of {what}{which}: {reasons}{code}. "
                "Check the run and send it again"
            )
        else:
            outcome.files.append(f"the bank accepted {what}")
            counts = (
                f": {_count(summary.accepted, 'instruction')} accepted, "
                f"{summary.rejected or 0} rejected"
                if summary.accepted is not None
                else ""
            )
            outcome.accepted.append(f"The bank accepted {what}{which}{counts}")
    if not report.files:
        for error in report.file_errors:
            outcome.notes.append(
                f"The bank rejected a whole file: {error}. Check the run and send it again"
            )
    _bank_messages(report, outcome)
    for rejection in report.rejections:
        found = _advised_mandate(outcome, "auddis", rejection, report, today)
        if found is None:
            continue
        mandate, meaning, label, key = found
        what = "recorded (the mandate had already ended)"
        if mandate.status in LIVE:
            _end(mandate, Status.FAILED, f"Rejected by the bank: {meaning}")
            what = "mandate failed"
            _notify(
                mandate,
                "Your rent Direct Debit could not be set up",
                [
                    f"Your bank could not set up the Direct Debit for rent account "
                    f"{mandate.account.payment_reference}. The reason it gave: {meaning}.",
                    "No payments will be taken. Please check your bank details and set up a new "
                    "Direct Debit, or pay your rent another way.",
                ],
            )
        MandateEvent.objects.create(
            mandate=mandate,
            action="rejected",
            reason_code=rejection.reason_code,
            detail=f"AUDDIS rejection: {meaning}"[:300],
            source_key=key,
            actor=by,
        )
        outcome.applied.append(f"{label}: {what}")
