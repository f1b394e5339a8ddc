"""Verifications: every check made, its answer and evidence, and an officer's review of a referral.

Imported by ``borough.residents.models`` so that it belongs to the ``residents`` app.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def new_reference() -> str:
    """``V-`` and 10 random Crockford base32 characters: quoted on the phone, never guessed."""
    return "V-" + "".join(secrets.choice(_ALPHABET) for _ in range(10))


class Verification(models.Model):
    """One verification: who asked, for what purpose, about whom, and the answer.

    ``applicant`` holds the details as given (personal data, kept so that an officer can review a
    referral; shown only to staff). ``evidence`` names datasets and record references with which
    fields agreed: never the records' values.
    """

    class Decision(models.TextChoices):
        VERIFIED = "verified", "Verified"
        REFER = "refer", "Referred to an officer"
        NOT_FOUND = "not_found", "Not found"

    class Review(models.TextChoices):
        NONE = "", "No review needed"
        OPEN = "open", "Waiting for an officer"
        CONFIRMED = "confirmed", "An officer confirmed it"
        REJECTED = "rejected", "An officer could not confirm it"

    reference = models.CharField(max_length=20, unique=True, default=new_reference)
    purpose = models.CharField(max_length=60)
    requested_at = models.DateTimeField(db_index=True)
    actor_kind = models.CharField(max_length=20)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=120, blank=True)
    caller_reference = models.CharField(
        max_length=64,
        blank=True,
        help_text="The calling service's own reference, e.g. an application",
    )
    applicant = models.JSONField(help_text="The details as given")
    decision = models.CharField(max_length=12, choices=Decision.choices)
    resident_id = models.CharField(max_length=40, blank=True, db_index=True)
    match_probability = models.FloatField()
    reasons = models.JSONField(default=list, help_text="For staff: which fields agreed and why")
    public_reasons = models.JSONField(
        default=list,
        help_text="For the applicant and machine clients: nothing that narrows down the details",
    )
    unconfirmed = models.JSONField(
        default=list,
        help_text="Fields the policy checks that the records hold no value of (settled without)",
    )
    evidence = models.JSONField(default=list)
    datasets_read = models.JSONField(default=list)
    index_linked_at = models.CharField(
        max_length=40, help_text="The link run the index was built from"
    )
    seconds = models.FloatField(help_text="How long the decision took")
    review = models.CharField(max_length=10, choices=Review.choices, blank=True, db_index=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)
    anonymised_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When retention blanked the details as given (transparency.service_retention)",
    )

    #: Set by ``service.verify`` on the verification it returns, not stored: the attempt-limit
    #: scopes this check's failure locked, and the refusal the next check will get.
    newly_locked: tuple[str, ...] | list[str] = ()
    lockout = None

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decision__in=["verified", "refer", "not_found"]),
                name="verification_decision_known",
            ),
            models.CheckConstraint(
                condition=~models.Q(decision="refer") | ~models.Q(review=""),
                name="verification_referral_is_reviewed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.purpose}: {self.decision}"


class FailedCheck(models.Model):
    """One failed identity check against a target (a rent account, a resident, the details
    given, an online account), kept so that guesses are limited where a new session, a new
    account or a restart cannot reset the count (``attempts.py``). ``key`` is a keyed hash: the
    table holds no personal data."""

    scope = models.CharField(max_length=30)
    key = models.CharField(max_length=64)
    failed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "failed_at"])]

    def __str__(self) -> str:
        return f"{self.scope} failed at {self.failed_at:%Y-%m-%d %H:%M}"


class CheckTarget(models.Model):
    """A row per target, locked while it is checked so that two guesses at once are counted
    one after the other."""

    scope = models.CharField(max_length=30)
    key = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="check_target_once")]

    def __str__(self) -> str:
        return f"{self.scope} target"


class HistoryCode(models.Model):
    """A one-time code posted to the address the council's records hold for a resident, so
    that an online account that passed an identity check as them may also see their data-use
    history and a copy of their data (``residents.history_codes``). A check proves someone
    knows a resident's name, date of birth and address; the code proves they get the
    resident's post. Only a keyed hash of the code is kept."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    resident_id = models.CharField(max_length=40, db_index=True)
    code_hash = models.CharField(max_length=64)
    letter_reference = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    wrong_tries = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(
        null=True, blank=True, help_text="A newer code replaced it, or too many wrong tries"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "resident_id"])]

    def __str__(self) -> str:
        return f"{self.letter_reference} ({self.resident_id})"
