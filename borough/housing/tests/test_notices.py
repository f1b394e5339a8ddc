"""Before the April rent change, tenants paying by standing order are told the new amount, once."""

from __future__ import annotations

import datetime as dt

from borough.housing import services
from borough.housing.models import ChargeRate, LedgerEntry, Tenant
from borough.housing.notices import standing_order_rent_change_notices
from borough.housing.tests.test_ledger import make_account

Kind = LedgerEntry.Kind


def test_standing_order_payers_are_told_the_new_amount_once(db, mailoutbox):
    account = make_account(1, weekly=(("DBR", 10000),))
    Tenant.objects.create(
        tenancy=account.tenancy, first_name="Ada", surname="L", email="ada@example.org", lead=True
    )
    for n, day in enumerate(
        (dt.date(2026, 12, 1), dt.date(2027, 1, 1), dt.date(2027, 2, 1), dt.date(2027, 3, 1))
    ):
        services.post_entry(
            account,
            kind=Kind.STANDING_ORDER,
            type_code="RSO",
            amount_pence=-40000,
            posted_on=day,
            description="SO",
            source_key=f"so{n}",
        )
    ChargeRate.objects.create(
        account=account, charge_type="DBR", weekly_pence=10500, effective_from=dt.date(2027, 4, 5)
    )
    other = make_account(2, weekly=(("DBR", 9000),))  # pays some other way: no notice
    ChargeRate.objects.create(
        account=other, charge_type="DBR", weekly_pence=9500, effective_from=dt.date(2027, 4, 5)
    )
    assert standing_order_rent_change_notices(dt.date(2027, 3, 1)) == []  # more than 28 days
    assert standing_order_rent_change_notices(dt.date(2027, 3, 15)) == ["00000001X"]
    assert standing_order_rent_change_notices(dt.date(2027, 3, 16)) == []
    body = mailoutbox[0].body
    # £105 a week over the 50 charged weeks of 2027/28, monthly: 105 x 50 / 12 = £437.50
    assert "£105.00 a week" in body and "change it to £437.50" in body and "00000001X" in body
