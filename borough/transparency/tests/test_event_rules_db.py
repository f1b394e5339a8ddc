"""The database itself refuses an event that breaks one of its three rules (a trigger on both
vendors, migration 0014): whoever writes the row, whatever the application checked first."""

import pytest
from django.db import IntegrityError, connection, transaction

from borough.transparency.models import DataUseEvent

TABLE = DataUseEvent._meta.db_table
COLUMNS = [
    f.column
    for f in DataUseEvent._meta.local_concrete_fields
    if f is not DataUseEvent._meta.auto_field
]


def _copy(event_id: int, **changed) -> None:
    """INSERT a copy of event ``event_id`` with some columns changed, as raw SQL."""
    values = ", ".join("%s" if column in changed else column for column in COLUMNS)
    params = [changed[c] for c in COLUMNS if c in changed]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) "
            f"SELECT {values} FROM {TABLE} WHERE id = %s",
            [*params, event_id],
        )


@pytest.fixture
def service_event(verification):
    (event,) = verification("R-1")
    assert event.actor_kind == "service" and event.actor_user_id is None
    return event


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rule", "changed"),
    [
        ("data_use_actor_kind", {"actor_kind": "robot"}),
        ("data_use_actor_user_matches_kind", {"actor_kind": "staff"}),
        ("data_use_actor_user_matches_kind", {"actor_kind": "resident"}),
        ("data_use_hidden_only_if_restricted", {"hidden_until": "2030-01-01"}),
    ],
)
def test_an_event_breaking_a_rule_is_refused(service_event, rule, changed):
    before = DataUseEvent.objects.count()
    with pytest.raises(IntegrityError, match=rule):
        _copy(service_event.pk, **changed)
    assert DataUseEvent.objects.count() == before


@pytest.mark.django_db
def test_a_service_naming_an_account_is_refused(service_event, dpo):
    with pytest.raises(IntegrityError, match="data_use_actor_user_matches_kind"):
        _copy(service_event.pk, actor_user_id=dpo.pk)


@pytest.mark.django_db
def test_a_person_with_an_account_and_a_restricted_hold_are_allowed(service_event, dpo):
    _copy(service_event.pk, actor_kind="staff", actor_user_id=dpo.pk)
    _copy(
        service_event.pk,
        restriction_reason_code="enforcement_investigation",
        hidden_until="2030-01-01",
    )
    _copy(service_event.pk)
    assert DataUseEvent.objects.count() == 4
