"""The data protection officer's page: /staff/data-use and its CSV export."""

import csv
import io
import re

import pytest
from django.urls import reverse

from borough.transparency.models import DataUseEvent
from borough.transparency.views import CSV_COLUMNS, PAGE_SIZE

pytestmark = pytest.mark.django_db
URL = "/staff/data-use"
EXPORT = "/staff/data-use.csv"


def _audits():
    return DataUseEvent.objects.filter(purpose="data_use_log_audit")


def _residents_shown(response) -> list[str]:
    return re.findall(r'href="\?resident_id=([^"]+)"', response.content.decode())


def _csv(response) -> list[dict]:
    content = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(content)))


def test_the_urls():
    assert reverse("transparency:staff-data-use") == URL
    assert reverse("transparency:staff-data-use-export") == EXPORT


@pytest.mark.parametrize("path", [URL, EXPORT])
def test_anonymous_visitors_are_sent_to_staff_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/staff/sign-in?next={path}")


@pytest.mark.parametrize("path", [URL, EXPORT])
def test_residents_are_refused(client, resident, path):
    client.force_login(resident)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", [URL, EXPORT])
def test_staff_without_the_data_protection_role_are_refused(
    client, make_staff, path, sign_in_staff
):
    others = ["Parking officer", "Housing officer", "Administrator", "Data analyst"]
    sign_in_staff(client, make_staff(*others, username="others"))
    assert client.get(path).status_code == 403
    assert DataUseEvent.objects.count() == 0


def test_the_data_protection_officer_sees_the_events(client, dpo, verification, sign_in_staff):
    verification("R-1", "R-2")
    sign_in_staff(client, dpo)

    response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Data-use log" in html
    assert "2 events, newest first" in html
    assert "R-1" in html and "R-2" in html
    assert "Parking permit: residency check" in html
    assert "UK GDPR Article 6(1)(e)" in html
    assert "council_tax, electoral_register" in html
    assert "PP-2026-000123" in html
    assert 'method="get"' in html
    assert 'name="resident_id"' in html and 'name="since_day"' in html
    assert response["Cache-Control"].startswith("max-age=0")
    assert _audits().count() == 0  # browsing without a resident filter is not recorded


def test_the_area_page_links_to_the_log(client, dpo, sign_in_staff):
    sign_in_staff(client, dpo)
    assert 'href="/staff/data-use"' in client.get("/staff/transparency/").content.decode()


def test_filtering_by_resident_shows_theirs_and_records_the_look_up(
    client, dpo, verification, sign_in_staff
):
    verification("R-1")
    verification("R-2")
    sign_in_staff(client, dpo)

    html = client.get(URL, {"resident_id": "R-1"}).content.decode()

    assert "R-2" not in html
    (audit,) = _audits()
    assert (audit.subject_resident_id, audit.actor_user, audit.action) == (
        "R-1",
        dpo,
        "viewed_records",
    )
    assert audit.datasets_read == ["data_use_log"]
    assert "Clear filters" in html


def test_filtering_by_service_purpose_and_dates(
    client, dpo, officer, verification, at, sign_in_staff
):
    from borough.transparency.services import record_data_use

    at(2026, 3, 1, 10, 0)
    verification("R-march")
    at(2026, 4, 1, 10, 0)
    verification("R-april")
    record_data_use(
        subject_resident_ids=["R-housing"],
        actor=officer,
        actor_kind="staff",
        purpose="staff_view_records",
        service="housing",
        action="viewed_records",
    )
    sign_in_staff(client, dpo)

    def shown(**filters) -> set[str]:
        return set(_residents_shown(client.get(URL, filters)))

    assert shown(service="housing") == {"R-housing"}
    assert shown(purpose="parking_permit_residency_check") == {"R-march", "R-april"}
    april = {"when": "between", "since_day": "1", "since_month": "4", "since_year": "2026"}
    assert shown(**april) == {"R-april", "R-housing"}
    march = {"since_day": "1", "since_month": "3", "since_year": "2026"}
    march |= {"until_day": "31", "until_month": "3", "until_year": "2026"}
    assert shown(when="between", **march) == {"R-march"}
    # dates typed without choosing "Between two dates" (no JavaScript) are what was meant
    assert shown(**march) == {"R-march"}
    # "Any time" ignores dates left in the hidden inputs
    assert shown(when="any", **march) == {"R-march", "R-april", "R-housing"}


def test_bad_filters_are_explained_and_show_no_events(client, dpo, verification, sign_in_staff):
    verification("R-1")
    sign_in_staff(client, dpo)

    response = client.get(
        URL,
        {
            "when": "between",
            "since_day": "31",
            "since_month": "2",
            "since_year": "2026",
            "until_month": "1",
            "until_year": "2026",
            "service": "libraries",
            "resident_id": "a b",
        },
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Error: " in html
    assert "There is a problem" in html
    assert '<a href="#id_since_day">The ‘from’ date must be a real date</a>' in html
    assert '<a href="#id_until_day">The ‘to’ date must include a day</a>' in html
    # what was typed is kept
    assert 'name="since_day" type="text" value="31"' in html.replace("\n", " ") or (
        'value="31"' in html
    )
    assert '<a href="#id_service">Select a service from the list</a>' in html
    assert "Enter a resident ID using only letters" in html
    assert "Correct the filters to see events" in html
    assert _audits().count() == 0


def test_a_to_date_before_the_from_date_is_refused(client, dpo, sign_in_staff):
    sign_in_staff(client, dpo)
    dates = {"since_day": "2", "since_month": "3", "since_year": "2026"}
    dates |= {"until_day": "1", "until_month": "3", "until_year": "2026"}
    html = client.get(URL, {"when": "between", **dates}).content.decode()
    assert "The ‘to’ date must be the same as or after the ‘from’ date" in html


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ({}, "Enter a ‘from’ date, a ‘to’ date or both"),
        ({"since_day": "1", "since_year": "2026"}, "The ‘from’ date must include a month"),
        ({"until_day": "1", "until_month": "x", "until_year": "2026"}, "must be a real date"),
        (
            {"since_day": "1", "since_month": "3", "since_year": "26"},
            "The ‘from’ date must include a year with 4 numbers",
        ),
        ({"since_day": "1", "since_month": "99999999999999999999", "since_year": "2026"}, "real"),
    ],
)
def test_each_wrong_date_has_its_own_message(client, dpo, sign_in_staff, typed, message):
    sign_in_staff(client, dpo)
    html = client.get(URL, {"when": "between", **typed}).content.decode()
    assert "There is a problem" in html
    assert message in html


def test_pages_keep_the_filters(client, dpo, verification, sign_in_staff):
    verification(*[f"R-{n}" for n in range(PAGE_SIZE + 5)])
    sign_in_staff(client, dpo)

    html = client.get(URL, {"purpose": "parking_permit_residency_check"}).content.decode()
    assert "?purpose=parking_permit_residency_check&amp;page=2" in html

    second = client.get(URL, {"purpose": "parking_permit_residency_check", "page": "2"})
    assert len(_residents_shown(second)) == 5


def test_the_csv_export_has_the_filtered_events_and_is_recorded(
    client, dpo, verification, sign_in_staff
):
    verification("R-1", "R-2")
    verification("R-3", outcome="refer")
    sign_in_staff(client, dpo)

    response = client.get(EXPORT, {"resident_id": "R-1"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="data-use-')
    rows = _csv(response)
    assert list(rows[0]) == CSV_COLUMNS
    # The export's own record is written first, so it is part of what it exports.
    assert [(r["subject_resident_id"], r["purpose"]) for r in rows] == [
        ("R-1", "data_use_log_audit"),
        ("R-1", "parking_permit_residency_check"),
    ]
    verification_row = rows[1]
    assert verification_row["datasets_read"] == "council_tax electoral_register"
    assert verification_row["actor_label"] == "Parking permits service"
    assert verification_row["lawful_basis"] == "public_task_parking_permits"
    assert verification_row["occurred_at"].endswith(("+00:00", "+01:00"))
    assert rows[0]["actor_account"] == "dpo"
    (audit,) = _audits()
    assert (audit.action, audit.subject_resident_id) == ("export", "R-1")


def test_an_export_across_residents_is_recorded_without_a_resident(
    client, dpo, verification, sign_in_staff
):
    verification("R-1")
    sign_in_staff(client, dpo)
    rows = _csv(client.get(EXPORT))
    assert {r["subject_resident_id"] for r in rows} == {"R-1", ""}
    (audit,) = _audits()
    assert (audit.action, audit.subject_resident_id) == ("export", "")


def test_an_export_with_bad_filters_goes_back_to_the_page(client, dpo, sign_in_staff):
    sign_in_staff(client, dpo)
    response = client.get(EXPORT, {"when": "between", "since_day": "yesterday"})
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?when=between&since_day=yesterday"
    assert _audits().count() == 0


def test_a_cell_that_looks_like_a_formula_is_made_plain_text(
    client, dpo, verification, sign_in_staff
):
    verification("R-1", actor_label="=HYPERLINK(1)")
    sign_in_staff(client, dpo)
    rows = _csv(client.get(EXPORT, {"purpose": "parking_permit_residency_check"}))
    assert rows[0]["actor_label"] == "'=HYPERLINK(1)"


def test_the_admin_lists_events_read_only_for_dpo_administrators(
    client, make_staff, verification, sign_in_staff
):
    (event,) = verification("R-1")
    path = "/admin/transparency/datauseevent/"

    sign_in_staff(client, make_staff("Administrator", username="admin"))
    assert client.get(path).status_code == 403

    sign_in_staff(client, make_staff("Administrator", "Data protection officer", username="both"))
    assert client.get(path).status_code == 200
    change = client.get(f"{path}{event.pk}/change/")
    assert change.status_code == 200
    assert b'name="_save"' not in change.content
    assert client.post(f"{path}{event.pk}/delete/").status_code == 403
    assert client.get(f"{path}add/").status_code == 403
    assert DataUseEvent.objects.count() == 1


def _viewed_by(actor, actor_kind: str, **event):
    """A person's account viewed resident R-1's records."""
    from borough.transparency.services import record_data_use

    return record_data_use(
        subject_resident_ids=["R-1"],
        actor=actor,
        actor_kind=actor_kind,
        action="viewed_records",
        **event,
    )


def test_dataset_titles_not_codes(client, dpo, verification, sign_in_staff):
    from borough.residents.services import sync_datasets

    sync_datasets()
    verification("R-1", datasets=["council_tax", "rent_accounts", "a_dataset_gone"])
    sign_in_staff(client, dpo)

    html = client.get(URL).content.decode()

    from borough.residents.models import SourceDataset

    council_tax = SourceDataset.objects.get(code="council_tax").title
    assert f"{council_tax}, Rent accounts, a_dataset_gone" in html
    assert "council_tax," not in html


def test_a_resident_who_signed_in_is_shown_without_their_email_or_residents_wording(
    client, dpo, resident, sign_in_staff
):
    _viewed_by(
        resident,
        "resident",
        purpose="housing_rent_account_self_service",
        datasets=["rent_accounts"],
    )
    sign_in_staff(client, dpo)

    html = client.get(URL).content.decode()
    assert "A resident (signed in)" in html
    assert f"resident-account-{resident.pk}" in html
    assert resident.email not in html and resident.username not in html
    assert "You, signed in" not in html

    rows = _csv(client.get(EXPORT))
    row = next(r for r in rows if r["purpose"] == "housing_rent_account_self_service")
    assert row["actor_account"] == f"resident-account-{resident.pk}"
    assert row["actor_label"] == "A resident (signed in)"
    content = "".join(",".join(r.values()) for r in rows)
    assert resident.email not in content and "You, signed in" not in content


def test_an_officer_is_shown_by_their_full_name(client, dpo, officer, sign_in_staff):
    officer.first_name, officer.last_name = "Rosa", "Parks"
    officer.save()
    _viewed_by(officer, "staff", purpose="staff_view_records", service="parking")
    sign_in_staff(client, dpo)
    html = client.get(URL).content.decode()
    assert "Rosa Parks (parking-officer)" in html


def test_times_are_in_words(client, dpo, verification, at, sign_in_staff):
    at(2026, 3, 27, 9, 5)
    verification("R-1")
    sign_in_staff(client, dpo)
    html = client.get(URL).content.decode()
    assert "9:05am<br>27 March 2026" in html


def test_the_events_table_scrolls_in_its_own_labelled_region(
    client, dpo, verification, sign_in_staff
):
    verification("R-1")
    sign_in_staff(client, dpo)
    html = client.get(URL).content.decode()
    assert (
        '<div class="borough-table-scroll" tabindex="0" role="region" '
        'aria-label="Events, newest first">' in html
    )


def test_codes_a_service_wrote_are_shown_as_words(client, dpo, officer, sign_in_staff):
    _viewed_by(
        officer,
        "staff",
        purpose="staff_view_records",
        service="residents",
        reference="resident_request",
        outcome="viewed_all_records",
    )
    sign_in_staff(client, dpo)
    html = client.get(URL).content.decode()
    assert "Resident request" in html and "Viewed all records" in html
    assert "resident_request" not in html.replace('value="resident_request"', "")


def test_no_date_choice_is_made_for_the_officer(client, dpo, sign_in_staff):
    """Without JavaScript both date inputs show: a checked "Any time" would make dates typed
    there count for nothing."""
    sign_in_staff(client, dpo)
    html = client.get(URL).content.decode()
    assert 'name="when"' in html and "checked" not in html


def test_pages_and_the_export_keep_the_dates(client, dpo, verification, sign_in_staff):
    verification(*[f"R-{n}" for n in range(PAGE_SIZE + 5)])
    sign_in_staff(client, dpo)
    dates = {"when": "between", "since_day": "1", "since_month": "1", "since_year": "2020"}
    html = client.get(URL, dates).content.decode()
    assert "since_day=1&amp;since_month=1&amp;since_year=2020&amp;page=2" in html
    assert "/staff/data-use.csv?when=between&amp;since_day=1" in html
