import re

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_start_page_lists_the_services_the_profile_switches_on(client):
    page = client.get("/").content.decode()
    assert '<h1 class="govuk-heading-xl">Northmere Council services</h1>' in page
    for title in (
        "Parking permits",
        "Your rent account",
        "How we use your data",
        "Open data",
    ):
        assert title in page
    # Finding an address is a step inside the services, not a council service of its own.
    assert "Find your address" not in page


def test_start_page_leaves_out_services_switched_off(client, settings):
    settings.COUNCIL = settings.COUNCIL.model_copy(update={"services": ["parking"]})
    page = client.get("/").content.decode()
    assert "Parking permits" in page
    assert "Your rent account" not in page


def test_every_page_has_the_govuk_frame(client):
    page = client.get("/privacy").content.decode()
    assert 'class="govuk-skip-link"' in page and 'href="#main-content"' in page
    assert "London Borough of Northmere" in page  # the council's name in the header
    assert re.search(r'govuk-phase-banner__content__tag">\s*beta\s*<', page)
    assert 'href="/feedback?page=/privacy"' in page
    for link in ('href="/privacy"', 'href="/accessibility"', 'href="/cookies"'):
        assert link in page
    assert '<main class="govuk-main-wrapper' in page and 'id="main-content"' in page


def test_assets_are_served_locally_not_from_a_cdn(client):
    page = client.get("/").content.decode()
    urls = re.findall(r'(?:href|src)="([^"]+)"', page)
    assert not [u for u in urls if u.startswith(("http:", "https:", "//"))]
    css = client.get("/assets/govuk-frontend.min.css")
    assert css.status_code == 200
    font = client.get("/assets/fonts/bold-b542beb274-v2.woff2")
    assert font.status_code == 200


def test_privacy_and_accessibility_statements_come_from_the_profile(client):
    privacy = client.get("/privacy").content.decode()
    assert settings.COUNCIL.privacy.ico_registration in privacy
    assert settings.COUNCIL.privacy.dpo_email in privacy
    accessibility = client.get("/accessibility").content.decode()
    assert "Web Content Accessibility Guidelines version 2.2 AA" in accessibility
    assert settings.COUNCIL.contact.phone in accessibility


def test_unknown_page_gets_the_govuk_not_found_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_browsers_asking_for_favicon_ico_get_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/assets/images/favicon.ico"
    assert client.get(response["Location"]).status_code == 200


def test_the_api_docs_page_says_its_language_and_serves_swagger_locally(client):
    html = client.get("/api/v1/docs").content.decode()
    assert '<html lang="en-GB">' in html
    assert '<meta name="viewport"' in html
    assert "/assets/ninja/swagger-ui-bundle.js" in html
    assert 'id="swagger-settings"' in html
    assert "/api/v1/openapi.json" in html


def test_the_accessibility_statement_lists_what_does_not_meet_wcag_2_2_aa(client, settings):
    from borough.core.accessibility import KNOWN_ISSUES

    page = client.get("/accessibility").content.decode()
    assert "partially compliant with the Web Content Accessibility Guidelines version 2.2 AA" in (
        page
    )
    assert "Non-compliance with the accessibility regulations" in page
    for issue in KNOWN_ISSUES:
        for criterion in issue.criteria:
            assert criterion in page
    assert "2.5.8 Target size" in page
    # The profile's dates in words, not "2026-11-25".
    assert "25 November 2026" in page
    assert "2026-11-25" not in page


def test_a_councils_own_known_issue_is_listed_too(client, settings):
    statement = settings.COUNCIL.accessibility
    own = "Maps of parking zones are images without a text alternative."
    council = settings.COUNCIL.model_copy(
        update={"accessibility": statement.model_copy(update={"known_issues": [own]})}
    )
    settings.COUNCIL = council
    assert own in client.get("/accessibility").content.decode()
