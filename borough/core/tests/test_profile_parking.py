"""The council profile's [parking] section: permit prices, refunds, verification, visitors."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from borough.core.profile import Parking, load_profile

DEMO = Path(settings.BASE_DIR) / "profiles" / "northmere.toml"


def _write(tmp_path, text):
    path = tmp_path / "profile.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _without_parking(text: str) -> str:
    return text[: text.index("\n# Parking permits")] + "\n"


def test_the_demo_borough_sets_its_permit_prices():
    parking = load_profile(DEMO).parking
    assert [t.code for t in parking.permit_types] == ["resident", "business", "carer"]
    assert [b.name for b in parking.bands] == list("ABCDEFGHIJKLM")
    assert parking.permit_type("resident").band_prices_pence["M"] == 35000
    assert parking.permit_type("carer").prices_pence == {3: 1000, 12: 3000}
    assert parking.reminder_days_before_expiry == [42, 14]


def test_a_profile_without_parking_still_loads_with_the_defaults(tmp_path):
    text = _without_parking(DEMO.read_text(encoding="utf-8"))
    parking = load_profile(_write(tmp_path, text)).parking
    assert parking == Parking()
    assert parking.permit_types == []
    assert [(b.name, b.max_co2) for b in parking.bands][:2] == [("A", 0), ("B", 50)]
    assert parking.worst_band == "M"
    assert parking.unverified_proof_days == 30
    assert parking.unverified_policy == "issue_then_proof"
    assert parking.renewal_window_days == 42
    assert parking.max_resident_permits_per_household == 2


def _problems(tmp_path, change: tuple[str, str]) -> str:
    text = DEMO.read_text(encoding="utf-8")
    assert change[0] in text
    path = _write(tmp_path, text.replace(*change, 1))
    with pytest.raises(ImproperlyConfigured) as error:
        load_profile(path)
    assert str(path) in str(error.value)
    return str(error.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('{ name = "D", max_co2 = 90 }', '{ name = "D", max_co2 = 70 }'),
            "parking.bands: Value error, max_co2 must increase from band to band, "
            "but band D (70) is not above band C (75)",
        ),
        (
            ('{ name = "M" }', '{ name = "M", max_co2 = 400 }'),
            "parking.bands: Value error, the last band (M) must have no max_co2",
        ),
        (
            ('{ name = "B", max_co2 = 50 }', '{ name = "A", max_co2 = 50 }'),
            "parking.bands: Value error, band A appears more than once",
        ),
        (("A = 2500", "A = -2500"), "parking.permit_types.0.band_prices_pence.A"),
        (("M = 35000\n", ""), "permit type resident: band_prices_pence has no price for band M"),
        (("3 = 1000", "3 = -1"), "parking.permit_types.2.prices_pence.3"),
        (
            ("12 = 3000", "6 = 3000"),
            "permit type carer: prices_pence has no price for 12 months",
        ),
        (
            ("durations_months = [3, 6, 12]", "durations_months = [3, 18]"),
            "parking.permit_types.0.durations_months.1",
        ),
        (
            ('code = "carer"', 'code = "resident"'),
            "permit_types: code resident is used more than once",
        ),
        (
            ('{ max_cc = 1100, band = "F" }', '{ max_cc = 1100, band = "Z" }'),
            "engine_size_bands: band Z is not one of the bands",
        ),
        (
            ('{ max_cc = 1600, band = "H" }', '{ max_cc = 900, band = "H" }'),
            "parking.engine_size_bands: Value error, max_cc must increase",
        ),
        (
            ("pre_2001_up_one_band = true", 'unknown_vehicle_band = "X"'),
            "unknown_vehicle_band X is not one of the bands",
        ),
        (
            ("diesel_surcharge_pence = 20000", "diesel_surcharge_pence = -5"),
            "parking.diesel_surcharge_pence",
        ),
        (
            ("refund_admin_fee_pence = 2000", "refund_admin_fee_pence = -1"),
            "parking.refund_admin_fee_pence",
        ),
        (
            ('unverified_policy = "issue_then_proof"', 'unverified_policy = "later"'),
            "parking.unverified_policy",
        ),
        (
            ("unverified_proof_days = 30", "unverified_proof_days = 0"),
            "parking.unverified_proof_days",
        ),
        (
            ("reminder_days_before_expiry = [42, 14]", "reminder_days_before_expiry = [60, 14]"),
            "reminder_days_before_expiry: 60 days is before renewal opens",
        ),
        (("rde2_exempt = true", "rde2_exemption = true"), "parking.rde2_exemption: Extra inputs"),
        (
            ("needs_vehicle = false\nmax", "needs_vehicle = false\ndiesel_surcharge = true\nmax"),
            "permit type carer: diesel_surcharge needs needs_vehicle = true",
        ),
        (
            ('code = "carer"', 'code = "Carer Permit"'),
            "parking.permit_types.2.code",
        ),
    ],
)
def test_a_bad_parking_setting_is_named(tmp_path, change, message):
    assert message in _problems(tmp_path, change)


def test_a_flat_price_table_on_an_emission_priced_permit_is_refused():
    with pytest.raises(ValueError, match=re.escape("give band_prices_pence, not prices_pence")):
        Parking.model_validate(
            {
                "permit_types": [
                    {
                        "code": "resident",
                        "name": "Resident permit",
                        "durations_months": [12],
                        "priced_by_emissions": True,
                        "prices_pence": {"12": 100},
                    }
                ]
            }
        )


def test_fuel_types_and_reminders_are_tidied():
    parking = Parking(diesel_fuel_types=[" diesel "], reminder_days_before_expiry=[7, 28])
    assert parking.diesel_fuel_types == ["DIESEL"]
    assert parking.reminder_days_before_expiry == [28, 7]
