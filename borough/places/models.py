"""The gazetteer's tables: properties keyed by UPRN, and the record of each import.

Reads live in ``queries.py``; every change goes through ``services.import_gazetteer``.
"""

from django.conf import settings
from django.db import models

from borough.core.changetime import ChangeTimeMixin, ChangeTimeQuerySet
from borough.places.formatting import address_lines, single_line

#: LLPG / AddressBase logical status codes (BS 7666).
LOGICAL_STATUS_HISTORICAL = "8"


class Property(ChangeTimeMixin, models.Model):
    """An addressable place in the council's gazetteer (a BLPU with its preferred address).

    A flat's ``parent`` is the building it is in, usually a parent shell (classification "PP").
    Properties are never deleted: other records refer to UPRNs, so a property that leaves the
    council's export is kept with ``in_latest_export`` false.
    """

    uprn = models.BigIntegerField("UPRN", primary_key=True)
    parent = models.ForeignKey(
        "self",
        verbose_name="parent UPRN",
        db_column="parent_uprn",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The building a flat is in",
    )
    usrn = models.BigIntegerField("USRN", null=True, blank=True, help_text="The street's reference")
    sub_building = models.CharField(max_length=120, blank=True, help_text='For example "Flat 3"')
    building_name = models.CharField(max_length=120, blank=True)
    building_number = models.CharField(max_length=30, blank=True, help_text='For example "12A"')
    street = models.CharField(max_length=120, blank=True)
    locality = models.CharField(max_length=100, blank=True)
    town = models.CharField(max_length=60, blank=True)
    postcode = models.CharField(max_length=8, blank=True, db_index=True, help_text="As E8 1DY")
    ward_code = models.CharField(max_length=20, blank=True)
    ward_name = models.CharField(max_length=100, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    classification = models.CharField(
        max_length=6, blank=True, help_text="AddressBase classification code, e.g. RD04"
    )
    is_residential = models.BooleanField(default=False)
    car_free = models.BooleanField(
        "car-free development",
        default=False,
        help_text="The council's planning condition: residents cannot get parking permits",
    )
    logical_status = models.CharField(
        max_length=20,
        blank=True,
        help_text="1 approved, 3 alternative, 6 provisional, 8 historical",
    )
    in_latest_export = models.BooleanField(
        default=True, help_text="False once a later import no longer lists this UPRN"
    )
    last_import = models.ForeignKey(
        "GazetteerImport",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The import that last created or changed this property",
    )
    # Set on every change (a queryset ``.update()`` or a ``bulk_create`` upsert must set it
    # itself); the warehouse build reads the properties changed since its last build by it.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = ChangeTimeQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "properties"
        constraints = [
            models.CheckConstraint(condition=models.Q(uprn__gt=0), name="uprn_is_positive"),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("uprn")), name="property_is_not_its_own_parent"
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(
                    latitude__isnull=False,
                    longitude__isnull=False,
                    latitude__gte=-90,
                    latitude__lte=90,
                    longitude__gte=-180,
                    longitude__lte=180,
                ),
                name="coordinates_both_or_neither_and_in_range",
            ),
        ]
        indexes = [models.Index(fields=["ward_code"]), models.Index(fields=["usrn"])]

    def __str__(self) -> str:
        return f"{self.single_line()} (UPRN {self.uprn})"

    @property
    def parent_uprn(self) -> int | None:
        return self.parent_id

    def lines(self, *, include_postcode: bool = True) -> list[str]:
        """The address as lines, properly cased: ["Flat 3", "Kestrel House", "12 Albion Road", …]."""
        return address_lines(
            sub_building=self.sub_building,
            building_name=self.building_name,
            building_number=self.building_number,
            street=self.street,
            locality=self.locality,
            town=self.town,
            postcode=self.postcode if include_postcode else "",
        )

    def single_line(self, *, include_postcode: bool = True) -> str:
        """ "Flat 3, Kestrel House, 12 Albion Road, London E21 3AB"."""
        return single_line(
            self.lines(include_postcode=False), self.postcode, include_postcode=include_postcode
        )

    @property
    def is_historical(self) -> bool:
        return self.logical_status == LOGICAL_STATUS_HISTORICAL


class GazetteerImport(models.Model):
    """One attempt to load a gazetteer file, whether it loaded, failed or was already loaded."""

    class Status(models.TextChoices):
        LOADED = "loaded", "Loaded"
        FAILED = "failed", "Not loaded: the file has problems"
        ALREADY_LOADED = "already_loaded", "Already loaded: nothing changed"

    file_name = models.CharField(max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    mapping = models.CharField(max_length=255, help_text="The column mapping used")
    status = models.CharField(max_length=20, choices=Status.choices)
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField()
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    via = models.CharField(max_length=30, help_text='"command line" or "staff page"')
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    left_export = models.PositiveIntegerField(
        default=0,
        help_text="Properties this file no longer lists (kept, marked not in latest export)",
    )
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="The first problems found")

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} on {self.started_at:%d %B %Y %H:%M}: {self.get_status_display()}"
