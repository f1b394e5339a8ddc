"""Loading a council's tenancy and rent-account exports: all or nothing, problems by file, row
and column; the same files twice change nothing; an end date closes the account."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from borough.housing.loading import LoadError, load_housing
from borough.housing.models import ChargeRate, RentAccount, Tenancy, Tenant
from borough.places.services import import_gazetteer
from borough.synth import generate


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    path = tmp_path_factory.mktemp("housing-exports")
    generate(path, residents=500, seed=9, workers=1)
    return path


@pytest.fixture
def gazetteer(exports, db):
    assert import_gazetteer(exports / "gazetteer.csv", "llpg").ok
    return exports


def _rows(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _write(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_the_exports_load_once(gazetteer):
    tenancies, accounts = gazetteer / "housing_tenancies.csv", gazetteer / "rent_accounts.csv"
    result = load_housing(tenancies, accounts)
    current = {r["TENANCY_REF"] for r in _rows(tenancies) if not r["TENANCY_END"]}
    assert result.tenancies_created == len(current) == Tenancy.objects.count()
    given = {r["TENANCY_REF"]: r for r in _rows(accounts)}
    for account in RentAccount.objects.select_related("tenancy"):
        row = given[account.tenancy.reference]
        assert account.payment_reference == row["PAYMENT_REFERENCE"]
        rent = ChargeRate.objects.get(account=account, charge_type="DBR")
        assert rent.weekly_pence == int(row["DBR_WEEKLY_PENCE"])
    assert Tenant.objects.filter(lead=True).count() == len(current)
    again = load_housing(tenancies, accounts)
    assert (again.tenancies_created, again.unchanged) == (0, len(current))
    assert "Nothing changed" in again.summary()


def test_an_end_date_closes_the_tenancy_and_its_account(gazetteer, tmp_path):
    tenancies, accounts = gazetteer / "housing_tenancies.csv", gazetteer / "rent_accounts.csv"
    load_housing(tenancies, accounts)
    rows = _rows(tenancies)
    target = next(r for r in rows if not r["TENANCY_END"])
    for row in rows:
        if row["TENANCY_REF"] == target["TENANCY_REF"]:
            row["TENANCY_END"] = "31-MAR-2026"
    result = load_housing(_write(tmp_path / "t.csv", rows), accounts)
    assert result.tenancies_closed == 1
    account = RentAccount.objects.get(tenancy__reference=target["TENANCY_REF"])
    assert str(account.closed_on) == "2026-03-31"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"UPRN": "999999999999"}, "UPRN: 999999999999 is not in the gazetteer"),
        ({"TENURE_TYPE": "LICENCE"}, "TENURE_TYPE: unknown tenure 'LICENCE'"),
        ({"TENANCY_START": "31/02/2020"}, "the date 31/02/2020 is not in the format"),
    ],
)
def test_a_bad_tenancy_row_loads_nothing_and_says_where(gazetteer, tmp_path, change, message):
    rows = _rows(gazetteer / "housing_tenancies.csv")
    rows[3].update(change)
    with pytest.raises(LoadError) as refused:
        load_housing(_write(tmp_path / "t.csv", rows), gazetteer / "rent_accounts.csv")
    assert any("t.csv row 5" in p and message in p for p in refused.value.problems)
    assert Tenancy.objects.count() == 0


def test_a_wrong_check_character_or_bad_charge_loads_nothing(gazetteer, tmp_path):
    rows = _rows(gazetteer / "rent_accounts.csv")
    good = rows[0]["PAYMENT_REFERENCE"]
    rows[0]["PAYMENT_REFERENCE"] = good[:-1] + ("A" if good[-1] != "A" else "B")
    rows[1]["DBR_WEEKLY_PENCE"] = "95.50"
    with pytest.raises(LoadError) as refused:
        load_housing(gazetteer / "housing_tenancies.csv", _write(tmp_path / "a.csv", rows))
    problems = "\n".join(refused.value.problems)
    assert "a.csv row 2, PAYMENT_REFERENCE" in problems and "check character" in problems
    assert "a.csv row 3, DBR_WEEKLY_PENCE: '95.50' is not a whole number of pence" in problems
    assert RentAccount.objects.count() == 0


def test_a_missing_column_is_named(gazetteer, tmp_path):
    rows = [
        {k: v for k, v in r.items() if k != "SURNAME"}
        for r in _rows(gazetteer / "housing_tenancies.csv")
    ]
    with pytest.raises(LoadError) as refused:
        load_housing(_write(tmp_path / "t.csv", rows), gazetteer / "rent_accounts.csv")
    assert refused.value.problems == ["t.csv: no column SURNAME in the header"]


def test_the_command_loads_and_reports(gazetteer):
    out = io.StringIO()
    call_command(
        "housing",
        "load",
        str(gazetteer / "housing_tenancies.csv"),
        str(gazetteer / "rent_accounts.csv"),
        stdout=out,
    )
    assert "tenancies loaded" in out.getvalue()
    with pytest.raises(CommandError, match="no housing mapping nope"):
        call_command(
            "housing",
            "load",
            str(gazetteer / "housing_tenancies.csv"),
            str(gazetteer / "rent_accounts.csv"),
            "--mapping",
            "nope",
        )


def test_a_new_export_with_changed_rents_adds_rates_from_the_effective_date(gazetteer, tmp_path):
    import datetime as dt

    tenancies, accounts = gazetteer / "housing_tenancies.csv", gazetteer / "rent_accounts.csv"
    load_housing(tenancies, accounts)
    rows = _rows(accounts)
    rows[0]["DBR_WEEKLY_PENCE"] = str(int(rows[0]["DBR_WEEKLY_PENCE"]) + 500)
    april = dt.date(2027, 4, 5)
    changed = _write(tmp_path / "a.csv", rows)
    result = load_housing(tenancies, changed, effective=april)
    assert result.rates_changed == 1 and "New weekly charges for 1 tenancies" in result.summary()
    account = RentAccount.objects.get(tenancy__reference=rows[0]["TENANCY_REF"])
    from borough.housing.services import weekly_charge_pence

    assert weekly_charge_pence(account, april)["DBR"] == int(rows[0]["DBR_WEEKLY_PENCE"])
    assert weekly_charge_pence(account, april - dt.timedelta(days=7))["DBR"] == (
        int(rows[0]["DBR_WEEKLY_PENCE"]) - 500
    )
    again = load_housing(tenancies, changed, effective=april)
    assert again.rates_changed == 0
