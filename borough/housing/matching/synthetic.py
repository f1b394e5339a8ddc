"""Synthetic rent accounts and bank statement credits with ground truth.

``generate(n_lines)`` makes ``n_lines // 2`` rent accounts (references issued by the scheme,
tenants' names from Faker's en_GB lists, weekly charges that rise on the first Monday of April)
and statement lines paid the way tenants really pay: the reference exactly or with a slip, the
tenancy reference instead, no reference from a bank account seen before, relatives and support
agencies, DWP housing benefit and Universal Credit, standing orders still at last year's rent,
split and duplicate payments, payments to closed accounts, and credits that belong to no rent
account. Each line carries its true account (``None`` for none) and the scenario that made it.

``write_camt053`` and ``write_mt940`` turn a statement into files, so the parsers are tested on
generated data too. Used by the tests and ``bench/matching.py``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Hashable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from faker.providers.person.en_GB import Provider as _Names

from borough.housing.statements import Statement, StatementLine, with_line_hashes

from .engine import KnownPayer, RentAccount
from .references import ReferenceScheme, get_scheme

COUNCIL_SORT_CODE = "601613"
COUNCIL_ACCOUNT = "31926819"
DWP = ("DWP UC HOUSING", "089250", "10004513")
DWP_HB = ("DWP HOUSING BENEFIT", "089250", "10004521")
AGENCIES = ("HOMEGROUP SUPPORT LTD", "ST MUNGOS", "SHELTER TRUST", "CARE & REPAIR")
RENT_YEAR_STARTS = dt.date(2026, 4, 6)  # first Monday in April 2026
PERIOD = (dt.date(2026, 3, 23), dt.date(2026, 5, 1))
INCREASE = 1.048

# Scenario → share of lines. "none" lines belong to no rent account.
SCENARIOS: dict[str, float] = {
    "exact": 0.50,
    "dwp": 0.12,
    "missing_check": 0.06,
    "transposition": 0.04,
    "wrong_check": 0.03,
    "dropped_zeros": 0.04,
    "tenancy_ref": 0.04,
    "property_ref": 0.01,
    "known_payer_no_ref": 0.05,
    "third_party_ref": 0.02,
    "third_party_no_ref": 0.02,
    "name_only": 0.02,
    "split": 0.01,
    "duplicate": 0.01,
    "closed_account": 0.01,
    "none": 0.02,
}

FIRST_NAMES = tuple(_Names.first_names_male) + tuple(_Names.first_names_female)
SURNAMES = tuple(_Names.last_names)


@dataclass
class _Habits:
    name: str
    sort_code: str
    account_number: str
    weeks_per_payment: int  # 1, 2, 4, or 0 for calendar-monthly
    kind: str  # "so" standing order, "transfer", "dwp"
    updated_after_april: bool
    history: bool
    relative: tuple[str, str, str] | None = None  # name, sort code, account
    relative_history: bool = False


@dataclass
class SyntheticStatements:
    accounts: list[RentAccount]
    lines: list[StatementLine]
    truth: list[Hashable | None]
    scenarios: list[str]
    council_account: str = f"{COUNCIL_SORT_CODE} {COUNCIL_ACCOUNT}"
    habits: dict[Hashable, _Habits] = field(default_factory=dict, repr=False)

    def statement(self, statement_id: str = "SYNTH1", opening_pence: int = 10_000_000) -> Statement:
        return as_statement(self.lines, self.council_account, statement_id, opening_pence)


def as_statement(
    lines: list[StatementLine], account: str, statement_id: str, opening_pence: int
) -> Statement:
    lines = sorted(lines, key=lambda line: line.booking_date)
    dates = [line.booking_date for line in lines]
    return Statement(
        account=account,
        statement_id=statement_id,
        period_from=min(dates) if dates else None,
        period_to=max(dates) if dates else None,
        opening_balance_pence=opening_pence,
        closing_balance_pence=opening_pence + sum(line.amount_pence for line in lines),
        lines=tuple(with_line_hashes(account, lines)),
    )


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _amount(weekly: int, weeks: int) -> int:
    return round(weekly * 52 / 12) if weeks == 0 else weekly * weeks


def generate_accounts(
    n_accounts: int, *, seed: int = 0, scheme: ReferenceScheme | None = None
) -> tuple[list[RentAccount], dict[Hashable, _Habits], dict[Hashable, int]]:
    """Rent accounts, each payer's habits, and last year's weekly charge per account."""
    rng = random.Random(seed)
    scheme = scheme or get_scheme()
    # References issued from one block, a third of it used: slips often land on a real one.
    numbers = rng.sample(range(100_000, 100_000 + 3 * n_accounts + 10), n_accounts)
    accounts, habits, last_year = [], {}, {}
    for i, number in enumerate(numbers):
        account_id = i + 1
        surname = rng.choice(SURNAMES)
        names = [f"{rng.choice(FIRST_NAMES)} {surname}"]
        if rng.random() < 0.2:
            partner_surname = surname if rng.random() < 0.6 else rng.choice(SURNAMES)
            names.append(f"{rng.choice(FIRST_NAMES)} {partner_surname}")
        old_weekly = rng.randint(8_000, 16_000)
        weekly = round(old_weekly * INCREASE)
        kind = rng.choices(("so", "transfer", "dwp"), (0.55, 0.2, 0.25))[0]
        weeks = rng.choice((1, 2, 4, 0)) if kind != "dwp" else rng.choice((0, 4))
        first, last = names[0].split(" ", 1)
        payer_name = rng.choice((f"{first} {last}", f"{first[0]} {last}", f"MR {first} {last}"))
        if kind == "dwp":
            payer_name, sort_code, account_number = rng.choice((DWP, DWP_HB))
        else:
            sort_code, account_number = _digits(rng, 6), _digits(rng, 8)
        habit = _Habits(
            name=payer_name.upper(),
            sort_code=sort_code,
            account_number=account_number,
            weeks_per_payment=weeks,
            kind=kind,
            updated_after_april=kind != "so" or rng.random() < 0.7,
            history=rng.random() < 0.85,
        )
        payers = []
        if habit.history:
            payers.append(KnownPayer(sort_code, account_number, (_amount(old_weekly, weeks),)))
        if rng.random() < 0.08:
            if rng.random() < 0.5:
                relative = f"{rng.choice(FIRST_NAMES)} {rng.choice((last, rng.choice(SURNAMES)))}"
            else:
                relative = rng.choice(AGENCIES)
            habit.relative = (relative.upper(), _digits(rng, 6), _digits(rng, 8))
            habit.relative_history = rng.random() < 0.5
            if habit.relative_history:
                payers.append(
                    KnownPayer(habit.relative[1], habit.relative[2], (_amount(old_weekly, weeks),))
                )
        closed = rng.random() < 0.03
        accounts.append(
            RentAccount(
                account_id=account_id,
                payment_reference=scheme.issue(number),
                tenancy_ref=f"{i + 1:07d}/{rng.randint(1, 3):02d}",
                property_ref=f"{100_023_000_000 + i}",
                tenant_names=tuple(names),
                weekly_charge_pence=weekly,
                payers=tuple(payers),
                end_date=dt.date(2026, 1, rng.randint(5, 30)) if closed else None,
            )
        )
        habits[account_id] = habit
        last_year[account_id] = old_weekly
    # The property of a closed tenancy is let again: its new tenancy shares the property ref.
    open_ids = [a.account_id for a in accounts if a.end_date is None]
    for index, account in enumerate(accounts):
        if account.end_date is not None and open_ids:
            successor = accounts[rng.choice(open_ids) - 1]
            accounts[index] = RentAccount(
                **{
                    **{f: getattr(account, f) for f in RentAccount.__slots__},
                    "property_ref": successor.property_ref,
                }
            )
    return accounts, habits, last_year


def _format_exact(rng: random.Random, ref: str) -> str:
    digits, check = ref[:-1], ref[-1]
    return rng.choice(
        (
            ref,
            f"RENT {ref}",
            f"HSG {ref}",
            f"REF: {ref}",
            f"{digits} {check}",
            f"{digits[:4]} {digits[4:]}{check}",
            f"{digits[:4]}-{digits[4:]}-{check}",
            ref.lower(),
            f"RENT{ref}",
        )
    )


def _slip(rng: random.Random, scenario: str, ref: str) -> str:
    digits, check = ref[:-1], ref[-1]
    if scenario == "missing_check":
        typed = digits
    elif scenario == "wrong_check":
        typed = digits + rng.choice([c for c in "ABCDEFGHIJK" if c != check])
    elif scenario == "transposition":
        positions = [i for i in range(len(digits) - 1) if digits[i] != digits[i + 1]]
        i = rng.choice(positions)
        typed = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :] + check
    else:  # dropped_zeros
        typed = digits.lstrip("0") + (check if rng.random() < 0.5 else "")
    return rng.choice((typed, f"RENT {typed}", f"HSG {typed}", typed.lower()))


def generate(
    n_lines: int,
    n_accounts: int | None = None,
    *,
    seed: int = 0,
    scheme: ReferenceScheme | None = None,
    scenarios: dict[str, float] | None = None,
) -> SyntheticStatements:
    """``n_lines`` statement credits against ``n_accounts`` (default ``n_lines // 2``) accounts."""
    scheme = scheme or get_scheme()
    n_accounts = n_accounts or max(10, n_lines // 2)
    accounts, habits, last_year = generate_accounts(n_accounts, seed=seed, scheme=scheme)
    rng = random.Random(seed + 1)
    mix = scenarios or SCENARIOS
    names, weights = list(mix), list(mix.values())
    open_ids = [a.account_id for a in accounts if a.end_date is None]
    closed_ids = [a.account_id for a in accounts if a.end_date is not None] or open_ids
    by_id = {a.account_id: a for a in accounts}
    span = (PERIOD[1] - PERIOD[0]).days
    out: list[tuple[StatementLine, Hashable | None, str]] = []
    counter = 0

    def line(on, amount, reference, payer, truth, scenario):
        nonlocal counter
        counter += 1
        out.append(
            (
                StatementLine(
                    booking_date=on,
                    value_date=on,
                    amount_pence=amount,
                    currency="GBP",
                    reference=reference,
                    payer_name=payer[0],
                    payer_sort_code=payer[1],
                    payer_account=payer[2],
                    bank_tx_code="PMNT/RCDT/STDO" if "so" in scenario else "PMNT/RCDT/ESCT",
                    bank_ref=f"FP{seed:02d}{counter:09d}",
                ),
                truth,
                scenario,
            )
        )

    pools = {
        "closed_account": closed_ids,
        "dwp": [a for a in open_ids if habits[a].kind == "dwp"],
        "known_payer_no_ref": [
            a for a in open_ids if habits[a].history and habits[a].kind != "dwp"
        ],
        "third_party_ref": [a for a in open_ids if habits[a].relative is not None],
        "third_party_no_ref": [a for a in open_ids if habits[a].relative is not None],
        "other": [a for a in open_ids if habits[a].kind != "dwp"],
    }

    while len(out) < n_lines:
        scenario = rng.choices(names, weights)[0]
        on = PERIOD[0] + dt.timedelta(days=rng.randrange(span + 1))
        if scenario == "none":
            payer = (
                f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}".upper(),
                _digits(rng, 6),
                _digits(rng, 8),
            )
            reference = rng.choice(
                (
                    f"INV {_digits(rng, 6)}",
                    "REFUND",
                    f"CTAX {rng.randrange(100_000, 100_000 + 3 * n_accounts):08d}",
                    f"PCN {_digits(rng, 10)}",
                    "",
                    "GARAGE",
                )
            )
            line(on, rng.randint(1_000, 60_000), reference, payer, None, scenario)
            continue
        pool = pools.get(scenario) or pools["other"] or open_ids
        account = by_id[rng.choice(pool)]
        habit = habits[account.account_id]
        new_rent = on >= RENT_YEAR_STARTS and habit.updated_after_april
        weekly = account.weekly_charge_pence if new_rent else last_year[account.account_id]
        amount = _amount(weekly, habit.weeks_per_payment)
        payer = (habit.name, habit.sort_code, habit.account_number)
        ref = account.payment_reference
        truth = account.account_id
        if scenario in ("exact", "closed_account"):
            line(on, amount, _format_exact(rng, ref), payer, truth, scenario)
        elif scenario == "dwp":
            reference = rng.choice((f"UC {ref}", f"HB {ref} 4WKS", ref))
            if rng.random() < 0.3:  # housing costs rarely cover the whole rent
                amount = round(amount * rng.uniform(0.4, 0.95))
            line(on, amount, reference, payer, truth, scenario)
        elif scenario in ("missing_check", "wrong_check", "transposition", "dropped_zeros"):
            line(on, amount, _slip(rng, scenario, ref), payer, truth, scenario)
        elif scenario == "tenancy_ref":
            reference = rng.choice(
                (
                    account.tenancy_ref,
                    f"TENANCY {account.tenancy_ref}",
                    f"RENT {account.tenancy_ref}",
                )
            )
            line(on, amount, reference, payer, truth, scenario)
        elif scenario == "property_ref":
            line(on, amount, f"PROP {account.property_ref}", payer, truth, scenario)
        elif scenario == "known_payer_no_ref":
            reference = rng.choice(("", "RENT", "STANDING ORDER", habit.name))
            line(on, amount, reference, payer, truth, scenario)
        elif scenario.startswith("third_party"):
            relative = habit.relative or payer
            reference = _format_exact(rng, ref) if scenario == "third_party_ref" else "RENT"
            line(on, amount, reference, relative, truth, scenario)
        elif scenario == "name_only":
            first, last = account.tenant_names[0].split(" ", 1)
            payer = (f"{first} {last}".upper(), _digits(rng, 6), _digits(rng, 8))
            line(on, amount, rng.choice(("", "RENT", "HOUSING")), payer, truth, scenario)
        elif scenario == "split":
            first_part = amount // 2
            line(on, first_part, _format_exact(rng, ref), payer, truth, scenario)
            line(on, amount - first_part, _format_exact(rng, ref), payer, truth, scenario)
        elif scenario == "duplicate":
            reference = _format_exact(rng, ref)
            line(on, amount, reference, payer, truth, scenario)
            line(on, amount, reference, payer, truth, scenario)
    out = out[:n_lines]
    out.sort(key=lambda item: item[0].booking_date)
    lines = with_line_hashes(f"{COUNCIL_SORT_CODE} {COUNCIL_ACCOUNT}", [o[0] for o in out])
    return SyntheticStatements(
        accounts=accounts,
        lines=lines,
        truth=[o[1] for o in out],
        scenarios=[o[2] for o in out],
        habits=habits,
    )


# -- writing files --------------------------------------------------------------------------


def gb_iban(sort_code: str, account_number: str, bank: str = "NWBK") -> str:
    """A GB IBAN for a sort code and account number (ISO 13616 mod-97 check digits)."""
    bban = f"{bank}{sort_code}{account_number}"
    rearranged = "".join(str(int(ch, 36)) for ch in f"{bban}GB00")
    return f"GB{98 - int(rearranged) % 97:02d}{bban}"


def _decimal(pence: int) -> str:
    return f"{abs(pence) // 100}.{abs(pence) % 100:02d}"


def write_camt053(statement: Statement) -> bytes:
    """One camt.053.001.02 ``<Stmt>`` with a booked entry per line."""
    sort_code, account_number = statement.account.split()
    first = statement.period_from or dt.date.today()
    last = statement.period_to or first

    def balance(code: str, pence: int, on: dt.date) -> str:
        indicator = "DBIT" if pence < 0 else "CRDT"
        return (
            f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
            f'<Amt Ccy="GBP">{_decimal(pence)}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>'
            f"<Dt><Dt>{on.isoformat()}</Dt></Dt></Bal>"
        )

    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>',
        f"<GrpHdr><MsgId>{escape(statement.statement_id)}</MsgId>"
        f"<CreDtTm>{last.isoformat()}T06:00:00Z</CreDtTm></GrpHdr>",
        f"<Stmt><Id>{escape(statement.statement_id)}</Id>",
        f"<CreDtTm>{last.isoformat()}T06:00:00Z</CreDtTm>",
        f"<FrToDt><FrDtTm>{first.isoformat()}T00:00:00</FrDtTm>"
        f"<ToDtTm>{last.isoformat()}T23:59:59</ToDtTm></FrToDt>",
        f"<Acct><Id><IBAN>{gb_iban(sort_code, account_number)}</IBAN></Id><Ccy>GBP</Ccy></Acct>",
        balance("OPBD", statement.opening_balance_pence or 0, first),
        balance("CLBD", statement.closing_balance_pence or 0, last),
    ]
    for line in statement.lines:
        indicator = "CRDT" if line.amount_pence > 0 else "DBIT"
        domain, family, sub = (line.bank_tx_code or "PMNT/RCDT/ESCT").split("/")
        debtor = ""
        if line.payer_name:
            debtor += f"<Dbtr><Nm>{escape(line.payer_name)}</Nm></Dbtr>"
        if line.payer_sort_code and line.payer_account:
            iban = gb_iban(line.payer_sort_code, line.payer_account)
            debtor += f"<DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct>"
        remittance = (
            f"<RmtInf><Ustrd>{escape(line.reference[:140])}</Ustrd></RmtInf>"
            if line.reference
            else ""
        )
        parts.append(
            f'<Ntry><Amt Ccy="GBP">{_decimal(line.amount_pence)}</Amt>'
            f"<CdtDbtInd>{indicator}</CdtDbtInd><Sts>BOOK</Sts>"
            f"<BookgDt><Dt>{line.booking_date.isoformat()}</Dt></BookgDt>"
            f"<ValDt><Dt>{(line.value_date or line.booking_date).isoformat()}</Dt></ValDt>"
            f"<AcctSvcrRef>{escape(line.bank_ref or 'NOTPROVIDED')}</AcctSvcrRef>"
            f"<BkTxCd><Domn><Cd>{domain}</Cd><Fmly><Cd>{family}</Cd>"
            f"<SubFmlyCd>{sub}</SubFmlyCd></Fmly></Domn></BkTxCd>"
            f"<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
            f'<AmtDtls><TxAmt><Amt Ccy="GBP">{_decimal(line.amount_pence)}</Amt></TxAmt></AmtDtls>'
            f"<RltdPties>{debtor}</RltdPties>{remittance}</TxDtls></NtryDtls></Ntry>"
        )
    parts.append("</Stmt></BkToCstmrStmt></Document>")
    return "\n".join(parts).encode()


def _swift_amount(pence: int) -> str:
    return f"{abs(pence) // 100},{abs(pence) % 100:02d}"


def _swift_text(text: str) -> str:
    # "?" opens a sub-field in a structured :86:; each field is written on one line.
    return text.replace("?", " ").replace("\n", " ").strip()


def write_mt940(statement: Statement) -> bytes:
    """An MT940 file with one statement block per booking day, balances chained.

    ``:86:`` is structured (``?20`` remittance, ``?30`` sort code, ``?31`` account, ``?32``
    name) so the payer's details survive the round trip."""
    sort_code, account_number = statement.account.split()
    by_day: dict[dt.date, list[StatementLine]] = {}
    for line in statement.lines:
        by_day.setdefault(line.booking_date, []).append(line)
    balance = statement.opening_balance_pence or 0
    out = []
    for number, (day, lines) in enumerate(sorted(by_day.items()), start=1):
        mark = "D" if balance < 0 else "C"
        out += [
            f":20:{statement.statement_id[:10]}{number:05d}",
            f":25:{sort_code}{account_number}",
            f":28C:{number:05d}/001",
            f":60F:{mark}{day:%y%m%d}GBP{_swift_amount(balance)}",
        ]
        for line in lines:
            sign = "C" if line.amount_pence > 0 else "D"
            out.append(
                f":61:{(line.value_date or day):%y%m%d}{day:%m%d}{sign}"
                f"{_swift_amount(line.amount_pence)}NTRFNONREF//{line.bank_ref or ''}"
            )
            reference = _swift_text(line.reference)
            detail = "166?00FASTER PAYMENT"
            for k in range(0, min(len(reference), 27 * 4), 27):
                detail += f"?2{k // 27}{reference[k : k + 27]}"
            if line.payer_sort_code and line.payer_account:
                detail += f"?30{line.payer_sort_code}?31{line.payer_account}"
            if line.payer_name:
                detail += f"?32{_swift_text(line.payer_name)[:27]}"
            out.append(f":86:{detail}")
            balance += line.amount_pence
        mark = "D" if balance < 0 else "C"
        out += [f":62F:{mark}{day:%y%m%d}GBP{_swift_amount(balance)}", "-"]
    return ("\r\n".join(out) + "\r\n").encode()
