"""A small borough with a row in every table the warehouse reads, full of personal details
that must never reach it (``IDENTIFYING`` lists them for the privacy tests)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from borough.core.models import Feedback, User
from borough.housing.models import (
    BacsRun,
    BankLine,
    Collection,
    LedgerEntry,
    Mandate,
    MandateEvent,
    RentAccount,
    StatementImport,
    Tenancy,
    Tenant,
)
from borough.parking.models import Permit, PermitApplication, PermitEvent, VisitorSession, Zone
from borough.payments.models import Payment, Refund
from borough.places.models import Property
from borough.residents.verification.models import Verification
from borough.transparency.models import Action
from borough.transparency.services import record_data_use

LONDON = dt.timezone(dt.timedelta(0))
SQUARE = {"type": "Polygon", "coordinates": [[[0, 51], [0.1, 51], [0.1, 51.1], [0, 51]]]}


@dataclass
class SmallBorough:
    accounts: list[RentAccount]
    ledger_pence: int
    #: Every personal value put in the source: none may appear anywhere in the warehouse.
    identifying: set[str] = field(default_factory=set)
    #: Source IDs the warehouse's keys must not equal.
    raw_ids: set[str] = field(default_factory=set)


def _at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, 0, tzinfo=dt.UTC)


def make_small_borough(tenancies: int = 3) -> SmallBorough:
    identifying = set()
    homes = []
    for n in range(tenancies):
        home = Property.objects.create(
            uprn=100023330000 + n,
            building_number=str(17 + n),
            street="Quenby Terrace",
            town="Northmere",
            postcode=f"NM{n + 1} 4QT",
            ward_code=f"E0500{n % 2}",
            ward_name=("Ashgrove", "Brookfield")[n % 2],
            is_residential=True,
        )
        homes.append(home)
        identifying |= {f"{17 + n} Quenby Terrace", f"NM{n + 1} 4QT"}
    zone = Zone.objects.create(
        code="Q", name="Quenby", boundary=SQUARE, min_lon=0, min_lat=51, max_lon=0.1, max_lat=51.1
    )
    staff = User.objects.create_user("officer.quill", password="not-used-here-9")
    accounts, ledger = [], 0
    for n, home in enumerate(homes):
        first, last = f"Philippa{n}", f"Thistlewood{n}"
        email = f"philippa{n}.thistlewood@example.org"
        identifying |= {first, last, email, f"{first} {last}", f"PAYREF{n:04d}Q"}
        user = User.objects.create_resident(email)
        tenancy = Tenancy.objects.create(
            reference=f"TENQ{n:05d}", property=home, tenure="secure", start_date=dt.date(2020, 4, 6)
        )
        identifying.add(f"TENQ{n:05d}")
        Tenant.objects.create(
            tenancy=tenancy, first_name=first, surname=last, email=email, resident_id=f"R-Q{n:05d}"
        )
        account = RentAccount.objects.create(
            tenancy=tenancy, payment_reference=f"PAYREF{n:04d}Q", opened_on=dt.date(2020, 4, 6)
        )
        accounts.append(account)
        for week in range(3):
            posted = dt.date(2026, 10, 26) + dt.timedelta(weeks=week)
            LedgerEntry.objects.create(
                account=account,
                kind=LedgerEntry.Kind.CHARGE,
                type_code="DBR",
                posted_on=posted,
                amount_pence=12_345,
                description="Rent",
                source_key=f"q:{n}:charge:{week}",
            )
            LedgerEntry.objects.create(
                account=account,
                kind=LedgerEntry.Kind.DIRECT_DEBIT if n % 2 else LedgerEntry.Kind.STANDING_ORDER,
                type_code="RDD" if n % 2 else "RSO",
                posted_on=posted + dt.timedelta(days=3),
                amount_pence=-12_000,
                description="Payment",
                source_key=f"q:{n}:paid:{week}",
            )
            ledger += 12_345 - 12_000
        application = PermitApplication.objects.create(
            applicant=user,
            journey=f"journey-{n}",
            permit_type="resident",
            property=home,
            zone=zone,
            first_name=first,
            surname=last,
            date_of_birth=dt.date(1981, 3, 9 + n),
            vrm=f"QX{n}1ABC",
            duration_months=12,
            band="D",
            price_pence=9_500,
            verification_decision="verified",
            resident_id=f"R-Q{n:05d}",
            payment_reference=f"pay_q{n}",
            status=PermitApplication.Status.ISSUED,
        )
        identifying |= {f"QX{n}1ABC", f"1981-03-{9 + n:02d}"}
        permit = Permit.objects.create(
            application=application,
            holder=user,
            permit_type="resident",
            property=home,
            zone=zone,
            vrm=f"QX{n}1ABC",
            starts_on=dt.date(2026, 11, 2),
            ends_on=dt.date(2027, 11, 1),
            paid_pence=9_500,
        )
        PermitEvent.objects.create(application=application, permit=permit, action="issued")
        VisitorSession.objects.create(
            host=user,
            property=home,
            zone=zone,
            vrm=f"VQ{n}2DEF",
            starts_at=_at(10 + n),
            ends_at=_at(10 + n, 14),
            hours_used=4,
            price_pence=480,
        )
        identifying.add(f"VQ{n}2DEF")
        payment = Payment.objects.create(
            purpose_key=f"permit-application:{application.reference}",
            amount_pence=9_500,
            description="Resident permit",
            return_url="/parking",
            provider="local",
            status="success",
            card_last_digits="4242",
            succeeded_at=_at(2),
        )
        identifying.add(application.reference)
        if n == 0:
            Refund.objects.create(
                payment=payment, amount_pence=2_000, reason="Cancelled", status="success"
            )
        Verification.objects.create(
            purpose="parking_permit_eligibility",
            requested_at=_at(2),
            actor_kind="resident",
            applicant={"first_name": first, "surname": last},
            decision="verified",
            resident_id=f"R-Q{n:05d}",
            match_probability=0.998,
            seconds=0.02,
        )
        record_data_use(
            subject_resident_ids=[f"R-Q{n:05d}"],
            actor=None,
            actor_kind="service",
            actor_label="Enforcement device 7",
            purpose="parking_enforcement_check",
            action=Action.ENFORCEMENT_CHECK,
            datasets=["parking_permits"],
            reference=f"PRM-{n}",
            outcome="allowed",
        )
    holder = "P THISTLEWOOD0"
    identifying.add(holder)
    mandate = Mandate.objects.create(
        account=accounts[1],
        reference="DDQ0000001",
        account_holder=holder,
        sort_code_encrypted="gAAAAencrypted-sort",
        account_number_encrypted="gAAAAencrypted-acct",
        sort_code_last2="99",
        account_number_last4="5678",
        frequency="monthly",
        collection_day=1,
        first_collection_on=dt.date(2026, 11, 2),
        status="active",
        created_by=staff,
    )
    identifying.add("DDQ0000001")
    MandateEvent.objects.create(mandate=mandate, action="lodged", actor=staff)
    run = BacsRun.objects.create(
        input_date=dt.date(2026, 10, 29),
        processing_date=dt.date(2026, 10, 30),
        entry_date=dt.date(2026, 11, 2),
        serial="000001",
        file_text="VOL1 …",
        created_by=staff,
    )
    Collection.objects.create(
        run=run,
        mandate=mandate,
        transaction_code="01",
        amount_pence=12_000,
        due_on=dt.date(2026, 11, 2),
        status="unpaid",
    )
    statement = StatementImport.objects.create(
        file_name="camt.xml", file_sha256="0" * 64, format="camt053", bank_account="40051299999"
    )
    for n, outcome in enumerate(("posted", "suspense")):
        BankLine.objects.create(
            line_hash=f"{n}" * 64,
            first_import=statement,
            booking_date=dt.date(2026, 11, 3 + n),
            amount_pence=12_000 + n,
            reference=f"PAYREF{n:04d}Q",
            payer_name=f"PHILIPPA{n} THISTLEWOOD{n}",
            payer_account_last4="5678",
            outcome=outcome,
            method="reference" if outcome == "posted" else "",
        )
    identifying |= {"PHILIPPA0 THISTLEWOOD0", "PHILIPPA1 THISTLEWOOD1", "40051299999"}
    Feedback.objects.create(
        satisfaction=4,
        comments="Quick! Write to philippa0.thistlewood@example.org or 07700 900123, car QX01ABC",
        page="/parking/apply",
    )
    identifying |= {"07700 900123"}
    raw_ids = {str(a.pk) for a in accounts} | {"R-Q00000", "R-Q00001", "R-Q00002"}
    return SmallBorough(accounts, ledger, identifying, raw_ids)


def add_a_days_entries(account: RentAccount, day: dt.date, n: int = 2) -> int:
    """A day's new ledger entries on ``account``; returns their sum in pence."""
    for i in range(n):
        LedgerEntry.objects.create(
            account=account,
            kind=LedgerEntry.Kind.CARD,
            type_code="RCP",
            posted_on=day,
            amount_pence=-1_000,
            description="Card payment",
            source_key=f"q:new:{day}:{i}:{timezone.now().timestamp()}",
        )
    return -1_000 * n
