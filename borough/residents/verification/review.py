"""An officer's decision on a referred verification.

``verify`` refers a check to an officer (``decision == "refer"``, ``review == "open"``) when it is
unsure who the applicant is or finds no proof. An officer looks at the referral (the staff page
``residents:verification``) and either confirms it (the applicant is this resident and the proof
is enough) or cannot confirm it, saying why. ``review_referral`` stores the decision and writes
its data-use event in one transaction: the verification's purpose, action ``verification``, the
officer as actor, the resident the check matched, the verification's reference and the outcome.
Nothing here logs personal data.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from borough.residents.verification.models import Verification
from borough.transparency.models import Action, ActorKind
from borough.transparency.services import record_data_use

CONFIRMED = Verification.Review.CONFIRMED
REJECTED = Verification.Review.REJECTED
OUTCOMES = (CONFIRMED, REJECTED)
NOTE_MAX = 500


class ReviewError(Exception):
    """A decision that cannot be recorded; the message is fit to show an officer."""


class AlreadyReviewed(ReviewError):
    """Another officer decided the referral first (or it was never open)."""


def open_referrals():
    """Referred verifications waiting for an officer, oldest first."""
    return Verification.objects.filter(review=Verification.Review.OPEN).order_by(
        "requested_at", "id"
    )


def review_referral(
    verification: Verification, outcome: str, officer, note: str = ""
) -> Verification:
    """Record ``officer``'s decision on an open referral; returns the verification, updated.

    ``outcome`` is ``"confirmed"`` or ``"rejected"``; a rejection needs a ``note`` (up to 500
    characters) saying why. Raises ``AlreadyReviewed`` if the referral is no longer open (the
    update is conditional on that, so two officers cannot both decide it), ``ReviewError`` for a
    missing or long note and ``ValueError`` for an unknown outcome."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
    note = (note or "").strip()
    if outcome == REJECTED and not note:
        raise ReviewError("Enter why you cannot confirm it")
    if len(note) > NOTE_MAX:
        raise ReviewError(f"Note must be {NOTE_MAX} characters or fewer")
    now = timezone.now()
    with transaction.atomic():
        changed = Verification.objects.filter(
            pk=verification.pk, review=Verification.Review.OPEN
        ).update(review=outcome, reviewed_by=officer, reviewed_at=now, review_note=note)
        if not changed:
            raise AlreadyReviewed("Another officer has already decided this referral.")
        record_data_use(
            subject_resident_ids=[verification.resident_id] if verification.resident_id else [],
            actor=officer,
            actor_kind=ActorKind.STAFF,
            purpose=verification.purpose,
            action=Action.VERIFICATION,
            datasets=sorted({e["dataset"] for e in verification.evidence}),
            reference=verification.reference,
            outcome=str(outcome),
        )
    verification.refresh_from_db()
    return verification
