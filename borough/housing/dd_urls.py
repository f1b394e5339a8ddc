"""Direct Debit pages: the tenant's mandate set-up (dd_views.py), the finance officer's
mandates, Bacs runs and reports (dd_finance_views.py). Included by urls.py, so the names are in
the "housing:" namespace."""

from django.urls import path

from borough.housing import dd_finance_views, dd_views

_DD = "rent/account/<str:reference>/direct-debit"

urlpatterns: list = [
    path(_DD, dd_views.status, name="dd-status"),
    path(f"{_DD}/name", dd_views.holder, name="dd-name"),
    path(f"{_DD}/bank-details", dd_views.bank, name="dd-bank"),
    path(f"{_DD}/account-holder", dd_views.authorise, name="dd-authorise"),
    path(f"{_DD}/paper-form", dd_views.paper, name="dd-paper"),
    path(f"{_DD}/how-often", dd_views.frequency, name="dd-frequency"),
    path(f"{_DD}/day", dd_views.day, name="dd-day"),
    path(f"{_DD}/check", dd_views.check, name="dd-check"),
    path(f"{_DD}/set-up", dd_views.done, name="dd-done"),
    path(f"{_DD}/cancel", dd_views.cancel, name="dd-cancel"),
    path("staff/finance/direct-debit/mandates", dd_finance_views.mandates, name="dd-mandates"),
    path("staff/finance/direct-debit/runs", dd_finance_views.runs, name="dd-runs"),
    path(
        "staff/finance/direct-debit/runs/<int:run_id>/file",
        dd_finance_views.run_file,
        name="dd-run-file",
    ),
    path("staff/finance/direct-debit/reports", dd_finance_views.report_upload, name="dd-reports"),
]
