"""Issuing permits, the household and vehicle rules, enforcement checks and visitor sessions."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from borough.core.models import User
from borough.parking import enforcement, services, visitor_sessions
from borough.parking.models import Permit, PermitApplication, PermitEvent, VisitorSession, Zone
from borough.places.models import Property
from borough.transparency.queries import events

TODAY = dt.date(2026, 11, 25)
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-0.1, 51.5], [-0.09, 51.5], [-0.09, 51.51], [-0.1, 51.51], [-0.1, 51.5]]],
}


@pytest.fixture
def zone(db) -> Zone:
    return Zone.objects.create(
        code="A",
        name="Albion",
        hours="Mon-Fri 8.30am-6.30pm",
        boundary=SQUARE,
        min_lon=-0.1,
        min_lat=51.5,
        max_lon=-0.09,
        max_lat=51.51,
    )


@pytest.fixture
def home(db) -> Property:
    return Property.objects.create(
        uprn=100090000001,
        street="ALBION ROAD",
        building_number="1",
        postcode="E21 0AA",
        latitude=51.505,
        longitude=-0.095,
        is_residential=True,
        classification="RD04",
    )


def resident(email: str = "ada@example.org") -> User:
    return User.objects.create_resident(email)


def application(
    zone: Zone, home: Property, *, user=None, vrm="AB12CDE", journey=None, resident_id="R1"
) -> PermitApplication:
    return PermitApplication.objects.create(
        journey=journey or f"j-{vrm}-{PermitApplication.objects.count()}",
        applicant=user or resident(f"a{PermitApplication.objects.count()}@example.org"),
        permit_type="resident",
        property=home,
        zone=zone,
        first_name="Ada",
        surname="Lovelace",
        date_of_birth=dt.date(1980, 3, 27),
        vrm=vrm,
        vehicle_found=True,
        duration_months=12,
        price_pence=15000,
        resident_id=resident_id,
        verification_decision="verified",
    )


def issue(app: PermitApplication, *, verified=True, policy="issue_then_proof", limit=2):
    return services.issue_permit(
        app.pk,
        verified=verified,
        unverified_policy=policy,
        proof_days=30,
        max_per_household=limit,
        today=TODAY,
    )


def test_a_paid_verified_application_gets_an_active_permit_for_its_months(zone, home):
    outcome = issue(application(zone, home))
    permit = outcome.permit
    assert permit.status == Permit.Status.ACTIVE
    assert (permit.starts_on, permit.ends_on) == (TODAY, dt.date(2027, 11, 24))
    assert permit.proof_due_on is None
    assert permit.paid_pence == 15000
    assert outcome.application.status == PermitApplication.Status.ISSUED
    assert list(PermitEvent.objects.values_list("action", flat=True)) == ["issued"]


def test_issuing_twice_returns_the_first_permit_and_changes_nothing(zone, home):
    app = application(zone, home)
    first = issue(app)
    second = issue(app)
    assert second.already_done and second.permit.pk == first.permit.pk
    assert Permit.objects.count() == 1
    assert PermitEvent.objects.count() == 1


def test_an_unverified_application_gets_a_permit_with_proof_due(zone, home):
    permit = issue(application(zone, home), verified=False).permit
    assert permit.status == Permit.Status.PROOF_NEEDED
    assert permit.proof_due_on == TODAY + dt.timedelta(days=30)


def test_an_unverified_application_waits_for_an_officer_when_the_council_prefers(zone, home):
    outcome = issue(application(zone, home), verified=False, policy="wait_for_officer")
    assert outcome.permit is None
    assert outcome.application.status == PermitApplication.Status.NEEDS_OFFICER
    assert Permit.objects.count() == 0


@pytest.mark.parametrize("decision", ["refer", "unavailable"])
def test_a_referred_applicant_gets_a_permit_with_proof_due(zone, home, decision):
    app = application(zone, home)
    app.verification_decision = decision
    app.save()
    outcome = services.issue_permit(
        app.pk,
        verified=False,
        unverified_policy="issue_then_proof",
        not_found_policy="wait_for_officer",
        proof_days=30,
        max_per_household=2,
        today=TODAY,
    )
    assert outcome.permit.status == Permit.Status.PROOF_NEEDED


def test_an_applicant_the_records_do_not_know_gets_no_live_permit_until_an_officer_checks(
    zone, home, settings
):
    app = application(zone, home, resident_id="")
    app.verification_decision = "not_found"
    app.save()
    # the shipped profile
    assert settings.COUNCIL.parking.not_found_policy == "wait_for_officer"
    outcome = services.issue_permit(
        app.pk,
        verified=False,
        unverified_policy=settings.COUNCIL.parking.unverified_policy,
        not_found_policy=settings.COUNCIL.parking.not_found_policy,
        proof_days=30,
        max_per_household=2,
        today=TODAY,
    )
    assert outcome.permit is None and Permit.objects.count() == 0
    assert outcome.application.status == PermitApplication.Status.NEEDS_OFFICER
    assert "do not know the applicant" in outcome.application.decision_reason


def test_a_council_may_issue_at_once_to_applicants_the_records_do_not_know(zone, home):
    app = application(zone, home, resident_id="")
    app.verification_decision = "not_found"
    app.save()
    outcome = services.issue_permit(
        app.pk,
        verified=False,
        unverified_policy="issue_then_proof",
        not_found_policy="issue_then_proof",
        proof_days=30,
        max_per_household=2,
        today=TODAY,
    )
    assert outcome.permit.status == Permit.Status.PROOF_NEEDED


def test_a_vehicle_cannot_have_two_live_resident_permits(zone, home):
    issue(application(zone, home, vrm="AB12CDE"))
    with pytest.raises(services.PermitRuleError) as refused:
        services.check_household_rules(
            property_id=home.uprn, vrm="AB12CDE", permit_type="resident", max_per_household=5
        )
    assert refused.value.code == "vehicle_has_permit"
    # a paid application that meets a permit issued meanwhile waits for an officer
    outcome = issue(application(zone, home, vrm="AB12CDE"), limit=5)
    assert outcome.permit is None
    assert outcome.application.status == PermitApplication.Status.NEEDS_OFFICER
    assert "already has a resident permit" in outcome.application.decision_reason


def test_a_household_cannot_go_over_its_permit_limit(zone, home):
    issue(application(zone, home, vrm="AB12CDE"), limit=2)
    issue(application(zone, home, vrm="CD34EFG"), limit=2)
    outcome = issue(application(zone, home, vrm="EF56GHJ"), limit=2)
    assert outcome.permit is None
    assert "already has 2 resident permits" in outcome.application.decision_reason
    assert services.live_resident_permits_at(home.uprn) == 2


def test_officer_approves_a_held_application(zone, home):
    app = issue(application(zone, home), verified=False, policy="wait_for_officer").application
    officer = User.objects.create_user("olu", password="x" * 20)
    permit = services.approve_application(
        app.pk, officer=officer, reason="Council tax bill seen", max_per_household=2, today=TODAY
    )
    assert permit.status == Permit.Status.ACTIVE
    app.refresh_from_db()
    assert app.status == PermitApplication.Status.ISSUED
    assert app.decided_by == officer
    with pytest.raises(services.PermitRuleError):
        services.approve_application(app.pk, officer=officer, reason="again", max_per_household=2)


# -- enforcement -------------------------------------------------------------------------


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, hour))


def test_enforcement_check_answers_with_type_and_expiry_and_logs_the_holder(zone, home):
    issue(application(zone, home, resident_id="R00000042"))
    answer = enforcement.check_vehicle(
        "AB12CDE", zone, actor_kind="system", actor_label="Handheld 7", at=at(TODAY)
    )
    assert answer.as_dict() == {
        "vrm": "AB12CDE",
        "zone": "A",
        "allowed": True,
        "permit_type": "resident",
        "valid_until": "2027-11-24",
    }
    logged = list(events().filter(purpose="parking_enforcement_check"))
    assert [e.subject_resident_id for e in logged] == ["R00000042"]
    assert logged[0].outcome == "allowed"


def test_enforcement_check_says_no_outside_the_zone_the_dates_or_after_cancellation(zone, home):
    issue(application(zone, home))
    other = Zone.objects.create(
        code="B", name="Bow", boundary=SQUARE, min_lon=0, min_lat=0, max_lon=0, max_lat=0
    )
    assert not enforcement.check_vehicle(
        "AB12CDE", other, actor_kind="system", actor_label="t", at=at(TODAY)
    ).allowed
    assert not enforcement.check_vehicle(
        "AB12CDE", zone, actor_kind="system", actor_label="t", at=at(TODAY - dt.timedelta(days=1))
    ).allowed
    assert not enforcement.check_vehicle(
        "AB12CDE", zone, actor_kind="system", actor_label="t", at=at(dt.date(2027, 11, 25))
    ).allowed
    Permit.objects.update(status=Permit.Status.CANCELLED)
    answer = enforcement.check_vehicle(
        "AB12CDE", zone, actor_kind="system", actor_label="t", at=at(TODAY)
    )
    assert not answer.allowed and answer.permit_type is None
    # a look-up that finds nobody is still logged, with no resident
    assert events().filter(purpose="parking_enforcement_check", subject_resident_id="").count() == 4


# -- visitor sessions --------------------------------------------------------------------


def test_visitor_session_allows_the_visitor_and_uses_the_allowance(zone, home):
    host = resident()
    start = at(TODAY, 10)
    session = visitor_sessions.start_visitor_session(
        host=host,
        property_id=home.uprn,
        zone=zone,
        vrm="VV11VVV",
        hours=3,
        allowance_hours=10,
        max_hours=8,
        starts_at=start,
    )
    assert (
        enforcement.check_vehicle(
            "VV11VVV", zone, actor_kind="system", actor_label="t", at=start + dt.timedelta(hours=2)
        ).permit_type
        == "visitor"
    )
    assert not enforcement.check_vehicle(
        "VV11VVV", zone, actor_kind="system", actor_label="t", at=start + dt.timedelta(hours=3)
    ).allowed
    assert visitor_sessions.visitor_hours_used(home.uprn, TODAY.year) == 3
    with pytest.raises(services.PermitRuleError) as refused:
        visitor_sessions.start_visitor_session(
            host=host,
            property_id=home.uprn,
            zone=zone,
            vrm="WW22WWW",
            hours=8,
            allowance_hours=10,
            max_hours=8,
            starts_at=start,
        )
    assert refused.value.message == "You have 7 visitor hours left this year"
    assert session.hours_used == 3


def test_ending_a_visitor_session_early_gives_back_the_unused_whole_hours(zone, home):
    host = resident()
    start = at(TODAY, 10)
    session = visitor_sessions.start_visitor_session(
        host=host,
        property_id=home.uprn,
        zone=zone,
        vrm="VV11VVV",
        hours=5,
        allowance_hours=10,
        max_hours=8,
        starts_at=start,
    )
    ended = visitor_sessions.end_visitor_session(
        session.pk, host=host, at=start + dt.timedelta(minutes=70)
    )
    assert ended.hours_used == 2
    assert visitor_sessions.visitor_hours_used(home.uprn, TODAY.year) == 2
    assert not enforcement.check_vehicle(
        "VV11VVV", zone, actor_kind="system", actor_label="t", at=start + dt.timedelta(minutes=90)
    ).allowed
    again = visitor_sessions.end_visitor_session(
        session.pk, host=host, at=start + dt.timedelta(hours=3)
    )
    assert again.hours_used == 2
    with pytest.raises(VisitorSession.DoesNotExist):
        visitor_sessions.end_visitor_session(session.pk, host=resident("someone@example.org"))


# -- concurrency (PostgreSQL) ------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_application_issued_in_parallel_gets_exactly_one_permit(zone, home):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks")
    apps = [application(zone, home, vrm="AB12CDE", journey="same")]
    apps += [application(zone, home, vrm="AB12CDE", journey=f"other-{i}") for i in range(3)]
    barrier = threading.Barrier(8)
    results = []

    def run(app_id):
        barrier.wait()
        try:
            results.append(issue(PermitApplication.objects.get(pk=app_id), limit=5))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a.pk,)) for a in apps for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Permit.objects.filter(vrm="AB12CDE").count() == 1
    assert len(results) == 8
    issued = {r.permit.pk for r in results if r.permit is not None}
    assert len(issued) == 1
    statuses = dict(PermitApplication.objects.values_list("journey", "status"))
    winner = Permit.objects.get().application.journey
    assert statuses.pop(winner) == PermitApplication.Status.ISSUED
    assert set(statuses.values()) == {PermitApplication.Status.NEEDS_OFFICER}
