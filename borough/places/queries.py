"""Reads from the gazetteer. Other apps look addresses up through these functions."""

import re
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from borough.places.models import LOGICAL_STATUS_HISTORICAL, GazetteerImport, Property
from borough.places.postcodes import normalise_postcode

# Parent shells ("PP": a building holding flats) and street records ("PS") are not places a
# person lives or works at, so an address picker does not offer them.
NOT_OFFERED_CLASSES = ("PP", "PS")

_DIGITS = re.compile(r"(\d+)")


def _natural(text: str) -> tuple:
    """A sort key that puts "Flat 2" before "Flat 10" and "12" before "12A" before "13"."""
    parts = _DIGITS.split(text.casefold())
    return tuple(int(part) if index % 2 else part for index, part in enumerate(parts))


def natural_order_key(prop: Property) -> tuple:
    """Street, then building number, then building name, then flat, each compared naturally."""
    return (
        _natural(prop.street),
        _natural(prop.building_number),
        _natural(prop.building_name),
        _natural(prop.sub_building),
        prop.uprn,
    )


def offered_addresses() -> QuerySet[Property]:
    """Properties a resident can choose: in the latest export, not historical, not shells."""
    query = Property.objects.filter(in_latest_export=True).exclude(
        logical_status=LOGICAL_STATUS_HISTORICAL
    )
    for prefix in NOT_OFFERED_CLASSES:
        query = query.exclude(classification__startswith=prefix)
    return query


def addresses_at(postcode: str) -> list[Property]:
    """The addresses a resident can choose at ``postcode``, in natural order.

    ``postcode`` may be in any case or spacing; raises ``InvalidPostcode`` if it is not a
    UK postcode. An unknown postcode gives an empty list.
    """
    found = list(offered_addresses().filter(postcode=normalise_postcode(postcode)))
    found.sort(key=natural_order_key)
    return found


def property_by_uprn(uprn: int) -> Property | None:
    """The property with this UPRN, whatever its status, or None."""
    return Property.objects.filter(uprn=uprn).first()


@dataclass(frozen=True)
class WardCount:
    ward_code: str
    ward_name: str
    properties: int
    residential: int
    car_free: int


@dataclass(frozen=True)
class GazetteerCounts:
    properties: int
    residential: int
    car_free: int
    not_in_latest_export: int
    wards: list[WardCount]


def gazetteer_counts() -> GazetteerCounts:
    """How many properties the gazetteer holds, in total and by ward (current ones only)."""
    current = Property.objects.filter(in_latest_export=True)
    totals = current.aggregate(
        properties=Count("uprn"),
        residential=Count("uprn", filter=Q(is_residential=True)),
        car_free=Count("uprn", filter=Q(car_free=True)),
    )
    wards = [
        WardCount(**row)
        for row in current.values("ward_code", "ward_name")
        .annotate(
            properties=Count("uprn"),
            residential=Count("uprn", filter=Q(is_residential=True)),
            car_free=Count("uprn", filter=Q(car_free=True)),
        )
        .order_by("ward_name", "ward_code")
    ]
    return GazetteerCounts(
        properties=totals["properties"],
        residential=totals["residential"],
        car_free=totals["car_free"],
        not_in_latest_export=Property.objects.filter(in_latest_export=False).count(),
        wards=wards,
    )


def recent_imports(limit: int = 10) -> list[GazetteerImport]:
    return list(GazetteerImport.objects.select_related("imported_by")[:limit])
