import re

import pytest

from borough.synth.vehicles import age_identifier, registration

MARK = re.compile(r"^[A-HJ-PR-Y][A-HJ-PR-Y](\d{2})[A-HJ-PR-Z]{3}$")


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2001, 9, 51),
        (2002, 2, 51),
        (2002, 3, 2),
        (2010, 8, 10),
        (2010, 9, 60),
        (2024, 3, 24),
        (2024, 9, 74),
        (2025, 1, 74),
        (2025, 3, 25),
    ],
)
def test_age_identifier_follows_the_march_and_september_scheme(year, month, expected):
    assert age_identifier(year, month) == expected


def test_marks_before_september_2001_are_refused():
    with pytest.raises(ValueError):
        age_identifier(2001, 8)


def test_serials_map_to_distinct_marks():
    marks = {registration(24, serial) for serial in range(20_000)}
    assert len(marks) == 20_000
    assert all(MARK.match(m) for m in marks)


def test_registrations_are_valid_unique_and_match_first_registration(borough):
    vehicles = borough.rows("vehicles")
    assert vehicles
    marks = [v["registration"] for v in vehicles]
    assert len(marks) == len(set(marks))
    for v in vehicles:
        match = MARK.match(v["registration"])
        assert match, v["registration"]
        year, month = map(int, v["month_of_first_registration"].split("-"))
        assert int(match.group(1)) == age_identifier(year, month)
        assert int(v["year_of_manufacture"]) in (year, year - 1)


def test_vehicle_details_are_consistent(borough):
    people = {r["person_id"]: r for r in borough.rows("people")}
    for v in borough.rows("vehicles"):
        if v["fuel_type"] == "ELECTRICITY":
            assert v["co2_emissions"] == "0" and v["engine_capacity"] == ""
        else:
            assert v["engine_capacity"].isdigit()
        keeper = people[v["keeper_person_id"]]
        assert v["keeper_uprn"] == keeper["current_uprn"]


def test_about_a_third_of_households_keep_a_vehicle(borough):
    households = {r["household_id"] for r in borough.rows("people") if r["current_uprn"]}
    keepers = {r["keeper_person_id"] for r in borough.rows("vehicles") if r["keeper_uprn"]}
    share = len(keepers) / len(households)
    assert 0.2 < share < 0.45


def test_permits_name_known_vehicles_and_never_car_free_homes(borough):
    marks = {v["registration"] for v in borough.rows("vehicles")}
    car_free = {r["UPRN"] for r in borough.rows("gazetteer") if r["CAR_FREE"] == "Y"}
    permits = borough.rows("parking_permits_history")
    known = sum(p["VRM"].replace(" ", "").upper() in marks for p in permits)
    assert known > 0.97 * len(permits)  # the rest are mistyped
    assert not any(p["UPRN"] in car_free for p in permits)
