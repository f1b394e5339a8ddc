"""The event model: metadata only, and append-only."""

import pytest
from django.db import IntegrityError, transaction

from borough.transparency.models import AppendOnlyError, DataUseEvent

pytestmark = pytest.mark.django_db

#: Every column the data-use log may have. A new field must be added here on purpose, after
#: checking it cannot hold personal data (names, addresses, dates of birth, vehicle registrations,
#: email addresses, phone numbers, bank details, free-text notes...).
ALLOWED_FIELDS = {
    "id",
    "action_id",
    "occurred_at",
    "subject_resident_id",
    "actor_kind",
    "actor_user",
    "actor_label",
    "service",
    "purpose",
    "purpose_text",
    "lawful_basis",
    "lawful_basis_text",
    "datasets_read",
    "action",
    "reference",
    "outcome",
    # A hold on a restricted event: a code from purposes.RESTRICTION_REASONS and a date.
    "restriction_reason_code",
    "hidden_until",
}


def test_the_event_holds_only_the_allowed_metadata_fields():
    fields = {field.name for field in DataUseEvent._meta.get_fields() if field.concrete}
    assert fields == ALLOWED_FIELDS


def test_no_field_is_named_like_personal_data():
    words = ("name", "address", "postcode", "birth", "dob", "vrm", "registration", "email")
    for field in DataUseEvent._meta.get_fields():
        assert not any(word in field.name for word in words), field.name


def test_the_event_has_no_relations_but_the_actor_account():
    relations = [f.name for f in DataUseEvent._meta.get_fields() if f.is_relation]
    assert relations == ["actor_user"]


def test_a_stored_event_cannot_be_changed_by_save(verification):
    (event,) = verification("R-1")
    event.outcome = "refer"
    with pytest.raises(AppendOnlyError):
        event.save()
    assert DataUseEvent.objects.get().outcome == "verified"


def test_a_stored_event_cannot_be_deleted(verification):
    (event,) = verification("R-1")
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert DataUseEvent.objects.count() == 1


def test_events_cannot_be_updated_or_deleted_in_bulk(verification):
    events = verification("R-1", "R-2")
    with pytest.raises(AppendOnlyError):
        DataUseEvent.objects.filter(subject_resident_id="R-1").update(outcome="refer")
    with pytest.raises(AppendOnlyError):
        DataUseEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        DataUseEvent.objects.bulk_update(events, ["outcome"])
    assert DataUseEvent.objects.count() == 2
    assert set(DataUseEvent.objects.values_list("outcome", flat=True)) == {"verified"}


def test_an_unsaved_copy_with_a_stored_id_cannot_overwrite_the_event(verification):
    (event,) = verification("R-1")
    copy = DataUseEvent(
        pk=event.pk,
        occurred_at=event.occurred_at,
        subject_resident_id="R-9",
        actor_kind="system",
        actor_label="Someone",
        service="parking",
        purpose="x",
        purpose_text="x",
        lawful_basis="x",
        lawful_basis_text="x",
        action="verification",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()
    assert DataUseEvent.objects.get().subject_resident_id == "R-1"


def test_an_account_that_used_residents_data_cannot_be_deleted(dpo):
    from django.db.models import ProtectedError

    from borough.transparency.services import record_data_use

    record_data_use(
        subject_resident_ids=["R-1"],
        actor=dpo,
        actor_kind="staff",
        purpose="data_use_log_audit",
        action="viewed_records",
    )
    with pytest.raises(ProtectedError):
        dpo.delete()


def test_the_database_refuses_a_staff_event_without_an_account(verification):
    (event,) = verification("R-1")
    bad = DataUseEvent(
        occurred_at=event.occurred_at,
        subject_resident_id="R-1",
        actor_kind="staff",
        actor_label="Council officer",
        service="parking",
        purpose=event.purpose,
        purpose_text=event.purpose_text,
        lawful_basis=event.lawful_basis,
        lawful_basis_text=event.lawful_basis_text,
        action="viewed_records",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        bad.save()
