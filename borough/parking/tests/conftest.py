"""Fixtures shared by the parking tests."""

from borough.payments.tests.conftest import pay  # noqa: F401 - fill in the local card page
