"""Controlled parking zones: loading them from GeoJSON, and which zone each property is in.

``load_zones`` enforces these rules:

- **Everything is checked first.** The file must be a GeoJSON FeatureCollection of at least one
  feature, each with a ``code`` and a ``name`` (``hours`` optional), no code twice, and a valid
  Polygon or MultiPolygon in WGS84 longitude and latitude inside the UK. Any problem raises
  ``ZoneFileError`` listing every problem by feature number and code, and nothing changes.
- **All or nothing.** Zones and the placement of properties change in one transaction.
- **Zones are kept.** Zones are matched by code: new codes are created, changed ones updated.
  A zone the new file leaves out is marked inactive, not deleted (permits refer to it), and
  comes back if a later file lists it again.
- **Idempotent.** Loading the same file again changes nothing and says so.

``place_properties`` puts every property with coordinates in the active zone whose boundary
contains it. A property on a boundary that two zones share, or where zones overlap, goes to the
zone whose code sorts first.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import numpy as np
import shapely
from django.db import transaction
from django.utils import timezone
from shapely.geometry import shape
from shapely.validation import explain_validity

from borough.parking.models import PropertyZone, Zone
from borough.places.mapping import LATITUDE_RANGE, LONGITUDE_RANGE
from borough.places.models import Property

# Rows per write: below SQLite's old limit of 999 parameters a statement.
BATCH_SIZE = 900
GEOMETRY_TYPES = ("Polygon", "MultiPolygon")
_MAX_LENGTH = {name: Zone._meta.get_field(name).max_length for name in ("code", "name", "hours")}


# --- Results and errors ------------------------------------------------------------------------


@dataclass(frozen=True)
class ZoneProblem:
    """Something wrong with a zones file: a feature (numbered from 1), or the whole file."""

    message: str
    feature: int | None = None
    code: str = ""

    def __str__(self) -> str:
        if self.feature is None:
            return self.message
        which = f'code "{self.code}"' if self.code else "no code"
        return f"feature {self.feature} ({which}): {self.message}"


class ZoneFileError(Exception):
    """The zones file has problems; nothing was changed. ``problems`` lists them all."""

    def __init__(self, file_name: str, problems: list[ZoneProblem]) -> None:
        self.file_name = file_name
        self.problems = problems
        super().__init__("\n".join([self.summary(), *(f"  {p}" for p in problems)]))

    def summary(self) -> str:
        count = len(self.problems)
        return (
            f"Nothing was loaded from {self.file_name}: it has {count:,} "
            f"problem{'s' if count != 1 else ''}."
        )


@dataclass
class PlacementResult:
    """Where ``place_properties`` put the properties, and how many rows it changed."""

    placed: int = 0
    outside: int = 0
    without_coordinates: int = 0
    created: int = 0
    moved: int = 0
    removed: int = 0

    @property
    def changed(self) -> int:
        """Properties whose zone changed: newly placed, moved to another zone, or unplaced."""
        return self.created + self.moved + self.removed

    def summary(self) -> str:
        text = (
            f"{self.placed:,} properties are in a zone, {self.outside:,} outside every zone, "
            f"{self.without_coordinates:,} without coordinates"
        )
        if not self.changed:
            return text + "; no property changed zone."
        return text + (
            f"; {self.created:,} newly in a zone, {self.moved:,} moved to another zone, "
            f"{self.removed:,} no longer in a zone."
        )


@dataclass
class ZoneLoadResult:
    """What ``load_zones`` did."""

    file_name: str
    zones: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    placement: PlacementResult = field(default_factory=PlacementResult)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.retired or self.placement.changed)

    def summary(self) -> str:
        if not self.changed:
            return (
                f"{self.file_name}: nothing changed ({self.zones:,} zones). "
                + self.placement.summary()
            )
        text = (
            f"Loaded {self.file_name}: {self.zones:,} zones; {self.created:,} new, "
            f"{self.updated:,} changed, {self.unchanged:,} unchanged"
        )
        if self.retired:
            text += f", {self.retired:,} no longer in the file (kept, marked inactive)"
        return text + ". " + self.placement.summary()


@dataclass(frozen=True)
class _Zone:
    code: str
    name: str
    hours: str
    boundary: dict
    bbox: tuple[float, float, float, float]

    def differs_from(self, zone: Zone) -> bool:
        return (
            zone.name != self.name
            or zone.hours != self.hours
            or zone.boundary != self.boundary
            or (zone.min_lon, zone.min_lat, zone.max_lon, zone.max_lat) != self.bbox
            or not zone.active
        )

    def copy_to(self, zone: Zone) -> None:
        zone.name, zone.hours, zone.boundary = self.name, self.hours, self.boundary
        zone.min_lon, zone.min_lat, zone.max_lon, zone.max_lat = self.bbox
        zone.active = True


# --- Reading and checking the file --------------------------------------------------------------


def _read_bytes(source: str | os.PathLike | IO) -> tuple[str, bytes]:
    if isinstance(source, str | os.PathLike):
        return Path(source).name, Path(source).read_bytes()
    name = Path(getattr(source, "name", "") or "upload.geojson").name
    if hasattr(source, "seek"):
        source.seek(0)
    data = source.read()
    return name, data.encode("utf-8") if isinstance(data, str) else data


def _not_finite(value: str) -> float:
    raise ValueError(f"{value} is not a number GeoJSON allows")


def _parse(data: bytes) -> Any:
    """The file as JSON, or a ZoneProblem saying why it is not."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return ZoneProblem(
            f"The file is not in UTF-8: the byte at offset {error.start:,} is not UTF-8 text."
        )
    if not text.strip():
        return ZoneProblem("The file is empty.")
    try:
        return json.loads(text, parse_constant=_not_finite)
    except json.JSONDecodeError as error:
        return ZoneProblem(
            f"The file is not JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        )
    except ValueError as error:
        return ZoneProblem(f"The file is not valid GeoJSON: {error}.")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError
    return str(value).strip()


def _rings(kind: str, coordinates: Any) -> list[list]:
    """The rings of a Polygon's or MultiPolygon's coordinates; TypeError if not so nested."""
    polygons = [coordinates] if kind == "Polygon" else coordinates
    if not isinstance(polygons, list):
        raise TypeError
    rings = []
    for polygon in polygons:
        if not isinstance(polygon, list) or not all(isinstance(r, list) for r in polygon):
            raise TypeError
        rings.extend(polygon)
    return rings


def _is_position(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) in (2, 3)
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    )


def _check_coordinates(kind: str, coordinates: Any) -> list[str]:
    """Problems with how the coordinates are laid out, and with their range (empty if none)."""
    layout = (
        "a list of rings, each a list of [longitude, latitude] positions"
        if kind == "Polygon"
        else "a list of polygons, each a list of rings of [longitude, latitude] positions"
    )
    try:
        rings = _rings(kind, coordinates)
    except TypeError:
        return [f"its coordinates are not {layout}"]
    if not rings:
        return ["its geometry has no coordinates"]
    for number, ring in enumerate(rings, start=1):
        for position in ring:
            if not _is_position(position):
                return [
                    f"its coordinates are not {layout}: {json.dumps(position)} is not a position"
                ]
        if len(ring) < 4:
            return [f"ring {number} has {len(ring)} positions; a ring needs at least 4"]
        if ring[0] != ring[-1]:
            return [f"ring {number} is not closed: its last position must repeat its first"]
    lon_low, lon_high = LONGITUDE_RANGE
    lat_low, lat_high = LATITUDE_RANGE
    outside = [
        p
        for ring in rings
        for p in ring
        if not (lon_low <= p[0] <= lon_high and lat_low <= p[1] <= lat_high)
    ]
    if not outside:
        return []
    lon, lat = outside[0][0], outside[0][1]
    message = (
        f"{len(outside):,} of its positions are outside the UK, the first [{lon}, {lat}]: "
        f"positions must be WGS84 [longitude, latitude], longitude {lon_low} to {lon_high} "
        f"and latitude {lat_low} to {lat_high}"
    )
    if abs(lon) > 1000 and abs(lat) > 1000:
        message += (
            ". These look like eastings and northings (British National Grid): convert the "
            "file to WGS84 (EPSG:4326)"
        )
    elif lat_low <= lon <= lat_high and lon_low <= lat <= lon_high:
        message += ". Longitude and latitude look swapped round"
    return [message]


def _check_feature(number: int, feature: Any, seen: dict[str, tuple[int, str]], problems):
    """The feature's zone, or None having added its problems."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        problems.append(ZoneProblem('it is not a GeoJSON "Feature"', number))
        return None
    found: list[str] = []
    properties = feature.get("properties")
    if not isinstance(properties, dict):
        properties = {}
    values = {}
    for key in ("code", "name", "hours"):
        try:
            values[key] = _text(properties.get(key))
        except TypeError:
            found.append(f'its "{key}" must be text')
            values[key] = None
            continue
        if len(values[key]) > _MAX_LENGTH[key]:
            found.append(f'its "{key}" is longer than {_MAX_LENGTH[key]} characters')
        elif not values[key] and key != "hours":
            found.append(f'it has no "{key}"')
    code = values["code"] or ""
    if code:
        first = seen.setdefault(code.casefold(), (number, code))
        if first[0] != number:
            found.append(
                f'the code "{first[1]}" is also used by feature {first[0]}; each zone needs its '
                "own code"
            )

    geometry = feature.get("geometry")
    polygon = None
    if not isinstance(geometry, dict) or not geometry.get("type"):
        found.append("it has no geometry")
    elif geometry["type"] not in GEOMETRY_TYPES:
        found.append(
            f"its geometry is a {geometry['type']}; a zone must be a Polygon or MultiPolygon"
        )
    else:
        coordinate_problems = _check_coordinates(geometry["type"], geometry.get("coordinates"))
        found.extend(coordinate_problems)
        if not coordinate_problems:
            boundary = {"type": geometry["type"], "coordinates": geometry["coordinates"]}
            try:
                polygon = shape(boundary)
            except (ValueError, TypeError, shapely.errors.ShapelyError) as error:
                found.append(f"its {geometry['type']} cannot be read: {error}")
            else:
                if not polygon.is_valid:
                    found.append(
                        f"its {geometry['type']} is not valid: {explain_validity(polygon)}"
                    )
                    polygon = None
                elif polygon.is_empty or polygon.area == 0:
                    found.append(f"its {geometry['type']} has no area")
                    polygon = None
    for message in found:
        problems.append(ZoneProblem(message, number, code))
    if found or polygon is None:
        return None
    return _Zone(
        code=code,
        name=values["name"],
        hours=values["hours"],
        boundary=boundary,
        bbox=tuple(float(v) for v in polygon.bounds),
    )


def _read_zones_file(source: str | os.PathLike | IO) -> tuple[str, list[_Zone]]:
    """The file's name and its zones, checked; raises ``ZoneFileError`` listing every problem."""
    file_name, data = _read_bytes(source)
    document = _parse(data)
    if isinstance(document, ZoneProblem):
        raise ZoneFileError(file_name, [document])
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ZoneFileError(
            file_name,
            [
                ZoneProblem(
                    'The file is not a GeoJSON FeatureCollection (its "type" must be '
                    '"FeatureCollection").'
                )
            ],
        )
    features = document.get("features")
    if not isinstance(features, list):
        raise ZoneFileError(file_name, [ZoneProblem('The file has no list of "features".')])
    if not features:
        raise ZoneFileError(file_name, [ZoneProblem("The file has no zones.")])
    problems: list[ZoneProblem] = []
    seen: dict[str, tuple[int, str]] = {}
    zones = [
        _check_feature(number, feature, seen, problems)
        for number, feature in enumerate(features, start=1)
    ]
    if problems:
        raise ZoneFileError(file_name, problems)
    return file_name, [z for z in zones if z is not None]


# --- Loading and placing ------------------------------------------------------------------------


def load_zones(source: str | os.PathLike | IO) -> ZoneLoadResult:
    """Load controlled parking zones from a GeoJSON file (a path or an open file), then place
    every property in its zone.

    Checks the whole file first: any problem raises ``ZoneFileError`` and changes nothing.
    Zones are matched by code; those the file leaves out are marked inactive, never deleted.
    Loading the same file again changes nothing.
    """
    file_name, zones = _read_zones_file(source)
    result = ZoneLoadResult(file_name=file_name, zones=len(zones))
    with transaction.atomic():
        existing = {zone.code: zone for zone in Zone.objects.select_for_update()}
        for data in zones:
            zone = existing.get(data.code)
            if zone is None:
                zone = Zone(code=data.code)
                data.copy_to(zone)
                zone.save()
                result.created += 1
            elif data.differs_from(zone):
                data.copy_to(zone)
                zone.save()
                result.updated += 1
            else:
                result.unchanged += 1
        listed = {data.code for data in zones}
        result.retired = (
            Zone.objects.filter(active=True)
            .exclude(code__in=listed)
            .update(active=False, loaded_at=timezone.now())
        )
        result.placement = place_properties()
    return result


def _batches(items: list, size: int = BATCH_SIZE) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def place_properties() -> PlacementResult:
    """Make ``PropertyZone`` match the active zones: each property with coordinates is in the
    active zone whose boundary contains it, or in none.

    A point on a boundary two zones share (or inside two overlapping zones) goes to the zone
    whose code sorts first, so the answer never depends on the order zones were loaded.
    Reads every property's coordinates once and writes only the rows that change, in batches.
    """
    result = PlacementResult()
    zones = sorted(Zone.objects.filter(active=True), key=lambda zone: zone.code)
    coordinates = Property.objects.filter(latitude__isnull=False, longitude__isnull=False)
    rows = np.array(
        list(coordinates.values_list("uprn", "longitude", "latitude").iterator(chunk_size=5000)),
        dtype=np.float64,
    ).reshape(-1, 3)
    uprns = rows[:, 0].astype(np.int64)  # 12 digits at most: exact as a float
    result.without_coordinates = Property.objects.count() - len(uprns)

    nowhere = len(zones)
    first_zone = np.full(len(uprns), nowhere, dtype=np.int64)
    if zones and len(uprns):
        tree = shapely.STRtree([shape(zone.boundary) for zone in zones])
        points = shapely.points(rows[:, 1], rows[:, 2])
        point_index, zone_index = tree.query(points, predicate="intersects")
        # Trees index zones in code order: the smallest index is the lowest code.
        np.minimum.at(first_zone, point_index, zone_index)
    placed = first_zone < nowhere
    result.placed = int(placed.sum())
    result.outside = len(uprns) - result.placed

    zone_ids = np.array([zone.pk for zone in zones], dtype=np.int64)
    wanted = dict(zip(uprns[placed].tolist(), zone_ids[first_zone[placed]].tolist(), strict=True))
    with transaction.atomic():
        current = dict(PropertyZone.objects.values_list("property_id", "zone_id").iterator())
        new = [uprn for uprn in wanted if uprn not in current]
        gone = [uprn for uprn in current if uprn not in wanted]
        moved: dict[int, list[int]] = {}
        for uprn, zone_id in wanted.items():
            if uprn in current and current[uprn] != zone_id:
                moved.setdefault(zone_id, []).append(uprn)
        for batch in _batches(gone):
            PropertyZone.objects.filter(property_id__in=batch).delete()
        for zone_id, uprns_moved in moved.items():
            for batch in _batches(uprns_moved):
                PropertyZone.objects.filter(property_id__in=batch).update(zone_id=zone_id)
        PropertyZone.objects.bulk_create(
            [PropertyZone(property_id=uprn, zone_id=wanted[uprn]) for uprn in new],
            batch_size=BATCH_SIZE,
        )
    result.created = len(new)
    result.moved = sum(len(batch) for batch in moved.values())
    result.removed = len(gone)
    return result


# --- Looking zones up ---------------------------------------------------------------------------


def zone_for_uprn(uprn: int) -> Zone | None:
    """The active controlled parking zone the property is in, or None."""
    placement = (
        PropertyZone.objects.select_related("zone")
        .filter(property_id=uprn, zone__active=True)
        .first()
    )
    return placement.zone if placement else None


class EligibilityReason(StrEnum):
    IN_ZONE = "in_zone"
    NOT_RESIDENTIAL = "not_residential"
    CAR_FREE = "car_free"
    NO_LOCATION = "no_location"
    OUTSIDE_ZONES = "outside_zones"


@dataclass(frozen=True)
class Eligibility:
    """Whether an address can have a resident permit, and why, in words for the resident."""

    eligible: bool
    zone: Zone | None
    reason_code: EligibilityReason
    reason: str  # for the resident, as a page shows it


def eligibility_for_resident_permit(property: Property) -> Eligibility:
    """Can a resident permit be issued for this address? It must be a home, not in a car-free
    development, and inside a controlled parking zone (in that order of checking)."""
    if not property.is_residential:
        return Eligibility(
            False,
            None,
            EligibilityReason.NOT_RESIDENTIAL,
            "You cannot get a resident permit for this address because it is not a home.",
        )
    if property.car_free:
        return Eligibility(
            False,
            None,
            EligibilityReason.CAR_FREE,
            "You cannot get a resident permit because this address is in a car-free development.",
        )
    zone = zone_for_uprn(property.uprn)
    if zone is not None:
        return Eligibility(
            True,
            zone,
            EligibilityReason.IN_ZONE,
            f"This address is in controlled parking zone {zone.code} ({zone.name}).",
        )
    if property.latitude is None or property.longitude is None:
        return Eligibility(
            False,
            None,
            EligibilityReason.NO_LOCATION,
            "We cannot tell which parking zone this address is in. Contact the parking team.",
        )
    return Eligibility(
        False,
        None,
        EligibilityReason.OUTSIDE_ZONES,
        "This address is not in a controlled parking zone, so you do not need a permit.",
    )


__all__ = [
    "Eligibility",
    "EligibilityReason",
    "PlacementResult",
    "ZoneFileError",
    "ZoneLoadResult",
    "ZoneProblem",
    "eligibility_for_resident_permit",
    "load_zones",
    "place_properties",
    "zone_for_uprn",
]
