"""Registration marks, and the DVLA Vehicle Enquiry Service contract (real client and local)."""

import csv
import dataclasses
import datetime as dt
import json
import logging

import pytest
import requests
import responses
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st

from borough.parking.registrations import (
    MESSAGE_EMPTY,
    MESSAGE_NOT_REAL,
    MESSAGE_TOO_LONG,
    InvalidRegistration,
    Registration,
    VehicleLookupError,
    classify_vrm,
    normalise_vrm,
    parse_vrm,
)
from borough.parking.vehicles import (
    DVLA_BASE_URL,
    MESSAGE_NOT_FOUND,
    DvlaVehicleEnquiry,
    LocalVehicleLookup,
    VehicleDetails,
    VehicleLookupUnavailable,
    VehicleNotFound,
    _test_registrations,
    get_vehicle_lookup,
    reset_vehicle_lookup,
)
from borough.synth.vehicles import COLUMNS

URL = DVLA_BASE_URL + "/v1/vehicles"
TODAY = dt.date(2025, 6, 14)

# A full VES 200 body, as the API documents it.
FULL_BODY = {
    "registrationNumber": "AB12CDE",
    "taxStatus": "Taxed",
    "taxDueDate": "2026-03-01",
    "artEndDate": "2026-03-31",
    "motStatus": "Valid",
    "motExpiryDate": "2025-11-20",
    "make": "VOLKSWAGEN",
    "monthOfFirstRegistration": "2012-04",
    "monthOfFirstDvlaRegistration": "2012-04",
    "yearOfManufacture": 2012,
    "engineCapacity": 1968,
    "co2Emissions": 119,
    "fuelType": "DIESEL",
    "markedForExport": False,
    "colour": "SILVER",
    "typeApproval": "M1",
    "wheelplan": "2 AXLE RIGID BODY",
    "revenueWeight": 1950,
    "realDrivingEmissions": "2",
    "euroStatus": "EURO 6 AD",
    "dateOfLastV5CIssued": "2021-08-09",
    "automatedVehicle": False,
}


# --- Registration marks --------------------------------------------------------------------


def test_normalise_keeps_only_capital_letters_and_digits():
    assert normalise_vrm("  ab12-cde ") == "AB12CDE"
    assert normalise_vrm("a.b 1/2\tc_d*e") == "AB12CDE"
    assert normalise_vrm("") == ""
    assert normalise_vrm("ＡＢ１２ ＣＤＥ") == "AB12CDE"  # full-width, from a phone keyboard
    assert normalise_vrm("AB12 CDß") == "AB12CD"


@pytest.mark.parametrize(
    ("typed", "vrm", "fmt", "display"),
    [
        ("ab12 cde", "AB12CDE", "current", "AB12 CDE"),
        ("AA19MOT", "AA19MOT", "current", "AA19 MOT"),
        ("YY74 ZZZ", "YY74ZZZ", "current", "YY74 ZZZ"),  # Z is fine in the random letters
        ("A123 BCD", "A123BCD", "prefix", "A123 BCD"),
        ("l2wps", "L2WPS", "prefix", "L2 WPS"),
        ("ABC 123D", "ABC123D", "suffix", "ABC 123D"),
        ("abc1d", "ABC1D", "suffix", "ABC 1D"),
        ("1 ABC", "1ABC", "dateless", "1 ABC"),
        ("9999 AB", "9999AB", "dateless", "9999 AB"),
        ("ABC 1", "ABC1", "dateless", "ABC 1"),
        ("A 1", "A1", "dateless", "A 1"),
        ("AIZ 1234", "AIZ1234", "northern_ireland", "AIZ 1234"),
        ("KIA 55", "KIA55", "northern_ireland", "KIA 55"),
        ("BZ 12", "BZ12", "northern_ireland", "BZ 12"),
        ("Q123 ABC", "Q123ABC", "q_plate", "Q123 ABC"),
        ("QAB 12", "QAB12", "q_plate", "QAB 12"),
    ],
)
def test_each_format_is_recognised_and_displayed(typed, vrm, fmt, display):
    registration = parse_vrm(typed)
    assert registration == Registration(vrm=vrm, format=fmt, display=display)
    assert str(registration) == display
    assert classify_vrm(vrm) == fmt


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", MESSAGE_EMPTY),
        ("   ", MESSAGE_EMPTY),
        ("--", MESSAGE_EMPTY),
        ("AB12 CDEF", MESSAGE_TOO_LONG),
        ("12345678", MESSAGE_TOO_LONG),
        ("ABCDEFG", MESSAGE_NOT_REAL),  # letters only
        ("1234567", MESSAGE_NOT_REAL),  # digits only
        ("AI12 CDE", MESSAGE_NOT_REAL),  # I in the memory tag
        ("AQ12 CDE", MESSAGE_NOT_REAL),  # Q in the memory tag
        ("AZ12 CDE", MESSAGE_NOT_REAL),  # Z in the memory tag
        ("AB12 CDI", MESSAGE_NOT_REAL),  # I in the random letters
        ("AB12 QDE", MESSAGE_NOT_REAL),  # Q in the random letters
        ("A1B2C3", MESSAGE_NOT_REAL),
        ("Q", MESSAGE_NOT_REAL),
    ],
)
def test_a_mark_that_cannot_be_real_is_refused_with_a_message_for_the_resident(typed, message):
    with pytest.raises(InvalidRegistration) as caught:
        parse_vrm(typed)
    assert caught.value.message == message
    assert str(caught.value) == message
    with pytest.raises(InvalidRegistration):
        classify_vrm(typed)


def test_invalid_registration_is_a_value_error_and_a_lookup_error():
    assert issubclass(InvalidRegistration, ValueError)
    assert issubclass(InvalidRegistration, VehicleLookupError)


def test_a_registration_cannot_be_changed():
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_vrm("AB12CDE").vrm = "XY12ZZZ"  # type: ignore[misc]


TAG = st.sampled_from("ABCDEFGHJKLMNOPRSTUVWXY")
RANDOM = st.sampled_from("ABCDEFGHJKLMNOPRSTUVWXYZ")
DIGIT = st.sampled_from("0123456789")
LETTER = st.sampled_from("ABCDEFGHIJKLMNOPRSTUVWXYZ")  # no Q: Q marks are Q plates
CURRENT = st.builds(lambda *c: "".join(c), TAG, TAG, DIGIT, DIGIT, RANDOM, RANDOM, RANDOM)
PREFIX = st.builds(
    lambda a, n, b: a + n + b,
    LETTER,
    st.text(DIGIT, min_size=1, max_size=3),
    st.text(LETTER, min_size=3, max_size=3),
)
SUFFIX = st.builds(
    lambda a, n, b: a + n + b,
    st.text(LETTER, min_size=3, max_size=3),
    st.text(DIGIT, min_size=1, max_size=3),
    LETTER,
)
SEPARATOR = st.sampled_from(["", " ", "  ", "-", "."])


def _retype(vrm: str, separators: list[str], lower: list[bool]) -> str:
    """The mark as someone might type it: odd case, separators before characters."""
    typed = ""
    for i, char in enumerate(vrm):
        typed += separators[i] if i < len(separators) else ""
        typed += char.lower() if i < len(lower) and lower[i] else char
    return typed


@given(
    vrm=st.one_of(CURRENT, PREFIX, SUFFIX),
    separators=st.lists(SEPARATOR, max_size=7),
    lower=st.lists(st.booleans(), max_size=7),
)
def test_any_way_of_typing_a_mark_gives_the_same_mark_and_display(vrm, separators, lower):
    expected = parse_vrm(vrm)
    typed = _retype(vrm, separators, lower)
    assert parse_vrm(typed) == expected
    assert normalise_vrm(expected.display) == vrm
    assert parse_vrm(expected.display) == expected
    assert expected.display.count(" ") == 1


@given(vrm=CURRENT)
def test_every_current_mark_displays_as_four_then_three(vrm):
    registration = parse_vrm(vrm)
    assert registration.format == "current"
    assert registration.display == f"{vrm[:4]} {vrm[4:]}"


@given(st.text(max_size=12))
def test_any_text_is_either_refused_or_round_trips(text):
    normalised = normalise_vrm(text)
    assert normalise_vrm(normalised) == normalised
    assert all(c.isascii() and c.isalnum() and not c.islower() for c in normalised)
    try:
        registration = parse_vrm(text)
    except InvalidRegistration as exc:
        assert exc.message in {MESSAGE_EMPTY, MESSAGE_TOO_LONG, MESSAGE_NOT_REAL}
    else:
        assert registration.vrm == normalised
        assert 1 <= len(registration.vrm) <= 7
        assert normalise_vrm(registration.display) == registration.vrm
        assert parse_vrm(registration.display) == registration


# --- VehicleDetails ------------------------------------------------------------------------


def test_a_ves_body_becomes_vehicle_details_with_real_types():
    details = VehicleDetails.from_ves_json(FULL_BODY)
    assert details == VehicleDetails(
        registration_number="AB12CDE",
        tax_status="Taxed",
        tax_due_date=dt.date(2026, 3, 1),
        mot_status="Valid",
        mot_expiry_date=dt.date(2025, 11, 20),
        make="VOLKSWAGEN",
        colour="SILVER",
        fuel_type="DIESEL",
        co2_emissions=119,
        engine_capacity=1968,
        year_of_manufacture=2012,
        month_of_first_registration="2012-04",
        real_driving_emissions="2",
        euro_status="EURO 6 AD",
        marked_for_export=False,
        type_approval="M1",
        wheelplan="2 AXLE RIGID BODY",
        revenue_weight=1950,
        date_of_last_v5c_issued=dt.date(2021, 8, 9),
    )
    # The snapshot keeps everything VES sent, even fields we do not model.
    assert details.raw == FULL_BODY
    assert details.raw is not FULL_BODY


def test_a_sparse_ves_body_leaves_the_rest_empty():
    details = VehicleDetails.from_ves_json({"registrationNumber": "L2WPS", "taxStatus": "SORN"})
    assert details.registration_number == "L2WPS"
    assert details.tax_status == "SORN"
    assert details.co2_emissions is None
    assert details.engine_capacity is None
    assert details.marked_for_export is None
    assert details.tax_due_date is None
    assert details.month_of_first_registration is None


def test_a_ves_body_without_a_registration_number_is_refused():
    with pytest.raises(ValueError, match="registrationNumber"):
        VehicleDetails.from_ves_json({"make": "FORD"})


# --- The real client, against the VES contract ---------------------------------------------


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def dvla(sleeps):
    return DvlaVehicleEnquiry("test-key", sleep=sleeps)


def _errors(status, code, title, detail=""):
    return {"errors": [{"status": str(status), "code": code, "title": title, "detail": detail}]}


@responses.activate
def test_dvla_posts_the_mark_with_the_api_key_and_returns_the_vehicle(dvla):
    responses.post(URL, json=FULL_BODY)
    details = dvla.lookup("ab12 cde")
    assert details.registration_number == "AB12CDE"
    assert details.co2_emissions == 119
    assert details.raw == FULL_BODY
    (call,) = responses.calls
    assert call.request.url == URL
    assert call.request.method == "POST"
    assert call.request.headers["x-api-key"] == "test-key"
    assert call.request.headers["Content-Type"] == "application/json"
    assert json.loads(call.request.body) == {"registrationNumber": "AB12CDE"}


@responses.activate
def test_dvla_uses_the_base_url_it_is_given(sleeps):
    base = "https://uat.driver-vehicle-licensing.api.gov.uk/vehicle-enquiry/"
    responses.post(base + "v1/vehicles", json=FULL_BODY)
    DvlaVehicleEnquiry("k", base_url=base, sleep=sleeps).lookup("AB12CDE")
    assert responses.calls[0].request.url == base + "v1/vehicles"


@responses.activate
def test_dvla_400_is_an_invalid_registration(dvla):
    responses.post(
        URL,
        status=400,
        json=_errors(
            400, "ENQ103", "Bad Request", "Invalid format for field - vehicle registration number"
        ),
    )
    with pytest.raises(InvalidRegistration) as caught:
        dvla.lookup("ER19BAD")
    assert caught.value.message == MESSAGE_NOT_REAL


@responses.activate
def test_dvla_404_is_vehicle_not_found(dvla):
    responses.post(
        URL,
        status=404,
        json=_errors(404, "404", "Vehicle Not Found", "Record for vehicle not found"),
    )
    with pytest.raises(VehicleNotFound) as caught:
        dvla.lookup("ER19NFD")
    assert caught.value.message == MESSAGE_NOT_FOUND


@responses.activate
def test_dvla_429_is_retried_once_after_a_short_pause(dvla, sleeps):
    responses.post(URL, status=429, json={"message": "Too Many Requests"})
    responses.post(URL, json=FULL_BODY)
    assert dvla.lookup("AB12CDE").make == "VOLKSWAGEN"
    assert len(responses.calls) == 2
    assert sleeps == [0.5]


@responses.activate
def test_dvla_429_twice_is_unavailable_after_one_retry(dvla, sleeps):
    responses.post(URL, status=429, json={"message": "Too Many Requests"})
    with pytest.raises(VehicleLookupUnavailable) as caught:
        dvla.lookup("AB12CDE")
    assert len(responses.calls) == 2
    assert sleeps == [0.5]
    assert "429" in caught.value.message
    assert "Too Many Requests" in caught.value.message


@responses.activate
def test_dvla_asking_for_a_long_wait_is_not_retried_and_the_wait_is_passed_on(dvla, sleeps):
    responses.post(
        URL, status=429, json={"message": "Too Many Requests"}, headers={"Retry-After": "30"}
    )
    with pytest.raises(VehicleLookupUnavailable) as caught:
        dvla.lookup("AB12CDE")
    assert caught.value.retry_after == 30
    assert len(responses.calls) == 1
    assert sleeps == []


@responses.activate
def test_dvla_short_retry_after_is_honoured(dvla, sleeps):
    responses.post(URL, status=503, json=_errors(503, "503", "Down"), headers={"Retry-After": "1"})
    responses.post(URL, json=FULL_BODY)
    assert dvla.lookup("AB12CDE").registration_number == "AB12CDE"
    assert sleeps == [1]


@responses.activate
def test_dvla_500_is_unavailable_and_not_retried(dvla, sleeps):
    responses.post(
        URL,
        status=500,
        json=_errors(500, "ENQ108", "Internal Server Error", "System Error occurred"),
    )
    with pytest.raises(VehicleLookupUnavailable) as caught:
        dvla.lookup("ER19ERR")
    assert "ENQ108" in caught.value.message
    assert caught.value.retry_after is None
    assert len(responses.calls) == 1
    assert sleeps == []


@responses.activate
def test_dvla_503_maintenance_is_unavailable_after_one_retry(dvla):
    responses.post(
        URL, status=503, json=_errors(503, "503", "System currently down for maintenance")
    )
    with pytest.raises(VehicleLookupUnavailable) as caught:
        dvla.lookup("ER19MNT")
    assert "System currently down for maintenance" in caught.value.message
    assert len(responses.calls) == 2


@responses.activate
def test_dvla_error_body_as_a_bare_list_is_understood(dvla):
    responses.post(
        URL,
        status=500,
        json=[{"status": "500", "code": "ENQ108", "title": "Internal Server Error"}],
    )
    with pytest.raises(VehicleLookupUnavailable) as caught:
        dvla.lookup("AB12CDE")
    assert "ENQ108: Internal Server Error" in caught.value.message


@responses.activate
def test_dvla_bare_list_404_is_still_not_found(dvla):
    responses.post(URL, status=404, json=[{"status": "404", "title": "Vehicle Not Found"}])
    with pytest.raises(VehicleNotFound):
        dvla.lookup("AB12CDE")


@responses.activate
def test_dvla_refusing_the_key_is_unavailable_and_logged_as_an_error(dvla, caplog):
    responses.post(URL, status=403, json={"message": "Forbidden"})
    with caplog.at_level(logging.INFO, logger="borough.parking.vehicles"):
        with pytest.raises(VehicleLookupUnavailable) as caught:
            dvla.lookup("AB12CDE")
    assert "refused the API key" in caught.value.message
    assert "BOROUGH_DVLA_API_KEY" in caught.value.message
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert len(responses.calls) == 1


@responses.activate
def test_dvla_error_body_that_is_not_json_is_still_an_answer(dvla):
    responses.post(URL, status=502, body="<html>Bad gateway</html>")
    with pytest.raises(VehicleLookupUnavailable) as caught:
        dvla.lookup("AB12CDE")
    assert "(502)" in caught.value.message


@responses.activate
def test_dvla_200_without_a_vehicle_is_unavailable(dvla):
    responses.post(URL, json={"make": "FORD"})
    with pytest.raises(VehicleLookupUnavailable):
        dvla.lookup("AB12CDE")


@responses.activate
def test_dvla_connection_error_is_unavailable(dvla):
    responses.post(URL, body=requests.ConnectionError("connection refused"))
    with pytest.raises(VehicleLookupUnavailable) as caught:
        dvla.lookup("AB12CDE")
    assert "Could not reach" in caught.value.message


@responses.activate
def test_dvla_timeout_is_unavailable(dvla):
    responses.post(URL, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(VehicleLookupUnavailable) as caught:
        dvla.lookup("AB12CDE")
    assert "did not answer in time" in caught.value.message


@responses.activate
def test_dvla_is_not_asked_about_an_empty_or_overlong_mark(dvla):
    with pytest.raises(InvalidRegistration, match="Enter your vehicle registration"):
        dvla.lookup(" - ")
    with pytest.raises(InvalidRegistration, match="7 characters or fewer"):
        dvla.lookup("AB12CDEF")
    assert len(responses.calls) == 0


@responses.activate
def test_dvla_answers_are_cached_by_mark_for_a_few_minutes(sleeps):
    now = [1000.0]
    dvla = DvlaVehicleEnquiry("k", sleep=sleeps, clock=lambda: now[0], cache_seconds=300)
    responses.post(URL, json=FULL_BODY)
    first = dvla.lookup("AB12CDE")
    assert dvla.lookup("ab12 cde") is first
    assert len(responses.calls) == 1
    now[0] += 299
    dvla.lookup("AB12CDE")
    assert len(responses.calls) == 1
    now[0] += 2
    dvla.lookup("AB12CDE")
    assert len(responses.calls) == 2


@responses.activate
def test_dvla_cache_keeps_only_the_most_recent_marks(sleeps):
    dvla = DvlaVehicleEnquiry("k", sleep=sleeps, cache_size=2)
    responses.post(URL, json=FULL_BODY)
    for vrm in ("AB12CDE", "AB12CDF", "AB12CDE", "AB12CDG"):  # CDF is the least recent
        dvla.lookup(vrm)
    assert len(responses.calls) == 3
    dvla.lookup("AB12CDE")
    assert len(responses.calls) == 3
    dvla.lookup("AB12CDF")
    assert len(responses.calls) == 4


@responses.activate
def test_dvla_failures_are_not_cached(dvla):
    responses.post(URL, status=404, json=_errors(404, "404", "Vehicle Not Found"))
    responses.post(URL, json=FULL_BODY)
    with pytest.raises(VehicleNotFound):
        dvla.lookup("AB12CDE")
    assert dvla.lookup("AB12CDE").registration_number == "AB12CDE"
    assert len(responses.calls) == 2


@responses.activate
def test_dvla_never_logs_or_reports_the_registration(dvla, caplog):
    responses.post(URL, json=FULL_BODY)
    responses.post(URL, status=404, json=_errors(404, "404", "Vehicle Not Found"))
    responses.post(URL, status=500, json=_errors(500, "ENQ108", "Internal Server Error"))
    responses.post(URL, status=503, json=_errors(503, "503", "Down"))
    responses.post(URL, status=503, json=_errors(503, "503", "Down"))
    responses.post(URL, status=403, json={"message": "Forbidden"})
    messages = []
    with caplog.at_level(logging.DEBUG):
        for vrm in ("KX19ABC", "KX19ABD", "KX19ABE", "KX19ABF", "KX19ABG"):
            try:
                dvla.lookup(vrm)
            except VehicleLookupError as exc:
                messages.append(exc.message)
    assert len(caplog.records) >= 5
    assert len(messages) == 4
    for vrm in ("KX19", "ABC", "ABD", "ABE", "ABF", "ABG"):
        assert vrm not in caplog.text
        assert not any(vrm in m for m in messages)


def test_dvla_needs_an_api_key():
    with pytest.raises(ImproperlyConfigured):
        DvlaVehicleEnquiry("")


# --- The local implementation --------------------------------------------------------------


def _row(**values):
    row = dict.fromkeys(COLUMNS, "")
    row.update(values)
    return row


@pytest.fixture
def vehicles_csv(tmp_path):
    path = tmp_path / "vehicles.csv"
    rows = [
        _row(
            registration="LB71XKP",
            make="TOYOTA",
            model="YARIS",
            colour="WHITE",
            fuel_type="HYBRID ELECTRIC",
            co2_emissions="92",
            engine_capacity="1490",
            year_of_manufacture="2021",
            month_of_first_registration="2021-10",
            tax_status="Taxed",
            mot_status="Valid",
            keeper_person_id="4242",
            keeper_uprn="100021000123",
        ),
        _row(
            registration="YC23EVZ",
            make="TESLA",
            model="MODEL 3",
            colour="BLUE",
            fuel_type="ELECTRICITY",
            co2_emissions="0",
            engine_capacity="",
            year_of_manufacture="2023",
            month_of_first_registration="2023-04",
            tax_status="Taxed",
            mot_status="No details held by DVLA",
            keeper_person_id="4243",
            keeper_uprn="100021000124",
        ),
    ]
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def local(vehicles_csv):
    return LocalVehicleLookup(vehicles_csv, today=lambda: TODAY)


def test_the_synthetic_columns_are_the_ones_the_local_lookup_reads():
    assert COLUMNS == [
        "registration",
        "make",
        "model",
        "colour",
        "fuel_type",
        "co2_emissions",
        "engine_capacity",
        "year_of_manufacture",
        "month_of_first_registration",
        "tax_status",
        "mot_status",
        "keeper_person_id",
        "keeper_uprn",
    ]


def test_local_finds_a_synthetic_vehicle_as_ves_would_describe_it(local):
    details = local.lookup("lb71 xkp")
    assert details == VehicleDetails(
        registration_number="LB71XKP",
        tax_status="Taxed",
        mot_status="Valid",
        make="TOYOTA",
        colour="WHITE",
        fuel_type="HYBRID ELECTRIC",
        co2_emissions=92,
        engine_capacity=1490,
        year_of_manufacture=2021,
        month_of_first_registration="2021-10",
    )
    assert details.raw == {
        "registrationNumber": "LB71XKP",
        "taxStatus": "Taxed",
        "motStatus": "Valid",
        "make": "TOYOTA",
        "colour": "WHITE",
        "fuelType": "HYBRID ELECTRIC",
        "co2Emissions": 92,
        "engineCapacity": 1490,
        "yearOfManufacture": 2021,
        "monthOfFirstRegistration": "2021-10",
    }


def test_local_never_returns_keeper_or_model_because_ves_does_not(local):
    details = local.lookup("LB71XKP")
    snapshot = json.dumps(details.raw)
    assert "4242" not in snapshot
    assert "100021000123" not in snapshot
    assert "YARIS" not in snapshot
    assert not any("keeper" in f.name for f in dataclasses.fields(details))


def test_local_electric_vehicle_has_no_engine_capacity_and_zero_co2(local):
    details = local.lookup("YC23EVZ")
    assert details.engine_capacity is None
    assert details.co2_emissions == 0
    assert details.mot_status == "No details held by DVLA"


def test_local_unknown_mark_is_not_found(local):
    with pytest.raises(VehicleNotFound):
        local.lookup("AB12CDE")


def test_local_refuses_an_empty_mark(local):
    with pytest.raises(InvalidRegistration, match="Enter your vehicle registration"):
        local.lookup("")


def test_local_reads_the_file_once_on_first_use(tmp_path, vehicles_csv):
    later = tmp_path / "later.csv"
    lookup = LocalVehicleLookup(later)  # not there yet: nothing is read until asked
    later.write_bytes(vehicles_csv.read_bytes())
    assert lookup.lookup("LB71XKP").make == "TOYOTA"
    later.unlink()
    assert lookup.lookup("YC23EVZ").make == "TESLA"


def test_local_missing_file_names_the_setting(tmp_path):
    lookup = LocalVehicleLookup(tmp_path / "nowhere.csv")
    with pytest.raises(ImproperlyConfigured) as caught:
        lookup.lookup("LB71XKP")
    assert "BOROUGH_VEHICLES_FILE" in str(caught.value)
    assert "nowhere.csv" in str(caught.value)
    # The DVLA test registrations need no file.
    assert lookup.lookup("AA19MOT").mot_status == "Valid"


def test_local_valid_mot_test_registration(local):
    details = local.lookup("AA19 MOT")
    assert details.registration_number == "AA19MOT"
    assert details.tax_status == "Taxed"
    assert details.mot_status == "Valid"
    assert details.mot_expiry_date == dt.date(2026, 6, 14)
    assert details.tax_due_date == dt.date(2026, 6, 14)
    assert details.make == "FORD"
    assert details.co2_emissions == 300


def test_local_sorn_test_registration(local):
    details = local.lookup("AA19SRN")
    assert details.tax_status == "SORN"
    assert details.tax_due_date is None


def test_local_untaxed_non_standard_test_registration(local):
    details = local.lookup("L2WPS")
    assert details.registration_number == "L2WPS"
    assert details.tax_status == "Untaxed"
    assert details.tax_due_date is not None and details.tax_due_date < TODAY
    assert parse_vrm("L2WPS").format == "prefix"


@pytest.mark.parametrize(
    ("vrm", "error", "message"),
    [
        ("ER19BAD", InvalidRegistration, MESSAGE_NOT_REAL),
        ("ER19NFD", VehicleNotFound, MESSAGE_NOT_FOUND),
        ("ER19THR", VehicleLookupUnavailable, "(429, 429: Too Many Requests)"),
        ("ER19ERR", VehicleLookupUnavailable, "(500, ENQ108: Internal Server Error)"),
        ("ER19MNT", VehicleLookupUnavailable, "(503, 503: System currently down for maintenance)"),
    ],
)
def test_local_error_test_registrations_fail_as_dvla_test_does(local, vrm, error, message):
    with pytest.raises(error) as caught:
        local.lookup(vrm)
    assert type(caught.value) is error
    assert message in caught.value.message


def test_local_test_registration_dates_survive_29_february():
    lookup = LocalVehicleLookup("unused.csv", today=lambda: dt.date(2024, 2, 29))
    assert lookup.lookup("AA19MOT").mot_expiry_date == dt.date(2025, 2, 28)


# --- Both implementations keep the same contract -------------------------------------------


def _outcome(lookup, vrm):
    try:
        return lookup.lookup(vrm)
    except VehicleLookupError as exc:
        return (type(exc), exc.message)


@pytest.mark.parametrize("vrm", sorted(_test_registrations(TODAY)))
@responses.activate
def test_both_implementations_answer_each_test_registration_alike(vrm, local, sleeps):
    status, body = _test_registrations(TODAY)[vrm]
    responses.post(URL, status=status, json=body)
    dvla = DvlaVehicleEnquiry("k", sleep=sleeps)
    from_dvla = _outcome(dvla, vrm)
    from_local = _outcome(local, vrm)
    assert from_dvla == from_local
    if isinstance(from_local, VehicleDetails):
        assert type(from_dvla) is VehicleDetails
        assert from_dvla.raw == from_local.raw
        assert from_local.registration_number == vrm


@responses.activate
def test_a_synthetic_vehicle_from_dvla_and_from_local_is_the_same_details(local, dvla):
    from_local = local.lookup("LB71XKP")
    responses.post(URL, json=from_local.raw)
    from_dvla = dvla.lookup("LB71XKP")
    assert from_dvla == from_local
    assert dataclasses.asdict(from_dvla) == dataclasses.asdict(from_local)


# --- Choosing one from settings ------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_lookup():
    reset_vehicle_lookup()
    yield
    reset_vehicle_lookup()


def test_settings_default_to_the_local_lookup_in_the_data_folder(settings, tmp_path):
    for name in ("BOROUGH_VEHICLE_LOOKUP", "BOROUGH_VEHICLES_FILE"):
        if hasattr(settings, name):
            delattr(settings, name)
    settings.DATA_DIR = tmp_path
    lookup = get_vehicle_lookup()
    assert isinstance(lookup, LocalVehicleLookup)
    assert lookup.path == tmp_path / "synth" / "vehicles.csv"
    assert get_vehicle_lookup() is lookup


def test_settings_choose_the_vehicles_file(settings, vehicles_csv):
    settings.BOROUGH_VEHICLE_LOOKUP = "local"
    settings.BOROUGH_VEHICLES_FILE = vehicles_csv
    assert get_vehicle_lookup().lookup("LB71XKP").make == "TOYOTA"


def test_changing_a_setting_makes_a_new_lookup(settings, tmp_path):
    settings.BOROUGH_VEHICLE_LOOKUP = "local"
    settings.BOROUGH_VEHICLES_FILE = tmp_path / "a.csv"
    first = get_vehicle_lookup()
    settings.BOROUGH_VEHICLES_FILE = tmp_path / "b.csv"
    second = get_vehicle_lookup()
    assert first is not second
    assert second.path == tmp_path / "b.csv"
    reset_vehicle_lookup()
    assert get_vehicle_lookup() is not second


@responses.activate
def test_settings_choose_the_dvla_client(settings):
    settings.BOROUGH_VEHICLE_LOOKUP = "dvla"
    settings.BOROUGH_DVLA_API_KEY = "live-key"
    settings.BOROUGH_DVLA_BASE_URL = "https://uat.example.gov.uk/vehicle-enquiry"
    lookup = get_vehicle_lookup()
    assert isinstance(lookup, DvlaVehicleEnquiry)
    responses.post("https://uat.example.gov.uk/vehicle-enquiry/v1/vehicles", json=FULL_BODY)
    assert lookup.lookup("AB12CDE").make == "VOLKSWAGEN"
    assert responses.calls[0].request.headers["x-api-key"] == "live-key"


def test_dvla_without_a_key_is_a_configuration_error(settings):
    settings.BOROUGH_VEHICLE_LOOKUP = "dvla"
    settings.BOROUGH_DVLA_API_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="BOROUGH_DVLA_API_KEY"):
        get_vehicle_lookup()


def test_an_unknown_lookup_is_a_configuration_error(settings):
    settings.BOROUGH_VEHICLE_LOOKUP = "dvsa"
    with pytest.raises(ImproperlyConfigured, match="BOROUGH_VEHICLE_LOOKUP"):
        get_vehicle_lookup()
