# ruff: noqa: F811 - the imported ``pay`` fixture is taken as an argument by name
"""The resident manages their permit from its page: cancel it, change the vehicle, renew it,
send proof, say the council record is wrong, report a move. Through the pages, with the local
payment provider's card page; ``verify`` is replaced by a stand-in that stores a real
``Verification`` row with the decision each test needs (the real one needs a linked resident
index: tests/e2e covers that)."""

from __future__ import annotations

import csv
import datetime as dt
import logging
from pathlib import Path

import pytest
from django.utils import timezone

from borough.core.dates import date_in_words
from borough.core.models import User
from borough.core.tests.sample_documents import a_zip, image, noisy_png, pdf, png_bomb
from borough.parking import enforcement, notices, permit_changes, services
from borough.parking.models import (
    Permit,
    PermitApplication,
    PermitEvent,
    ProofUpload,
    PropertyZone,
    RecordDispute,
    VehicleChange,
    Zone,
)
from borough.parking.pricing import add_months
from borough.parking.vehicles import reset_vehicle_lookup
from borough.payments.models import Payment, Refund
from borough.payments.services import start_payment
from borough.payments.tests.conftest import pay  # noqa: F401 - the card page, as a fixture
from borough.places.models import Property
from borough.residents.verification.models import Verification
from borough.synth.vehicles import COLUMNS

pytestmark = pytest.mark.django_db

TODAY = services.london_today()
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-0.1, 51.5], [-0.09, 51.5], [-0.09, 51.51], [-0.1, 51.51], [-0.1, 51.5]]],
}
# (registration, fuel, CO2): band G (£140 a year), band M (£350), electric band A (£25).
VEHICLES = (
    ("AB12CDE", "PETROL", "114"),
    ("BG19XYZ", "PETROL", "300"),
    ("EV70ABC", "ELECTRICITY", "0"),
    ("CD34EFG", "PETROL", "114"),
)


def _zone(code: str) -> Zone:
    return Zone.objects.create(
        code=code, name=f"Zone {code}", boundary=SQUARE, min_lon=0, min_lat=0, max_lon=0, max_lat=0
    )


def _home(n: int, zone: Zone | None, postcode: str = "E21 0AA", **extra) -> Property:
    home = Property.objects.create(
        uprn=100090000000 + n,
        street="ALBION ROAD",
        building_number=str(n),
        town="LONDON",
        postcode=postcode,
        latitude=51.505,
        longitude=-0.095,
        is_residential=True,
        classification="RD04",
        **extra,
    )
    if zone is not None:
        PropertyZone.objects.create(property=home, zone=zone)
    return home


@pytest.fixture
def borough(db, settings, tmp_path):
    """Zone A with homes 1, 2 and 3 (E21 0AA); zone B with home 4 (E21 0BB); a car-free home 5
    in zone A (E21 0DD); a vehicles file."""
    a, b = _zone("A"), _zone("B")
    homes = {n: _home(n, a) for n in (1, 2, 3)}
    homes[4] = _home(4, b, "E21 0BB")
    homes[5] = _home(5, a, "E21 0DD", car_free=True)
    path = tmp_path / "vehicles.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for vrm, fuel, co2 in VEHICLES:
            writer.writerow(
                {
                    "registration": vrm,
                    "make": "FORD",
                    "colour": "BLUE",
                    "fuel_type": fuel,
                    "co2_emissions": co2,
                    "engine_capacity": "999",
                    "year_of_manufacture": "2019",
                    "month_of_first_registration": "2019-03",
                    "tax_status": "Taxed",
                    "mot_status": "Valid",
                }
            )
    settings.BOROUGH_VEHICLES_FILE = str(path)
    settings.BOROUGH_VEHICLE_LOOKUP = "local"
    settings.BOROUGH_PAYMENT_PROVIDER = "local"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    reset_vehicle_lookup()
    yield {"A": a, "B": b, "homes": homes}
    reset_vehicle_lookup()


@pytest.fixture
def ada(client, borough):
    user = User.objects.create_resident("ada@example.org")
    client.force_login(user)
    return user


def verification(decision: str = "verified", uprn: int = 100090000001) -> Verification:
    return Verification.objects.create(
        purpose="parking_permit_residency_check",
        requested_at=timezone.now(),
        actor_kind="resident",
        applicant={"uprn": uprn},
        decision=decision,
        resident_id="R1" if decision == "verified" else "",
        match_probability=0.99 if decision == "verified" else 0.1,
        evidence=[
            {
                "dataset_title": "Council tax",
                "valid_from": "2019-04-01",
                "counts_as_proof": decision == "verified",
            }
        ],
        index_linked_at="2026-01-01",
        seconds=0.01,
        review="open" if decision == "refer" else "",
    )


@pytest.fixture
def verifier(monkeypatch):
    """Replace the views' ``verify`` with one deciding ``decisions[0]``; records the calls."""
    calls = []
    decisions = ["verified"]

    def fake(applicant, purpose, **kwargs):
        calls.append((applicant, purpose, kwargs))
        return verification(decisions[0], applicant.uprn)

    monkeypatch.setattr("borough.parking.renew_views.verify", fake)
    monkeypatch.setattr("borough.parking.address_views.verify", fake)
    return {"calls": calls, "decisions": decisions}


def permit_for(
    client,
    pay,
    user,
    *,
    home: Property | None = None,
    vrm: str = "AB12CDE",
    started: dt.date = TODAY,
    verified: bool = True,
    price_pence: int = 14000,
) -> Permit:
    """A 12-month permit paid for through the local card page, issued from ``started``."""
    home = home or Property.objects.get(uprn=100090000001)
    zone = PropertyZone.objects.get(property=home).zone
    from borough.parking.vehicles import get_vehicle_lookup

    application = PermitApplication.objects.create(
        journey=f"j-{vrm}-{PermitApplication.objects.count()}",
        applicant=user,
        permit_type="resident",
        property=home,
        zone=zone,
        first_name="Ada",
        surname="Lovelace",
        date_of_birth=dt.date(1980, 3, 27),
        vrm=vrm,
        vehicle_snapshot=get_vehicle_lookup().lookup(vrm).raw,
        vehicle_found=True,
        duration_months=12,
        price_pence=price_pence,
        verification_reference=verification("verified" if verified else "refer").reference,
        verification_decision="verified" if verified else "refer",
        resident_id="R1",
    )
    payment = start_payment(
        f"permit-application:{application.reference}", price_pence, "Permit", "http://x/"
    )
    pay(payment)
    application.payment_reference = payment.reference
    application.save()
    from borough.payments.services import refresh_payment

    assert refresh_payment(payment).status == "success"
    permit = services.issue_permit(
        application.pk,
        verified=verified,
        unverified_policy="issue_then_proof",
        proof_days=30,
        max_per_household=2,
        today=started,
    ).permit
    assert permit is not None
    return permit


def paid_through_card_page(client, pay, response):
    """Follow "Pay" to the local card page, pay, and come back: the return page's response."""
    assert response.status_code == 302, response.content.decode()[:500]
    payment = Payment.objects.get(next_url=response["Location"])
    client.get(payment.next_url)
    back = pay(payment)
    assert back.status_code == 302
    return client.get(back["Location"])


def actions(permit: Permit) -> list[str]:
    return list(PermitEvent.objects.filter(permit=permit).values_list("action", flat=True))


# -- only the holder --------------------------------------------------------------------------


def test_another_residents_permit_is_not_found_on_every_manage_page(client, borough, pay):
    owner = User.objects.create_resident("owner@example.org")
    permit = permit_for(client, pay, owner)
    client.force_login(User.objects.create_resident("eve@example.org"))
    for page in (
        "cancel",
        "vehicle",
        "vehicle/confirm",
        "vehicle/check",
        "renew",
        "renew/you",
        "renew/duration",
        "renew/check",
        "proof",
        "record-wrong",
        "move",
        "move/address?postcode=E21+0AA",
        "move/check",
    ):
        assert client.get(f"/parking/permits/{permit.number}/{page}").status_code == 404, page
    assert client.post(f"/parking/permits/{permit.number}/cancel").status_code == 404
    permit.refresh_from_db()
    assert permit.status == Permit.Status.ACTIVE


def test_the_permit_page_links_to_each_thing_the_holder_can_do(client, ada, pay):
    permit = permit_for(client, pay, ada)
    page = client.get(f"/parking/permits/{permit.number}").content.decode()
    for link in ("cancel", "vehicle", "move", "record-wrong"):
        assert f"/parking/permits/{permit.number}/{link}" in page, link
    assert "This record is wrong" in page
    assert f"/parking/permits/{permit.number}/proof" not in page  # not waiting for proof
    # renewal opens 42 days before the permit ends: until then, when it opens, and no link
    assert f"/parking/permits/{permit.number}/renew" not in page
    opens = permit.ends_on - dt.timedelta(days=42)
    assert f"You can renew it from {date_in_words(opens)}" in page


def test_renew_is_offered_once_renewal_is_open(client, ada, pay):
    permit = permit_for(client, pay, ada, started=add_months(TODAY, -11))
    page = client.get(f"/parking/permits/{permit.number}").content.decode()
    assert f"/parking/permits/{permit.number}/renew" in page
    assert "You can renew it from" not in page


def test_a_cancelled_permit_says_when_it_was_cancelled_not_valid_until(client, ada, pay):
    permit = permit_for(client, pay, ada)
    client.post(f"/parking/permits/{permit.number}/cancel")
    page = client.get(f"/parking/permits/{permit.number}").content.decode()
    assert "Valid until" not in page
    assert "Cancelled on" in page
    assert date_in_words(TODAY) in page
    listing = client.get("/parking/permits").content.decode()
    assert "Valid until" not in listing
    assert f"Cancelled on {date_in_words(TODAY)}" in listing


# -- cancel ---------------------------------------------------------------------------------


def test_cancelling_shows_the_refund_then_refunds_once(client, ada, pay, mailoutbox):
    # Two months in: 10 of 12 months unused, worth £116.67; less the £20 admin fee.
    permit = permit_for(client, pay, ada, started=add_months(TODAY, -2))
    page = client.get(f"/parking/permits/{permit.number}/cancel").content.decode()
    assert "10 months were unused, worth £116.67" in page
    assert "We will refund £96.67" in page

    assert client.post(f"/parking/permits/{permit.number}/cancel")["Location"] == (
        f"/parking/permits/{permit.number}"
    )
    permit.refresh_from_db()
    assert permit.status == Permit.Status.CANCELLED
    assert permit.refunded_pence == 9667
    assert permit.cancel_reason == "Cancelled by the resident"
    assert Refund.objects.get().amount_pence == 9667
    # what happened, on the next page and by email: the refund and when it arrives
    arrives = date_in_words(notices.add_working_days(TODAY, 5))
    told = client.get(f"/parking/permits/{permit.number}").content.decode()
    assert f"Permit {permit.number} is cancelled" in told
    assert (
        f"We have refunded £96.67 to the card you paid with. It will reach your account by {arrives}."
        in told
    )
    [email] = mailoutbox
    assert email.subject == f"Your parking permit {permit.number} is cancelled"
    assert "We have refunded £96.67" in email.body and arrives in email.body
    assert "AB12 CDE" in email.body

    again = client.post(f"/parking/permits/{permit.number}/cancel")
    assert again.status_code == 302
    permit.refresh_from_db()
    assert permit.refunded_pence == 9667
    assert Refund.objects.count() == 1
    assert actions(permit).count("cancelled") == 1
    assert (
        "Manage your permit" not in client.get(f"/parking/permits/{permit.number}").content.decode()
    )


# -- change of vehicle ----------------------------------------------------------------------


def test_a_dearer_vehicle_pays_the_difference_for_the_months_left_and_changes_once(
    client,
    ada,
    pay,
    caplog,
    mailoutbox,
):
    permit = permit_for(client, pay, ada, started=add_months(TODAY, -2))
    base = f"/parking/permits/{permit.number}/vehicle"
    with caplog.at_level(logging.DEBUG):
        assert client.post(base, {"vrm": "bg19 xyz"})["Location"] == f"{base}/confirm"
        confirm = client.get(f"{base}/confirm").content.decode()
        assert "BG19 XYZ" in confirm and "300 g/km" in confirm
        assert client.post(f"{base}/confirm", {"confirm": "yes"})["Location"] == f"{base}/check"
        check = client.get(f"{base}/check").content.decode()
        # band M £350 against band G £140 a year: £210 for 12 months, 10 months left: £175
        assert "£350" in check and "£140" in check
        assert "for the 10 months your permit has left: £175" in check
        assert "Pay £175" in check
        back = paid_through_card_page(client, pay, client.post(f"{base}/check"))
        assert back["Location"] == f"/parking/permits/{permit.number}"
        change = VehicleChange.objects.get()
        assert client.get(f"/parking/vehicle-changes/{change.reference}/paid").status_code == 302
    # told once, on the permit's page and by email, however often the return page is opened
    told = client.get(f"/parking/permits/{permit.number}").content.decode()
    assert "Vehicle changed" in told
    assert f"Permit {permit.number} is now for BG19 XYZ. It no longer covers AB12 CDE." in told
    assert "You paid £175." in told
    [email] = [m for m in mailoutbox if "vehicle changed" in m.subject]
    assert "now for BG19 XYZ" in email.body and "You paid £175 for the change." in email.body
    permit.refresh_from_db()
    assert permit.vrm == "BG19XYZ"
    assert (
        Payment.objects.get(purpose_key=f"permit-vehicle-change:{change.reference}").amount_pence
        == 17500
    )
    assert actions(permit).count("vehicle_changed") == 1
    event = PermitEvent.objects.get(action="vehicle_changed")
    # an officer reads the history: registrations as written, money in pounds
    assert event.detail.startswith("AB12 CDE to BG19 XYZ; paid £175 ")
    assert event.actor == ada
    assert "AB12CDE" not in caplog.text and "BG19XYZ" not in caplog.text
    assert enforcement.check_vehicle(
        "BG19XYZ", permit.zone, actor_kind="system", actor_label="t"
    ).allowed
    assert not enforcement.check_vehicle(
        "AB12CDE", permit.zone, actor_kind="system", actor_label="t"
    ).allowed


def test_a_cheaper_vehicle_changes_at_once_with_nothing_to_pay(client, ada, pay, mailoutbox):
    permit = permit_for(client, pay, ada)
    base = f"/parking/permits/{permit.number}/vehicle"
    client.post(base, {"vrm": "EV70ABC"})
    client.post(f"{base}/confirm", {"confirm": "yes"})
    check = client.get(f"{base}/check").content.decode()
    assert "nothing to pay. We do not refund the difference" in check
    assert "Change vehicle" in check
    assert client.post(f"{base}/check")["Location"] == f"/parking/permits/{permit.number}"
    permit.refresh_from_db()
    assert permit.vrm == "EV70ABC"
    assert Payment.objects.filter(purpose_key__startswith="permit-vehicle-change").count() == 0
    assert VehicleChange.objects.get().status == VehicleChange.Status.APPLIED
    told = client.get(f"/parking/permits/{permit.number}").content.decode()
    assert "is now for EV70 ABC" in told and "There was nothing to pay." in told
    assert [m.subject for m in mailoutbox] == [
        f"Your parking permit {permit.number}: vehicle changed"
    ]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter your vehicle registration number, like AB12 CDE"),
        ("ER19NFD", "We cannot find a vehicle with that registration number"),
        ("AA19SRN", "DVLA records show this vehicle is not taxed (SORN)"),
        ("ER19MNT", "we cannot check vehicles at the moment"),
        ("AB12CDE", "This vehicle is already on your permit"),
        ("CD34EFG", "This vehicle already has a resident permit. A vehicle can only have one"),
    ],
)
def test_a_vehicle_the_permit_cannot_move_to_gets_a_clear_message(
    client,
    ada,
    pay,
    typed,
    message,
):
    permit_for(client, pay, User.objects.create_resident("bo@example.org"), vrm="CD34EFG")
    permit = permit_for(client, pay, ada)
    page = client.post(f"/parking/permits/{permit.number}/vehicle", {"vrm": typed})
    assert page.status_code == 200
    assert message in page.content.decode()
    permit.refresh_from_db()
    assert permit.vrm == "AB12CDE"


def test_a_vehicle_taken_while_the_resident_paid_is_refunded_not_changed(client, ada, pay):
    permit = permit_for(client, pay, ada)
    base = f"/parking/permits/{permit.number}/vehicle"
    client.post(base, {"vrm": "BG19XYZ"})
    client.post(f"{base}/confirm", {"confirm": "yes"})
    to_card = client.post(f"{base}/check")
    # meanwhile someone else gets a permit for that vehicle
    permit_for(
        client,
        pay,
        User.objects.create_resident("bo@example.org"),
        vrm="BG19XYZ",
        home=Property.objects.get(uprn=100090000002),
    )
    page = paid_through_card_page(client, pay, to_card)
    assert "We could not change the vehicle" in page.content.decode()
    change = VehicleChange.objects.get()
    assert change.status == VehicleChange.Status.REFUSED
    assert Refund.objects.get(payment__reference=change.payment_reference).amount_pence == (
        change.charge_pence
    )
    permit.refresh_from_db()
    assert permit.vrm == "AB12CDE"


# -- renew ----------------------------------------------------------------------------------


def test_renewal_outside_the_window_says_when_it_opens(client, ada, pay):
    permit = permit_for(client, pay, ada)
    page = client.get(f"/parking/permits/{permit.number}/renew").content.decode()
    opens = permit.ends_on - dt.timedelta(days=42)
    assert f"You can renew it from {opens:%-d %B %Y}" in page
    assert client.get(f"/parking/permits/{permit.number}/renew/you").status_code == 200
    assert "You cannot renew this permit yet" in (
        client.get(f"/parking/permits/{permit.number}/renew/you").content.decode()
    )


def _ending_soon(permit: Permit, days: int = 10) -> Permit:
    ends = TODAY + dt.timedelta(days=days)
    Permit.objects.filter(pk=permit.pk).update(
        starts_on=add_months(ends + dt.timedelta(days=1), -12), ends_on=ends
    )
    permit.refresh_from_db()
    return permit


def test_a_renewal_starts_the_day_after_and_enforcement_sees_it_from_then(
    client,
    ada,
    pay,
    verifier,
):
    old = _ending_soon(permit_for(client, pay, ada))
    base = f"/parking/permits/{old.number}/renew"
    start = client.get(base).content.decode()
    starts = old.ends_on + dt.timedelta(days=1)
    assert f"starts the next day, <strong>{starts:%-d %B %Y}" in start
    who = client.post(
        f"{base}/you",
        {
            "first_name": "Ada",
            "surname": "Lovelace",
            "dob_day": "27",
            "dob_month": "3",
            "dob_year": "1980",
        },
    )
    assert who["Location"] == f"{base}/duration"
    applicant, purpose, kwargs = verifier["calls"][0]
    assert (applicant.uprn, purpose, kwargs["actor"]) == (
        100090000001,
        "parking_permit_residency_check",
        ada,
    )
    assert "12 months: £140" in client.get(f"{base}/duration").content.decode()
    assert client.post(f"{base}/duration", {"months": "6"})["Location"] == f"{base}/check"
    assert "Pay £70" in client.get(f"{base}/check").content.decode()
    first = client.post(f"{base}/check")
    assert client.post(f"{base}/check")["Location"] == first["Location"]  # one payment
    done = paid_through_card_page(client, pay, first)
    renewal = Permit.objects.exclude(pk=old.pk).get()
    assert done["Location"] == f"/parking/permits/{renewal.number}"
    assert renewal.application.renews == old
    assert (renewal.starts_on, renewal.vrm) == (starts, "AB12CDE")
    assert renewal.ends_on == add_months(starts, 6) - dt.timedelta(days=1)
    assert renewal.status == Permit.Status.SCHEDULED
    assert renewal.paid_pence == 7000
    # returning to the payment page's return URL again issues nothing more
    client.get(f"/parking/renewals/{renewal.application.reference}/paid")
    assert Permit.objects.count() == 2

    zone = old.zone

    def check(day):
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
        return enforcement.check_vehicle(
            "AB12CDE", zone, actor_kind="system", actor_label="t", at=at
        )

    assert check(old.ends_on).valid_until == old.ends_on.isoformat()
    assert check(starts).valid_until == renewal.ends_on.isoformat()  # before any hand-over
    assert "You have already renewed this permit" in client.get(base).content.decode()

    assert permit_changes.start_renewed_permits(today=starts) == [renewal.number]
    assert permit_changes.start_renewed_permits(today=starts) == []
    old.refresh_from_db()
    renewal.refresh_from_db()
    assert (old.status, renewal.status) == (Permit.Status.ENDED, Permit.Status.ACTIVE)
    assert check(starts).valid_until == renewal.ends_on.isoformat()


def _renew_to_check(client, old: Permit) -> str:
    """Through the renewal's who-you-are and length pages, to "Check your renewal": its base."""
    base = f"/parking/permits/{old.number}/renew"
    client.get(base)
    client.post(
        f"{base}/you",
        {
            "first_name": "Ada",
            "surname": "Lovelace",
            "dob_day": "27",
            "dob_month": "3",
            "dob_year": "1980",
        },
    )
    client.post(f"{base}/duration", {"months": "12"})
    return base


def test_a_renewal_whose_address_is_not_confirmed_needs_proof_once_it_starts(
    client,
    ada,
    pay,
    verifier,
):
    verifier["decisions"][0] = "refer"
    old = _ending_soon(permit_for(client, pay, ada))
    base = _renew_to_check(client, old)
    assert "send proof of address within 30 days" in client.get(f"{base}/check").content.decode()
    paid_through_card_page(client, pay, client.post(f"{base}/check"))
    renewal = Permit.objects.exclude(pk=old.pk).get()
    assert renewal.proof_due_on == renewal.starts_on + dt.timedelta(days=30)
    permit_changes.hand_over_renewal(renewal.pk, today=renewal.starts_on)
    renewal.refresh_from_db()
    assert renewal.status == Permit.Status.PROOF_NEEDED


def test_a_renewal_by_someone_the_records_do_not_know_waits_for_an_officer(
    client, ada, pay, verifier
):
    verifier["decisions"][0] = "not_found"
    old = _ending_soon(permit_for(client, pay, ada))
    base = _renew_to_check(client, old)
    assert "an officer will check your renewal" in client.get(f"{base}/check").content.decode()
    page = paid_through_card_page(client, pay, client.post(f"{base}/check"))
    assert not Permit.objects.exclude(pk=old.pk).exists()
    assert PermitApplication.objects.filter(
        renews=old, status=PermitApplication.Status.NEEDS_OFFICER
    ).exists(), page


def test_cancelling_a_renewed_permit_cancels_its_renewal_too(client, ada, pay, verifier):
    old = _ending_soon(permit_for(client, pay, ada))
    base = _renew_to_check(client, old)
    paid_through_card_page(client, pay, client.post(f"{base}/check"))
    renewal = Permit.objects.exclude(pk=old.pk).get()
    assert (
        "is cancelled too" in client.get(f"/parking/permits/{old.number}/cancel").content.decode()
    )
    client.post(f"/parking/permits/{old.number}/cancel")
    renewal.refresh_from_db()
    assert renewal.status == Permit.Status.CANCELLED
    assert renewal.refunded_pence == 14000 - 2000  # all 12 months unused, less the admin fee


# -- proof ----------------------------------------------------------------------------------

PNG = image("PNG")
PDF = pdf()


def _upload(name: str, content: bytes, content_type: str = "application/pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "council_tax_bill"}, "Select a file"),
        (
            {"kind": "council_tax_bill", "file": ("bill.pdf", b"just text, not a PDF")},
            "The selected file must be a PDF, JPG or PNG",
        ),
        (
            {"kind": "council_tax_bill", "file": ("big.pdf", b"%PDF-" + b"x" * (10 * 1024 * 1024))},
            "The selected file must be smaller than 10MB",
        ),
        ({"file": ("bill.pdf", PDF)}, "Select what the document is"),
        # What today's first-bytes check took: a PDF header or an image's signature is not
        # enough; the whole file is opened by pypdf or Pillow.
        (
            {"kind": "council_tax_bill", "file": ("bill.pdf", b"%PDF-1.7\n" + b"x" * 100)},
            "The selected file is damaged or incomplete",
        ),
        (
            {"kind": "council_tax_bill", "file": ("bill.pdf", PDF[: len(PDF) // 2])},
            "The selected file is damaged or incomplete",
        ),
        (
            {"kind": "utility_bill", "file": ("bill.pdf", PDF + a_zip())},
            "The selected file has something else joined to it",
        ),
        (
            {"kind": "utility_bill", "file": ("photo.png", PNG + a_zip())},
            "The selected file has something else joined to it",
        ),
        (
            {"kind": "utility_bill", "file": ("photo.png", png_bomb(20_000, 20_000))},
            "The selected image is too large",
        ),
        (
            {"kind": "v5c", "file": ("v5c.pdf", Path("/bin/true").read_bytes())},
            "The selected file must be a PDF, JPG or PNG",
        ),
    ],
    ids=[
        "no-file",
        "text",
        "too-big",
        "no-kind",
        "pdf-header-only",
        "truncated-pdf",
        "pdf-zip-polyglot",
        "png-zip-polyglot",
        "image-bomb",
        "renamed-executable",
    ],
)
def test_proof_that_cannot_be_taken_gets_a_govuk_message(client, ada, pay, data, message):
    permit = permit_for(client, pay, ada, verified=False)
    if "file" in data:
        data = {**data, "file": _upload(*data["file"])}
    page = client.post(f"/parking/permits/{permit.number}/proof", data)
    assert page.status_code == 200
    assert message in page.content.decode()
    assert ProofUpload.objects.count() == 0


def test_proof_is_kept_by_its_content_for_an_officer_to_download(
    client,
    ada,
    pay,
    make_staff,
    sign_in_staff,
):
    permit = permit_for(client, pay, ada, verified=False)
    assert f"/parking/permits/{permit.number}/proof" in (
        client.get(f"/parking/permits/{permit.number}").content.decode()
    )
    sent = client.post(
        f"/parking/permits/{permit.number}/proof",
        {"kind": "utility_bill", "file": _upload("Ada Lovelace gas bill.pdf", PNG)},
    )
    assert sent["Location"] == f"/parking/permits/{permit.number}/proof/sent"
    proof = ProofUpload.objects.get()
    assert (proof.kind, proof.content_type, proof.size_bytes) == (
        "utility_bill",
        "image/png",
        len(PNG),
    )
    assert proof.file.name.endswith(".png") and "Lovelace" not in proof.file.name
    assert actions(permit)[-1] == "proof_uploaded"

    assert client.get(f"/staff/parking/proofs/{proof.pk}").status_code == 403  # a resident
    sign_in_staff(client, make_staff("Parking officer"))
    staff_page = client.get(f"/staff/parking/permits/{permit.number}").content.decode()
    assert f"/staff/parking/proofs/{proof.pk}" in staff_page
    download = client.get(f"/staff/parking/proofs/{proof.pk}")
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert "attachment" in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == PNG
    sign_in_staff(client, make_staff("Housing officer", username="h"))
    assert client.get(f"/staff/parking/proofs/{proof.pk}").status_code == 403


def _proof_limits(settings, **limits) -> None:
    parking = settings.COUNCIL.parking.model_copy(update=limits)
    settings.COUNCIL = settings.COUNCIL.model_copy(update={"parking": parking})


def test_the_proof_page_states_the_limits(client, ada, pay, settings):
    _proof_limits(settings, proof_max_files=3, proof_max_file_mb=4, proof_max_total_mb=6)
    permit = permit_for(client, pay, ada, verified=False)
    page = client.get(f"/parking/permits/{permit.number}/proof").content.decode()
    assert "You can send up to 3 documents for this permit, 6MB in total" in page
    assert "Each must be a PDF, JPG or PNG smaller than 4MB" in page


def test_a_permit_takes_no_more_documents_than_the_profile_allows(client, ada, pay, settings):
    _proof_limits(settings, proof_max_files=2)
    permit = permit_for(client, pay, ada, verified=False)
    url = f"/parking/permits/{permit.number}/proof"
    for _ in range(2):
        sent = client.post(url, {"kind": "utility_bill", "file": _upload("bill.pdf", PDF)})
        assert sent.status_code == 302
    page = client.get(url).content.decode()
    assert "You have sent as many documents as we can take" in page and "<form" not in page
    refused = client.post(url, {"kind": "utility_bill", "file": _upload("bill.pdf", PDF)})
    assert "You have already sent 2 documents for this permit" in refused.content.decode()
    assert ProofUpload.objects.count() == 2
    # A document the officer refused does not count against the resident.
    ProofUpload.objects.filter(pk=ProofUpload.objects.first().pk).update(decision="rejected")
    assert client.post(url, {"kind": "v5c", "file": _upload("v5c.pdf", PDF)}).status_code == 302


def test_a_permit_takes_no_more_than_the_profiles_total_size(client, ada, pay, settings):
    _proof_limits(settings, proof_max_file_mb=1, proof_max_total_mb=1)
    permit = permit_for(client, pay, ada, verified=False)
    url = f"/parking/permits/{permit.number}/proof"
    photo, big = noisy_png(450, 450, seed=1), noisy_png(450, 450, seed=2)  # ~600KB each
    assert len(photo) < 1024 * 1024 < len(photo) + len(big) and len(big) < 1024 * 1024
    assert (
        client.post(url, {"kind": "utility_bill", "file": _upload("a.png", photo)}).status_code
        == 302
    )
    refused = client.post(url, {"kind": "utility_bill", "file": _upload("b.png", big)})
    assert "all of them together must be smaller than 1MB" in refused.content.decode()
    assert ProofUpload.objects.count() == 1


def test_the_service_holds_the_limits_whatever_the_page_did(client, ada, pay, settings):
    """Two uploads at once both pass the form's check; the service counts again under the
    permit's lock."""
    from django.core.files.base import ContentFile

    _proof_limits(settings, proof_max_files=1)
    permit = permit_for(client, pay, ada, verified=False)
    permit_changes.add_proof(
        permit.pk, actor=ada, kind="v5c", file=ContentFile(PDF, "a.pdf"), content_type="x"
    )
    with pytest.raises(services.PermitRuleError) as caught:
        permit_changes.add_proof(
            permit.pk, actor=ada, kind="v5c", file=ContentFile(PDF, "b.pdf"), content_type="x"
        )
    assert caught.value.code == "proof_limit"


def test_an_active_permit_takes_no_proof(client, ada, pay):
    permit = permit_for(client, pay, ada)
    page = client.post(
        f"/parking/permits/{permit.number}/proof",
        {"kind": "utility_bill", "file": _upload("bill.pdf", PDF)},
    )
    assert "This permit does not need proof" in page.content.decode()
    assert ProofUpload.objects.count() == 0


# -- the record is wrong --------------------------------------------------------------------


def test_saying_the_record_is_wrong_reaches_the_officers_queue_and_no_log(
    client,
    ada,
    pay,
    make_staff,
    caplog,
    sign_in_staff,
):
    permit = permit_for(client, pay, ada)
    url = f"/parking/permits/{permit.number}/record-wrong"
    form = client.get(url).content.decode()
    assert "council tax" in form
    assert (
        "Enter what is wrong with the record" in client.post(url, {"message": " "}).content.decode()
    )
    too_long = client.post(url, {"message": "x" * 501}).content.decode()
    assert "What is wrong must be 500 characters or fewer" in too_long
    with caplog.at_level(logging.DEBUG):
        sent = client.post(url, {"message": "I moved in 2021, not 2019"})
    assert sent["Location"] == f"{url}/sent"
    assert "We will check the record" in client.get(sent["Location"]).content.decode()
    dispute = RecordDispute.objects.get()
    assert dispute.verification_reference == permit.application.verification_reference
    assert dispute.resolved_at is None
    assert "I moved in 2021" not in caplog.text
    assert "I moved in 2021" not in PermitEvent.objects.get(action="record_disputed").detail
    sign_in_staff(client, make_staff("Parking officer"))
    queue = client.get("/staff/parking/applications").content.decode()
    assert "Records residents say are wrong (1)" in queue
    assert "I moved in 2021, not 2019" in queue and permit.number in queue


def test_with_no_confirming_record_there_is_nothing_to_say_is_wrong(client, ada, pay):
    permit = permit_for(client, pay, ada, verified=False)
    assert client.get(f"/parking/permits/{permit.number}/record-wrong").status_code == 404


# -- change of address ----------------------------------------------------------------------


def _choose_new_home(client, permit: Permit, uprn: int, postcode: str = "E21 0AA"):
    base = f"/parking/permits/{permit.number}/move"
    found = client.get(base, {"postcode": postcode})
    assert found.status_code == 302
    chosen = client.post(found["Location"], {"uprn": str(uprn)})
    assert chosen["Location"] == f"{base}/check"
    return client.get(f"{base}/check").content.decode()


def test_a_move_in_the_same_zone_moves_the_permit_after_checking_the_records(
    client,
    ada,
    pay,
    verifier,
):
    permit = permit_for(client, pay, ada)
    page = _choose_new_home(client, permit, 100090000002)
    assert "so your permit moves there" in page
    assert client.post(f"/parking/permits/{permit.number}/move/check")["Location"] == (
        f"/parking/permits/{permit.number}"
    )
    permit.refresh_from_db()
    assert (permit.property_id, permit.status) == (100090000002, Permit.Status.ACTIVE)
    assert verifier["calls"][0][0].uprn == 100090000002
    assert permit.verification_reference == Verification.objects.latest("pk").reference
    assert actions(permit)[-1] == "address_changed"
    page = client.get(f"/parking/permits/{permit.number}").content.decode()
    assert "we confirmed your new address" in page


def test_a_move_the_records_cannot_confirm_needs_proof(client, ada, pay, verifier):
    verifier["decisions"][0] = "not_found"
    permit = permit_for(client, pay, ada)
    _choose_new_home(client, permit, 100090000002)
    client.post(f"/parking/permits/{permit.number}/move/check")
    permit.refresh_from_db()
    assert permit.status == Permit.Status.PROOF_NEEDED
    assert permit.proof_due_on == TODAY + dt.timedelta(days=30)


def test_a_move_to_a_full_household_is_refused(client, ada, pay, verifier):
    new_home = Property.objects.get(uprn=100090000002)
    for n, vrm in enumerate(("CD34EFG", "EV70ABC")):
        permit_for(
            client, pay, User.objects.create_resident(f"n{n}@example.org"), vrm=vrm, home=new_home
        )
    permit = permit_for(client, pay, ada)
    _choose_new_home(client, permit, 100090000002)
    page = client.post(f"/parking/permits/{permit.number}/move/check").content.decode()
    assert "Your new address already has 2 resident permits" in page
    permit.refresh_from_db()
    assert permit.property_id == 100090000001


@pytest.mark.parametrize(
    ("uprn", "postcode", "says"),
    [
        (100090000004, "E21 0BB", "You can apply for a permit there now"),
        (100090000005, "E21 0DD", "car-free"),
    ],
)
def test_a_move_to_another_zone_or_an_ineligible_home_cancels_with_a_refund(
    client,
    ada,
    pay,
    verifier,
    uprn,
    postcode,
    says,
):
    permit = permit_for(client, pay, ada)
    page = _choose_new_home(client, permit, uprn, postcode)
    assert "we will cancel this permit" in page.lower()
    done = client.post(f"/parking/permits/{permit.number}/move/check")
    assert done["Location"] == f"/parking/permits/{permit.number}/move/done"
    assert says in client.get(done["Location"]).content.decode()
    permit.refresh_from_db()
    assert permit.status == Permit.Status.CANCELLED
    assert permit.refunded_pence == 14000 - 2000
    assert verifier["calls"] == []
