"""API keys: checked against a per-process copy of the clients kept a few seconds, so that a
revocation elsewhere applies within 5 seconds; ``last_used_at`` written at most once a minute."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from borough.core import api_clients
from borough.core.api_clients import client_for_key, create_client, revoke
from borough.core.models import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_kept_clients():
    api_clients.forget_cached_clients()
    yield
    api_clients.forget_cached_clients()


@pytest.fixture
def clock(monkeypatch):
    """``time.monotonic`` as the cache sees it, moved on by hand: ``clock.now += 6``."""

    class Clock:
        now = 1000.0

    monkeypatch.setattr(api_clients.time, "monotonic", lambda: Clock.now)
    return Clock


def test_a_key_is_read_once_then_trusted_for_at_most_five_seconds(clock, django_assert_num_queries):
    client, key = create_client("Handhelds", ["enforcement"])
    with django_assert_num_queries(2):  # the client, and its first use noted
        assert client_for_key(key).pk == client.pk
    with django_assert_num_queries(0):
        assert client_for_key(key).pk == client.pk
    clock.now += api_clients.CLIENT_CACHE_SECONDS
    assert api_clients.CLIENT_CACHE_SECONDS <= 5
    with django_assert_num_queries(1):  # read again; used less than a minute ago
        assert client_for_key(key).pk == client.pk


def test_a_key_revoked_elsewhere_stops_working_when_it_is_next_read(clock):
    _, key = create_client("Handhelds", ["enforcement"])
    assert client_for_key(key) is not None
    ApiClient.objects.update(revoked_at=timezone.now())  # another process's revoke
    assert client_for_key(key) is not None
    clock.now += api_clients.CLIENT_CACHE_SECONDS
    assert client_for_key(key) is None


def test_revoking_here_applies_at_once(clock):
    _, key = create_client("Handhelds", ["enforcement"])
    assert client_for_key(key) is not None
    revoke("Handhelds")
    assert client_for_key(key) is None


def test_any_save_or_delete_of_a_client_here_empties_the_cache():
    client, key = create_client("Handhelds", ["enforcement"])
    client_for_key(key)
    assert api_clients._clients
    client.save()
    assert not api_clients._clients
    client_for_key(key)
    client.delete()
    assert not api_clients._clients
    assert client_for_key(key) is None


def test_wrong_keys_are_not_kept_and_the_cache_is_bounded(monkeypatch):
    assert client_for_key("brgh_not-a-key") is None
    assert client_for_key("not even the prefix") is None
    assert client_for_key("") is None
    assert not api_clients._clients
    monkeypatch.setattr(api_clients, "CLIENT_CACHE_SIZE", 2)
    keys = [create_client(f"Client {n}", ["verify"])[1] for n in range(3)]
    for key in keys:
        assert client_for_key(key) is not None
    assert len(api_clients._clients) <= 2


def test_last_used_is_written_at_most_once_a_minute(monkeypatch, clock):
    moment = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: moment)
    _, key = create_client("Handhelds", ["enforcement"])
    client_for_key(key)
    assert ApiClient.objects.get().last_used_at == moment
    later = moment + dt.timedelta(seconds=59)
    monkeypatch.setattr(timezone, "now", lambda: later)
    clock.now += 10  # read again from the database: still not a minute
    client_for_key(key)
    assert ApiClient.objects.get().last_used_at == moment
    latest = moment + dt.timedelta(seconds=61)
    monkeypatch.setattr(timezone, "now", lambda: latest)
    client_for_key(key)  # from the cache, but more than a minute since the last write
    assert ApiClient.objects.get().last_used_at == latest


def test_a_process_does_not_overwrite_a_newer_use_noted_by_another(monkeypatch):
    moment = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: moment)
    _, key = create_client("Handhelds", ["enforcement"])
    client_for_key(key)
    # Another process noted a use 30 s ago; this one last wrote two minutes ago.
    newer = moment + dt.timedelta(seconds=90)
    ApiClient.objects.update(last_used_at=newer)
    monkeypatch.setattr(timezone, "now", lambda: moment + dt.timedelta(seconds=120))
    client_for_key(key)
    assert ApiClient.objects.get().last_used_at == newer
