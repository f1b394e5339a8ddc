import datetime as dt
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from borough.core.profile import VED_BANDS, Parking
from borough.parking import pricing
from borough.parking.pricing import (
    PricingError,
    add_months,
    emission_band,
    pounds,
    pro_rata,
    quote,
    quote_visitor_session,
    refund,
)

BANDS = [name for name, _ in VED_BANDS]
# A 12-month resident price of £12 per band step: A £12, B £24 ... M £156.
RESIDENT_12_MONTHS = {name: 1200 * (i + 1) for i, name in enumerate(BANDS)}


def _parking(**changes) -> Parking:
    settings = {
        "permit_types": [
            {
                "code": "resident",
                "name": "Resident permit",
                "durations_months": [3, 6, 12],
                "priced_by_emissions": True,
                "band_prices_pence": RESIDENT_12_MONTHS,
                "counts_as_resident_permit": True,
                "diesel_surcharge": True,
            },
            {
                "code": "carer",
                "name": "Carer permit",
                "durations_months": [3, 12],
                "prices_pence": {"3": 1000, "12": 3000},
                "needs_vehicle": False,
                "max_per_household": 1,
            },
        ],
        "engine_size_bands": [
            {"max_cc": 1100, "band": "F"},
            {"max_cc": 1600, "band": "H"},
            {"max_cc": 1849, "band": "J"},
            {"band": "L"},
        ],
        "diesel_surcharge_pence": 12000,
        "additional_vehicle_surcharge_pence": 2400,
        "max_resident_permits_per_household": 2,
        "refund_admin_fee_pence": 2000,
        "minimum_refund_pence": 500,
        "visitor_session_max_hours": 10,
        "visitor_price_per_hour_pence": 120,
    }
    settings.update(changes)
    return Parking.model_validate(settings)


CFG = _parking()


@dataclass
class VehicleDetails:
    co2_emissions: int | str | None = 112
    fuel_type: str | None = "PETROL"
    engine_capacity: int | str | None = 1598
    month_of_first_registration: str | None = "2019-05"
    real_driving_emissions: str | None = None


# Band edges


@pytest.mark.parametrize(
    ("co2", "band"),
    [
        (0, "A"),
        (1, "B"),
        (50, "B"),
        (51, "C"),
        (75, "C"),
        (76, "D"),
        (90, "D"),
        (91, "E"),
        (100, "E"),
        (101, "F"),
        (110, "F"),
        (111, "G"),
        (130, "G"),
        (131, "H"),
        (150, "H"),
        (151, "I"),
        (170, "I"),
        (171, "J"),
        (190, "J"),
        (191, "K"),
        (225, "K"),
        (226, "L"),
        (255, "L"),
        (256, "M"),
        (1200, "M"),
    ],
)
def test_each_co2_figure_falls_in_its_dvla_band(co2, band):
    choice = emission_band(co2, "PETROL", 1598, dt.date(2019, 5, 1), CFG)
    assert choice.band == band
    assert choice.reason == f"CO2 {co2:,} g/km: band {band}"
    assert choice.source == "co2"


def test_an_electric_car_is_always_the_lowest_band():
    cfg = CFG.model_copy(update={"pre_2001_up_one_band": True})
    choice = emission_band(120, "electricity", None, dt.date(1999, 1, 1), cfg)
    assert (choice.band, choice.reason) == ("A", "Electric: band A")


def test_a_hybrid_is_priced_by_its_co2():
    assert emission_band(95, "HYBRID ELECTRIC", 1798, None, CFG).band == "E"


def test_a_negative_co2_figure_is_refused():
    with pytest.raises(PricingError, match="negative"):
        emission_band(-1, "PETROL", None, None, CFG)


@pytest.mark.parametrize(
    ("cc", "band"), [(998, "F"), (1100, "F"), (1101, "H"), (1598, "H"), (1849, "J"), (1850, "L")]
)
def test_with_no_co2_figure_the_engine_size_decides(cc, band):
    choice = emission_band(None, "PETROL", cc, None, CFG)
    assert choice.band == band
    assert choice.reason == f"No CO2 figure: engine {cc:,} cc: band {band}"
    assert choice.source == "engine"


@pytest.mark.parametrize("cc", [None, 0])
def test_with_no_co2_or_engine_figure_the_highest_band(cc):
    choice = emission_band(None, "PETROL", cc, None, CFG)
    assert choice.band == "M"
    assert choice.reason == "No CO2 or engine figure: band M (the highest)"
    assert choice.source == "unknown"


def test_the_council_can_choose_the_band_for_unknown_vehicles():
    cfg = _parking(unknown_vehicle_band="K")
    assert emission_band(None, None, None, None, cfg).reason == "No CO2 or engine figure: band K"


def test_an_engine_bigger_than_the_table_gets_the_unknown_vehicle_band():
    cfg = _parking(engine_size_bands=[{"max_cc": 1600, "band": "F"}])
    choice = emission_band(None, "PETROL", 2400, None, cfg)
    assert choice.band == "M"
    assert "2,400 cc is not in the engine size table" in choice.reason


def test_without_engine_size_bands_an_unknown_co2_is_the_highest_band():
    assert emission_band(None, "PETROL", 1598, None, _parking(engine_size_bands=[])).band == "M"


PRE_2001 = CFG.model_copy(update={"pre_2001_up_one_band": True})


@pytest.mark.parametrize(
    ("co2", "cc", "registered", "band"),
    [
        (112, None, dt.date(2000, 12, 1), "H"),  # G, one up
        (112, None, dt.date(2001, 1, 1), "G"),  # 2001 itself is not before 2001
        (112, None, None, "G"),  # no date, no move
        (None, 1598, dt.date(1998, 3, 1), "I"),  # engine-size band H, one up
        (300, None, dt.date(1995, 1, 1), "M"),  # already the highest
        (None, None, dt.date(1995, 1, 1), "M"),  # unknown vehicle: the unknown band
    ],
)
def test_a_car_from_before_2001_moves_up_one_band_when_the_council_says_so(
    co2, cc, registered, band
):
    assert emission_band(co2, "PETROL", cc, registered, PRE_2001).band == band


def test_the_reason_says_a_pre_2001_car_moved_up():
    reason = emission_band(112, "PETROL", None, dt.date(2000, 6, 1), PRE_2001).reason
    assert reason == "CO2 112 g/km: band G; first registered before 2001, so one band up: band H"


def test_pre_2001_cars_keep_their_band_when_the_rule_is_off():
    assert emission_band(112, "PETROL", None, dt.date(2000, 6, 1), CFG).band == "G"


# Quotes


@pytest.mark.parametrize(("months", "pence"), [(3, 2100), (6, 4200), (12, 8400)])
def test_a_shorter_permit_costs_its_share_of_the_12_month_price(months, pence):
    result = quote("resident", months, VehicleDetails(co2_emissions=112), 0, CFG)  # band G
    assert result.total_pence == pence
    assert result.lines == ((f"Resident permit, {months} months, band G", pence),)
    assert result.band.band == "G"


@pytest.mark.parametrize(
    ("pence_12", "months", "expected"),
    [(1001, 3, 250), (1002, 3, 251), (1003, 3, 251), (999, 1, 83), (6, 1, 1), (0, 6, 0)],
)
def test_pro_rata_rounds_to_the_penny_half_up(pence_12, months, expected):
    assert pro_rata(pence_12, months) == expected


def test_a_duration_the_permit_is_not_sold_for_is_refused():
    with pytest.raises(PricingError, match=r"not sold for 1 month \(choose 3, 6, 12 months\)"):
        quote("resident", 1, VehicleDetails(), 0, CFG)


def test_an_unknown_permit_type_is_refused():
    with pytest.raises(PricingError, match=r"no permit type 'yacht' \(offered: resident, carer\)"):
        quote("yacht", 12, VehicleDetails(), 0, CFG)


def test_a_permit_for_a_vehicle_needs_the_vehicle():
    with pytest.raises(PricingError, match="give the vehicle"):
        quote("resident", 12, None, 0, CFG)


def test_a_flat_priced_permit_without_a_vehicle():
    result = quote("carer", 3, None, 0, CFG)
    assert result.lines == (("Carer permit, 3 months", 1000),)
    assert result.band is None


def test_a_diesel_pays_the_surcharge_pro_rata():
    vehicle = VehicleDetails(fuel_type="DIESEL", real_driving_emissions="1")
    result = quote("resident", 6, vehicle, 0, CFG)
    assert result.lines[1] == ("Diesel surcharge, 6 months", 6000)
    assert result.total_pence == 4200 + 6000


@pytest.mark.parametrize("rde", ["2", 2])
def test_a_diesel_meeting_rde2_is_exempt(rde):
    vehicle = VehicleDetails(fuel_type="DIESEL", real_driving_emissions=rde)
    result = quote("resident", 12, vehicle, 0, CFG)
    assert result.lines[1] == ("Diesel surcharge: not charged, the vehicle meets RDE2", 0)
    assert result.total_pence == 8400


def test_rde2_diesels_pay_when_the_council_gives_no_exemption():
    vehicle = VehicleDetails(fuel_type="DIESEL", real_driving_emissions="2")
    result = quote("resident", 12, vehicle, 0, _parking(rde2_exempt=False))
    assert result.total_pence == 8400 + 12000


def test_a_petrol_car_pays_no_diesel_surcharge():
    assert len(quote("resident", 12, VehicleDetails(), 0, CFG).lines) == 1


def test_the_second_resident_permit_in_a_household_pays_the_additional_vehicle_surcharge():
    first = quote("resident", 12, VehicleDetails(), 0, CFG)
    second = quote("resident", 3, VehicleDetails(), 1, CFG)
    assert first.total_pence == 8400
    assert second.lines[-1] == (
        "Additional vehicle surcharge (2nd permit in the household), 3 months",
        600,
    )
    assert second.total_pence == 2100 + 600


def test_a_household_cannot_go_over_its_resident_permits():
    with pytest.raises(PricingError, match="already has 2 resident permits, and 2 is the most"):
        quote("resident", 12, VehicleDetails(), 2, CFG)


def test_a_household_cannot_go_over_a_permit_types_own_limit():
    with pytest.raises(PricingError, match="already has 1 of these permits"):
        quote("carer", 12, None, 1, CFG)


def test_a_diesel_second_car_has_every_line_and_they_add_up():
    vehicle = VehicleDetails(co2_emissions=None, engine_capacity=2400, fuel_type="DIESEL")
    result = quote("resident", 12, vehicle, 1, CFG)
    assert [pence for _, pence in result.lines] == [RESIDENT_12_MONTHS["L"], 12000, 2400]
    assert result.total_pence == sum(pence for _, pence in result.lines)
    assert result.band.reason == "No CO2 figure: engine 2,400 cc: band L"


def test_vehicle_figures_as_text_from_dvla_snapshots_are_read():
    vehicle = VehicleDetails(co2_emissions="", engine_capacity="", fuel_type="PETROL")
    assert quote("resident", 12, vehicle, 0, CFG).band.band == "M"
    vehicle = VehicleDetails(co2_emissions="0", engine_capacity="", fuel_type="ELECTRICITY")
    assert quote("resident", 12, vehicle, 0, CFG).total_pence == 1200


def test_a_pre_2001_month_of_first_registration_moves_the_quote_up():
    vehicle = VehicleDetails(co2_emissions=None, month_of_first_registration="1999-11")
    assert quote("resident", 12, vehicle, 0, PRE_2001).band.band == "I"


def test_the_running_councils_profile_is_used_by_default():
    result = quote("resident", 12, VehicleDetails(co2_emissions=0, fuel_type="ELECTRICITY"))
    assert result.total_pence > 0
    assert result.band.band == "A"


def test_a_visitor_session_costs_its_hours():
    assert quote_visitor_session(3, CFG).lines == (("Visitor session, 3 hours", 360),)
    assert quote_visitor_session(1, _parking(visitor_price_per_hour_pence=0)).total_pence == 0
    with pytest.raises(PricingError, match="1 to 10 hours"):
        quote_visitor_session(11, CFG)


def test_money_is_shown_in_pounds_and_never_held_as_a_float():
    result = quote("resident", 6, VehicleDetails(fuel_type="DIESEL"), 1, CFG)
    assert all(type(pence) is int for _, pence in result.lines)
    assert type(result.total_pence) is int
    assert pounds(result.total_pence) == "£114"
    assert pounds(12345) == "£123.45"
    assert pounds(123456789) == "£1,234,567.89"
    assert pounds(5) == "£0.05"


vehicles = st.builds(
    VehicleDetails,
    co2_emissions=st.one_of(st.none(), st.integers(0, 600), st.just("")),
    fuel_type=st.sampled_from(["PETROL", "DIESEL", "ELECTRICITY", "HYBRID ELECTRIC", None]),
    engine_capacity=st.one_of(st.none(), st.integers(0, 8000)),
    month_of_first_registration=st.one_of(
        st.none(),
        st.dates(dt.date(1960, 1, 1), dt.date(2030, 12, 1)).map(lambda d: d.isoformat()[:7]),
    ),
    real_driving_emissions=st.sampled_from([None, "1", "2"]),
)


@given(
    vehicle=vehicles,
    months=st.sampled_from([3, 6, 12]),
    already=st.integers(0, 1),
    pre_2001=st.booleans(),
)
def test_every_quote_is_a_whole_non_negative_number_of_pence(vehicle, months, already, pre_2001):
    cfg = CFG.model_copy(update={"pre_2001_up_one_band": pre_2001})
    result = quote("resident", months, vehicle, already, cfg)
    assert type(result.total_pence) is int
    assert result.total_pence >= 0
    assert result.total_pence == sum(pence for _, pence in result.lines)
    assert result.band.band in BANDS


# Refunds

STARTS = dt.date(2026, 4, 1)
ENDS = dt.date(2027, 3, 31)


def test_cancelled_on_its_first_day_refunds_every_month_less_the_fee():
    result = refund(12000, STARTS, ENDS, STARTS, CFG)
    assert (result.pence, result.unused_months) == (10000, 12)
    assert result.explanation == (
        "You paid £120 for 12 months. It was cancelled on its first day, so all of it "
        "(12 months) was unused, worth £120. Less the £20 admin fee, that is £100. "
        "We will refund £100."
    )


def test_cancelled_before_it_starts_refunds_every_month():
    assert refund(12000, STARTS, ENDS, dt.date(2026, 3, 20), CFG).pence == 10000


def test_the_month_in_progress_counts_as_used():
    # Cancelled on 15 September: April to September used, October to March (6) unused.
    result = refund(12000, STARTS, ENDS, dt.date(2026, 9, 15), CFG)
    assert (result.unused_months, result.pence) == (6, 4000)
    assert "6 months were unused, worth £60" in result.explanation


def test_cancelled_on_the_first_day_of_a_month_refunds_that_month():
    assert refund(12000, STARTS, ENDS, dt.date(2026, 10, 1), CFG).unused_months == 6
    assert refund(12000, STARTS, ENDS, dt.date(2026, 10, 2), CFG).unused_months == 5


def test_cancelled_in_the_last_month_refunds_nothing():
    result = refund(12000, STARTS, ENDS, dt.date(2027, 3, 2), CFG)
    assert (result.pence, result.unused_months) == (0, 0)
    assert "cancelled in its last month" in result.explanation


def test_cancelled_after_it_ended_refunds_nothing():
    result = refund(12000, STARTS, ENDS, dt.date(2027, 5, 1), CFG)
    assert result.pence == 0
    assert "already ended" in result.explanation


def test_a_fee_larger_than_the_unused_months_leaves_no_refund():
    # 1 unused month of a £120 permit is £10; the fee is £20.
    result = refund(12000, STARTS, ENDS, dt.date(2027, 2, 10), CFG)
    assert (result.pence, result.unused_months) == (0, 1)
    assert result.explanation.endswith("The admin fee is £20, so there is no refund.")


@pytest.mark.parametrize(("paid", "pence"), [(29000, 0), (30000, 0), (30012, 501)])
def test_a_refund_at_or_below_the_minimum_is_not_paid(paid, pence):
    # 1 unused month of 12: paid / 12, less the £20 fee, against a £5 minimum.
    result = refund(paid, STARTS, ENDS, dt.date(2027, 2, 10), CFG)
    assert result.pence == pence
    if not pence:
        assert "We do not pay refunds of £5 or less" in result.explanation


def test_months_from_the_31st_end_on_the_last_day_of_shorter_months():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2028, 1, 31), 1) == dt.date(2028, 2, 29)
    assert add_months(dt.date(2026, 1, 31), 2) == dt.date(2026, 3, 31)
    assert add_months(dt.date(2026, 11, 30), 2) == dt.date(2027, 1, 30)
    # A 3-month permit from 31 January to 29 April: months from 31 Jan, 28 Feb and 31 Mar.
    result = refund(3000, dt.date(2026, 1, 31), dt.date(2026, 4, 29), dt.date(2026, 3, 1), CFG)
    assert (result.unused_months, result.explanation[:30]) == (1, "You paid £30 for 3 months. 1 m")


def test_a_permit_ending_before_it_starts_is_refused():
    with pytest.raises(PricingError, match="ends"):
        refund(1000, ENDS, STARTS, STARTS, CFG)


def test_with_no_fee_and_no_minimum_every_unused_penny_is_refunded():
    cfg = _parking(refund_admin_fee_pence=0, minimum_refund_pence=0)
    result = refund(1000, STARTS, ENDS, dt.date(2026, 6, 15), cfg)
    assert result.pence == 750  # 9 of 12 months
    assert result.explanation.endswith("worth £7.50. We will refund £7.50.")
    assert refund(0, STARTS, ENDS, STARTS, cfg).explanation.endswith("There is no refund.")


@given(
    paid=st.integers(0, 500_000),
    starts=st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 31)),
    months=st.integers(1, 12),
    cancelled_after=st.integers(-60, 400),
    fee=st.integers(0, 5000),
    minimum=st.integers(0, 1000),
)
def test_a_refund_is_never_negative_nor_more_than_was_paid(
    paid, starts, months, cancelled_after, fee, minimum
):
    cfg = CFG.model_copy(update={"refund_admin_fee_pence": fee, "minimum_refund_pence": minimum})
    ends = add_months(starts, months) - dt.timedelta(days=1)
    cancelled_on = starts + dt.timedelta(days=cancelled_after)
    result = refund(paid, starts, ends, cancelled_on, cfg)
    assert type(result.pence) is int
    assert 0 <= result.pence <= paid
    assert result.pence == 0 or result.pence > minimum
    assert 0 <= result.unused_months <= months


def test_a_permit_type_is_looked_up_by_its_code():
    assert pricing.permit_type("carer", CFG).durations_months == [3, 12]
    assert pricing.permit_type("resident").priced_by_emissions  # the running council's
    with pytest.raises(PricingError, match="no permit type 'bus'"):
        pricing.permit_type("bus", CFG)


# The price list residents can read before applying


def test_the_price_list_has_each_band_its_emissions_and_what_quote_charges_for_each_length():
    rows = pricing.price_list("resident", CFG)
    assert [row.band for row in rows] == BANDS
    assert (rows[0].emissions, rows[0].prices_pence) == ("0g/km (electric)", (300, 600, 1200))
    assert rows[1].emissions == "1 to 50g/km"
    assert rows[-1].emissions == "more than 255g/km"
    petrol_112 = quote("resident", 3, VehicleDetails(co2_emissions=112), cfg=CFG)
    row = next(r for r in rows if r.band == petrol_112.band.band)
    assert row.emissions == "111 to 130g/km"
    for months, pence in zip((3, 6, 12), row.prices_pence, strict=True):
        assert (
            quote("resident", months, VehicleDetails(co2_emissions=112), cfg=CFG).total_pence
            == pence
        )


def test_a_permit_type_with_fixed_prices_has_no_band_price_list():
    with pytest.raises(PricingError, match="not priced by emissions"):
        pricing.price_list("carer", CFG)
