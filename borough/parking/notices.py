"""What the resident is told after something happens to their permit or visitor session: the
email (Django's email backends; the GOV.UK Notify adapter is not built) and the sentence about a
refund that the email and the page share. Registrations and amounts go to the resident only,
never to a log line."""

from __future__ import annotations

import datetime as dt

from django.core.mail import send_mail
from django.utils import timezone

from borough.core.dates import date_in_words, when_in_words
from borough.housing.bacs.calendar import add_working_days
from borough.parking.models import Permit, VisitorSession
from borough.parking.registrations import registration_display
from borough.payments.money import format_pence as pounds

#: A card refund reaches the payer's account within this many working days (GOV.UK Pay's word
#: to payers; the cancel page says the same before the resident presses the button).
REFUND_WORKING_DAYS = 5


def refund_sentence(refunded_pence: int, today: dt.date) -> str:
    """ "We have refunded £75.00 to the card you paid with. It will reach your account by
    14 December 2026." (working days, bank holidays skipped), or that there is no refund."""
    if refunded_pence <= 0:
        return "There is no refund."
    arrives = add_working_days(today, REFUND_WORKING_DAYS)
    return (
        f"We have refunded {pounds(refunded_pence)} to the card you paid with. "
        f"It will reach your account by {date_in_words(arrives)}."
    )


def _send(user, subject: str, lines: list[str]) -> None:
    if user.email:
        send_mail(subject, "\n\n".join(lines), None, [user.email])


def email_permit_issued(permit: Permit, url: str) -> None:
    lines = [
        f"Your resident parking permit {permit.number} is valid in zone {permit.zone.code} "
        f"from {date_in_words(permit.starts_on)} to {date_in_words(permit.ends_on)}.",
        "Nothing needs to be displayed in your vehicle: civil enforcement officers check the "
        "registration.",
    ]
    if permit.status == Permit.Status.PROOF_NEEDED:
        lines.append(
            "We could not confirm your details from council records. Send proof of address "
            f"by {date_in_words(permit.proof_due_on)} or the permit will be cancelled."
        )
    lines.append(f"See your permit: {url}")
    _send(permit.holder, f"Your parking permit {permit.number}", lines)


def email_permit_cancelled(permit: Permit, refunded_pence: int, today: dt.date, url: str) -> None:
    _send(
        permit.holder,
        f"Your parking permit {permit.number} is cancelled",
        [
            f"Your resident parking permit {permit.number} for "
            f"{registration_display(permit.vrm)} in zone {permit.zone.code} was cancelled on "
            f"{date_in_words(today)}. It is no longer valid: a vehicle parked in a permit bay "
            "can get a penalty charge notice.",
            refund_sentence(refunded_pence, today),
            f"See your permit: {url}",
        ],
    )


def email_vehicle_changed(permit: Permit, old_vrm: str, paid_pence: int, url: str) -> None:
    paid = (
        f"You paid {pounds(paid_pence)} for the change."
        if paid_pence
        else "There was nothing to pay."
    )
    _send(
        permit.holder,
        f"Your parking permit {permit.number}: vehicle changed",
        [
            f"Your resident parking permit {permit.number} is now for "
            f"{registration_display(permit.vrm)}. It no longer covers "
            f"{registration_display(old_vrm)}.",
            paid,
            f"See your permit: {url}",
        ],
    )


def email_visitor_session_ended(
    session: VisitorSession, hours_back: int, refunded_pence: int, url: str
) -> None:
    back = (
        f"{hours_back} unused hour{'s' if hours_back != 1 else ''} went back to your household's "
        "visitor allowance."
        if hours_back
        else "No whole hours were unused, so none went back to your allowance."
    )
    _send(
        session.host,
        "Your visitor parking session has ended",
        [
            f"Visitor parking for {registration_display(session.vrm)} in zone "
            f"{session.zone.code} ended at {when_in_words(session.ends_at)}. The vehicle is no "
            "longer covered.",
            back,
            *([refund_sentence(refunded_pence, timezone.localdate())] if refunded_pence else []),
            f"See your visitor parking: {url}",
        ],
    )
