"""An event written on its own does not wait for the disk on PostgreSQL; one written inside the
work's transaction commits with that work, as durably as the work."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from borough.transparency.models import ActorKind, DataUseEvent
from borough.transparency.services import record_data_use

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ONE_STATEMENT = "set_config('synchronous_commit', 'off', true)"
SET_LOCAL = "SET LOCAL synchronous_commit TO OFF"


def _unsynced(statements: list[str]) -> bool:
    return any(ONE_STATEMENT in sql or SET_LOCAL in sql for sql in statements)


def _record():
    return record_data_use(
        subject_resident_ids=["R000000001"],
        actor=None,
        actor_kind=ActorKind.SERVICE,
        actor_label="Parking permits service",
        purpose="parking_enforcement_check",
        action="enforcement_check",
    )


def _statements(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries]


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")


def test_an_event_on_its_own_is_committed_without_waiting_for_the_disk():
    with CaptureQueriesContext(connection) as captured:
        [event] = _record()
    # One statement, one round trip: the INSERT sets synchronous_commit off for itself.
    [insert] = _statements(captured)
    assert ONE_STATEMENT in insert and insert.startswith("INSERT")
    assert not connection.in_atomic_block
    with connection.cursor() as cursor:  # for its own transaction only
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
    stored = DataUseEvent.objects.get(pk=event.pk)
    assert (stored.subject_resident_id, stored.actor_label, stored.datasets_read) == (
        "R000000001",
        "Parking permits service",
        [],
    )
    assert stored.actor_user_id is None and stored.hidden_until is None
    # Committed: another connection sees it.
    import psycopg

    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
    ) as other:
        seen = other.execute(
            "SELECT count(*) FROM transparency_datauseevent WHERE id = %s", [event.pk]
        ).fetchone()[0]
    assert seen == 1


def test_an_event_inside_the_works_transaction_commits_with_it_as_durably():
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        _record()
    assert not _unsynced(_statements(captured))


def test_several_residents_on_their_own_are_one_transaction_without_waiting_for_the_disk():
    with CaptureQueriesContext(connection) as captured:
        written = record_data_use(
            subject_resident_ids=["R000000001", "R000000002"],
            actor=None,
            actor_kind=ActorKind.SERVICE,
            actor_label="Parking permits service",
            purpose="parking_enforcement_check",
            action="enforcement_check",
        )
    assert SET_LOCAL in _statements(captured) and len(written) == 2


def test_a_council_can_make_every_event_wait_for_the_disk(settings):
    settings.TRANSPARENCY_SYNCHRONOUS_EVENTS = True
    with CaptureQueriesContext(connection) as captured:
        _record()
    assert not _unsynced(_statements(captured))
