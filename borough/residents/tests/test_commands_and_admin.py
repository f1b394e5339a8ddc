"""``borough residents load-synth`` and ``load``, and the read-only admin pages."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from borough.residents.models import DatasetLoad, SourceDataset, SourceRecord

from .conftest import DATASETS

pytestmark = pytest.mark.django_db


def test_load_synth_loads_the_gazetteer_and_all_seven_datasets(synth, capsys):
    call_command("residents", "load-synth", str(synth.path), "--unmatched")
    out = capsys.readouterr().out
    assert "Loaded gazetteer.csv" in out
    for code in DATASETS:
        assert f"Loaded {code}.csv into {code}:" in out
    total = sum(len(synth.truth(code)) for code in DATASETS)
    assert SourceRecord.objects.count() == total
    unmatched = SourceRecord.objects.filter(uprn_method="").count()
    if unmatched:
        assert "Addresses that matched no UPRN" in out

    call_command("residents", "load-synth", str(synth.path))
    again = capsys.readouterr().out
    assert "gazetteer.csv was already loaded" in again
    assert again.count("was already loaded into") == len(DATASETS)
    assert SourceRecord.objects.count() == total


def test_load_synth_says_what_is_missing_from_a_folder(tmp_path):
    with pytest.raises(CommandError, match=r"is not a synthetic borough: council_tax\.csv"):
        call_command("residents", "load-synth", str(tmp_path))


def test_the_admin_shows_datasets_loads_and_records_and_edits_none(
    client, make_staff, synth, gazetteer, sign_in_staff
):
    from borough.residents.services import load_dataset

    result = load_dataset("housing_tenancies", synth.file("housing_tenancies"))
    assert result.ok
    sign_in_staff(client, make_staff("Administrator", username="admin"))
    record = SourceRecord.objects.first()
    dataset = SourceDataset.objects.get(code="housing_tenancies")
    load = DatasetLoad.objects.get()
    for url in (
        "/admin/residents/sourcedataset/",
        f"/admin/residents/sourcedataset/{dataset.pk}/change/",
        "/admin/residents/datasetload/",
        f"/admin/residents/datasetload/{load.pk}/change/",
        "/admin/residents/sourcerecord/",
        f"/admin/residents/sourcerecord/{record.pk}/change/",
        f"/admin/residents/sourcerecord/?q={record.surname_std}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert b'name="_save"' not in response.content
    assert client.get("/admin/residents/sourcerecord/add/").status_code == 403
    assert client.post(f"/admin/residents/sourcerecord/{record.pk}/delete/").status_code == 403
