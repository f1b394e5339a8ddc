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


def test_the_same_email_signs_in_to_the_same_account(client):
    client.post("/sign-in", {"email": "same@example.com"})
    client.post(
        "/sign-in/link", {"token": re.search(r"token=([^&\s]+)", _link_from_email()).group(1)}
    )
    client.logout()
    client.post("/sign-in", {"email": "SAME@example.com"})
    client.post(
        "/sign-in/link", {"token": re.search(r"token=([^&\s]+)", _link_from_email()).group(1)}
    )
    assert User.objects.residents().filter(email="same@example.com").count() == 1


def test_a_bad_email_gets_a_specific_message(client):
    page = client.post("/sign-in", {"email": "not-an-email"}).content.decode()
    assert "Enter an email address in the correct format, like name@example.com" in page
    assert not mail.outbox


def test_sign_in_next_page_must_be_on_this_site(client):
    client.post("/sign-in", {"email": "next@example.com", "next": "https://evil.example/"})
    assert "evil.example" not in mail.outbox[-1].body


def test_staff_sign_in_with_password(client, make_staff):
    """A role that sees no personal data signs in with a password alone (the second factor is
    in test_second_factor.py)."""
    make_staff("Data analyst", username="ada")
    response = client.post(
        "/staff/sign-in", {"username": "ada", "password": "correct horse battery"}
    )
    assert response["Location"] == "/staff/"
    page = client.get("/staff/").content.decode()
    assert "Insight" in page and "Housing" not in page


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
