"""Match bank statement credits to rent accounts, or send them to suspense.

The pipeline follows A4 of the domain brief. **Precision first**: money posted to the wrong
tenant is a harm, so a line is matched automatically only on evidence that points at one open
account and that nothing else on the line contradicts. Everything else goes to suspense with
ranked suggestions for an officer.

1. The payment reference, quoted exactly with a valid check character → automatic.
2. A reference that is one slip away from exactly one account's (check character, swapped
   digits, dropped zeros) → automatic only when corroborated: the amount is one the account
   usually receives, or the payer's bank account has paid this rent account before.
3. The tenancy reference → automatic; the property reference → automatic when corroborated and
   exactly one tenancy of the property is open.
4. A payer's bank account that has paid exactly one open rent account before, and a plausible
   amount → automatic (among a few accounts, the amount must single one out).
5. The payer's name like exactly one tenant's, strongly, and the account's usual amount →
   automatic; otherwise a suggestion.
6. Suspense, with every account any step pointed at, ranked.

Payments to a closed account (after its end date) are never automatic: an officer decides
between former-tenant arrears and a refund to the payer.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field

from borough.housing.statements import StatementLine

from .names import TenantNameIndex
from .references import CORRECTION_WORDS, ReferenceScheme, get_scheme, text_pieces

AccountId = Hashable
NameMatcher = Callable[[str], list[tuple[AccountId, float]]]

# Methods, as stored with a match.
PAYMENT_REFERENCE = "payment_reference"
CORRECTED_REFERENCE = "corrected_reference"
TENANCY_REFERENCE = "tenancy_reference"
PROPERTY_REFERENCE = "property_reference"
PAYER_HISTORY = "payer_history"
PAYER_NAME = "payer_name"
SUSPENSE = "suspense"
CLOSED_ACCOUNT = "closed_account"  # suspense, for a payment to an account that has closed
NOT_A_CREDIT = "not_a_credit"
REVERSAL = "reversal"  # suspense: the bank marks the credit as undoing an earlier debit

BULK_PAYER_ACCOUNTS = 4  # a bank account seen on more rent accounts than this is an agency/DWP
PLAUSIBLE_WEEKS = 13  # a payment of more than a quarter's rent is not "plausible" on history alone
STRONG_NAME = 0.95
RIVAL_NAME = 0.85
MAX_SUGGESTIONS = 5


@dataclass(frozen=True, slots=True)
class KnownPayer:
    """A bank account that has paid this rent account before, and the amounts it paid."""

    sort_code: str
    account_number: str
    amounts_pence: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RentAccount:
    account_id: AccountId
    payment_reference: str
    tenancy_ref: str | None = None
    property_ref: str | None = None
    tenant_names: tuple[str, ...] = ()
    weekly_charge_pence: int = 0
    payers: tuple[KnownPayer, ...] = ()
    end_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Suggestion:
    account_id: AccountId
    confidence: float
    reason: str


@dataclass(frozen=True, slots=True)
class Match:
    """The outcome for one statement line. ``auto`` lines may be posted without an officer and
    only they have an ``account_id``; the rest go to suspense with ranked ``suggestions``."""

    account_id: AccountId | None
    confidence: float
    method: str
    reason: str
    auto: bool
    suggestions: tuple[Suggestion, ...] = field(default_factory=tuple)


def _compact(text: str | None) -> str:
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())


def _pounds(pence: int) -> str:
    return f"£{pence // 100:,}.{pence % 100:02d}"


def usual_amounts(account: RentAccount) -> frozenset[int]:
    """Amounts an account's payers usually send: a week, two, four, a calendar month (52
    weeks ÷ 12), and any amount a known payer sent before (for example last year's rent)."""
    weekly = account.weekly_charge_pence
    amounts = {weekly, weekly * 2, weekly * 4, round(weekly * 52 / 12)} if weekly > 0 else set()
    for payer in account.payers:
        amounts.update(payer.amounts_pence)
    amounts.discard(0)
    return frozenset(amounts)


class _Evidence:
    """What the steps found for one line: per account, the best suggestion."""

    def __init__(self) -> None:
        self.suggestions: dict[AccountId, Suggestion] = {}

    def suggest(self, account_id: AccountId, confidence: float, reason: str) -> None:
        held = self.suggestions.get(account_id)
        if held is None or confidence > held.confidence:
            self.suggestions[account_id] = Suggestion(account_id, round(confidence, 3), reason)

    def others(self, account_id: AccountId) -> bool:
        return any(a != account_id for a in self.suggestions)

    def ranked(self, exclude: AccountId | None = None) -> tuple[Suggestion, ...]:
        ranked = sorted(
            (s for s in self.suggestions.values() if s.account_id != exclude),
            key=lambda s: (-s.confidence, str(s.account_id)),
        )
        return tuple(ranked[:MAX_SUGGESTIONS])


class RentAccountMatcher:
    """An index of rent accounts (by payment reference, tenancy and property reference, payer
    bank details and tenant names) that matches statement lines to them."""

    def __init__(
        self,
        accounts: Iterable[RentAccount],
        *,
        scheme: ReferenceScheme | None = None,
        name_matcher: NameMatcher | None = None,
    ) -> None:
        self.scheme = scheme or get_scheme()
        self.accounts: dict[AccountId, RentAccount] = {}
        self.by_reference: dict[str, list[AccountId]] = defaultdict(list)
        self.by_tenancy: dict[str, list[AccountId]] = defaultdict(list)
        self.by_property: dict[str, list[AccountId]] = defaultdict(list)
        self.by_payer: dict[tuple[str, str], dict[AccountId, frozenset[int]]] = defaultdict(dict)
        self.usual: dict[AccountId, frozenset[int]] = {}
        for account in accounts:
            key = account.account_id
            self.accounts[key] = account
            self.by_reference[self.scheme.normalise(account.payment_reference)].append(key)
            if account.tenancy_ref:
                self.by_tenancy[_compact(account.tenancy_ref)].append(key)
            if account.property_ref:
                self.by_property[_compact(account.property_ref)].append(key)
            for payer in account.payers:
                self.by_payer[(payer.sort_code, payer.account_number)][key] = frozenset(
                    payer.amounts_pence
                )
            self.usual[key] = usual_amounts(account)
        self.name_matcher: NameMatcher = name_matcher or TenantNameIndex(self.accounts.values())

    # -- helpers -------------------------------------------------------------------------

    def _open(self, account_id: AccountId, on: dt.date) -> bool:
        end = self.accounts[account_id].end_date
        return end is None or on <= end

    def _closed_reason(self, account_id: AccountId) -> str:
        end = self.accounts[account_id].end_date
        return (
            f"The account closed on {end.day} {end:%B %Y}: post to former-tenant arrears or refund "
            "the payer."
        )

    def _one(self, found: list[AccountId]) -> AccountId | None:
        return found[0] if len(found) == 1 else None

    # -- the pipeline --------------------------------------------------------------------

    def match(self, line: StatementLine) -> Match:
        """Decide one line (see the module docstring for the rules)."""
        if line.amount_pence <= 0:
            return Match(
                None,
                0.0,
                NOT_A_CREDIT,
                f"Money out of the account ({_pounds(-line.amount_pence)}), not a payment.",
                False,
            )
        on = line.booking_date
        amount = line.amount_pence
        evidence = _Evidence()
        payer_key = (
            (line.payer_sort_code, line.payer_account)
            if line.payer_sort_code and line.payer_account
            else None
        )
        payer_history = self.by_payer.get(payer_key, {}) if payer_key else {}
        bulk_payer = len(payer_history) > BULK_PAYER_ACCOUNTS

        def fits(account_id: AccountId) -> bool:
            return amount in self.usual[account_id]

        def seen(account_id: AccountId) -> bool:
            return account_id in payer_history and not bulk_payer

        # Reference-like evidence in the text: payment, tenancy and property references.
        exact: dict[AccountId, str] = {}
        corrected: dict[AccountId, tuple[str, str, str]] = {}
        for candidate in self.scheme.candidates(line.reference):
            for account_id in self.by_reference.get(candidate.reference, ()):
                if candidate.is_exact:
                    exact.setdefault(account_id, candidate.reference)
                elif account_id not in corrected:
                    corrected[account_id] = (
                        candidate.reference,
                        candidate.correction,
                        candidate.typed,
                    )
        for account_id in exact:
            corrected.pop(account_id, None)
        pieces = set(text_pieces(line.reference))  # already upper-case and alphanumeric
        tenancy = {a for p in pieces for a in self.by_tenancy.get(p, ())}
        prop = {a for p in pieces for a in self.by_property.get(p, ())}

        # 1. Exact payment reference.
        if len(exact) == 1:
            account_id, reference = next(iter(exact.items()))
            if not self._open(account_id, on):
                evidence.suggest(
                    account_id,
                    0.9,
                    f"Payment reference {reference} quoted. {self._closed_reason(account_id)}",
                )
                return self._suspense(evidence, method=CLOSED_ACCOUNT)
            contradicted = (tenancy - {account_id}) or (
                payer_history
                and not bulk_payer
                and account_id not in payer_history
                and not fits(account_id)
                and any(self._open(a, on) for a in payer_history)
            )
            if not contradicted:
                return Match(
                    account_id,
                    0.99,
                    PAYMENT_REFERENCE,
                    f"Payment reference {reference} quoted, with a valid check character.",
                    True,
                    evidence.ranked(exclude=account_id),
                )
            evidence.suggest(
                account_id,
                0.8,
                f"Payment reference {reference} quoted, but this payer has paid another "
                "account before and the amount is not this account's usual one.",
            )
        elif len(exact) > 1:
            for account_id, reference in exact.items():
                evidence.suggest(
                    account_id,
                    0.6,
                    f"Payment reference {reference} quoted among {len(exact)} references: "
                    "the payment may need splitting.",
                )
            return self._suspense(evidence)

        # 2. One slip away from a payment reference.
        corroborated = []
        for account_id, (reference, correction, typed) in corrected.items():
            why = []
            if seen(account_id):
                why.append("this payer's bank account has paid it before")
            if fits(account_id):
                why.append(f"{_pounds(amount)} is an amount it usually receives")
            base = (
                f"{typed} is not a valid reference; {reference} is, {CORRECTION_WORDS[correction]}"
            )
            open_now = self._open(account_id, on)
            if not open_now:
                evidence.suggest(account_id, 0.5, f"{base}. {self._closed_reason(account_id)}")
            elif why:
                corroborated.append(account_id)
                evidence.suggest(account_id, 0.75, f"{base}, and {' and '.join(why)}.")
            else:
                evidence.suggest(account_id, 0.55, f"{base}, but nothing else confirms it.")
        if corrected and not exact:
            strong = [a for a in corroborated if seen(a)]
            chosen = None
            if len(corrected) == 1 and len(corroborated) == 1:
                chosen = corroborated[0]
            elif len(strong) == 1 and len(corroborated) == 1:
                chosen = strong[0]
            if chosen is not None and not (tenancy | prop) - {chosen}:
                reason = evidence.suggestions[chosen].reason
                return Match(
                    chosen, 0.95, CORRECTED_REFERENCE, reason, True, evidence.ranked(chosen)
                )

        # 3. Tenancy or property reference.
        for account_id in tenancy:
            ref = self.accounts[account_id].tenancy_ref
            if self._open(account_id, on):
                evidence.suggest(account_id, 0.85, f"Tenancy reference {ref} quoted.")
            else:
                evidence.suggest(
                    account_id,
                    0.5,
                    f"Tenancy reference {ref} quoted. {self._closed_reason(account_id)}",
                )
        open_tenancy = [a for a in tenancy if self._open(a, on)]
        if len(tenancy) == 1 and len(open_tenancy) == 1 and not exact:
            account_id = open_tenancy[0]
            if not [a for a in corroborated if a != account_id]:
                return Match(
                    account_id,
                    0.96,
                    TENANCY_REFERENCE,
                    f"The tenancy reference {self.accounts[account_id].tenancy_ref} was "
                    "quoted instead of the payment reference.",
                    True,
                    evidence.ranked(account_id),
                )
        open_property = [a for a in prop if self._open(a, on)]
        before_property = set(evidence.suggestions)
        for account_id in prop:
            ref = self.accounts[account_id].property_ref
            if account_id in open_property:
                evidence.suggest(
                    account_id, 0.7, f"Property reference {ref} quoted; this tenancy is current."
                )
            else:
                evidence.suggest(
                    account_id,
                    0.4,
                    f"Property reference {ref} quoted. {self._closed_reason(account_id)}",
                )
        if (
            len(open_property) == 1
            and not exact
            and not tenancy
            and (fits(open_property[0]) or seen(open_property[0]))
            and not before_property - {open_property[0]}
        ):
            account_id = open_property[0]
            return Match(
                account_id,
                0.93,
                PROPERTY_REFERENCE,
                f"Property reference {self.accounts[account_id].property_ref} quoted; this is "
                f"its only current tenancy and {_pounds(amount)} fits the account.",
                True,
                evidence.ranked(account_id),
            )

        # 4. A bank account that has paid before.
        if payer_history and not bulk_payer:
            open_paid = [a for a in payer_history if self._open(a, on)]
            masked = f"{payer_key[0]} ****{payer_key[1][-4:]}"
            before_history = set(evidence.suggestions)
            for account_id in payer_history:
                if account_id in open_paid:
                    evidence.suggest(
                        account_id, 0.6, f"Bank account {masked} has paid this account before."
                    )
                else:
                    evidence.suggest(
                        account_id,
                        0.4,
                        f"Bank account {masked} paid this account before. "
                        + self._closed_reason(account_id),
                    )
            chosen = None
            if len(open_paid) == 1:
                account_id = open_paid[0]
                weekly = self.accounts[account_id].weekly_charge_pence
                if fits(account_id) or amount <= PLAUSIBLE_WEEKS * weekly:
                    chosen = account_id
            elif len(open_paid) > 1:
                singled = [a for a in open_paid if amount in payer_history[a] or fits(a)]
                if len(singled) == 1:
                    chosen = singled[0]
            if chosen is not None and not before_history - {chosen}:
                return Match(
                    chosen,
                    0.94,
                    PAYER_HISTORY,
                    f"No usable reference, but bank account {masked} has paid this rent "
                    f"account before and {_pounds(amount)} is a plausible amount for it.",
                    True,
                    evidence.ranked(chosen),
                )

        # 5. The payer's name.
        if line.payer_name:
            hits = [(a, s) for a, s in self.name_matcher(line.payer_name) if a in self.accounts]
            strong = [a for a, s in hits if s >= STRONG_NAME and self._open(a, on) and fits(a)]
            rivals = [a for a, s in hits if s >= RIVAL_NAME and self._open(a, on)]
            chosen = (
                strong[0]
                if len(strong) == 1 and rivals == strong and not evidence.others(strong[0])
                else None
            )
            for account_id, score in hits:
                names = " / ".join(self.accounts[account_id].tenant_names)
                if not self._open(account_id, on):
                    evidence.suggest(
                        account_id,
                        0.3 * score,
                        f"Payer {line.payer_name} is like tenant {names}. "
                        + self._closed_reason(account_id),
                    )
                    continue
                fit = fits(account_id)
                evidence.suggest(
                    account_id,
                    0.5 * score + (0.2 if fit else 0.0),
                    f"Payer {line.payer_name} is like tenant {names}"
                    + (f", and {_pounds(amount)} is the account's usual payment." if fit else "."),
                )
            if chosen is not None:
                names = " / ".join(self.accounts[chosen].tenant_names)
                return Match(
                    chosen,
                    0.9,
                    PAYER_NAME,
                    f"No usable reference, but payer {line.payer_name} has the name of tenant "
                    f"{names} and {_pounds(amount)} is the account's usual payment.",
                    True,
                    evidence.ranked(chosen),
                )

        return self._suspense(evidence)

    def _suspense(self, evidence: _Evidence, *, method: str = SUSPENSE) -> Match:
        ranked = evidence.ranked()
        if method == CLOSED_ACCOUNT:
            return Match(None, 0.0, method, ranked[0].reason, False, ranked)
        if ranked:
            reason = f"No evidence points to one account; best suggestion: {ranked[0].reason}"
            return Match(None, 0.0, SUSPENSE, reason, False, ranked)
        return Match(
            None,
            0.0,
            SUSPENSE,
            "No reference, known bank account or tenant name points to any rent account.",
            False,
            (),
        )

    def match_lines(self, lines: Sequence[StatementLine]) -> list[Match]:
        return [self.match(line) for line in lines]


def match_statement_lines(
    lines: Sequence[StatementLine],
    accounts: Iterable[RentAccount],
    *,
    scheme: ReferenceScheme | None = None,
    name_matcher: NameMatcher | None = None,
) -> list[Match]:
    """Match every line against the accounts (builds the index once)."""
    return RentAccountMatcher(accounts, scheme=scheme, name_matcher=name_matcher).match_lines(lines)
