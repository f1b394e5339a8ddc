import re

import pytest
from django.core import mail

from borough.core.models import User

pytestmark = pytest.mark.django_db


def _link_from_email() -> str:
    body = mail.outbox[-1].body
    return re.search(r"http://testserver(/sign-in/link\?\S+)", body).group(1)


def test_resident_signs_in_with_an_emailed_link(client):
    response = client.post("/sign-in", {"email": "Amira.Khan@Example.com"})
    assert response["Location"] == "/sign-in/check-email"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["amira.khan@example.com"]
    link = _link_from_email()

    opened = client.get(link)  # opening the link does not sign in yet (mail scanners open links)
    assert opened.status_code == 200 and "Continue" in opened.content.decode()
    assert "_auth_user_id" not in client.session

    token = re.search(r"token=([^&\s]+)", link).group(1)
    response = client.post("/sign-in/link", {"token": token})
    assert response["Location"] == "/account"
    user = User.objects.get(email="amira.khan@example.com")
    assert user.is_resident and not user.has_usable_password()
    assert client.get("/account").status_code == 200


def test_a_sign_in_link_works_only_once(client):
    client.post("/sign-in", {"email": "once@example.com"})
    token = re.search(r"token=([^&\s]+)", _link_from_email()).group(1)
    assert client.post("/sign-in/link", {"token": token}).status_code == 302
    client.logout()
    again = client.post("/sign-in/link", {"token": token})
    assert again.status_code == 400
    assert "Your sign-in link has expired" in again.content.decode()


def test_an_expired_link_asks_for_a_new_one(client, settings):
    client.post("/sign-in", {"email": "late@example.com"})
    token = re.search(r"token=([^&\s]+)", _link_from_email()).group(1)
    settings.SESAME_MAX_AGE = -1
    import sesame.settings

    sesame.settings.MAX_AGE = -1
    try:
        response = client.get(f"/sign-in/link?token={token}")
    finally:
        sesame.settings.MAX_AGE = 20 * 60
    assert response.status_code == 400


def test_the_same_email_signs_in_to_the_same_account(client):
    client.post("/sign-in", {"email": "same@example.com"})
    client.post("/sign-in", {"email": "SAME@example.com"})
    assert User.objects.residents().filter(email="same@example.com").count() == 1


def test_a_bad_email_gets_a_specific_message(client):
    page = client.post("/sign-in", {"email": "not-an-email"}).content.decode()
    assert "Enter an email address in the correct format, like name@example.com" in page
    assert not mail.outbox


def test_sign_in_next_page_must_be_on_this_site(client):
    client.post("/sign-in", {"email": "next@example.com", "next": "https://evil.example/"})
    assert "evil.example" not in mail.outbox[-1].body


def test_staff_sign_in_with_password(client, make_staff):
    make_staff("Parking officer", username="pat")
    response = client.post(
        "/staff/sign-in", {"username": "pat", "password": "correct horse battery"}
    )
    assert response["Location"] == "/staff/"
    page = client.get("/staff/").content.decode()
    assert "Parking" in page and "Housing" not in page


def test_wrong_staff_password_is_refused_with_a_message(client, make_staff):
    make_staff("Parking officer", username="pat")
    page = client.post("/staff/sign-in", {"username": "pat", "password": "nope"}).content.decode()
    assert "Enter a correct username and password" in page


def test_a_resident_account_cannot_sign_in_as_staff(client):
    user = User.objects.create_resident("r@example.com")
    user.set_password("correct horse battery")
    user.save()
    response = client.post(
        "/staff/sign-in", {"username": user.username, "password": "correct horse battery"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_resident_can_never_be_staff():
    from django.db import IntegrityError

    user = User.objects.create_resident("x@example.com")
    user.is_staff = True
    with pytest.raises(IntegrityError):
        user.save()


def test_sign_out(client, resident):
    client.force_login(resident)
    assert client.post("/sign-out")["Location"] == "/signed-out"
    assert client.get("/account").status_code == 302


def test_sign_in_emails_to_one_address_are_limited(client):
    from borough.core.views import MAGIC_LINKS_PER_WINDOW

    for _ in range(MAGIC_LINKS_PER_WINDOW + 2):
        response = client.post("/sign-in", {"email": "flooded@example.com"})
        assert response["Location"] == "/sign-in/check-email"  # the same answer every time
    assert len(mail.outbox) == MAGIC_LINKS_PER_WINDOW
    client.post("/sign-in", {"email": "someone.else@example.com"})
    assert len(mail.outbox) == MAGIC_LINKS_PER_WINDOW + 1
