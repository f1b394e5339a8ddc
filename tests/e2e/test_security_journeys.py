"""The Content-Security-Policy as the browser applies it: GOV.UK Frontend's scripts still run,
the Django admin still works, the API docs load with no other site reachable, and a violation is
noticed (every journey's page fixture fails on one; ``tests/e2e/conftest.py``)."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import watch_csp_violations


@pytest.fixture
def offline(page, live_server):
    """The page can reach Borough and nothing else: every other request is refused and kept."""
    elsewhere: list[str] = []

    def route(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    return elsewhere


def test_govuk_frontend_runs_under_the_policy(live_server, page, offline, transactional_db):
    page.goto(live_server.url + "/")
    body = page.locator("body")
    # The nonce'd inline line ran, and so did the module that initialises the components.
    expect(body).to_have_class(
        "govuk-template__body js-enabled govuk-frontend-supported", timeout=5000
    )
    expect(page.locator("[data-module=govuk-skip-link]")).to_have_attribute(
        "data-govuk-skip-link-init", ""
    )
    assert offline == []


def test_a_blocked_inline_script_is_noticed(live_server, browser, transactional_db):
    """The check the journeys rely on can fail: a script added without the nonce is refused by
    the browser and shows up in the collected violations."""
    page = browser.new_page()
    violations = watch_csp_violations(page)
    page.goto(live_server.url + "/")
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "document.body.dataset.injected = 'yes'";
            document.body.appendChild(script);
        }"""
    )
    page.wait_for_timeout(200)
    assert page.locator("body").get_attribute("data-injected") is None
    assert violations and "inline script" in violations[0]
    page.close()


def test_the_django_admin_works_under_the_policy(live_server, page, offline, transactional_db):
    from borough.core.models import User
    from borough.core.testing import give_device
    from tests.e2e.test_resident_index_journeys import enter_authenticator_code

    give_device(User.objects.create_superuser("root", password="a long admin password 1"))
    # the admin's sign-in is the staff sign-in, with the second factor
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_role("textbox", name="Password").fill("a long admin password 1")
    page.locator("main form").get_by_role("button", name="Sign in").click()
    enter_authenticator_code(page, "root")
    page.goto(live_server.url + "/admin/")
    expect(page.locator("#site-name")).to_be_visible()

    page.goto(live_server.url + "/admin/core/user/")
    # The admin's own scripts: ticking every row updates the action counter.
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")

    page.goto(live_server.url + "/admin/core/user/add/")
    expect(page.get_by_label("Username")).to_be_visible()
    assert offline == []


def test_the_api_docs_work_offline_under_the_policy(live_server, page, offline, transactional_db):
    page.goto(live_server.url + "/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Borough API")
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.locator(".opblock-tag").first).to_be_visible()
    assert offline == []
