"""Retention of the council's records: source dataset records and service records past their
period are anonymised in place by ``borough transparency purge`` (``retention.purge``).

The schedule. A source dataset's period is its declaration's ``keep_after_end`` (``"6 years"``),
counted from when its record ENDED: when a load found it gone from the council's export
(``SourceRecord.ended_at``); a current record is never due. A service record's period is the
profile's ``[retention.records]``: ``parking_applications`` (the other kinds:
``service_retention``) counts from the later of the application's decision (its latest
``PermitEvent``, or its creation if it has none) and the end of its permit (the day after
``ends_on``, or its cancellation); applications not decided yet (waiting for payment or an
officer) are never due. A dataset or kind without a period is never
purged, and the dry run says so. A record is due when it ended before the start of the UK day
that is its period before today (``retention.cutoff``, as for the data-use log).

Why anonymise, not delete. No foreign key points at a ``SourceRecord``, but its
``"{dataset}:{record_ref}"`` is named by clerical review decisions (``ReviewCase``, kept for
ever as the history of decisions), by verifications' evidence and by the resident index on
disk, and each ``DatasetLoad`` counts it: keeping the row, blank, keeps those counts and that
history true while removing everything that identifies the person. So every personal field is
blanked (``SOURCE_RECORD_BLANK``; ``SOURCE_RECORD_KEPT`` lists the rest, and a test fails on a
field in neither), the reference becomes a marker (``anonymised-`` and the row's own ID, which
says nothing of the old reference) in the record and in the review cases that name it (an open
case is closed: there is no longer anything to decide), and the record is first taken out of
the resident index's files (``index.drop_records``), so that no verification answers from it
again; later links read only current records, and an ended record never comes back (a later
export with the old reference makes a new record). A ``PermitApplication`` is pointed at by
its ``Permit``, its ``PermitEvent`` trail and its renewals (all ``PROTECT``), and its permit
holds payments and refunds: the rows stay and the applicant's details are blanked (names, date
of birth, registration, vehicle data, resident ID, the officer's reason), with the
registrations of its permit (``~`` and the permit's ID in base 36: no vehicle's) and vehicle
changes, the details of its event trail (an officer's free text), the messages of its record
disputes and its proof documents (the files are deleted once the batch is committed).

Rent tenancies, Direct Debit mandates, verifications and visitor sessions are kinds of
service record too: ``service_retention`` says when each is due and what of it is blanked, and
``_anonymise_service_records`` here blanks them in the same batches.

Not touched: money. Payments, refunds, rent ledgers, Bacs runs and collections and bank
statement lines have their own statutory periods (HMRC and audit: 6 years after the end of the
financial year) and are kept whole, so every account balances as before.

Each batch (``BATCH`` records of one dataset or kind) is one transaction: the records are
anonymised and one ``records_retention_purge`` event is recorded for the batch, or neither. A
second run finds nothing due: anonymised records are not due again (``anonymised_at``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Count, F, Max, Min, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone

from borough.core.profile import RECORD_KINDS
from borough.residents.models import SOURCE_VALUES, ReviewCase, SourceRecord
from borough.transparency.models import Action, ActorKind
from borough.transparency.service_retention import SERVICE_KINDS
from borough.transparency.services import record_data_use

#: Records anonymised per transaction.
BATCH = 1_000
PURPOSE = "records_retention_purge"
#: An anonymised record's reference: this and its own row ID, which say nothing of the old one.
MARKER = "anonymised-"
ACTOR_LABEL = "Retention: borough transparency purge"

#: ``SourceRecord``'s personal fields (what a load writes from the row, and the hash of them)
#: and the blank each becomes: empty text, or NULL where the column allows it.
SOURCE_RECORD_BLANK = {
    name: None if SourceRecord._meta.get_field(name).null else ""
    for name in (*SOURCE_VALUES, "content_hash")
}
#: ``SourceRecord``'s other fields: kept (``record_ref`` is replaced by a marker).
SOURCE_RECORD_KEPT = (
    "id",
    "dataset",
    "record_ref",
    "row_number",
    "first_seen_load",
    "last_seen_load",
    "changed_at",
    "ended_at",
    "anonymised_at",
)
#: ``PermitApplication``'s fields about the applicant and the blank each becomes.
APPLICATION_BLANK = {
    "first_name": "",
    "surname": "",
    "date_of_birth": None,
    "vrm": "",
    "vehicle_snapshot": {},
    "resident_id": "",
    "decision_reason": "",
}


class RecordScheduleError(ValueError):
    """The records' retention schedule cannot be read (a bad declaration)."""


@dataclass(frozen=True)
class RecordRule:
    kind: str  # "dataset" (a source dataset) or "records" (a kind of service record)
    code: str
    period: str  # blank: never purged
    cutoff: dt.datetime | None  # records that ended before this are due

    def describe(self) -> str:
        what = f"dataset {self.code}" if self.kind == "dataset" else f"records {self.code}"
        if not self.period:
            return f"{what}: no period set, never purged"
        return (
            f"{what}: kept {self.period} after they end, so ended before "
            f"{timezone.localtime(self.cutoff):%Y-%m-%d}"
        )


def record_schedule(today: dt.date, retention=None) -> list[RecordRule]:
    """A rule per declared source dataset, then per kind of service record, with cutoffs."""
    from borough.residents.config import DatasetConfigError, declared_datasets
    from borough.transparency.retention import cutoff

    retention = retention or settings.COUNCIL.retention
    try:
        configs = declared_datasets()
    except DatasetConfigError as error:
        raise RecordScheduleError(str(error)) from None
    rules = []
    for kind, periods in (
        ("dataset", {c.code: c.keep_after_end for c in configs}),
        ("records", {k: retention.records.get(k, "") for k in RECORD_KINDS}),
    ):
        for code, period in periods.items():
            rules.append(RecordRule(kind, code, period, cutoff(period, today) if period else None))
    return rules


def _due_source_records(rule: RecordRule) -> QuerySet:

    return SourceRecord.objects.filter(
        dataset__code=rule.code, ended_at__lt=rule.cutoff, anonymised_at__isnull=True
    )


def _due_applications(rule: RecordRule) -> QuerySet:
    from borough.parking.models import PermitApplication

    decided = PermitApplication.Status
    # A permit valid through ``ends_on`` ended at the start of the next day.
    last_valid_day = rule.cutoff.date() - dt.timedelta(days=2)
    permit_ended = (
        Q(permit__isnull=True)
        | Q(permit__cancelled_at__lt=rule.cutoff)
        | Q(permit__cancelled_at__isnull=True, permit__ends_on__lte=last_valid_day)
    )
    return (
        PermitApplication.objects.filter(
            anonymised_at__isnull=True,
            status__in=[decided.ISSUED, decided.REFUSED, decided.ABANDONED],
        )
        .filter(permit_ended)
        .annotate(decided_at=Coalesce(Max("events__at"), F("created_at")))
        .filter(decided_at__lt=rule.cutoff)
    )


def due(rule: RecordRule) -> QuerySet | None:
    """The records ``rule`` finds past their period and not anonymised yet; None: no period."""
    if not rule.period:
        return None
    if rule.kind == "dataset":
        return _due_source_records(rule)
    if rule.code in SERVICE_KINDS:
        return SERVICE_KINDS[rule.code].due(rule.cutoff)
    return _due_applications(rule)


def _application_end(decided_at: dt.datetime, ends_on, cancelled_at) -> dt.datetime:
    if cancelled_at is not None:
        return max(decided_at, cancelled_at)
    if ends_on is not None:
        after = ends_on + dt.timedelta(days=1)
        ended = dt.datetime.combine(after, dt.time(), tzinfo=timezone.get_default_timezone())
        return max(decided_at, ended)
    return decided_at


def _ends(rule: RecordRule, records: QuerySet) -> tuple[int, dt.datetime, dt.datetime] | None:
    """How many records are due, and the oldest and newest end among them; None for none."""
    if rule.kind == "dataset":
        found = records.order_by().aggregate(
            n=Count("pk"), old=Min("ended_at"), new=Max("ended_at")
        )
        return (found["n"], found["old"], found["new"]) if found["n"] else None
    if rule.code in SERVICE_KINDS:
        count = records.order_by().count()
        return (count, *SERVICE_KINDS[rule.code].ends(records)) if count else None
    ends = [
        _application_end(*row)
        for row in records.order_by().values_list(
            "decided_at", "permit__ends_on", "permit__cancelled_at"
        )
    ]
    return (len(ends), min(ends), max(ends)) if ends else None


def _day(moment: dt.datetime | dt.date) -> str:
    if isinstance(moment, dt.datetime):
        moment = timezone.localtime(moment).date()
    return moment.isoformat()


def record_summary(rules: list[RecordRule]) -> list[list]:
    """[kind, code, count, oldest end, newest end] per rule with records due (ISO dates)."""
    rows = []
    for rule in rules:
        records = due(rule)
        if records is None:
            continue
        if found := _ends(rule, records):
            count, oldest, newest = found
            rows.append([rule.kind, rule.code, count, _day(oldest), _day(newest)])
    return rows


def _record_batch(run, rule: RecordRule, number: int) -> None:
    record_data_use(
        subject_resident_ids=[],
        actor=None,
        actor_kind=ActorKind.SYSTEM,
        actor_label=ACTOR_LABEL,
        purpose=PURPOSE,
        action=Action.PURGED,
        datasets=[_event_dataset(rule)],
        reference=f"purge-run:{run.pk}:{rule.code}:{number}",
        outcome="anonymised",
    )


def _event_dataset(rule: RecordRule) -> str:
    if rule.kind == "dataset":
        return rule.code
    return SERVICE_KINDS[rule.code].dataset if rule.code in SERVICE_KINDS else "parking_permits"


def _anonymise_service_records(rule: RecordRule, run, now: dt.datetime) -> int:
    """Blank a kind of service record (``service_retention``) in batches, each one
    transaction with its event; the rows are locked and checked again, so a concurrent purge
    or a record reopened meanwhile (a tenancy's account reopened) is not blanked twice or
    wrongly."""
    kind = SERVICE_KINDS[rule.code]
    done, number = 0, 0
    while ids := list(kind.due(rule.cutoff).order_by("pk").values_list("pk", flat=True)[:BATCH]):
        with transaction.atomic():
            locked = kind.model_class().objects.select_for_update().filter(pk__in=ids)
            ids = list(locked.values_list("pk", flat=True))
            ids = list(kind.due(rule.cutoff).filter(pk__in=ids).values_list("pk", flat=True))
            if not ids:
                continue
            number += 1
            kind.blank(ids, now)
            _record_batch(run, rule, number)
        done += len(ids)
    return done


def _rename_in_review_cases(renamed: dict[str, str], now: dt.datetime) -> None:
    cases = ReviewCase.objects.filter(
        Q(unique_id_l__in=list(renamed)) | Q(unique_id_r__in=list(renamed))
    )
    for case in cases:
        left = renamed.get(case.unique_id_l, case.unique_id_l)
        right = renamed.get(case.unique_id_r, case.unique_id_r)
        case.unique_id_l, case.unique_id_r = sorted((left, right))
        if case.status == ReviewCase.Status.OPEN:
            case.status, case.closed_at = ReviewCase.Status.CLOSED, now
        case.save(update_fields=["unique_id_l", "unique_id_r", "status", "closed_at"])


def _anonymise_source_records(rule: RecordRule, run, now: dt.datetime) -> int:
    from borough.residents.index import drop_records

    # First out of the index on disk, all at once (a rewrite of its files per batch would cost
    # more than the batches): if a transaction then fails, its records are only missing from an
    # index they no longer belong in, and the next run finishes the job.
    refs = _due_source_records(rule).order_by("pk").values_list("record_ref", flat=True)
    drop_records([f"{rule.code}:{ref}" for ref in refs.iterator(chunk_size=BATCH)])
    done, number = 0, 0
    while True:
        with transaction.atomic():
            # Locked, and the condition checked again on PostgreSQL once the lock is held: a
            # load that reopens a record meanwhile wins, and two purges at once share the rows.
            due_now = _due_source_records(rule).select_for_update(skip_locked=True, of=("self",))
            batch = list(due_now.order_by("pk").only("pk", "record_ref")[:BATCH])
            if not batch:
                break
            number += 1
            renamed = {
                f"{rule.code}:{record.record_ref}": f"{rule.code}:{MARKER}{record.pk}"
                for record in batch
            }
            SourceRecord.objects.filter(pk__in=[r.pk for r in batch]).update(
                **SOURCE_RECORD_BLANK,
                record_ref=Concat(Value(MARKER), Cast("pk", CharField())),
                anonymised_at=now,
                changed_at=now,
            )
            _rename_in_review_cases(renamed, now)
            _record_batch(run, rule, number)
        done += len(batch)
    return done


def _anonymise_applications(rule: RecordRule, run, now: dt.datetime) -> int:
    from borough.parking.models import (
        Permit,
        PermitApplication,
        PermitEvent,
        ProofUpload,
        RecordDispute,
        VehicleChange,
    )

    done, number = 0, 0
    while ids := list(_due_applications(rule).order_by("pk").values_list("pk", flat=True)[:BATCH]):
        with transaction.atomic():
            # Locked and checked again: a concurrent purge may have anonymised them meanwhile.
            ids = list(
                PermitApplication.objects.select_for_update()
                .filter(pk__in=ids, anonymised_at__isnull=True)
                .values_list("pk", flat=True)
            )
            if not ids:
                continue
            number += 1
            permits = list(Permit.objects.filter(application__in=ids).values_list("pk", flat=True))
            proofs = ProofUpload.objects.filter(permit__in=permits).exclude(file="")
            files = list(proofs.values_list("file", flat=True))
            proofs.update(file="")
            for pk in permits:
                Permit.objects.filter(pk=pk).update(vrm=_no_registration(pk))
            VehicleChange.objects.filter(permit__in=permits).update(
                old_vrm="", new_vrm="", vehicle_snapshot={}
            )
            RecordDispute.objects.filter(permit__in=permits).update(message="")
            # An officer's reason is free text, copied into the event's detail: the trail keeps
            # what was done and when.
            PermitEvent.objects.filter(application__in=ids).update(detail="")
            PermitApplication.objects.filter(pk__in=ids).update(
                **APPLICATION_BLANK, anonymised_at=now
            )
            _record_batch(run, rule, number)
            transaction.on_commit(lambda files=files: _delete_files(files))
        done += len(ids)
    return done


def _no_registration(pk: int) -> str:
    """What an anonymised permit has for a registration: ``~`` and its ID in base 36, which no
    vehicle can have and no two permits share (a permit past its end may still count as live
    under the one-live-permit-per-vehicle constraint, so blank would not do)."""
    digits = ""
    while pk:
        pk, digit = divmod(pk, 36)
        digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[digit] + digits
    return "~" + digits


def _delete_files(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        default_storage.delete(name)


def check_retention_schedule(app_configs=None, **kwargs) -> list:
    """``borough check``: the retention schedule reads (the purposes and actions of
    ``[retention]`` exist, and every dataset declaration with its ``keep_after_end`` reads), so
    that the daily purge does not meet the mistake. ``[retention.records]`` is checked when the
    profile is read."""
    from django.core.checks import Error

    from borough.transparency.retention import ScheduleError, schedule

    today = timezone.localdate()
    try:
        schedule(today)
        record_schedule(today)
    except (ScheduleError, RecordScheduleError) as error:
        return [Error(str(error), id="borough.E151")]
    return []


def anonymise(rules: list[RecordRule], run, now: dt.datetime) -> None:
    """Anonymise every record due under ``rules``, in batches (``run`` is the ``PurgeRun``)."""
    for rule in rules:
        if not rule.period:
            continue
        if rule.kind == "dataset":
            _anonymise_source_records(rule, run, now)
        elif rule.code in SERVICE_KINDS:
            _anonymise_service_records(rule, run, now)
        else:
            _anonymise_applications(rule, run, now)
