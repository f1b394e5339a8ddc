"""Unusual access, for the data protection officer: patterns in staff use of the data-use log.

Four flags, each over a period of whole days (UK time), each from staff events only (an
officer's own account in ``actor_user``; services, systems and residents are not flagged):

- **Many residents, no case reference**: an officer whose events with no case reference name
  at least ``many_residents`` different residents. A case reference is an application,
  account, case or verification number: a reference with a digit in it. A blank reference, a
  reason code ("resident_request") or a page's name ("rent-account-search") is not one.
- **Outside their own service**: an officer's events for a service none of their roles covers
  (``SERVICES_OF_AREA``, from ``core.roles``). A resident data officer's verifications are
  for other services by design, so those are not flagged. A superuser covers every service.
- **Odd hours**: an officer's events outside working hours (``working_hours``, Monday to
  Friday by default, ``working_days``), in UK time.
- **Looked up repeatedly**: a resident whose data staff used in at least ``repeated_lookups``
  actions.

The data protection officer's own oversight of the log (``OVERSIGHT_PURPOSES``: reading it,
this page included, answering questions, releasing a held entry) is counted in neither "Many
residents, no case reference" nor "Looked up repeatedly": otherwise opening this page, which
records the residents it shows, would flag the officer and keep those residents flagged.

And one flag about residents' online accounts, over all time: **Claimed by several accounts**,
a resident ID that identity checks of two or more online accounts settled on (one of them may
be someone who knows the resident's name, date of birth and address; a code posted to the
resident stands between them and the resident's history, ``residents.history_codes``).

The thresholds are ``settings.BOROUGH_OVERSIGHT`` (see ``thresholds``). Every query is bounded by
``occurred_at`` and served by the partial index on staff events (``data_use_staff_time``), so a
period's cost follows the staff events in it, not the size of the log. Each query groups in the
database and returns at most ``LIMIT`` rows.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, ExtractMinute

from borough.core.roles import AREAS, ROLE_BY_GROUP
from borough.transparency.models import ActorKind, DataUseEvent
from borough.transparency.queries import _start_of

#: The services each staff area's work uses residents' data for.
SERVICES_OF_AREA = {
    "parking": {"parking"},
    "enforcement": {"parking"},
    "housing": {"housing"},
    "finance": {"housing"},
    "residents": {"residents"},
    "transparency": {"transparency"},
    "insights": set(),
    "administration": set(),
}

#: The most rows one flag lists.
LIMIT = 100

DEFAULTS = {
    "many_residents": 50,
    "repeated_lookups": 5,
    "working_hours": ("08:00", "18:00"),
    "working_days": (1, 2, 3, 4, 5),  # ISO weekdays: Monday 1 … Sunday 7
}

#: A case reference has a digit in it (application, account, case or verification numbers).
CASE_REFERENCE = r"[0-9]"


@dataclass(frozen=True)
class Thresholds:
    many_residents: int
    repeated_lookups: int
    day_starts: dt.time
    day_ends: dt.time
    working_days: tuple[int, ...]


def thresholds() -> Thresholds:
    """The council's thresholds: ``settings.BOROUGH_OVERSIGHT`` over ``DEFAULTS``."""
    given = {**DEFAULTS, **getattr(settings, "BOROUGH_OVERSIGHT", {})}
    starts, ends = (dt.time.fromisoformat(t) for t in given["working_hours"])
    if not starts < ends:
        raise ValueError("BOROUGH_OVERSIGHT working_hours must start before they end.")
    return Thresholds(
        many_residents=int(given["many_residents"]),
        repeated_lookups=int(given["repeated_lookups"]),
        day_starts=starts,
        day_ends=ends,
        working_days=tuple(int(d) for d in given["working_days"]),
    )


def staff_events(since: dt.date, until: dt.date) -> QuerySet[DataUseEvent]:
    """Staff events from the start of ``since`` to the end of ``until`` (UK days)."""
    return DataUseEvent.objects.filter(
        actor_kind=ActorKind.STAFF,
        occurred_at__gte=_start_of(since),
        occurred_at__lt=_start_of(until + dt.timedelta(days=1)),
    ).order_by()


@dataclass(frozen=True)
class OfficerFlag:
    user: object
    count: int  # residents, events or actions, as the flag says
    detail: str = ""
    first: dt.datetime | None = None
    last: dt.datetime | None = None


@dataclass(frozen=True)
class ResidentFlag:
    resident_id: str
    actions: int
    officers: int
    last: dt.datetime


def _users(ids) -> dict:
    return get_user_model().objects.in_bulk(list(ids))


def areas_by_user(users) -> dict[int, list[str]]:
    """Each staff account's areas (``core.roles.areas_for``), for many accounts in one query."""
    users = list(users)
    groups = get_user_model().groups.through.objects.filter(user__in=users)
    held: dict[int, set[str]] = {}
    for user_id, name in groups.values_list("user_id", "group__name"):
        role = ROLE_BY_GROUP.get(name)
        if role:
            held.setdefault(user_id, set()).update(role.areas)
    return {
        user.pk: list(AREAS)
        if user.is_superuser
        else [slug for slug in AREAS if slug in held.get(user.pk, set())]
        for user in users
    }


#: The data protection officer's oversight of the log itself, which the resident flags and the
#: no-case flag leave out (their events still count for odd hours and outside one's service).
OVERSIGHT_PURPOSES = ("data_use_log_audit", "data_use_disclosure")


def many_residents_without_case(
    since: dt.date, until: dt.date, limit: Thresholds | None = None
) -> list[OfficerFlag]:
    limit = limit or thresholds()
    rows = (
        staff_events(since, until)
        .exclude(subject_resident_id="")
        .exclude(purpose__in=OVERSIGHT_PURPOSES)
        .exclude(reference__regex=CASE_REFERENCE)
        .values("actor_user")
        .annotate(
            residents=Count("subject_resident_id", distinct=True),
            first=Min("occurred_at"),
            last=Max("occurred_at"),
        )
        .filter(residents__gte=limit.many_residents)
        .order_by("-residents")[:LIMIT]
    )
    rows = list(rows)
    users = _users(r["actor_user"] for r in rows)
    return [
        OfficerFlag(users[r["actor_user"]], r["residents"], first=r["first"], last=r["last"])
        for r in rows
    ]


def _outside(areas: list[str], service: str, action: str, is_superuser: bool) -> bool:
    if is_superuser:
        return False
    if action == "verification" and "residents" in areas:
        return False  # checking details for any service is the resident data officer's job
    return not any(service in SERVICES_OF_AREA.get(area, set()) for area in areas)


def outside_own_service(since: dt.date, until: dt.date) -> list[OfficerFlag]:
    rows = list(
        staff_events(since, until)
        .values("actor_user", "service", "action")
        .annotate(events=Count("id"), first=Min("occurred_at"), last=Max("occurred_at"))
        .order_by("actor_user", "service")
    )
    users = _users({r["actor_user"] for r in rows})
    areas = areas_by_user(users.values())
    flags: dict[tuple[int, str], list] = {}
    for r in rows:
        user = users[r["actor_user"]]
        if _outside(areas[user.pk], r["service"], r["action"], user.is_superuser):
            key = (r["actor_user"], r["service"])
            count, first, last = flags.get(key, (0, r["first"], r["last"]))
            flags[key] = [count + r["events"], min(first, r["first"]), max(last, r["last"])]
    found = [
        OfficerFlag(users[user_id], count, detail=service, first=first, last=last)
        for (user_id, service), (count, first, last) in flags.items()
    ]
    return sorted(found, key=lambda f: -f.count)[:LIMIT]


def odd_hours(since: dt.date, until: dt.date, limit: Thresholds | None = None) -> list[OfficerFlag]:
    limit = limit or thresholds()
    london = zoneinfo.ZoneInfo("Europe/London")
    starts = limit.day_starts.hour * 60 + limit.day_starts.minute
    ends = limit.day_ends.hour * 60 + limit.day_ends.minute
    # minutes since local midnight, computed in the database in UK time (clock changes too)
    query = staff_events(since, until).annotate(
        local_hour=ExtractHour("occurred_at", tzinfo=london),
        local_minute=ExtractMinute("occurred_at", tzinfo=london),
        local_day=ExtractIsoWeekDay("occurred_at", tzinfo=london),
    )
    outside = (
        ~Q(local_day__in=limit.working_days)
        | Q(local_hour__lt=starts // 60)
        | Q(local_hour=starts // 60, local_minute__lt=starts % 60)
        | Q(local_hour__gt=ends // 60)
        | Q(local_hour=ends // 60, local_minute__gte=ends % 60)
    )
    rows = list(
        query.filter(outside)
        .values("actor_user")
        .annotate(events=Count("id"), first=Min("occurred_at"), last=Max("occurred_at"))
        .order_by("-events")[:LIMIT]
    )
    users = _users(r["actor_user"] for r in rows)
    return [
        OfficerFlag(users[r["actor_user"]], r["events"], first=r["first"], last=r["last"])
        for r in rows
    ]


def looked_up_repeatedly(
    since: dt.date, until: dt.date, limit: Thresholds | None = None
) -> list[ResidentFlag]:
    limit = limit or thresholds()
    rows = (
        staff_events(since, until)
        .exclude(subject_resident_id="")
        .exclude(purpose__in=OVERSIGHT_PURPOSES)
        .values("subject_resident_id")
        .annotate(
            actions=Count("id"),
            officers=Count("actor_user", distinct=True),
            last=Max("occurred_at"),
        )
        .filter(actions__gte=limit.repeated_lookups)
        .order_by("-actions", "subject_resident_id")[:LIMIT]
    )
    return [
        ResidentFlag(r["subject_resident_id"], r["actions"], r["officers"], r["last"]) for r in rows
    ]


@dataclass(frozen=True)
class ClaimFlag:
    resident_id: str
    accounts: int  # online accounts whose own checks settled on the resident ID
    confirmed: int  # of them, those that entered a code posted to the resident
    last: dt.datetime  # the latest such check


def claimed_by_several_accounts() -> list[ClaimFlag]:
    """Resident IDs that passed identity checks of two or more online accounts settled on."""
    verification = apps.get_model("residents", "Verification")
    history_code = apps.get_model("residents", "HistoryCode")
    passed = (Q(decision="verified") & ~Q(review="rejected")) | Q(review="confirmed")
    rows = list(
        verification.objects.filter(passed, actor_kind="resident", actor_user__isnull=False)
        .exclude(resident_id="")
        .values("resident_id")
        .annotate(accounts=Count("actor_user", distinct=True), last=Max("requested_at"))
        .filter(accounts__gte=2)
        .order_by("-accounts", "resident_id")[:LIMIT]
    )
    confirmed = dict(
        history_code.objects.filter(
            resident_id__in=[r["resident_id"] for r in rows], used_at__isnull=False
        )
        .values("resident_id")
        .annotate(n=Count("account", distinct=True))
        .values_list("resident_id", "n")
    )
    return [
        ClaimFlag(r["resident_id"], r["accounts"], confirmed.get(r["resident_id"], 0), r["last"])
        for r in rows
    ]
