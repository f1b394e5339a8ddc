"""record_data_use: the one way to write the data-use log."""

import logging

import pytest
from django.db import transaction

from borough.transparency.models import AppendOnlyError, DataUseEvent
from borough.transparency.purposes import PURPOSES
from borough.transparency.services import MAX_SUBJECTS, record_data_use

pytestmark = pytest.mark.django_db


def test_a_verification_writes_one_event_per_resident_in_one_query(
    verification, django_assert_num_queries
):
    with django_assert_num_queries(1):
        events = verification("R-1", "R-2", "R-3")

    assert [e.subject_resident_id for e in events] == ["R-1", "R-2", "R-3"]
    assert all(e.pk for e in events)
    assert DataUseEvent.objects.count() == 3
    assert len({e.action_id for e in events}) == 1  # one action, three residents
    assert len({e.occurred_at for e in events}) == 1


def test_the_event_carries_the_purpose_and_lawful_basis_in_plain_english(verification):
    (event,) = verification("R-1")
    event = DataUseEvent.objects.get(pk=event.pk)
    purpose = PURPOSES["parking_permit_residency_check"]
    assert event.service == "parking"
    assert event.purpose == "parking_permit_residency_check"
    assert event.purpose_text == "To check you live at the address you gave for your parking permit"
    assert event.lawful_basis == "public_task_parking_permits"
    assert event.lawful_basis_text == purpose.basis.text()
    assert event.datasets_read == ["council_tax", "electoral_register"]
    assert (event.actor_kind, event.actor_user, event.actor_label) == (
        "service",
        None,
        "Parking permits service",
    )
    assert (event.action, event.reference, event.outcome) == (
        "verification",
        "PP-2026-000123",
        "verified",
    )
    assert event.occurred_at.tzinfo is not None


def test_a_staff_view_names_the_officer_and_the_service(officer):
    (event,) = record_data_use(
        subject_resident_ids=["R-1"],
        actor=officer,
        actor_kind="staff",
        purpose="staff_view_records",
        service="parking",
        action="viewed_records",
        datasets=["resident_index"],
    )
    assert (event.actor_user, event.actor_label, event.service) == (
        officer,
        "Council officer",
        "parking",
    )


def test_an_unknown_purpose_is_refused_with_the_known_ones_listed(verification):
    with pytest.raises(ValueError, match="Unknown data-use purpose 'parking_whim'") as error:
        verification("R-1", purpose="parking_whim")
    assert "parking_permit_residency_check" in str(error.value)
    assert "purposes.py" in str(error.value)
    assert DataUseEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"action": "peeked"}, "Unknown action"),
        ({"actor_kind": "robot"}, "Unknown actor_kind"),
        ({"actor_label": ""}, "needs an actor_label"),
        ({"actor_label": "x" * 121}, "at most 120"),
        ({"actor_kind": "staff"}, "needs actor= a staff account"),
        ({"service": "housing"}, "belongs to the 'parking' service"),
        ({"service": "libraries"}, "Unknown service"),
        ({"datasets": ["Council Tax"]}, "datasets\\[0\\] is not a dataset code"),
        ({"datasets": "council_tax"}, "not one string"),
        ({"outcome": "Verified OK"}, "outcome must be a short"),
    ],
)
def test_bad_arguments_are_refused(verification, overrides, message):
    with pytest.raises((ValueError, TypeError), match=message):
        verification("R-1", **overrides)
    assert DataUseEvent.objects.count() == 0


def test_a_service_actor_is_not_a_person(verification, officer):
    with pytest.raises(ValueError, match="not a person"):
        verification("R-1", actor=officer)


def test_a_resident_actor_must_be_a_resident_account(resident, officer):
    arguments = {
        "subject_resident_ids": ["R-1"],
        "actor_kind": "resident",
        "purpose": "housing_rent_account_self_service",
        "action": "viewed_records",
        "datasets": ["rent_accounts"],
    }
    with pytest.raises(ValueError, match="a resident account"):
        record_data_use(actor=officer, **arguments)
    (event,) = record_data_use(actor=resident, **arguments)
    assert (event.actor_user, event.service) == (resident, "housing")


def test_a_purpose_shared_by_services_needs_the_service(officer):
    with pytest.raises(ValueError, match="say which with service="):
        record_data_use(
            subject_resident_ids=["R-1"],
            actor=officer,
            actor_kind="staff",
            purpose="staff_view_records",
            action="viewed_records",
        )


def test_refusals_never_repeat_the_refused_value(verification):
    # A caller's slip might pass personal data; it must not reach an error message (and so a log).
    for overrides in (
        {"subject_resident_ids": ["Jane Smith"]},
        {"reference": "jane.smith@example.com"},
        {"reference": "E8 1DY"},
        {"datasets": ["Jane Smith"]},
    ):
        with pytest.raises(ValueError) as error:
            verification(**overrides)
        message = str(error.value)
        assert "Jane" not in message and "jane" not in message and "E8" not in message


def test_a_single_string_of_residents_is_refused(verification):
    with pytest.raises(TypeError, match="not one string"):
        verification(subject_resident_ids="R-123")


def test_repeated_residents_and_datasets_are_recorded_once(verification):
    events = verification("R-1", "R-1", "R-2", datasets=["council_tax", "council_tax"])
    assert [e.subject_resident_id for e in events] == ["R-1", "R-2"]
    assert events[0].datasets_read == ["council_tax"]


def test_a_look_up_that_found_nobody_is_recorded_without_a_resident(verification):
    (event,) = verification(outcome="not_found")
    assert event.subject_resident_id == ""


def test_a_purpose_that_reads_someone_must_name_them(resident):
    with pytest.raises(ValueError, match="must name the residents"):
        record_data_use(
            subject_resident_ids=[],
            actor=resident,
            actor_kind="resident",
            purpose="housing_rent_account_self_service",
            action="viewed_records",
        )


def test_too_many_residents_in_one_call_is_refused(verification):
    with pytest.raises(ValueError, match="at most 1,000"):
        verification(*[f"R-{n}" for n in range(MAX_SUBJECTS + 1)])


def test_the_largest_call_is_stored(verification):
    events = verification(*[f"R-{n}" for n in range(MAX_SUBJECTS)])
    assert len(events) == DataUseEvent.objects.count() == MAX_SUBJECTS


def test_the_event_is_written_in_the_callers_transaction(verification):
    with pytest.raises(RuntimeError), transaction.atomic():
        verification("R-1")
        raise RuntimeError("the verification failed after recording")
    assert DataUseEvent.objects.count() == 0


def test_recording_logs_nothing(verification, caplog):
    with caplog.at_level(logging.DEBUG):
        verification("R-1")
    assert caplog.records == []


@pytest.mark.postgres
def test_the_largest_call_is_one_insert_on_postgresql(verification, django_assert_num_queries):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite splits a large INSERT to stay under its 999-parameter limit")
    with django_assert_num_queries(1):
        verification(*[f"R-{n}" for n in range(MAX_SUBJECTS)])


# -- one event: the commonest call (an enforcement check), written without bulk_create ------


@pytest.mark.parametrize("residents", [("R-1",), ()])
def test_one_event_is_one_insert_with_nothing_else(
    verification, django_assert_num_queries, residents
):
    with django_assert_num_queries(1) as queries:
        (event,) = verification(*residents, outcome="verified" if residents else "not_found")
    assert queries.captured_queries[0]["sql"].startswith("INSERT INTO")
    stored = DataUseEvent.objects.get()
    assert event.pk == stored.pk and event.action_id == stored.action_id
    assert stored.subject_resident_id == (residents[0] if residents else "")
    assert (stored.purpose_text, stored.datasets_read) == (
        event.purpose_text,
        ["council_tax", "electoral_register"],
    )


def test_one_event_is_returned_as_stored_and_cannot_then_be_changed(verification):
    (event,) = verification("R-1")
    assert not event._state.adding and event._state.db == "default"
    event.outcome = "refer"
    with pytest.raises(AppendOnlyError):
        event.save()
    assert DataUseEvent.objects.get().outcome == "verified"


def test_one_event_is_written_in_the_callers_transaction(verification):
    with pytest.raises(RuntimeError), transaction.atomic():
        verification("R-1")
        assert DataUseEvent.objects.count() == 1
        raise RuntimeError("the check failed after recording")
    assert DataUseEvent.objects.count() == 0


def test_one_event_is_checked_as_several_are(verification, officer):
    with pytest.raises(ValueError, match="not a resident ID"):
        verification("Ada Lovelace")
    with pytest.raises(ValueError, match="not a person"):
        verification("R-1", actor=officer)
    with pytest.raises(ValueError, match="opaque identifier"):
        verification("R-1", reference="AB12 CDE")
    assert DataUseEvent.objects.count() == 0
