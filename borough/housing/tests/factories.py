"""Rent accounts made from the synthetic borough's tenancy records, for tests and journeys."""

from __future__ import annotations

import datetime as dt

from borough.housing.models import RentAccount, Tenancy, Tenant
from borough.places.models import Property
from borough.residents.index import resident_ids_of

OPENED = dt.date(2020, 4, 6)


def lead_tenancy_row(synth) -> dict:
    """A current lead tenant whose tenancy record has a date of birth."""
    return next(
        r
        for r in synth.rows("housing_tenancies")
        if r["LEAD_TENANT"] == "Y" and not r["TENANCY_END"] and r["DATE_OF_BIRTH"]
    )


def born(row: dict) -> dt.date:
    return dt.datetime.strptime(row["DATE_OF_BIRTH"].title(), "%d-%b-%Y").date()


def tenancy_of(row: dict, *, payment_reference: str = "12345678I", email: str = "") -> dict:
    """The tenancy of a ``housing_tenancies`` row, its tenant (linked to the resident the last
    link made of the row) and a rent account: ``{"row", "home", "tenant", "account"}``."""
    unique_id = f"housing_tenancies:{row['TENANT_REF']}"
    home = Property.objects.get(pk=int(row["UPRN"]))
    tenancy = Tenancy.objects.create(
        reference=row["TENANCY_REF"], property=home, tenure="secure", start_date=OPENED
    )
    tenant = Tenant.objects.create(
        tenancy=tenancy,
        first_name=row["FORENAME"],
        surname=row["SURNAME"],
        resident_id=resident_ids_of([unique_id])[unique_id],
        email=email,
        lead=True,
    )
    account = RentAccount.objects.create(
        tenancy=tenancy, payment_reference=payment_reference, opened_on=OPENED
    )
    return {"row": row, "home": home, "tenant": tenant, "account": account}
