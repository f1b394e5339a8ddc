"""The demo's clock: the services run as if it were a given moment of the year being played."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from unittest import mock
from zoneinfo import ZoneInfo

from django.utils import timezone

LONDON = ZoneInfo("Europe/London")


@contextmanager
def clock(moment: dt.datetime):
    """Run the services as if it were ``moment``: ``timezone.now()`` (and so every
    ``auto_now`` field, ``localdate()`` and the data-use log's time) answers ``moment``."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """``hour:minute`` on ``day`` in London, and never later than just now."""
    moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON)
    return min(moment, timezone.now() - dt.timedelta(minutes=5))
