"""Tenancies, rent accounts and their ledger.

The ledger is the truth: a rent account's balance is the sum of its entries (positive: the
tenant owes; negative: in credit). Entries are never changed or deleted; a mistake is put right
by a reversal, which points at the entry it reverses. Every entry has a ``source_key`` that says
where it came from ("charge:…", "statement:…", "bacs:…"), unique, so the same charge, statement
line or collection can never be posted twice, whichever process tries.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    """Someone tried to change or delete a ledger entry."""


class Tenancy(models.Model):
    class Tenure(models.TextChoices):
        SECURE = "secure", "Secure"
        INTRODUCTORY = "introductory", "Introductory"
        FLEXIBLE = "flexible", "Flexible (fixed term)"
        TEMPORARY = "temporary", "Temporary accommodation"

    reference = models.CharField(max_length=20, unique=True, help_text="The tenancy reference")
    property = models.ForeignKey("places.Property", on_delete=models.PROTECT, related_name="+")
    tenure = models.CharField(max_length=20, choices=Tenure.choices)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    anonymised_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When retention blanked its tenants' details (transparency.service_retention)",
    )

    class Meta:
        verbose_name_plural = "tenancies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="tenancy_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.reference


class Tenant(models.Model):
    """A person named on a tenancy, linked to the resident index where the link is known."""

    tenancy = models.ForeignKey(Tenancy, on_delete=models.CASCADE, related_name="tenants")
    first_name = models.CharField(max_length=100)
    surname = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    email = models.EmailField(blank=True)
    resident_id = models.CharField(max_length=40, blank=True, db_index=True)
    lead = models.BooleanField(default=False)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tenancies",
        help_text="The resident's sign-in account, once they have signed in",
    )

    def __str__(self) -> str:
        return f"Tenant {self.pk} of {self.tenancy_id}"


class LinkCode(models.Model):
    """A one-time code posted to a tenancy's home, for a tenant whose online account the
    records alone cannot link: their tenancy already has another online account for them, or
    their records hold no date of birth to check. Whoever can read the home's post and is signed
    in to the account that asked for it can link that account (``linking.py``). Only a hash of
    the code is kept."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="link_codes")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    code_hash = models.CharField(max_length=64)
    letter_reference = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Link code {self.letter_reference}"


class RentAccount(models.Model):
    tenancy = models.OneToOneField(Tenancy, on_delete=models.PROTECT, related_name="rent_account")
    payment_reference = models.CharField(
        max_length=20,
        unique=True,
        help_text="What tenants quote when they pay, with a check character",
    )
    opened_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return self.payment_reference


class ChargeRate(models.Model):
    """A weekly charge on an account from a date (the April rent change adds a new rate)."""

    account = models.ForeignKey(RentAccount, on_delete=models.CASCADE, related_name="rates")
    charge_type = models.CharField(max_length=4, help_text="The profile's charge type code")
    weekly_pence = models.PositiveIntegerField()
    effective_from = models.DateField()

    class Meta:
        ordering = ["account", "charge_type", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "charge_type", "effective_from"], name="one_rate_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.charge_type} {self.weekly_pence}p from {self.effective_from}"


class LedgerQuerySet(models.QuerySet):
    """Refuses bulk changes: ``update`` and ``delete`` would bypass ``LedgerEntry``'s guards."""

    def update(self, **kwargs):
        raise AppendOnlyError("Ledger entries cannot be changed: post a reversal instead.")

    def delete(self):
        raise AppendOnlyError("Ledger entries cannot be deleted: post a reversal instead.")


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        CHARGE = "charge", "Charge"
        DIRECT_DEBIT = "direct_debit", "Direct Debit"
        STANDING_ORDER = "standing_order", "Standing order"
        BANK_PAYMENT = "bank_payment", "Bank payment"
        CARD = "card", "Card payment"
        BENEFIT = "benefit", "Housing Benefit or Universal Credit"
        ADJUSTMENT = "adjustment", "Adjustment"
        REFUND = "refund", "Refund"
        REVERSAL = "reversal", "Reversal"

    account = models.ForeignKey(RentAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    type_code = models.CharField(max_length=4, help_text="DBR, RDD, RSO, RHB, RDN, …")
    posted_on = models.DateField(db_index=True)
    amount_pence = models.BigIntegerField(help_text="Positive: owed (a charge); negative: paid")
    description = models.CharField(max_length=200)
    source_key = models.CharField(max_length=120, unique=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["posted_on", "id"]
        indexes = [models.Index(fields=["account", "posted_on"], name="ledger_account_date")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount_pence=0), name="entry_not_zero")
        ]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"{self.type_code} {self.amount_pence}p on {self.posted_on}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("Ledger entries cannot be changed: post a reversal instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Ledger entries cannot be deleted: post a reversal instead.")


class ChargeRun(models.Model):
    """One week's charges, posted for every open account (``services.post_weekly_charges``)."""

    week_starting = models.DateField(unique=True, help_text="The Monday")
    rent_week = models.PositiveSmallIntegerField(
        help_text="1 = the week of the first Monday in April"
    )
    rent_free = models.BooleanField()
    entries = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-week_starting"]

    def __str__(self) -> str:
        return f"Charges for the week of {self.week_starting}"


class PaymentArrangement(models.Model):
    """An agreement to clear arrears: a regular amount on top of the rent, from a date."""

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", "Every week"
        FORTNIGHTLY = "fortnightly", "Every 2 weeks"
        FOUR_WEEKLY = "four_weekly", "Every 4 weeks"
        MONTHLY = "monthly", "Every month"

    class Status(models.TextChoices):
        LIVE = "live", "On track"
        BREACHED = "breached", "Broken"
        CLEARED = "cleared", "Cleared"
        CANCELLED = "cancelled", "Cancelled"

    account = models.ForeignKey(RentAccount, on_delete=models.PROTECT, related_name="arrangements")
    amount_pence = models.PositiveIntegerField(help_text="Paid towards the arrears each time")
    frequency = models.CharField(max_length=12, choices=Frequency.choices)
    start_date = models.DateField()
    start_balance_pence = models.BigIntegerField(help_text="The arrears when it was agreed")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.LIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_pence__gt=0), name="arrangement_pays")
        ]

    def __str__(self) -> str:
        return f"Arrangement {self.pk} on {self.account_id}"


# -- Direct Debit ------------------------------------------------------------------------------


class Mandate(models.Model):
    """A Direct Debit Instruction (DDI) from a tenant's bank account to pay their rent. Bank
    details are stored encrypted (``bank_details.py``: a rotatable key) and shown masked."""

    class Status(models.TextChoices):
        NEW = "new", "New: to be lodged"
        LODGED = "lodged", "Lodged with the bank"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    class Frequency(models.TextChoices):
        MONTHLY = "monthly", "Every month"
        FOUR_WEEKLY = "four_weekly", "Every 4 weeks"
        FORTNIGHTLY = "fortnightly", "Every 2 weeks"
        WEEKLY = "weekly", "Every week"

    account = models.ForeignKey(RentAccount, on_delete=models.PROTECT, related_name="mandates")
    reference = models.CharField(
        max_length=18, unique=True, help_text="The DDI reference quoted to the bank (AUDDIS)"
    )
    account_holder = models.CharField(max_length=60)
    sort_code_encrypted = models.TextField()
    account_number_encrypted = models.TextField()
    sort_code_last2 = models.CharField(max_length=2)
    account_number_last4 = models.CharField(max_length=4)
    frequency = models.CharField(max_length=12, choices=Frequency.choices)
    collection_day = models.PositiveSmallIntegerField(
        help_text="Day of the month (1-28) for monthly; weekday (0 = Monday) otherwise"
    )
    first_collection_on = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lodged_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    anonymised_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When retention blanked the payer's name and bank details (transparency.service_retention)",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status__in=["new", "lodged", "active", "suspended"]),
                name="one_live_mandate_per_account",
            )
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def masked(self) -> str:
        return f"**-**-{self.sort_code_last2} ****{self.account_number_last4}"


class MandateEvent(models.Model):
    """What happened to a mandate and why (set up, lodged, ADDACS advice, unpaid, …)."""

    mandate = models.ForeignKey(Mandate, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=40)
    reason_code = models.CharField(max_length=4, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    source_key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} on {self.mandate_id}"


class BacsRun(models.Model):
    """One Bacs submission: instructions (0N/0C) and collections, as a validated Standard 18
    file."""

    input_date = models.DateField()
    processing_date = models.DateField()
    entry_date = models.DateField(unique=True, help_text="The day the money moves")
    serial = models.CharField(max_length=6)
    file_text = models.TextField()
    instructions = models.PositiveIntegerField(default=0)
    collections = models.PositiveIntegerField(default=0)
    total_pence = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-entry_date"]

    def __str__(self) -> str:
        return f"Bacs run for {self.entry_date}"


class Collection(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        UNPAID = "unpaid", "Unpaid (returned)"

    run = models.ForeignKey(BacsRun, on_delete=models.PROTECT, related_name="items")
    mandate = models.ForeignKey(Mandate, on_delete=models.PROTECT, related_name="collections")
    transaction_code = models.CharField(max_length=2)
    amount_pence = models.PositiveIntegerField()
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    entry = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="collection"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["mandate", "due_on"], name="one_collection_per_due_date"
            )
        ]

    def __str__(self) -> str:
        return f"Collection {self.pk}"


# -- bank statements ---------------------------------------------------------------------------


class StatementImport(models.Model):
    """A bank statement file a finance officer imported (all or nothing)."""

    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    format = models.CharField(max_length=10)
    bank_account = models.CharField(max_length=60)
    statement_id = models.CharField(max_length=100, blank=True)
    period_from = models.DateField(null=True, blank=True)
    period_to = models.DateField(null=True, blank=True)
    lines = models.PositiveIntegerField(default=0)
    new_lines = models.PositiveIntegerField(default=0)
    posted = models.PositiveIntegerField(default=0)
    to_suspense = models.PositiveIntegerField(default=0)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return self.file_name


class StatementUpload(models.Model):
    """A statement file a finance officer uploaded, imported by a background job
    (``tasks.import_uploaded_statement``) while the page shows how far it has got."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        REFUSED = "refused", "Not imported"

    file_name = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField(default=0)
    format = models.CharField(max_length=10, blank=True, help_text="As the officer chose it")
    stored_name = models.CharField(
        max_length=255, blank=True, help_text="The file in storage until it has been read"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=100, blank=True)
    progress_percent = models.PositiveSmallIntegerField(default=0)
    message = models.TextField(blank=True)
    statement_import = models.ForeignKey(
        StatementImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.REFUSED)


class BankLine(models.Model):
    """One credit or debit on the council's bank statement, kept once however many statements
    repeat it (``line_hash``), with what became of it."""

    class Outcome(models.TextChoices):
        POSTED = "posted", "Posted to a rent account"
        SUSPENSE = "suspense", "In suspense"
        ALLOCATED = "allocated", "Allocated by an officer"
        REFUNDED = "refunded", "Returned to the payer"
        IGNORED = "ignored", "Not a rent payment"

    line_hash = models.CharField(max_length=64, unique=True)
    first_import = models.ForeignKey(StatementImport, on_delete=models.PROTECT, related_name="+")
    booking_date = models.DateField(db_index=True)
    amount_pence = models.BigIntegerField()
    reference = models.CharField(max_length=200, blank=True)
    payer_name = models.CharField(max_length=140, blank=True)
    payer_bank_key = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="A keyed hash of the payer's sort code and account (to recognise them again); "
        "the bank details themselves are not kept",
    )
    payer_account_last4 = models.CharField(max_length=4, blank=True)
    bank_tx_code = models.CharField(max_length=40, blank=True)
    bank_ref = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, db_index=True)
    method = models.CharField(max_length=30, blank=True)
    confidence = models.FloatField(default=0)
    reason = models.CharField(max_length=300, blank=True)
    suggestions = models.JSONField(default=list)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["booking_date", "id"]

    def __str__(self) -> str:
        return f"Bank line {self.pk}"


class TenantNotice(models.Model):
    """A notice emailed to a tenant on a timetable, recorded so it is sent once (``key``)."""

    account = models.ForeignKey(RentAccount, on_delete=models.PROTECT, related_name="notices")
    key = models.CharField(max_length=120, unique=True)
    subject = models.CharField(max_length=200)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return self.key
