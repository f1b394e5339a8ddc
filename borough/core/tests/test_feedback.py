import pytest

from borough.core.models import Feedback

pytestmark = pytest.mark.django_db


def test_feedback_from_the_phase_banner_is_stored_with_the_page(client):
    form = client.get("/feedback?page=/privacy").content.decode()
    assert 'name="page" value="/privacy"' in form
    response = client.post(
        "/feedback", {"satisfaction": "4", "comments": "Quick and clear", "page": "/privacy"}
    )
    assert response.status_code == 302 and response["Location"] == "/feedback/sent"
    item = Feedback.objects.get()
    assert (item.satisfaction, item.comments, item.page) == (4, "Quick and clear", "/privacy")


def test_feedback_without_a_rating_says_what_to_do_and_stores_nothing(client):
    response = client.post("/feedback", {"comments": "hello"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "Select how you felt about the service" in page
    assert 'href="#id_satisfaction_0"' in page and 'id="id_satisfaction_0"' in page
    assert page.count("Error:") >= 1
    assert Feedback.objects.count() == 0


def test_feedback_page_link_must_be_on_this_site(client):
    page = client.get("/feedback?page=https://evil.example/").content.decode()
    assert "evil.example" not in page


def test_staff_see_feedback(client, make_staff, sign_in_staff):
    Feedback.objects.create(satisfaction=2, comments="Could not find my road", page="/addresses")
    sign_in_staff(client, make_staff("Administrator"))
    page = client.get("/staff/feedback").content.decode()
    assert "Could not find my road" in page and "Dissatisfied" in page


def test_feedback_is_not_shown_to_other_roles(client, make_staff, sign_in_staff):
    sign_in_staff(client, make_staff("Parking officer"))
    assert client.get("/staff/feedback").status_code == 403


def test_staff_see_when_feedback_came_in_words_in_london_time(client, make_staff, sign_in_staff):
    import datetime as dt

    item = Feedback.objects.create(satisfaction=5, comments="Quick", page="/parking")
    # 9:05 in the morning in London (8:05 UTC in summer time), and 4 July with no leading zero.
    Feedback.objects.filter(pk=item.pk).update(
        created_at=dt.datetime(2019, 7, 4, 8, 5, tzinfo=dt.UTC)
    )
    sign_in_staff(client, make_staff("Administrator"))
    page = client.get("/staff/feedback").content.decode()
    assert "4 July 2019 at 9:05am" in page
    assert "04 Jul" not in page and "08:05" not in page
