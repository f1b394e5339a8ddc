"""A payment with only the payer's name is matched to the tenant through the resident index,
under the form of the name the tenant uses elsewhere (a nickname, initials, another dataset)."""

from __future__ import annotations

import datetime as dt

import pytest

from borough.housing import statement_import
from borough.housing.matching import synthetic
from borough.housing.models import BankLine, LedgerEntry
from borough.housing.statements.models import StatementLine
from borough.transparency.queries import events

COUNCIL = "089999 66374958"


def _statement(name: str, pence: int) -> bytes:
    line = StatementLine(
        booking_date=dt.date(2026, 11, 20),
        value_date=dt.date(2026, 11, 20),
        amount_pence=pence,
        currency="GBP",
        reference="",
        payer_name=name,
        bank_tx_code="PMNT/RCDT/ESCT",
    )
    return synthetic.write_camt053(synthetic.as_statement([line], COUNCIL, "N1", 0))


@pytest.mark.parametrize("form", ["{first} {last}", "MR {first} {last}", "{last}, {first}"])
def test_a_tenant_paying_under_their_name_alone_is_found_through_the_index(tenancy, form):
    row = tenancy["row"]
    name = form.format(first=row["FORENAME"].upper(), last=row["SURNAME"].upper())
    result = statement_import.import_statement(_statement(name, 4 * 12750), file_name="n.xml")
    assert result.posted == 1, BankLine.objects.get().reason
    line = BankLine.objects.get()
    assert line.method == "payer_name"
    entry = LedgerEntry.objects.get(source_key=f"statement:{line.line_hash}")
    assert entry.account_id == tenancy["account"].pk
    used = events().filter(purpose="housing_payment_matching")
    assert [e.subject_resident_id for e in used] == [tenancy["tenant"].resident_id]


def test_a_name_payment_of_an_unusual_amount_waits_in_suspense_with_the_tenant_suggested(
    tenancy,
):
    row = tenancy["row"]
    name = f"{row['FORENAME']} {row['SURNAME']}".upper()
    result = statement_import.import_statement(_statement(name, 3333), file_name="n.xml")
    assert result.to_suspense == 1
    line = BankLine.objects.get()
    assert line.suggestions[0]["account_id"] == tenancy["account"].pk


def test_the_index_finds_a_tenant_the_housing_record_names_differently(tenancy):
    # The housing system holds another spelling; the council's other records hold the name
    # the payer uses: only the resident index connects them.
    tenant = tenancy["tenant"]
    real_first = tenant.first_name
    type(tenant).objects.filter(pk=tenant.pk).update(first_name="Zebedee")
    name = f"{real_first} {tenant.surname}".upper()
    result = statement_import.import_statement(_statement(name, 4 * 12750), file_name="n.xml")
    assert result.posted == 1, BankLine.objects.get().reason
    assert (
        LedgerEntry.objects.get(source_key__startswith="statement:").account_id
        == tenancy["account"].pk
    )
