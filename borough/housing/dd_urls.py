"""Direct Debit pages: the tenant's mandate set-up, the finance officer's mandates, Bacs runs and
reports (dd_views.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
