from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from borough.transparency.services import record_data_use

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def dpo(make_staff):
    return make_staff("Data protection officer", username="dpo")


@pytest.fixture
def officer(make_staff):
    return make_staff("Parking officer", username="parking-officer")


@pytest.fixture
def at(monkeypatch):
    """Record events as if at a given London wall-clock time: ``at(2026, 3, 27, 9, 30)``."""

    def set_clock(*parts: int) -> datetime:
        moment = datetime(*parts, tzinfo=LONDON)
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return set_clock


@pytest.fixture
def verification(db):
    """Record a parking residency verification for some residents."""

    def record(*resident_ids: str, **overrides):
        arguments = {
            "subject_resident_ids": resident_ids,
            "actor": None,
            "actor_kind": "service",
            "actor_label": "Parking permits service",
            "purpose": "parking_permit_residency_check",
            "action": "verification",
            "datasets": ["council_tax", "electoral_register"],
            "reference": "PP-2026-000123",
            "outcome": "verified",
        }
        arguments.update(overrides)
        return record_data_use(**arguments)

    return record


def purge_twice_at_once(now: datetime) -> list[Exception]:
    """Two threads (two database connections) purge at ``now`` at the same moment; what either
    raised."""
    import threading

    from django.db import connection

    from borough.transparency.retention import purge

    barrier = threading.Barrier(2)
    failures = []

    def run():
        barrier.wait()
        try:
            purge(now)
        except Exception as error:  # reported by the caller, with the thread's error
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures
