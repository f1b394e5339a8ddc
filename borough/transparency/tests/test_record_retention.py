"""Retention of the council's records (``record_retention``): source dataset records past their
dataset's ``keep_after_end`` and parking applications past ``[retention.records]`` are
anonymised in place by ``borough transparency purge``; the dry run, a second run, a dataset with
no period, the records of the run, the review cases, the resident page and bad configuration."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from pydantic import ValidationError

from borough.core.profile import Retention
from borough.residents.config import DatasetConfigError, load_config
from borough.residents.models import DatasetLoad, ReviewCase, SourceDataset, SourceRecord
from borough.residents.services import sync_datasets
from borough.transparency.models import DataUseEvent, PurgeRun
from borough.transparency.record_retention import (
    SOURCE_RECORD_BLANK,
    SOURCE_RECORD_KEPT,
    RecordScheduleError,
    record_schedule,
)
from borough.transparency.retention import purge
from borough.transparency.tests.conftest import LONDON, purge_twice_at_once

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=LONDON)
SHIPPED = Path(__file__).resolve().parents[2] / "residents" / "datasets"


@pytest.fixture
def retention(settings):
    def set_schedule(**fields):
        settings.COUNCIL = settings.COUNCIL.model_copy(update={"retention": Retention(**fields)})

    set_schedule(records={"parking_applications": "6 years"})
    return set_schedule


def _load(code: str) -> DatasetLoad:
    dataset = SourceDataset.objects.get(code=code)
    return DatasetLoad.objects.create(
        dataset=dataset,
        file_name=f"{code}.csv",
        sha256="0" * 64,
        config_sha256="0" * 64,
        status=DatasetLoad.Status.LOADED,
        started_at=NOW - dt.timedelta(days=4000),
        finished_at=NOW - dt.timedelta(days=4000),
        via="test",
    )


def _record(code: str, ref: str, ended_at: dt.datetime | None) -> SourceRecord:
    load = _load(code)
    return SourceRecord.objects.create(
        dataset=load.dataset,
        record_ref=ref,
        row_number=2,
        title="Mrs",
        first_name="Ada",
        middle_names="King",
        surname="Lovelace",
        full_name="Ada King Lovelace",
        sex_given="F",
        date_of_birth_given="1980-03-27",
        uprn_given="100090000001",
        address_given="1 Albion Road, Northmere",
        postcode_given="e21 0aa",
        email="ada@example.org",
        phone="07700 900123",
        national_id="QQ 12 34 56 C",
        title_std="Mrs",
        first_name_std="ada",
        middle_names_std="king",
        surname_std="lovelace",
        first_name_canonical="ada",
        sex="F",
        date_of_birth=dt.date(1980, 3, 27),
        postcode="E21 0AA",
        uprn=100090000001,
        uprn_method="source",
        address_text="1 albion road northmere",
        email_std="ada@example.org",
        phone_std="+447700900123",
        national_id_std="QQ123456C",
        valid_from=dt.date(2010, 1, 1),
        valid_to=dt.date(2019, 1, 1),
        content_hash="f" * 32,
        first_seen_load=load,
        last_seen_load=load,
        changed_at=ended_at or load.started_at,
        ended_at=ended_at,
    )


@pytest.fixture
def records(retention):
    """Council tax records ended just past 6 years ago, just inside, and current; an electoral
    register record (a dataset with no period) ended 20 years ago."""
    sync_datasets()
    six_years_ago = NOW.replace(year=NOW.year - 6)
    return {
        "due": _record("council_tax", "600000001#1", six_years_ago - dt.timedelta(days=1)),
        "inside": _record("council_tax", "600000002#1", six_years_ago + dt.timedelta(days=1)),
        "current": _record("council_tax", "600000003#1", None),
        "no_period": _record("electoral_register", "ER-1", NOW.replace(year=NOW.year - 20)),
    }


def _values(record: SourceRecord) -> dict:
    return {f.attname: getattr(record, f.attname) for f in SourceRecord._meta.concrete_fields}


def test_every_field_of_a_source_record_is_either_blanked_or_deliberately_kept():
    fields = {f.name for f in SourceRecord._meta.concrete_fields}
    assert fields == set(SOURCE_RECORD_BLANK) | set(SOURCE_RECORD_KEPT)
    assert not set(SOURCE_RECORD_BLANK) & set(SOURCE_RECORD_KEPT)


def test_a_record_ended_past_its_period_is_anonymised_and_the_rest_are_not(records):
    kept = {name: _values(records[name]) for name in ("inside", "current", "no_period")}
    done = purge(NOW)
    due = SourceRecord.objects.get(pk=records["due"].pk)
    for field, blank in SOURCE_RECORD_BLANK.items():
        assert getattr(due, field) == blank, field
    assert due.record_ref.startswith("anonymised-") and "600000001" not in due.record_ref
    assert due.anonymised_at == NOW and due.ended_at == records["due"].ended_at
    for name, values in kept.items():
        assert _values(SourceRecord.objects.get(pk=records[name].pk)) == values, name
    # The run and the data-use log say what was done, and name no one.
    run = PurgeRun.objects.get()
    assert run.records == [["dataset", "council_tax", 1, "2020-12-06", "2020-12-06"]]
    assert done.records_total == 1 and done.run == run
    assert {"kind": "dataset", "code": "electoral_register", "period": "", "before": None} in (
        run.schedule
    )
    (event,) = DataUseEvent.objects.filter(purpose="records_retention_purge")
    assert (event.action, event.outcome, event.datasets_read) == (
        "purged",
        "anonymised",
        ["council_tax"],
    )
    assert event.reference == f"purge-run:{run.pk}:council_tax:1"
    assert event.subject_resident_id in ("", None) and event.actor_kind == "system"


def test_a_second_run_changes_nothing(records):
    purge(NOW)
    after = [_values(r) for r in SourceRecord.objects.order_by("pk")]
    second = purge(NOW + dt.timedelta(hours=1))
    assert second.records == [] and second.run.records == []
    assert [_values(r) for r in SourceRecord.objects.order_by("pk")] == after
    assert DataUseEvent.objects.filter(purpose="records_retention_purge").count() == 1


def test_the_dry_run_lists_each_dataset_and_changes_nothing(records, capsys, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: NOW)
    before = [_values(r) for r in SourceRecord.objects.order_by("pk")]
    call_command("transparency", "purge", "--dry-run")
    out = capsys.readouterr().out
    assert "dataset council_tax: kept 6 years after they end, so ended before 2020-12-07" in out
    assert "dataset electoral_register: no period set, never purged" in out
    assert "records parking_applications: kept 6 years after they end" in out
    assert "dataset council_tax: 1 (2020-12-06 to 2020-12-06)" in out
    assert "Dry run: 0 event(s) would be purged and 1 record(s) anonymised." in out
    assert [_values(r) for r in SourceRecord.objects.order_by("pk")] == before
    assert not PurgeRun.objects.exists()
    assert not DataUseEvent.objects.filter(purpose="records_retention_purge").exists()
    call_command("transparency", "purge")
    assert "Anonymised 1 record(s)." in capsys.readouterr().out


def test_review_cases_naming_the_record_follow_its_new_reference_and_open_ones_close(records):
    other = "housing_benefit:HB-9"
    old = f"council_tax:{records['due'].record_ref}"
    open_case = ReviewCase.objects.create(unique_id_l=old, unique_id_r=other)
    purge(NOW)
    open_case.refresh_from_db()
    marker = f"council_tax:{SourceRecord.objects.get(pk=records['due'].pk).record_ref}"
    assert (open_case.unique_id_l, open_case.unique_id_r) == tuple(sorted((marker, other)))
    assert open_case.status == ReviewCase.Status.CLOSED and open_case.closed_at == NOW
    assert not ReviewCase.objects.filter(unique_id_l=old).exists()


def test_a_dataset_without_a_period_is_never_purged_however_old(records):
    purge(NOW.replace(year=2090))
    assert SourceRecord.objects.get(pk=records["no_period"].pk).first_name == "Ada"
    # ... and a current record never is either.
    assert SourceRecord.objects.get(pk=records["current"].pk).first_name == "Ada"


def _declaration(tmp_path: Path, code: str, line: str) -> Path:
    text = (SHIPPED / f"{code}.toml").read_text(encoding="utf-8")
    text = "\n".join(x for x in text.splitlines() if not x.startswith("keep_after_end"))
    path = tmp_path / f"{code}.toml"
    path.write_text(text.replace("\nkept_for = ", f"\n{line}\nkept_for = ", 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("period", ["six years", "6 yrs", "0 years", "6"])
def test_a_bad_period_in_a_declaration_is_a_clear_error(tmp_path, period):
    path = _declaration(tmp_path, "council_tax", f'keep_after_end = "{period}"')
    with pytest.raises(DatasetConfigError, match="keep_after_end must be a retention period"):
        load_config(path)


def test_a_bad_declaration_stops_the_purge_and_borough_check(
    tmp_path, monkeypatch, retention, capsys
):
    _declaration(tmp_path, "council_tax", 'keep_after_end = "6 yrs"')
    monkeypatch.setenv("BOROUGH_DATASETS_DIR", str(tmp_path))
    with pytest.raises(RecordScheduleError, match="keep_after_end"):
        record_schedule(NOW.date())
    with pytest.raises(CommandError, match="keep_after_end"):
        call_command("transparency", "purge", "--dry-run")
    with pytest.raises(Exception, match="keep_after_end"):
        call_command("check")
    assert not PurgeRun.objects.exists()


def test_a_declared_period_is_read_and_synced(tmp_path):
    path = _declaration(tmp_path, "council_tax", 'keep_after_end = "18 months"')
    assert load_config(path).keep_after_end == "18 months"
    assert load_config(SHIPPED / "electoral_register.toml").keep_after_end == ""
    sync_datasets()
    assert SourceDataset.objects.get(code="council_tax").keep_after_end == "6 years"


@pytest.mark.parametrize(
    ("records", "words"),
    [
        ({"parking_aplications": "6 years"}, "unknown kinds of record: parking_aplications"),
        ({"parking_applications": "6 yrs"}, "is not a retention period"),
    ],
)
def test_a_bad_records_schedule_in_the_profile_is_a_clear_error(records, words):
    with pytest.raises(ValidationError, match=words):
        Retention(records=records)


def test_the_dataset_page_shows_the_configured_period(client, retention):
    sync_datasets()
    html = client.get(reverse("transparency:dataset", args=["council_tax"])).content.decode()
    assert "When we remove your details" in html
    assert "Automatically, 6 years after a record ends" in html
    html = client.get(reverse("transparency:dataset", args=["parking_permits"])).content.decode()
    assert "6 years after an application is decided or its permit ends" in html
    html = client.get(reverse("transparency:dataset", args=["electoral_register"])).content.decode()
    assert "When we remove your details" not in html


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_purges_at_once_anonymise_each_record_once(retention, monkeypatch):
    """Two processes purge at the same moment, a record a batch: each record is anonymised by
    one of them, in one batch with its one event (rows locked, the condition checked again)."""
    from django.db import connection

    from borough.transparency import record_retention
    from borough.transparency.queries import events

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent writers")
    monkeypatch.setattr(record_retention, "BATCH", 1)
    sync_datasets()
    long_ago = NOW.replace(year=NOW.year - 7)
    due = [_record("council_tax", f"60000000{n}#1", long_ago) for n in range(6)]
    assert purge_twice_at_once(NOW) == []
    assert SourceRecord.objects.filter(pk__in=[r.pk for r in due], anonymised_at=NOW).count() == 6
    assert events().filter(purpose="records_retention_purge").count() == 6
