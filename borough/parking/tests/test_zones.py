"""Controlled parking zones: loading GeoJSON, placing properties, and resident permit eligibility."""

import csv
import itertools
import json
from io import StringIO
from pathlib import Path

import pytest
import shapely
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from shapely.geometry import shape

from borough.parking.models import PropertyZone, Zone
from borough.parking.zones import (
    EligibilityReason,
    ZoneFileError,
    eligibility_for_resident_permit,
    load_zones,
    place_properties,
    zone_for_uprn,
)
from borough.places.models import Property
from borough.places.services import import_gazetteer
from borough.synth import generate

# Two zones side by side, sharing the edge at longitude -0.08.
WEST, MIDDLE, EAST = -0.10, -0.08, -0.06
SOUTH, NORTH = 51.50, 51.52


def square(west: float, east: float, south: float = SOUTH, north: float = NORTH) -> dict:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(code, name="Zone", geometry=None, hours="Mon-Fri 8.30am-6.30pm") -> dict:
    properties = {"code": code, "name": name}
    if hours is not None:
        properties["hours"] = hours
    return {"type": "Feature", "properties": properties, "geometry": geometry or square(-1, 0)}


ZONE_A = feature("A", "Albion", square(WEST, MIDDLE))
ZONE_B = feature("B", "Barnabas", square(MIDDLE, EAST), hours="Mon-Sat 8.30am-6.30pm")


def write_geojson(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


@pytest.fixture
def zones_file(tmp_path) -> Path:
    """B before A: the order in the file must not decide the shared boundary."""
    return write_geojson(tmp_path / "zones.geojson", [ZONE_B, ZONE_A])


def make_property(uprn, lon=None, lat=None, *, residential=True, car_free=False) -> Property:
    return Property.objects.create(
        uprn=uprn,
        longitude=lon,
        latitude=lat,
        is_residential=residential,
        car_free=car_free,
        classification="RD04" if residential else "CR08",
    )


@pytest.fixture
def properties(db) -> dict[str, Property]:
    return {
        "in_a": make_property(1001, -0.09, 51.51),
        "in_b": make_property(1002, -0.07, 51.51),
        "on_boundary": make_property(1003, MIDDLE, 51.51),
        "outside": make_property(1004, -0.20, 51.51),
        "no_coordinates": make_property(1005),
        "shop_in_a": make_property(1006, -0.095, 51.505, residential=False),
        "car_free_in_a": make_property(1007, -0.085, 51.515, car_free=True),
    }


def placements() -> dict[int, str]:
    return dict(PropertyZone.objects.values_list("property_id", "zone__code"))


def zone_state() -> list[tuple]:
    return list(
        Zone.objects.values_list("code", "name", "hours", "boundary", "active", "loaded_at")
    )


# --- Loading and placing ----------------------------------------------------------------------


@pytest.mark.django_db
def test_loading_zones_places_each_property_in_the_zone_that_contains_it(zones_file, properties):
    result = load_zones(zones_file)

    assert (result.zones, result.created, result.updated, result.retired) == (2, 2, 0, 0)
    assert placements() == {1001: "A", 1002: "B", 1003: "A", 1006: "A", 1007: "A"}
    placement = result.placement
    assert (placement.placed, placement.outside, placement.without_coordinates) == (5, 1, 1)
    a = Zone.objects.get(code="A")
    assert (a.name, a.hours, a.active) == ("Albion", "Mon-Fri 8.30am-6.30pm", True)
    assert a.boundary == square(WEST, MIDDLE)
    assert (a.min_lon, a.min_lat, a.max_lon, a.max_lat) == (WEST, SOUTH, MIDDLE, NORTH)


@pytest.mark.django_db
def test_a_property_on_a_shared_boundary_goes_to_the_zone_whose_code_sorts_first(
    tmp_path, properties
):
    for order in ([ZONE_A, ZONE_B], [ZONE_B, ZONE_A]):
        load_zones(write_geojson(tmp_path / "zones.geojson", order))
        assert zone_for_uprn(1003).code == "A"


@pytest.mark.django_db
def test_hours_are_optional(tmp_path, db):
    load_zones(write_geojson(tmp_path / "zones.geojson", [feature("N1", "North", hours=None)]))
    assert Zone.objects.get().hours == ""


@pytest.mark.django_db
def test_a_multipolygon_zone_places_properties_in_either_part(tmp_path, properties):
    both = {
        "type": "MultiPolygon",
        "coordinates": [square(WEST, -0.092)["coordinates"], square(-0.075, EAST)["coordinates"]],
    }
    load_zones(write_geojson(tmp_path / "zones.geojson", [feature("M", "Split", both)]))
    assert placements() == {1002: "M", 1006: "M"}


@pytest.mark.django_db
def test_loading_the_same_file_again_changes_nothing(zones_file, properties):
    load_zones(zones_file)
    before, placed = zone_state(), placements()

    again = load_zones(zones_file)

    assert not again.changed
    assert (again.created, again.updated, again.unchanged, again.retired) == (0, 0, 2, 0)
    assert again.placement.changed == 0
    assert "nothing changed" in again.summary()
    assert zone_state() == before and placements() == placed


@pytest.mark.django_db
def test_a_zone_left_out_of_a_new_file_becomes_inactive_and_its_properties_are_unplaced(
    tmp_path, zones_file, properties
):
    load_zones(zones_file)

    result = load_zones(write_geojson(tmp_path / "only-a.geojson", [ZONE_A]))

    assert result.retired == 1 and result.unchanged == 1
    assert Zone.objects.get(code="B").active is False  # kept: permits refer to it
    assert placements() == {1001: "A", 1003: "A", 1006: "A", 1007: "A"}
    assert zone_for_uprn(1002) is None
    assert result.placement.removed == 1
    assert "1 no longer in the file (kept, marked inactive)" in result.summary()

    back = load_zones(zones_file)
    assert back.updated == 1 and Zone.objects.get(code="B").active is True
    assert zone_for_uprn(1002).code == "B"


@pytest.mark.django_db
def test_a_changed_boundary_moves_the_properties_it_now_covers(tmp_path, zones_file, properties):
    load_zones(zones_file)
    wider_b = feature("B", "Barnabas", square(-0.092, EAST), hours="Mon-Sat 8.30am-6.30pm")
    narrower_a = feature("A", "Albion", square(WEST, -0.092))

    result = load_zones(write_geojson(tmp_path / "moved.geojson", [narrower_a, wider_b]))

    assert result.updated == 2
    assert placements() == {1001: "B", 1002: "B", 1003: "B", 1006: "A", 1007: "B"}
    assert result.placement.moved == 3
    assert Zone.objects.get(code="B").min_lon == -0.092


@pytest.mark.django_db
def test_placing_again_after_properties_change_updates_only_those(zones_file, properties):
    load_zones(zones_file)
    Property.objects.filter(uprn=1004).update(longitude=-0.065)  # moved into B
    Property.objects.filter(uprn=1001).update(longitude=None, latitude=None)
    make_property(1008, -0.07, 51.519)

    result = place_properties()

    assert (result.created, result.moved, result.removed) == (2, 0, 1)
    assert placements() == {1002: "B", 1003: "A", 1004: "B", 1006: "A", 1007: "A", 1008: "B"}
    assert (result.placed, result.outside, result.without_coordinates) == (6, 0, 2)


@pytest.mark.django_db
def test_placing_properties_takes_the_same_number_of_queries_for_many_properties(zones_file):
    load_zones(zones_file)

    def queries_to_place(count: int, start: int) -> int:
        for i in range(count):
            make_property(start + i, -0.099 + 0.038 * i / count, 51.51)
        with CaptureQueriesContext(connection) as captured:
            result = place_properties()
        assert result.created == count
        return len(captured)

    assert queries_to_place(5, 2000) == queries_to_place(300, 3000)  # writes in batches


@pytest.mark.django_db
def test_an_open_file_can_be_loaded(zones_file, properties):
    with zones_file.open("rb") as handle:
        result = load_zones(handle)
    assert result.file_name == "zones.geojson" and result.created == 2


# --- Files with problems ----------------------------------------------------------------------

BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[-0.1, 51.5], [-0.08, 51.52], [-0.08, 51.5], [-0.1, 51.52], [-0.1, 51.5]]],
}
EASTINGS = {
    "type": "Polygon",
    "coordinates": [
        [[530000, 180000], [531000, 180000], [531000, 181000], [530000, 181000], [530000, 180000]]
    ],
}
SWAPPED = {
    "type": "Polygon",
    "coordinates": [[[51.5, -0.1], [51.5, -0.08], [51.52, -0.08], [51.52, -0.1], [51.5, -0.1]]],
}
UNCLOSED = {
    "type": "Polygon",
    "coordinates": [[[-0.1, 51.5], [-0.08, 51.5], [-0.08, 51.52], [-0.1, 51.52]]],
}
POINT = {"type": "Point", "coordinates": [-0.09, 51.51]}


def collection(*features) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


BAD_FILES = {
    "not json": ("{not json", "The file is not JSON: Expecting property name"),
    "empty": ("", "The file is empty."),
    "not a feature collection": (
        json.dumps(ZONE_A),
        "The file is not a GeoJSON FeatureCollection",
    ),
    "no features": (collection(), "The file has no zones."),
    "a feature without a code": (
        collection(ZONE_A, feature(None, "Nameless")),
        'feature 2 (no code): it has no "code"',
    ),
    "a feature without a name": (
        collection(feature("C", ""), ZONE_B),
        'feature 1 (code "C"): it has no "name"',
    ),
    "a code twice": (
        collection(ZONE_A, ZONE_B, feature("a", "Again", square(-0.2, -0.15))),
        'feature 3 (code "a"): the code "A" is also used by feature 1',
    ),
    "a point": (
        collection(ZONE_A, feature("P", "Point", POINT)),
        'feature 2 (code "P"): its geometry is a Point; a zone must be a Polygon or MultiPolygon',
    ),
    "no geometry": (
        collection({"type": "Feature", "properties": {"code": "G", "name": "G"}}),
        'feature 1 (code "G"): it has no geometry',
    ),
    "a self-intersecting polygon": (
        collection(feature("X", "Bowtie", BOWTIE)),
        'feature 1 (code "X"): its Polygon is not valid: Self-intersection[-0.09 51.51]',
    ),
    "eastings and northings": (
        collection(feature("E", "Grid", EASTINGS)),
        "These look like eastings and northings (British National Grid)",
    ),
    "latitude first": (
        collection(feature("S", "Swapped", SWAPPED)),
        "5 of its positions are outside the UK, the first [51.5, -0.1]",
    ),
    "an unclosed ring": (
        collection(feature("U", "Open", UNCLOSED)),
        'feature 1 (code "U"): ring 1 is not closed',
    ),
    "a code that is not text": (
        collection(feature(["A"], "List")),
        'feature 1 (no code): its "code" must be text',
    ),
    "a name too long": (
        collection(feature("L", "x" * 121)),
        'its "name" is longer than 120 characters',
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("text, message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_file_with_a_problem_is_refused_and_changes_nothing(
    tmp_path, zones_file, properties, text, message
):
    load_zones(zones_file)
    before, placed = zone_state(), placements()
    bad = tmp_path / "bad.geojson"
    bad.write_text(text, "utf-8")

    with pytest.raises(ZoneFileError) as refused:
        load_zones(bad)

    assert message in str(refused.value)
    assert str(refused.value).startswith("Nothing was loaded from bad.geojson")
    assert zone_state() == before and placements() == placed


@pytest.mark.django_db
def test_every_problem_in_a_file_is_listed_with_its_feature(tmp_path, db):
    bad = write_geojson(
        tmp_path / "bad.geojson",
        [ZONE_A, feature("", "No code"), feature("A", "Again"), feature("X", "Bowtie", BOWTIE)],
    )
    with pytest.raises(ZoneFileError) as refused:
        load_zones(bad)
    assert [str(p) for p in refused.value.problems] == [
        'feature 2 (no code): it has no "code"',
        'feature 3 (code "A"): the code "A" is also used by feature 1; each zone needs its own '
        "code",
        'feature 4 (code "X"): its Polygon is not valid: Self-intersection[-0.09 51.51]',
    ]
    assert refused.value.summary() == "Nothing was loaded from bad.geojson: it has 3 problems."
    assert not Zone.objects.exists()


# --- Looking up and eligibility ---------------------------------------------------------------


@pytest.mark.django_db
def test_zone_for_uprn(zones_file, properties):
    load_zones(zones_file)
    assert zone_for_uprn(1002).code == "B"
    assert zone_for_uprn(1004) is None
    assert zone_for_uprn(999_999) is None


@pytest.mark.django_db
def test_resident_permit_eligibility_gives_the_reason_in_plain_english(zones_file, properties):
    load_zones(zones_file)

    def check(name):
        return eligibility_for_resident_permit(properties[name])

    home = check("in_b")
    assert home.eligible and home.zone.code == "B" and home.reason_code == EligibilityReason.IN_ZONE
    assert home.reason == "This address is in controlled parking zone B (Barnabas)."

    shop = check("shop_in_a")
    assert (shop.eligible, shop.zone, shop.reason_code) == (False, None, "not_residential")
    assert shop.reason == (
        "You cannot get a resident permit for this address because it is not a home."
    )
    car_free = check("car_free_in_a")
    assert (car_free.eligible, car_free.reason_code) == (False, EligibilityReason.CAR_FREE)
    assert "this address is in a car-free development" in car_free.reason
    outside = check("outside")
    assert (outside.eligible, outside.reason_code) == (False, EligibilityReason.OUTSIDE_ZONES)
    assert outside.reason == (
        "This address is not in a controlled parking zone, so you do not need a permit."
    )
    unknown = check("no_coordinates")
    assert (unknown.eligible, unknown.reason_code) == (False, EligibilityReason.NO_LOCATION)


# --- The command ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_load_zones_command_prints_what_it_did(zones_file, properties):
    out = StringIO()
    call_command("parking", "load-zones", str(zones_file), stdout=out)
    assert (
        "Loaded zones.geojson: 2 zones; 2 new, 0 changed, 0 unchanged. 5 properties are in a "
        "zone, 1 outside every zone, 1 without coordinates; 5 newly in a zone, 0 moved to another "
        "zone, 0 no longer in a zone."
    ) in out.getvalue()

    again = StringIO()
    call_command("parking", "load-zones", str(zones_file), stdout=again)
    assert "zones.geojson: nothing changed (2 zones)." in again.getvalue()
    assert "no property changed zone." in again.getvalue()


@pytest.mark.django_db
def test_the_load_zones_command_lists_the_problems(tmp_path, db):
    bad = write_geojson(tmp_path / "bad.geojson", [ZONE_A, feature("B", "Point", POINT)])
    with pytest.raises(CommandError) as refused:
        call_command("parking", "load-zones", str(bad))
    assert str(refused.value) == (
        "Nothing was loaded from bad.geojson: it has 1 problem.\n"
        '  bad.geojson, feature 2 (code "B"): its geometry is a Point; a zone must be a '
        "Polygon or MultiPolygon"
    )
    with pytest.raises(CommandError, match="There is no file"):
        call_command("parking", "load-zones", str(tmp_path / "missing.geojson"))
    assert not Zone.objects.exists()


@pytest.mark.django_db
def test_the_place_properties_command_prints_the_counts(zones_file, properties):
    load_zones(zones_file)
    make_property(1010, -0.07, 51.505)
    out = StringIO()
    call_command("parking", "place-properties", stdout=out)
    assert (
        "6 properties are in a zone, 1 outside every zone, 1 without coordinates; "
        "1 newly in a zone, 0 moved to another zone, 0 no longer in a zone."
    ) in out.getvalue()


# --- The synthetic borough's zones ------------------------------------------------------------


@pytest.mark.django_db
def test_the_synthetic_boroughs_zones_load_and_place_most_homes(tmp_path):
    generate(tmp_path, residents=300, seed=3, workers=1)
    assert import_gazetteer(tmp_path / "gazetteer.csv").ok

    result = load_zones(tmp_path / "zones.geojson")

    assert result.created == result.zones >= 8  # one zone a ward
    homes = Property.objects.filter(is_residential=True)
    placed = homes.filter(parking_zone__isnull=False).count()
    assert placed >= 0.8 * homes.count()
    assert Zone.objects.filter(hours="").count() == 0
    # The permits history names the zone each permit was for: the zone the address is in.
    with open(tmp_path / "parking_permits_history.csv", encoding="utf-8", newline="") as f:
        permits = [(int(r["UPRN"]), r["ZONE"]) for r in csv.DictReader(f) if r["UPRN"]]
    zones = placements()
    known = [(uprn, zone) for uprn, zone in permits if uprn in zones]
    assert known and sum(zones[uprn] == zone for uprn, zone in known) >= 0.95 * len(known)


def test_the_synthetic_boroughs_zones_do_not_overlap_and_leave_some_homes_outside(tmp_path):
    generate(tmp_path, residents=200, seed=5, workers=1)
    collection = json.loads((tmp_path / "zones.geojson").read_text("utf-8"))
    areas = [shape(f["geometry"]) for f in collection["features"]]
    assert all(area.is_valid for area in areas)
    assert all(a.intersection(b).area == 0 for a, b in itertools.combinations(areas, 2))
    with open(tmp_path / "gazetteer.csv", encoding="utf-8", newline="") as f:
        homes = [r for r in csv.DictReader(f) if r["CLASSIFICATION_CODE"].startswith("RD")]
    points = shapely.points(
        [float(r["LONGITUDE"]) for r in homes], [float(r["LATITUDE"]) for r in homes]
    )
    inside = shapely.STRtree(areas).query(points, predicate="intersects")[0]
    assert 0.8 * len(homes) <= len(set(inside.tolist())) < len(homes)
