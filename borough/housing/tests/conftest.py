"""The synthetic borough, loaded and linked into a resident index once per module, for the
tenant pages that verify through it, a tenancy of it with a rent account; and a rent borough
for the statement tests."""

import datetime as dt

import pytest

from borough.housing import services
from borough.housing.models import ChargeRate, LedgerEntry, RentAccount, Tenancy, Tenant
from borough.housing.tests.factories import lead_tenancy_row, tenancy_of
from borough.places.models import Property
from borough.residents.tests.conftest import loaded, synth  # noqa: F401
from borough.residents.tests.verification.conftest import index_folder, linked  # noqa: F401


@pytest.fixture
def tenancy(linked, synth, db):  # noqa: F811 (fixtures imported above)
    """A lead tenant of the synthetic borough's tenancies, with a rent account and some history."""
    made = tenancy_of(lead_tenancy_row(synth))
    row, account, tenant, home = made["row"], made["account"], made["tenant"], made["home"]
    ChargeRate.objects.create(
        account=account, charge_type="DBR", weekly_pence=11250, effective_from=dt.date(2020, 4, 6)
    )
    ChargeRate.objects.create(
        account=account, charge_type="DSC", weekly_pence=1500, effective_from=dt.date(2020, 4, 6)
    )
    for monday in (dt.date(2026, 11, 9), dt.date(2026, 11, 16)):
        services.post_weekly_charges(monday)
    services.post_entry(
        account,
        kind=LedgerEntry.Kind.STANDING_ORDER,
        type_code="RSO",
        amount_pence=-12750,
        posted_on=dt.date(2026, 11, 10),
        description="Standing order",
        source_key="t:1",
    )
    services.post_entry(
        account,
        kind=LedgerEntry.Kind.BENEFIT,
        type_code="RHB",
        amount_pence=-5000,
        posted_on=dt.date(2026, 11, 17),
        description="Housing Benefit",
        source_key="t:2",
    )
    return {"row": row, "account": account, "tenant": tenant, "home": home}


@pytest.fixture
def borough(db):
    """The synthetic generator's accounts as rent accounts in the database, and its lines."""
    from borough.housing.matching import synthetic
    from borough.housing.models import ChargeRate

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
