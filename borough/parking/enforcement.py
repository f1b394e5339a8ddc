"""The enforcement check: is this vehicle allowed to park in this zone now? Every answer is
read from the database, and every look-up is written to the data-use log (for a permit found,
in the look-up's own statement on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.db import connections, router
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from borough.parking.models import Permit, VisitorSession, Zone
from borough.transparency.lookup_events import lookup_and_record_data_use
from borough.transparency.models import Action, ActorKind
from borough.transparency.services import record_data_use


@dataclass(frozen=True)
class EnforcementAnswer:
    """What an enforcement officer may know: allowed or not, by what, until when. No names,
    no addresses."""

    vrm: str
    zone: str
    allowed: bool
    permit_type: str | None = None
    valid_until: str | None = None  # ISO date for permits, ISO time for visitor sessions

    def as_dict(self) -> dict:
        return {
            "vrm": self.vrm,
            "zone": self.zone,
            "allowed": self.allowed,
            "permit_type": self.permit_type,
            "valid_until": self.valid_until,
        }


#: How long a process keeps its list of active zones: a zone added or dropped by
#: ``borough parking load-zones`` (another process) is seen by the API within this time.
ZONE_CACHE_SECONDS = 60.0

# (monotonic time read, {code in capitals: zone}); replaced whole, so threads can share it.
_active_zones: tuple[float, dict[str, Zone]] | None = None


def active_zone(code: str) -> Zone | None:
    """The active zone with this code (any case), from a per-process copy of the active zones
    kept ``ZONE_CACHE_SECONDS`` and dropped whenever a ``Zone`` is saved or deleted in this
    process. The zones are shared between requests: read-only, and without their boundary."""
    global _active_zones
    cached = _active_zones
    if cached is None or time.monotonic() - cached[0] >= ZONE_CACHE_SECONDS:
        read_at = time.monotonic()
        zones: dict[str, Zone] = {}
        for zone in Zone.objects.filter(active=True).defer("boundary").order_by("code"):
            zones.setdefault(zone.code.upper(), zone)
        cached = _active_zones = (read_at, zones)
    return cached[1].get(code.strip().upper())


def forget_active_zones(**_) -> None:
    global _active_zones
    _active_zones = None


post_save.connect(forget_active_zones, sender=Zone, dispatch_uid="parking_active_zones_save")
post_delete.connect(forget_active_zones, sender=Zone, dispatch_uid="parking_active_zones_delete")


def check_vehicle(
    vrm: str,
    zone: Zone,
    *,
    actor=None,
    actor_kind: str = ActorKind.STAFF,
    actor_label: str = "",
    at: dt.datetime | None = None,
) -> EnforcementAnswer:
    """Is ``vrm`` allowed to park in ``zone`` now? One indexed look-up for permits (with the
    holder's resident ID, joined), one for visitor sessions if no permit; the look-up is written
    to the data-use log (the permit holder as the subject where a permit was found; otherwise an
    event with no resident). A permit found is recorded by the look-up's own statement on
    PostgreSQL (``lookup_and_record_data_use``): one round trip for the whole check. Never
    cached: every answer is read from the database."""
    at = at or timezone.now()
    today = timezone.localdate(at)
    event = {
        "actor": actor,
        "actor_kind": actor_kind,
        "actor_label": actor_label,
        "purpose": "parking_enforcement_check",
        "action": Action.ENFORCEMENT_CHECK,
        "datasets": ["parking_permits"],
    }
    # The permit look-up and its event in one statement (one round trip on PostgreSQL).
    sql, values = _permit_check_sql(vrm, zone.pk, today)
    permit = lookup_and_record_data_use(sql, values, from_row=_PERMIT_EVENT, **event)
    if permit is not None:
        permit_type, ends_on, _, _ = permit
        return EnforcementAnswer(vrm, zone.code, True, permit_type, ends_on.isoformat())
    else:
        session = (
            VisitorSession.objects.filter(
                vrm=vrm,
                zone_id=zone.pk,
                starts_at__lte=at,
                ends_at__gt=at,
                ended_early_at__isnull=True,
                status=VisitorSession.Status.BOOKED,
            )
            .order_by("-ends_at")
            .values_list("pk", "ends_at")
            .first()
        )
        if session is not None:
            answer = EnforcementAnswer(
                vrm, zone.code, True, "visitor", timezone.localtime(session[1]).isoformat()
            )
            reference = f"VS-{session[0]}"
        else:
            answer = EnforcementAnswer(vrm, zone.code, False)
            reference = ""
    record_data_use(
        subject_resident_ids=[],
        reference=reference,
        outcome="allowed" if answer.allowed else "not_allowed",
        **event,
    )
    return answer


#: A check that found a permit records the holder (when their resident ID is known), the
#: permit's number and "allowed", from the look-up's row (``permit_check_query``'s columns).
_PERMIT_EVENT = {
    "subject_resident_id": "coalesce(found.application__resident_id, '')",
    "reference": "found.number",
    "outcome": "'allowed'",
}


#: A renewal counts from its first day, whether or not it has been handed over yet.
_PERMIT_COUNTS = (*Permit.LIVE, Permit.Status.SCHEDULED)


def permit_check_query(vrm: str, zone_id: int, today: dt.date):
    """The enforcement check's permit look-up: the permit that lets ``vrm`` park in the zone
    today, latest-ending first, as (permit type, last day, number, holder's resident ID). One
    query (permit joined to its application), served by the index ``permit_check``."""
    return _permit_check_query(vrm, zone_id, started_by=today, ending_from=today)


def _permit_check_query(vrm: str, zone_id: int, *, started_by: dt.date, ending_from: dt.date):
    return (
        Permit.objects.filter(
            vrm=vrm,
            zone_id=zone_id,
            status__in=_PERMIT_COUNTS,
            starts_on__lte=started_by,
            ends_on__gte=ending_from,
        )
        .order_by("-ends_on")
        .values_list("permit_type", "ends_on", "number", "application__resident_id")[:1]
    )


# Stand-ins for the look-up's values while its SQL is compiled, found again among the parameters.
_STAND_INS = ("\x00vrm", -7_251_302, dt.date(1, 2, 3), dt.date(1, 4, 5))

# database alias -> (SQL, parameters, positions of vrm, zone, first day, last day)
_compiled_check: dict[str, tuple[str, tuple, tuple[int, ...]]] = {}


def _live_permit(vrm: str, zone_id: int, today: dt.date) -> tuple | None:
    """``permit_check_query(vrm, zone_id, today)``'s one row, or None."""
    connection = connections[router.db_for_read(Permit)]
    sql, values = _permit_check_sql(vrm, zone_id, today)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.fetchone()


def _permit_check_sql(vrm: str, zone_id: int, today: dt.date) -> tuple[str, list]:
    """``permit_check_query(vrm, zone_id, today)`` as SQL and parameters. Building a query's SQL
    costs the ORM more than PostgreSQL takes to run it, so this builds it once per process and
    database (from the same queryset) and puts in each check's values."""
    connection = connections[router.db_for_read(Permit)]
    compiled = _compiled_check.get(connection.alias)
    if compiled is None:
        compiled = _compiled_check[connection.alias] = _compile_check(connection)
    sql, params, slots = compiled
    values = list(params)
    day = connection.ops.adapt_datefield_value(today)
    for slot, value in zip(slots, (vrm, zone_id, day, day), strict=True):
        values[slot] = value
    return sql, values


def _compile_check(connection) -> tuple[str, tuple, tuple[int, ...]]:
    vrm, zone_id, started_by, ending_from = _STAND_INS
    queryset = _permit_check_query(vrm, zone_id, started_by=started_by, ending_from=ending_from)
    sql, params = queryset.query.get_compiler(connection=connection).as_sql()
    adapt = connection.ops.adapt_datefield_value
    wanted = (vrm, zone_id, adapt(started_by), adapt(ending_from))
    if any(params.count(value) != 1 for value in wanted):
        raise RuntimeError("The permit look-up's SQL does not take its values as expected.")
    return sql, tuple(params), tuple(params.index(value) for value in wanted)
