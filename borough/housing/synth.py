"""Rent accounts for the synthetic borough loaded into the database: its housing tenancies
export becomes tenancies, tenants (linked to the resident index when it has been linked) and
rent accounts with the payment references and weekly charges of ``rent_accounts.csv``
(``borough.synth.rents``), and some weeks of charges. A borough generated before those files
existed gets references and charges made here, and a statement written by
``write_payments_statement``. Used by ``borough demo`` and tests.

Deterministic for a folder: rents and habits come from a seeded generator keyed on the
tenancy reference."""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from borough.housing import services
from borough.housing.matching import synthetic
from borough.housing.matching.references import get_scheme
from borough.housing.models import ChargeRate, RentAccount, Tenancy, Tenant
from borough.housing.rent_weeks import monday_of
from borough.housing.statements.models import StatementLine
from borough.places.models import Property

TENURES = {
    "SECURE": "secure",
    "INTRODUCTORY": "introductory",
    "FLEXIBLE": "flexible",
    "TEMPORARY": "temporary",
}


def _date(text: str) -> dt.date | None:
    return dt.datetime.strptime(text.title(), "%d-%b-%Y").date() if text else None


@dataclass(frozen=True)
class RentSynthResult:
    tenancies: int
    accounts: int
    charges_posted: int
    statement_path: Path | None


def load_rent_accounts(
    synth_dir: Path, *, today: dt.date, weeks: int = 8, statement_path: Path | None = None
) -> RentSynthResult:
    """Tenancies, tenants and rent accounts from ``housing_tenancies.csv`` (current tenancies
    at properties in the gazetteer), ``weeks`` weeks of charges up to ``today``, and (if
    ``statement_path``) a camt.053 statement of the tenants' payments over those weeks.
    Loading again adds nothing that is there already."""
    from borough.residents.index import resident_ids_of
    from borough.synth import rents

    if (synth_dir / rents.ACCOUNTS_FILE).exists():
        # a borough with its rent files: loaded as a council's exports are
        from borough.housing.loading import load_housing

        loaded = load_housing(synth_dir / "housing_tenancies.csv", synth_dir / rents.ACCOUNTS_FILE)
        return RentSynthResult(
            loaded.tenancies_created + loaded.unchanged,
            loaded.tenancies_created,
            _post_charges(today, weeks),
            write_payments_statement(statement_path, start=_first(today, weeks), end=today)
            if statement_path is not None
            else None,
        )
    scheme = get_scheme()
    given: dict[str, dict] = {}
    if (synth_dir / rents.ACCOUNTS_FILE).exists():
        with (synth_dir / rents.ACCOUNTS_FILE).open(encoding="utf-8", newline="") as handle:
            given = {r["TENANCY_REF"]: r for r in csv.DictReader(handle)}
    rows = list(csv.DictReader((synth_dir / "housing_tenancies.csv").open(encoding="utf-8")))
    current = [r for r in rows if not r["TENANCY_END"]]
    known = set(
        Property.objects.filter(
            uprn__in=[int(r["UPRN"]) for r in current if r["UPRN"]]
        ).values_list("uprn", flat=True)
    )
    try:
        residents = resident_ids_of([f"housing_tenancies:{r['TENANT_REF']}" for r in current])
    except Exception:
        residents = {}
    by_tenancy: dict[str, list[dict]] = {}
    for row in current:
        if row["UPRN"] and int(row["UPRN"]) in known:
            by_tenancy.setdefault(row["TENANCY_REF"], []).append(row)
    made = 0
    with transaction.atomic():
        for reference, people in sorted(by_tenancy.items()):
            if Tenancy.objects.filter(reference=reference).exists():
                continue
            rng = random.Random(reference)
            lead = people[0]
            start = _date(lead["TENANCY_START"]) or dt.date(2020, 4, 6)
            tenancy = Tenancy.objects.create(
                reference=reference,
                property_id=int(lead["UPRN"]),
                tenure=TENURES.get(lead["TENURE_TYPE"], "secure"),
                start_date=start,
            )
            for row in people:
                Tenant.objects.create(
                    tenancy=tenancy,
                    first_name=row["FORENAME"],
                    surname=row["SURNAME"],
                    date_of_birth=_date(row["DATE_OF_BIRTH"]),
                    email=row["EMAIL"],
                    resident_id=residents.get(f"housing_tenancies:{row['TENANT_REF']}", ""),
                    lead=row["LEAD_TENANT"] == "Y",
                )
            number = "".join(ch for ch in reference if ch.isdigit())[-8:].zfill(8)
            known = given.get(reference)
            account = RentAccount.objects.create(
                tenancy=tenancy,
                payment_reference=known["PAYMENT_REFERENCE"] if known else scheme.issue(number),
                opened_on=start,
            )
            rent = int(known["DBR_WEEKLY_PENCE"]) if known else rng.randrange(9000, 16000, 5)
            service = (
                int(known["DSC_WEEKLY_PENCE"])
                if known
                else (rng.randrange(500, 2500, 5) if rng.random() < 0.6 else 0)
            )
            ChargeRate.objects.create(
                account=account, charge_type="DBR", weekly_pence=rent, effective_from=start
            )
            if service:
                ChargeRate.objects.create(
                    account=account, charge_type="DSC", weekly_pence=service, effective_from=start
                )
            made += 1
    posted = _post_charges(today, weeks)
    path = None
    if statement_path is not None:
        path = write_payments_statement(statement_path, start=_first(today, weeks), end=today)
    return RentSynthResult(len(by_tenancy), made, posted, path)


def _first(today: dt.date, weeks: int) -> dt.date:
    return monday_of(today) - dt.timedelta(weeks=weeks - 1)


def _post_charges(today: dt.date, weeks: int) -> int:
    first = _first(today, weeks)
    return sum(
        services.post_weekly_charges(first + dt.timedelta(weeks=k)).posted for k in range(weeks)
    )


def write_payments_statement(path: Path, *, start: dt.date, end: dt.date) -> Path:
    """A camt.053 statement of the council's rent account from ``start`` to ``end``: most
    tenants pay every 4 weeks with their exact reference, some with a slip in it, some give
    only their name, a few pay for a relative; and some credits belong to no rent account."""
    from django.conf import settings

    bank = settings.COUNCIL.bank
    council = f"{bank.sort_code.replace('-', '')} {bank.account_number}"
    lines = []
    accounts = RentAccount.objects.select_related("tenancy").prefetch_related("tenancy__tenants")
    for account in accounts.order_by("payment_reference"):
        rng = random.Random(account.payment_reference)
        weekly = sum(services.weekly_charge_pence(account, end).values())
        tenant = next(iter(account.tenancy.tenants.all()), None)
        if tenant is None or not weekly:
            continue
        payer = f"{tenant.first_name} {tenant.surname}".upper()
        sort_code = f"{rng.randrange(10, 99)}{rng.randrange(10, 99)}{rng.randrange(10, 99)}"
        account_number = f"{rng.randrange(10**7, 10**8)}"
        habit = rng.random()
        reference = account.payment_reference
        if habit < 0.1:
            reference = reference[:-1]  # the check character left off
        elif habit < 0.15:
            reference = f"RENT {reference}"
        elif habit < 0.2:
            reference = ""
        day = start + dt.timedelta(days=rng.randrange(0, 7))
        while day <= end:
            lines.append(
                StatementLine(
                    booking_date=day,
                    value_date=day,
                    amount_pence=weekly * 4,
                    currency="GBP",
                    reference=reference,
                    payer_name=payer,
                    payer_sort_code=sort_code,
                    payer_account=account_number,
                    bank_tx_code="PMNT/RCDT/STDO",
                )
            )
            day += dt.timedelta(weeks=4)
    rng = random.Random(str(start))
    for n in range(max(3, len(lines) // 50)):
        day = start + dt.timedelta(days=rng.randrange(0, max((end - start).days, 1)))
        lines.append(
            StatementLine(
                booking_date=day,
                value_date=day,
                amount_pence=rng.randrange(1000, 50000),
                currency="GBP",
                reference=f"INV {rng.randrange(10**5, 10**6)}",
                payer_name=f"SUPPLIER {n}",
                bank_tx_code="PMNT/RCDT/ESCT",
            )
        )
    statement = synthetic.as_statement(lines, council, f"RENT-{start:%Y%m%d}", 0)
    path.write_bytes(synthetic.write_camt053(statement))
    return path
