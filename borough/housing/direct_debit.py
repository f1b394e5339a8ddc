"""Direct Debit for rent: mandates, Bacs runs and the reports the banks send back. The rules:

- **Set-up** (``set_up_mandate``): the bank details pass the modulus check; the first collection
  is the first chosen day on or after ``calendar.earliest_collection(today, 10)`` (10 working
  days' notice, A1); the DDI reference is the account's payment reference, with ``/2``, ``/3``…
  when an earlier mandate of the account used it; one live mandate per account. The tenant gets
  a confirmation with the reference, the council's SUN, the amounts and dates and the Direct
  Debit Guarantee, sent when the mandate is saved.
- **A run** (``bacs_run``) is one Bacs submission for one entry day, made once: the run's row is
  written first, so a second run for the same day, at once or later, returns the first. It
  lodges new mandates (0N), sends 0C for mandates the council or tenant cancelled after lodging,
  and collects from active mandates every collection day since the previous run's entry day
  (rolled forward to the next working day; at most ``LATE_COLLECTION_WORKING_DAYS`` late), one ``Collection`` per mandate and day, each posted
  to the ledger once (source ``bacs:<collection>``). The Standard 18 file is validated before it
  is kept; a file that fails changes nothing.
- **Reports** (``import_bacs_report``): ARUDD unpaid items reverse their collection (RDN), ADDACS
  advices cancel, suspend, reinstate or change a mandate's bank details, AUDDIS rejections fail
  the instruction. Each item is applied once (a ``MandateEvent`` source key), an unknown
  reference is reported and not guessed, and a malformed file changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from borough.housing import accounts, bank_details, services
from borough.housing.bacs import calendar as bacs_calendar
from borough.housing.bacs import modulus, reports, standard18
from borough.housing.models import (
    BacsRun,
    Collection,
    LedgerEntry,
    Mandate,
    MandateEvent,
    RentAccount,
    Tenant,
)

log = logging.getLogger(__name__)

Status = Mandate.Status
LIVE = (Status.NEW, Status.LODGED, Status.ACTIVE, Status.SUSPENDED)
ADVANCE_NOTICE_WORKING_DAYS = bacs_calendar.DEFAULT_ADVANCE_NOTICE_WORKING_DAYS
REGULAR_CODE = "17"
REPRESENT_CODE = "18"
#: Working days' notice before an unpaid collection is presented again (A1: about 5).
REPRESENT_NOTICE_WORKING_DAYS = 5
#: An unpaid collection may be presented again within this many days of its processing day.
REPRESENT_WITHIN_DAYS = 30
#: How late a collection day may be taken when runs were missed (working days after the day).
LATE_COLLECTION_WORKING_DAYS = 3
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_PERIOD_DAYS = {"weekly": 7, "fortnightly": 14, "four_weekly": 28}


class DirectDebitError(ValueError):
    """A Direct Debit action that breaks a rule; the message says which, in plain words."""


class MandateExists(DirectDebitError):
    """The account already has a live mandate."""


class NothingToSubmit(DirectDebitError):
    """A run with no instructions and no collections: no file, no run."""


class BacsFileError(DirectDebitError):
    """The run's Standard 18 file failed validation; nothing was saved."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = [str(p) for p in problems]
        super().__init__("The Bacs file failed its checks: " + "; ".join(self.problems[:10]))


class ReportRefused(DirectDebitError):
    """A Bacs report that cannot be read or is not for this council; nothing was changed."""


# -- the Direct Debit Guarantee and the council as service user --------------------------------


def service_user_name() -> str:
    return settings.BOROUGH_BACS_SERVICE_USER_NAME


def guarantee_paragraphs() -> list[str]:
    """The Direct Debit Guarantee, in the scheme's words, with the council's name."""
    name = settings.COUNCIL.name
    return [
        "This Guarantee is offered by all banks and building societies that accept "
        "instructions to pay Direct Debits.",
        f"If there are any changes to the amount, date or frequency of your Direct Debit {name} "
        f"will notify you {ADVANCE_NOTICE_WORKING_DAYS} working days in advance of your account "
        "being debited or as otherwise agreed. If you request "
        f"{name} to collect a payment, confirmation of the amount and date will be given to you "
        "at the time of the request.",
        f"If an error is made in the payment of your Direct Debit, by {name} or your bank or "
        "building society, you are entitled to a full and immediate refund of the amount paid "
        "from your bank or building society.",
        f"If you receive a refund you are not entitled to, you must pay it back when {name} "
        "asks you to.",
        "You can cancel a Direct Debit at any time by simply contacting your bank or building "
        "society. Written confirmation may be required. Please also notify us.",
    ]


def service_user_name_problem() -> str | None:
    """Why the configured service user name cannot go on a Bacs file, in words an officer can
    act on, or ``None``. The file holds 18 Bacs characters for it and the name must be the one
    the sponsoring bank registered, so it is never cut to fit."""
    problem = standard18.service_user_name_problem(service_user_name())
    if problem is None:
        return None
    return (
        f"{problem[0].upper()}{problem[1:]} (SUN {settings.BOROUGH_BACS_SUN}). Set "
        "BOROUGH_BACS_SERVICE_USER_NAME, or service_user_name in the [bank] section of the "
        "council profile, to that name"
    )


def _service_user() -> standard18.ServiceUser:
    bank = settings.COUNCIL.bank
    return standard18.ServiceUser(
        sun=settings.BOROUGH_BACS_SUN,
        name=service_user_name(),
        sort_code=bank.sort_code,
        account_number=bank.account_number,
    )


# -- schedules and amounts ---------------------------------------------------------------------


def describe_schedule(frequency: str, collection_day: int) -> str:
    """ "Every month on day 15", "Every 2 weeks on a Friday"."""
    name = accounts.FREQUENCY_NAMES[frequency]
    if frequency == Mandate.Frequency.MONTHLY:
        return f"{name} on day {collection_day}"
    return f"{name} on a {WEEKDAYS[collection_day]}"


def first_collection_date(frequency: str, collection_day: int, today: dt.date) -> dt.date:
    """The first chosen day on or after the earliest first collection (10 working days'
    notice). Monthly: ``collection_day`` is 1 to 28; otherwise a weekday, 0 = Monday."""
    _check_schedule(frequency, collection_day)
    earliest = bacs_calendar.earliest_collection(today, ADVANCE_NOTICE_WORKING_DAYS)
    if frequency == Mandate.Frequency.MONTHLY:
        day = dt.date(earliest.year, earliest.month, collection_day)
        if day < earliest:
            day = _add_month(day)
        return day
    return earliest + dt.timedelta(days=(collection_day - earliest.weekday()) % 7)


def _check_schedule(frequency: str, collection_day: int) -> None:
    if frequency not in Mandate.Frequency.values:
        raise DirectDebitError("Choose how often to pay")
    if frequency == Mandate.Frequency.MONTHLY and not 1 <= collection_day <= 28:
        raise DirectDebitError("The day of the month must be between 1 and 28")
    if frequency != Mandate.Frequency.MONTHLY and not 0 <= collection_day <= 4:
        raise DirectDebitError("Choose a day from Monday to Friday")


def _add_month(day: dt.date) -> dt.date:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return day.replace(year=year, month=month)


def scheduled_dates(mandate: Mandate, start: dt.date, end: dt.date) -> list[dt.date]:
    """The mandate's collection days from ``start`` to ``end`` (both included), before rolling
    a day that is not a Bacs working day forward."""
    first = mandate.first_collection_on
    start = max(start, first)
    if end < start:
        return []
    found = []
    if mandate.frequency == Mandate.Frequency.MONTHLY:
        day = dt.date(start.year, start.month, mandate.collection_day)
        while day <= end:
            if day >= start:
                found.append(day)
            day = _add_month(day)
        return found
    period = _PERIOD_DAYS[mandate.frequency]
    steps = -(-(start - first).days // period)
    day = first + dt.timedelta(days=steps * period)
    while day <= end:
        found.append(day)
        day += dt.timedelta(days=period)
    return found


def amount_pence(account: RentAccount, frequency: str, on: dt.date) -> int:
    """What one collection is at ``frequency`` on ``on``: the standing-order amount, so a
    year's collections pay a year's charges (``accounts.standing_order_amounts``)."""
    return accounts.standing_order_amounts(account, today=on)[frequency]


def collection_day_of(day: dt.date) -> dt.date:
    """The Bacs entry day on which a collection due on ``day`` is taken."""
    return bacs_calendar.default_calendar().next_working_day(day)


# -- mandates ----------------------------------------------------------------------------------


def live_mandate(account: RentAccount) -> Mandate | None:
    return account.mandates.filter(status__in=LIVE).order_by("-created_at").first()


def ddi_reference(account: RentAccount) -> str:
    """The account's payment reference, valid as a Bacs reference (A1) and not used by another
    mandate: ``RENT`` in front if it is too short, ``/2``, ``/3``… after it for a second mandate."""
    allowed = standard18.DEFAULT_LAYOUT.allowed_characters
    base = "".join(c for c in account.payment_reference.upper() if c in allowed).strip()
    if standard18.reference_problem(base):
        base = f"RENT {base}".strip()
    base = base[:15]
    candidates = [base] + [f"{base}/{n}" for n in range(2, 100)]
    used = set(
        Mandate.objects.filter(reference__startswith=base).values_list("reference", flat=True)
    )
    for candidate in candidates:
        if candidate not in used and standard18.reference_problem(candidate) is None:
            return candidate
    raise DirectDebitError("No Direct Debit reference is left for this account: contact us")


@dataclass(frozen=True)
class MandateRequest:
    """What the tenant told us, checked by ``check_request``."""

    account_holder: str
    sort_code: str  # 6 digits
    account_number: str  # 8 digits
    frequency: str
    collection_day: int


def check_holder_name(name: str) -> str | None:
    """A message if ``name`` cannot go on a Bacs file (it needs letters A to Z)."""
    if not name.strip():
        return "Enter the name on the account"
    if not standard18.clean_name(name).strip():
        return "Enter the name on the account using the letters A to Z"
    return None


def set_up_mandate(
    account: RentAccount,
    *,
    account_holder: str,
    sort_code: str,
    account_number: str,
    frequency: str,
    collection_day: int,
    today: dt.date,
    created_by=None,
    email_to: str = "",
) -> Mandate:
    """A new mandate (status new: the next run lodges it) and its ``set_up`` event; the
    confirmation is emailed to ``email_to`` once saved. The bank details must pass the modulus
    check; an account with a live mandate is refused (``MandateExists``)."""
    problem = check_holder_name(account_holder)
    if problem:
        raise DirectDebitError(problem)
    check = modulus.check_bank_details(sort_code, account_number)
    if not check.ok:
        raise DirectDebitError(check.message)
    _check_schedule(frequency, collection_day)
    first = first_collection_date(frequency, collection_day, today)
    if amount_pence(account, frequency, first) <= 0:
        raise DirectDebitError("There is no rent to collect on this account")
    try:
        with transaction.atomic():
            if live_mandate(account) is not None:
                raise MandateExists(_EXISTS_MESSAGE)
            mandate = Mandate(
                account=account,
                reference=ddi_reference(account),
                account_holder=account_holder.strip()[:60],
                frequency=frequency,
                collection_day=collection_day,
                first_collection_on=first,
                created_by=created_by,
            )
            bank_details.store(
                mandate,
                sort_code_digits=check.sort_code_digits,
                account_number=check.account_number,
            )
            mandate.save()
            MandateEvent.objects.create(
                mandate=mandate,
                action="set_up",
                detail=f"Set up online: {describe_schedule(frequency, collection_day)}, "
                f"first collection {first.isoformat()}",
                actor=created_by,
            )
    except IntegrityError:
        raise MandateExists(_EXISTS_MESSAGE) from None
    if email_to:
        transaction.on_commit(lambda: _send_confirmation(mandate, email_to, today))
    return mandate


_EXISTS_MESSAGE = (
    "There is already a Direct Debit for this rent account. Cancel it before you set up a new one"
)


def cancel_mandate(mandate: Mandate, *, by=None, reason: str) -> Mandate:
    """Cancel on the council's side (the tenant online, or an officer). If the instruction was
    lodged, the next run sends 0C to the tenant's bank; no more collections are made."""
    with transaction.atomic():
        mandate = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if mandate.status not in LIVE:
            raise DirectDebitError("This Direct Debit has already ended")
        _end(mandate, Status.CANCELLED, reason)
        MandateEvent.objects.create(mandate=mandate, action="cancelled", detail=reason, actor=by)
    return mandate


def _end(mandate: Mandate, status: str, reason: str) -> None:
    mandate.status = status
    mandate.ended_at = timezone.now()
    mandate.end_reason = reason[:200]
    mandate.save(update_fields=["status", "ended_at", "end_reason"])


def _set_status(mandate: Mandate, status: str) -> None:
    mandate.status = status
    mandate.save(update_fields=["status"])


def next_collection(mandate: Mandate, today: dt.date) -> tuple[dt.date, int] | None:
    """The next collection (the day the money is taken, and the amount) of a live mandate."""
    if mandate.status not in LIVE or mandate.status == Status.SUSPENDED:
        return None
    last = mandate.collections.order_by("-due_on").values_list("due_on", flat=True).first()
    start = max(today, (last or today) + dt.timedelta(days=1))
    for day in scheduled_dates(mandate, start, start + dt.timedelta(days=62)):
        return collection_day_of(day), amount_pence(mandate.account, mandate.frequency, day)
    return None


# -- emails ------------------------------------------------------------------------------------


def _contact_lines() -> list[str]:
    contact = settings.COUNCIL.contact
    return [
        f"{settings.COUNCIL.name}",
        f"Email: {contact.email}",
        f"Phone: {contact.phone}",
        f"Post: {contact.address}",
    ]


def _day(day: dt.date) -> str:
    return day.strftime("%-d %B %Y")


def _send(subject: str, lines: list[str], to: list[str]) -> bool:
    """Send a plain-text email; a failure is logged (never its contents) and reported."""
    to = [address for address in to if address]
    if not to:
        return False
    try:
        send_mail(subject, "\n".join(lines) + "\n", None, to)
    except Exception:  # any mail backend failure: the change is made, the email is not
        log.exception("Direct Debit email %r could not be sent", subject)
        return False
    return True


def _send_confirmation(mandate: Mandate, email_to: str, today: dt.date) -> None:
    first_day = collection_day_of(mandate.first_collection_on)
    first_amount = amount_pence(mandate.account, mandate.frequency, mandate.first_collection_on)
    lines = [
        "Your Direct Debit Instruction is set up.",
        "",
        f"Pay to: {settings.COUNCIL.name}",
        f"Service User Number (SUN): {settings.BOROUGH_BACS_SUN}",
        f"Direct Debit reference: {mandate.reference}",
        f"Rent account: {mandate.account.payment_reference}",
        f"Account holder: {mandate.account_holder}",
        f"Bank account: {mandate.masked}",
        "",
        "Advance notice of your payments:",
        f"- How often: {describe_schedule(mandate.frequency, mandate.collection_day)}",
        f"- First payment: {accounts.pounds(first_amount)} on {_day(first_day)}",
        f"- Then {accounts.pounds(first_amount)} "
        f"{accounts.FREQUENCY_NAMES[mandate.frequency].lower()} until your rent changes. "
        "When a day is a weekend or bank holiday we take the payment on the next working day.",
        f"We will tell you at least {ADVANCE_NOTICE_WORKING_DAYS} working days before any "
        "change to the amount, date or frequency.",
        "",
        "The payments will show on your bank statement as "
        f"{standard18.clean_name(service_user_name())} {mandate.reference}.",
        "",
        "The Direct Debit Guarantee",
        *[f"- {paragraph}" for paragraph in guarantee_paragraphs()],
        "",
        "If anything above is wrong, contact us:",
        *_contact_lines(),
    ]
    sent = _send(
        f"Your Direct Debit for rent account {mandate.account.payment_reference}", lines, [email_to]
    )
    MandateEvent.objects.create(
        mandate=mandate,
        action="confirmation_sent" if sent else "confirmation_not_sent",
        detail="Confirmation and advance notice emailed"
        if sent
        else "The confirmation email could not be sent: send it by post",
    )


def _recipients(mandate: Mandate) -> list[str]:
    """Who to tell about a mandate: whoever set it up online, else its account's tenants."""
    creator = mandate.created_by
    if creator is not None and getattr(creator, "is_resident", False) and creator.email:
        return [creator.email]
    found = []
    for tenant in Tenant.objects.filter(tenancy_id=mandate.account.tenancy_id).select_related(
        "account"
    ):
        address = tenant.email or (tenant.account.email if tenant.account else "")
        if address and address not in found:
            found.append(address)
    return found


def _notify(mandate: Mandate, subject: str, lines: list[str]) -> None:
    to = _recipients(mandate)
    body = [*lines, "", f"Direct Debit reference: {mandate.reference}", "", *_contact_lines()]
    transaction.on_commit(lambda: _send(subject, body, to))


# -- Bacs runs ---------------------------------------------------------------------------------


def _entry_datetime(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def bacs_run(input_date: dt.date, *, created_by=None) -> BacsRun:
    """The Bacs submission input on ``input_date`` (see the module's rules). Returns the run
    already made for the same entry day if there is one. Raises ``DirectDebitError`` for a day
    Bacs takes no input, ``NothingToSubmit`` when there is nothing to send, ``BacsFileError``
    when the file fails validation (nothing saved)."""
    cal = bacs_calendar.default_calendar()
    try:
        dates = cal.bacs_dates(input_date)
    except ValueError as error:
        raise DirectDebitError(str(error)) from None
    existing = BacsRun.objects.filter(entry_date=dates.entry).first()
    if existing is not None:
        return existing
    problem = service_user_name_problem()
    if problem:
        raise DirectDebitError(f"{problem}. Nothing was sent or saved.")
    try:
        with transaction.atomic():
            return _make_run(cal, dates, created_by)
    except IntegrityError:
        existing = BacsRun.objects.filter(entry_date=dates.entry).first()
        if existing is not None:
            return existing
        raise


@dataclass
class _Planned:
    mandate: Mandate
    due_on: dt.date
    amount_pence: int
    code: str
    previous_pence: int | None


def _make_run(cal, dates, created_by) -> BacsRun:
    # The run's row first: a second run for this entry day waits here, then fails on the
    # unique entry date and returns this one.
    run = BacsRun.objects.create(
        input_date=dates.input,
        processing_date=dates.processing,
        entry_date=dates.entry,
        serial="000000",
        file_text="",
        created_by=created_by,
    )
    run.serial = f"{run.pk % 1_000_000:06d}"
    previous_run = (
        BacsRun.objects.filter(entry_date__lt=dates.entry).order_by("-entry_date").first()
    )
    # Collection days since the previous run, but none more than a few working days late: an
    # older missed day would surprise the tenant (no notice of it), so it is not collected.
    after = cal.add_working_days(dates.entry, -LATE_COLLECTION_WORKING_DAYS)
    if previous_run is not None:
        after = max(after, previous_run.entry_date)

    # Lodged instructions become active once their entry day has passed.
    for mandate in Mandate.objects.select_for_update().filter(
        status=Status.LODGED, lodged_at__lt=_entry_datetime(dates.input)
    ):
        _set_status(mandate, Status.ACTIVE)
        MandateEvent.objects.create(
            mandate=mandate,
            action="activated",
            detail="No rejection came back: the instruction is in place",
            source_key=f"run:{run.pk}:active:{mandate.pk}",
        )

    instructions: list[standard18.Instruction] = []
    new = list(Mandate.objects.select_for_update().filter(status=Status.NEW).order_by("pk"))
    for mandate in new:
        sort_code, number = bank_details.details_of(mandate)
        instructions.append(
            standard18.Instruction(
                "0N", sort_code, number, mandate.account_holder, mandate.reference
            )
        )
    to_cancel = list(
        Mandate.objects.select_for_update()
        .filter(status=Status.CANCELLED, lodged_at__isnull=False)
        .filter(pk__in=MandateEvent.objects.filter(action="cancelled").values("mandate_id"))
        .exclude(
            pk__in=MandateEvent.objects.filter(action="cancellation_sent").values("mandate_id")
        )
        .order_by("pk")
    )
    for mandate in to_cancel:
        sort_code, number = bank_details.details_of(mandate)
        instructions.append(
            standard18.Instruction(
                "0C", sort_code, number, mandate.account_holder, mandate.reference
            )
        )

    planned: list[_Planned] = []
    for mandate in (
        Mandate.objects.select_for_update()
        .filter(status=Status.ACTIVE)
        .select_related("account")
        .order_by("pk")
    ):
        last = (
            mandate.collections.exclude(transaction_code=REPRESENT_CODE).order_by("-due_on").first()
        )
        start = max(after, last.due_on if last else after) + dt.timedelta(days=1)
        previous = last.amount_pence if last else None
        first = last is None
        for day in scheduled_dates(mandate, start, dates.entry):
            pence = amount_pence(mandate.account, mandate.frequency, day)
            if pence <= 0:
                continue
            code = settings.BOROUGH_BACS_FIRST_COLLECTION_CODE if first else REGULAR_CODE
            planned.append(_Planned(mandate, day, pence, code, previous))
            first, previous = False, pence  # a later day in the same run is a regular one

    planned += _representations(dates.entry, planned)

    if not instructions and not planned:
        raise NothingToSubmit(
            f"Nothing to send for entry day {_day(dates.entry)}: no new or cancelled "
            "instructions and no collections due"
        )

    collections: list[standard18.Collection] = []
    for item in planned:
        sort_code, number = bank_details.details_of(item.mandate)
        collection = Collection.objects.create(
            run=run,
            mandate=item.mandate,
            transaction_code=item.code,
            amount_pence=item.amount_pence,
            due_on=item.due_on,
        )
        entry, _created = services.post_entry(
            item.mandate.account,
            kind=LedgerEntry.Kind.DIRECT_DEBIT,
            type_code="RDD",
            amount_pence=-item.amount_pence,
            posted_on=dates.entry,
            description=f"Direct Debit {item.mandate.reference}",
            source_key=f"bacs:{collection.pk}",
            created_by=created_by,
        )
        collection.entry = entry
        collection.save(update_fields=["entry"])
        collections.append(
            standard18.Collection(
                item.code,
                sort_code,
                number,
                item.mandate.account_holder,
                item.amount_pence,
                item.mandate.reference,
            )
        )
        if item.previous_pence != item.amount_pence:
            _advance_notice(item, collection, dates.entry)

    try:
        text = standard18.write_standard18(
            _service_user(),
            instructions=instructions,
            collections=collections,
            options=standard18.FileOptions(
                processing_date=dates.processing,
                creation_date=dates.input,
                serial_number=run.serial,
            ),
        )
    except standard18.BatchError as error:
        raise BacsFileError(error.problems) from None
    problems = standard18.validate_standard18(text, calendar=cal)
    if problems:
        raise BacsFileError(problems)

    lodged_at = _entry_datetime(dates.entry)
    for mandate in new:
        mandate.status = Status.LODGED
        mandate.lodged_at = lodged_at
        mandate.save(update_fields=["status", "lodged_at"])
        MandateEvent.objects.create(
            mandate=mandate,
            action="lodged",
            reason_code="0N",
            detail=f"Sent to the bank in the run for {_day(dates.entry)}",
            source_key=f"run:{run.pk}:0N:{mandate.pk}",
        )
    for mandate in to_cancel:
        MandateEvent.objects.create(
            mandate=mandate,
            action="cancellation_sent",
            reason_code="0C",
            detail=f"Cancellation sent to the bank in the run for {_day(dates.entry)}",
            source_key=f"run:{run.pk}:0C:{mandate.pk}",
        )
    run.file_text = text
    run.instructions = len(instructions)
    run.collections = len(collections)
    run.total_pence = sum(item.amount_pence for item in planned)
    run.save(update_fields=["serial", "file_text", "instructions", "collections", "total_pence"])
    return run


def _representations(entry: dt.date, planned: list) -> list:
    """Unpaid collections due to be presented again (ARUDD reason 0, "refer to payer") on or
    before ``entry``: each once, with code 18, on a run that does not already collect from the
    mandate that day."""
    busy = {(item.mandate.pk, item.due_on) for item in planned}
    out = []
    for event in (
        MandateEvent.objects.filter(action="represent_due", mandate__status=Status.ACTIVE)
        .select_related("mandate__account")
        .order_by("pk")
    ):
        original_pk, _, on = event.detail.partition(" ")
        if dt.date.fromisoformat(on) > entry or _recorded(f"represented:{original_pk}"):
            continue
        if (event.mandate.pk, entry) in busy or event.mandate.collections.filter(
            due_on=entry
        ).exists():
            continue  # collected that day already: the next run presents it
        original = Collection.objects.get(pk=int(original_pk))
        MandateEvent.objects.create(
            mandate=event.mandate,
            action="represented",
            detail=f"Collection {original_pk} presented again on {entry.isoformat()}",
            source_key=f"represented:{original_pk}",
        )
        out.append(
            _Planned(
                event.mandate, entry, original.amount_pence, REPRESENT_CODE, original.amount_pence
            )
        )
    return out


def advance_notices(today: dt.date, *, look_ahead_working_days: int = 15) -> list[str]:
    """Tell tenants of a changed Direct Debit amount ahead: for every live mandate, each
    collection due within ``look_ahead_working_days`` working days whose amount differs from
    the last one collected (the April rent change, a new service charge) is notified now, once
    (``notice-ahead:<mandate>:<due date>``). Run daily, a change entered in the system at least
    ``look_ahead_working_days`` working days ahead reaches the tenant at least 10 working days
    before the money is taken. Returns the mandates' references."""
    cal = bacs_calendar.default_calendar()
    horizon = cal.add_working_days(today, look_ahead_working_days)
    sent = []
    for mandate in Mandate.objects.filter(status__in=[Status.LODGED, Status.ACTIVE]).select_related(
        "account"
    ):
        last = mandate.collections.order_by("-due_on").values_list("due_on", "amount_pence").first()
        if last is None:
            continue  # the set-up confirmation gave the first amount and date
        previous = last[1]
        start = max(today, last[0] + dt.timedelta(days=1))
        for due in scheduled_dates(mandate, start, horizon):
            amount = amount_pence(mandate.account, mandate.frequency, due)
            if amount == previous:
                continue
            key = f"notice-ahead:{mandate.pk}:{due.isoformat()}"
            if _recorded(key):
                break
            entry = collection_day_of(due)
            with transaction.atomic():
                MandateEvent.objects.create(
                    mandate=mandate,
                    action="advance_notice",
                    detail=f"Notice of {amount}p on {entry.isoformat()}",
                    source_key=key,
                )
                _notify(
                    mandate,
                    f"Your rent Direct Debit changes to {accounts.pounds(amount)} on {_day(entry)}",
                    [
                        f"Your Direct Debit payment changes from {accounts.pounds(previous)} to "
                        f"{accounts.pounds(amount)}. The new amount will be taken from your bank "
                        f"account {mandate.masked} on {_day(entry)}, and then "
                        f"{describe_schedule(mandate.frequency, mandate.collection_day).lower()}.",
                        "",
                        "You are covered by the Direct Debit Guarantee: if an error is made you "
                        "are entitled to a full and immediate refund from your bank.",
                    ],
                )
            sent.append(mandate.reference)
            break
    return sent


def _advance_notice(item: _Planned, collection: Collection, entry: dt.date) -> None:
    """Tell the tenant the amount and date of a first collection or a changed amount, with
    the run that collects it, unless ``advance_notices`` told them ahead already."""
    mandate = item.mandate
    if _recorded(f"notice-ahead:{mandate.pk}:{item.due_on.isoformat()}"):
        return
    if item.previous_pence is None:
        change = f"Your first Direct Debit payment of {accounts.pounds(item.amount_pence)}"
    else:
        change = (
            f"Your Direct Debit payment changes from {accounts.pounds(item.previous_pence)} "
            f"to {accounts.pounds(item.amount_pence)}. The payment"
        )
    MandateEvent.objects.create(
        mandate=mandate,
        action="advance_notice",
        detail=f"Notice of {item.amount_pence}p on {entry.isoformat()}",
        source_key=f"notice:{collection.pk}",
    )
    _notify(
        mandate,
        f"Your rent Direct Debit: {accounts.pounds(item.amount_pence)} on {_day(entry)}",
        [
            f"{change} will be taken from your bank account {mandate.masked} on {_day(entry)}.",
            f"After that: {accounts.pounds(item.amount_pence)} "
            f"{describe_schedule(mandate.frequency, mandate.collection_day).lower()}, until we "
            "tell you of a change.",
            "",
            "You are covered by the Direct Debit Guarantee: if an error is made you are "
            "entitled to a full and immediate refund from your bank.",
        ],
    )


# -- Bacs reports ------------------------------------------------------------------------------


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
        if kind == "ARUDD":
            _apply_arudd(parsed, outcome, created_by, today)
        elif kind == "ADDACS":
            _apply_addacs(parsed, outcome, created_by, today)
        else:
            _apply_auddis(parsed, outcome, created_by, today)
    return outcome


def _mandate(reference: str) -> Mandate | None:
    return (
        Mandate.objects.select_for_update()
        .filter(reference=reference.strip().upper())
        .select_related("account")
        .first()
    )


def _recorded(source_key: str) -> bool:
    return MandateEvent.objects.filter(source_key=source_key).exists()


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


def _apply_addacs(report, outcome: ReportOutcome, by, today: dt.date) -> None:
    for message in report.messages:
        outcome.notes.append(f"The report carries a message from the bank: {message}")
    for advice in report.advices:
        reason = advice.reason
        meaning = reason.meaning if reason else advice.reason_code
        when = advice.effective_date or report.processing_date or today
        label = f"{advice.reference} (reason {advice.reason_code}: {meaning})"
        key = f"addacs:{advice.reference.strip().upper()}:{advice.reason_code}:{when.isoformat()}"
        mandate = _mandate(advice.reference)
        if mandate is None:
            outcome.unknown.append(f"{label}: no mandate has this reference")
            continue
        if _recorded(key):
            outcome.already.append(f"{label}: already applied")
            continue
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
    for message in report.messages:
        outcome.notes.append(f"The report carries a message from the bank: {message}")
    for rejection in report.rejections:
        reason = rejection.reason
        meaning = reason.meaning if reason else rejection.reason_code
        when = rejection.effective_date or report.processing_date or today
        label = f"{rejection.reference} (reason {rejection.reason_code}: {meaning})"
        key = f"auddis:{rejection.reference.strip().upper()}:{rejection.reason_code}:{when.isoformat()}"
        mandate = _mandate(rejection.reference)
        if mandate is None:
            outcome.unknown.append(f"{label}: no mandate has this reference")
            continue
        if _recorded(key):
            outcome.already.append(f"{label}: already applied")
            continue
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
