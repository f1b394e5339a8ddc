"""The PDF rent statement names who it is for (the tenants and the home's address), carries the
council's contact details, and is tagged for screen readers: a title shown in the window, its
language, and a structure tree of headings and paragraphs in reading order. Read back with
pypdf, as a person's PDF reader would."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from borough.housing import services
from borough.housing.models import LedgerEntry, Tenant
from borough.housing.tests.test_card_payments import _tenant_of
from borough.housing.tests.test_ledger import make_account

pytestmark = pytest.mark.django_db
STATEMENT = "/rent/account/00000001X/statement"


@pytest.fixture
def tenant(client):
    account = make_account(1)
    home = account.tenancy.property
    home.building_number, home.street, home.town = "12", "ALBION ROAD", "LONDON"
    home.save()
    client.force_login(_tenant_of(account))
    Tenant.objects.create(tenancy=account.tenancy, first_name="Sam", surname="Okafor")
    services.post_weekly_charges(dt.date(2026, 11, 9))
    services.post_entry(
        account,
        kind=LedgerEntry.Kind.STANDING_ORDER,
        type_code="RSO",
        amount_pence=-12250,
        posted_on=dt.date(2026, 11, 10),
        description="Standing order",
        source_key="t:1",
    )
    return account


def _pdf(client, **query) -> PdfReader:
    response = client.get(STATEMENT, {"period": "all", "format": "pdf", **query})
    assert response["Content-Type"] == "application/pdf"
    return PdfReader(io.BytesIO(response.content))


def test_the_pdf_statement_names_the_tenants_their_home_and_how_to_contact_the_council(
    client, tenant
):
    text = "\n".join(page.extract_text() for page in _pdf(client).pages)
    assert "Zoe O'Brien and Sam Okafor" in text  # the lead tenant first
    assert "12 Albion Road" in text and "E21 0AA" in text
    assert "London Borough of Northmere" in text
    assert "020 7946 0000" in text and "digital@northmere.example" in text
    assert "Northmere Town Hall, 1 Albion Square, London E21 1AA" in text
    assert "Monday to Friday, 9am to 5pm" in text
    assert "9 November 2026" in text and "10 November 2026" in text  # dates in words
    assert "Payment reference: 00000001X" in text


def _elements(reader: PdfReader) -> list[str]:
    root = reader.trailer["/Root"]
    document = root["/StructTreeRoot"]["/K"][0].get_object()
    assert document["/S"] == "/Document"
    return [kid.get_object()["/S"] for kid in document["/K"]]


def test_the_pdf_statement_is_tagged_for_screen_readers(client, tenant):
    reader = _pdf(client)
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert reader.metadata.title == "Rent statement for 00000001X"
    kinds = _elements(reader)
    assert kinds[0] == "/H1"
    assert kinds.count("/H2") == 4  # for, your account, transactions, contact us
    # every line and table row is a paragraph: the heading row, 3 entries, and the details
    assert kinds.count("/P") >= 4 + 1 + 5
    # each page says which structure elements its content belongs to
    page = reader.pages[0]
    assert "/StructParents" in page
    assert b"BDC" in page.get_contents().get_data()


def test_a_long_statement_goes_on_to_more_pages_with_its_headings_again(client, tenant):
    for n in range(80):
        services.post_entry(
            tenant,
            kind=LedgerEntry.Kind.BANK_PAYMENT,
            type_code="RBP",
            amount_pence=-100,
            posted_on=dt.date(2026, 11, 11),
            description=f"Bank payment {n}",
            source_key=f"bp:{n}",
        )
    reader = _pdf(client)
    assert len(reader.pages) >= 2
    second = reader.pages[1].extract_text()
    assert "Date" in second and "Balance" in second and "Bank payment" in second
    assert "/StructParents" in reader.pages[1]
