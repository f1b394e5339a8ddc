"""The staff pages of the verification service: "Check a resident's details", a verification's
page with its evidence, and the queue of referred verifications with the officer's decision.

The synthetic borough is loaded and linked once for the module (as ``test_service_and_api.py``).
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.urls import reverse

from borough.places.models import Property
from borough.residents.models import SourceDataset
from borough.residents.verification.engine import Applicant
from borough.residents.verification.models import Verification
from borough.residents.verification.policies import SHIPPED
from borough.residents.verification.service import HOLDER, verify
from borough.transparency.queries import events

pytestmark = pytest.mark.django_db

PURPOSE = "parking_permit_residency_check"
OFFICER = "Resident data officer"
CHECK = "/staff/residents/verifications/check"
QUEUE = "/staff/residents/verifications/referred"


@pytest.fixture
def officer(client, make_staff, sign_in_staff):
    user = make_staff(OFFICER)
    sign_in_staff(client, user)
    return user


def _form(person, **changes) -> dict:
    born = dt.date.fromisoformat(person["date_of_birth"])
    data = {
        "purpose": PURPOSE,
        "reason": "service_application",
        "case_reference": "PP-2026-000123",
        "first_name": person["first_name"],
        "middle_names": person["middle_names"],
        "surname": person["surname"],
        "dob_day": str(born.day),
        "dob_month": str(born.month),
        "dob_year": str(born.year),
        "postcode": Property.objects.get(uprn=int(person["current_uprn"])).postcode,
        "uprn": "",
        "email": "",
    }
    data.update(changes)
    return data


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _referral(synth) -> Verification:
    """A check at an address where the resident has no record: referred to an officer."""
    person = synth.adults_at_home(1)[0]
    other = next(
        int(r["UPRN"])
        for r in synth.rows("council_tax")
        if r["UPRN"] and int(r["UPRN"]) != int(person["current_uprn"])
    )
    v = verify(
        Applicant(
            first_name=person["first_name"],
            middle_names=person["middle_names"],
            surname=person["surname"],
            date_of_birth=dt.date.fromisoformat(person["date_of_birth"]),
            uprn=other,
        ),
        PURPOSE,
        actor_label="Parking permits service",
    )
    assert v.decision == "refer" and v.review == "open"
    return v


# -- the form --------------------------------------------------------------------------------


def test_the_form_shows_the_purposes_and_the_fields(linked, officer, client):
    page = _text(client.get(CHECK))
    assert "Check a resident's details" in page
    assert "Lives at the address (parking permit)" in page
    assert "Tenant of the home (rent account)" in page
    for name in ("first_name", "middle_names", "surname", "dob_day", "postcode", "uprn", "email"):
        assert f'name="{name}"' in page


def test_missing_details_have_an_error_each_and_a_summary(linked, officer, client):
    response = client.post(CHECK, {"first_name": " ", "surname": ""})
    assert response.status_code == 200
    page = _text(response)
    assert "There is a problem" in page
    assert "<title>Error:" in page
    for message, anchor in [
        ("Select what the check is for", "#id_purpose_0"),
        ("Select why you are checking these details", "#id_reason_0"),
        ("Enter a first name", "#id_first_name"),
        ("Enter a surname", "#id_surname"),
        ("Enter the applicant's postcode", "#id_postcode"),
    ]:
        assert message in page
        assert f'href="{anchor}"' in page
    assert not Verification.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message", "anchor"),
    [
        (
            {"dob_day": "30", "dob_month": "2", "dob_year": "1980"},
            "Date of birth must be a real date",
            "id_dob_day",
        ),
        (
            {"dob_day": "3", "dob_month": "", "dob_year": "1980"},
            "Date of birth must include a month",
            "id_dob_month",
        ),
        (
            {"dob_day": "3", "dob_month": "2", "dob_year": "2999"},
            "Date of birth must be in the past",
            "id_dob_day",
        ),
        ({"postcode": "NOT A CODE"}, "Enter a real postcode, like E8 1DY", "id_postcode"),
        ({"uprn": "12ab"}, "A UPRN is a whole number of up to 12 digits", "id_uprn"),
        ({"uprn": "999999999999"}, "Enter a UPRN that is in the council's gazetteer", "id_uprn"),
        ({"email": "not-an-email"}, "Enter an email address in the correct format", "id_email"),
        ({"surname": "!!"}, "Enter a surname using letters", "id_surname"),
        (
            {"case_reference": "Ada Lovelace"},
            "Enter the case reference using only letters, numbers",
            "id_case_reference",
        ),
        (
            {"case_reference": "X" * 41},
            "Case reference must be 40 characters or fewer",
            "id_case_reference",
        ),
    ],
)
def test_bad_details_are_shown_by_their_field(
    linked, officer, client, synth, changes, message, anchor
):
    person = synth.adults_at_home(1)[0]
    response = client.post(CHECK, _form(person, **changes))
    assert response.status_code == 200
    page = _text(response)
    assert message in page
    assert f'href="#{anchor}"' in page
    # the field's own error message sits with the field
    assert page.count(message) >= 2
    assert not Verification.objects.exists()
    assert not _recorded_since_the_link()


# -- a check, start to finish ------------------------------------------------------------------


def test_a_check_chooses_the_address_and_ends_on_the_verification(linked, officer, client, synth):
    person = synth.adults_at_home(1)[0]
    uprn = int(person["current_uprn"])
    data = _form(person)

    # the postcode first: the addresses there, from the gazetteer
    response = client.post(CHECK, data)
    assert response.status_code == 200
    page = _text(response)
    assert "Select the applicant's address" in page
    assert f'value="{uprn}"' in page
    assert "The address is not in the list" in page
    assert not Verification.objects.exists()

    # "Change the details" keeps what was entered
    page = _text(client.post(CHECK, {**data, "step": "address", "change": "1"}))
    assert "Check a resident's details" in page and f'value="{data["surname"]}"' in page

    # no address chosen
    page = _text(client.post(CHECK, {**data, "step": "address"}))
    assert "Select the applicant's address" in page and 'href="#id_address' in page

    response = client.post(CHECK, {**data, "step": "address", "address": str(uprn)})
    assert response.status_code == 302
    v = Verification.objects.get()
    assert response["Location"] == reverse(
        "residents:verification", kwargs={"reference": v.reference}
    )
    assert v.decision == "verified" and v.applicant["uprn"] == uprn
    assert v.actor_user == officer and v.actor_kind == "staff"

    page = _text(client.get(response["Location"]))
    assert f"Verification {v.reference}" in page
    assert "govuk-tag--green" in page and "Verified" in page
    assert f'href="/staff/residents/records/{v.resident_id}"' in page
    assert re.search(r"\d+(\.\d\d)?%", page)
    for reason in v.reasons:
        assert reason in page
    proof = next(e for e in v.evidence if e["counts_as_proof"])
    assert SourceDataset.objects.get(code=proof["dataset"]).title in page
    assert proof["record_reference"] in page
    assert "Agrees" in page
    # the officer's role may see the records' values: shown, and that view recorded
    assert person["surname"] in page
    assert "The details given" in page

    # the officer's reason and case reference, on the page and in the data-use log
    assert "Reason given" in page and "Checking a service application" in page
    assert "Case reference" in page and "PP-2026-000123" in page
    assert v.caller_reference == "PP-2026-000123"
    checked = events(purpose=PURPOSE).get(reference=v.reference)
    assert checked.actor_label == (
        "Council officer: checking a service application (case PP-2026-000123)"
    )
    assert checked.action == "verification" and checked.actor_kind == "staff"
    assert checked.actor_user == officer and checked.outcome == "verified"
    assert checked.subject_resident_id == v.resident_id
    viewed = events(purpose="staff_view_records").get(reference=v.reference)
    assert viewed.action == "viewed_records" and viewed.service == "residents"
    assert viewed.actor_user == officer and viewed.subject_resident_id == v.resident_id
    assert proof["dataset"] in viewed.datasets_read
    # each view of the values is recorded
    client.get(response["Location"])
    assert events(purpose="staff_view_records").filter(reference=v.reference).count() == 2


def test_a_uprn_skips_the_address_choice(linked, officer, client, synth):
    person = synth.adults_at_home(1)[0]
    response = client.post(CHECK, _form(person, postcode="", uprn=person["current_uprn"]))
    assert response.status_code == 302
    assert Verification.objects.get().decision == "verified"


def test_someone_not_in_the_records_is_not_found(linked, officer, client, synth):
    person = synth.adults_at_home(1)[0]
    data = _form(
        person, first_name="Peregrine", surname="Quixlewhistle", uprn=person["current_uprn"]
    )
    response = client.post(CHECK, data, follow=True)
    page = _text(response)
    assert "Not found" in page and "govuk-tag--grey" in page
    assert "No resident matched" in page
    v = Verification.objects.get()
    assert v.decision == "not_found"
    # nothing to show, so no view of records is recorded
    assert not events(purpose="staff_view_records").exists()


def test_an_officer_whose_role_may_not_see_fields_gets_no_values_and_no_view_event(
    linked, officer, client, synth, tmp_path, monkeypatch
):
    person = synth.adults_at_home(1)[0]
    v = verify(
        Applicant(
            first_name=person["first_name"],
            surname=person["surname"],
            date_of_birth=dt.date.fromisoformat(person["date_of_birth"]),
            uprn=int(person["current_uprn"]),
        ),
        PURPOSE,
    )
    assert v.evidence
    narrow = tmp_path / "policies.toml"
    narrow.write_text(
        SHIPPED.read_text(encoding="utf-8").replace(
            'roles_see_fields = ["Resident data officer", "Parking officer"]',
            'roles_see_fields = ["Parking officer"]',
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("BOROUGH_VERIFICATION_POLICIES", str(narrow))
    page = _text(client.get(reverse("residents:verification", kwargs={"reference": v.reference})))
    assert "Your role does not show the records' values" in page
    assert "In the record" not in page
    assert "Agrees" in page  # which fields agreed, still
    assert not events(purpose="staff_view_records").exists()


def test_an_unknown_reference_is_404(linked, officer, client):
    assert client.get("/staff/residents/verifications/V-0000000000").status_code == 404
    assert client.get("/staff/residents/verifications/not-a-reference").status_code == 404


# -- referrals -------------------------------------------------------------------------------


def test_the_queue_lists_open_referrals_without_personal_data(linked, officer, client, synth):
    v = _referral(synth)
    person = synth.adults_at_home(1)[0]
    page = _text(client.get(QUEUE))
    assert "Referred verifications" in page
    assert v.reference in page
    assert "Lives at the address (parking permit)" in page
    assert person["surname"] not in page and person["first_name"] not in page
    assert f'href="/staff/residents/verifications/{v.reference}"' in page
    # browsing the queue is not a use of anyone's records
    assert not events(purpose="staff_view_records").exists()


def test_confirming_a_referral(linked, officer, client, synth):
    v = _referral(synth)
    url = reverse("residents:verification", kwargs={"reference": v.reference})
    page = _text(client.get(url))
    assert "Referred" in page and "govuk-tag--yellow" in page
    assert "Confirm: the applicant is this resident and the proof is enough" in page
    assert "Cannot confirm" in page

    # no choice
    page = _text(client.post(url, {}))
    assert "Select whether you can confirm the check" in page and 'href="#id_outcome_0"' in page

    response = client.post(url, {"outcome": "confirmed", "note": ""})
    assert response.status_code == 302 and response["Location"] == QUEUE
    v.refresh_from_db()
    assert v.review == "confirmed" and v.reviewed_by == officer and v.reviewed_at
    decided = events(purpose=PURPOSE).filter(reference=v.reference, actor_kind="staff").get()
    assert decided.action == "verification" and decided.outcome == "confirmed"
    assert decided.actor_user == officer and decided.subject_resident_id == v.resident_id

    queue = _text(client.get(QUEUE))
    assert f"Decision saved: verification {v.reference} confirmed" in queue
    assert f'href="/staff/residents/verifications/{v.reference}"' not in queue
    assert "There are no referred verifications" in queue

    page = _text(client.get(url))
    assert "Confirmed by an officer" in page and officer.username in page and "Decided on" in page
    assert "Save decision" not in page
    # a second decision is refused
    assert client.post(url, {"outcome": "rejected", "note": "Too late"}).status_code == 409
    v.refresh_from_db()
    assert v.review == "confirmed"


def test_rejecting_a_referral_needs_a_note(linked, officer, client, synth):
    v = _referral(synth)
    url = reverse("residents:verification", kwargs={"reference": v.reference})
    page = _text(client.post(url, {"outcome": "rejected", "note": "  "}))
    assert "Enter why you cannot confirm it" in page and 'href="#id_note"' in page
    page = _text(client.post(url, {"outcome": "rejected", "note": "x" * 501}))
    assert "Note must be 500 characters or fewer" in page
    v.refresh_from_db()
    assert v.review == "open"
    assert not events(purpose=PURPOSE).filter(reference=v.reference, actor_kind="staff").exists()

    response = client.post(url, {"outcome": "rejected", "note": "No proof of address was given."})
    assert response.status_code == 302
    v.refresh_from_db()
    assert v.review == "rejected" and v.review_note == "No proof of address was given."
    decided = events(purpose=PURPOSE).get(reference=v.reference, actor_kind="staff")
    assert decided.outcome == "rejected"
    page = _text(client.get(url))
    assert "Not confirmed by an officer" in page and "No proof of address was given." in page


# -- who may use the pages -----------------------------------------------------------------------


def test_other_roles_and_residents_are_refused(
    linked, client, make_staff, resident, synth, sign_in_staff
):
    v = _referral(synth)
    urls = [CHECK, QUEUE, reverse("residents:verification", kwargs={"reference": v.reference})]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/staff/sign-in")
    sign_in_staff(client, make_staff("Finance officer"))
    for url in urls:
        assert client.get(url).status_code == 403
        assert client.post(url, {}).status_code == 403
    client.force_login(resident)
    for url in urls:
        assert client.get(url).status_code == 403
    assert Verification.objects.get().review == "open"
    assert not events(purpose="staff_view_records").exists()


def test_before_any_link_the_page_says_so(
    settings, tmp_path, db, client, make_staff, sign_in_staff
):
    settings.DATA_DIR = tmp_path
    HOLDER.clear()
    sign_in_staff(client, make_staff(OFFICER))
    response = client.get(CHECK)
    assert response.status_code == 200
    assert "link" in _text(response).lower()
    assert 'name="first_name"' not in _text(response)


def _recorded_since_the_link():
    """Events beyond those the fixture's link wrote (one a resident placed in the index)."""
    return events().exclude(purpose="residents_index_maintenance").exists()
