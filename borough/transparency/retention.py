"""Retention of the data-use log: which events are past their period, and purging them.

The schedule is the council profile's ``[retention]`` (``core/profile.py``): a default period for
data-use events and periods per purpose code and per action code (a purpose's wins over an
action's). An event is due when it happened before the start of the UK day that is its period
before today.

Purging deletes an event's row (its body) and keeps its sealed leaf hash, so every proof given out
still verifies and ``verify`` still checks the whole tree. Each purged event first gets a
tombstone (``PurgedEvent``: its ID, time, purpose and action, and the run), which is what lets the
database delete it (the append-only trigger allows a DELETE only of a tombstoned event, and only
inside ``db_guard.allow_purge``; migration 0008). Each run is a ``PurgeRun`` with its counts and is
recorded as a ``data_use_retention_purge`` event. The same run then anonymises the records of
source datasets and services past their own periods (``record_retention``), and its
``PurgeRun.records`` counts them.

Never purged: events not sealed yet (their leaf hash does not exist yet) and events still held
back from their resident (they go on the first run after their hold ends).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from borough.core.profile import RETENTION_PERIOD
from borough.transparency import db_guard
from borough.transparency.models import (
    Action,
    ActorKind,
    DataUseEvent,
    PurgedEvent,
    PurgeRun,
    SealedLeaf,
)
from borough.transparency.purposes import PURPOSES
from borough.transparency.record_retention import (
    RecordRule,
    anonymise,
    record_schedule,
    record_summary,
)
from borough.transparency.services import record_data_use
from borough.transparency.visibility import visible_to_resident

#: Events deleted per transaction, so a first purge of years of events holds no lock for long.
BATCH = 10_000


class ScheduleError(ValueError):
    """The retention schedule names a purpose or action the log does not know."""


@dataclass(frozen=True)
class Rule:
    kind: str  # "purpose", "action" or "default"
    code: str
    period: str
    cutoff: dt.datetime  # events before this are due

    def describe(self) -> str:
        what = "every other event" if self.kind == "default" else f"{self.kind} {self.code}"
        return f"{what}: kept {self.period}, so before {timezone.localtime(self.cutoff):%Y-%m-%d}"


def _months_back(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cutoff(period: str, today: dt.date) -> dt.datetime:
    """The first moment (UK time) an event may have happened and still be kept."""
    match = RETENTION_PERIOD.fullmatch(period)
    if match is None:
        raise ScheduleError(f"{period!r} is not a retention period")
    number, unit = int(match[1]), match[2]
    if unit == "day":
        day = today - dt.timedelta(days=number)
    else:
        day = _months_back(today, number * (12 if unit == "year" else 1))
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_default_timezone())


def schedule(today: dt.date, retention=None) -> list[Rule]:
    """The council's rules, most specific first, with their cutoffs for ``today``."""
    retention = retention or settings.COUNCIL.retention
    unknown = sorted(set(retention.purposes) - set(PURPOSES))
    unknown += sorted(set(retention.actions) - set(Action.values))
    if unknown:
        raise ScheduleError(
            f"The council profile's [retention] names unknown codes: {', '.join(unknown)}. Use "
            "purpose codes from borough/transparency/purposes.py and actions from models.Action."
        )
    rules = [Rule("purpose", c, p, cutoff(p, today)) for c, p in retention.purposes.items()]
    rules += [Rule("action", c, p, cutoff(p, today)) for c, p in retention.actions.items()]
    rules.append(
        Rule("default", "", retention.data_use_events, cutoff(retention.data_use_events, today))
    )
    return rules


def due(rules: list[Rule], now: dt.datetime) -> QuerySet:
    """The sealed events past their period and not held back, at ``now``."""
    covered, past = Q(pk__in=[]), Q(pk__in=[])
    for rule in rules:
        match = Q() if rule.kind == "default" else Q(**{rule.kind: rule.code})
        past |= match & ~covered & Q(occurred_at__lt=rule.cutoff)
        covered |= match
    sealed = Exists(SealedLeaf.objects.filter(event_id=OuterRef("pk")))
    # Held back (the events and the records of their holds) until the resident may see them.
    return visible_to_resident(DataUseEvent.objects.filter(past).filter(sealed), now)


def summary(events: QuerySet) -> list[list]:
    """[purpose, action, count, oldest, newest] per kind of event, oldest kinds first."""
    rows = (
        events.order_by()
        .values("purpose", "action")
        .annotate(n=Count("id"), oldest=Min("occurred_at"), newest=Max("occurred_at"))
        .order_by("oldest", "purpose", "action")
    )
    return [
        [
            r["purpose"],
            r["action"],
            r["n"],
            timezone.localtime(r["oldest"]).isoformat(timespec="seconds"),
            timezone.localtime(r["newest"]).isoformat(timespec="seconds"),
        ]
        for r in rows
    ]


def _purge_batch(ids: list[int], run: PurgeRun) -> None:
    """Tombstone then delete the events ``ids`` (ascending), in one transaction."""
    events = DataUseEvent._meta.db_table
    tombstones = PurgedEvent._meta.db_table
    with transaction.atomic():
        PurgedEvent.objects.bulk_create(
            [
                PurgedEvent(event_id=pk, run=run, occurred_at=at, purpose=purpose, action=action)
                for pk, at, purpose, action in DataUseEvent.objects.filter(pk__in=ids)
                .order_by()
                .values_list("pk", "occurred_at", "purpose", "action")
            ]
        )
        with db_guard.allow_purge(connection), connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {events} WHERE id IN "  # noqa: S608
                f"(SELECT event_id FROM {tombstones} WHERE run_id = %s AND event_id BETWEEN %s AND %s)",
                [run.pk, ids[0], ids[-1]],
            )


def _schedule_json(rules: list[Rule]) -> list[dict]:
    return [
        {"kind": r.kind, "code": r.code, "period": r.period, "before": r.cutoff.isoformat()}
        for r in rules
    ]


def _record_schedule_json(rules: list[RecordRule]) -> list[dict]:
    return [
        {
            "kind": r.kind,
            "code": r.code,
            "period": r.period,
            "before": r.cutoff.isoformat() if r.cutoff else None,
        }
        for r in rules
    ]


@dataclass(frozen=True)
class Purged:
    """What a purge applied and did (or, dry, would do)."""

    rules: list[Rule]
    counts: list  # [purpose, action, count, oldest, newest] per kind of event
    record_rules: list[RecordRule]
    records: list  # [kind, code, count, oldest end, newest end] per dataset or kind of record
    run: PurgeRun | None  # None for a dry run

    @property
    def events_total(self) -> int:
        return sum(row[2] for row in self.counts)

    @property
    def records_total(self) -> int:
        return sum(row[2] for row in self.records)


def purge(now: dt.datetime | None = None, *, dry_run: bool = False) -> Purged:
    """Purge what is past retention at ``now`` (or only count it, with ``dry_run``): the
    data-use events past their period, then the records of source datasets and services past
    theirs (``record_retention``: anonymised in place)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    rules = schedule(today)
    record_rules = record_schedule(today)
    events = due(rules, now)
    counts = summary(events)
    records = record_summary(record_rules)
    if dry_run:
        return Purged(rules, counts, record_rules, records, None)
    total = sum(row[2] for row in counts)
    with transaction.atomic():
        run = PurgeRun.objects.create(
            ran_at=now,
            schedule=_schedule_json(rules) + _record_schedule_json(record_rules),
            counts=counts,
            total=total,
            records=records,
        )
        record_data_use(
            subject_resident_ids=[],
            actor=None,
            actor_kind=ActorKind.SYSTEM,
            actor_label="Retention: borough transparency purge",
            purpose="data_use_retention_purge",
            action=Action.PURGED,
            datasets=["data_use_log"],
            reference=f"purge-run:{run.pk}",
            outcome="purged" if total else "nothing_due",
        )
    after = 0
    while ids := list(
        events.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:BATCH]
    ):
        _purge_batch(ids, run)
        after = ids[-1]
    anonymise(record_rules, run, now)
    return Purged(rules, counts, record_rules, records, run)
