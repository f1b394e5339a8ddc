"""Residents' magic links: asking for one creates nothing; the account exists only once its link
is used; a link is signed, works once, for its own email address, for a limited time."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from borough.core.models import User

pytestmark = pytest.mark.django_db


def _token() -> str:
    return re.search(r"token=([^&\s]+)", mail.outbox[-1].body).group(1)


def test_asking_for_a_link_creates_no_account(client):
    """An attacker typing strangers' addresses into the form must not create their accounts."""
    for n in range(3):
        client.post("/sign-in", {"email": f"stranger{n}@example.com"})
    assert len(mail.outbox) == 3
    assert not User.objects.filter(email__startswith="stranger").exists()


def test_the_account_is_made_when_its_link_is_used(client):
    client.post("/sign-in", {"email": "New.Person@Example.com"})
    token = _token()
    assert not User.objects.filter(email="new.person@example.com").exists()
    client.get(f"/sign-in/link?token={token}")  # opening it (or a mail scanner) changes nothing
    assert not User.objects.filter(email="new.person@example.com").exists()
    assert client.post("/sign-in/link", {"token": token})["Location"] == "/account"
    user = User.objects.get(email="new.person@example.com")
    assert user.is_resident and not user.has_usable_password()
    assert client.get("/account").status_code == 200


def test_an_existing_resident_signs_in_to_their_own_account(client, resident):
    client.post("/sign-in", {"email": resident.email})
    client.post("/sign-in/link", {"token": _token()})
    assert client.session["_auth_user_id"] == str(resident.pk)
    assert User.objects.residents().count() == 1


def test_the_answer_is_the_same_whether_or_not_an_account_exists(client, resident):
    known = client.post("/sign-in", {"email": resident.email})
    known_page = client.get(known["Location"]).content.decode()
    unknown = client.post("/sign-in", {"email": "nobody@example.com"})
    unknown_page = client.get(unknown["Location"]).content.decode()
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]

    def same(page: str, email: str) -> str:  # the CSP nonce differs on every response
        return re.sub(r'nonce="[^"]*"', 'nonce=""', page.replace(email, "EMAIL"))

    assert same(known_page, resident.email) == same(unknown_page, "nobody@example.com")
    assert len(mail.outbox) == 2


def test_a_link_is_used_up_by_its_first_use(client):
    client.post("/sign-in", {"email": "once@example.com"})
    token = _token()
    assert client.post("/sign-in/link", {"token": token}).status_code == 302
    client.logout()
    again = client.post("/sign-in/link", {"token": token})
    assert again.status_code == 400
    assert "Your sign-in link has expired" in again.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_older_link_still_works_once_a_newer_one_was_sent(client):
    client.post("/sign-in", {"email": "twice@example.com"})
    first = _token()
    client.post("/sign-in", {"email": "twice@example.com"})
    second = _token()
    assert first != second
    assert client.post("/sign-in/link", {"token": first}).status_code == 302
    client.logout()
    assert client.post("/sign-in/link", {"token": second}).status_code == 302


def test_an_expired_link_asks_for_a_new_one(client, settings, monkeypatch):
    client.post("/sign-in", {"email": "late@example.com"})
    token = _token()
    import time

    later = time.time() + settings.BOROUGH_MAGIC_LINK_MAX_AGE + 5
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    assert client.get(f"/sign-in/link?token={token}").status_code == 400
    assert client.post("/sign-in/link", {"token": token}).status_code == 400
    assert not User.objects.filter(email="late@example.com").exists()


@pytest.mark.parametrize("change", ["tamper", "truncate", "garbage", "empty"])
def test_a_forged_or_damaged_link_is_refused(client, change):
    client.post("/sign-in", {"email": "victim@example.com"})
    token = _token()
    forged = {
        "tamper": token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),
        "truncate": token[: len(token) // 2],
        "garbage": "not-a-token",
        "empty": "",
    }[change]
    assert client.post("/sign-in/link", {"token": forged}).status_code == 400
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(email="victim@example.com").exists()


def test_a_link_for_one_address_cannot_be_turned_into_another(client):
    """The email is inside the signed token: changing it breaks the signature."""
    from django.core import signing

    client.post("/sign-in", {"email": "mine@example.com"})
    token = _token()
    payload = signing.TimestampSigner(salt="borough.core.magic-link", sep=".").unsign_object(token)
    assert payload["email"] == "mine@example.com"
    payload["email"] = "someone.else@example.com"
    # Signed with the wrong salt (the secret key is the attacker's to guess); or the payload
    # swapped into the real token's signature.
    forged = signing.TimestampSigner(salt="not-the-right-salt", sep=".").sign_object(payload)
    assert client.post("/sign-in/link", {"token": forged}).status_code == 400
    swapped = forged.split(".")[0] + "." + ".".join(token.split(".")[1:])
    assert client.post("/sign-in/link", {"token": swapped}).status_code == 400
    assert not User.objects.filter(email="someone.else@example.com").exists()


def test_a_switched_off_account_gets_no_link_and_the_same_answer(client):
    user = User.objects.create_resident("off@example.com")
    user.is_active = False
    user.save()
    response = client.post("/sign-in", {"email": "off@example.com"})
    assert response["Location"] == "/sign-in/check-email"
    assert not mail.outbox


def test_a_staff_email_address_makes_a_separate_resident_account(client, make_staff):
    staff = make_staff("Parking officer", username="pat")
    staff.email = "pat@example.com"
    staff.save()
    client.post("/sign-in", {"email": "pat@example.com"})
    client.post("/sign-in/link", {"token": _token()})
    signed_in = User.objects.get(pk=client.session["_auth_user_id"])
    assert signed_in.is_resident and signed_in.pk != staff.pk


def test_a_mail_relay_that_is_down_gets_a_page_saying_so_not_a_server_error(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens there
    settings.EMAIL_TIMEOUT = 2
    page = client.post("/sign-in", {"email": "someone@example.com"})
    assert page.status_code == 503
    assert "Sorry, there is a problem with the service" in page.content.decode()
    assert not User.objects.filter(email="someone@example.com").exists()


def test_production_with_smtp_and_no_relay_named_fails_borough_check(settings):
    from borough.core.checks import check_email_settings

    settings.PRODUCTION = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.BOROUGH_EMAIL_HOST_SET = False
    assert [e.id for e in check_email_settings()] == ["borough.E121"]
    settings.BOROUGH_EMAIL_HOST_SET = True
    assert check_email_settings() == []
