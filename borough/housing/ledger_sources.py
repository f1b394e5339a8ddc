"""A ledger entry as a housing or finance officer reads it: its type by name (the council's charge
types, or the kind of payment) and where it came from, in words, with a link to that source where
the officer may open it. The ledger stores codes ("DBR", "statement:<hash>"); pages show these."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.urls import reverse

from borough.core.dates import date_in_words
from borough.housing.models import BankLine, Collection, LedgerEntry


def charge_names() -> dict[str, str]:
    """The council's charge type codes and their names (the council profile)."""
    return {charge.code: charge.name for charge in settings.COUNCIL.housing.charge_types}


def entry_type(entry: LedgerEntry, names: dict[str, str]) -> str:
    """ "Rent", "Service charge", "Direct Debit", "Reversal"…: never the housing system's code."""
    if entry.kind == LedgerEntry.Kind.CHARGE:
        return names.get(entry.type_code, entry.get_kind_display())
    return entry.get_kind_display()


@dataclass(frozen=True)
class Source:
    text: str
    href: str = ""


def _person(user) -> str:
    return (user.get_full_name().strip() or user.username) if user is not None else ""


def sources(entries: Iterable[LedgerEntry], *, finance: bool) -> dict[int, Source]:
    """Each entry's source in words, by entry id; links to finance pages only for ``finance``."""
    entries = list(entries)
    parsed = {entry.pk: entry.source_key.split(":") for entry in entries}
    hashes = {parts[1] for parts in parsed.values() if parts[0] == "statement" and len(parts) > 1}
    lines = {line.line_hash: line for line in BankLine.objects.filter(line_hash__in=hashes)}
    collection_ids = {
        int(parts[1])
        for parts in parsed.values()
        if parts[0] in ("bacs", "represent", "represented") and parts[-1].isdigit()
    }
    collections = {
        c.pk: c for c in Collection.objects.filter(pk__in=collection_ids).select_related("run")
    }
    reversed_ids = {int(p[1]) for p in parsed.values() if p[0] == "reversal" and p[1].isdigit()}
    reversed_dates = dict(
        LedgerEntry.objects.filter(pk__in=reversed_ids).values_list("pk", "posted_on")
    )
    out = {}
    for entry in entries:
        out[entry.pk] = _source(
            entry, parsed[entry.pk], lines, collections, reversed_dates, finance=finance
        )
    return out


def _source(entry, parts, lines, collections, reversed_dates, *, finance: bool) -> Source:
    kind, rest = parts[0], parts[1:]
    if kind == "charge" and len(rest) == 3:
        try:
            monday = date.fromisoformat(rest[2])
        except ValueError:
            return Source("Weekly charges")
        return Source(f"Weekly charges for the week starting {date_in_words(monday)}")
    if kind == "statement" and rest:
        line = lines.get(rest[0])
        if line is None:
            return Source("Bank statement")
        how = "allocated by an officer" if line.outcome == BankLine.Outcome.ALLOCATED else ""
        text = f"Bank statement line of {date_in_words(line.booking_date)}"
        text += f", {how}" if how else ""
        href = reverse("housing:finance-suspense-line", args=[line.pk]) if finance else ""
        return Source(text, href)
    if kind in ("bacs", "represent", "represented") and rest and rest[-1].isdigit():
        collection = collections.get(int(rest[-1]))
        label = "Direct Debit collection" if kind == "bacs" else "Direct Debit presented again"
        if collection is None:
            return Source(label)
        href = reverse("housing:dd-runs") if finance else ""
        return Source(f"{label}, Bacs run {collection.run.serial}", href)
    if kind == "reversal" and rest and rest[0].isdigit():
        posted = reversed_dates.get(int(rest[0]))
        when = f" of {date_in_words(posted)}" if posted else ""
        return Source(f"Reverses the entry{when}")
    by = _person(entry.created_by)
    return Source(f"Entered by {by}" if by else entry.get_kind_display())
