"""Bacs runs: one Standard 18 submission for one entry day (``bacs_run``). The rules:

- A run is made once per entry day: its ``BacsRun`` row is written first and the entry date is
  unique, so a second run for the same day, at once or later, returns the first.
- It lodges new mandates (0N), sends 0C for mandates the council or tenant cancelled after
  lodging, and collects from active mandates every collection day since the previous run's
  entry day (rolled forward to the next working day; at most ``LATE_COLLECTION_WORKING_DAYS``
  late), one ``Collection`` per mandate and day, each posted to the ledger once (source
  ``bacs:<collection>``); unpaid "refer to payer" items are presented again once (code 18).
- The service user name must fit the file whole (``direct_debit.service_user_name_problem``);
  otherwise the run is refused before anything is saved.
- The Standard 18 file is written, then validated independently with the Bacs calendar; a file
  that fails changes nothing (no run, no collections, no ledger entries, no status changes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from borough.housing import accounts, bank_details, services
from borough.housing.bacs import calendar as bacs_calendar
from borough.housing.bacs import standard18, standard18_validator, standard18_writer
from borough.housing.direct_debit import (
    LATE_COLLECTION_WORKING_DAYS,
    REGULAR_CODE,
    REPRESENT_CODE,
    BacsFileError,
    DirectDebitError,
    NothingToSubmit,
    Status,
    _day,
    _notify,
    _recorded,
    _service_user,
    _set_status,
    amount_pence,
    describe_schedule,
    scheduled_dates,
    service_user_name_problem,
)
from borough.housing.models import (
    BacsRun,
    Collection,
    LedgerEntry,
    Mandate,
    MandateEvent,
    RentAccount,
)
from borough.transparency.models import Action


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
            run = _make_run(cal, dates, created_by)
            # the run read every payer's mandate and bank details: one action, per batch
            accounts.record_tenants_use(
                run_tenancies(run),
                created_by,
                purpose="housing_direct_debit_collection",
                action=Action.UPDATED_RECORDS,
                reference=f"bacs-run-{run.pk}",
                label="Borough Direct Debit run",
            )
            return run
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


def run_tenancies(run: BacsRun):
    """The tenancies whose payers' details a run sent: its collections, and the instructions
    it lodged, cancelled or activated (their events' source keys name the run)."""
    return (
        RentAccount.objects.filter(
            Q(mandates__collections__run=run)
            | Q(mandates__events__source_key__startswith=f"run:{run.pk}:")
        )
        .values("tenancy_id")
        .distinct()
    )


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
        text = standard18_writer.write_standard18(
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
    problems = standard18_validator.validate_standard18(text, calendar=cal)
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
