"""Fixtures shared by core's tests."""

import pytest


@pytest.fixture
def no_sign_in_rate_limits(settings):
    """Staff sign-in's rate limits set high, for tests of the lock-out and the second factor that
    sit behind them (the limits themselves: test_rate_limits.py)."""
    settings.BOROUGH_RATE_LIMITS = {
        "staff-sign-in-username": "1000/60",
        "staff-sign-in-address": "1000/60",
    }
