"""What a finance officer reads on the statement and suspense pages: how each imported line was
matched, in words; a confirmation after dealing with a suspense payment; each mistake named by
its own field, with what was typed kept."""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from borough.housing import reconcile
from borough.housing.finance_views import HOW_MATCHED
from borough.housing.matching import synthetic
from borough.housing.models import BankLine, RentAccount

COUNCIL = "089999 66374958"


@pytest.fixture
def officer(client, make_staff, sign_in_staff):
    user = make_staff("Finance officer")
    user.first_name, user.last_name = "Fola", "Bankole"
    user.save()
    sign_in_staff(client, user)
    return user


@pytest.fixture
def imported(client, borough, officer, django_capture_on_commit_callbacks):
    """The synthetic statement uploaded through the page; returns the upload page's HTML."""
    made, _ = borough
    data = synthetic.write_camt053(synthetic.as_statement(list(made.lines), COUNCIL, "S1", 0))
    upload = SimpleUploadedFile("nov.xml", data, content_type="text/xml")
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post("/staff/finance/statements", {"file": upload, "format": ""})
    return html.unescape(client.get(posted["Location"]).content.decode())


def _text(response) -> str:
    return html.unescape(response.content.decode())


def test_the_upload_page_says_how_each_line_was_matched(imported):
    assert "How each payment was matched" in imported
    table = imported[imported.index('id="import-lines"') :].split("</table>")[0]
    assert "Payment reference quoted" in table
    assert "In suspense" in table
    # no matcher codes, no raw pence
    for code in HOW_MATCHED:
        assert f">{code}<" not in table
    lines = BankLine.objects.count()
    assert lines > 100
    # a page of 100 lines at a time, with the next page linked
    assert table.count('<tr class="govuk-table__row">') == 100 + 1  # and the heading row
    assert f"Payments 1 to 100 of {lines:,}, in date order." in imported
    assert 'href="?page=2"' in imported
    posted = BankLine.objects.filter(outcome="posted").first()
    assert re.search(rf"{posted.booking_date.day} \w+ {posted.booking_date.year}", table)


def test_allocating_says_what_was_done(client, imported):
    line = reconcile.suspense_lines().first()
    account = RentAccount.objects.first()
    response = client.post(
        f"/staff/finance/suspense/{line.pk}",
        {"action": "allocate", "account_1": account.payment_reference.lower()},
        follow=True,
    )
    page = _text(response)
    assert "govuk-notification-banner--success" in page
    pounds = f"£{line.amount_pence // 100:,}.{line.amount_pence % 100:02d}"
    assert f"Payment of {pounds} allocated: {pounds} to {account.payment_reference}." in page
    after = _text(client.get(f"/staff/finance/suspense/{line.pk}"))
    assert "How it was matched" in after and "Allocated by an officer" in after
    assert "Dealt with" in after and "By Fola Bankole, " in after


def test_closing_without_posting_says_what_was_done(client, imported):
    line = reconcile.suspense_lines().first()
    page = _text(
        client.post(
            f"/staff/finance/suspense/{line.pk}",
            {"action": "refunded", "note": "Paid twice"},
            follow=True,
        )
    )
    assert "returned to the payer." in page


@pytest.mark.parametrize(
    ("posted", "message", "field"),
    [
        (
            {"action": "allocate", "account_1": "NOPE1"},
            "No rent account has the payment reference NOPE1",
            "account_1",
        ),
        (
            {"action": "allocate", "account_1": ""},
            "Enter the payment reference of the rent account",
            "account_1",
        ),
        (
            {"action": "allocate", "amount_2": "5"},
            "Enter the payment reference for this amount",
            "account_2",
        ),
        (
            {"action": "allocate", "account_1": "{ref}", "amount_1": "ten"},
            "Enter the amount in pounds, like 120.50",
            "amount_1",
        ),
        ({"note": "Paid twice"}, "Select what happened to the payment", "action-refunded"),
        (
            {"action": "ignored", "note": " "},
            "Enter why the payment is closed without posting",
            "close-note",
        ),
    ],
)
def test_each_mistake_is_named_at_its_field(client, imported, posted, message, field):
    line = reconcile.suspense_lines().first()
    reference = RentAccount.objects.first().payment_reference
    data = {key: value.format(ref=reference) for key, value in posted.items()}
    page = _text(client.post(f"/staff/finance/suspense/{line.pk}", data))
    assert f'<a href="#{field}">{message}</a>' in page
    assert f'id="{field}-error"' in page
    assert BankLine.objects.get(pk=line.pk).outcome == "suspense"


def test_what_was_typed_is_kept(client, imported):
    line = reconcile.suspense_lines().first()
    page = _text(
        client.post(
            f"/staff/finance/suspense/{line.pk}",
            {"action": "allocate", "account_1": "NOPE1", "amount_1": "12.50", "note": "Gran"},
        )
    )
    assert 'value="NOPE1"' in page and 'value="12.50"' in page and 'value="Gran"' in page
    page = _text(client.post(f"/staff/finance/suspense/{line.pk}", {"action": "ignored"}))
    assert 'value="ignored" checked' in page


def test_a_past_import_links_to_how_its_payments_were_matched(client, imported):
    from borough.housing.models import StatementUpload

    upload = StatementUpload.objects.get()
    page = _text(client.get("/staff/finance/statements"))
    assert f'href="/staff/finance/statements/uploads/{upload.pk}">nov.xml' in page
