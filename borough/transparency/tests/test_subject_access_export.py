"""A resident's copy of their data: who may ask, what it holds, who may download it, for how
long, and how often; each step in the data-use log."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.utils import timezone

from borough.core.models import User
from borough.transparency.export import proven_resident_ids
from borough.transparency.export_models import DataExport, RectificationRequest
from borough.transparency.models import DataUseEvent
from borough.transparency.services import record_data_use
from borough.transparency.tests.subject_access_world import (
    ACCOUNT_NUMBERS,
    SORT_CODE,
    dataset,
    pdf_text,
    person,
    verification,
    write_index,
)

pytestmark = pytest.mark.django_db
YOUR_DATA = "/your-data"


@pytest.fixture
def people(settings, tmp_path, resident):
    settings.DATA_DIR = tmp_path
    source = dataset()
    other = User.objects.create_resident("other@example.com")
    alice = person(1, resident, "R-ALICE1", "Ashworth", source)
    bobby = person(2, other, "R-BOBBY2", "Brennan", source)
    write_index(tmp_path, [alice, bobby])
    return alice, bobby


def _export(client, who, capture) -> DataExport:
    client.force_login(who.user)
    with capture(execute=True):
        response = client.post("/your-data/export")
    export = DataExport.objects.filter(account=who.user).latest("requested_at")
    assert response.status_code == 302
    assert response["Location"] == f"/your-data/exports/{export.token}"
    return export


def _events(**filters):
    return DataUseEvent.objects.filter(purpose="subject_access_export", **filters)


def test_only_ids_the_account_proved_itself_count(resident, make_staff):
    other = User.objects.create_resident("other@example.com")
    officer = make_staff("Resident data officer")
    verification(resident, "R-MINE")
    verification(resident, "R-REFER", decision="refer", review="open")
    verification(resident, "R-CONFIRMED", decision="refer", review="confirmed")
    verification(other, "R-THEIRS")
    verification(officer, "R-STAFF-FOUND", actor_kind="staff")
    assert proven_resident_ids(resident) == ["R-CONFIRMED", "R-MINE"]


def test_a_resident_the_index_does_not_know_is_told_why_and_cannot_ask(client, resident):
    client.force_login(resident)
    html = client.get(YOUR_DATA).content.decode()
    assert "We do not know who you are yet" in html
    assert "Get a copy of your data" not in html
    assert client.post("/your-data/export").status_code == 302
    assert not DataExport.objects.exists()


def test_the_export_holds_their_records_and_never_the_full_bank_account(
    client, people, django_capture_on_commit_callbacks, make_staff
):
    alice, bobby = people
    officer = make_staff("Housing officer", username="h.okafor")
    officer.first_name, officer.last_name = "Helen", "Okafor"
    officer.save()
    record_data_use(
        subject_resident_ids=["R-ALICE1"],
        actor=officer,
        actor_kind="staff",
        purpose="staff_view_records",
        service="housing",
        action="viewed_records",
    )
    export = _export(client, alice, django_capture_on_commit_callbacks)
    page = client.get(f"/your-data/exports/{export.token}").content.decode()
    assert "Your copy is ready" in page

    body = client.get(f"/your-data/exports/{export.token}/data.json")
    assert body["Content-Disposition"].startswith("attachment")
    document = json.loads(b"".join([body.content]))
    assert (document["schema"], document["schema_version"]) == ("borough-subject-access", 1)
    assert document["resident_ids"] == ["R-ALICE1"]
    keys = {r["key"] for s in document["sections"] for r in s["records"]}
    assert "source:council_tax:CT-1" in keys
    assert "source:council_tax:CT-2" not in keys  # the other resident's record
    assert f"rent-account:{alice.account.payment_reference}" in keys
    assert f"rent-account:{bobby.account.payment_reference}" not in keys
    mandate = next(
        r for s in document["sections"] for r in s["records"] if r["key"].startswith("mandate:")
    )
    assert {
        "name": "bank_account",
        "label": "Bank account (masked)",
        "value": "**-**-13 ****6819",
    } in mandate["fields"]
    source = next(
        r for s in document["sections"] for r in s["records"] if r["key"].startswith("source:")
    )
    assert source["area"] == "residents"  # the owner names no staff area: the index's own
    assert source["owner"] == "Revenues and Benefits: Council Tax team"

    pdf = client.get(f"/your-data/exports/{export.token}/data.pdf").content
    html = client.get(f"/your-data/exports/{export.token}/read").content
    assert pdf.startswith(b"%PDF-")
    assert b"Ashworth" in html and b"Brennan" not in html
    text = pdf_text(pdf)
    assert "Ashworth" in text and "**-**-13 ****6819" in text
    for content in (body.content, text.encode(), html):
        assert b"Okafor" not in content and b"h.okafor" not in content  # a role, never a name
    assert b"Housing team" in html  # as the timeline says who: a team or role
    use = next(
        r for s in document["sections"] for r in s["records"] if r["key"].startswith("data-use:")
    )
    said = {f["name"]: f["value"] for f in use["fields"]}
    assert use["title"] == "Looked at your records"
    assert (said["service"], said["who"]) == ("Housing", "Housing team")  # not codes or labels
    entry = next(
        r for s in document["sections"] for r in s["records"] if r["key"].startswith("rent-entry:")
    )
    assert not re.search(r"\d{4}-\d{2}-\d{2}", entry["title"])  # a date in words, not ISO
    for content in (body.content, pdf, text.encode(), html, export.payload_encrypted.encode()):
        assert ACCOUNT_NUMBERS["R-ALICE1"].encode() not in content
        assert SORT_CODE.encode() not in content
    assert b"Ashworth" not in export.payload_encrypted.encode()  # stored encrypted

    assert list(_events().values_list("outcome", flat=True).order_by("id")) == [
        "requested",
        "prepared",
        "downloaded_json",
        "downloaded_pdf",
        "downloaded_html",
    ]
    assert set(_events().values_list("subject_resident_id", flat=True)) == {"R-ALICE1"}
    prepared = _events().get(outcome="prepared")
    assert "council_tax" in prepared.datasets_read and prepared.lawful_basis_text.startswith(
        "The law says"
    )
    assert "Article 6(1)(c)" in prepared.lawful_basis_text


SUFFIXES = ["", "/data.json", "/data.pdf", "/read", "/wrong?record=source:council_tax:CT-1"]


def test_another_resident_anonymous_visitors_and_staff_cannot_open_an_export(
    client, people, django_capture_on_commit_callbacks, make_staff, sign_in_staff
):
    alice, bobby = people
    export = _export(client, alice, django_capture_on_commit_callbacks)
    recorded = _events().count()
    officer = make_staff("Data protection officer")
    for suffix in SUFFIXES:
        url = f"/your-data/exports/{export.token}{suffix}"
        client.force_login(bobby.user)
        assert client.get(url).status_code == 404, suffix
        guessed = f"/your-data/exports/{export.token[:-1]}x{suffix}"
        assert client.get(guessed).status_code == 404, suffix
        assert client.get(f"/your-data/exports/{export.reference}{suffix}").status_code == 404
        client.logout()
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/sign-in")
        sign_in_staff(client, officer)
        assert client.get(url).status_code == 403
    assert _events().count() == recorded  # nothing was downloaded


def test_a_tampered_record_key_cannot_reach_another_residents_record(
    client, people, django_capture_on_commit_callbacks
):
    alice, _ = people
    export = _export(client, alice, django_capture_on_commit_callbacks)
    url = f"/your-data/exports/{export.token}/wrong"
    assert client.get(url, {"record": "source:council_tax:CT-1"}).status_code == 200
    assert client.get(url, {"record": "source:council_tax:CT-2"}).status_code == 404
    response = client.post(
        url + "?record=source:council_tax:CT-2", {"what_is_wrong": "x", "should_be": "y"}
    )
    assert response.status_code == 404
    assert not RectificationRequest.objects.exists()


def test_an_expired_download_says_so_and_its_contents_are_deleted(
    client, people, django_capture_on_commit_callbacks
):
    alice, _ = people
    export = _export(client, alice, django_capture_on_commit_callbacks)
    assert export.expires_at - export.requested_at >= dt.timedelta(days=7)
    # Seven days on (moving the export back, not the clock: the session would expire too).
    DataExport.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    for suffix in ("", "/data.json", "/data.pdf", "/read"):
        response = client.get(f"/your-data/exports/{export.token}{suffix}")
        assert response.status_code == 410
        assert "This download has expired" in response.content.decode()
    export.refresh_from_db()
    assert (export.status, export.payload_encrypted) == ("expired", "")
    assert not _events(outcome__startswith="downloaded").exists()


def test_downloads_are_rate_limited(client, people, django_capture_on_commit_callbacks, settings):
    settings.BOROUGH_RATE_LIMITS = {"data-export-download": "2/3600"}
    alice, _ = people
    export = _export(client, alice, django_capture_on_commit_callbacks)
    url = f"/your-data/exports/{export.token}/data.json"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]
    assert _events(outcome="downloaded_json").count() == 2


def test_asking_again_and_again_is_rate_limited(
    client, people, django_capture_on_commit_callbacks, settings
):
    settings.BOROUGH_RATE_LIMITS = {"data-export-request": "1/86400"}
    alice, _ = people
    _export(client, alice, django_capture_on_commit_callbacks)
    assert client.post("/your-data/export").status_code == 429
    assert DataExport.objects.count() == 1


def test_this_is_wrong_reaches_the_owning_area_and_the_resident_sees_the_answer(
    client, people, django_capture_on_commit_callbacks, make_staff, sign_in_staff
):
    alice, bobby = people
    export = _export(client, alice, django_capture_on_commit_callbacks)
    key = f"rent-account:{alice.account.payment_reference}"
    url = f"/your-data/exports/{export.token}/wrong?record={key}"

    response = client.post(url, {"what_is_wrong": "", "should_be": "Flat 1"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter what is wrong with this record" in html and "Flat 1" in html  # kept
    response = client.post(url, {"what_is_wrong": "Wrong flat", "should_be": "Flat 1"})
    correction = RectificationRequest.objects.get()
    assert response["Location"] == f"/your-data?sent={correction.reference}"
    html = client.get(response["Location"]).content.decode()
    assert "We have sent your correction to Housing: rent accounts" in html
    assert "&lt;p" not in html
    assert (correction.area, correction.dataset, correction.resident_ids) == (
        "housing",
        "rent_accounts",
        ["R-ALICE1"],
    )
    assert "Waiting for the team" in client.get(YOUR_DATA).content.decode()

    staff_url = f"/staff/corrections/{correction.reference}"
    sign_in_staff(client, make_staff("Parking officer", username="parking"))
    assert correction.reference not in client.get("/staff/corrections").content.decode()
    assert client.get(staff_url).status_code == 404
    sign_in_staff(client, make_staff("Housing officer", username="housing"))
    assert correction.reference in client.get("/staff/corrections").content.decode()
    assert client.get(staff_url).status_code == 200
    viewed = DataUseEvent.objects.get(purpose="staff_view_records", reference=correction.reference)
    assert (viewed.service, viewed.subject_resident_id) == ("housing", "R-ALICE1")
    response = client.post(staff_url, {"status": "corrected", "answer": "We fixed the flat."})
    assert response.status_code == 302
    assert client.post(staff_url, {"status": "not_changed", "answer": "Again"}).status_code == 200
    correction.refresh_from_db()
    assert (correction.status, correction.answer) == ("corrected", "We fixed the flat.")

    client.force_login(alice.user)
    assert "We fixed the flat." in client.get(YOUR_DATA).content.decode()
    client.force_login(bobby.user)
    assert "We fixed the flat." not in client.get(YOUR_DATA).content.decode()


@pytest.mark.parametrize(
    ("owner", "area"),
    [
        ("Housing: tenancy services", "housing"),
        ("Parking services", "parking"),
        ("Revenues and Benefits: Council Tax team", "residents"),
        ("", "residents"),
        ("Data protection", "residents"),  # corrections to source records are not the DPO's
    ],
)
def test_a_correction_goes_to_the_area_the_dataset_owner_names(owner, area):
    from borough.transparency.export import area_for_owner

    assert area_for_owner(owner) == area


def test_a_copy_that_cannot_be_prepared_says_so(
    client, people, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(*args):
        raise RuntimeError("the index is unreadable")

    monkeypatch.setattr("borough.transparency.export_services.collect", broken)
    alice, _ = people
    client.force_login(alice.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/your-data/export")  # the job fails (django-tasks records it)
    export = DataExport.objects.get()
    assert export.status == "failed"
    html = client.get(f"/your-data/exports/{export.token}").content.decode()
    assert "We could not prepare your copy" in html
    assert client.get(f"/your-data/exports/{export.token}/data.json").status_code == 302


def test_a_record_has_one_open_correction_per_account_and_sending_is_rate_limited(
    client, people, django_capture_on_commit_callbacks, settings
):
    alice, _ = people
    export = _export(client, alice, django_capture_on_commit_callbacks)
    key = f"rent-account:{alice.account.payment_reference}"
    url = f"/your-data/exports/{export.token}/wrong?record={key}"
    sent = {"what_is_wrong": "Wrong flat", "should_be": "Flat 1"}
    assert client.post(url, sent).status_code == 302
    correction = RectificationRequest.objects.get()

    page = client.get(url).content.decode()
    assert correction.reference in page and "Wrong flat" in page
    assert 'name="what_is_wrong"' not in page  # the open request, not the form
    for _ in range(3):
        response = client.post(url, {"what_is_wrong": "Still wrong", "should_be": "Flat 1"})
        assert response.status_code == 409
        assert "We have not sent what you just wrote" in response.content.decode()
    assert RectificationRequest.objects.count() == 1

    # Once answered, the record can be corrected again; the account's sending is limited.
    RectificationRequest.objects.filter(pk=correction.pk).update(
        status="not_changed", answer="It is right."
    )
    settings.BOROUGH_RATE_LIMITS = {"correction-request-account": "2/86400"}
    assert client.post(url, sent).status_code == 302
    RectificationRequest.objects.update(status="not_changed", answer="It is right.")
    refused = client.post(url, {"what_is_wrong": "Kept words", "should_be": "Flat 1"})
    assert refused.status_code == 429 and "Retry-After" in refused
    assert "Kept words" in refused.content.decode()
    assert RectificationRequest.objects.count() == 2


def test_the_database_keeps_one_open_correction_per_record_and_account(people):
    from django.db import IntegrityError, transaction

    alice, _ = people
    details = {
        "account": alice.user,
        "record_key": "rent-account:X",
        "record_title": "Rent account",
        "dataset": "rent_accounts",
        "dataset_title": "Rent accounts",
        "owner": "Housing",
        "area": "housing",
        "what_is_wrong": "Wrong",
        "should_be": "Right",
        "created_at": timezone.now(),
    }
    RectificationRequest.objects.create(**details)
    with pytest.raises(IntegrityError), transaction.atomic():
        RectificationRequest.objects.create(**details)


def test_the_copy_and_the_timeline_speak_to_the_resident_in_plain_words(
    client, people, django_capture_on_commit_callbacks
):
    from borough.residents.models import SourceRecord, Verification

    alice, _ = people
    SourceRecord.objects.filter(pk=alice.record.pk).update(uprn_given="100090000001")
    Verification.objects.filter(actor_user=alice.user).update(
        applicant={"first_name": "Sam", "uprn": "100090000001"}
    )
    export = _export(client, alice, django_capture_on_commit_callbacks)
    html = client.get(f"/your-data/exports/{export.token}/read").content.decode()
    assert "UPRN given" in html and "Uprn given" not in html
    assert "Details given: property reference (UPRN)" in html
    assert "Details given: uprn" not in html
    assert client.get(f"/your-data/exports/{export.token}/data.json").status_code == 200

    timeline = client.get("/how-we-use-your-data/timeline").content.decode()
    assert "Downloaded a copy of your data (JSON)" in timeline
    assert "Downloaded json" not in timeline
    assert _events(outcome="downloaded_json").exists()  # the stored code is unchanged
