"""Signing in, in Chromium at a desktop width and at 320 px: a staff member sets up an
authenticator app (QR code and secret as text), then signs in with a password and a code; a
wrong code and a locked account say what to do; a resident asks for an emailed link and the
account is made only when it is used; too many requests get a page saying how long to wait.

Screenshots of each page go to ``BOROUGH_SCREENSHOTS`` when it is set (to look at the pages).
"""

from __future__ import annotations

import base64
import os
import re
import time
from pathlib import Path

import pytest
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from tests.e2e.test_foundation_journeys import assert_accessible

PASSWORD = "a long demo password 1"
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "320px": {"width": 320, "height": 640}}


@pytest.fixture(params=list(WIDTHS))
def sized_page(request, browser):
    """A page at a desktop width and one 320 px wide (WCAG 2.2 reflow: no sideways scrolling)."""
    context = browser.new_context(viewport=WIDTHS[request.param])
    page = context.new_page()
    page.width_name = request.param
    yield page
    context.close()


def _heading(page: Page):
    return page.get_by_role("heading", level=1)


def _look(page: Page, name: str) -> None:
    """Accessible, no sideways scrolling at this width, and a screenshot to look at."""
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
    folder = os.environ.get("BOROUGH_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}-{page.width_name}.png", full_page=True)


def _password(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(base + "/staff/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.locator("main form").get_by_role("button", name="Sign in").click()


def test_staff_member_sets_up_an_authenticator_and_signs_in_with_its_codes(
    live_server, sized_page, transactional_db
):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from borough.core.services import create_staff_account
    from borough.core.testing import code_for

    page, base = sized_page, live_server.url
    create_staff_account("hana", ["housing-officer"], password=PASSWORD)
    _password(page, base, "hana")
    _look(page, "staff-sign-in-filled")

    # First sign-in: set up the app from the QR code or the key shown as text.
    expect(_heading(page)).to_have_text("Set up your authenticator app")
    qr = page.locator(".borough-qr-code svg")
    expect(qr).to_be_visible()
    assert qr.get_attribute("role") == "img"
    secret = page.locator("#secret-key").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    _look(page, "second-factor-set-up")

    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The code is not right")
    assert page.title().startswith("Error:")
    _look(page, "second-factor-set-up-wrong-code")
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("Code")).to_be_focused()

    time.sleep(1.1)  # django-otp holds the device for a second after a wrong code
    page.get_by_label("Code").fill(f"{totp(base64.b32decode(secret)):06d}")
    page.get_by_role("button", name="Continue").click()
    expect(_heading(page)).to_have_text("Staff home")
    expect(page.get_by_role("link", name="Housing")).to_be_visible()
    assert TOTPDevice.objects.get(user__username="hana").confirmed

    # Every sign-in after: password, then the code the app shows now.
    page.goto(base + "/sign-out")
    page.locator("main form").get_by_role("button", name="Sign out").click()
    _password(page, base, "hana")
    expect(_heading(page)).to_have_text("Enter the code from your authenticator app")
    page.goto(base + "/staff/housing/")  # the staff pages wait for the code
    expect(_heading(page)).to_have_text("Enter the code from your authenticator app")
    device = TOTPDevice.objects.get(user__username="hana")
    page.get_by_label("Code").fill(code_for(device))
    _look(page, "second-factor-code")
    page.get_by_role("button", name="Continue").click()
    expect(_heading(page)).to_have_text("Housing")


def test_ten_wrong_passwords_lock_the_account_and_say_what_to_do(
    live_server, sized_page, transactional_db
):
    from borough.core.lockout import LOCK_AFTER
    from borough.core.services import create_staff_account

    page, base = sized_page, live_server.url
    create_staff_account("pat", ["parking-officer"], password=PASSWORD)
    for n in range(LOCK_AFTER - 3):
        _password(page, base, "pat", f"wrong guess {n}")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "You have 3 more tries before this account is locked"
    )
    _look(page, "staff-sign-in-warning")
    for n in range(3):
        _password(page, base, "pat", f"more guesses {n}")
    _password(page, base, "pat")  # the right password no longer helps
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("This account is locked")
    expect(summary).to_contain_text("Ask an administrator to unlock it")
    _look(page, "staff-sign-in-locked")


def test_resident_asks_for_a_link_and_the_account_is_made_when_it_is_used(
    live_server, sized_page, transactional_db, mailoutbox
):
    from borough.core.models import User

    page, base = sized_page, live_server.url
    page.goto(base + "/sign-in")
    page.get_by_label("Email address").fill("Amira.Khan@Example.com")
    _look(page, "resident-sign-in")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(_heading(page)).to_have_text("Check your email")
    assert not User.objects.filter(email="amira.khan@example.com").exists()

    link = re.search(r"http://\S+/sign-in/link\?\S+", mailoutbox[-1].body).group(0)
    page.goto(link)
    expect(_heading(page)).to_have_text("Sign in to Northmere Council services")
    assert not User.objects.filter(email="amira.khan@example.com").exists()
    page.get_by_role("button", name="Continue").click()
    expect(_heading(page)).to_have_text("Your account")
    assert User.objects.residents().filter(email="amira.khan@example.com").count() == 1

    page.goto(link)  # the same link again
    expect(_heading(page)).to_have_text("Your sign-in link has expired")


def test_too_many_link_requests_get_a_page_saying_how_long_to_wait(
    live_server, sized_page, transactional_db, settings, mailoutbox
):
    settings.BOROUGH_RATE_LIMITS = {"magic-link-email": "2/900"}
    page, base = sized_page, live_server.url
    for _ in range(3):
        page.goto(base + "/sign-in")
        page.get_by_label("Email address").fill("flooded@example.com")
        page.get_by_role("button", name="Email me a sign-in link").click()
    expect(_heading(page)).to_have_text("Too many attempts")
    expect(page.locator("main")).to_contain_text(re.compile(r"Wait \d+ (minutes?|seconds?) before"))
    _look(page, "too-many-attempts")
    assert len(mailoutbox) == 2
