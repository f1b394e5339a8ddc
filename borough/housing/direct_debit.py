"""Direct Debit for rent: mandates, the council as service user, schedules, amounts and the
emails to tenants. Bacs runs are in ``direct_debit_runs`` and the reports the banks send back in
``direct_debit_reports``; both use the rules and helpers here. The rules:

- **Set-up** (``set_up_mandate``): the bank details pass the modulus check; the first collection
  is the first chosen day on or after ``calendar.earliest_collection(today, 10)`` (10 working
  days' notice, A1); the DDI reference is the account's payment reference, with ``/2``, ``/3``…
  when an earlier mandate of the account used it; one live mandate per account. The tenant gets
  a confirmation with the reference, the council's SUN, the amounts and dates and the Direct
  Debit Guarantee, sent when the mandate is saved.
- **The service user name** on Bacs files is the one the sponsoring bank registered
  (``BOROUGH_BACS_SERVICE_USER_NAME``, from the profile's ``[bank] service_user_name``); a name
  that does not fit the file's 18 characters is refused (``service_user_name_problem``), never
  cut.
- **Advance notice** (``advance_notices``): a changed amount is emailed ahead, once per
  mandate and collection day.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from borough.housing import accounts, bank_details
from borough.housing.bacs import calendar as bacs_calendar
from borough.housing.bacs import modulus, standard18
from borough.housing.models import (
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


def check_service_user_name(app_configs=None, **kwargs) -> list:
    """``borough check``: the service user name fits a Bacs file, so the first Bacs run does not
    meet the mistake (a council offering housing rent)."""
    from django.core.checks import Error

    if "housing" not in settings.COUNCIL.services:
        return []
    problem = service_user_name_problem()
    return [Error(problem, id="borough.E141")] if problem else []


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
    """A message if ``name`` cannot go on a Bacs file: it is blank once transliterated to the
    Bacs character set (``standard18.clean_name``)."""
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


def _recorded(source_key: str) -> bool:
    return MandateEvent.objects.filter(source_key=source_key).exists()


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
