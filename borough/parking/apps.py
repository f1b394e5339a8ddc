from django.apps import AppConfig


class ParkingConfig(AppConfig):
    name = "borough.parking"
    label = "parking"
    verbose_name = "Parking (zones, vehicles, permits, enforcement)"
