"""Council-housing rent for the synthetic borough, written after its datasets: a rent account
for each current council tenancy (payment reference with its check character, weekly rent and
service charge, how the tenant pays), and eight weeks of the council's rent bank account as a
statement in camt.053 and in MT940, with the ground truth of which account each credit belongs
to (``rent_statement_truth.csv``, by the bank's reference of the line).

Tenants' habits are the ones that make matching hard, and leave the finance officer's suspense
queue looking like a rent account's: most pay by standing order with their exact reference, some
leave off the check character, put "RENT" in front, swap two digits or give no reference; some
pay part of what is due ("RENT", a round £40 or £50); a parent pays for some with a note instead
of the reference ("MUM FOR AISHA RENT"); joint tenants pay for each other; some pay every four
weeks and some monthly; a few still pay last year's amount; Housing Benefit arrives from the DWP;
and some credits are not rent at all (council tax paid into the rent account). Payments fall in
the weeks charged: the eight weeks before the borough's start date, from the Monday of the first
(``charge_mondays``). Deterministic for a seed."""

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


def charge_mondays(start_date: dt.date) -> list[dt.date]:
    """The Mondays of the weeks the statement covers: charges for these weeks are what its
    payments pay (``borough.housing.synth.load_rent_accounts`` posts them)."""
    first = start_date - dt.timedelta(weeks=WEEKS)
    monday = first - dt.timedelta(days=first.weekday())
    return [monday + dt.timedelta(weeks=k) for k in range((start_date - monday).days // 7 + 1)]


def _transposed(reference: str, rng: random.Random, scheme) -> str:
    """The reference with two neighbouring digits swapped, so that its check character no longer
    fits (a swap that happens to be another valid reference is left alone)."""
    digits = reference[:-1]
    for _ in range(10):
        k = rng.randrange(0, len(digits) - 1)
        swapped = digits[:k] + digits[k + 1] + digits[k] + digits[k + 2 :] + reference[-1]
        if swapped != reference and not scheme.is_valid(swapped):
            return swapped
    return reference[:-1]


def _date(text: str) -> dt.date | None:
    return dt.datetime.strptime(text.title(), "%d-%b-%Y").date() if text else None


def write(out: Path, seed: int, start_date: dt.date) -> dict[str, int]:
    """Write the rent files into ``out`` (which holds ``housing_tenancies.csv``)."""
    from borough.housing.matching.references import get_scheme
    from borough.housing.matching.synthetic import (
        FIRST_NAMES,
        SURNAMES,
        as_statement,
        write_camt053,
        write_mt940,
    )
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
        elif roll < 0.06:
            habit, typed = "missing_check", payment_reference[:-1]
        elif roll < 0.10:
            habit, typed = "prefix", f"RENT {payment_reference}"
        elif roll < 0.14:
            habit, typed = "name_only", ""
        elif roll < 0.17:
            habit, typed = "transposed", _transposed(payment_reference, rng, scheme)
        elif roll < 0.20:
            habit, typed = "part_payment", rng.choice(["RENT", "RENT PAYMENT", "ARREARS"])
        elif roll < 0.23:
            parent = rng.choice(["MUM", "DAD", "NAN"])
            habit, typed = "parent", f"{parent} FOR {lead['FORENAME'].upper()} RENT"
            payer = f"{rng.choice('ABCDEJMPRST')} {lead['SURNAME']}".upper()
        elif roll < 0.27 and len(people) > 1:
            other = next(p for p in people if p is not lead)
            habit, payer = "relative", f"{other['FORENAME']} {other['SURNAME']}".upper()
        monthly = rng.random() < 0.4
        amount = round(weekly * 52 / 12) if monthly else weekly * 4
        if habit == "exact" and rng.random() < 0.1:
            habit, amount = "last_year", amount - amount // 40  # still at last year's rent
        elif habit == "part_payment":
            amount = rng.choice([2000, 4000, 5000, 10000])  # what they could manage
        sort_code = f"{rng.randrange(100000, 999999)}"
        account_number = f"{rng.randrange(10**7, 10**8)}"
        began = _date(lead["TENANCY_START"]) or first  # no rent is paid before the tenancy
        day = max(first, began) + dt.timedelta(days=rng.randrange(0, 7))
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
    for _k in range(max(2, len(lines) // 40)):  # council tax paid into the rent account
        day = first + dt.timedelta(days=rng.randrange(0, WEEKS * 7))
        bank_ref = f"SYN{seed:04d}{len(lines):08d}"
        lines.append(
            StatementLine(
                booking_date=day,
                value_date=day,
                amount_pence=rng.randrange(8000, 22000, 100),
                currency="GBP",
                reference=f"CTAX {rng.randrange(6 * 10**7, 7 * 10**7)}",
                payer_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}".upper(),
                payer_sort_code=f"{rng.randrange(100000, 999999)}",
                payer_account=f"{rng.randrange(10**7, 10**8)}",
                bank_tx_code="PMNT/RCDT/STDO",
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
