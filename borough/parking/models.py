"""Parking: controlled parking zones and where each property is, permits, visitor sessions."""

from django.conf import settings
from django.db import models

from borough.core.changetime import ChangeTimeMixin, ChangeTimeQuerySet


class Zone(models.Model):
    """A controlled parking zone (CPZ), loaded from GeoJSON (``zones.py``)."""

    code = models.CharField(max_length=20, unique=True, help_text='For example "A" or "N1"')
    name = models.CharField(max_length=120)
    hours = models.CharField(
        max_length=200, blank=True, help_text='When it is controlled: "Mon-Fri 8.30am-6.30pm"'
    )
    boundary = models.JSONField(help_text="GeoJSON Polygon or MultiPolygon (WGS84 lon/lat)")
    # Bounding box, for a quick first test before the polygon.
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()
    active = models.BooleanField(default=True, help_text="False once a later file drops it")
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"Zone {self.code} ({self.name})"


class PropertyZone(models.Model):
    """Which zone a property lies in, from its coordinates (``zones.place_properties``)."""

    property = models.OneToOneField(
        "places.Property", primary_key=True, on_delete=models.CASCADE, related_name="parking_zone"
    )
    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="properties")

    def __str__(self) -> str:
        return f"{self.property_id} in {self.zone.code}"


def _reference(prefix: str) -> str:
    import secrets

    # No 0/O or 1/I: references are read out on the phone.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(8))


def new_application_reference() -> str:
    return _reference("PA-")


def new_permit_number() -> str:
    return _reference("PP-")


class PermitApplication(ChangeTimeMixin, models.Model):
    """One resident's application for a permit, from the journey's first answer to the permit.

    The journey's answers live in the session until "Pay"; this row is created then, with the
    price fixed from the vehicle data used (``vehicle_snapshot``), so that what was charged can
    always be explained."""

    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", "Waiting for payment"
        ISSUED = "issued", "Permit issued"
        NEEDS_OFFICER = "needs_officer", "Waiting for an officer"
        REFUSED = "refused", "Refused"
        ABANDONED = "abandoned", "Payment not completed"

    reference = models.CharField(max_length=20, unique=True, default=new_application_reference)
    journey = models.CharField(
        max_length=40,
        unique=True,
        help_text="The journey (session) it came from: submitting it twice makes one application",
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="permit_applications"
    )
    permit_type = models.CharField(max_length=30)
    property = models.ForeignKey("places.Property", on_delete=models.PROTECT, related_name="+")
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="applications")
    first_name = models.CharField(max_length=100)
    surname = models.CharField(max_length=100)
    # Blank only once retention has anonymised the application (``anonymised_at``).
    date_of_birth = models.DateField(null=True, blank=True)
    vrm = models.CharField("registration", max_length=7)
    vehicle_snapshot = models.JSONField(
        default=dict, help_text="The vehicle data the price was set from, as the lookup gave it"
    )
    vehicle_found = models.BooleanField(default=False)
    duration_months = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=10, blank=True)
    band_reason = models.CharField(max_length=200, blank=True)
    price_pence = models.PositiveIntegerField()
    price_lines = models.JSONField(default=list)
    verification_reference = models.CharField(max_length=20, blank=True)
    verification_decision = models.CharField(max_length=20, blank=True)
    resident_id = models.CharField(max_length=20, blank=True)
    payment_reference = models.CharField(max_length=40, blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.AWAITING_PAYMENT, db_index=True
    )
    decision_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    renews = models.ForeignKey(
        "Permit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="renewal_applications",
        help_text="The permit this application renews: its permit starts the day after that ends",
    )
    anonymised_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When retention blanked the applicant's details (transparency.record_retention)",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Indexed: the warehouse build reads the applications changed since its last build.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = ChangeTimeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.reference


class Permit(ChangeTimeMixin, models.Model):
    """A virtual permit: nothing is displayed in the vehicle; enforcement checks the
    registration. Valid only in its zone, between its dates, while ACTIVE or PROOF_NEEDED, or
    SCHEDULED (a renewal paid for ahead: it is not "live" for the one-permit-per-vehicle rule
    while the permit it renews still is; ``services.start_renewed_permits`` hands over, and the
    enforcement check accepts it from its start date either way). ENDED: a renewed permit after
    the hand-over."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PROOF_NEEDED = "proof_needed", "Active: proof needed"
        CANCELLED = "cancelled", "Cancelled"
        SCHEDULED = "scheduled", "Renewal: starts later"
        ENDED = "ended", "Ended: renewed"

    LIVE = (Status.ACTIVE, Status.PROOF_NEEDED)

    number = models.CharField(max_length=20, unique=True, default=new_permit_number)
    application = models.OneToOneField(
        PermitApplication, on_delete=models.PROTECT, related_name="permit"
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="permits"
    )
    permit_type = models.CharField(max_length=30)
    property = models.ForeignKey("places.Property", on_delete=models.PROTECT, related_name="+")
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="permits")
    vrm = models.CharField("registration", max_length=7, db_index=True)
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="The last day the permit is valid")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    proof_due_on = models.DateField(null=True, blank=True)
    paid_pence = models.PositiveIntegerField()
    refunded_pence = models.PositiveIntegerField(default=0)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    moved_at = models.DateTimeField(
        null=True, blank=True, help_text="When the holder last moved it to a new address"
    )
    verification_reference = models.CharField(
        max_length=20,
        blank=True,
        help_text="After a move, the verification of the new address (empty: none could be "
        "made); before any move, the application's verification backs the address",
    )
    issued_at = models.DateTimeField(auto_now_add=True)
    # Set on every change (a queryset ``.update()`` must set it itself: auto_now does not run
    # there); the warehouse build reads the permits changed since its last build by it.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = ChangeTimeQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["vrm", "zone", "status"], name="permit_check")]
        constraints = [
            # One live resident permit per vehicle, even under concurrent applications.
            models.UniqueConstraint(
                fields=["vrm"],
                condition=models.Q(permit_type="resident", status__in=["active", "proof_needed"]),
                name="one_live_resident_permit_per_vehicle",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="permit_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class VisitorSession(models.Model):
    """A visitor's vehicle allowed to park in the host's zone for some hours, taken from the
    household's yearly allowance, and paid for at the profile's price per hour where it has
    one (booked once paid; whole unused hours refunded)."""

    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", "Waiting for payment"
        BOOKED = "booked", "Booked"

    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visitor_sessions"
    )
    property = models.ForeignKey("places.Property", on_delete=models.PROTECT, related_name="+")
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="visitor_sessions")
    vrm = models.CharField("registration", max_length=7, db_index=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    ended_early_at = models.DateTimeField(null=True, blank=True)
    hours_used = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BOOKED)
    price_pence = models.PositiveIntegerField(default=0)
    refunded_pence = models.PositiveIntegerField(default=0)
    payment_reference = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    anonymised_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When retention blanked the visitor's registration (transparency.service_retention)",
    )

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["vrm", "zone", "ends_at"], name="visitor_check")]

    def __str__(self) -> str:
        return f"Visitor session {self.pk}"


class PermitEvent(models.Model):
    """The audit trail of an application or permit: who did what, when, why. Append-only by
    convention: services add rows, nothing edits them."""

    application = models.ForeignKey(
        PermitApplication, on_delete=models.PROTECT, related_name="events"
    )
    permit = models.ForeignKey(
        Permit, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    action = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detail = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} at {self.at:%Y-%m-%d %H:%M}"


class ProofUpload(models.Model):
    """A document a resident sent to prove their address or vehicle, for an officer."""

    permit = models.ForeignKey(Permit, on_delete=models.PROTECT, related_name="proofs")
    kind = models.CharField(max_length=30, help_text="council_tax_bill, tenancy, v5c, …")
    file = models.FileField(upload_to="parking/proof/%Y/%m/")
    content_type = models.CharField(max_length=60)
    size_bytes = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)
    decision = models.CharField(max_length=20, blank=True)  # "accepted", "rejected"
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return f"Proof {self.pk} ({self.kind})"


def new_change_reference() -> str:
    return _reference("VC-")


class VehicleChange(models.Model):
    """A resident's request to move their permit to another vehicle, priced when asked
    (``services.vehicle_change_price``) and applied once, after any payment has succeeded."""

    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", "Waiting for payment"
        APPLIED = "applied", "Vehicle changed"
        REFUSED = "refused", "Not changed: refunded"

    reference = models.CharField(max_length=20, unique=True, default=new_change_reference)
    permit = models.ForeignKey(Permit, on_delete=models.PROTECT, related_name="vehicle_changes")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    old_vrm = models.CharField(max_length=7)
    new_vrm = models.CharField(max_length=7)
    vehicle_snapshot = models.JSONField(
        default=dict, help_text="The new vehicle's data the price was set from"
    )
    charge_pence = models.PositiveIntegerField()
    explanation = models.CharField(max_length=500)
    payment_reference = models.CharField(max_length=40, blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.AWAITING_PAYMENT, db_index=True
    )
    refused_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.reference


class RecordDispute(models.Model):
    """A resident says the council record that confirmed their address is wrong. The message
    is theirs, for an officer: it is never logged."""

    permit = models.ForeignKey(Permit, on_delete=models.PROTECT, related_name="disputes")
    verification_reference = models.CharField(max_length=20)
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Dispute {self.pk} about {self.verification_reference}"
