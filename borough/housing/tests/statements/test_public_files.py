"""Statement files other parsers' authors wrote (see fixtures/public/README.md), imported through
``borough housing import-statement`` as an operator would: each imports, or is refused for what
is really wrong with it, with one message naming it; nothing half-imported."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from borough.housing.models import BankLine, LedgerEntry, StatementImport

PUBLIC = Path(__file__).parent / "fixtures" / "public"

#: file -> (lines, credits) it imports
IMPORTS = {
    "mt940_rabobank_iban.sta": (4, 0),
    "mt940_sns.sta": (2, 0),
    "mt940_generic.sta": (2, 0),
    "mt940_mbank.sta": (3, 3),
    "mt940_sberbank.sta": (3, 0),
    "camt053_genkgo_v2_with_account_name.xml": (1, 1),
    "camt053_genkgo_v3.xml": (1, 1),
    "camt053_genkgo_v4.xml": (1, 1),
    "camt053_genkgo_v8.xml": (1, 1),
    "camt053_genkgo_no_entries.xml": (0, 0),
}

#: file -> what the refusal says
REFUSALS = {
    "mt940_abnamro.sta": "statement block 1 (:20: ABN AMRO BANK NV): balances do not reconcile",
    "mt940_sepa_several_accounts.sta": "statement block 2 (:20: T089413956000001) is for account",
    "mt940_february_30.sta": "value date 160230 is not a date",
    "mt942_mbank.sta": "an MT942 interim report has no balances",
    "camt053_genkgo_v2_minimal.xml": "balances do not reconcile",
    "camt053_genkgo_v2_multi_statement.xml": "holds 2 statements",
}


def _import(path: Path) -> str:
    out = io.StringIO()
    call_command("housing", "import-statement", str(path), stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def test_every_public_file_is_listed_with_its_source():
    readme = (PUBLIC / "README.md").read_text(encoding="utf-8")
    files = {p.name for p in PUBLIC.iterdir() if p.suffix in (".sta", ".xml")}
    assert files == set(IMPORTS) | set(REFUSALS)
    for name in files:
        assert f"| `{name}` |" in readme


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(IMPORTS))
def test_a_public_statement_imports_through_the_command(name):
    lines, credits = IMPORTS[name]
    summary = _import(PUBLIC / name)
    record = StatementImport.objects.get()
    assert (record.file_name, record.lines) == (name, lines)
    assert BankLine.objects.count() == credits
    if credits:
        assert f"{name}: {credits} credit" in summary
    else:
        assert "no payments into the account" in summary
    # again: every credit was seen before, nothing posts twice
    again = _import(PUBLIC / name)
    assert BankLine.objects.count() == credits
    assert ("imported before" in again) if credits else ("no payments" in again)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_a_public_statement_with_a_real_problem_is_refused_whole(name):
    with pytest.raises(CommandError) as refused:
        _import(PUBLIC / name)
    message = str(refused.value)
    assert message.startswith(f"{name}: ") and message.endswith("Nothing was imported.")
    assert REFUSALS[name] in message
    assert StatementImport.objects.count() == BankLine.objects.count() == 0
    assert LedgerEntry.objects.count() == 0
