"""The synthetic borough, loaded and linked into a resident index once per module, for the
tenant pages that verify through it; and a rent borough for the statement tests."""

import datetime as dt

import pytest

from borough.residents.tests.conftest import loaded, synth  # noqa: F401
from borough.residents.tests.verification.conftest import index_folder, linked  # noqa: F401


@pytest.fixture
def borough(db):
    """The synthetic generator's accounts as rent accounts in the database, and its lines."""
    from borough.housing.matching import synthetic
    from borough.housing.models import ChargeRate, RentAccount, Tenancy, Tenant
    from borough.places.models import Property

    made = synthetic.generate(400, 200, seed=3)
    ids = {}
    for n, account in enumerate(made.accounts, start=1):
        home = Property.objects.create(uprn=200000000 + n, postcode="E21 0AA", is_residential=True)
        tenancy = Tenancy.objects.create(
            reference=account.tenancy_ref or f"TEN{n:06d}",
            property=home,
            tenure="secure",
            start_date=dt.date(2020, 4, 6),
            end_date=account.end_date,
        )
        for name in account.tenant_names:
            first, _, last = name.partition(" ")
            Tenant.objects.create(tenancy=tenancy, first_name=first, surname=last)
        found = RentAccount.objects.create(
            tenancy=tenancy,
            payment_reference=account.payment_reference,
            opened_on=dt.date(2020, 4, 6),
            closed_on=account.end_date,
        )
        ChargeRate.objects.create(
            account=found,
            charge_type="DBR",
            weekly_pence=account.weekly_charge_pence,
            effective_from=dt.date(2020, 4, 6),
        )
        ids[account.account_id] = found.pk
    return made, ids
