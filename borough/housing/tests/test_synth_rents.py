"""The synthetic borough's rent files: accounts, a statement in camt.053 and MT940 with ground
truth; imported, no automatic match is wrong."""

from __future__ import annotations

import csv
import datetime as dt
from itertools import pairwise

import pytest

from borough.housing import statement_import
from borough.housing.models import BankLine, LedgerEntry, RentAccount
from borough.housing.statements import parse_statement
from borough.housing.synth import load_rent_accounts
from borough.places.services import import_gazetteer
from borough.synth import generate, rents


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("rent-synth")
    generate(path, residents=600, seed=5, workers=1)
    return path


def test_the_statement_files_parse_the_same_in_both_formats(folder):
    camt = parse_statement(folder / rents.CAMT_FILE)
    mt940 = parse_statement(folder / rents.MT940_FILE)
    assert len(camt.lines) == len(mt940.lines) > 20
    assert sum(x.amount_pence for x in camt.lines) == sum(x.amount_pence for x in mt940.lines)
    with (folder / rents.TRUTH_FILE).open(encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    assert len(truth) == len(camt.lines)
    assert {row["HABIT"] for row in truth} >= {"exact", "not_rent"}


@pytest.mark.django_db
def test_importing_the_synthetic_statement_posts_no_payment_to_the_wrong_account(folder):
    assert import_gazetteer(folder / "gazetteer.csv", "llpg").ok
    load_rent_accounts(folder, today=dt.date(2026, 3, 31))
    result = statement_import.import_statement(folder / rents.CAMT_FILE)
    assert result.posted > 0.6 * result.new_lines
    with (folder / rents.TRUTH_FILE).open(encoding="utf-8") as handle:
        truth = {row["BANK_REF"]: row["PAYMENT_REFERENCE"] for row in csv.DictReader(handle)}
    references = dict(RentAccount.objects.values_list("pk", "payment_reference"))
    wrong = []
    for line in BankLine.objects.filter(outcome="posted"):
        entry = LedgerEntry.objects.get(source_key=f"statement:{line.line_hash}")
        if references[entry.account_id] != truth[line.bank_ref]:
            wrong.append(line.bank_ref)
    assert wrong == []
    not_rent = [ref for ref, account in truth.items() if not account]
    assert BankLine.objects.filter(bank_ref__in=not_rent, outcome="posted").count() == 0


def _truth(folder) -> dict[str, dict]:
    with (folder / rents.TRUTH_FILE).open(encoding="utf-8") as handle:
        return {row["BANK_REF"]: row for row in csv.DictReader(handle)}


@pytest.mark.django_db
def test_the_demos_payments_fall_in_the_weeks_it_charges_whatever_the_day_it_runs(folder):
    assert import_gazetteer(folder / "gazetteer.csv", "llpg").ok
    loaded = load_rent_accounts(folder, today=dt.date(2026, 12, 7))  # the demo runs long after
    charged = set(LedgerEntry.objects.filter(kind="charge").values_list("posted_on", flat=True))
    assert charged == {loaded.first_week + dt.timedelta(weeks=k) for k in range(len(charged))}
    statement = parse_statement(folder / rents.CAMT_FILE)
    end_of_charges = loaded.last_week + dt.timedelta(days=6)
    for line in statement.lines:
        assert loaded.first_week <= line.booking_date <= end_of_charges, line.booking_date
    # after the import, an exact standing order pays a week that was charged to its account
    statement_import.import_statement(folder / rents.CAMT_FILE)
    for entry in LedgerEntry.objects.filter(kind="standing_order")[:50]:
        charges = LedgerEntry.objects.filter(account=entry.account, kind="charge")
        assert charges.filter(posted_on__lte=entry.posted_on).exists()


@pytest.mark.django_db
def test_the_demos_suspense_queue_looks_like_a_rent_accounts(folder):
    assert import_gazetteer(folder / "gazetteer.csv", "llpg").ok
    load_rent_accounts(folder, today=dt.date(2026, 3, 31))
    statement_import.import_statement(folder / rents.CAMT_FILE)
    truth = _truth(folder)
    waiting = list(BankLine.objects.filter(outcome="suspense"))
    habits = {truth[line.bank_ref]["HABIT"] for line in waiting}
    # missing references ("RENT") on part payments, a parent paying with a note instead of the
    # reference, council tax paid into the rent account (a swapped digit is usually put right
    # by the matching, so it need not wait)
    assert {"part_payment", "parent", "not_rent"} <= habits
    assert not any("SUPPLIER" in line.payer_name or "INV " in line.reference for line in waiting)
    parts = [line for line in waiting if truth[line.bank_ref]["HABIT"] == "part_payment"]
    assert all(line.amount_pence % 1000 == 0 for line in parts)  # "£40", "£50": what they had
    parents = [line for line in waiting if truth[line.bank_ref]["HABIT"] == "parent"]
    assert all(" FOR " in line.reference and line.reference.endswith(" RENT") for line in parents)
    not_rent = [line for line in waiting if truth[line.bank_ref]["HABIT"] == "not_rent"]
    assert all(line.reference.startswith("CTAX ") for line in not_rent)


def test_the_shipped_service_user_number_is_not_a_placeholder():
    import importlib

    shipped = importlib.import_module("borough.settings").BOROUGH_BACS_SUN
    assert len(shipped) == 6 and shipped.isdigit()
    digits = [int(d) for d in shipped]
    steps = {b - a for a, b in pairwise(digits)}
    assert len(steps) > 1, f"{shipped} counts up or down: it reads as a placeholder"
    assert len(set(digits)) > 2, f"{shipped} repeats digits: it reads as a placeholder"
