"""Helpers for the staff journeys (tests/e2e/test_staff_*.py): a page at desktop or phone width,
signed in as an officer, and the checks every staff page gets (fits the screen, accessible, a
screenshot for review)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import Page

from tests.e2e.conftest import _no_csp_violations, watch_csp_violations
from tests.e2e.test_foundation_journeys import assert_accessible

PASSWORD = "a long demo password 1"
WIDTHS = {"desktop": 1280, "phone": 320}
SHOTS = Path(os.environ.get("BOROUGH_SHOTS", "/tmp/shots/staff"))


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def sized_page(request, browser):
    """A page 1280 px wide and one 320 px wide (``page.width``)."""
    width = WIDTHS[request.param]
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.width = width
    violations = watch_csp_violations(page)
    yield page
    context.close()
    _no_csp_violations(violations)


def sign_in_as(page: Page, base_url: str, username: str, role: str, full_name: str = ""):
    """Sign ``page`` in as a new staff account with ``role`` (its second factor passed), through
    a session made by Django's test client; returns the account."""
    from borough.core.services import create_staff_account
    from borough.core.testing import sign_in_staff

    user, _ = create_staff_account(username, [role], password=PASSWORD, full_name=full_name)
    client = Client()
    sign_in_staff(client, user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url}]
    )
    page.base = base_url
    return user


def check_accessible(page: Page) -> None:
    assert_accessible(page)  # conditional reveals' radios as the Design System makes them


def _too_wide(page: Page) -> list[str]:
    """The innermost elements that reach past the screen's right edge (to say what to fix)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .filter(e => !e.closest('.borough-table-scroll'))
            .slice(-5)
            .map(e => e.tagName.toLowerCase() + '.' + e.className + ' ' +
                 Math.round(e.getBoundingClientRect().right) + ': ' +
                 (e.textContent || '').trim().slice(0, 40))"""
    )


def check_page(page: Page, name: str) -> None:
    """The page is no wider than the screen, passes axe, and is saved as a screenshot."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{name}: {width} px wide: {_too_wide(page)}"
    check_accessible(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{page.viewport_size['width']}.png"), full_page=True)
