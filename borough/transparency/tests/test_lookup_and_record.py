"""lookup_and_record_data_use: a look-up and the event that records it, in one statement on
PostgreSQL, with record_data_use's rules."""

import pytest
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from borough.core.prepared import prepared_cursor
from borough.transparency.lookup_events import lookup_and_record_data_use
from borough.transparency.models import DataUseEvent
from borough.transparency.services import record_data_use

pytestmark = pytest.mark.django_db

#: A look-up standing in for a service's own: one row with a resident ID and a reference.
FOUND = "SELECT %s AS resident_id, %s AS number, %s AS kind"
NOTHING = "SELECT %s AS resident_id, %s AS number, %s AS kind WHERE 1 = 0"
FROM_ROW = {
    "subject_resident_id": "found.resident_id",
    "reference": "found.number",
    "outcome": "'allowed'",
}
EVENT = {
    "actor": None,
    "actor_kind": "service",
    "actor_label": "Parking permits service",
    "purpose": "parking_enforcement_check",
    "action": "enforcement_check",
    "datasets": ["parking_permits"],
}


def _fields(event: DataUseEvent) -> dict:
    kept = model_to_dict(event)
    for own in ("id", "action_id", "occurred_at"):
        kept.pop(own, None)
    return kept


def test_a_row_found_is_recorded_as_record_data_use_would_record_it():
    row = lookup_and_record_data_use(
        FOUND, ["R00000042", "RP-2026-000001", "resident"], from_row=FROM_ROW, **EVENT
    )
    assert tuple(row) == ("R00000042", "RP-2026-000001", "resident")
    [written] = DataUseEvent.objects.all()
    [same] = record_data_use(
        subject_resident_ids=["R00000042"], reference="RP-2026-000001", outcome="allowed", **EVENT
    )
    assert _fields(written) == _fields(DataUseEvent.objects.get(pk=same.pk))
    assert written.subject_resident_id == "R00000042" and written.outcome == "allowed"


def test_a_row_with_no_resident_records_an_event_with_none_when_the_purpose_allows_it():
    lookup_and_record_data_use(
        FOUND, ["", "RP-2026-000001", "resident"], from_row=FROM_ROW, **EVENT
    )
    assert DataUseEvent.objects.get().subject_resident_id == ""


def test_finding_nothing_records_nothing():
    assert (
        lookup_and_record_data_use(
            NOTHING, ["R00000042", "RP-2026-000001", "resident"], from_row=FROM_ROW, **EVENT
        )
        is None
    )
    assert not DataUseEvent.objects.exists()


@pytest.mark.parametrize(
    "values",
    [
        ["Ada Lovelace", "RP-2026-000001", "resident"],
        ["R00000042", "flat 2, 1 High Street", "resident"],
    ],
)
def test_a_row_value_that_is_not_an_identifier_is_refused_and_nothing_recorded(values):
    with pytest.raises(ValueError) as refused, transaction.atomic():
        lookup_and_record_data_use(FOUND, values, from_row=FROM_ROW, **EVENT)
    for personal in values[:2]:
        assert personal not in str(refused.value)
    assert not DataUseEvent.objects.exists()


def test_the_event_keeps_every_rule_of_record_data_use():
    with pytest.raises(ValueError, match="Unknown data-use purpose"):
        lookup_and_record_data_use(
            FOUND, ["R1", "X", "y"], from_row=FROM_ROW, **{**EVENT, "purpose": "curiosity"}
        )
    with pytest.raises(ValueError, match="needs an actor_label"):
        lookup_and_record_data_use(
            FOUND, ["R1", "X", "y"], from_row=FROM_ROW, **{**EVENT, "actor_label": ""}
        )
    with pytest.raises(ValueError, match="from_row may give only"):
        lookup_and_record_data_use(
            FOUND, ["R1", "X", "y"], from_row={**FROM_ROW, "purpose": "'x'"}, **EVENT
        )
    # A purpose that must name a resident needs the row to give one.
    with pytest.raises(ValueError, match="must name the resident"):
        lookup_and_record_data_use(
            FOUND,
            ["R1", "X", "y"],
            from_row={"reference": "found.number"},
            **{**EVENT, "purpose": "parking_permit_administration"},
        )
    assert not DataUseEvent.objects.exists()


def test_on_postgresql_the_look_up_and_the_event_are_one_statement_in_the_callers_transaction():
    if connection.vendor != "postgresql":
        pytest.skip("one statement on PostgreSQL; the look-up then record_data_use elsewhere")
    with CaptureQueriesContext(connection) as captured:
        lookup_and_record_data_use(
            FOUND, ["R00000042", "RP-2026-000001", "resident"], from_row=FROM_ROW, **EVENT
        )
    [statement] = [q["sql"] for q in captured.captured_queries]
    assert statement.startswith("WITH found AS")
    # Inside the caller's transaction it commits with that work, as durably.
    assert "synchronous_commit" not in statement


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_outside_a_transaction_it_commits_without_waiting_for_the_disk():
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    with CaptureQueriesContext(connection) as captured:
        lookup_and_record_data_use(
            FOUND, ["R00000042", "RP-2026-000001", "resident"], from_row=FROM_ROW, **EVENT
        )
    [statement] = [q["sql"] for q in captured.captured_queries]
    assert "set_config('synchronous_commit', 'off', true)" in statement
    with connection.cursor() as cursor:  # for its own transaction only
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
    assert DataUseEvent.objects.count() == 1


# -- The statement prepared once per connection (PostgreSQL) -----------------------------------


def _prepared_here() -> dict[str, int]:
    """This connection's prepared statements that start as the combined one does: their
    executions so far, by statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE 'WITH found AS%%'"
        )
        return dict(cursor.fetchall())


def _check(resident: str = "R00000042", lookup: str = FOUND) -> tuple:
    return lookup_and_record_data_use(
        lookup, [resident, "RP-2026-000001", "resident"], from_row=FROM_ROW, **EVENT
    )


def _needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")


def test_on_postgresql_the_statement_is_prepared_at_its_second_run_and_then_reused():
    _needs_postgresql()
    lookup = f"{FOUND} WHERE 2 > 1"  # a statement no other test has run on this connection
    _check("R00000001", lookup)  # a connection used once (one a request): no extra round trip
    assert _prepared_here() == {}
    _check("R00000002", lookup)
    [(statement, runs)] = _prepared_here().items()
    assert runs == 1 and "WHERE 2 > 1" in statement
    _check("R00000003", lookup)
    assert _prepared_here() == {statement: 2}
    assert [e.subject_resident_id for e in DataUseEvent.objects.order_by("id")] == [
        "R00000001",
        "R00000002",
        "R00000003",
    ]
    # Django's own queries are still bound on the client and never prepared.
    for _ in range(10):
        list(DataUseEvent.objects.filter(subject_resident_id="R00000001"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] == 1


@pytest.mark.django_db(transaction=True)
def test_the_prepared_statement_survives_a_new_connection_outside_a_transaction():
    _needs_postgresql()
    _check("R00000001")
    _check("R00000002")
    assert list(_prepared_here().values()) == [1]
    connection.close()  # as after an error or CONN_MAX_AGE: a new session, nothing prepared
    _check("R00000003")
    assert _prepared_here() == {}
    _check("R00000004")
    _check("R00000005")
    assert list(_prepared_here().values()) == [2]
    assert DataUseEvent.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_the_prepared_statement_keeps_the_event_with_the_work():
    _needs_postgresql()
    with pytest.raises(RuntimeError), transaction.atomic():
        _check("R00000001")
        _check("R00000002")  # prepared, inside the transaction
        assert list(_prepared_here().values()) == [1]
        raise RuntimeError("the work failed")
    assert not DataUseEvent.objects.exists()
    with transaction.atomic():
        _check("R00000003")  # prepared again: psycopg forgot it at the rollback
        assert list(_prepared_here().values()) == [1]
    # Outside a transaction: the statement that commits on its own, prepared at its second run.
    _check("R00000004")
    _check("R00000005")
    assert sorted(_prepared_here().values()) == [1, 1]
    assert sorted(DataUseEvent.objects.values_list("subject_resident_id", flat=True)) == [
        "R00000003",
        "R00000004",
        "R00000005",
    ]


def test_a_refused_row_value_is_refused_by_the_prepared_statement_too():
    _needs_postgresql()
    _check("R00000001")
    _check("R00000002")
    with CaptureQueriesContext(connection) as captured:
        with pytest.raises(ValueError), transaction.atomic():
            _check("Ada Lovelace")
    assert any(q["sql"].startswith("WITH found AS") for q in captured.captured_queries)
    assert DataUseEvent.objects.count() == 2
    # psycopg forgets its prepared statements on a rollback (it cannot tell what was undone);
    # the next check prepares again.
    _check("R00000003")
    assert list(_prepared_here().values()) == [1]
    assert DataUseEvent.objects.count() == 3


def test_with_prepared_statements_turned_off_nothing_is_prepared(settings):
    _needs_postgresql()
    settings.BOROUGH_DB_PREPARED_STATEMENTS = False
    _check()
    assert _prepared_here() == {}
    assert DataUseEvent.objects.get().subject_resident_id == "R00000042"


def test_elsewhere_the_prepared_cursor_is_djangos_own():
    with prepared_cursor(connection) as cursor, connection.cursor() as plain:
        same = type(cursor.cursor) is type(plain.cursor)
    assert same == (connection.vendor != "postgresql")


def test_a_repeated_call_records_a_new_event_each_time_with_its_own_id_and_time():
    _check("R00000001")
    _check("R00000002")  # the event's parameters kept from the first call
    lookup_and_record_data_use(
        FOUND,
        ["R00000003", "RP-2026-000003", "resident"],
        from_row=FROM_ROW,
        **{**EVENT, "actor_label": "API client van-7", "datasets": ("parking_permits",)},
    )
    first, second, third = DataUseEvent.objects.order_by("id")
    assert first.action_id != second.action_id != third.action_id
    assert first.occurred_at <= second.occurred_at <= third.occurred_at
    assert _fields(second) == {**_fields(first), "subject_resident_id": "R00000002"}
    assert third.actor_label == "API client van-7" and third.reference == "RP-2026-000003"
    # What was kept is never used for a call that breaks a rule.
    with pytest.raises(TypeError, match="not one string"):
        lookup_and_record_data_use(
            FOUND,
            ["R00000004", "X", "y"],
            from_row=FROM_ROW,
            **{**EVENT, "datasets": "parking_permits"},
        )
    assert DataUseEvent.objects.count() == 3


@pytest.mark.parametrize(
    "label",
    [
        "API key 'van-7'",
        "Night shift's device: 100% of zones",
        "%s %(x)s %% '; DROP TABLE transparency_datauseevent; --",
        "Ffordd y Môr — café",
    ],
)
def test_a_services_values_kept_in_its_statement_are_recorded_exactly_as_given(label):
    # A service's event is kept with its values written into the statement as literals: quotes,
    # percent signs and placeholders in a label are the label, not SQL or parameters.
    for resident in ("R00000001", "R00000002"):  # built, then reused
        lookup_and_record_data_use(
            FOUND,
            [resident, "RP-2026-000001", "resident"],
            from_row=FROM_ROW,
            **{**EVENT, "actor_label": label},
        )
    record_data_use(
        subject_resident_ids=["R00000002"],
        reference="RP-2026-000001",
        outcome="allowed",
        **{**EVENT, "actor_label": label},
    )
    first, second, third = DataUseEvent.objects.order_by("id")
    assert first.actor_label == second.actor_label == label
    assert _fields(second) == _fields(third)
    assert first.action_id != second.action_id
