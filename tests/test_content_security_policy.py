"""The Content-Security-Policy: every page Borough renders sends one with no inline script
allowed, and the only inline script on a page (GOV.UK Frontend's js-enabled line) carries the
response's nonce. The browser's own verdict is in tests/e2e/test_security_journeys.py."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders

from borough.core.roles import ROLES
from tests.test_access import _path, _routes

pytestmark = pytest.mark.django_db


class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inline: list[dict] = []
        self.external: list[str] = []
        self.handlers: list[tuple[str, str]] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in attrs:
            if name.startswith("on"):
                self.handlers.append((tag, name))
        if tag == "script":
            if attrs.get("src"):
                self.external.append(attrs["src"])
            elif attrs.get("type") != "application/json":  # data, never run
                self._open = attrs
        if tag == "style" or "style" in attrs:
            self.handlers.append((tag, "style"))

    def handle_endtag(self, tag):
        if tag == "script" and self._open is not None:
            self.inline.append(self._open)
            self._open = None


def _policy(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy", "")
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def _nonce(policy) -> str:
    nonces = [w for w in policy["script-src"] if w.startswith("'nonce-")]
    assert len(nonces) == 1, policy["script-src"]
    return nonces[0].removeprefix("'nonce-").removesuffix("'")


def _check_page(response, where):
    policy = _policy(response)
    assert policy, f"{where}: no Content-Security-Policy"
    for directive in ("default-src", "script-src", "style-src"):
        assert "'unsafe-inline'" not in policy.get(directive, []), (where, directive)
        assert "'unsafe-eval'" not in policy.get(directive, []), (where, directive)
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    if not response.get("Content-Type", "").startswith("text/html"):
        return
    scripts = _Scripts()
    scripts.feed(response.content.decode())
    assert scripts.handlers == [], f"{where}: inline handlers or styles {scripts.handlers}"
    if scripts.inline:
        nonce = _nonce(policy)
        assert all(s.get("nonce") == nonce for s in scripts.inline), where
    for src in scripts.external:
        assert src.startswith("/"), f"{where}: a script from another site, {src}"


def test_the_start_page_runs_govuk_frontends_line_with_this_responses_nonce(client):
    first, second = client.get("/"), client.get("/")
    nonces = {_nonce(_policy(first)), _nonce(_policy(second))}
    assert len(nonces) == 2, "a nonce is made afresh for each response"
    html = first.content.decode()
    assert re.search(rf'<script nonce="{re.escape(_nonce(_policy(first)))}">document\.body', html)
    _check_page(first, "/")


@pytest.mark.parametrize("who", ["anonymous", "resident", "staff"])
def test_every_page_sends_the_policy_and_no_unnonced_inline_script(
    client, make_staff, resident, who, sign_in_staff
):
    if who == "resident":
        client.force_login(resident)
    elif who == "staff":
        sign_in_staff(client, make_staff(*[r.group for r in ROLES]))
    for route, _pattern in _routes():
        path = _path(route)
        response = client.get(path)
        _check_page(response, path)


def test_the_admin_pages_send_the_policy_with_no_inline_script(client, make_staff):
    admin = make_staff("Administrator", username="admin")
    admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    for path in ("/admin/", "/admin/core/user/", "/admin/core/user/add/", "/admin/login/"):
        response = client.get(path)
        assert response.status_code in (200, 302), path
        _check_page(response, path)


def test_the_api_docs_load_swagger_ui_from_borough_not_a_cdn(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower() and "https://" not in html
    scripts = _Scripts()
    scripts.feed(html)
    assert scripts.external, "Swagger UI's scripts"
    stylesheets = re.findall(r'<link[^>]+href="([^"]+\.css)"', html)
    for url in [*scripts.external, *stylesheets]:
        assert url.startswith("/assets/"), url
        assert finders.find(url.removeprefix("/assets/")), f"{url} is not in the static files"
    _check_page(response, "/api/v1/docs")


def test_forms_may_land_on_govuk_pay_and_the_sign_in_provider_only_when_they_are_used():
    from borough.core.csp import GOVUK_PAY_CARD_PAGES, content_security_policy

    local = content_security_policy(production=True)["DIRECTIVES"]
    assert local["form-action"] == ["'self'"] and local["upgrade-insecure-requests"] is True
    live = content_security_policy(
        production=True,
        payment_provider="govuk_pay",
        sign_in_endpoint="https://oidc.account.gov.uk/authorize?x=1",
        form_action=["https://forms.example.gov.uk"],
    )["DIRECTIVES"]
    assert live["form-action"] == [
        "'self'",
        GOVUK_PAY_CARD_PAGES,
        "https://oidc.account.gov.uk",
        "https://forms.example.gov.uk",
    ]
    assert (
        "upgrade-insecure-requests" not in content_security_policy(production=False)["DIRECTIVES"]
    )
