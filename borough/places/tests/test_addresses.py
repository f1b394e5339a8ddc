"""Looking addresses up: the query, the formatting, the JSON API."""

import pytest

from borough.places.formatting import address_case
from borough.places.models import Property
from borough.places.postcodes import InvalidPostcode
from borough.places.queries import addresses_at, gazetteer_counts
from borough.places.services import import_gazetteer

from .conftest import write_rows


@pytest.fixture
def loaded(db, gazetteer_csv):
    result = import_gazetteer(gazetteer_csv)
    assert result.ok, result.problem_lines()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FLAT 3", "Flat 3"),
        ("12A ALBION ROAD", "12A Albion Road"),
        ("12a albion road", "12A Albion Road"),
        ("STOKE-ON-TRENT", "Stoke-on-Trent"),
        ("NEWCASTLE UPON TYNE", "Newcastle upon Tyne"),
        ("ST. JOHN'S ROAD", "St. John's Road"),
        ("O'NEILL COURT", "O'Neill Court"),
        ("MCDONALD HOUSE", "McDonald House"),
        ("1ST FLOOR FLAT", "1st Floor Flat"),
        ("THE MALL", "The Mall"),
        ("De Beauvoir Road", "De Beauvoir Road"),  # mixed case is kept as the council wrote it
    ],
)
def test_address_text_is_cased_as_an_address_is_written(text, expected):
    assert address_case(text) == expected


def test_single_line_without_optional_parts():
    prop = Property(
        uprn=1, building_number="12", street="ALBION ROAD", town="LONDON", postcode="E21 3AB"
    )
    assert prop.single_line() == "12 Albion Road, London E21 3AB"
    assert prop.single_line(include_postcode=False) == "12 Albion Road, London"
    assert prop.lines() == ["12 Albion Road", "London", "E21 3AB"]


def test_a_locality_that_repeats_the_town_is_left_out():
    prop = Property(
        uprn=1,
        sub_building="FLAT 3",
        building_name="KESTREL HOUSE",
        building_number="12",
        street="ALBION ROAD",
        locality="LONDON",
        town="LONDON",
        postcode="E21 3AB",
    )
    assert prop.single_line() == "Flat 3, Kestrel House, 12 Albion Road, London E21 3AB"


def test_addresses_are_in_natural_order(loaded):
    lines = [p.single_line(include_postcode=False) for p in addresses_at("E21 3AB")]
    assert lines == [
        "2 Albion Road, Northmere, London",
        "10 Albion Road, Northmere, London",
        "10A Albion Road, Northmere, London",
        "Flat 1, Kestrel House, 12 Albion Road, Northmere, London",
        "Flat 2, Kestrel House, 12 Albion Road, Northmere, London",
        "Flat 3, Kestrel House, 12 Albion Road, Northmere, London",
        "Flat 10, Kestrel House, 12 Albion Road, Northmere, London",
        "14 Albion Road, Northmere, London",
    ]


def test_the_building_shell_historical_and_departed_addresses_are_not_offered(
    loaded, tmp_path, rows
):
    offered = {p.uprn for p in addresses_at("e213ad")}
    assert 100021000032 not in offered  # logical status 8: historical
    assert offered == {100021000030, 100021000031, 100021000033}
    assert 100021000001 not in {p.uprn for p in addresses_at("E21 3AB")}  # PP shell
    import_gazetteer(
        write_rows(tmp_path / "newer.csv", [r for r in rows if r["UPRN"] != "100021000031"])
    )
    assert 100021000031 not in {p.uprn for p in addresses_at("E21 3AD")}


def test_a_postcode_lookup_takes_any_case_and_refuses_non_postcodes(loaded):
    assert len(addresses_at(" e21 3ab ")) == 8
    assert addresses_at("E8 1DY") == []
    with pytest.raises(InvalidPostcode):
        addresses_at("E21")


def test_counts_by_ward(loaded):
    counts = gazetteer_counts()
    assert (counts.properties, counts.residential, counts.car_free) == (13, 10, 5)
    assert [(w.ward_name, w.properties, w.residential, w.car_free) for w in counts.wards] == [
        ("Albion", 9, 7, 5),
        ("Canalside", 4, 3, 0),
    ]


# --- The JSON API ----------------------------------------------------------------------------


def test_the_api_lists_the_addresses_at_a_postcode(client, loaded):
    response = client.get("/api/v1/addresses", {"postcode": "e21 3ab"})
    assert response.status_code == 200
    body = response.json()
    assert body["postcode"] == "E21 3AB"
    assert len(body["addresses"]) == 8
    flat = next(a for a in body["addresses"] if a["uprn"] == 100021000004)
    assert flat == {
        "uprn": 100021000004,
        "single_line": "Flat 3, Kestrel House, 12 Albion Road, Northmere, London E21 3AB",
        "lines": ["Flat 3", "Kestrel House", "12 Albion Road", "Northmere", "London", "E21 3AB"],
        "postcode": "E21 3AB",
        "ward_code": "E05099001",
        "ward_name": "Albion",
        "latitude": 51.54012,
        "longitude": -0.05521,
        "residential": True,
        "car_free": True,
        "parent_uprn": 100021000001,
    }
    garage = next(a for a in body["addresses"] if a["uprn"] == 100021000023)
    assert (garage["residential"], garage["car_free"], garage["parent_uprn"]) == (
        False,
        False,
        None,
    )


def test_the_api_normalises_a_postcode_with_no_space(client, loaded):
    response = client.get("/api/v1/addresses?postcode=e213ad")
    assert response.status_code == 200
    assert response.json()["postcode"] == "E21 3AD"
    assert [a["uprn"] for a in response.json()["addresses"]] == [
        100021000030,
        100021000031,
        100021000033,
    ]


def test_the_api_answers_an_unknown_postcode_with_an_empty_list(client, loaded):
    response = client.get("/api/v1/addresses", {"postcode": "E8 1DY"})
    assert response.status_code == 200
    assert response.json() == {"postcode": "E8 1DY", "addresses": []}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"postcode": "E8 1D"}, "Enter a real postcode, like E8 1DY"),
        ({"postcode": "not a postcode"}, "Enter a real postcode, like E8 1DY"),
        ({"postcode": ""}, "Enter a postcode"),
        ({}, "Enter a postcode"),
    ],
)
def test_the_api_refuses_a_bad_or_missing_postcode_with_400(client, db, query, message):
    response = client.get("/api/v1/addresses", query)
    assert response.status_code == 400
    assert response.json() == {"detail": message}


def test_the_openapi_document_describes_the_addresses_endpoint(client, db):
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/addresses"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AddressListOut"
    }
    assert operation["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
    address = document["components"]["schemas"]["AddressOut"]
    assert set(address["properties"]) == {
        "uprn",
        "single_line",
        "lines",
        "postcode",
        "ward_code",
        "ward_name",
        "latitude",
        "longitude",
        "residential",
        "car_free",
        "parent_uprn",
    }
    assert address["properties"]["residential"]["type"] == "boolean"
