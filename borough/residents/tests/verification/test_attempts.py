"""Attempt limits kept in the database: per target, a sliding window, no personal data, and two
processes guessing at once counted one after the other."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from borough.residents.verification import attempts
from borough.residents.verification.attempts import LIMITS, Target, TooManyAttempts
from borough.residents.verification.engine import Applicant
from borough.residents.verification.models import FailedCheck, Verification
from borough.transparency.models import ActorKind

from .test_engine_decisions import HOME, _index, _record


def _fail(target: Target, when: dt.datetime) -> None:
    with transaction.atomic():
        attempts.lock_targets([target])
        attempts.refuse_if_locked([target], now=when)
        attempts.record_failure([target], now=when)


@pytest.mark.django_db
def test_a_target_is_refused_after_its_limit_until_the_oldest_failure_ages_out():
    limit = LIMITS["resident"]
    target = Target.of("resident", "R123")
    start = timezone.now()
    for n in range(limit.failures):
        _fail(target, start + dt.timedelta(minutes=n))
    with pytest.raises(TooManyAttempts) as caught:
        attempts.refuse_if_locked([target], now=start + dt.timedelta(minutes=30))
    assert caught.value.until == start + limit.window
    # a minute after the first failure has aged out, one more check is allowed
    attempts.refuse_if_locked([target], now=start + limit.window + dt.timedelta(seconds=1))
    # other targets are not touched
    attempts.refuse_if_locked([Target.of("resident", "R124")], now=start)


@pytest.mark.django_db
def test_the_table_holds_no_personal_data():
    target = Target.of("details", "joanna|obrien|100090000001")
    _fail(target, timezone.now())
    stored = FailedCheck.objects.get()
    assert "joanna" not in stored.key and "100090000001" not in stored.key
    assert len(stored.key) == 64


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_processes_guessing_at_once_get_no_more_than_the_limit():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent writers")
    target = Target.of("rent-account", "42")
    limit = LIMITS["rent-account"].failures
    barrier = threading.Barrier(limit + 3)
    outcomes = []

    def guess():
        barrier.wait()
        try:
            with transaction.atomic():
                attempts.check_or_refuse([target])
                outcomes.append("checked")
                attempts.record_failure([target])
        except TooManyAttempts:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=guess) for _ in range(limit + 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["checked"] * limit + ["refused"] * 3
    assert FailedCheck.objects.filter(key=target.key).count() == limit


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_verifications_of_one_persons_details_at_once_are_limited(indexed, monkeypatch):
    """Eight processes guess one person's date of birth through ``verify`` at the same moment:
    five checks are made (and stored, and logged), three are refused before anything is read."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent writers")
    from borough.residents.verification import service

    index = _index(
        indexed, [_record("housing_tenancies:T1", "R1", "joanna", "obrien", "1958-04-08")]
    )
    monkeypatch.setattr(service.HOLDER, "get", lambda folder=None: index)
    monkeypatch.setattr(service, "dataset_titles", lambda: {})
    tries = LIMITS["details"].failures + 3
    barrier = threading.Barrier(tries)
    outcomes = []

    def guess(n):
        applicant = Applicant(
            first_name="Joanna",
            surname="O'Brien",
            date_of_birth=dt.date(1958, 4, 8) + dt.timedelta(days=n + 1),
            uprn=HOME,
        )
        barrier.wait()
        try:
            service.verify(
                applicant,
                "housing_tenant_verification",
                actor_kind=ActorKind.SERVICE,
                actor_label="A machine client",
            )
            outcomes.append("checked")
        except TooManyAttempts:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(tries)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["checked"] * (tries - 3) + ["refused"] * 3
    assert Verification.objects.filter(decision="refer").count() == tries - 3


@pytest.mark.django_db
def test_failures_older_than_every_window_are_forgotten_and_recent_ones_kept():
    from borough.residents.verification.models import CheckTarget

    now = timezone.now()
    old, recent = Target.of("resident", "R1"), Target.of("resident", "R2")
    _fail(old, now - dt.timedelta(days=3))
    _fail(recent, now - dt.timedelta(hours=1))
    for target in (old, recent):  # the rows PostgreSQL's locks use (SQLite needs none)
        CheckTarget.objects.get_or_create(scope=target.scope, key=target.key)
    assert attempts.prune_expired(now=now) == 1
    assert list(FailedCheck.objects.values_list("key", flat=True)) == [recent.key]
    assert list(CheckTarget.objects.values_list("key", flat=True)) == [recent.key]


@pytest.mark.django_db
def test_a_council_changes_a_limit_in_its_settings(settings):
    settings.BOROUGH_ATTEMPT_LIMITS = {"rent-account": "2/3600"}
    target = Target.of("rent-account", "7")
    now = timezone.now()
    _fail(target, now)
    _fail(target, now)
    with pytest.raises(TooManyAttempts) as caught:
        attempts.refuse_if_locked([target], now=now)
    assert caught.value.until == now + dt.timedelta(hours=1)


def test_a_wrong_limit_setting_is_a_check_error(settings):
    settings.BOROUGH_ATTEMPT_LIMITS = {"rent-acount": "2/3600", "account": "two/3600"}
    ids = [e.id for e in attempts.check_attempt_limit_settings()]
    assert ids == ["borough.E111", "borough.E112"]
