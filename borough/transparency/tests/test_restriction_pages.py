"""The data protection officer's held-back entries: the list and the release form."""

import datetime as dt

import pytest
from django.urls import reverse

from borough.transparency.models import DataUseEvent, EventDisclosure

pytestmark = pytest.mark.django_db
LIST = "/staff/data-use/held"


@pytest.fixture
def held(verification):
    def record(resident="R-1", **extra):
        (event,) = verification(
            resident,
            purpose="parking_enforcement_check",
            action="enforcement_check",
            datasets=["parking_permits"],
            restriction_reason_code="enforcement_investigation",
            **extra,
        )
        return event

    return record


def _release_url(pk: int) -> str:
    return reverse("transparency:release-entry", args=[pk])


def test_the_urls():
    assert reverse("transparency:held-entries") == LIST
    assert _release_url(7) == "/staff/data-use/held/7/release"


def test_the_officer_sees_what_is_held_and_until_when(client, dpo, held, sign_in_staff):
    held("R-1", hidden_until=dt.date(2099, 6, 1))
    held("R-2")
    sign_in_staff(client, dpo)
    page = client.get(LIST).content.decode()
    assert "R-1" in page and "R-2" in page
    assert "1 June 2099" in page and "You release it" in page
    assert "A parking enforcement investigation" in page
    assert "Entry " in page and page.count("Release<span") == 2  # the holds are not listed


@pytest.mark.parametrize("method", ["get", "post"])
def test_only_the_data_protection_officer_reaches_the_pages(
    client, make_staff, resident, held, sign_in_staff, method
):
    event = held()
    client.force_login(resident)
    for path in (LIST, _release_url(event.pk)):
        assert getattr(client, method)(path, {"reason": "x"}).status_code in {403, 405}
    client.logout()
    sign_in_staff(client, make_staff("Parking officer", "Administrator", username="others"))
    for path in (LIST, _release_url(event.pk)):
        assert getattr(client, method)(path, {"reason": "x"}).status_code in {403, 405}
    assert not EventDisclosure.objects.exists()


def test_opening_an_entry_is_recorded_and_a_reason_is_required(client, dpo, held, sign_in_staff):
    event = held()
    sign_in_staff(client, dpo)
    response = client.get(_release_url(event.pk))
    assert response.status_code == 200
    audit = DataUseEvent.objects.get(purpose="data_use_log_audit")
    assert (audit.subject_resident_id, audit.reference) == ("R-1", f"event:{event.pk}")
    response = client.post(_release_url(event.pk), {"reason": "  "})
    assert response.status_code == 200
    assert "Enter why you are releasing this entry" in response.content.decode()
    response = client.post(_release_url(event.pk), {"reason": "x" * 1001})
    assert "1000 characters or fewer" in response.content.decode()
    assert not EventDisclosure.objects.exists()


def test_a_release_is_recorded_and_the_entry_leaves_the_list(client, dpo, held, sign_in_staff):
    event, other = held("R-1"), held("R-2")
    sign_in_staff(client, dpo)
    response = client.post(_release_url(event.pk), {"reason": "The investigation is closed."})
    assert response.status_code == 302 and response["Location"] == LIST
    page = client.get(LIST).content.decode()
    assert "Entry released" in page and f"can now see entry {event.pk}" in page
    assert f"Entry {other.pk}:" in page and f"Entry {event.pk}:" not in page
    disclosure = EventDisclosure.objects.get(event_id=event.pk)
    assert disclosure.released_by == dpo and disclosure.reason == "The investigation is closed."
    assert DataUseEvent.objects.filter(purpose="data_use_disclosure", actor_user=dpo).count() == 1
    # Again, or a guessed or ordinary entry: not found, nothing written.
    (ordinary,) = DataUseEvent.objects.filter(purpose="data_use_disclosure")
    for pk in (event.pk, ordinary.pk, 999_999):
        assert client.post(_release_url(pk), {"reason": "Again."}).status_code == 404
    assert EventDisclosure.objects.count() == 2  # the event and its hold record
