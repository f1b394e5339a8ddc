"""Retention on the loaded and linked synthetic borough: once a resident's records have been
ended for longer than their datasets keep them, the purge anonymises them and takes them out of
the resident index, and the same details no longer verify anyone from them."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from django.utils import timezone

from borough.residents.config import SHIPPED_DIR
from borough.residents.index import resident_ids_of, unique_ids_of_resident
from borough.residents.models import SourceRecord
from borough.residents.tests.verification.test_service_and_api import PURPOSE, _applicant
from borough.residents.verification.service import HOLDER, verify
from borough.transparency.queries import events
from borough.transparency.retention import purge

pytestmark = pytest.mark.django_db


@pytest.fixture
def every_dataset_kept_six_years(tmp_path, monkeypatch):
    """The shipped declarations, with a period for every dataset (the electoral register has
    none as shipped)."""
    folder = tmp_path / "datasets"
    shutil.copytree(SHIPPED_DIR, folder)
    for path in folder.glob("*.toml"):
        text = path.read_text(encoding="utf-8")
        if "keep_after_end" not in text:
            path.write_text(
                text.replace("\nkept_for = ", '\nkeep_after_end = "6 years"\nkept_for = ', 1),
                encoding="utf-8",
            )
    monkeypatch.setenv("BOROUGH_DATASETS_DIR", str(folder))


def test_an_anonymised_record_no_longer_verifies_anyone(
    linked, synth, every_dataset_kept_six_years
):
    person = next(
        p for p in synth.adults_at_home(10) if verify(_applicant(p), PURPOSE).decision == "verified"
    )
    before = verify(_applicant(person), PURPOSE)
    unique_ids = unique_ids_of_resident(before.resident_id)
    assert {e["unique_id"] for e in before.evidence} <= set(unique_ids)
    # The resident left every export seven years ago.
    long_ago = timezone.now() - dt.timedelta(days=7 * 366)
    for unique_id in unique_ids:
        code, ref = unique_id.split(":", 1)
        SourceRecord.objects.filter(dataset__code=code, record_ref=ref).update(ended_at=long_ago)

    done = purge()

    assert done.records_total >= len(unique_ids)
    for unique_id in unique_ids:
        code, ref = unique_id.split(":", 1)
        assert not SourceRecord.objects.filter(dataset__code=code, record_ref=ref).exists()
    assert resident_ids_of(unique_ids) == {}
    anonymised = SourceRecord.objects.filter(anonymised_at__isnull=False)
    assert not anonymised.exclude(surname="", date_of_birth=None, uprn=None, postcode="").exists()
    assert events().filter(purpose="records_retention_purge").exists()
    # The verification index follows the files it is built from.
    HOLDER.get()
    HOLDER.wait()
    after = verify(_applicant(person), PURPOSE)
    assert after.decision != "verified"
    assert not {e["unique_id"] for e in after.evidence} & set(unique_ids)
    assert not any(
        e["unique_id"].split(":", 1)[1].startswith("anonymised-") for e in after.evidence
    )
