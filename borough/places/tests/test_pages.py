"""The find-an-address pages, without JavaScript: plain GETs and POSTs."""

import re

import pytest
from django.urls import reverse

from borough.places.forms import RADIOS_UP_TO
from borough.places.services import import_gazetteer

from .conftest import write_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(gazetteer_csv):
    assert import_gazetteer(gazetteer_csv).ok


def text(response) -> str:
    return response.content.decode()


def test_the_find_page_asks_for_a_postcode(client):
    response = client.get(reverse("places:find-address"))
    assert response.status_code == 200
    html = text(response)
    assert "What is your postcode?" in html
    assert '<label class="govuk-label" for="id_postcode">' in html
    assert re.search(r"<label[^>]*>\s*Postcode\s*</label>", html)
    assert "For example, E8 1DY" in html
    assert 'autocomplete="postal-code"' in html
    assert f'action="{reverse("places:choose-address")}"' in html
    assert 'method="get"' in html
    assert "There is a problem" not in html


def test_find_choose_and_see_an_address(client, loaded):
    find = client.get(reverse("places:find-address"))
    assert find.status_code == 200

    choose = client.get(reverse("places:choose-address"), {"postcode": "e21 3ab"})
    assert choose.status_code == 200
    html = text(choose)
    assert "8 addresses found for E21 3AB" in html
    assert 'type="radio"' in html
    assert "Flat 3, Kestrel House, 12 Albion Road, Northmere, London" in html
    assert 'href="/addresses?postcode=E21+3AB"' in html  # the Change link
    assert 'Change<span class="govuk-visually-hidden"> postcode</span>' in html
    assert "I cannot find my address in the list" in html

    chosen = client.post(
        reverse("places:choose-address") + "?postcode=E21+3AB", {"uprn": "100021000004"}
    )
    assert chosen.status_code == 302
    assert chosen.url == reverse("places:address", args=[100021000004])

    page = client.get(chosen.url)
    assert page.status_code == 200
    html = text(page)
    assert "Flat 3, Kestrel House, 12 Albion Road, Northmere, London E21 3AB" in html
    assert "100021000004" in html
    assert "Albion (E05099001)" in html
    assert re.search(r"Residential\s*</dt>\s*<dd[^>]*>\s*Yes", html)
    assert re.search(r"Car-free development\s*</dt>\s*<dd[^>]*>\s*Yes", html)
    building = "Kestrel House, 12 Albion Road, Northmere, London E21 3AB"
    assert f'<a class="govuk-link" href="/addresses/100021000001">{building}</a>' in html


def test_the_address_page_says_no_for_a_garage(client, loaded):
    html = text(client.get(reverse("places:address", args=[100021000023])))
    assert re.search(r"Residential\s*</dt>\s*<dd[^>]*>\s*No", html)
    assert re.search(r"Car-free development\s*</dt>\s*<dd[^>]*>\s*No", html)


def test_an_unknown_uprn_is_not_found(client, loaded):
    assert client.get(reverse("places:address", args=[999])).status_code == 404


@pytest.mark.parametrize(
    ("postcode", "message"),
    [("E21 3A", "Enter a real postcode, like E8 1DY"), ("", "Enter a postcode")],
)
def test_an_invalid_postcode_shows_the_error_summary_and_the_field_error(client, postcode, message):
    response = client.get(reverse("places:choose-address"), {"postcode": postcode})
    assert response.status_code == 200
    html = text(response)
    assert "<title>Error: " in html
    summary = html[html.index("govuk-error-summary") :]
    assert "There is a problem" in summary
    assert f'<a href="#id_postcode">{message}</a>' in summary
    assert 'id="id_postcode"' in html
    assert 'class="govuk-error-message"' in html
    assert re.search(
        rf'<p id="id_postcode-error" class="govuk-error-message">\s*<span class="govuk-visually-hidden">Error:</span> {message}',
        html,
    )
    assert 'aria-describedby="id_postcode-hint id_postcode-error"' in html


def test_a_postcode_with_no_addresses_says_so(client, loaded):
    html = text(client.get(reverse("places:choose-address"), {"postcode": "E8 1DY"}))
    assert "No addresses found for E8 1DY" in html
    assert "We could not find any addresses for <strong>E8 1DY</strong>" in html
    assert 'href="/addresses?postcode=E8+1DY"' in html


def test_continuing_without_choosing_shows_an_error_linked_to_the_first_radio(client, loaded):
    response = client.post(reverse("places:choose-address") + "?postcode=E21+3AB", {})
    assert response.status_code == 200
    html = text(response)
    assert '<a href="#id_uprn_0">Select your address</a>' in html
    assert 'id="id_uprn_0"' in html


def test_an_address_from_another_postcode_cannot_be_chosen(client, loaded):
    response = client.post(
        reverse("places:choose-address") + "?postcode=E21+3AB", {"uprn": "100021000031"}
    )
    assert response.status_code == 200
    assert "Select your address from the list" in text(response)


def test_many_addresses_are_a_select_not_radios(client, tmp_path, rows):
    template = rows[5]
    many = [
        {**template, "UPRN": str(300000000000 + n), "PAO_START_NUMBER": str(n)}
        for n in range(1, RADIOS_UP_TO + 3)
    ]
    assert import_gazetteer(write_rows(tmp_path / "long-street.csv", many)).ok
    html = text(client.get(reverse("places:choose-address"), {"postcode": "E21 3AB"}))
    assert f"{RADIOS_UP_TO + 2} addresses found for E21 3AB" in html
    assert '<select class="govuk-select" id="id_uprn" name="uprn"' in html
    assert 'type="radio"' not in html
    assert (
        html.index(">1 Albion Road") < html.index(">2 Albion Road") < html.index(">10 Albion Road")
    )
    response = client.post(
        reverse("places:choose-address") + "?postcode=E21+3AB", {"uprn": "300000000010"}
    )
    assert response.url == reverse("places:address", args=[300000000010])


def test_the_find_page_keeps_the_postcode_when_changing_it(client):
    html = text(client.get(reverse("places:find-address"), {"postcode": "E21 3AB"}))
    assert 'value="E21 3AB"' in html
