"""The resident journey's pages with bad input, expired sessions, double submissions, tampered
fields and payments that fail. (The whole journey with a real verification runs in Chromium:
tests/e2e/test_parking_journeys.py.)"""

from __future__ import annotations

import csv
import uuid

import pytest

from borough.core.models import User
from borough.parking.models import Permit, PermitApplication, PropertyZone, Zone
from borough.parking.vehicles import reset_vehicle_lookup
from borough.payments.models import Payment
from borough.places.models import Property
from borough.synth.vehicles import COLUMNS

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-0.1, 51.5], [-0.09, 51.5], [-0.09, 51.51], [-0.1, 51.51], [-0.1, 51.5]]],
}


@pytest.fixture
def borough(db, settings, tmp_path):
    """One zone, two homes in it (one car-free), a vehicles file with two cars."""
    zone = Zone.objects.create(
        code="A",
        name="Albion",
        boundary=SQUARE,
        min_lon=-0.1,
        min_lat=51.5,
        max_lon=-0.09,
        max_lat=51.51,
    )
    homes = {}
    for n, car_free in ((1, False), (2, True)):
        homes[n] = Property.objects.create(
            uprn=100090000000 + n,
            street="ALBION ROAD",
            building_number=str(n),
            town="LONDON",
            postcode="E21 0AA",
            latitude=51.505,
            longitude=-0.095,
            is_residential=True,
            classification="RD04",
            car_free=car_free,
        )
        PropertyZone.objects.create(property=homes[n], zone=zone)
    path = tmp_path / "vehicles.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for vrm, fuel, co2 in (("AB12CDE", "PETROL", "114"), ("EV70ABC", "ELECTRICITY", "0")):
            writer.writerow(
                {
                    "registration": vrm,
                    "make": "FORD",
                    "model": "FIESTA",
                    "colour": "BLUE",
                    "fuel_type": fuel,
                    "co2_emissions": co2,
                    "engine_capacity": "999",
                    "year_of_manufacture": "2019",
                    "month_of_first_registration": "2019-03",
                    "tax_status": "Taxed",
                    "mot_status": "Valid",
                    "keeper_person_id": "1",
                    "keeper_uprn": str(homes[1].uprn),
                }
            )
    settings.BOROUGH_VEHICLES_FILE = str(path)
    settings.BOROUGH_VEHICLE_LOOKUP = "local"
    settings.BOROUGH_PAYMENT_PROVIDER = "local"
    reset_vehicle_lookup()
    yield {"zone": zone, "homes": homes}
    reset_vehicle_lookup()


@pytest.fixture
def resident(client, borough):
    user = User.objects.create_resident("ada@example.org")
    client.force_login(user)
    return user


def answers(client, **extra):
    """The session as the journey leaves it after "who you are" (verified)."""
    session = client.session
    session["parking_apply"] = {
        "journey": uuid.uuid4().hex,
        "uprn": 100090000001,
        "zone": "A",
        "postcode": "E21 0AA",
        "first_name": "Ada",
        "surname": "Lovelace",
        "date_of_birth": "1980-03-27",
        "verification": "",
        "decision": "verified",
        "resident_id": "R1",
        **extra,
    }
    session.save()


def test_a_page_opened_without_the_earlier_answers_sends_the_resident_to_start_again(
    client, resident
):
    for page in ("zone", "you", "checked", "vehicle", "vehicle/confirm", "duration", "check"):
        response = client.get(f"/parking/apply/{page}")
        assert response.status_code == 302 and response["Location"] == "/parking/apply/expired"
    assert "Start again" in client.get("/parking/apply/expired").content.decode()


def test_a_car_free_address_is_refused_with_the_reason(client, resident):
    client.get("/parking/apply")
    page = client.post("/parking/apply/address?postcode=E21%200AA", {"uprn": "100090000002"})
    text = page.content.decode()
    assert "You cannot get a resident permit for this address" in text
    assert "car-free" in text
    assert "uprn" not in client.session["parking_apply"]


def test_an_eligible_address_goes_on_to_its_zone(client, resident):
    client.get("/parking/apply")
    page = client.post("/parking/apply/address?postcode=e210aa", {"uprn": "100090000001"})
    assert page["Location"] == "/parking/apply/zone"
    assert "Your address is in zone A" in client.get("/parking/apply/zone").content.decode()


def test_a_tampered_address_choice_is_an_error_not_a_permit(client, resident):
    client.get("/parking/apply")
    page = client.post("/parking/apply/address?postcode=E21%200AA", {"uprn": "999999999"})
    assert "Select your address from the list" in page.content.decode()


def test_a_postcode_outside_the_borough_finds_no_addresses(client, resident):
    page = client.get("/parking/apply/address?postcode=SW1A%201AA")
    assert "No addresses found for SW1A 1AA" in page.content.decode()
    bad = client.get("/parking/apply/postcode?postcode=not+a+postcode")
    assert "Enter a real postcode" in bad.content.decode()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter your vehicle registration number, like AB12 CDE"),
        ("AB12 CDEFG", "7 characters or fewer"),
        ("!!!", "Enter your vehicle registration number"),
        ("ER19NFD", "We cannot find a vehicle with that registration number"),
        ("AA19SRN", "DVLA records show this vehicle is not taxed (SORN)"),
        ("L2WPS", "not taxed (Untaxed)"),
        ("ER19MNT", "we cannot check vehicles at the moment"),
    ],
)
def test_a_vehicle_that_cannot_have_a_permit_gets_a_clear_message(client, resident, typed, message):
    answers(client)
    page = client.post("/parking/apply/vehicle", {"vrm": typed})
    assert page.status_code == 200
    assert message in page.content.decode()
    assert "vrm" not in client.session["parking_apply"]


def test_the_vehicle_is_shown_for_confirming_and_priced_by_its_band(client, resident):
    answers(client)
    assert client.post("/parking/apply/vehicle", {"vrm": "ab12 cde"})["Location"] == (
        "/parking/apply/vehicle/confirm"
    )
    confirm = client.get("/parking/apply/vehicle/confirm").content.decode()
    assert "AB12 CDE" in confirm and "FORD" in confirm and "114 g/km" in confirm
    client.post("/parking/apply/vehicle/confirm", {"confirm": "yes"})
    durations = client.get("/parking/apply/duration").content.decode()
    assert "12 months: £" in durations
    tampered = client.post("/parking/apply/duration", {"months": "7"})
    assert "Select how long you want the permit for" in tampered.content.decode()


def _to_check(client) -> None:
    answers(client)
    client.post("/parking/apply/vehicle", {"vrm": "AB12CDE"})
    client.post("/parking/apply/duration", {"months": "12"})


def test_continuing_to_payment_twice_makes_one_application_and_one_payment(client, resident):
    _to_check(client)
    first = client.post("/parking/apply/check")
    second = client.post("/parking/apply/check")
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert PermitApplication.objects.count() == 1
    assert Payment.objects.count() == 1
    application = PermitApplication.objects.get()
    assert application.price_pence == Payment.objects.get().amount_pence
    assert application.vehicle_snapshot["registrationNumber"] == "AB12CDE"
    assert application.band and application.band_reason


def test_paying_issues_the_permit_once_and_returning_again_changes_nothing(
    client, resident, pay, mailoutbox
):
    _to_check(client)
    client.post("/parking/apply/check")
    application = PermitApplication.objects.get()
    payment = Payment.objects.get()
    client.get(payment.next_url)
    returned = pay(payment)
    assert returned["Location"].endswith(f"/parking/apply/paid/{application.reference}")
    landing = client.get(f"/parking/apply/paid/{application.reference}")
    permit = Permit.objects.get()
    assert landing["Location"] == f"/parking/permits/{permit.number}"
    assert permit.status == Permit.Status.ACTIVE and permit.vrm == "AB12CDE"
    page = client.get(landing["Location"]).content.decode()
    assert permit.number in page and "Permit issued" in page
    again = client.get(f"/parking/apply/paid/{application.reference}")
    assert again["Location"] == landing["Location"]
    assert Permit.objects.count() == 1
    assert len(mailoutbox) == 1 and permit.number in mailoutbox[0].body


def test_a_declined_card_issues_nothing_and_says_so(client, resident, pay):
    _to_check(client)
    client.post("/parking/apply/check")
    application = PermitApplication.objects.get()
    payment = Payment.objects.get()
    client.get(payment.next_url)
    pay(payment, number="4000000000000002")
    page = client.get(f"/parking/apply/paid/{application.reference}")
    assert "Your payment was not taken" in page.content.decode()
    assert Permit.objects.count() == 0


def test_after_a_declined_card_the_application_is_kept_and_paying_again_issues_the_permit(
    client, resident, pay
):
    _to_check(client)
    client.post("/parking/apply/check")
    application = PermitApplication.objects.get()
    declined = Payment.objects.get()
    client.get(declined.next_url)
    pay(declined, number="4000000000000002")
    page = client.get(f"/parking/apply/paid/{application.reference}").content.decode()
    assert "We have kept your application" in page and "Pay again" in page
    assert "AB12 CDE" in page
    # the session's answers are gone (another day, another device): the application is not
    session = client.session
    session.pop("parking_apply")
    session.save()
    again = client.post(f"/parking/apply/pay/{application.reference}")
    second = Payment.objects.exclude(pk=declined.pk).get()
    assert again["Location"] == second.next_url
    assert second.amount_pence == application.price_pence
    client.get(second.next_url)
    pay(second)
    landing = client.get(f"/parking/apply/paid/{application.reference}")
    permit = Permit.objects.get()
    assert landing["Location"] == f"/parking/permits/{permit.number}"
    assert PermitApplication.objects.count() == 1
    # once paid, "Pay again" takes nothing more
    assert client.post(f"/parking/apply/pay/{application.reference}")["Location"] == (
        f"/parking/apply/paid/{application.reference}"
    )
    assert Payment.objects.count() == 2


def test_someone_else_cannot_pay_for_an_application(client, resident):
    _to_check(client)
    client.post("/parking/apply/check")
    application = PermitApplication.objects.get()
    client.force_login(User.objects.create_resident("eve@example.org"))
    assert client.post(f"/parking/apply/pay/{application.reference}").status_code == 404


def test_a_journey_opened_from_a_bookmarked_postcode_page_goes_through_to_paying(client, resident):
    # no "Start now": the bookmark is the first page of the journey
    assert client.get("/parking/apply/postcode").status_code == 200
    assert client.get("/parking/apply/postcode", {"postcode": "e21 0aa"}).status_code == 302
    assert (
        client.post("/parking/apply/address?postcode=E21%200AA", {"uprn": "100090000001"})[
            "Location"
        ]
        == "/parking/apply/zone"
    )
    session = client.session
    session["parking_apply"].update(
        first_name="Ada",
        surname="Lovelace",
        date_of_birth="1980-03-27",
        verification="",
        decision="verified",
        resident_id="R1",
    )
    session.save()
    client.post("/parking/apply/vehicle", {"vrm": "AB12CDE"})
    client.post("/parking/apply/vehicle/confirm", {"confirm": "yes"})
    client.post("/parking/apply/duration", {"months": "12"})
    assert client.get("/parking/apply/check").status_code == 200
    paying = client.post("/parking/apply/check")
    assert paying.status_code == 302 and "/payments/" in paying["Location"]


def test_an_unverified_resident_gets_a_permit_with_proof_due(client, resident, pay):
    answers(client, decision="refer")
    client.post("/parking/apply/vehicle", {"vrm": "AB12CDE"})
    client.post("/parking/apply/duration", {"months": "3"})
    client.post("/parking/apply/check")
    application = PermitApplication.objects.get()
    payment = Payment.objects.get()
    client.get(payment.next_url)
    pay(payment)
    client.get(f"/parking/apply/paid/{application.reference}")
    permit = Permit.objects.get()
    assert permit.status == Permit.Status.PROOF_NEEDED and permit.proof_due_on
    assert (
        "Send proof of address by"
        in client.get(f"/parking/permits/{permit.number}").content.decode()
    )


def test_an_applicant_the_records_do_not_know_pays_and_waits_for_an_officer(client, resident, pay):
    answers(client, decision="not_found", resident_id="")
    checked = client.get("/parking/apply/checked").content.decode()
    assert "An officer will check your application" in checked
    client.post("/parking/apply/vehicle", {"vrm": "AB12CDE"})
    client.post("/parking/apply/duration", {"months": "3"})
    client.post("/parking/apply/check")
    application = PermitApplication.objects.get()
    payment = Payment.objects.get()
    client.get(payment.next_url)
    pay(payment)
    page = client.get(f"/parking/apply/paid/{application.reference}").content.decode()
    assert "Your application is with an officer" in page
    assert Permit.objects.count() == 0
    application.refresh_from_db()
    assert application.status == PermitApplication.Status.NEEDS_OFFICER


def test_a_return_for_an_unknown_or_someone_elses_application_is_not_found(client, resident):
    assert client.get("/parking/apply/paid/PA-NOSUCH00").status_code == 404
    _to_check(client)
    client.post("/parking/apply/check")
    reference = PermitApplication.objects.get().reference
    client.force_login(User.objects.create_resident("someone@example.org"))
    assert client.get(f"/parking/apply/paid/{reference}").status_code == 404
    assert Permit.objects.count() == 0


def test_the_price_list_is_linked_from_the_start_page_and_needs_no_sign_in(client, db):
    start = client.get("/parking").content.decode()
    assert 'href="/parking/prices"' in start
    page = client.get("/parking/prices").content.decode()
    # the shipped profile: band A electric £25 a year, £6.25 for 3 months; the diesel surcharge
    assert "0g/km (electric)" in page and "£6.25" in page and "£25" in page
    assert "Diesel vehicles pay a surcharge of £200" in page
    assert "less an admin fee of £20" in page


def test_not_verified_shows_what_was_entered_with_links_to_change_it(client, resident):
    answers(client, decision="refer", first_name="Ada", surname="Lovelase")
    page = client.get("/parking/apply/checked").content.decode()
    assert "We could not confirm your address automatically" in page
    assert "What you told us" in page
    assert "Ada Lovelase" in page and "27 March 1980" in page and "1 ALBION ROAD" in page.upper()
    assert 'href="/parking/apply/you"' in page and 'href="/parking/apply/postcode"' in page
    # the change link opens the question with the answers given
    who = client.get("/parking/apply/you").content.decode()
    assert 'value="Lovelase"' in who and 'value="27"' in who and 'value="1980"' in who


def _heading_and_legends(page: str) -> tuple[str, list[str]]:
    """The page's h1 and the legends that are not the h1 itself (a legend may be the heading)."""
    import re

    heading = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)[1]
    legends = re.findall(r"<legend[^>]*>(.*?)</legend>", page, re.S)
    text = lambda html: re.sub(r"<[^>]+>|\s+", " ", html).strip()  # noqa: E731
    return text(heading), [text(legend) for legend in legends if "<h1" not in legend]


def test_no_question_page_repeats_its_heading_as_its_legend(client, resident):
    answers(
        client, vrm="AB12CDE", vrm_display="AB12 CDE", vehicle={"registrationNumber": "AB12CDE"}
    )
    for url in ("/parking/apply/vehicle/confirm", "/parking/apply/address?postcode=E21%200AA"):
        heading, legends = _heading_and_legends(client.get(url).content.decode())
        assert legends, url
        for legend in legends:
            assert not heading.lower().startswith(legend.lower()), (url, heading, legend)


def test_cancelling_on_the_card_page_keeps_the_application_with_pay_again(client, resident):
    _to_check(client)
    client.post("/parking/apply/check")
    application = PermitApplication.objects.get()
    payment = Payment.objects.get()
    client.get(payment.next_url)
    back = client.post(payment.next_url + "/cancel")
    assert back["Location"].endswith(f"/parking/apply/paid/{application.reference}")
    page = client.get(f"/parking/apply/paid/{application.reference}").content.decode()
    assert "Your payment was not taken" in page and "We have kept your application" in page
    again = client.post(f"/parking/apply/pay/{application.reference}")
    assert again["Location"] == Payment.objects.exclude(pk=payment.pk).get().next_url
