""" "How we used your data": a resident sees their own events only, in words, filtered and paged,
and the public pages about the council's datasets."""

from datetime import datetime

import pytest
from django.urls import reverse

from borough.core.models import User
from borough.transparency.models import DataUseEvent
from borough.transparency.resident_queries import resident_ids_of

from .resident_world import LONDON, OFFICER_NAME, OFFICER_USERNAME, build, check, record

pytestmark = pytest.mark.django_db

TIMELINE = reverse("transparency:timeline")


@pytest.fixture
def world(make_staff):
    return build(make_staff)


def page(client, user, url, **query):
    client.force_login(user)
    response = client.get(url, query)
    return response, response.content.decode()


def entry_url(event) -> str:
    return reverse("transparency:entry", args=[event.pk])


def test_the_start_page_is_public_and_the_catalogue_links_to_it(client):
    response = client.get(reverse("transparency:start"))
    assert response.status_code == 200
    assert "How we use your data" in response.content.decode()
    assert reverse("transparency:start") in client.get("/").content.decode()


def test_only_passed_checks_made_by_the_account_itself_give_it_a_resident_id(
    world, make_staff, sign_in_staff
):
    carol = User.objects.create_resident("carol@example.org")
    check(carol, "R-CAROL-REFERRED", decision="refer")  # waiting for an officer
    check(carol, "R-CAROL-REJECTED", decision="refer", review="rejected")
    check(carol, "", decision="not_found")
    check(carol, "R-CAROL", decision="refer", review="confirmed")
    check(carol, "R-CAROL")  # checked again: still one ID
    check(world.officer, "R-OFFICER-CHECKED")  # an officer's check names no account of theirs
    assert resident_ids_of(carol) == ["R-CAROL"]
    assert resident_ids_of(world.ada) == ["R-ADA"]
    assert resident_ids_of(world.officer) == []


def test_a_resident_the_index_does_not_know_is_told_why_and_what_to_do(client, world):
    dan = User.objects.create_resident("dan@example.org")
    response, html = page(client, dan, TIMELINE)
    assert response.status_code == 200
    assert "has not checked who you are yet" in html
    assert reverse("parking:start") in html and "mailto:" in html
    check(dan, "R-DAN-REFERRED", decision="refer")  # not passed: still nothing of anyone's
    response, html = page(client, dan, TIMELINE)
    assert "has not yet been able to confirm who you are" in html
    assert "PP-2026-" not in html
    _, html = page(client, dan, reverse("transparency:questions"))
    assert "cannot show you" in html


def test_anonymous_visitors_and_staff_cannot_open_a_timeline_or_an_entry(
    client, world, sign_in_staff, make_staff
):
    for url in (TIMELINE, entry_url(world.ada_events[0]), reverse("transparency:questions")):
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response["Location"]
    sign_in_staff(client, make_staff("Data protection officer", username="dpo"))
    for url in (TIMELINE, entry_url(world.ada_events[0])):
        assert client.get(url).status_code == 403


def test_the_timeline_shows_the_residents_own_events_in_words(client, world):
    response, html = page(client, world.ada, TIMELINE)
    assert response.status_code == 200
    assert "2 entries" in html
    assert "Automatic check by the parking service" in html
    assert "Housing team" in html
    assert "To check you live at the address you gave for your parking permit" in html
    assert "UK GDPR Article 6(1)(e), public task" in html
    assert "10 March 2026 at 9:05am" in html
    assert "Your details matched council records" in html
    # dataset titles, linked to their public pages; never codes
    assert f'href="{reverse("transparency:dataset", args=["council_tax"])}"' in html
    assert "Council tax accounts" in html and "Rent accounts" in html
    assert "council_tax" not in html.replace('datasets/council_tax"', "")
    # nobody else's events, nor the look-ups that found nobody
    assert "PP-2026-BOBBOB" not in html and "PP-2026-NOBODY" not in html


def test_the_officers_name_never_appears_on_any_resident_page(client, world):
    staff_event = world.ada_events[1]
    urls = [
        TIMELINE,
        entry_url(staff_event),
        reverse("transparency:question", args=[staff_event.pk]),
        reverse("transparency:questions"),
    ]
    for url in urls:
        _, html = page(client, world.ada, url)
        for words in (*OFFICER_NAME, OFFICER_USERNAME, "Council officer"):
            assert words not in html, (url, words)


def test_another_residents_event_a_guessed_or_a_tampered_id_is_a_plain_404(client, world):
    client.force_login(world.ada)
    highest = DataUseEvent.objects.order_by("-pk").first().pk
    for event_id in (world.bob_event.pk, world.nobody_event.pk, highest + 1, 999999):
        for url in (
            entry_url_for(event_id),
            reverse("transparency:question", args=[event_id]),
        ):
            response = client.get(url)
            assert response.status_code == 404, url
            assert "PP-2026-" not in response.content.decode()
        response = client.post(reverse("transparency:question", args=[event_id]), {"question": "x"})
        assert response.status_code == 404
    assert client.get("/how-we-use-your-data/timeline/-1").status_code == 404
    assert client.get("/how-we-use-your-data/timeline/R-BOB").status_code == 404
    # query parameters the form does not know change nothing
    _, html = page(client, world.ada, TIMELINE, resident_id="R-BOB", subject_resident_id="R-BOB")
    assert "PP-2026-BOBBOB" not in html and "2 entries" in html


def entry_url_for(event_id: int) -> str:
    return reverse("transparency:entry", args=[event_id])


def test_the_entry_page_shows_one_event_and_no_proof_section_until_there_is_a_proof(client, world):
    response, html = page(client, world.ada, entry_url(world.ada_events[0]))
    assert response.status_code == 200
    assert "Checked your details against council records" in html
    assert "PP-2026-000001" in html
    assert "I don&#39;t recognise this" in html or "I don't recognise this" in html
    assert "sealed log" not in html


def test_the_timeline_filters_by_service_and_dates(client, world):
    _, html = page(client, world.ada, TIMELINE, service="housing")
    assert "1 entry" in html and "Housing team" in html and "9:05am" not in html
    dates = {"since_day": "1", "since_month": "4", "since_year": "2026"}
    _, html = page(client, world.ada, TIMELINE, **dates)
    assert "1 entry" in html and "2 April 2026" in html
    dates = {"until_day": "31", "until_month": "3", "until_year": "2026"}
    _, html = page(client, world.ada, TIMELINE, **dates)
    assert "1 entry" in html and "10 March 2026" in html
    _, html = page(client, world.ada, TIMELINE, service="parking", since_year="2027", **dates)
    assert "0 entries" not in html  # a wrong date shows no results, only the error


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"since_day": "1", "since_year": "2026"}, "The ‘from’ date must include a month"),
        ({"until_day": "31", "until_month": "2", "until_year": "2026"}, "must be a real date"),
        (
            {"since_day": "1", "since_month": "1", "since_year": "26"},
            "The ‘from’ date must include a year with 4 numbers",
        ),
        (
            {"since_day": "2", "since_month": "4", "since_year": "2026", "until_day": "1"}
            | {"until_month": "4", "until_year": "2026"},
            "The ‘to’ date must be the same as or after the ‘from’ date",
        ),
        ({"service": "tax"}, "Select a service from the list"),
    ],
)
def test_bad_filters_get_a_govuk_error_and_keep_what_was_typed(client, world, query, message):
    response, html = page(client, world.ada, TIMELINE, **query)
    assert response.status_code == 200
    assert "There is a problem" in html and message in html
    assert "<title>Error: " in html
    for name, value in query.items():
        if name != "service":  # a service not in the list cannot be selected again
            assert f'value="{value}"' in html, name


def test_the_timeline_is_paged_and_pages_keep_the_filters(client, world):
    for day in range(1, 26):
        record(datetime(2026, 5, day, 12, 0, tzinfo=LONDON), ["R-ADA"], reference=f"PP-MAY-{day}")
    _, html = page(client, world.ada, TIMELINE, service="parking")
    assert "26 entries (page 1 of 3)" in html
    assert "PP-MAY-25" in html and "PP-MAY-15<" not in html
    assert "?service=parking&amp;page=2" in html
    _, html = page(client, world.ada, TIMELINE, service="parking", page="3")
    assert "(page 3 of 3)" in html and "PP-MAY-5<" in html and "PP-MAY-6<" not in html
    _, html = page(client, world.ada, TIMELINE, page="99")  # past the end: the last page
    assert "(page 3 of 3)" in html
    _, html = page(client, world.ada, TIMELINE, page="abc")
    assert "(page 1 of 3)" in html


@pytest.mark.postgres
def test_a_heavy_residents_timeline_is_counted_without_jit_compiling(client, world):
    """PostgreSQL JIT-compiles a query its planner prices above ``jit_above_cost``. The count of
    a resident with 20,000 events was priced so (its "released" test as a scan of the releases
    for every event), and compiling it took as long again as running it: the slowest timeline
    page's time (docs/data-use-log.md, "Speed")."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's planner")
    heavy = 20_000
    columns = (
        "subject_resident_id, actor_kind, actor_label, service, purpose, purpose_text, "
        "lawful_basis, lawful_basis_text, datasets_read, action, reference, outcome, "
        "actor_user_id, hidden_until, restriction_reason_code"
    )
    with connection.cursor() as cursor:
        # Ada's first event again every hour before it, in one statement (record_data_use would
        # take minutes); then the statistics the planner prices the count with.
        cursor.execute(
            f"INSERT INTO transparency_datauseevent (action_id, occurred_at, {columns}) "
            f"SELECT gen_random_uuid(), occurred_at - n * interval '1 hour', {columns} "
            "FROM transparency_datauseevent, generate_series(1, %s) AS n WHERE id = %s",
            [heavy, world.ada_events[0].pk],
        )
        cursor.execute("ANALYZE transparency_datauseevent")
    with CaptureQueriesContext(connection) as queries:
        _, html = page(client, world.ada, TIMELINE)
    assert "20,002 entries (page 1 of 2001)" in html  # with Ada's own two
    [count] = [
        q["sql"]
        for q in queries
        if q["sql"].startswith('SELECT COUNT(*) AS "__count" FROM "transparency_datauseevent"')
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit_above_cost')::float")
        jit_above_cost = cursor.fetchone()[0]
        cursor.execute(f"EXPLAIN (FORMAT JSON) {count}")
        priced = cursor.fetchone()[0][0]["Plan"]["Total Cost"]
    assert priced < jit_above_cost / 10


def test_a_resident_with_two_checked_ids_sees_the_events_of_both(client, world):
    check(world.ada, "R-ADA-OLD")
    record(datetime(2026, 1, 5, 8, 0, tzinfo=LONDON), ["R-ADA-OLD"], reference="PP-OLD")
    _, html = page(client, world.ada, TIMELINE)
    assert "3 entries" in html and "PP-OLD" in html


def test_the_dataset_pages_say_what_is_held_why_for_how_long_and_who_owns_it(client, world):
    html = client.get(reverse("transparency:dataset", args=["council_tax"])).content.decode()
    for words in (
        "Who is liable for council tax",
        "To bill and collect council tax.",
        "6 years after an account closes.",
        "Revenues: Council Tax team",
        "Head of Revenues",
        "UK GDPR Art 6(1)(e) public task",
    ):
        assert words in html
    html = client.get(reverse("transparency:dataset", args=["rent_accounts"])).content.decode()
    assert "Rent accounts" in html and "tenancy agreement" in html
    listed = client.get(reverse("transparency:datasets")).content.decode()
    assert "Council tax accounts" in listed and "The data-use log" in listed
    assert client.get(reverse("transparency:dataset", args=["no_such"])).status_code == 404


def test_a_dataset_declared_without_the_texts_says_not_given(client, world):
    from borough.residents.models import SourceDataset

    SourceDataset.objects.filter(code="council_tax").update(purpose="", kept_for="", asset_owner="")
    html = client.get(reverse("transparency:dataset", args=["council_tax"])).content.decode()
    assert html.count("Not given") == 3


def test_the_dataset_pages_give_the_councils_own_retention_periods(client, world, settings):
    from borough.core.profile import Retention

    retention = Retention(
        data_use_events="2 years",
        records={
            "parking_applications": "3 years",
            "rent_tenancies": "4 years",
            "direct_debit_mandates": "5 years",
            "verifications": "7 years",
        },
    )
    settings.COUNCIL = settings.COUNCIL.model_copy(update={"retention": retention})
    html = client.get(reverse("transparency:dataset", args=["data_use_log"])).content.decode()
    assert "2 years after each entry is made, then deleted." in html
    assert "6 years" not in html
    html = client.get(reverse("transparency:dataset", args=["parking_permits"])).content.decode()
    assert "3 years after the application is decided or its permit ends" in html
    assert "6 years" not in html and "visitor's registration is removed" not in html
    for code, said in [
        ("rent_accounts", "4 years after a tenancy ends"),
        ("direct_debit_mandates", "5 years after the Direct Debit is cancelled"),
        ("verifications", "7 years after the check"),
    ]:
        html = client.get(reverse("transparency:dataset", args=[code])).content.decode()
        assert said in html, code
    settings.COUNCIL = settings.COUNCIL.model_copy(update={"retention": Retention()})
    html = client.get(reverse("transparency:dataset", args=["parking_permits"])).content.decode()
    assert "6 years" not in html and "Not given" in html


def test_a_held_back_or_released_entry_reads_to_you_not_to_the_resident():
    from borough.transparency.models import DataUseEvent
    from borough.transparency.resident_view import what_was_done

    assert what_was_done(DataUseEvent(action="released")) == "Released to you"
    assert what_was_done(DataUseEvent(action="held_back")) == "Held back from you"
    assert DataUseEvent(action="released").get_action_display() == "Released to the resident"
