"""The enforcement check as an API (API keys that can be revoked) and as a phone page, and the
visitor parking page."""

from __future__ import annotations

import json

import pytest

from borough.core.api_clients import create_client, revoke
from borough.core.models import User
from borough.parking.models import Permit
from borough.parking.tests.test_permits import application, home, issue, zone  # noqa: F401
from borough.transparency.queries import events

URL = "/api/v1/parking/check"


@pytest.fixture
def permit(zone, home):  # noqa: F811
    from django.utils import timezone

    found = issue(application(zone, home, resident_id="R00000042")).permit
    today = timezone.localdate()
    Permit.objects.filter(pk=found.pk).update(
        starts_on=today, ends_on=today.replace(year=today.year + 1)
    )
    found.refresh_from_db()
    return found


@pytest.fixture
def key(db):
    return create_client("Handhelds", ["enforcement"])[1]


def _get(client, key, **query):
    return client.get(URL, query, headers={"Authorization": f"Bearer {key}"} if key else {})


def test_the_api_answers_allowed_with_type_and_expiry_and_nothing_personal(client, permit, key):
    answer = _get(client, key, vrm="ab12 cde", zone="a")
    assert answer.status_code == 200
    assert answer.json() == {
        "vrm": "AB12CDE",
        "zone": "A",
        "allowed": True,
        "permit_type": "resident",
        "valid_until": permit.ends_on.isoformat(),
    }
    body = answer.content.decode()
    for personal in ("Ada", "Lovelace", "ALBION", "E21", "R00000042", permit.number):
        assert personal not in body
    logged = events().filter(purpose="parking_enforcement_check").get()
    assert logged.subject_resident_id == "R00000042"
    assert "Handhelds" in logged.actor_label


def test_an_unknown_vehicle_is_not_allowed_and_the_look_up_is_still_logged(client, permit, key):
    answer = _get(client, key, vrm="CD34EFG", zone="A")
    assert answer.json()["allowed"] is False
    assert events().filter(purpose="parking_enforcement_check", subject_resident_id="").count() == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [({"vrm": "!!", "zone": "A"}, "vrm"), ({"vrm": "AB12CDE", "zone": "Q"}, "zone")],
)
def test_bad_input_is_a_400_naming_the_field(client, permit, key, query, field):
    answer = _get(client, key, **query)
    assert answer.status_code == 400 and answer.json()["field"] == field
    assert events().filter(purpose="parking_enforcement_check").count() == 0


def test_a_missing_field_is_a_400(client, permit, key):
    answer = _get(client, key, vrm="AB12CDE")
    assert answer.status_code == 400 and "zone" in answer.json()["detail"]


def test_no_key_a_wrong_scope_or_a_revoked_key_is_refused(client, permit, key):
    assert _get(client, None, vrm="AB12CDE", zone="A").status_code == 401
    verify_only = create_client("Permit service", ["verify"])[1]
    assert _get(client, verify_only, vrm="AB12CDE", zone="A").status_code == 401
    assert _get(client, key, vrm="AB12CDE", zone="A").status_code == 200
    revoke("Handhelds")
    assert _get(client, key, vrm="AB12CDE", zone="A").status_code == 401


def test_enforcement_and_parking_officers_may_use_it_signed_in_others_may_not(
    client, permit, make_staff
):
    client.force_login(make_staff("Housing officer"))
    assert client.get(URL, {"vrm": "AB12CDE", "zone": "A"}).status_code == 401
    client.force_login(make_staff("Enforcement officer"))
    assert client.get(URL, {"vrm": "AB12CDE", "zone": "A"}).json()["allowed"] is True
    page = client.get("/staff/enforcement/check", {"vrm": "AB12 CDE", "zone": "A"})
    assert "Allowed" in page.content.decode()
    page = client.get("/staff/enforcement/check", {"vrm": "CD34EFG", "zone": "A"})
    assert "No permit" in page.content.decode()
    page = client.get("/staff/enforcement/check", {"vrm": "", "zone": "A"})
    assert "Enter your vehicle registration number" in page.content.decode()


def test_the_openapi_document_lists_the_check(client, db):
    document = json.loads(client.get("/api/v1/openapi.json").content)
    assert "/api/v1/parking/check" in document["paths"]


def test_a_permit_holder_starts_and_ends_a_visitor_session(client, permit):
    client.force_login(permit.holder)
    page = client.get("/parking/visitors").content.decode()
    assert "400</strong> of 400 visitor hours" in page.replace('id="hours-left">', "")
    done = client.post("/parking/visitors", {"vrm": "vv11 vvv", "hours": "3"})
    assert done.status_code == 302
    page = client.get("/parking/visitors").content.decode()
    assert "VV11 VVV" in page
    refused = client.post("/parking/visitors", {"vrm": "VV11VVV", "hours": "99"})
    assert "Enter a number of hours from 1 to 10" in refused.content.decode()
    session = permit.holder.visitor_sessions.get()
    assert client.post(f"/parking/visitors/{session.pk}/end").status_code == 302
    other = User.objects.create_resident("other@example.org")
    client.force_login(other)
    assert client.post(f"/parking/visitors/{session.pk}/end").status_code == 404
    assert "once you have a resident permit" in client.get("/parking/visitors").content.decode()
