"""Importing the council's bank statements into rent accounts: all or nothing, never twice, with
automatic matching; what matching could not place waits in suspense (``reconcile``).

The rules:

- a statement is read and checked whole first, in one pass (``statements.parse_statement``); a
  file that fails loads nothing, and a statement of another bank account is refused;
- each credit is kept once, by its ``line_hash`` (``BankLine``), so importing a statement twice,
  or overlapping statements, adds nothing the second time; imports write one at a time and
  check again which lines are new as they do, so two imports at once post each line once (and
  its ledger entry has the source key ``statement:<hash>``);
- only the matcher's automatic matches are posted (``matching.engine``: precision first); the
  rest wait in suspense with ranked suggestions; a payer's name is matched to tenants through
  the resident index (``resident_names``) once there is one.

The payer's bank details are not kept: a keyed hash (``bank_details.payer_bank_key``) lets the
matcher recognise a payer seen before on an account, and the last four digits are kept for
officers.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from borough.core.bulk import insert_rows
from borough.housing import accounts, services
from borough.housing.matching import engine
from borough.housing.models import BankLine, LedgerEntry, RentAccount, StatementImport, Tenant
from borough.housing.statements import StatementError, StatementLine
from borough.housing.statements.models import pounds
from borough.housing.statements.parallel import parse_statement_alongside
from borough.transparency.models import Action

Kind = LedgerEntry.Kind

#: Bank transaction codes and payer names that mark a payment from the DWP (Housing Benefit,
#: Universal Credit housing costs).
BENEFIT_PAYERS = ("DWP", "DEPT FOR WORK", "DEPARTMENT FOR WORK", "UNIVERSAL CREDIT", "HB ")


class ImportRefused(ValueError):
    """The statement cannot be imported; the message says why, for the officer."""


def nothing_imported(problem: str) -> str:
    """The officer's message for a refused statement: the problem, then that nothing changed."""
    return f"{problem.rstrip().rstrip('.')}. Nothing was imported."


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def council_account() -> str:
    bank = settings.COUNCIL.bank
    return _digits(bank.sort_code) + _digits(bank.account_number)


def _payer_key(line, known: dict[tuple[str, str], str] | None = None) -> str:
    """The keyed hash of the line's payer's bank account ("" without one); ``known`` holds the
    ones worked out already (a statement repeats its regular payers)."""
    if not (line.payer_sort_code and line.payer_account):
        return ""
    from borough.housing.bank_details import payer_bank_key

    details = (line.payer_sort_code, line.payer_account)
    if known is None:
        return payer_bank_key(*details)
    key = known.get(details)
    if key is None:
        key = known[details] = payer_bank_key(*details)
    return key


def ledger_kind_for(line) -> tuple[str, str]:
    """(ledger kind, housing type code) for a credit: DWP benefit, standing order or payment."""
    text = f"{line.payer_name or ''} {line.reference}".upper()
    if any(word in text for word in BENEFIT_PAYERS):
        return Kind.BENEFIT, "RHB"
    code = (line.bank_tx_code or "").upper()
    if "STDO" in code or "STO" in text or "STANDING ORDER" in text:
        return Kind.STANDING_ORDER, "RSO"
    return Kind.BANK_PAYMENT, "RBP"


def matcher_accounts() -> list[engine.RentAccount]:
    """The rent accounts as the matcher sees them, with the payers (by keyed hash) and amounts
    seen on each before (a payment split across accounts counts for each)."""
    names: dict[int, list[str]] = defaultdict(list)
    for tenancy_id, first, last in Tenant.objects.values_list(
        "tenancy_id", "first_name", "surname"
    ):
        names[tenancy_id].append(f"{first} {last}")
    payers: dict[int, dict[str, set[int]]] = {}
    posted = LedgerEntry.objects.filter(source_key__startswith="statement:").values_list(
        "account_id", "source_key", "amount_pence"
    )
    keys = dict(
        BankLine.objects.exclude(payer_bank_key="").values_list("line_hash", "payer_bank_key")
    )
    for account_id, source_key, amount in posted.iterator(chunk_size=10_000):
        payer = keys.get(source_key.split(":")[1])
        if payer:
            payers.setdefault(account_id, {}).setdefault(payer, set()).add(-amount)
    out = []
    weekly_charges = services.weekly_charges_by_account(timezone.localdate())
    # Values, not model instances: a council has tens of thousands of accounts.
    rows = RentAccount.objects.values_list(
        "pk",
        "payment_reference",
        "tenancy__reference",
        "tenancy__property_id",
        "tenancy_id",
        "closed_on",
    )
    for pk, payment_reference, tenancy_ref, property_id, tenancy_id, closed_on in rows:
        out.append(
            engine.RentAccount(
                account_id=pk,
                payment_reference=payment_reference,
                tenancy_ref=tenancy_ref,
                property_ref=str(property_id),
                tenant_names=tuple(names.get(tenancy_id, ())),
                weekly_charge_pence=sum(weekly_charges.get(pk, {}).values()),
                payers=tuple(
                    engine.KnownPayer(key, "", tuple(sorted(amounts)))
                    for key, amounts in payers.get(pk, {}).items()
                ),
                end_date=closed_on,
            )
        )
    return out


@dataclass(frozen=True)
class ImportResult:
    record: StatementImport
    lines: int
    credits: int
    new_lines: int
    posted: int
    to_suspense: int
    already_seen: int
    #: Debits the bank marks as reversals of earlier credits: payments into the account taken
    #: back (a recalled or returned payment), each as the officer reads it.
    taken_back: tuple[str, ...] = ()

    def summary(self) -> str:
        name = self.record.file_name
        if not self.credits:
            text = (
                f"{name}: {self.lines} line{'s' if self.lines != 1 else ''}, no payments into the "
                "account (credits) among them: nothing to post to rent accounts."
            )
        elif not self.new_lines:
            text = f"{name}: every line was imported before; nothing was posted again."
        else:
            text = (
                f"{name}: {self.credits} credit{'s' if self.credits != 1 else ''}, "
                f"{self.new_lines} new. {self.posted} posted to rent accounts automatically, "
                f"{self.to_suspense} in suspense for an officer; {self.already_seen} imported "
                "before (not posted again)."
            )
        if self.taken_back:
            count = len(self.taken_back)
            text += (
                f" The bank took back {count} earlier payment{'s' if count != 1 else ''} into the "
                "account (reversals): find where each was posted and reverse it there: "
                + "; ".join(self.taken_back[:20])
                + (f"; and {count - 20} more" if count > 20 else "")
                + "."
            )
        return text


#: ``progress(stage, percent)``: what the import is doing and how far it has got (0 to 100).
ImportProgress = Callable[[str, int], None]

READING = "Reading and checking the file"
MATCHING = "Matching payments to rent accounts"
POSTING = "Posting to rent accounts"


def _file_sha256(source: str | Path | bytes | IO[bytes]) -> str:
    digest = hashlib.sha256()
    if isinstance(source, bytes):
        digest.update(source)
        return digest.hexdigest()
    if isinstance(source, str | Path):
        with open(source, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    start = source.tell()
    for chunk in iter(lambda: source.read(1 << 20), b""):
        digest.update(chunk)
    source.seek(start)
    return digest.hexdigest()


def _one_import_at_a_time() -> None:
    """Imports of the council's statements wait for each other (inside a transaction), so two
    at once cannot both take the same new line. PostgreSQL: a transaction-level advisory
    lock. SQLite: its transactions already take the write lock as they begin."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK])


#: The advisory lock's key: "BSTM" as a number, Borough's statement imports.
_IMPORT_LOCK = int.from_bytes(b"BSTM", "big")


def import_statement(
    source: str | Path | bytes | IO[bytes],
    *,
    file_name: str = "",
    format: str | None = None,
    csv_mapping=None,
    user=None,
    name_matcher=None,
    progress: ImportProgress | None = None,
) -> ImportResult:
    """Import one statement file: read and check all of it in one pass, refuse another bank
    account's statement, keep each new credit once, post the automatic matches, put the rest
    in suspense. All or nothing: a refused file (``ImportRefused``, whose message names the
    file and the problem) leaves nothing behind.

    The file is read and the credits matched outside any transaction (reading only); then one
    transaction, taken one import at a time, checks again which lines are new and writes them:
    two imports of one file at once post each line once, and the second says it was imported
    before."""
    if not file_name:
        file_name = Path(source).name if isinstance(source, str | Path) else "upload"
    with _cycle_collector_paused():
        return _import(source, file_name, format, csv_mapping, user, name_matcher, progress)


@contextmanager
def _cycle_collector_paused():
    # A statement brings hundreds of thousands of new objects, none in a reference cycle; the
    # cyclic collector would scan them again and again as they pile up (about 8% of a large
    # import). Reference counting still frees everything as usual.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _sqlite_page_cache(kib: int = 64 * 1024):
    # SQLite keeps 2 MB of pages by default; a statement's new rows and their indexes want
    # more (with 64 MB the inserts of 100,000 lines took about 40% less time). Put back after.
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {before}")


def _import(source, file_name, format, csv_mapping, user, name_matcher, progress) -> ImportResult:
    report = progress or (lambda stage, percent: None)
    own = council_account()
    report(READING, 0)
    file_sha256 = _file_sha256(source)
    # Each credit is matched as soon as it has been read and checked: a large file is read in
    # a second process meanwhile (statements.parallel), so reading and matching share the
    # time. Matching only reads; a file refused later throws its matches away.
    matcher = _Matcher(name_matcher)
    try:
        statement = parse_statement_alongside(
            source,
            format,
            csv_mapping,
            each_line=matcher.take,
            account=f"{own[:6]} {own[6:]}",
            name=file_name,
            progress=lambda done, total: report(READING, 70 * done // max(total, 1)),
        )
    except StatementError as error:
        raise ImportRefused(nothing_imported(str(error))) from None
    if not _digits(statement.account).endswith(own):
        raise ImportRefused(
            nothing_imported(
                f"{file_name} is a statement of account {statement.account}, not the council's "
                f"rent account ({settings.COUNCIL.bank.sort_code} "
                f"{settings.COUNCIL.bank.account_number})"
            )
        )
    taken_back = tuple(
        _taken_back(line) for line in statement.lines if line.reversal and line.amount_pence < 0
    )
    matches = matcher.matches
    credits = [
        (line, matches[number])
        for number, line in enumerate(statement.lines)
        if line.amount_pence > 0
    ]
    del matcher, matches
    about = {
        "format": statement.format,
        "bank_account": statement.account[:60],
        "statement_id": (statement.statement_id or "")[:100],
        "period_from": statement.period_from,
        "period_to": statement.period_to,
        "lines": len(statement.lines),
    }
    del statement  # the debits are not needed again

    report(MATCHING, 70)
    earlier = _imported_before([line for line, _ in credits])
    new = [(line, match) for line, match in credits if line.line_hash not in earlier]
    counts = (about.pop("lines"), len(credits))
    del credits  # from here each line is held once, by ``new``, until it has become rows
    outcomes = _outcomes(new, report)

    report(POSTING, 90)
    try:
        record, outcomes, posted = _write(file_name, file_sha256, user, counts, about, outcomes)
    except OperationalError as error:
        if "locked" not in str(error).lower():
            raise
        # SQLite: another import held the database for longer than its 20 s wait
        raise ImportRefused(
            nothing_imported(
                f"{file_name}: another statement import was still being written. Try again "
                "in a minute"
            )
        ) from None
    report(POSTING, 100)
    lines, credits = counts
    added = len(outcomes)
    return ImportResult(
        record, lines, credits, added, posted, added - posted, credits - added, taken_back
    )


def _taken_back(line: StatementLine) -> str:
    words = f"{line.booking_date.day} {line.booking_date:%B %Y}, {pounds(-line.amount_pence)}"
    return words + (f" ({line.reference})" if line.reference else "")


def _write(file_name, file_sha256, user, counts, about, outcomes):
    """The import's one transaction: one import writing at a time, new lines checked again,
    lines and postings written, the data-use event recorded."""
    with transaction.atomic():
        _one_import_at_a_time()
        record = StatementImport.objects.create(
            file_name=file_name[:255],
            file_sha256=file_sha256,
            imported_by=user,
            lines=counts[0],
            **about,
        )
        # Again, now that no other import can be writing: one may have finished meanwhile.
        now_earlier = _imported_before(outcomes)
        outcomes = [o for o in outcomes if o.line_hash not in now_earlier]
        with _sqlite_page_cache():
            insert_rows(
                BankLine,
                _BANK_LINE_FIELDS,
                ((o.line_hash, record.pk, *o.bank_line) for o in outcomes),
            )
            posted = services.post_new_entries([o.entry for o in outcomes if o.entry])
        StatementImport.objects.filter(pk=record.pk).update(
            new_lines=len(outcomes), posted=posted, to_suspense=len(outcomes) - posted
        )
        record.refresh_from_db()
        matched_by_name = {o.entry.account_id for o in outcomes if o.entry and o.by_name}
        if matched_by_name:
            # the tenants' names were used to recognise a payer: that is a use of their data
            # (per batch: a big statement can name more residents than one call may)
            accounts.record_tenants_use(
                RentAccount.objects.filter(pk__in=matched_by_name).values("tenancy_id"),
                user,
                purpose="housing_payment_matching",
                action=Action.PAYMENT_MATCHING,
                reference=f"statement-import-{record.pk}",
                label="Borough statement matching",
            )
    return record, outcomes, posted


@dataclass(slots=True)
class _Outcome:
    """One new credit, matched and ready to write: its bank line's columns (after its hash and
    import) and, when matched automatically, its ledger entry."""

    line_hash: str
    booking_date: dt.date
    bank_line: tuple
    entry: services.NewEntry | None
    by_name: bool


def _engine(name_matcher) -> engine.RentAccountMatcher:
    """The matcher over today's rent accounts (and their payers seen before)."""
    accounts = matcher_accounts()
    linked = list(
        Tenant.objects.exclude(resident_id="").values_list("tenancy__rent_account", "resident_id")
    )
    if name_matcher is None and linked:
        # Only tenants linked to the resident index can be found through it; with none, the
        # engine's own name index (the fallback) is the whole answer, and loading the resident
        # index would be wasted.
        from borough.housing.resident_names import resident_name_matcher

        name_matcher = resident_name_matcher(accounts, linked)
    return engine.RentAccountMatcher(accounts, name_matcher=name_matcher)


#: A credit the bank marks as a reversal undoes a payment out of the account (a refund that
#: bounced, say): it is nobody's rent, whatever its reference says.
_REVERSAL = engine.Match(
    None,
    0.0,
    engine.REVERSAL,
    "The bank marks this credit as a reversal of an earlier payment out of the account, not a "
    "payment in: find the payment it reverses.",
    False,
)


class _Matcher:
    """Matches each line handed to :meth:`take` as it is read (reading only, outside any
    transaction); ``matches`` holds, for each line in order, its payer's keyed hash and its
    match, or ``None`` for money out. The rent accounts are read at the first credit."""

    def __init__(self, name_matcher) -> None:
        self._name_matcher = name_matcher
        self._engine: engine.RentAccountMatcher | None = None
        self._known: dict[tuple[str, str], str] = {}
        self.matches: list[tuple[str, engine.Match] | None] = []

    def take(self, line: StatementLine) -> None:
        if line.amount_pence <= 0:
            self.matches.append(None)
            return
        key = _payer_key(line, self._known)
        if line.reversal:
            self.matches.append((key, _REVERSAL))
            return
        if self._engine is None:
            self._engine = _engine(self._name_matcher)
        # the matcher knows payers by their keyed hash, never by their bank details
        match = self._engine.match(
            StatementLine(  # as replace() would build it, without its per-call field look-ups
                booking_date=line.booking_date,
                value_date=line.value_date,
                amount_pence=line.amount_pence,
                currency=line.currency,
                reference=line.reference,
                payer_name=line.payer_name,
                payer_sort_code=key or None,
                payer_account="" if key else None,
                bank_tx_code=line.bank_tx_code,
                bank_ref=line.bank_ref,
            )
        )
        self.matches.append((key, match))


def _outcomes(new: list, report: ImportProgress) -> list[_Outcome]:
    """Each new credit and its match as the rows to write. ``new`` is emptied as it goes, so a
    large statement's lines and matches are not all held twice."""
    adapt_date = connection.ops.adapt_datefield_value
    adapt_json = connection.ops.adapt_json_value  # what the JSON field itself calls
    no_suggestions = adapt_json([], None)  # an automatic match has none: most lines
    outcomes = []
    total = len(new)
    for number in range(1, total + 1):
        (line, (key, match)), new[number - 1] = new[number - 1], None
        entry = None
        if match.auto:
            kind, code = ledger_kind_for(line)
            entry = services.NewEntry(
                account_id=match.account_id,
                kind=kind,
                type_code=code,
                amount_pence=-line.amount_pence,
                posted_on=line.booking_date,
                description=entry_description(kind, line),
                source_key=f"statement:{line.line_hash}",
            )
        suggestions = [
            {"account_id": s.account_id, "confidence": s.confidence, "reason": s.reason}
            for s in match.suggestions
        ]
        outcomes.append(
            _Outcome(
                line.line_hash,
                line.booking_date,
                (
                    adapt_date(line.booking_date),
                    line.amount_pence,
                    (line.reference or "")[:200],
                    (line.payer_name or "")[:140],
                    key,
                    (line.payer_account or "")[-4:],
                    (line.bank_tx_code or "")[:40],
                    (line.bank_ref or "")[:100],
                    (BankLine.Outcome.POSTED if match.auto else BankLine.Outcome.SUSPENSE).value,
                    match.method[:30],
                    match.confidence,
                    match.reason[:300],
                    adapt_json(suggestions, None) if suggestions else no_suggestions,
                ),
                entry,
                match.auto and match.method == "payer_name",
            )
        )
        if number % 2000 == 0:
            report(MATCHING, 70 + 20 * number // total)
    return outcomes


def _imported_before(lines) -> set[str]:
    """The line hashes among ``lines`` that are already bank lines. A line's hash includes its
    booking date, so only the lines booked in the statement's days need comparing."""
    if not lines:
        return set()
    dates = [line.booking_date for line in lines]
    wanted = {line.line_hash for line in lines}
    found = BankLine.objects.filter(
        booking_date__gte=min(dates), booking_date__lte=max(dates)
    ).values_list("line_hash", flat=True)
    return {line_hash for line_hash in found.iterator(chunk_size=5000) if line_hash in wanted}


_BANK_LINE_FIELDS = (
    "line_hash",
    "first_import",
    "booking_date",
    "amount_pence",
    "reference",
    "payer_name",
    "payer_bank_key",
    "payer_account_last4",
    "bank_tx_code",
    "bank_ref",
    "outcome",
    "method",
    "confidence",
    "reason",
    "suggestions",
)


def entry_description(kind: str, line) -> str:
    label = Kind(kind).label
    return f"{label}: {line.reference}"[:200] if line.reference else label
