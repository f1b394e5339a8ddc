"""The demo's rent: weekly charges, card payments, Direct Debits collected in weekly Bacs runs
(some returned unpaid through an ARUDD report, read by the product's own reader) and a monthly
bank statement of standing orders and Housing Benefit, imported and matched. ``RentActivity``
is the rent half of ``activity.Year``."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from xml.sax.saxutils import escape

from django.conf import settings

from borough.synth.demo_clock import at, clock

#: Where the local card page sends a payer back to.
RETURN_URL = "http://127.0.0.1:8000/"
# A bank account that passes the modulus check (Vocalink's own example), for every demo mandate.
DD_SORT_CODE, DD_ACCOUNT = "089999", "66374958"

#: The share of Direct Debit collections the demo's bank returns unpaid.
UNPAID_SHARE = 0.03


def arudd_item(collection, mandate, sort_code: str, account: str, code: str, text: str) -> str:
    """One returned debit in a Bacs ARUDD report (the XML that Bacs sends the council)."""
    sort_code = f"{sort_code[:2]}-{sort_code[2:4]}-{sort_code[4:6]}"
    return (
        f'<ReturnedDebitItem ref="{mandate.reference}" transCode="17" returnCode="{code}" '
        f'returnDescription="{text}" originalProcessingDate="{collection.run.processing_date}" '
        f'valueOf="{collection.amount_pence / 100:.2f}" currency="GBP">'
        f'<PayerAccount number="{account}" ref="{mandate.reference}" '
        f'name="{escape_xml(mandate.account_holder.upper())}" sortCode="{sort_code}"/>'
        "</ReturnedDebitItem>"
    )


def escape_xml(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def arudd_report(day: dt.date, items: list[str], total_pence: int) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><BACSDocument><Data><ARUDD>'
        f'<Header reportType="REFT1019" adviceNumber="{day:%j}" currentProcessingDate="{day}"/>'
        f'<ServiceLicenseInformation userName="COUNCIL" userNumber="{settings.BOROUGH_BACS_SUN}"/>'
        "<Advice><OriginatingAccountRecords><OriginatingAccountRecord>"
        + "".join(items)
        + f'<Totals numberOf="{len(items)}" valueOf="{total_pence / 100:.2f}" currency="GBP"/>'
        "</OriginatingAccountRecord></OriginatingAccountRecords></Advice></ARUDD></Data>"
        "</BACSDocument>"
    ).encode()


class RentActivity:
    """The rent half of the demo's year (``activity.Year``, whose state it uses)."""

    def rent_setup(self, day: dt.date) -> None:
        """The rent accounts and how each tenant pays (``rent_accounts.csv``), the bank
        statement's payers to copy each month, and Direct Debits set up for those who pay so."""
        from borough.housing import direct_debit
        from borough.housing.models import RentAccount
        from borough.housing.statements import parse_statement
        from borough.synth import rents

        self.accounts: dict[str, RentAccount] = {
            a.tenancy.reference: a for a in RentAccount.objects.select_related("tenancy")
        }
        self.pays_by: dict[str, str] = {}
        accounts_csv = self.synth_dir / rents.ACCOUNTS_FILE
        if accounts_csv.exists():
            with accounts_csv.open(newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    self.pays_by[row[rents.ACCOUNT_COLUMNS[0]]] = row[rents.ACCOUNT_COLUMNS[-1]]
        # Each standing-order or benefit payer's first line on the synthetic statement: who
        # they are to the bank, what they type and how much they pay, every month.
        self.payers = []
        statement = self.synth_dir / rents.CAMT_FILE
        if statement.exists():
            seen = set()
            for line in parse_statement(statement).lines:
                key = (line.payer_name, line.payer_account, line.reference)
                if line.amount_pence > 0 and key not in seen:
                    seen.add(key)
                    self.payers.append(line)
        for reference, how in sorted(self.pays_by.items()):
            account = self.accounts.get(reference)
            if how != "direct_debit" or account is None:
                continue
            if direct_debit.live_mandate(account) is not None:
                continue
            monthly = self.rnd.random() < 0.8
            with clock(at(day, 9)):
                try:
                    direct_debit.set_up_mandate(
                        account,
                        account_holder=f"{account.tenancy.reference} tenant",
                        sort_code=DD_SORT_CODE,
                        account_number=DD_ACCOUNT,
                        frequency="monthly" if monthly else "weekly",
                        collection_day=self.rnd.choice([1, 15, 28] if monthly else [0, 2, 4]),
                        today=day,
                    )
                except direct_debit.DirectDebitError:
                    continue
            self.result.add("Direct Debits set up")

    def rent_day(self, day: dt.date, today: dt.date) -> None:
        from borough.housing import services

        if day.weekday() == 0:  # Monday: the week's charges
            with clock(at(day, 6)):
                self.result.add("rent charges", services.post_weekly_charges(day).posted)
        if day.weekday() == 1:  # Tuesday: the week's Bacs run
            self._bacs_run(day)
        if day.weekday() == 4:  # Friday: the bank's ARUDD of debits unpaid this week
            self._unpaid_direct_debits(day)
        if day.day == 3:  # card payers pay their month's rent online
            self._card_payments(day)
        if day.day == 1 or day == today:  # the bank statement of the month (or days) before
            self._statement(day, today)

    def _bacs_run(self, day: dt.date) -> None:
        from borough.housing import direct_debit, direct_debit_runs

        with clock(at(day, 16)):
            try:
                run = direct_debit_runs.bacs_run(day, created_by=self.staff["finance"])
            except direct_debit.DirectDebitError:
                return
        self.result.add("Bacs runs")
        self.result.add("Direct Debit collections", run.collections)

    def _unpaid_direct_debits(self, day: dt.date) -> None:
        """About one collection in thirty whose money moved this week comes back unpaid
        (insufficient funds, mostly), as the bank's ARUDD report, imported by the finance
        officer through the product's own reader: the demo's "paid on time" is not 100%."""
        from borough.housing import bank_details
        from borough.housing.direct_debit_reports import import_bacs_report
        from borough.housing.models import Collection

        week = Collection.objects.filter(
            status=Collection.Status.SUBMITTED,
            run__entry_date__gt=day - dt.timedelta(days=7),
            run__entry_date__lte=day,
        ).select_related("mandate", "run")
        unpaid = [c for c in week.order_by("pk") if self.rnd.random() < UNPAID_SHARE]
        if not unpaid:
            return
        items = []
        for collection in unpaid:
            mandate = collection.mandate
            sort_code, account = bank_details.details_of(mandate)
            reason, text = self.rnd.choice(
                [("0128", "REFER TO PAYER")] * 4 + [("0111", "INSTRUCTION CANCELLED")]
            )
            items.append(arudd_item(collection, mandate, sort_code, account, reason, text))
        report = arudd_report(day, items, sum(c.amount_pence for c in unpaid))
        with clock(at(day, 10)):
            outcome = import_bacs_report(
                report, created_by=self.staff["finance"], source=f"ARUDD {day:%Y-%m-%d}"
            )
        self.result.add("Direct Debits returned unpaid", len(unpaid) - len(outcome.unknown))

    def _card_payments(self, day: dt.date) -> None:
        from borough.housing import card_payments, services

        for reference, how in sorted(self.pays_by.items()):
            account = self.accounts.get(reference)
            if how != "card" or account is None or self.rnd.random() < 0.15:
                continue
            weekly = sum(services.weekly_charge_pence(account, day).values())
            if weekly <= 0:
                continue
            with clock(at(day, 18, self.rnd.randrange(60))):
                payment = card_payments.start_card_payment(
                    account,
                    attempt=card_payments.new_attempt(),
                    amount_pence=weekly * 4,
                    return_url=RETURN_URL,
                )
                self._authorise(payment)
            self.result.add("rent card payments")

    def _statement(self, day: dt.date, today: dt.date) -> None:
        """The month's (or, on the last day, this month's so far) standing orders and benefit
        payments, as the bank's camt.053 statement, imported; the last days' are kept for the
        finance officer to import by hand."""
        from borough.housing.matching.synthetic import as_statement, write_camt053
        from borough.housing.statement_import import import_statement
        from borough.housing.statements.models import StatementLine
        from borough.synth import rents

        if day == today:
            first, last = max(self.result.first_day, today.replace(day=1)), today
        else:
            last = day - dt.timedelta(days=1)
            first = max(self.result.first_day, last.replace(day=1))
        lines = []
        for k, payer in enumerate(self.payers):
            if self.rnd.random() < 0.04:  # a month missed
                continue
            paid = last.replace(day=min(payer.booking_date.day, last.day))
            if paid < first:
                continue
            lines.append(
                dataclasses.replace(
                    payer,
                    booking_date=paid,
                    value_date=paid,
                    bank_ref=f"DEMO{paid:%Y%m}{k:06d}",
                    line_hash="",
                )
            )
        if not lines:
            return
        statement = as_statement(
            [StatementLine(**_fields(line)) for line in lines],
            rents.COUNCIL_ACCOUNT,
            f"RENT-{first:%Y%m%d}",
            0,
        )
        data = write_camt053(statement)
        if day == today:  # the finance officer's to import
            self.result.statement = self.data_dir / f"demo-statement-{first:%Y-%m-%d}.xml"
            self.result.statement.write_bytes(data)
            return
        with clock(at(day, 8)):
            imported = import_statement(
                data, file_name=f"statement-{first:%Y-%m}.xml", user=self.staff["finance"]
            )
        self.result.add("statement lines imported", imported.new_lines)
        self.result.add("statement lines matched automatically", imported.posted)


def _fields(line) -> dict:
    names = ("booking_date", "value_date", "amount_pence", "currency", "reference", "payer_name")
    more = ("payer_sort_code", "payer_account", "bank_tx_code", "bank_ref", "reversal")
    return {name: getattr(line, name) for name in names + more}
