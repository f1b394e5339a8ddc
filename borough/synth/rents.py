"""Council-housing rent for the synthetic borough, written after its datasets: a rent account
for each current council tenancy (payment reference with its check character, weekly rent and
service charge, how the tenant pays), and eight weeks of the council's rent bank account as a
statement in camt.053 and in MT940, with the ground truth of which account each credit belongs
to (``rent_statement_truth.csv``, by the bank's reference of the line).

Tenants' habits are the ones that make matching hard: most pay by standing order with their
exact reference, some leave off the check character, put "RENT" in front or give no reference,
some pay every four weeks and some monthly; a few still pay last year's amount; relatives pay
for some; Housing Benefit arrives from the DWP; and some credits are not rent at all.
Deterministic for a seed."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

ACCOUNTS_FILE = "rent_accounts.csv"
CAMT_FILE = "rent_statement.xml"
MT940_FILE = "rent_statement.sta"
TRUTH_FILE = "rent_statement_truth.csv"
ACCOUNT_COLUMNS = [
    "TENANCY_REF",
    "PAYMENT_REFERENCE",
    "OPENED",
    "DBR_WEEKLY_PENCE",
    "DSC_WEEKLY_PENCE",
    "PAYS_BY",
]
TRUTH_COLUMNS = ["BANK_REF", "PAYMENT_REFERENCE", "HABIT"]
FILES = {
    ACCOUNTS_FILE: ACCOUNT_COLUMNS,
    CAMT_FILE: [],
    MT940_FILE: [],
    TRUTH_FILE: TRUTH_COLUMNS,
}
# The council's rent account in the demo profile (borough/profiles/northmere.toml, [bank]).
COUNCIL_ACCOUNT = "089999 66374958"
WEEKS = 8


def _date(text: str) -> dt.date | None:
    return dt.datetime.strptime(text.title(), "%d-%b-%Y").date() if text else None


def write(out: Path, seed: int, start_date: dt.date) -> dict[str, int]:
    """Write the rent files into ``out`` (which holds ``housing_tenancies.csv``)."""
    from borough.housing.matching.references import get_scheme
    from borough.housing.matching.synthetic import as_statement, write_camt053, write_mt940
    from borough.housing.statements.models import StatementLine

    scheme = get_scheme("localgov-housing-rents")
    with (out / "housing_tenancies.csv").open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if not r["TENANCY_END"]]
    tenancies: dict[str, list[dict]] = {}
    for row in rows:
        tenancies.setdefault(row["TENANCY_REF"], []).append(row)
    first = start_date - dt.timedelta(weeks=WEEKS)
    accounts, lines, truth = [], [], []
    for reference, people in sorted(tenancies.items()):
        rng = random.Random(f"{seed}:{reference}")
        lead = next((p for p in people if p["LEAD_TENANT"] == "Y"), people[0])
        number = "".join(ch for ch in reference if ch.isdigit())[-8:].zfill(8)
        payment_reference = scheme.issue(number)
        rent = rng.randrange(9000, 16000, 5)
        service = rng.randrange(500, 2500, 5) if rng.random() < 0.6 else 0
        weekly = rent + service
        pays_by = rng.choices(
            ["standing_order", "direct_debit", "benefit", "card"], weights=[60, 20, 12, 8]
        )[0]
        accounts.append(
            [reference, payment_reference, lead["TENANCY_START"], rent, service, pays_by]
        )
        if pays_by not in ("standing_order", "benefit"):
            continue
        payer = f"{lead['FORENAME']} {lead['SURNAME']}".upper()
        habit = "exact"
        typed = payment_reference
        roll = rng.random()
        if pays_by == "benefit":
            habit, payer = "dwp", "DWP HOUSING BENEFIT"
        elif roll < 0.08:
            habit, typed = "missing_check", payment_reference[:-1]
        elif roll < 0.13:
            habit, typed = "prefix", f"RENT {payment_reference}"
        elif roll < 0.18:
            habit, typed = "name_only", ""
        elif roll < 0.22 and len(people) > 1:
            other = next(p for p in people if p is not lead)
            habit, payer = "relative", f"{other['FORENAME']} {other['SURNAME']}".upper()
        monthly = rng.random() < 0.4
        amount = round(weekly * 52 / 12) if monthly else weekly * 4
        if habit == "exact" and rng.random() < 0.1:
            habit, amount = "last_year", amount - amount // 40  # still at last year's rent
        sort_code = f"{rng.randrange(100000, 999999)}"
        account_number = f"{rng.randrange(10**7, 10**8)}"
        day = first + dt.timedelta(days=rng.randrange(0, 7))
        while day < start_date:
            bank_ref = f"SYN{seed:04d}{len(lines):08d}"
            lines.append(
                StatementLine(
                    booking_date=day,
                    value_date=day,
                    amount_pence=amount,
                    currency="GBP",
                    reference=typed if habit != "dwp" else f"HB {payment_reference}",
                    payer_name=payer,
                    payer_sort_code=None if habit == "dwp" else sort_code,
                    payer_account=None if habit == "dwp" else account_number,
                    bank_tx_code="PMNT/RCDT/STDO" if habit != "dwp" else "PMNT/RCDT/ESCT",
                    bank_ref=bank_ref,
                )
            )
            truth.append([bank_ref, payment_reference, habit])
            day = (
                dt.date(day.year + day.month // 12, day.month % 12 + 1, min(day.day, 28))
                if monthly
                else day + dt.timedelta(weeks=4)
            )
    rng = random.Random(f"{seed}:other credits")
    for k in range(max(2, len(lines) // 40)):
        day = first + dt.timedelta(days=rng.randrange(0, WEEKS * 7))
        bank_ref = f"SYN{seed:04d}{len(lines):08d}"
        lines.append(
            StatementLine(
                booking_date=day,
                value_date=day,
                amount_pence=rng.randrange(1000, 50000),
                currency="GBP",
                reference=f"INV {rng.randrange(10**5, 10**6)}",
                payer_name=f"SUPPLIER {k}",
                bank_tx_code="PMNT/RCDT/ESCT",
                bank_ref=bank_ref,
            )
        )
        truth.append([bank_ref, "", "not_rent"])
    with (out / ACCOUNTS_FILE).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(ACCOUNT_COLUMNS)
        writer.writerows(accounts)
    with (out / TRUTH_FILE).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(TRUTH_COLUMNS)
        writer.writerows(truth)
    statement = as_statement(lines, COUNCIL_ACCOUNT, f"RENT-{first:%Y%m%d}", 0)
    (out / CAMT_FILE).write_bytes(write_camt053(statement))
    (out / MT940_FILE).write_bytes(write_mt940(statement))
    return {"rent_accounts": len(accounts), "rent_statement_lines": len(lines)}
