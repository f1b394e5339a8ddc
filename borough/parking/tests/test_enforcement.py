"""The enforcement check as an API (API keys that can be revoked) and as a phone page, and the
visitor parking page; what the API keeps per process (zones, API clients) and for how long."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from borough.core import api_clients
from borough.core.api_clients import create_client, revoke
from borough.core.models import ApiClient, User
from borough.parking import enforcement
from borough.parking.models import Permit, Zone
from borough.parking.tests.test_permits import application, home, issue, zone  # noqa: F401
from borough.transparency.queries import events

URL = "/api/v1/parking/check"


@pytest.fixture(autouse=True)
def _empty_process_caches():
    """Each test starts with no zones or API clients kept from another test's database."""
    enforcement.forget_active_zones()
    api_clients.forget_cached_clients()
    yield
    enforcement.forget_active_zones()
    api_clients.forget_cached_clients()


class Clock:
    """``time.monotonic`` for the caches, moved on by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    tick = Clock()
    monkeypatch.setattr(enforcement.time, "monotonic", tick)
    monkeypatch.setattr(api_clients.time, "monotonic", tick)
    return tick


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
    wrong_scope = _get(client, verify_only, vrm="AB12CDE", zone="A")
    assert wrong_scope.status_code == 403 and "scope" in wrong_scope.json()["detail"]
    assert _get(client, key, vrm="AB12CDE", zone="A").status_code == 200
    revoke("Handhelds")
    assert _get(client, key, vrm="AB12CDE", zone="A").status_code == 401


def test_enforcement_and_parking_officers_may_use_it_signed_in_others_may_not(
    client, permit, make_staff, sign_in_staff
):
    sign_in_staff(client, make_staff("Housing officer"))
    assert client.get(URL, {"vrm": "AB12CDE", "zone": "A"}).status_code == 401
    sign_in_staff(client, make_staff("Enforcement officer"))
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
    # a client over its rate limit is told so: the 429 is part of the contract
    answers = document["paths"]["/api/v1/parking/check"]["get"]["responses"]
    assert {"200", "400", "401", "429"} <= set(answers)


def test_a_permit_holder_starts_and_ends_a_visitor_session(client, permit, settings):
    parking = settings.COUNCIL.parking.model_copy(update={"visitor_price_per_hour_pence": 0})
    settings.COUNCIL = settings.COUNCIL.model_copy(update={"parking": parking})
    client.force_login(permit.holder)
    page = client.get("/parking/visitors").content.decode()
    assert "400</strong> of 400 visitor hours" in page.replace('id="hours-left">', "")
    done = client.post("/parking/visitors", {"vrm": "vv11 vvv", "when": "now", "hours": "3"})
    assert done["Location"] == "/parking/visitors/check"
    assert client.post("/parking/visitors/check").status_code == 302
    page = client.get("/parking/visitors").content.decode()
    assert "VV11 VVV" in page
    refused = client.post("/parking/visitors", {"vrm": "VV11VVV", "when": "now", "hours": "99"})
    assert "Enter a number of hours from 1 to 10" in refused.content.decode()
    session = permit.holder.visitor_sessions.get()
    assert client.post(f"/parking/visitors/{session.pk}/end").status_code == 302
    other = User.objects.create_resident("other@example.org")
    client.force_login(other)
    assert client.post(f"/parking/visitors/{session.pk}/end").status_code == 404
    assert "once you have a resident permit" in client.get("/parking/visitors").content.decode()


# -- what the API keeps per process -------------------------------------------------------


def test_a_check_is_one_statement_on_postgresql_once_the_zone_key_and_rate_limit_lease_are_known(
    client, permit, key, django_assert_num_queries
):
    from django.db import connection

    assert _get(client, key, vrm="AB12CDE", zone="A").json()["allowed"] is True
    # The permit (joined to its application for the holder's resident ID) and its event: one
    # statement on PostgreSQL, the look-up then the INSERT on SQLite. The client's rate-limit
    # count is drawn in leases (one statement in twelve at the default 600 a minute:
    # docs/rate-limits.md).
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        assert _get(client, key, vrm="AB12CDE", zone="a").json()["allowed"] is True
    # No permit: the visitor sessions too.
    with django_assert_num_queries(3):
        assert _get(client, key, vrm="CD34EFG", zone="A").json()["allowed"] is False
    assert events().filter(purpose="parking_enforcement_check").count() == 3


def test_answers_about_permits_are_never_kept(client, permit, key):
    assert _get(client, key, vrm="AB12CDE", zone="A").json()["allowed"] is True
    Permit.objects.filter(pk=permit.pk).update(status=Permit.Status.CANCELLED)
    assert _get(client, key, vrm="AB12CDE", zone="A").json()["allowed"] is False


def test_a_revoked_key_stops_working_within_five_seconds_in_other_processes(
    client, permit, key, clock
):
    assert api_clients.CLIENT_CACHE_SECONDS <= 5
    assert _get(client, key, vrm="AB12CDE", zone="A").status_code == 200
    # Revoked by another process (the command line): this one does not hear of it ...
    ApiClient.objects.filter(name="Handhelds").update(revoked_at=dt.datetime.now(dt.UTC))
    clock.now += api_clients.CLIENT_CACHE_SECONDS - 0.5
    assert _get(client, key, vrm="AB12CDE", zone="A").status_code == 200
    # ... until it reads the client again.
    clock.now += 1
    assert _get(client, key, vrm="AB12CDE", zone="A").status_code == 401


def test_a_zone_retired_by_another_process_is_refused_once_the_zones_are_read_again(
    client, permit, key, clock
):
    Zone.objects.create(
        code="B", name="Bow", boundary={}, min_lon=0, min_lat=0, max_lon=0, max_lat=0
    )
    assert _get(client, key, vrm="AB12CDE", zone="B").json()["allowed"] is False
    Zone.objects.filter(code="B").update(active=False)  # as load-zones does, elsewhere
    clock.now += enforcement.ZONE_CACHE_SECONDS - 1
    assert _get(client, key, vrm="AB12CDE", zone="B").status_code == 200
    clock.now += 1
    answer = _get(client, key, vrm="AB12CDE", zone="B")
    assert answer.status_code == 400 and answer.json()["field"] == "zone"


def test_a_zone_saved_in_this_process_is_seen_at_once(client, permit, key):
    assert _get(client, key, vrm="AB12CDE", zone="A").status_code == 200
    Zone.objects.filter(code="A").update(active=False)
    Zone.objects.get(code="A").save()  # any save here drops the process's copy
    assert _get(client, key, vrm="AB12CDE", zone="A").status_code == 400


def test_the_kept_zones_hold_no_boundaries(zone):  # noqa: F811
    found = enforcement.active_zone(" a ")
    assert found.pk == zone.pk and found.code == "A"
    assert "boundary" in found.get_deferred_fields()
    assert enforcement.active_zone("Z") is None


@pytest.mark.parametrize(
    ("status", "starts", "ends", "zone_code", "vrm"),
    [
        ("active", -10, 10, "A", "AB12CDE"),
        ("proof_needed", -10, 0, "A", "AB12CDE"),
        ("scheduled", 0, 30, "A", "AB12CDE"),
        ("scheduled", 1, 30, "A", "AB12CDE"),
        ("active", -30, -1, "A", "AB12CDE"),
        ("cancelled", -10, 10, "A", "AB12CDE"),
        ("active", -10, 10, "B", "AB12CDE"),
        ("active", -10, 10, "A", "ZZ99ZZZ"),
    ],
)
def test_the_permit_look_up_answers_as_its_queryset_does(
    zone,  # noqa: F811
    home,  # noqa: F811
    status,
    starts,
    ends,
    zone_code,
    vrm,
):
    from django.utils import timezone

    Zone.objects.create(
        code="B", name="Bow", boundary={}, min_lon=0, min_lat=0, max_lon=0, max_lat=0
    )
    found = issue(application(zone, home, resident_id="R00000042")).permit
    today = timezone.localdate()
    Permit.objects.filter(pk=found.pk).update(
        status=status,
        starts_on=today + dt.timedelta(days=starts),
        ends_on=today + dt.timedelta(days=ends),
    )
    checked = Zone.objects.get(code=zone_code)
    expected = enforcement.permit_check_query(vrm, checked.pk, today).first()
    assert enforcement._live_permit(vrm, checked.pk, today) == expected
    if expected is not None:
        assert expected == ("resident", today + dt.timedelta(days=ends), found.number, "R00000042")


def test_the_phone_page_offers_the_active_zones_and_keeps_the_officers_zone(
    client, permit, make_staff, sign_in_staff
):
    Zone.objects.create(
        code="B", name="Bridge", boundary={}, min_lon=0, min_lat=0, max_lon=0, max_lat=0
    )
    Zone.objects.create(
        code="Z",
        name="Old",
        boundary={},
        min_lon=0,
        min_lat=0,
        max_lon=0,
        max_lat=0,
        active=False,
    )
    sign_in_staff(client, make_staff("Enforcement officer"))
    page = client.get("/staff/enforcement/check").content.decode()
    assert '<option value="A">A: Albion</option>' in page
    assert '<option value="B">B: Bridge</option>' in page
    assert 'value="Z"' not in page
    client.get("/staff/enforcement/check", {"vrm": "AB12 CDE", "zone": "B"})
    again = client.get("/staff/enforcement/check").content.decode()
    assert '<option value="B" selected>B: Bridge</option>' in again


def test_the_phone_page_gives_a_visitors_end_in_words(client, permit, make_staff, sign_in_staff):
    import zoneinfo

    from borough.parking.models import VisitorSession

    london = zoneinfo.ZoneInfo("Europe/London")
    now = dt.datetime.now(london)
    ends = (now + dt.timedelta(hours=2)).replace(minute=30, second=0, microsecond=0)
    VisitorSession.objects.create(
        host=permit.holder,
        property_id=permit.property_id,
        zone=permit.zone,
        vrm="VV11VVV",
        starts_at=now - dt.timedelta(minutes=5),
        ends_at=ends,
        hours_used=3,
    )
    sign_in_staff(client, make_staff("Enforcement officer"))
    page = client.get("/staff/enforcement/check", {"vrm": "vv11vvv", "zone": "A"})
    text = " ".join(page.content.decode().split())
    hour = ends.hour % 12 or 12
    suffix = "am" if ends.hour < 12 else "pm"
    words = f"{hour}:30{suffix} on {ends.day} {ends:%B %Y}"
    assert f"VV11 VVV</strong> in zone A: visitor session until {words}" in text
    page = client.get("/staff/enforcement/check", {"vrm": "ab12cde", "zone": "A"})
    text = " ".join(page.content.decode().split())
    assert f"resident permit until {permit.ends_on.day} {permit.ends_on:%B %Y}" in text


# -- the check's data-use event ----------------------------------------------------------


def _the_same_event_by_record_data_use(permit) -> dict:
    """What ``record_data_use`` writes for the check the API made: the fields to compare."""
    from borough.transparency.services import record_data_use

    [event] = record_data_use(
        subject_resident_ids=["R00000042"],
        actor=None,
        actor_kind="system",
        actor_label="API client Handhelds",
        purpose="parking_enforcement_check",
        action="enforcement_check",
        datasets=["parking_permits"],
        reference=permit.number,
        outcome="allowed",
    )
    return _fields(events().get(pk=event.pk))


def _fields(event) -> dict:
    from django.forms.models import model_to_dict

    kept = model_to_dict(event)
    for own in ("id", "action_id", "occurred_at"):
        kept.pop(own, None)
    return kept


def _check_writes_one_event_as_record_data_use_would(client, permit, key):
    from django.utils import timezone

    before = timezone.now()
    assert _get(client, key, vrm="AB12CDE", zone="A").json()["allowed"] is True
    [written] = events()
    assert before <= written.occurred_at <= timezone.now()
    expected = _the_same_event_by_record_data_use(permit)
    assert _fields(written) == expected
    assert expected["subject_resident_id"] == "R00000042"
    assert expected["reference"] == permit.number and expected["outcome"] == "allowed"
    assert expected["datasets_read"] == ["parking_permits"]
    assert events().count() == 2  # the check's and the comparison's; nothing else


def test_a_check_writes_exactly_one_event_as_record_data_use_would(client, permit, key):
    _check_writes_one_event_as_record_data_use_would(client, permit, key)


@pytest.mark.django_db(transaction=True)
def test_a_check_outside_a_transaction_writes_one_event_as_record_data_use_would(
    client, permit, key
):
    # Autocommit: on PostgreSQL the statement is its own transaction, committed without waiting
    # for the disk.
    _check_writes_one_event_as_record_data_use_would(client, permit, key)


def test_a_checks_event_is_on_the_holders_timeline_and_is_sealed(client, permit, key, settings):
    from borough.transparency.checkpoint import Signer
    from borough.transparency.log_verify import verify_log
    from borough.transparency.models import SealedLeaf
    from borough.transparency.queries import events_for_resident
    from borough.transparency.sealing import seal

    origin = "test.example/borough/data-use-log"
    settings.TRANSPARENCY_LOG_SIGNING_KEY = Signer.generate(origin).private_key_text()
    settings.TRANSPARENCY_LOG_VERIFIER_KEY = ""
    settings.TRANSPARENCY_LOG_ORIGIN = origin
    assert _get(client, key, vrm="AB12CDE", zone="A").json()["allowed"] is True
    [seen] = events_for_resident("R00000042")
    assert (seen.purpose, seen.reference) == ("parking_enforcement_check", permit.number)
    assert seal().size == 1
    assert SealedLeaf.objects.get().event_id == seen.pk
    assert verify_log().ok


def test_a_holder_id_that_is_not_a_resident_id_fails_the_check_and_records_nothing(
    client, permit, key
):
    from borough.parking.models import PermitApplication

    PermitApplication.objects.filter(pk=permit.application_id).update(resident_id="Ada Lovelace")
    with pytest.raises(ValueError, match="not a resident ID"):
        _get(client, key, vrm="AB12CDE", zone="A")
    assert not events().exists()


def test_a_check_whose_event_cannot_be_written_gives_no_answer(client, permit, key):
    from django.db import DatabaseError, connection

    table = events().model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_refuse_event() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'no events today'; END; $$"
            )
            cursor.execute(
                f"CREATE TRIGGER test_refuse_event BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION test_refuse_event()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER test_refuse_event BEFORE INSERT ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'no events today'); END"
            )
    with pytest.raises(DatabaseError, match="no events today"):
        _get(client, key, vrm="AB12CDE", zone="A")
