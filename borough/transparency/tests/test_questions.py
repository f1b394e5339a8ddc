""" "I don't recognise this": a resident questions their own entry, the data protection officer
answers it in the staff site, and the resident reads the answer, never who wrote it."""

import pytest
from django.urls import reverse

from borough.transparency.models import DataUseEvent, QuestionedEntry
from borough.transparency.questions import AlreadyAnswered, answer_question

from .resident_world import OFFICER_NAME, build

pytestmark = pytest.mark.django_db

QUEUE = reverse("transparency:staff-questions")


@pytest.fixture
def world(make_staff):
    return build(make_staff)


@pytest.fixture
def dpo(make_staff):
    officer = make_staff("Data protection officer", username="dana.dpo")
    officer.first_name, officer.last_name = "Dana", "Okafor"
    officer.save()
    return officer


def ask(client, user, event, question="I never applied for a permit."):
    client.force_login(user)
    return client.post(reverse("transparency:question", args=[event.pk]), {"question": question})


def test_a_resident_questions_an_entry_and_reads_the_answer_without_who_wrote_it(
    client, world, dpo, sign_in_staff
):
    event = world.ada_events[0]
    response = ask(client, world.ada, event)
    assert response.status_code == 302 and response["Location"] == reverse(
        "transparency:entry", args=[event.pk]
    )
    case = QuestionedEntry.objects.get()
    assert (case.event, case.resident_id, case.asked_by, case.status) == (
        event,
        "R-ADA",
        world.ada,
        "open",
    )
    html = client.get(response["Location"]).content.decode()
    assert "We have sent your question" in html and "Waiting for an answer" in html
    assert "I never applied for a permit." in html

    sign_in_staff(client, dpo)
    queue = client.get(QUEUE).content.decode()
    assert case.reference in queue and "R-ADA" in queue
    answer_page = reverse("transparency:staff-question", args=[case.pk])
    assert "I never applied for a permit." in client.get(answer_page).content.decode()
    blank = client.post(answer_page, {"answer": "  "})
    assert "Enter your answer to the resident" in blank.content.decode()
    before = DataUseEvent.objects.count()
    response = client.post(answer_page, {"answer": "This was your permit renewal in March."})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "answered" and case.answered_by == dpo and case.answered_at
    recorded = DataUseEvent.objects.order_by("-pk")[: DataUseEvent.objects.count() - before]
    assert [(e.subject_resident_id, e.purpose, e.reference, e.actor_user) for e in recorded] == [
        ("R-ADA", "data_use_log_audit", case.reference, dpo)
    ]
    assert case.reference not in client.get(QUEUE).content.decode().split("Answered recently")[0]

    client.force_login(world.ada)
    for url in (reverse("transparency:entry", args=[event.pk]), reverse("transparency:questions")):
        html = client.get(url).content.decode()
        assert "This was your permit renewal in March." in html
        for words in ("Dana", "Okafor", "dana.dpo", *OFFICER_NAME):
            assert words not in html, (url, words)
    # the answer is itself an entry the resident can see, by the data protection officer
    timeline = client.get(reverse("transparency:timeline")).content.decode()
    assert "Data protection officer" in timeline and case.reference in timeline


def test_asking_twice_about_one_entry_opens_one_case(client, world):
    ask(client, world.ada, world.ada_events[0])
    ask(client, world.ada, world.ada_events[0], "again")
    assert QuestionedEntry.objects.count() == 1


def test_a_question_may_be_left_blank_but_not_too_long(client, world):
    ask(client, world.ada, world.ada_events[0], "")
    assert QuestionedEntry.objects.get().question == ""
    response = ask(client, world.ada, world.ada_events[1], "x" * 1001)
    assert response.status_code == 200
    html = response.content.decode()
    assert "must be 1,000 characters or fewer" in html and "x" * 1001 in html
    assert QuestionedEntry.objects.count() == 1


def test_nobody_else_sees_a_residents_question(client, world, make_staff, sign_in_staff):
    ask(client, world.ada, world.ada_events[0])
    case = QuestionedEntry.objects.get()
    client.force_login(world.bob)
    html = client.get(reverse("transparency:questions")).content.decode()
    assert "I never applied" not in html
    assert client.get(reverse("transparency:entry", args=[case.event_id])).status_code == 404
    # a resident cannot reach the staff pages, nor another role of staff
    assert client.get(reverse("transparency:staff-question", args=[case.pk])).status_code == 403
    sign_in_staff(client, make_staff("Parking officer", username="parker"))
    assert client.get(QUEUE).status_code == 403
    answer_page = reverse("transparency:staff-question", args=[case.pk])
    assert client.post(answer_page, {"answer": "no"}).status_code == 403
    case.refresh_from_db()
    assert case.status == "open"


def test_a_question_is_answered_once(client, world, dpo, make_staff, sign_in_staff):
    ask(client, world.ada, world.ada_events[0])
    case = QuestionedEntry.objects.get()
    answer_question(case, dpo, "First answer.")
    with pytest.raises(AlreadyAnswered):
        answer_question(case, make_staff("Data protection officer", username="dpo2"), "Second.")
    sign_in_staff(client, dpo)
    page = reverse("transparency:staff-question", args=[case.pk])
    client.post(page, {"answer": "Third."})
    case.refresh_from_db()
    assert case.answer == "First answer."
    assert client.get(reverse("transparency:staff-question", args=[999999])).status_code == 404


def test_asking_is_rate_limited_per_account_and_keeps_what_was_typed(client, world, settings):
    settings.BOROUGH_RATE_LIMITS = {"questioned-entry-account": "1/3600"}
    ask(client, world.ada, world.ada_events[0])
    response = ask(client, world.ada, world.ada_events[1], "Please check this one too.")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert "You have asked about 1 entry recently" in html
    assert "Please check this one too." in html
    assert QuestionedEntry.objects.count() == 1
    # another account has its own count
    ask(client, world.bob, world.bob_event)
    assert QuestionedEntry.objects.count() == 2


def test_a_second_question_while_one_is_open_is_refused_and_the_open_one_is_shown(client, world):
    event = world.ada_events[0]
    url = reverse("transparency:question", args=[event.pk])
    first = ask(client, world.ada, event, "First words.")
    assert "We have sent your question" in client.get(first["Location"]).content.decode()
    page = client.get(url).content.decode()
    assert "First words." in page and "You asked on" in page
    assert 'name="question"' not in page  # the form is not offered again
    refused = client.post(url, {"question": "Something I forgot to say."})
    html = refused.content.decode()
    assert refused.status_code == 409
    assert "We have not sent what you just wrote" in html and "First words." in html
    assert "We have sent your question" not in html
    assert list(QuestionedEntry.objects.values_list("question", flat=True)) == ["First words."]
    entry_page = client.get(reverse("transparency:entry", args=[event.pk])).content.decode()
    assert "We have sent your question" not in entry_page


def test_the_database_keeps_one_open_question_per_entry_and_account(world):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    event = world.ada_events[0]
    QuestionedEntry.objects.create(
        event=event, resident_id="R-ADA", asked_by=world.ada, created_at=timezone.now()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        QuestionedEntry.objects.create(
            event=event, resident_id="R-ADA", asked_by=world.ada, created_at=timezone.now()
        )
