"""The demo's renewals: permit holders renew as the renewal journey lets them.

When a demo permit's renewal window opens (``renewal_window_days`` before it ends), its holder
decides once whether to renew (``RENEW_SHARE`` do), and on a day in the window goes through what
the renewal pages do: the renewal allowed now (``renew_views.renewal_problem``), their residency
checked again against the council's records, the vehicle looked up and priced for the same
length as before, a card payment, and the renewal issued to start the day after the permit ends.
Each day, renewals whose first day has come take over (``permit_changes.start_renewed_permits``,
the daily task's work).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.conf import settings

#: The share of holders who renew when their window opens.
RENEW_SHARE = 0.7


def renew_due_permits(year, day: dt.date) -> None:
    """Renewals for ``year``'s drivers (``activity.Year``) on ``day``, and the hand-overs due."""
    from borough.parking import permit_changes
    from borough.parking.models import Permit
    from borough.synth.demo_clock import at, clock

    with clock(at(day, 0, 5)):
        started = permit_changes.start_renewed_permits(day)
    if started:
        year.result.add("renewals started", len(started))
    window = dt.timedelta(days=settings.COUNCIL.parking.renewal_window_days)
    decided = year.renewals_decided
    for k, driver in enumerate(list(year.drivers)):
        if driver.permit_id in decided:
            continue
        permit = Permit.objects.filter(pk=driver.permit_id).first()
        if permit is None or permit.status != Permit.Status.ACTIVE:
            continue
        if day < permit.ends_on - window or day > permit.ends_on:
            continue
        decided.add(driver.permit_id)
        if year.rnd.random() >= RENEW_SHARE:
            continue
        renewal = _renew(year, permit, at(day, 18, k % 60))
        if renewal is not None:
            year.drivers[year.drivers.index(driver)] = dataclasses.replace(
                driver, permit_id=renewal.pk
            )


def _renew(year, permit, moment: dt.datetime):
    """One holder's renewal, as the renewal pages make it: the renewal permit, or None when the
    pages would have stopped them."""
    from borough.parking import pricing, services, zones
    from borough.parking.models import PermitApplication
    from borough.parking.registrations import VehicleLookupError
    from borough.parking.renew_views import renewal_problem
    from borough.parking.vehicles import get_vehicle_lookup
    from borough.places.models import Property
    from borough.residents.verification.engine import Applicant, ApplicantError
    from borough.residents.verification.service import verify
    from borough.synth.activity import priced_and_checked
    from borough.synth.demo_clock import clock
    from borough.transparency.models import ActorKind

    first = permit.application
    with clock(moment):
        if renewal_problem(permit, moment.date()) is not None:
            return None
        home = Property.objects.get(pk=permit.property_id)
        try:
            vehicle = get_vehicle_lookup().lookup(permit.vrm)
            verification = verify(
                Applicant(
                    first_name=first.first_name,
                    surname=first.surname,
                    date_of_birth=first.date_of_birth,
                    uprn=home.uprn,
                    postcode=home.postcode,
                ),
                "parking_permit_residency_check",
                actor=permit.holder,
                actor_kind=ActorKind.RESIDENT,
            )
            already = services.live_resident_permits_at(
                permit.property_id, exclude_permit_id=permit.pk
            )
            quote = pricing.quote(
                permit.permit_type,
                first.duration_months,
                vehicle,
                household_permits_already=already,
            )
        except (VehicleLookupError, ApplicantError, pricing.PricingError):
            return None
        year.result.add(f"verifications {verification.decision}")
        application = PermitApplication.objects.create(
            journey=f"demo-renewal-{permit.number}",
            applicant=permit.holder,
            permit_type=permit.permit_type,
            property_id=permit.property_id,
            zone=zones.eligibility_for_resident_permit(home).zone,
            first_name=first.first_name,
            surname=first.surname,
            date_of_birth=first.date_of_birth,
            vrm=permit.vrm,
            vehicle_snapshot=vehicle.raw,
            vehicle_found=True,
            duration_months=first.duration_months,
            **priced_and_checked(quote, verification),
            renews=permit,
        )
        outcome = year.pay_and_issue(application, f"Renewal of parking permit {permit.number}")
    if outcome is None:
        return None
    if outcome.permit is None:
        year.result.add("renewals held for an officer")
        return None
    year.result.add("permits renewed")
    return outcome.permit
