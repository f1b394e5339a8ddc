import re
from collections import Counter

# UK postcode format; the inward code's letters are never C, I, K, M, O or V.
POSTCODE = re.compile(
    r"^([A-Z][0-9]{1,2}|[A-Z][A-HJ-Y][0-9]{1,2}|[A-Z][0-9][A-Z]|[A-Z][A-HJ-Y][0-9][A-Z]) "
    r"[0-9][ABD-HJLNP-UW-Z]{2}$"
)


def test_postcodes_are_valid_and_hold_about_twenty_addresses(borough):
    rows = borough.rows("gazetteer")
    postcodes = Counter(r["POSTCODE_LOCATOR"] for r in rows)
    bad = [p for p in postcodes if not POSTCODE.match(p)]
    assert bad == []
    assert 12 <= len(rows) / len(postcodes) <= 28


def test_uprns_are_unique_twelve_digit_numbers(borough):
    uprns = [r["UPRN"] for r in borough.rows("gazetteer")]
    assert len(uprns) == len(set(uprns))
    assert all(u.isdigit() and len(u) == 12 for u in uprns)


def test_flats_point_at_a_property_shell_parent(borough):
    rows = {r["UPRN"]: r for r in borough.rows("gazetteer")}
    flats = [r for r in rows.values() if r["CLASSIFICATION_CODE"] == "RD06"]
    assert flats
    for flat in flats:
        parent = rows[flat["PARENT_UPRN"]]
        assert parent["CLASSIFICATION_CODE"] == "PP"
        assert parent["PARENT_UPRN"] == ""
        assert flat["SAO_TEXT"] and flat["POSTCODE_LOCATOR"]
        assert flat["STREET_DESCRIPTION"] == parent["STREET_DESCRIPTION"]
    houses = [r for r in rows.values() if r["CLASSIFICATION_CODE"] in ("RD02", "RD03", "RD04")]
    assert houses and all(h["PARENT_UPRN"] == "" and h["SAO_TEXT"] == "" for h in houses)


def test_a_borough_has_wards_houses_blocks_shops_and_car_free_homes(borough):
    rows = borough.rows("gazetteer")
    classes = Counter(r["CLASSIFICATION_CODE"] for r in rows)
    assert {"RD02", "RD03", "RD04", "RD06", "PP", "CR08", "CO01"} <= set(classes)
    wards = {(r["WARD_CODE"], r["WARD_NAME"]) for r in rows}
    assert len(wards) == borough.manifest["wards"] >= 8
    assert all(re.fullmatch(r"E05\d{6}", code) for code, _ in wards)
    assert {r["CAR_FREE"] for r in rows} == {"Y", "N"}
    assert {r["LOGICAL_STATUS"] for r in rows} == {"1"}


def test_properties_lie_within_a_few_kilometres_clustered_by_street(borough):
    rows = borough.rows("gazetteer")
    lat = [float(r["LATITUDE"]) for r in rows]
    lon = [float(r["LONGITUDE"]) for r in rows]
    assert 51.50 < min(lat) < max(lat) < 51.60 and -0.13 < min(lon) < max(lon) < 0.03
    by_street: dict[str, list[float]] = {}
    for r in rows:
        by_street.setdefault(r["USRN"], []).append(float(r["LATITUDE"]))
    spread = max(max(v) - min(v) for v in by_street.values())
    assert spread < (max(lat) - min(lat)) / 2  # a street is far smaller than the borough


def test_residential_units_roughly_match_households(borough):
    rows = borough.rows("gazetteer")
    homes = sum(r["CLASSIFICATION_CODE"].startswith("RD") for r in rows)
    households = borough.manifest["households"]
    assert households < homes < households * 1.06  # a few per cent stand empty
