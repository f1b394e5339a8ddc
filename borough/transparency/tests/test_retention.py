"""Retention: the schedule, the purge and its dry run, the one DELETE the triggers allow, and
verify after a purge."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from pydantic import ValidationError

from borough.core.profile import Retention
from borough.transparency import db_guard, merkle
from borough.transparency.checkpoint import Signer
from borough.transparency.log_verify import verify_log
from borough.transparency.models import (
    DataUseEvent,
    PurgedEvent,
    PurgeRun,
    SealedLeaf,
)
from borough.transparency.proofs import inclusion_proof_for_event
from borough.transparency.retention import ScheduleError, cutoff, purge, schedule
from borough.transparency.sealing import seal_all
from borough.transparency.tests.conftest import LONDON
from borough.transparency.visibility import release_event

pytestmark = pytest.mark.django_db

ORIGIN = "test.example/borough/data-use-log"
EVENTS = DataUseEvent._meta.db_table
TODAY = dt.datetime(2026, 12, 7, 9, 0, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def signing_key(settings):
    signer = Signer.generate(ORIGIN)
    settings.TRANSPARENCY_LOG_SIGNING_KEY = signer.private_key_text()
    settings.TRANSPARENCY_LOG_VERIFIER_KEY = ""
    settings.TRANSPARENCY_LOG_ORIGIN = ORIGIN
    return signer


@pytest.fixture
def retention(settings):
    def set_schedule(**fields):
        council = settings.COUNCIL.model_copy(update={"retention": Retention(**fields)})
        settings.COUNCIL = council

    set_schedule(
        data_use_events="6 years",
        purposes={"parking_enforcement_check": "2 years"},
        actions={"export": "30 days"},
    )
    return set_schedule


@pytest.fixture
def old_log(at, verification, retention):
    """Events from 2018 to now; all sealed but the last."""
    at(2018, 5, 1, 10, 0)
    old = verification("R-1", "R-2")  # 6 years past: due
    at(2023, 6, 1, 10, 0)
    verification("R-3")  # 3 years: kept
    (enforcement,) = verification(
        "R-4", purpose="parking_enforcement_check", action="enforcement_check"
    )  # 2 years: due
    at(2026, 10, 1, 10, 0)
    (export,) = verification("R-5", action="export")  # 30 days: due
    (recent,) = verification("R-6")
    seal_all()
    at(2018, 5, 2, 10, 0)
    (unsealed,) = verification("R-7")  # due, but not sealed yet
    at(2026, 12, 7, 9, 0)
    return {
        "due": [*old, enforcement, export],
        "kept": [recent],
        "unsealed": unsealed,
    }


def test_periods_count_back_whole_uk_days():
    today = dt.date(2026, 12, 7)
    assert cutoff("6 years", today) == dt.datetime(2020, 12, 7, tzinfo=LONDON)
    assert cutoff("18 months", today) == dt.datetime(2025, 6, 7, tzinfo=LONDON)
    assert cutoff("90 days", today) == dt.datetime(2026, 9, 8, tzinfo=LONDON)
    assert cutoff("1 year", dt.date(2028, 2, 29)) == dt.datetime(2027, 2, 28, tzinfo=LONDON)


def test_the_profile_refuses_a_period_it_cannot_read():
    with pytest.raises(ValidationError, match="not a retention period"):
        Retention(data_use_events="six years")
    with pytest.raises(ValidationError, match="not a retention period"):
        Retention(purposes={"parking_enforcement_check": "2 weeks"})


def test_a_schedule_naming_an_unknown_purpose_is_refused(retention):
    retention(purposes={"parking_enforcment_check": "2 years"})
    with pytest.raises(ScheduleError, match="parking_enforcment_check"):
        schedule(dt.date(2026, 12, 7))
    assert not PurgeRun.objects.exists()


def test_the_dry_run_lists_what_would_go_and_deletes_nothing(old_log, capsys):
    before = DataUseEvent.objects.count()
    call_command("transparency", "purge", "--dry-run")
    out = capsys.readouterr().out
    assert "purpose parking_enforcement_check: kept 2 years, so before 2024-12-07" in out
    assert "action export: kept 30 days, so before 2026-11-07" in out
    assert "every other event: kept 6 years, so before 2020-12-07" in out
    assert "parking_permit_residency_check, verification: 2 (2018-05-01T10:00:00+01:00" in out
    assert "parking_enforcement_check, enforcement_check: 1" in out
    assert "Dry run: 4 event(s) would be purged" in out
    assert DataUseEvent.objects.count() == before and not PurgeRun.objects.exists()


def test_the_purge_deletes_bodies_keeps_hashes_and_records_itself(old_log, capsys):
    leaves = SealedLeaf.objects.count()
    call_command("transparency", "purge")
    assert "Purged 4 event(s)" in capsys.readouterr().out
    due = {e.pk for e in old_log["due"]}
    assert not DataUseEvent.objects.filter(pk__in=due).exists()
    assert DataUseEvent.objects.filter(pk=old_log["unsealed"].pk).exists()
    assert SealedLeaf.objects.count() == leaves
    run = PurgeRun.objects.get()
    assert run.total == 4 and set(PurgedEvent.objects.values_list("event_id", flat=True)) == due
    record = DataUseEvent.objects.get(purpose="data_use_retention_purge")
    assert (record.reference, record.outcome) == (f"purge-run:{run.pk}", "purged")
    # The log still verifies: purged events are reported as purged, their leaves still checked.
    seal_all()
    report = verify_log()
    assert report.ok and report.purged == 4
    # A proof of a kept event still verifies against the checkpoint.
    proof = inclusion_proof_for_event(old_log["kept"][0].pk)
    assert proof is not None and proof["tree_size"] == SealedLeaf.objects.count()
    # The next run purges the late event, now sealed, and then nothing is left due.
    assert purge().run.total == 1
    assert purge().run.total == 0
    assert verify_log().purged == 5


def test_a_held_back_event_past_retention_is_kept_until_its_hold_ends(
    at, verification, retention, dpo
):
    at(2018, 5, 1, 10, 0)
    verification(
        "R-1",
        purpose="parking_enforcement_check",
        action="enforcement_check",
        restriction_reason_code="enforcement_investigation",
    )
    seal_all()
    at(2026, 12, 7, 9, 0)
    # Both the event and the record of its hold are past retention, and both are held back.
    done = purge(TODAY)
    counts, run = done.counts, done.run
    assert counts == [] and run.total == 0
    (held,) = DataUseEvent.objects.filter(purpose="parking_enforcement_check")
    release_event(held.pk, officer=dpo, reason="Closed.")
    seal_all()
    assert purge(TODAY).run.total == 2  # the event and the record of its hold


def _raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_database_allows_only_the_purges_delete(old_log):
    event = old_log["kept"][0]
    run = PurgeRun.objects.create(ran_at=TODAY, schedule=[], counts=[], total=0)
    # No tombstone: refused even with the purge switched on.
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), db_guard.allow_purge(connection):
            _raw(f"DELETE FROM {EVENTS} WHERE id = %s", [event.pk])
    PurgedEvent.objects.create(
        event_id=event.pk, run=run, occurred_at=TODAY, purpose="x", action="y"
    )
    # A tombstone without the purge switched on: refused (an ordinary DELETE).
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(f"DELETE FROM {EVENTS} WHERE id = %s", [event.pk])
    # UPDATE is refused even inside the purge.
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), db_guard.allow_purge(connection):
            _raw(f"UPDATE {EVENTS} SET outcome = 'x' WHERE id = %s", [event.pk])
    # The tombstones and the runs are append-only themselves.
    for table in (PurgedEvent._meta.db_table, PurgeRun._meta.db_table):
        with pytest.raises(DatabaseError, match="append-only"):
            _raw(f"DELETE FROM {table}")
    # The switch does not outlive its transaction.
    with transaction.atomic(), db_guard.allow_purge(connection):
        _raw(f"DELETE FROM {EVENTS} WHERE id = %s", [event.pk])
    other = old_log["unsealed"]
    PurgedEvent.objects.create(
        event_id=other.pk, run=run, occurred_at=TODAY, purpose="x", action="y"
    )
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(f"DELETE FROM {EVENTS} WHERE id = %s", [other.pk])


def test_verify_still_reports_an_event_deleted_without_a_tombstone(old_log):
    from borough.transparency.tests.test_sealing import tamper

    call_command("transparency", "purge")
    kept = old_log["kept"][0]
    tamper(f"DELETE FROM {EVENTS} WHERE id = %s", [kept.pk])
    problems = verify_log().problems
    assert [(p.kind, p.event_id) for p in problems] == [("removed", kept.pk)]
    assert merkle.HASH_SIZE == 32


def test_the_daily_job_purges_and_says_how_many(old_log, capsys):
    call_command("transparency", "purge", "--queue")
    assert "Purged 4 event(s)." in capsys.readouterr().out
    assert PurgeRun.objects.get().total == 4


def test_queue_and_dry_run_together_are_refused(retention):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="do not go together"):
        call_command("transparency", "purge", "--queue", "--dry-run")
