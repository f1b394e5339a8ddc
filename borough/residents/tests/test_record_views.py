"""Staff pages to find a resident and see their records, and the data-use events they write.

The index is written by hand (``residents.parquet``: unique_id → resident_id), which is all the
pages read from it; linking itself is tested in ``test_link_command.py``.
"""

import json
import re
from datetime import date, timedelta

import pandas as pd
import pytest
from django.urls import reverse
from django.utils import timezone

from borough.residents import standardise as std
from borough.residents.linkage.stable_ids import encode_id
from borough.residents.models import DatasetLoad, SourceDataset, SourceRecord
from borough.transparency.queries import events

pytestmark = pytest.mark.django_db

FIND = "/staff/residents/find"
SIOBHAN, ROBERT, JANE = encode_id(1), encode_id(2), encode_id(3)
OFFICER = "Resident data officer"
# Personal details in the records: none of them may reach a data-use event.
PERSONAL = ["brien", "siobh", "robert", "bob", "1980", "27/03", "E8 1DY", "E81DY", "Albion"]


def _dataset(code: str, title: str) -> tuple[SourceDataset, DatasetLoad]:
    now = timezone.now()
    dataset = SourceDataset.objects.create(
        code=code,
        title=title,
        owner=f"{title} team",
        lawful_basis="Public task",
        lawful_basis_reference="UK GDPR Art 6(1)(e)",
        config_path=f"{code}.toml",
        config_sha256="0" * 64,
        synced_at=now,
    )
    load = DatasetLoad.objects.create(
        dataset=dataset,
        file_name=f"{code}.csv",
        sha256="1" * 64,
        config_sha256="0" * 64,
        status=DatasetLoad.Status.LOADED,
        started_at=now,
        finished_at=now,
        via="test",
    )
    return dataset, load


def _record(dataset_load, ref: str, first: str, surname: str, born: str = "", **values):
    """A record standardised the way the loader does it (``rows.py``)."""
    dataset, load = dataset_load
    first_std = std.standardise_name(first)
    sex = values.pop("sex", "")
    return SourceRecord.objects.create(
        dataset=dataset,
        record_ref=ref,
        row_number=1,
        first_name=first,
        surname=surname,
        first_name_std=first_std,
        surname_std=std.standardise_name(surname),
        first_name_canonical=std.canonical_first_name(first_std, sex),
        sex=sex,
        date_of_birth_given=born,
        date_of_birth=std.parse_date(born, ("%d/%m/%Y", "%Y-%m-%d")),
        postcode=std.standardise_postcode(values.get("postcode_given", "")),
        content_hash="x",
        first_seen_load=load,
        last_seen_load=load,
        changed_at=timezone.now(),
        **values,
    )


@pytest.fixture
def records(db):
    tax = _dataset("council_tax", "Council tax")
    roll = _dataset("electoral_register", "Electoral register")
    made = {
        "ct1": _record(
            tax,
            "600000001#1",
            "Siobhán",
            "O'Brien",
            "27/03/1980",
            address_given="Flat 3, 12 Albion Road",
            postcode_given="E8 1DY",
            email="siobhan@example.com",
            phone="07700 900123",
            uprn=100000000001,
            uprn_method="source",
            valid_from=date(2019, 4, 1),
        ),
        "ct0": _record(
            tax,
            "500000009#1",
            "Siobhan",
            "O'Brien",
            "27/03/1980",
            address_given="4 Mare Street",
            postcode_given="E8 4RP",
            uprn_note="No address in the gazetteer is close enough",
            valid_from=date(2015, 1, 1),
            valid_to=date(2019, 3, 31),
            ended_at=timezone.now() - timedelta(days=30),
        ),
        "er1": _record(
            roll,
            "ER-0001",
            "SIOBHAN",
            "OBRIEN",
            "1980-03-27",
            address_given="12 ALBION RD",
            postcode_given="E81DY",
            uprn=100000000001,
            uprn_method="address-match",
        ),
        "er2": _record(roll, "ER-0002", "Robert", "O'Brien", "02/11/1955", sex="M"),
        "er3": _record(roll, "ER-0003", "Jane", "Smith", "01/01/1990"),
        # Loaded since the last link: no resident yet.
        "ct9": _record(tax, "600000099#1", "Sean", "O'Brien", "05/05/2001"),
    }
    return made


def _write_index(folder, assignment: dict[str, str], events_log: list[dict] | None = None):
    linkage = folder / "linkage"
    linkage.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame({"unique_id": list(assignment), "resident_id": list(assignment.values())})
    frame.to_parquet(linkage / "residents.parquet", index=False)
    if events_log:
        lines = "".join(json.dumps(event) + "\n" for event in events_log)
        (linkage / "events.jsonl").write_text(lines, encoding="utf-8")


@pytest.fixture
def linked(records, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    _write_index(
        tmp_path,
        {
            "council_tax:600000001#1": SIOBHAN,
            "council_tax:500000009#1": SIOBHAN,
            "electoral_register:ER-0001": SIOBHAN,
            "electoral_register:ER-0002": ROBERT,
            "electoral_register:ER-0003": JANE,
        },
        [
            {
                "at": "2026-01-05T09:00:00+00:00",
                "kind": "new",
                "resident_id": SIOBHAN,
                "others": [],
                "records": 2,
            },
            {
                "at": "2026-02-10T09:00:00+00:00",
                "kind": "merge",
                "resident_id": SIOBHAN,
                "others": [encode_id(9)],
                "records": 3,
            },
            {
                "at": "2026-02-10T09:00:00+00:00",
                "kind": "new",
                "resident_id": ROBERT,
                "others": [],
                "records": 1,
            },
        ],
    )
    return records


@pytest.fixture
def officer(client, make_staff, sign_in_staff):
    user = make_staff(OFFICER)
    sign_in_staff(client, user)
    return user


def _viewed():
    return list(events(purpose="staff_view_records"))


def _search(client, **params):
    return client.get(FIND, {"reason": "resident_request", **params})


def _residents_listed(html: str) -> list[str]:
    return re.findall(r'href="/staff/residents/records/(R[0-9A-Z]+)\?reason=', html)


def test_the_urls():
    assert reverse("residents:find") == FIND
    assert reverse("residents:resident", kwargs={"resident_id": SIOBHAN}) == (
        f"/staff/residents/records/{SIOBHAN}"
    )


# Access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [FIND, f"/staff/residents/records/{SIOBHAN}"])
def test_anonymous_visitors_are_sent_to_staff_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/sign-in")


@pytest.mark.parametrize("path", [FIND, f"/staff/residents/records/{SIOBHAN}"])
def test_residents_and_other_roles_are_refused(
    client, linked, resident, make_staff, path, sign_in_staff
):
    client.force_login(resident)
    assert client.get(path, {"reason": "resident_request", "surname": "obrien"}).status_code == 403
    others = ["Parking officer", "Housing officer", "Data protection officer", "Administrator"]
    sign_in_staff(client, make_staff(*others, username="others"))
    assert client.get(path, {"reason": "resident_request", "surname": "obrien"}).status_code == 403
    assert _viewed() == []


def test_the_resident_records_area_lists_the_tool(client, officer):
    html = client.get("/staff/residents/").content.decode()
    assert f'href="{FIND}"' in html and "Find a resident" in html


# The search form ---------------------------------------------------------------------------


def test_the_empty_form_asks_for_a_surname_a_date_of_birth_and_a_reason(client, linked, officer):
    response = client.get(FIND)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'method="get"' in html
    for name in ("surname", "first_name", "dob_day", "dob_month", "dob_year", "postcode", "reason"):
        assert f'name="{name}"' in html
    assert "Dealing with a resident&#39;s request" in html
    assert "There is a problem" not in html and "Results" not in html
    assert response["Cache-Control"].startswith("max-age=0")
    assert _viewed() == []


def test_a_search_needs_a_surname_and_a_reason(client, linked, officer):
    html = client.get(FIND, {"surname": "", "first_name": "Siobhan"}).content.decode()
    assert "<title>Error: " in html
    assert "There is a problem" in html
    assert 'href="#id_surname">Enter the resident&#39;s surname' in html
    assert 'href="#id_reason_0">Select why you are looking at these records' in html
    assert "Results" not in html
    assert _viewed() == []


@pytest.mark.parametrize(
    ("day", "month", "year", "message", "anchor", "wrong"),
    [
        ("27", "", "1980", "Date of birth must include a month", "month", ["month"]),
        ("", "", "1980", "Date of birth must include a day and month", "day", ["day", "month"]),
        ("31", "2", "1980", "Date of birth must be a real date", "day", ["day", "month", "year"]),
        ("27", "13", "1980", "Date of birth must be a real date", "day", ["day", "month", "year"]),
        ("twenty", "3", "1980", "Date of birth must be a real date", "day", ["day", "year"]),
        ("27", "3", "80", "Year must include 4 numbers", "year", ["year"]),
        ("1", "1", "2999", "Date of birth must be in the past", "day", ["day", "month", "year"]),
    ],
)
def test_date_of_birth_errors(client, linked, officer, day, month, year, message, anchor, wrong):
    html = _search(
        client, surname="O'Brien", dob_day=day, dob_month=month, dob_year=year
    ).content.decode()
    assert f'href="#id_dob_{anchor}">{message}</a>' in html
    assert 'id="id_dob-error"' in html  # the message on the date input itself
    for part in wrong:
        assert re.search(rf'class="[^"]*govuk-input--error[^"]*" id="id_dob_{part}"', html), part
    assert "Results" not in html
    assert _viewed() == []


def test_an_invalid_postcode_is_a_field_error(client, linked, officer):
    html = _search(client, surname="O'Brien", postcode="not a postcode").content.decode()
    assert 'href="#id_postcode">Enter a real postcode, like E8 1DY' in html
    assert _viewed() == []


# Search results ----------------------------------------------------------------------------


def test_results_are_grouped_by_resident_with_their_names_dates_and_datasets(
    client, linked, officer
):
    response = _search(client, surname="o’brien")  # a curly apostrophe: still found

    assert response.status_code == 200
    html = response.content.decode()
    assert _residents_listed(html) == [ROBERT, SIOBHAN]
    assert "5 matching records: 2 residents and 1 record not linked yet" in html
    assert "Siobhán O&#39;Brien" in html and "SIOBHAN OBRIEN" in html
    assert "27/03/1980" in html and "1980-03-27" in html  # as each record gives it
    assert "Council tax: 2" in html and "Electoral register: 1" in html
    assert "Not linked yet" in html and "Sean O&#39;Brien" in html
    assert "Jane" not in html


def test_a_search_is_one_data_use_call_for_the_residents_it_shows(client, linked, officer):
    _search(client, surname="O'Brien")

    viewed = _viewed()
    assert sorted(event.subject_resident_id for event in viewed) == sorted([SIOBHAN, ROBERT])
    assert len({event.action_id for event in viewed}) == 1  # one call
    for event in viewed:
        assert event.purpose == "staff_view_records"
        assert event.service == "residents"
        assert event.action == "viewed_records"
        assert event.actor_kind == "staff"
        assert event.actor_user == officer
        assert event.lawful_basis == "public_task_council_services"
        assert event.datasets_read == ["council_tax", "electoral_register"]
        assert event.reference == "resident_request"
        assert event.outcome == "listed_in_search"
        _assert_no_personal_data(event)


def test_first_name_date_of_birth_and_postcode_narrow_the_search(client, linked, officer):
    html = _search(client, surname="OBRIEN", first_name="bob").content.decode()
    assert _residents_listed(html) == [ROBERT]  # bob is robert

    html = _search(
        client, surname="obrien", dob_day="27", dob_month="3", dob_year="1980"
    ).content.decode()
    assert _residents_listed(html) == [SIOBHAN]
    assert "3 matching records: 1 resident" in html

    html = _search(client, surname="O'Brien", postcode="e81dy").content.decode()
    assert _residents_listed(html) == [SIOBHAN]
    assert "2 matching records" in html  # not the ended record at another postcode


def test_a_search_that_finds_nobody_records_nothing(client, linked, officer):
    html = _search(client, surname="Nobody").content.decode()
    assert "No records match" in html
    assert _viewed() == []


def test_records_not_linked_yet_are_shown_as_such_and_name_no_resident(client, linked, officer):
    html = _search(client, surname="O'Brien", first_name="Sean").content.decode()
    assert "Not linked yet" in html and "Sean O&#39;Brien" in html
    assert _residents_listed(html) == []
    assert _viewed() == []  # no resident ID to record it against


def test_at_most_fifty_records_are_shown(client, linked, officer, settings):
    dataset = SourceDataset.objects.get(code="electoral_register")
    load = DatasetLoad.objects.get(dataset=dataset)
    assignment = {}
    for number in range(60):
        ref = f"ER-1{number:03d}"
        _record((dataset, load), ref, "Ann", "Many", "01/01/1970")
        assignment[f"electoral_register:{ref}"] = encode_id(100 + number)
    _write_index(settings.DATA_DIR, assignment)

    html = _search(client, surname="Many").content.decode()

    assert "More than 50 records match" in html
    assert len(_residents_listed(html)) == 50
    assert len(_viewed()) == 50


# A resident's records ----------------------------------------------------------------------


def test_a_resident_page_asks_for_the_reason_first(client, linked, officer):
    path = f"/staff/residents/records/{SIOBHAN}"
    html = client.get(path).content.decode()
    assert "Why are you looking at these records?" in html
    assert 'name="reason"' in html and "O&#39;Brien" not in html
    html = client.get(path, {"reason": "curiosity"}).content.decode()
    assert 'href="#id_reason_0">Select why you are looking at these records' in html
    assert "O&#39;Brien" not in html
    assert _viewed() == []


def test_a_resident_page_shows_every_record_by_dataset(client, linked, officer):
    response = client.get(f"/staff/residents/records/{SIOBHAN}", {"reason": "correcting_records"})

    assert response.status_code == 200
    html = response.content.decode()
    assert f"Resident {SIOBHAN}" in html
    assert "3 records in 2 datasets" in html
    assert html.index('id="dataset-council_tax"') < html.index('id="dataset-electoral_register"')
    # Current before ended within a dataset.
    assert html.index("Record 600000001#1") < html.index("Record 500000009#1")
    for value in (
        "Siobhán O&#39;Brien",
        "SIOBHAN OBRIEN",
        "27/03/1980",
        "Flat 3, 12 Albion Road",
        "12 ALBION RD",
        "E81DY",
        "siobhan@example.com",
        "07700 900123",
        "100000000001",
        "From the source&#39;s UPRN",
        "Matched from the address",
        "Not matched: No address in the gazetteer is close enough",
        "1 April 2019",
        "31 March 2019",
        "Ended",
        "Current",
        "Record ER-0001",
    ):
        assert value in html, value
    assert "Robert" not in html and "Sean" not in html
    # The history of the ID, from the index's event log.
    assert "New resident ID, with 2 records" in html
    assert f"The records of {encode_id(9)} joined this resident; now 3 records" in html


def test_viewing_a_resident_is_one_event_for_that_resident(client, linked, officer):
    client.get(f"/staff/residents/records/{ROBERT}", {"reason": "service_application"})

    [event] = _viewed()
    assert event.subject_resident_id == ROBERT
    assert event.purpose == "staff_view_records" and event.service == "residents"
    assert event.action == "viewed_records"
    assert event.actor_user == officer and event.actor_kind == "staff"
    assert event.datasets_read == ["electoral_register"]
    assert event.reference == "service_application"
    assert event.outcome == "viewed_all_records"
    _assert_no_personal_data(event)


@pytest.mark.parametrize("resident_id", [encode_id(77), "not*an*id", "R" + "X" * 60])
def test_an_unknown_or_malformed_resident_is_not_found(client, linked, officer, resident_id):
    response = client.get(f"/staff/residents/records/{resident_id}", {"reason": "resident_request"})
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert _viewed() == []


# Before any link ---------------------------------------------------------------------------


def test_before_the_records_are_linked_the_pages_say_so(
    client, records, officer, settings, tmp_path
):
    settings.DATA_DIR = tmp_path / "empty"
    for path in (FIND, f"/staff/residents/records/{SIOBHAN}"):
        response = client.get(path, {"reason": "resident_request", "surname": "O'Brien"})
        assert response.status_code == 200
        html = response.content.decode()
        assert "The records have not been linked yet" in html, path
        assert "O&#39;Brien" not in html
    assert _viewed() == []


def _assert_no_personal_data(event) -> None:
    stored = " ".join(
        str(getattr(event, name))
        for name in (
            "subject_resident_id",
            "actor_label",
            "service",
            "purpose",
            "purpose_text",
            "lawful_basis",
            "lawful_basis_text",
            "datasets_read",
            "action",
            "reference",
            "outcome",
        )
    ).lower()
    for value in PERSONAL:
        assert value.lower() not in stored, value


# A fraud investigation: held back from the resident until the data protection officer releases it


def _restricted(purpose="fraud_investigation_records"):
    return list(events(purpose=purpose))


def test_a_fraud_investigation_needs_its_case_reference_and_records_nothing_without_it(
    client, linked, officer
):
    for case in ("", "Siobhan OBrien 27/03/1980"):
        html = _search(client, surname="O'Brien", reason="fraud_investigation", case=case)
        html = html.content.decode()
        assert "There is a problem" in html
        assert _residents_listed(html) == []
    assert (
        "Enter the case reference of the fraud investigation"
        in _search(client, surname="O'Brien", reason="fraud_investigation").content.decode()
    )
    assert _viewed() == [] and _restricted() == []


def test_a_fraud_investigation_search_is_recorded_held_back_from_the_residents(
    client, linked, officer
):
    from borough.transparency.queries import events_for_resident

    html = _search(client, surname="O'Brien", reason="fraud_investigation", case="FR-2026-0042")
    html = html.content.decode()
    assert _residents_listed(html) == [ROBERT, SIOBHAN]
    assert (
        f"/staff/residents/records/{ROBERT}?reason=fraud_investigation&amp;case=FR-2026-0042"
        in (html)
    )
    assert "held back from the residents until the data protection officer releases it" in html
    assert _viewed() == []  # not an ordinary look-up
    held = _restricted()
    assert sorted(e.subject_resident_id for e in held) == [ROBERT, SIOBHAN]
    for event in held:
        assert event.restriction_reason_code == "fraud_investigation"
        assert event.hidden_until is None  # until the data protection officer releases it
        assert event.reference == "FR-2026-0042" and event.actor_user == officer
        _assert_no_personal_data(event)
    # the hold is itself recorded, and held back the same way
    assert len(_restricted("data_use_restriction")) == 2
    assert list(events_for_resident(SIOBHAN)) == []


def test_a_fraud_investigation_view_is_held_back_until_released(
    client, linked, officer, make_staff
):
    from borough.transparency.queries import events_for_resident
    from borough.transparency.visibility import release_event

    url = f"/staff/residents/records/{ROBERT}"
    response = client.get(url, {"reason": "fraud_investigation"})
    assert "Enter the case reference of the fraud investigation" in response.content.decode()
    assert _restricted() == []

    response = client.get(url, {"reason": "fraud_investigation", "case": "FR-2026-0042"})
    assert response.status_code == 200
    assert "(case FR-2026-0042); it is held back from the resident" in response.content.decode()
    [event] = _restricted()
    assert event.subject_resident_id == ROBERT and event.outcome == "viewed_all_records"
    assert list(events_for_resident(ROBERT)) == []

    dpo = make_staff("Data protection officer", username="dpo-release")
    release_event(event.pk, officer=dpo, reason="Investigation closed")
    shown = [e.purpose for e in events_for_resident(ROBERT)]
    assert "fraud_investigation_records" in shown
