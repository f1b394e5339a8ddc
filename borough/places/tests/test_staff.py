"""The staff gazetteer page: who may open it, and loading a file through it."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from borough.places.models import GazetteerImport, Property

from .conftest import write_rows

pytestmark = pytest.mark.django_db
URL = "/staff/gazetteer"


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_the_page_is_at_the_url_core_links_to():
    assert reverse("places:staff-gazetteer") == URL


def test_anonymous_visitors_are_sent_to_staff_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/sign-in?next=/staff/gazetteer")


def test_residents_are_refused(client, resident):
    client.force_login(resident)
    assert client.get(URL).status_code == 403


def test_staff_without_the_administrator_role_are_refused(client, parking_officer, sign_in_staff):
    sign_in_staff(client, parking_officer)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"mapping": "llpg"}).status_code == 403
    assert Property.objects.count() == 0


def test_an_administrator_sees_the_counts_and_the_upload_form(
    client, administrator, gazetteer_csv, sign_in_staff
):
    sign_in_staff(client, administrator)
    client.post(URL, {"file": upload("g.csv", gazetteer_csv.read_bytes()), "mapping": "llpg"})

    html = client.get(URL).content.decode()

    assert "Gazetteer" in html
    assert re.search(r"Properties\s*</dt>\s*<dd[^>]*>\s*13", html)
    assert re.search(r"Residential\s*</dt>\s*<dd[^>]*>\s*10", html)
    assert re.search(r"Car-free\s*</dt>\s*<dd[^>]*>\s*5", html)
    assert "Albion" in html and "Canalside" in html
    assert 'enctype="multipart/form-data"' in html
    assert 'type="file"' in html
    assert '<option value="llpg" selected>' in html
    assert html.index('<option value="llpg"') < html.index('<option value="addressbase"')
    assert "g.csv" in html  # in the recent imports


def test_uploading_a_good_file_loads_it_and_shows_the_summary(
    client, administrator, gazetteer_csv, sign_in_staff
):
    sign_in_staff(client, administrator)
    response = client.post(
        URL, {"file": upload("northmere.csv", gazetteer_csv.read_bytes()), "mapping": "llpg"}
    )
    assert response.status_code == 302
    record = GazetteerImport.objects.get()
    assert response["Location"] == f"{URL}?import={record.pk}"
    assert (record.status, record.imported_by, record.via) == (
        "loaded",
        administrator,
        "staff page",
    )
    assert Property.objects.count() == 13

    html = client.get(response["Location"]).content.decode()
    assert "govuk-notification-banner--success" in html
    assert "northmere.csv: Loaded" in html
    assert "13 properties: 13 new, 0 changed, 0 unchanged" in html


def test_uploading_the_same_file_again_says_nothing_changed(
    client, administrator, gazetteer_csv, sign_in_staff
):
    sign_in_staff(client, administrator)
    content = gazetteer_csv.read_bytes()
    client.post(URL, {"file": upload("a.csv", content), "mapping": "llpg"})
    response = client.post(URL, {"file": upload("a.csv", content), "mapping": "llpg"}, follow=True)
    assert "Already loaded: nothing changed" in response.content.decode()
    assert Property.objects.count() == 13


def test_uploading_a_bad_file_loads_nothing_and_lists_the_problems(
    client, administrator, tmp_path, rows, sign_in_staff
):
    sign_in_staff(client, administrator)
    rows[12]["POSTCODE_LOCATOR"] = "E8 1D"
    rows[3]["UPRN"] = "abc"
    content = write_rows(tmp_path / "bad.csv", rows).read_bytes()

    response = client.post(URL, {"file": upload("bad.csv", content), "mapping": "llpg"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Error: " in html
    assert "There is a problem" in html
    message = "bad.csv was not loaded: it has 2 problems. Nothing was changed."
    assert f'<a href="#id_file">{message}</a>' in html
    assert 'id="id_file"' in html
    assert "Problems in bad.csv" in html
    assert "row 5, column UPRN: &#39;abc&#39; is not a UPRN" in html
    assert "row 14, column POSTCODE_LOCATOR: &#39;E8 1D&#39; is not a real postcode" in html
    assert Property.objects.count() == 0
    assert GazetteerImport.objects.get().status == "failed"


def test_uploading_with_the_addressbase_mapping(client, administrator, tmp_path, sign_in_staff):
    from .test_import import ADDRESSBASE_ROWS, _write_plain_csv

    sign_in_staff(client, administrator)
    content = _write_plain_csv(tmp_path / "abp.csv", ADDRESSBASE_ROWS).read_bytes()
    response = client.post(URL, {"file": upload("abp.csv", content), "mapping": "addressbase"})
    assert response.status_code == 302
    assert Property.objects.count() == 3


def test_no_file_chosen(client, administrator, sign_in_staff):
    sign_in_staff(client, administrator)
    html = client.post(URL, {"mapping": "llpg"}).content.decode()
    assert '<a href="#id_file">Select a gazetteer file</a>' in html


def test_an_unknown_mapping_is_refused(client, administrator, gazetteer_csv, sign_in_staff):
    sign_in_staff(client, administrator)
    response = client.post(
        URL, {"file": upload("g.csv", gazetteer_csv.read_bytes()), "mapping": "../../etc/passwd"}
    )
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert Property.objects.count() == 0


def test_a_file_over_the_size_limit_is_refused_with_a_clear_message(
    client, administrator, gazetteer_csv, settings, sign_in_staff
):
    settings.BOROUGH_GAZETTEER_UPLOAD_MAX_BYTES = 1024 * 1024
    sign_in_staff(client, administrator)
    big = gazetteer_csv.read_bytes() * 1200  # about 2MB

    response = client.post(URL, {"file": upload("big.csv", big), "mapping": "llpg"})

    assert response.status_code == 413
    html = response.content.decode()
    assert "The selected file must be smaller than 1MB" in html
    assert '<a href="#id_file">The selected file must be smaller than 1MB' in html
    assert Property.objects.count() == 0
    assert GazetteerImport.objects.count() == 0


def test_the_size_limit_is_also_checked_on_the_file_itself(
    client, administrator, gazetteer_csv, settings
):
    from borough.places.forms import GazetteerUploadForm

    settings.BOROUGH_GAZETTEER_UPLOAD_MAX_BYTES = 100
    form = GazetteerUploadForm(
        {"mapping": "llpg"}, {"file": upload("g.csv", gazetteer_csv.read_bytes())}
    )
    assert not form.is_valid()
    assert form.errors["file"][0].startswith("The selected file must be smaller than")
