"""The gazetteer in the Django admin: administrators can search it; nobody edits it there."""

import pytest

from borough.places.models import Property
from borough.places.services import import_gazetteer

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_staff, gazetteer_csv, sign_in_staff):
    assert import_gazetteer(gazetteer_csv).ok
    sign_in_staff(client, make_staff("Administrator", username="admin"))
    return client


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("e21 3ad", {100021000030, 100021000031, 100021000032, 100021000033}),
        ("E213AD", {100021000030, 100021000031, 100021000032, 100021000033}),
        ("100021000004", {100021000004}),
        ("canal", {100021000030, 100021000031, 100021000032, 100021000033}),
        ("kestrel", {100021000001, 100021000002, 100021000003, 100021000004, 100021000010}),
    ],
)
def test_properties_can_be_found_by_uprn_postcode_or_street(admin_client, query, expected):
    response = admin_client.get("/admin/places/property/", {"q": query})
    assert response.status_code == 200
    found = {obj.uprn for obj in response.context["cl"].result_list}
    assert found == expected


def test_a_property_is_shown_but_not_editable(admin_client):
    response = admin_client.get("/admin/places/property/100021000004/change/")
    assert response.status_code == 200
    assert b'name="_save"' not in response.content
    assert admin_client.post("/admin/places/property/100021000004/delete/").status_code == 403
    assert admin_client.get("/admin/places/property/add/").status_code == 403
    assert Property.objects.filter(uprn=100021000004).exists()


def test_the_import_records_are_listed(admin_client):
    response = admin_client.get("/admin/places/gazetteerimport/")
    assert response.status_code == 200
    assert b"gazetteer.csv" in response.content


def test_other_staff_cannot_open_the_gazetteer_admin(client, make_staff, sign_in_staff):
    sign_in_staff(client, make_staff("Parking officer"))
    assert client.get("/admin/places/property/").status_code == 302
