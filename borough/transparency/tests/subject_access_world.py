"""A small world for subject access tests: two residents, each with an account that proved its
resident ID, a council tax record, a tenancy with a rent account, a ledger entry and a Direct
Debit mandate. The resident index is written by hand (``residents.parquet``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from django.utils import timezone

from borough.housing import bank_details
from borough.housing.models import LedgerEntry, Mandate, RentAccount, Tenancy, Tenant
from borough.places.models import Property
from borough.residents.models import SourceRecord, Verification
from borough.residents.tests.test_record_views import _dataset
from borough.transparency.tests.resident_world import confirm_by_post

#: Bank details used in a mandate: none of these may appear in an export whole.
ACCOUNT_NUMBERS = {"R-ALICE1": "31926819", "R-BOBBY2": "12345678"}
SORT_CODE = "601613"


@dataclass
class Person:
    user: object
    resident_id: str
    record: SourceRecord
    account: RentAccount
    mandate: Mandate


def dataset(owner: str = "Revenues and Benefits: Council Tax team"):
    """The council tax dataset, owned by ``owner``, and a load of it."""
    made, load = _dataset("council_tax", "Council tax accounts")
    made.owner = owner
    made.save(update_fields=["owner"])
    return made, load


def verification(user, resident_id: str, *, decision="verified", review="", actor_kind="resident"):
    """A check ``user`` asked for that settled on ``resident_id``; a resident's is also
    confirmed with a code by post (``residents.history_codes``)."""
    if actor_kind == "resident":
        confirm_by_post(user, resident_id)
    return Verification.objects.create(
        purpose="parking_permit_residency",
        requested_at=timezone.now(),
        actor_kind=actor_kind,
        actor_user=user,
        applicant={"first_name": "Test"},
        decision=decision,
        resident_id=resident_id,
        match_probability=0.99,
        index_linked_at="test",
        seconds=0.1,
        review=review,
    )


def person(number: int, user, resident_id: str, surname: str, source) -> Person:
    ds, load = source
    record = SourceRecord.objects.create(
        dataset=ds,
        record_ref=f"CT-{number}",
        row_number=number,
        first_name="Sam",
        surname=surname,
        date_of_birth_given="01/02/1980",
        address_given=f"{number} Albion Road",
        content_hash="x",
        first_seen_load=load,
        last_seen_load=load,
        changed_at=timezone.now(),
    )
    verification(user, resident_id)
    home = Property.objects.create(uprn=100090000000 + number, postcode="E8 1DY")
    tenancy = Tenancy.objects.create(
        reference=f"T{number:07d}", property=home, tenure="secure", start_date=dt.date(2026, 4, 6)
    )
    Tenant.objects.create(
        tenancy=tenancy, first_name="Sam", surname=surname, resident_id=resident_id, account=user
    )
    account = RentAccount.objects.create(
        tenancy=tenancy, payment_reference=f"{number:08d}X", opened_on=dt.date(2026, 4, 6)
    )
    LedgerEntry.objects.create(
        account=account,
        kind="charge",
        type_code="DBR",
        posted_on=dt.date(2026, 11, 23),
        amount_pence=11000 + number,
        description="Rent",
        source_key=f"charge:{number}",
    )
    number_in_full = ACCOUNT_NUMBERS[resident_id]
    mandate = Mandate.objects.create(
        account=account,
        reference=f"DDI{number:08d}",
        account_holder=f"S {surname}",
        sort_code_encrypted=bank_details.encrypt(SORT_CODE),
        account_number_encrypted=bank_details.encrypt(number_in_full),
        sort_code_last2=SORT_CODE[-2:],
        account_number_last4=number_in_full[-4:],
        frequency="monthly",
        collection_day=1,
        first_collection_on=dt.date(2026, 12, 1),
    )
    return Person(user, resident_id, record, account, mandate)


def write_index(folder, people: list[Person]) -> None:
    linkage = folder / "linkage"
    linkage.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(
        {
            "unique_id": [f"council_tax:{p.record.record_ref}" for p in people],
            "resident_id": [p.resident_id for p in people],
        }
    )
    frame.to_parquet(linkage / "residents.parquet", index=False)


def pdf_text(content: bytes) -> str:
    """The text of a PDF's pages (its streams are compressed: the bytes alone prove nothing)."""
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
