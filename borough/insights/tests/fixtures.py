"""A small borough for the insight tests: permits in three wards, rent accounts paying by
monthly Direct Debit. Prices are written out from Northmere's price list, not worked out by
``parking.pricing``, so the what-if is checked against figures it did not make.

Every name, email and registration here is in ``SECRETS``, which the impostor tests scan for.
"""

from __future__ import annotations

import datetime as dt

from borough.core.models import User
from borough.housing.models import (
    BacsRun,
    Collection,
    LedgerEntry,
    Mandate,
    RentAccount,
    Tenancy,
    Tenant,
)
from borough.parking.models import Permit, PermitApplication, Zone
from borough.places.models import Property

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-0.1, 51.5], [-0.09, 51.5], [-0.09, 51.51], [-0.1, 51.51], [-0.1, 51.5]]],
}

# (ward, CO2 g/km, fuel, 12-month price in pence from northmere.toml) for each live permit.
# Band F (up to 110 g/km) is £125, G (111-130) £140, H (131-150) £160; diesel adds £200.
PERMITS = (
    [("Albion", 105, "PETROL", 12500)] * 6
    + [("Albion", 120, "PETROL", 14000)] * 5
    + [("Albion", 140, "DIESEL", 16000 + 20000)] * 1
    + [("Brook", 105, "PETROL", 12500)] * 4
    + [("Brook", 120, "PETROL", 14000)] * 6
    + [("Canal", 120, "PETROL", 14000)] * 3
)
FIRST_NAMES = ["Zebedee", "Quilla", "Ottoline", "Peregrine"]
SURNAMES = ["Fairweather", "Oddington", "Kestrel", "Wimbleworth"]


def vrm(i: int) -> str:
    return f"QZ{i:02d}XYW"


SECRETS = (
    [vrm(i) for i in range(len(PERMITS) + 1)]
    + FIRST_NAMES
    + SURNAMES
    + [f"holder{i}@example.org" for i in range(len(PERMITS) + 1)]
)


def make_permits(today: dt.date) -> list[Permit]:
    zone = Zone.objects.create(
        code="A",
        name="Albion Zone",
        hours="Mon-Fri",
        boundary=SQUARE,
        min_lon=-0.1,
        min_lat=51.5,
        max_lon=-0.09,
        max_lat=51.51,
    )
    homes = {}
    for n, ward in enumerate(["Albion", "Brook", "Canal"]):
        homes[ward] = Property.objects.create(
            uprn=100090000100 + n,
            street="ALBION ROAD",
            building_number=str(n + 1),
            postcode="E21 0AA",
            ward_code=f"E0500000{n}",
            ward_name=ward,
            latitude=51.505,
            longitude=-0.095,
            is_residential=True,
            classification="RD04",
        )
    permits = []
    # One more permit, cancelled: it must not count.
    for i, (ward, co2, fuel, price) in enumerate([*PERMITS, ("Albion", 300, "PETROL", 35000)]):
        band = {105: "F", 120: "G", 140: "H", 300: "M"}[co2]
        user = User.objects.create_resident(f"holder{i}@example.org")
        application = PermitApplication.objects.create(
            journey=f"j{i}",
            applicant=user,
            permit_type="resident",
            property=homes[ward],
            zone=zone,
            first_name=FIRST_NAMES[i % 4],
            surname=SURNAMES[i % 4],
            date_of_birth=dt.date(1980, 1, 1),
            vrm=vrm(i),
            vehicle_snapshot={
                "registrationNumber": vrm(i),
                "co2Emissions": co2,
                "fuelType": fuel,
                "engineCapacity": 1600,
                "monthOfFirstRegistration": "2019-05",
                "realDrivingEmissions": "1",
            },
            vehicle_found=True,
            duration_months=12,
            band=band,
            price_pence=price,
            status=PermitApplication.Status.ISSUED,
        )
        permits.append(
            Permit.objects.create(
                application=application,
                holder=user,
                permit_type="resident",
                property=homes[ward],
                zone=zone,
                vrm=vrm(i),
                starts_on=today,
                ends_on=today + dt.timedelta(days=364),
                paid_pence=price,
                status=Permit.Status.CANCELLED if i == len(PERMITS) else Permit.Status.ACTIVE,
            )
        )
    return permits


def make_rent_accounts(n: int, first_monday: dt.date, weeks: int, due_day: int) -> None:
    """``n`` accounts charged £100 every Monday and paying £400 by monthly Direct Debit, due on
    ``due_day`` of each month in the weeks (taken that day: the tests choose working days)."""
    home = Property.objects.create(
        uprn=100090000200, street="BROOK STREET", postcode="E21 0AB", ward_name="Brook"
    )
    last = first_monday + dt.timedelta(days=7 * weeks - 1)
    dues = []
    day = first_monday
    while day <= last:
        if day.day == due_day:
            dues.append(day)
        day += dt.timedelta(days=1)
    for a in range(n):
        tenancy = Tenancy.objects.create(
            reference=f"T{a:05d}", property=home, tenure="secure", start_date=dt.date(2020, 1, 1)
        )
        Tenant.objects.create(
            tenancy=tenancy, first_name=FIRST_NAMES[a % 4], surname=SURNAMES[a % 4], lead=True
        )
        account = RentAccount.objects.create(
            tenancy=tenancy, payment_reference=f"RENT{a:05d}", opened_on=dt.date(2020, 1, 1)
        )
        for week in range(weeks):
            monday = first_monday + dt.timedelta(days=7 * week)
            LedgerEntry.objects.create(
                account=account,
                kind="charge",
                type_code="DBR",
                posted_on=monday,
                amount_pence=10000,
                description="Rent",
                source_key=f"charge:{a}:{week}",
            )
        mandate = Mandate.objects.create(
            account=account,
            reference=f"RENT{a:05d}",
            account_holder=SURNAMES[a % 4].upper(),
            sort_code_encrypted="x",
            account_number_encrypted="x",
            sort_code_last2="99",
            account_number_last4="4958",
            frequency=Mandate.Frequency.MONTHLY,
            collection_day=due_day,
            first_collection_on=dt.date(2020, 1, due_day),
            status="active",
        )
        for due in dues:
            run, _ = BacsRun.objects.get_or_create(
                entry_date=due,
                defaults={
                    "input_date": due,
                    "processing_date": due,
                    "serial": "1",
                    "file_text": "",
                },
            )
            entry = LedgerEntry.objects.create(
                account=account,
                kind="direct_debit",
                type_code="RDD",
                posted_on=due,
                amount_pence=-40000,
                description="Direct Debit",
                source_key=f"bacs:{a}:{due}",
            )
            Collection.objects.create(
                run=run,
                mandate=mandate,
                transaction_code="17",
                amount_pence=40000,
                due_on=due,
                entry=entry,
            )
