"""Someone who is not the tenant tries to open a tenant's rent account: near-miss details,
repeated guesses across sessions and accounts, a second account after the tenant's own."""

from __future__ import annotations

import datetime as dt

import pytest

from borough.housing.models import Tenant

from .test_self_service import _confirm, _find, _sign_in


def _born(row) -> dt.date:
    return dt.datetime.strptime(row["DATE_OF_BIRTH"].title(), "%d-%b-%Y").date()


def _near_misses(born: dt.date) -> dict[str, dt.date]:
    out = {
        "a day out": born + dt.timedelta(days=1),
        "a month out": born.replace(month=born.month % 12 + 1, day=min(born.day, 28)),
        "a year out": born.replace(year=born.year - 1, day=min(born.day, 28)),
    }
    return out


@pytest.mark.parametrize(
    "miss", ["a day out", "a month out", "a year out", "day and month swapped"]
)
def test_a_date_of_birth_near_the_tenants_does_not_open_the_account(client, tenancy, miss):
    row = tenancy["row"]
    wrong = _near_misses(_born(row))[miss]
    _sign_in(client)
    _find(client, tenancy)
    page = _confirm(
        client, row, dob_day=str(wrong.day), dob_month=str(wrong.month), dob_year=str(wrong.year)
    )
    assert page.status_code == 200, page.get("Location")
    assert "We could not confirm you are the tenant" in page.content.decode()
    assert client.get("/rent/account/12345678I").status_code == 404
    assert not Tenant.objects.filter(account__isnull=False).exists()
