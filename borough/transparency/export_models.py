"""Subject access: a resident's data exports, officers' subject access requests, and requests to
put a record right. Imported by ``models.py`` so that they belong to the ``transparency`` app.

An export's contents are personal data: they are stored encrypted (``export.seal_payload``),
never in static files, and deleted when the download expires.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def _reference(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(10))


def new_export_reference() -> str:
    """Shown and logged: says which export, grants nothing."""
    return _reference("EX-")


def new_export_token() -> str:
    """The export's address: 32 random bytes, so it cannot be guessed."""
    return secrets.token_urlsafe(32)


def new_sar_reference() -> str:
    return _reference("SAR-")


def new_correction_reference() -> str:
    return _reference("RC-")


class DataExport(models.Model):
    """A copy of everything Borough holds about one or more resident IDs, for a resident who
    asked (``account``) or for an officer answering a subject access request (``request``)."""

    class Status(models.TextChoices):
        PREPARING = "preparing", "Being prepared"
        READY = "ready", "Ready to download"
        FAILED = "failed", "Could not be prepared"
        EXPIRED = "expired", "Expired and deleted"

    reference = models.CharField(max_length=20, unique=True, default=new_export_reference)
    token = models.CharField(max_length=64, unique=True, default=new_export_token)
    resident_ids = models.JSONField(default=list)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="data_exports",
        help_text="The resident who asked for it; empty for a subject access request's export",
    )
    request = models.ForeignKey(
        "SubjectAccessRequest",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="exports",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREPARING)
    requested_at = models.DateTimeField()
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    payload_encrypted = models.TextField(blank=True, help_text="The JSON document, encrypted")
    records = models.PositiveIntegerField(default=0)
    downloads = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(account__isnull=False) | models.Q(request__isnull=False),
                name="export_for_someone",
            )
        ]

    def __str__(self) -> str:
        return self.reference


class SubjectAccessRequest(models.Model):
    """A request for a copy of someone's data that came in by letter, email or phone.

    ``requester_name`` and ``requester_contact`` are personal data, kept only to answer the
    request and never logged or put in the data-use log."""

    class IdentityCheck(models.TextChoices):
        SIGNED_IN_VERIFIED = "verification", "A verification they passed in Borough"
        DOCUMENTS = "documents", "Identity documents they sent or showed"
        KNOWN_DETAILS = "known_details", "Details only they would know, checked against records"
        IN_PERSON = "in_person", "In person at a council office"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETE = "complete", "Complete"

    reference = models.CharField(max_length=20, unique=True, default=new_sar_reference)
    requester_name = models.CharField(max_length=200)
    requester_contact = models.CharField(
        max_length=300, help_text="Where to send the answer, as the request gave it"
    )
    received_on = models.DateField()
    identity_check = models.CharField(max_length=20, choices=IdentityCheck.choices)
    identity_note = models.CharField(max_length=500, blank=True)
    resident_id = models.CharField(max_length=40)
    due_on = models.DateField(help_text="One calendar month from receipt")
    extended_due_on = models.DateField(null=True, blank=True)
    extension_reason = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.reference

    @property
    def deadline(self):
        return self.extended_due_on or self.due_on


class RectificationRequest(models.Model):
    """A resident saying a record is wrong ("This is wrong"), routed to the staff area that owns
    the record's dataset, and the answer they are given."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for the team that holds the record"
        CORRECTED = "corrected", "Corrected"
        NOT_CHANGED = "not_changed", "Not changed"

    reference = models.CharField(max_length=20, unique=True, default=new_correction_reference)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rectification_requests"
    )
    resident_ids = models.JSONField(default=list, help_text="The resident IDs the export was for")
    export = models.ForeignKey(
        DataExport, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    record_key = models.CharField(max_length=200, help_text="The record, as the export names it")
    record_title = models.CharField(max_length=200)
    dataset = models.CharField(max_length=60)
    dataset_title = models.CharField(max_length=200)
    owner = models.CharField(max_length=200, help_text="The team that owns the dataset")
    area = models.CharField(max_length=20, help_text="The staff area that answers it")
    what_is_wrong = models.TextField(max_length=2000)
    should_be = models.TextField(max_length=2000)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField()
    answer = models.TextField(max_length=2000, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["area", "status"], name="rectification_queue")]
        constraints = [
            # One open request per record and account: "This is wrong" again while the first
            # waits is refused (``rectification.ask_for_correction``).
            models.UniqueConstraint(
                fields=["account", "dataset", "record_key"],
                condition=models.Q(status="open"),
                name="rectification_one_open_per_record",
            )
        ]

    def __str__(self) -> str:
        return self.reference
