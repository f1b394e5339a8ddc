"""Browser journeys in Debian's Chromium, driven by Playwright (never a downloaded browser)."""

import os
import re
import shutil
from pathlib import Path

import pytest

# pytest-django's live server and sync Playwright share a thread with an event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("BOROUGH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def in_ci() -> bool:
    """CI sets ``CI=true`` (as GitHub Actions, GitLab and .ci/run do): there a missing browser
    is a failure, never a skip."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


NOT_RUN = "browser journeys not run"


def no_chromium_reason(chromium: str = CHROMIUM) -> str | None:
    """Why the browser journeys cannot run here, in one line, or None when they can."""
    if Path(chromium).exists():
        return None
    return (
        f"{NOT_RUN}: Chromium is not at {chromium}. Install Debian's package "
        "(apt-get install chromium) or set BOROUGH_CHROMIUM to it; journeys never download a browser"
    )


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


# Where the summary says the journeys were skipped: the function that says why.
_SKIP_LINE = no_chromium_reason.__code__.co_firstlineno


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Every journey skipped for want of a browser is reported at this file's line, so pytest's
    summary folds them into one line: "SKIPPED [87] tests/e2e/conftest.py:NN: browser journeys
    not run: …" rather than a line a journey."""
    report = yield
    if report.skipped and isinstance(report.longrepr, tuple):
        _path, _line, reason = report.longrepr
        if NOT_RUN in reason:
            report.longrepr = (__file__, _SKIP_LINE, reason)
    return report


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    reason = no_chromium_reason()
    if reason and in_ci():
        pytest.fail(reason.replace("not run", "cannot run in CI"), pytrace=False)
    if reason:
        pytest.skip(reason)
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


# How Chromium words a Content-Security-Policy violation in the console ("Refused to execute
# inline script because it violates the following Content Security Policy directive: ...").
CSP_VIOLATION = re.compile(r"Content.Security.Policy", re.IGNORECASE)


def watch_csp_violations(page) -> list[str]:
    """Collect the console messages in which the browser reports a CSP violation; the fixtures
    below fail a journey whose pages logged any."""
    violations: list[str] = []

    def note(message) -> None:
        if CSP_VIOLATION.search(message.text):
            violations.append(message.text)

    page.on("console", note)
    page.csp_violations = violations
    return violations


def _no_csp_violations(violations: list[str]) -> None:
    assert violations == [], "the page broke its Content-Security-Policy:\n" + "\n".join(violations)


@pytest.fixture
def page(page):
    """pytest-playwright's page, failing the test if any page logged a CSP violation."""
    violations = watch_csp_violations(page)
    yield page
    _no_csp_violations(violations)


@pytest.fixture(params=[True, False], ids=["with-js", "without-js"])
def any_page(request, browser):
    """A page with JavaScript on, and one with it off: every journey works without it.
    ``page.javascript`` says which. A CSP violation logged by any page fails the journey."""
    context = browser.new_context(java_script_enabled=request.param)
    page = context.new_page()
    page.javascript = request.param
    violations = watch_csp_violations(page)
    yield page
    context.close()
    _no_csp_violations(violations)


@pytest.fixture
def sign_in_as(live_server):
    """``sign_in_as(page, user)``: the browser of ``page`` is signed in as ``user`` (a resident,
    or staff with the second factor passed), for a journey that starts past sign-in (the sign-in
    pages have their own journeys). Returns ``page``."""
    from django.conf import settings
    from django.test import Client

    from borough.core.testing import sign_in_staff

    def sign_in(page, user):
        client = Client()
        if user.is_staff:
            sign_in_staff(client, user)
        else:
            client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        return page

    return sign_in


# The page widths every form is filled in at: a desktop and the narrowest phone WCAG 1.4.10 names.
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "320px": {"width": 320, "height": 720}}


@pytest.fixture(params=list(WIDTHS))
def sized_page(request, browser):
    """A page at desktop width and one at 320 px (``page.width_name`` says which); a CSP
    violation logged by any page fails the journey."""
    context = browser.new_context(viewport=WIDTHS[request.param])
    page = context.new_page()
    page.width_name = request.param
    violations = watch_csp_violations(page)
    yield page
    context.close()
    _no_csp_violations(violations)
