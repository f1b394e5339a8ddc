"""Parking: controlled parking zones and where each property is, permits, visitor sessions."""

from django.db import models


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
