"""A Resident data officer's journeys through the resident index, in Chromium: checking a
resident's details, deciding a referred verification, reviewing an uncertain match and finding a
resident's records.

A small synthetic borough (300 residents, about 760 records; fixed seed) is loaded and linked once
for the module. ``live_server`` needs ``transactional_db``, which empties the database after each
test, so the loaded rows are kept in memory and written back before each test (a fraction of a
second, against seconds to load the files again). The link's files (the resident index, the
verification index) stay in one folder that every test's ``DATA_DIR`` points at.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction
from django.test import override_settings
from playwright.sync_api import Page, expect

from borough.residents.tests.conftest import DATASETS, SynthBorough
from tests.e2e import _staff
from tests.e2e._staff import check_page
from tests.e2e.test_foundation_journeys import check_accessible

PASSWORD = "a long demo password 1"
OFFICER = "rosa"
PURPOSE_TITLE = "Lives at the address (parking permit)"
CASE_REFERENCE = "PP-2026-000123"
EVIDENCE_CAPTION = "The resident's records from the datasets that can prove this purpose"


# -- the borough, loaded and linked once -------------------------------------------------------


@dataclass
class Borough:
    synth: SynthBorough
    folder: Path  # DATA_DIR: the link's files
    rows: list[tuple[type, list]]  # every row the load and the link added, by model


def _tables() -> list[type]:
    """Every model with a table of its own, many-to-many tables too."""
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    ]


def load_and_link_borough(
    label: str, tmp_path_factory, django_db_blocker, *, also: Callable[[Path], None] | None = None
) -> Borough:
    """Generate the 300-resident borough, load its gazetteer (then ``also(folder)``, for more
    files) and datasets, link them, and keep the rows that added, rolled back."""
    from borough.places.services import import_gazetteer
    from borough.residents.services import load_many
    from borough.synth import generate

    path = tmp_path_factory.mktemp(f"{label}-synth")
    generate(path, residents=300, seed=7, workers=1)
    synth = SynthBorough(path)
    folder = tmp_path_factory.mktemp(f"{label}-data")
    with django_db_blocker.unblock(), override_settings(DATA_DIR=folder):
        with transaction.atomic():
            models = _tables()
            before = {m: set(m._base_manager.values_list("pk", flat=True)) for m in models}
            assert import_gazetteer(synth.file("gazetteer"), "llpg").ok
            if also is not None:
                also(path)
            results = list(load_many([(name, synth.file(name)) for name in DATASETS]))
            assert len(results) == len(DATASETS)
            call_command("residents", "link", stdout=io.StringIO())
            # only what the load and the link added: rows made by migrations (content types,
            # roles) are there again in each test's database
            rows = []
            for model in models:
                added = [o for o in model._base_manager.all() if o.pk not in before[model]]
                if added:
                    rows.append((model, added))
            transaction.set_rollback(True)
    return Borough(synth, folder, rows)


def restore_borough(borough: Borough, settings) -> None:
    """Write ``borough``'s rows into this test's database and point DATA_DIR at its link."""
    from borough.residents.verification.service import HOLDER

    with transaction.atomic():  # foreign keys are deferred: checked at the commit
        for model, objects in borough.rows:
            model._base_manager.bulk_create(objects)
    # the rows keep their ids: move any sequence on past them (PostgreSQL; none on SQLite)
    reset = connection.ops.sequence_reset_sql(no_style(), [m for m, _ in borough.rows])
    with connection.cursor() as cursor:
        for sql in reset:
            cursor.execute(sql)
    settings.DATA_DIR = borough.folder
    HOLDER.clear()


@pytest.fixture(scope="module")
def synthetic_borough(django_db_setup, django_db_blocker, tmp_path_factory) -> Borough:
    return load_and_link_borough("resident-journeys", tmp_path_factory, django_db_blocker)


@pytest.fixture
def linked(synthetic_borough, transactional_db, settings):
    """The loaded and linked borough in this test's database."""
    from borough.residents.verification.service import HOLDER

    restore_borough(synthetic_borough, settings)
    yield synthetic_borough
    HOLDER.clear()


@pytest.fixture
def officer(linked):
    from borough.core.services import create_staff_account
    from borough.core.testing import give_device

    user, _ = create_staff_account(
        OFFICER, ["resident-data-officer"], password=PASSWORD, full_name="Rosa Officer"
    )
    give_device(user)  # their authenticator app: sign_in_to_resident_records types its code
    return user


# -- the borough's people ------------------------------------------------------------------------


def _another_home(synth: SynthBorough, person: dict) -> int:
    """A council tax UPRN where ``person`` has no record: a check there is referred."""
    return next(
        int(r["UPRN"])
        for r in synth.rows("council_tax")
        if r["UPRN"] and int(r["UPRN"]) != int(person["current_uprn"])
    )


def _resident_id(synth: SynthBorough, person: dict) -> str:
    """The resident ID the link gave most of ``person``'s records."""
    from borough.residents.index import resident_ids_of

    unique_ids = [
        f"{r['dataset']}:{r['record_id']}"
        for r in synth.rows("ground_truth")
        if r["person_id"] == person["person_id"]
    ]
    ids = Counter(resident_ids_of(unique_ids).values())
    assert ids, f"none of person {person['person_id']}'s records is in the index"
    return ids.most_common(1)[0][0]


# -- steps ---------------------------------------------------------------------------------------


def _any_case(text: str) -> re.Pattern:
    return re.compile(re.escape(text), re.IGNORECASE)


def _their_records(resident_id: str) -> re.Pattern:
    """A resident's link: the ID, then ": see their records" for screen readers."""
    return re.compile(rf"^{resident_id}\s*: see their records$")


def _heading(page: Page):
    return page.get_by_role("heading", level=1)


def enter_authenticator_code(page: Page, username: str) -> None:
    """On "Enter the code from your authenticator app": the code the staff member's app shows
    now, computed from their device's key as the app does."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from borough.core.testing import code_for

    expect(_heading(page)).to_have_text("Enter the code from your authenticator app")
    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    page.get_by_label("Code").fill(code_for(device))
    page.get_by_role("button", name="Continue").click()


def sign_in_to_resident_records(page: Page, base_url: str, *, check: bool = False) -> None:
    """Sign in and open the Resident records area from the staff home. The three pages are
    checked with axe in the first journey only (``check``): each check takes about a second."""
    page.goto(base_url + "/staff/sign-in")
    if check:
        check_accessible(page)
    page.get_by_label("Username").fill(OFFICER)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.locator("main form").get_by_role("button", name="Sign in").click()
    enter_authenticator_code(page, OFFICER)
    expect(_heading(page)).to_have_text("Staff home")
    if check:
        check_accessible(page)
    page.get_by_role("link", name="Resident records").click()
    expect(_heading(page)).to_have_text("Resident records")
    if check:
        check_accessible(page)


def fill_in_applicant(page: Page, person: dict, *, postcode: str = "", uprn: int | None = None):
    """On "Check a resident's details": the purpose, the person, and where they live."""
    expect(_heading(page)).to_have_text("Check a resident's details")
    page.get_by_label(PURPOSE_TITLE).check()
    page.get_by_role("group", name="Why are you checking these details?").get_by_label(
        "Checking a service application"
    ).check()
    page.get_by_label("Case or application reference (optional)").fill(CASE_REFERENCE)
    page.get_by_label("First name", exact=True).fill(person["first_name"])
    if person["middle_names"]:
        page.get_by_label("Middle names (optional)").fill(person["middle_names"])
    page.get_by_label("Surname", exact=True).fill(person["surname"])
    born = dt.date.fromisoformat(person["date_of_birth"])
    page.get_by_label("Day").fill(str(born.day))
    page.get_by_label("Month").fill(str(born.month))
    page.get_by_label("Year").fill(str(born.year))
    if postcode:
        page.get_by_label("Postcode").fill(postcode.lower())
    if uprn is not None:
        page.get_by_label("UPRN (optional)").fill(str(uprn))
    page.get_by_role("button", name="Continue").click()


def verification_reference(page: Page) -> str:
    expect(_heading(page)).to_have_text(re.compile(r"^Verification V-[0-9A-Z]{10}$"))
    return _heading(page).inner_text().removeprefix("Verification ").strip()


def summary_value(page: Page, key: str):
    """The value beside ``key`` in the page's first summary list."""
    term = page.get_by_role("term").filter(has_text=re.compile(rf"^\s*{re.escape(key)}\s*$"))
    row = page.locator(".govuk-summary-list__row").filter(has=term)
    return row.first.get_by_role("definition")


# -- 1. check a resident's details ---------------------------------------------------------------


def test_officer_checks_a_residents_details_and_sees_the_evidence(
    live_server, linked, officer, any_page
):
    from borough.places.models import Property
    from borough.places.queries import addresses_at
    from borough.residents.models import SourceDataset
    from borough.residents.verification.models import Verification

    page = any_page
    person = linked.synth.adults_at_home()[0]
    home = Property.objects.get(uprn=int(person["current_uprn"]))
    sign_in_to_resident_records(page, live_server.url, check=True)

    page.get_by_role("link", name="Check a resident's details").click()
    check_accessible(page)
    fill_in_applicant(page, person, postcode=home.postcode)

    # the addresses at the postcode, from the gazetteer
    expect(_heading(page)).to_have_text("Select the applicant's address")
    expect(page.locator("main")).to_contain_text(home.postcode)
    check_accessible(page)
    address = home.single_line(include_postcode=False)
    if len(addresses_at(home.postcode)) > 30:
        page.get_by_label("Select the applicant's address").select_option(label=address)
    else:
        page.get_by_label(address, exact=True).check()
    page.get_by_role("button", name="Check the details").click()

    reference = verification_reference(page)
    expect(summary_value(page, "Decision")).to_have_text("Verified")
    expect(summary_value(page, "Purpose")).to_have_text(PURPOSE_TITLE)
    expect(summary_value(page, "Match probability")).to_have_text(re.compile(r"\d+(\.\d+)?%"))
    evidence = page.get_by_role("table", name=EVIDENCE_CAPTION)
    expect(evidence).to_be_visible()
    expect(evidence.get_by_role("columnheader", name="Counts as proof")).to_be_visible()
    expect(evidence.get_by_text("Proof", exact=True).first).to_be_visible()
    expect(evidence.get_by_text("Agrees").first).to_be_visible()
    # the officer's role sees the records' values
    expect(evidence.get_by_role("columnheader", name="In the record")).to_be_visible()
    expect(evidence).to_contain_text(_any_case(person["surname"]))
    check_accessible(page)

    expect(summary_value(page, "Reason given")).to_have_text("Checking a service application")
    expect(summary_value(page, "Case reference")).to_have_text(CASE_REFERENCE)

    v = Verification.objects.get(reference=reference)
    assert v.decision == "verified" and v.applicant["uprn"] == home.uprn
    assert v.actor_user == officer
    assert v.caller_reference == CASE_REFERENCE

    # the resident's records, behind the officer's reason
    page.get_by_role("link", name=_their_records(v.resident_id)).click()
    expect(_heading(page)).to_have_text(f"Resident {v.resident_id}")
    check_accessible(page)
    page.get_by_label("Checking a service application").check()
    page.get_by_role("button", name="Show the records").click()
    expect(_heading(page)).to_have_text(f"Resident {v.resident_id}")
    expect(page.locator("main")).to_contain_text("checking a service application")
    proof = next(e for e in v.evidence if e["counts_as_proof"])
    title = SourceDataset.objects.get(code=proof["dataset"]).title
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    record = page.get_by_role("heading", name=f"Record {proof['record_reference']}", exact=True)
    expect(record).to_be_visible()
    check_accessible(page)


# -- 2. a referred check, decided ------------------------------------------------------------------


def test_a_referred_check_is_confirmed_by_an_officer(live_server, linked, officer, any_page):
    from borough.residents.verification.models import Verification

    page = any_page
    person = linked.synth.adults_at_home()[0]
    elsewhere = _another_home(linked.synth, person)
    sign_in_to_resident_records(page, live_server.url)

    page.get_by_role("link", name="Check a resident's details").click()
    fill_in_applicant(page, person, uprn=elsewhere)  # a UPRN skips the choice of address
    reference = verification_reference(page)
    expect(summary_value(page, "Decision")).to_have_text("Referred")
    expect(summary_value(page, "Review")).to_have_text("Waiting for an officer")
    check_accessible(page)

    page.get_by_role("link", name="Referred verifications").first.click()
    expect(_heading(page)).to_have_text("Referred verifications")
    expect(page.get_by_role("table")).to_contain_text(PURPOSE_TITLE)
    check_accessible(page)
    page.get_by_role("link", name=f"Review verification {reference}").click()
    expect(_heading(page)).to_have_text(f"Verification {reference}")
    decision = page.get_by_role("group", name="Your decision")
    expect(decision).to_be_visible()

    # "Cannot confirm" needs a note: the error summary links to the field
    decision.get_by_label("Cannot confirm", exact=True).check()
    page.get_by_role("button", name="Save decision").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter why you cannot confirm it")
    assert page.title().startswith("Error:")
    link = summary.get_by_role("link", name="Enter why you cannot confirm it")
    expect(link).to_have_attribute("href", "#id_note")
    check_accessible(page)
    if page.javascript:
        link.click()
        expect(page.get_by_label("Note")).to_be_focused()
    assert Verification.objects.get(reference=reference).review == "open"

    page.get_by_label("Confirm: the applicant is this resident and the proof is enough").check()
    page.get_by_role("button", name="Save decision").click()
    expect(_heading(page)).to_have_text("Referred verifications")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        f"Decision saved: verification {reference} confirmed."
    )
    expect(page.get_by_role("link", name=f"Review verification {reference}")).to_have_count(0)
    check_accessible(page)

    page.goto(f"{live_server.url}/staff/residents/verifications/{reference}")
    expect(summary_value(page, "Review")).to_have_text("Confirmed by an officer")
    expect(page.get_by_role("heading", name="Officer's decision")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Rosa Officer")
    expect(page.get_by_role("button", name="Save decision")).to_have_count(0)
    check_accessible(page)
    v = Verification.objects.get(reference=reference)
    assert v.review == "confirmed" and v.reviewed_by == officer


# -- 3. an uncertain match, reviewed ---------------------------------------------------------------


def test_officer_decides_an_uncertain_match(live_server, linked, officer, any_page):
    from borough.residents.models import ReviewCase

    page = any_page
    open_cases = ReviewCase.objects.filter(status="open")
    # the link queues the pairs it could not settle; this borough (seed 7) has some
    assert open_cases.count() >= 1, "the linked borough put no pair in the review queue"
    sign_in_to_resident_records(page, live_server.url)

    page.get_by_role("link", name="Review uncertain matches").click()
    expect(_heading(page)).to_have_text("Review uncertain matches")
    expect(page.get_by_role("table")).to_contain_text(f"{open_cases.count()} open case")
    check_accessible(page)
    first = page.get_by_role("link", name=re.compile(r"^Review case \d+$")).first
    case_id = int(first.inner_text().split()[-1])
    first.click()

    case = ReviewCase.objects.get(pk=case_id)
    expect(_heading(page)).to_have_text("Are these records about the same person?")
    records = page.get_by_role("table").first
    expect(records.get_by_role("columnheader", name="First record")).to_be_visible()
    expect(records.get_by_role("columnheader", name="Second record")).to_be_visible()
    for unique_id in (case.unique_id_l, case.unique_id_r):
        expect(records).to_contain_text(unique_id.partition(":")[2])
    expect(page.get_by_role("heading", name="Why the match is uncertain")).to_be_visible()
    check_accessible(page)

    page.get_by_label("Different people").check()
    page.get_by_role("button", name="Save decision").click()
    expect(_heading(page)).to_have_text("Review uncertain matches")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Decision saved. It will be used the next time the records are linked."
    )
    expect(page.get_by_role("link", name=f"Review case {case_id}", exact=True)).to_have_count(0)
    check_accessible(page)
    case.refresh_from_db()
    assert (case.status, case.decision, case.decided_by) == ("decided", "different", officer)


# -- 4. find a resident ------------------------------------------------------------------------------


def test_officer_finds_a_resident_and_sees_their_records(live_server, linked, officer, any_page):
    page = any_page
    person = linked.synth.adults_at_home()[0]
    resident_id = _resident_id(linked.synth, person)
    sign_in_to_resident_records(page, live_server.url)

    page.get_by_role("link", name="Find a resident").click()
    expect(_heading(page)).to_have_text("Find a resident")
    check_accessible(page)
    page.get_by_label("Surname").fill(person["surname"])
    page.get_by_label("Dealing with a resident's request").check()
    page.get_by_role("button", name="Search").click()

    expect(page.get_by_role("heading", name="Results")).to_be_visible()
    results = page.get_by_role("table")
    expect(results).to_contain_text(_any_case(person["surname"]))
    check_accessible(page)
    results.get_by_role("link", name=_their_records(resident_id)).click()

    expect(_heading(page)).to_have_text(f"Resident {resident_id}")
    main = page.locator("main")
    expect(main).to_contain_text("dealing with a resident's request")
    expect(main).to_contain_text(re.compile(r"\d+ records? in \d+ datasets?"))
    expect(main).to_contain_text(_any_case(person["surname"]))
    expect(page.get_by_role("heading", name=re.compile(r"^Record ")).first).to_be_visible()
    check_accessible(page)


# -- 5. the officer's forms at 1280 px and at 320 px ------------------------------------------------

sized_page = _staff.sized_page


def _sign_in_sized(page: Page, base_url: str) -> None:
    """Sign in through the pages (the officer's own account), at the page's width."""
    page.goto(base_url + "/staff/sign-in")
    page.get_by_label("Username").fill(OFFICER)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.locator("main form").get_by_role("button", name="Sign in").click()
    enter_authenticator_code(page, OFFICER)
    expect(_heading(page)).to_have_text("Staff home")


def test_the_check_and_a_review_decision_fit_the_screen(live_server, linked, officer, sized_page):
    from borough.residents.models import ReviewCase

    page = sized_page
    person = linked.synth.adults_at_home()[0]
    elsewhere = _another_home(linked.synth, person)
    _sign_in_sized(page, live_server.url)

    # the check: a reason is required, and what was typed is kept
    page.goto(live_server.url + "/staff/residents/verifications/check")
    page.get_by_label("First name", exact=True).fill(person["first_name"])
    page.get_by_role("button", name="Continue").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select why you are checking these details")
    expect(page.get_by_label("First name", exact=True)).to_have_value(person["first_name"])
    check_page(page, "verification-check-error")
    fill_in_applicant(page, person, uprn=elsewhere)
    reference = verification_reference(page)
    expect(summary_value(page, "Reason given")).to_have_text("Checking a service application")
    check_page(page, "verification-referred")

    # the referral decided at this width
    page.get_by_label("Confirm: the applicant is this resident and the proof is enough").check()
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(reference)
    check_page(page, "verification-referrals")

    # an uncertain match decided at this width
    case = ReviewCase.objects.filter(status="open").first()
    page.goto(f"{live_server.url}/staff/residents/review/{case.pk}")
    expect(page.locator("#link-explanation")).to_contain_text("at which records are linked")
    check_page(page, "review-case")
    page.get_by_label("Same person").check()
    page.get_by_label("Note (optional)").fill("Same date of birth and address history")
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Decision saved")
    check_page(page, "review-queue")
    page.goto(f"{live_server.url}/staff/residents/review/{case.pk}")
    expect(summary_value(page, "Decided by")).to_have_text("Rosa Officer")
    check_page(page, "review-case-decided")

    # find the resident and open their records, for a fraud investigation: its case reference
    # is required, and the look-up is held back from the resident
    page.goto(f"{live_server.url}/staff/residents/find")
    page.get_by_label("Surname").fill(person["surname"])
    page.get_by_label("Investigating suspected fraud").check()
    page.get_by_role("button", name="Search").click()
    expect(summary).to_contain_text("Enter the case reference of the fraud investigation")
    check_page(page, "find-a-resident-error")
    page.get_by_label("Fraud investigation case reference").fill("FR-2026-0042")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Results")).to_be_visible()
    expect(page.locator("main")).to_contain_text("held back from the residents")
    check_page(page, "find-a-resident")
    resident_id = _resident_id(linked.synth, person)
    page.get_by_role("link", name=_their_records(resident_id)).click()
    expect(_heading(page)).to_have_text(f"Resident {resident_id}")
    expect(page.locator("main")).to_contain_text("(case FR-2026-0042)")
    check_page(page, "resident-records")
