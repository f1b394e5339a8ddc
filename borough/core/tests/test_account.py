"""A resident's account page: each service's section (registered by the apps, core knowing none
of them) and an email address that changes only once the new one is confirmed by its link."""

import re

import pytest
from django.core import mail

from borough.core import account_summary
from borough.core.account_summary import AccountItem, AccountSection
from borough.core.models import EmailChange, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, resident):
    client.force_login(resident)
    return client


def link_in(message) -> str:
    return re.search(r"http://testserver(\S+)", message.body).group(1)


def test_the_page_lists_the_email_address_with_a_change_link(signed_in, resident):
    page = signed_in.get("/account").content.decode()
    assert resident.email in page
    assert 'href="/account/email"' in page
    assert "Parking permits" in page and "You have no parking permits." in page
    assert "Rent" in page and "Find your rent account" in page


def test_sections_come_from_the_apps_and_only_for_services_the_council_offers(
    signed_in, settings, monkeypatch
):
    monkeypatch.setattr(account_summary, "_providers", dict(account_summary._providers))

    def library(user):
        return AccountSection(
            heading="Library loans",
            items=[
                AccountItem("The Odyssey <b>", "Due back on 4 November 2019", "/loans/1", "Late")
            ],
        )

    account_summary.register("library", library)
    assert "Library loans" not in signed_in.get("/account").content.decode()
    settings.COUNCIL = settings.COUNCIL.model_copy(
        update={"services": [*settings.COUNCIL.services, "library"]}
    )
    page = signed_in.get("/account").content.decode()
    assert "Library loans" in page
    assert '<a class="govuk-link" href="/loans/1">The Odyssey &lt;b&gt;</a>' in page
    assert "Due back on 4 November 2019" in page and "Late" in page
    settings.COUNCIL = settings.COUNCIL.model_copy(update={"services": ["library"]})
    page = signed_in.get("/account").content.decode()
    assert "Parking permits" not in page and "Library loans" in page


def test_changing_the_email_sends_a_link_to_the_new_address_and_changes_nothing_yet(
    signed_in, resident
):
    response = signed_in.post("/account/email", {"email": "Ada.New@Example.org "})
    assert response["Location"] == "/account/email/sent"
    assert [m.to for m in mail.outbox] == [["ada.new@example.org"]]
    assert "/account/email/confirm?token=" in mail.outbox[0].body
    resident.refresh_from_db()
    assert resident.email == "resident@example.com"
    assert "ada.new@example.org" in signed_in.get("/account/email/sent").content.decode()


def test_the_link_changes_the_address_records_it_and_tells_the_old_address(signed_in, resident):
    signed_in.post("/account/email", {"email": "ada.new@example.org"})
    link = link_in(mail.outbox[0])
    # Opening the link (as an email scanner does) changes nothing.
    confirm = signed_in.get(link)
    assert "ada.new@example.org" in confirm.content.decode()
    resident.refresh_from_db()
    assert resident.email == "resident@example.com"

    token = link.split("token=", 1)[1]
    response = signed_in.post("/account/email/confirm", {"token": token})
    assert response["Location"] == "/account"
    resident.refresh_from_db()
    assert (resident.email, resident.username) == (
        "ada.new@example.org",
        "resident:ada.new@example.org",
    )
    change = EmailChange.objects.get()
    assert (change.user, change.from_email, change.to_email) == (
        resident,
        "resident@example.com",
        "ada.new@example.org",
    )
    assert mail.outbox[1].to == ["resident@example.com"]
    assert "ada.new@example.org" in mail.outbox[1].body
    page = signed_in.get("/account").content.decode()
    assert "Your email address is now ada.new@example.org" in page
    assert "Email address changed" in page
    # Used once: a second press is refused.
    again = signed_in.post("/account/email/confirm", {"token": token})
    assert again.status_code == 400
    assert "has expired" in again.content.decode()


def test_the_link_works_in_another_browser(client, signed_in, resident):
    signed_in.post("/account/email", {"email": "ada.new@example.org"})
    token = link_in(mail.outbox[0]).split("token=", 1)[1]
    other = type(client)()
    response = other.post("/account/email/confirm", {"token": token})
    assert response.status_code == 200
    assert "Your email address has changed" in response.content.decode()
    resident.refresh_from_db()
    assert resident.email == "ada.new@example.org"


def test_an_address_another_account_uses_is_refused_when_confirmed(signed_in, resident):
    User.objects.create_resident("taken@example.org")
    signed_in.post("/account/email", {"email": "taken@example.org"})
    token = link_in(mail.outbox[0]).split("token=", 1)[1]
    response = signed_in.post("/account/email/confirm", {"token": token})
    assert response.status_code == 409
    resident.refresh_from_db()
    assert resident.email == "resident@example.com"
    assert not EmailChange.objects.exists()


def test_a_sign_in_token_is_not_an_email_change_token(signed_in, resident):
    from borough.core import magic_links

    token = magic_links.make_token("attacker@example.org")
    assert signed_in.post("/account/email/confirm", {"token": token}).status_code == 400
    assert signed_in.get("/account/email/confirm?token=nonsense").status_code == 400
    resident.refresh_from_db()
    assert resident.email == "resident@example.com"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter your new email address"),
        ("not an email", "Enter an email address in the correct format, like name@example.com"),
        (
            "Resident@example.com",
            "That is the email address your account uses now: enter a different one",
        ),
    ],
)
def test_each_mistake_has_its_own_message_and_keeps_what_was_typed(signed_in, typed, message):
    page = signed_in.post("/account/email", {"email": typed}).content.decode()
    assert "There is a problem" in page
    assert message in page
    if typed:
        assert f'value="{typed}"' in page
    assert mail.outbox == []


def test_only_a_signed_in_resident_can_ask(client):
    assert client.get("/account/email")["Location"].startswith("/sign-in")


def test_an_administrator_can_look_up_a_change_but_not_edit_it(
    client, make_staff, sign_in_staff, resident
):
    from django.utils import timezone

    change = EmailChange.objects.create(
        user=resident,
        from_email="resident@example.com",
        to_email="ada.new@example.org",
        changed_at=timezone.now(),
    )
    sign_in_staff(client, make_staff("Administrator"))
    listing = client.get("/admin/core/emailchange/?q=ada.new")
    assert listing.status_code == 200
    assert "ada.new@example.org" in listing.content.decode()
    assert client.get(f"/admin/core/emailchange/{change.pk}/delete/").status_code == 403


def test_a_section_that_fails_says_so_and_the_rest_of_the_page_still_shows(
    signed_in, resident, monkeypatch, caplog
):
    monkeypatch.setattr(account_summary, "_providers", dict(account_summary._providers))

    def broken(user):
        raise ValueError("no resident ID for this tenant")

    account_summary.register("housing", broken)
    response = signed_in.get("/account")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Sorry, we cannot show this now (your rent account). Try again later." in page
    assert resident.email in page and "Parking permits" in page
    assert "the account page's housing section failed" in caplog.text
