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
    assert kinds.count("/P") >= 4 + 5 + 4  # names and address, account, contacts
    assert kinds.count("/Table") == 1
    assert kinds.index("/Table") > kinds.index("/H2", 2)  # read after its heading
    table = _table(reader)
    rows = [row.get_object() for row in table["/K"]]
    assert all(row["/S"] == "/TR" for row in rows)
    cells = [[cell.get_object()["/S"] for cell in row["/K"]] for row in rows]
    assert cells[0] == ["/TH"] * 6  # the column headings
    assert cells[1:] == [["/TD"] * 6] * 3  # rent, service charge, standing order
    # each cell is marked content on its page, found again through the page's parent tree
    page = reader.pages[0]
    assert b"/TD <</MCID" in page.get_contents().get_data()
    owners = root["/StructTreeRoot"]["/ParentTree"]["/Nums"][1]
    first_cell = rows[1]["/K"][0].get_object()
    [mcid] = first_cell["/K"]
    assert owners[mcid].get_object() == first_cell
    assert first_cell.raw_get("/Pg").idnum == page.indirect_reference.idnum


def _table(reader: PdfReader):
    document = reader.trailer["/Root"]["/StructTreeRoot"]["/K"][0].get_object()
    return next(k.get_object() for k in document["/K"] if k.get_object()["/S"] == "/Table")


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
    rows = [row.get_object() for row in _table(reader)["/K"]]
    headings = [row for row in rows if row["/K"][0].get_object()["/S"] == "/TH"]
    assert len(headings) == len(reader.pages)  # the headings row again on each page
    assert len(rows) == len(headings) + 3 + 80


def test_a_long_description_is_shortened_rather_than_printed_over_the_next_column(client, tenant):
    services.post_entry(
        tenant,
        kind=LedgerEntry.Kind.BANK_PAYMENT,
        type_code="RBP",
        amount_pence=-100,
        posted_on=dt.date(2026, 11, 11),
        description="Bank payment from MRS A OKAFOR-WILLIAMS REFERENCE RENT FOR FLAT 3 KESTREL HOUSE",
        source_key="bp:long",
    )
    text = _pdf(client).pages[0].extract_text()
    assert "Bank payment from MRS A" in text and "KESTREL HOUSE" not in text
    assert "..." in text
