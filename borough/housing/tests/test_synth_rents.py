"""The synthetic borough's rent files: accounts, a statement in camt.053 and MT940 with ground
truth; imported, no automatic match is wrong."""

from __future__ import annotations

import csv
import datetime as dt

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
