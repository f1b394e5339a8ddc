"""Reading the data-use log: a resident's own history, and the data protection officer's search."""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.db.models import QuerySet
from django.utils import timezone

from borough.transparency.models import DataUseEvent
from borough.transparency.purposes import SERVICE_DATASETS


def events_for_resident(
    resident_ids: str | Iterable[str],
    *,
    service: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[DataUseEvent]:
    """Every recorded use of these residents' data that they may see, newest first.

    THE query behind everything a resident reads about their own log (the timeline, an entry, a
    question): a rule that holds events back from residents goes here and nowhere else. A blank
    ID is ignored, so the events that found nobody are never anyone's. The filters are those of
    ``events``.
    """
    from borough.transparency.visibility import visible_to_resident

    wanted = [resident_ids] if isinstance(resident_ids, str) else list(resident_ids)
    query = DataUseEvent.objects.filter(subject_resident_id__in=[i for i in wanted if i])
    # Events held back during an investigation stay hidden until their date or their release.
    query = visible_to_resident(query, timezone.now())
    return _filtered(query, service=service, since=since, until=until)


def _start_of(day: date) -> datetime:
    # Midnight is never skipped or repeated by UK clock changes, so this is always well defined.
    return timezone.make_aware(datetime.combine(day, time.min))


def _filtered(
    query: QuerySet[DataUseEvent],
    *,
    service: str = "",
    purpose: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[DataUseEvent]:
    if service:
        query = query.filter(service=service)
    if purpose:
        query = query.filter(purpose=purpose)
    if since:
        query = query.filter(occurred_at__gte=_start_of(since))
    if until:
        query = query.filter(occurred_at__lt=_start_of(until + timedelta(days=1)))
    return query.order_by("-occurred_at", "-id")


def events(
    *,
    resident_id: str = "",
    service: str = "",
    purpose: str = "",
    since: date | None = None,
    until: date | None = None,
    officer: str = "",
) -> QuerySet[DataUseEvent]:
    """Events matching every filter given, newest first; blank filters match everything.

    ``since`` and ``until`` are calendar days in the council's time zone, both included.
    ``officer`` is a staff account's username: that officer's own events.
    """
    query = DataUseEvent.objects.select_related("actor_user")
    if resident_id:
        query = query.filter(subject_resident_id=resident_id)
    if officer:
        query = query.filter(actor_kind="staff", actor_user__username=officer)
    return _filtered(query, service=service, purpose=purpose, since=since, until=until)


def dataset_titles(codes: Iterable[str]) -> dict[str, str]:
    """Each dataset code's title, as officers read it: a source dataset's declared title, or a
    service's own dataset (``purposes.SERVICE_DATASETS``). An unknown code keeps its code."""
    wanted = set(codes)
    titles = {code: SERVICE_DATASETS[code] for code in wanted if code in SERVICE_DATASETS}
    # The resident index's datasets, read through the app registry: transparency sits below
    # every app that records data use and imports none of them.
    source_dataset = apps.get_model("residents", "SourceDataset")
    titles.update(
        source_dataset.objects.filter(code__in=wanted - titles.keys()).values_list("code", "title")
    )
    return {code: titles.get(code, code) for code in wanted}
