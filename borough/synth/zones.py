"""The borough's controlled parking zones, as GeoJSON: one zone a ward, lettered as its wards are.

A zone covers its ward's streets that the plan puts in a controlled parking zone (``in_cpz``:
most streets, and every high street), so it agrees with ``parking_permits_history.csv``, whose
``ZONE`` is the ward's letter and which has permits only on those streets. Each street is a
strip along its line of properties; a ward's strips are joined into one (Multi)Polygon. Where
strips of two wards cross, the crossing belongs to the ward with the lower letter, so zones never
overlap. Streets left out of the zones (about one in ten) are the addresses outside every zone.

Made from the plan alone, so the file depends only on the seed and the number of residents.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import mapping

from .plan import CENTRE_LAT, CENTRE_LON, ESTATE, HIGH_STREET, HOUSES, MIXED, Plan

#: The feature properties each zone has (the "columns" of ``zones.geojson``).
PROPERTIES = ["code", "name", "hours"]
HOURS = [
    "Mon-Fri 8.30am-6.30pm",
    "Mon-Sat 8.30am-6.30pm",
    "Mon-Fri 10am-12 noon",
    "Mon-Sun 8.30am-10pm",
]
HOURS_P = [0.55, 0.25, 0.10, 0.10]
# Properties stand 9 m either side of the street's line (``gazetteer.build``); the strip is
# wider than that, and runs on past the first and last property, so rounding never leaves one
# on the edge.
HALF_WIDTH_M = 15.0
END_MARGIN_M = 10.0
GRID_DEGREES = 1e-6  # coordinates are written to 6 decimal places (about 10 cm)


def _street_reach(kind: int, n_res: int, n_comm: int) -> float:
    """The furthest a property of the street can be from its start, in metres: half the largest
    position ``gazetteer.layout_street`` can give it (houses every 7 m, other buildings every
    8 m, estate blocks of at least 12 flats every 45 m)."""
    if kind == HOUSES:
        return n_res * 7.0 / 2
    if kind == MIXED:
        return n_res * 8.0 / 2
    if kind == ESTATE:
        return (n_res // 12 + 1) * 45.0 / 2
    if kind == HIGH_STREET:
        return n_comm * 8.0 / 2
    raise ValueError(f"unknown street kind {kind}")


def _strips(plan: Plan) -> dict[int, list[shapely.Polygon]]:
    """For each ward, a rectangle (in metres from the centre) round each of its CPZ streets."""
    st = plan.streets
    by_ward: dict[int, list[shapely.Polygon]] = {}
    for s in np.flatnonzero(st["in_cpz"]).tolist():
        reach = _street_reach(int(st["kind"][s]), int(st["n_res"][s]), int(st["n_comm"][s]))
        dx, dy = math.cos(st["angle"][s]), math.sin(st["angle"][s])
        x0, y0 = float(st["x0"][s]), float(st["y0"][s])
        corners = []
        for t, w in (
            (-END_MARGIN_M, -HALF_WIDTH_M),
            (reach + END_MARGIN_M, -HALF_WIDTH_M),
            (reach + END_MARGIN_M, HALF_WIDTH_M),
            (-END_MARGIN_M, HALF_WIDTH_M),
        ):
            corners.append((x0 + dx * t - dy * w, y0 + dy * t + dx * w))
        by_ward.setdefault(int(st["ward"][s]), []).append(shapely.Polygon(corners))
    return by_ward


def _to_lon_lat(geometry: shapely.Geometry) -> shapely.Geometry:
    cos_lat = math.cos(math.radians(CENTRE_LAT))
    scale = np.array([1 / (111_320 * cos_lat), 1 / 111_320])
    return shapely.transform(geometry, lambda xy: np.array([CENTRE_LON, CENTRE_LAT]) + xy * scale)


def _coordinates(value):
    if isinstance(value, tuple | list):
        if value and isinstance(value[0], float):
            return [round(v, 6) for v in value]
        return [_coordinates(v) for v in value]
    return value


def _areas(plan: Plan) -> dict[int, shapely.Geometry]:
    """Each ward's zone, in longitude and latitude on a 10 cm grid, none overlapping another.

    The wards' strips are cut along every edge of every ward's strips into faces; each face goes
    to the lowest ward covering it. Faces share their edges exactly, so the zones do too.
    """
    wanted = {
        ward: shapely.set_precision(_to_lon_lat(shapely.union_all(strips)), GRID_DEGREES)
        for ward, strips in sorted(_strips(plan).items())
    }
    edges = shapely.union_all([a.boundary for a in wanted.values()], grid_size=GRID_DEGREES)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    inside = shapely.point_on_surface(faces)
    owned: dict[int, list[shapely.Polygon]] = {}
    unowned = np.ones(len(faces), dtype=bool)
    for ward, area in wanted.items():
        mine = unowned & shapely.contains(area, inside)
        owned[ward] = faces[mine].tolist()
        unowned &= ~mine
    return {
        ward: shapely.union_all(parts, grid_size=GRID_DEGREES)
        for ward, parts in owned.items()
        if parts
    }


def build(plan: Plan) -> dict:
    """The zones as a GeoJSON FeatureCollection (WGS84 longitude and latitude)."""
    rng = np.random.default_rng(np.random.SeedSequence(plan.seed, spawn_key=(2,)))
    hours = rng.choice(len(HOURS), size=len(plan.wards), p=HOURS_P).tolist()
    features = []
    for ward, area in _areas(plan).items():
        shape = mapping(area)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": plan.wards[ward]["letter"],
                    "name": plan.wards[ward]["name"],
                    "hours": HOURS[hours[ward]],
                },
                "geometry": {
                    "type": shape["type"],
                    "coordinates": _coordinates(shape["coordinates"]),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def write(path: str | Path, plan: Plan) -> int:
    """Write ``zones.geojson`` for the plan; returns the number of zones."""
    collection = build(plan)
    Path(path).write_text(json.dumps(collection, separators=(",", ":")) + "\n", encoding="utf-8")
    return len(collection["features"])
