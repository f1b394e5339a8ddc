"""Reads behind the staff pages that find a resident and show their records (``record_views``).

Searches go through the standardised fields the loader stores (``standardise.py``), so a search
for ``O'Brien`` finds ``OBRIEN`` and ``Bob`` finds ``Robert``. Resident IDs come from the index on
disk (``index.py``); a record loaded since the last link has none yet.
"""

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import F, Q

from borough.residents import index
from borough.residents import standardise as std
from borough.residents.models import SourceDataset, SourceRecord

#: At most this many matching records are shown for one search.
SEARCH_LIMIT = 50


def index_problem() -> str:
    """Why residents cannot be looked up yet (the records have never been linked), or ``""``."""
    try:
        index.resident_ids_of(["-"])
    except ValueError as error:
        return str(error)
    return ""


def name_as_given(record: SourceRecord) -> str:
    """The record's name as its dataset gives it: the full name, or the parts joined."""
    if record.full_name.strip():
        return std.clean_text(record.full_name)
    parts = (record.title, record.first_name, record.middle_names, record.surname)
    return std.clean_text(" ".join(part for part in parts if part))


def first_name_forms(first_name: str) -> tuple[str, set[str]]:
    """A typed first name as the loader would store it: its standard form and the canonical
    forms it may have on a record (a nickname of both sexes, like Chris, resolves by sex)."""
    standard = std.standardise_name(first_name)
    canonical = {std.canonical_first_name(standard, sex) for sex in ("", "F", "M")}
    return standard, canonical


def search_records(
    *,
    surname: str,
    first_name: str = "",
    date_of_birth: date | None = None,
    postcode: str = "",
    limit: int = SEARCH_LIMIT,
) -> tuple[list[SourceRecord], bool]:
    """Current and ended records matching every criterion given; and whether there were more
    than ``limit``. ``surname`` and ``first_name`` as typed; ``postcode`` already normalised."""
    query = SourceRecord.objects.filter(surname_std=std.standardise_name(surname))
    if first_name.strip():
        standard, canonical = first_name_forms(first_name)
        query = query.filter(Q(first_name_std=standard) | Q(first_name_canonical__in=canonical))
    if date_of_birth is not None:
        query = query.filter(date_of_birth=date_of_birth)
    if postcode:
        query = query.filter(postcode=postcode)
    query = query.select_related("dataset").order_by(
        "surname_std", "first_name_std", "date_of_birth", "dataset__code", "record_ref"
    )
    found = list(query[: limit + 1])
    return found[:limit], len(found) > limit


@dataclass
class ResidentMatch:
    """One resident in a search's results (``resident_id`` blank: records not linked yet)."""

    resident_id: str
    records: list[SourceRecord] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(name for r in self.records if (name := name_as_given(r))))

    @property
    def dates_of_birth(self) -> list[str]:
        given = (r.date_of_birth_given.strip() for r in self.records)
        return list(dict.fromkeys(value for value in given if value))

    @property
    def datasets(self) -> list[tuple[SourceDataset, int]]:
        """Each dataset the records come from, with how many, in dataset order."""
        counts: dict[int, int] = defaultdict(int)
        by_id: dict[int, SourceDataset] = {}
        for record in self.records:
            counts[record.dataset_id] += 1
            by_id[record.dataset_id] = record.dataset
        ordered = sorted(by_id.values(), key=lambda dataset: dataset.code)
        return [(dataset, counts[dataset.pk]) for dataset in ordered]


def group_by_resident(records: list[SourceRecord]) -> list[ResidentMatch]:
    """The records grouped by the resident the last link placed them with, in the order the
    records came; then each record not linked yet on its own (it may be anyone's).

    Raises ValueError (with a message to show) if the records have never been linked."""
    ids = index.resident_ids_of([record.unique_id for record in records])
    groups: dict[str, ResidentMatch] = {}
    unlinked = []
    for record in records:
        resident_id = ids.get(record.unique_id, "")
        if resident_id:
            groups.setdefault(resident_id, ResidentMatch(resident_id)).records.append(record)
        else:
            unlinked.append(ResidentMatch("", [record]))
    return [*groups.values(), *unlinked]


def records_by_unique_id(unique_ids: list[str]) -> list[SourceRecord]:
    """The records with these ``unique_id``s (``"{dataset}:{record_ref}"``), current and ended,
    by dataset, current first."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for unique_id in unique_ids:
        code, _, ref = unique_id.partition(":")
        wanted[code].add(ref)
    if not wanted:
        return []
    condition = Q()
    for code, refs in wanted.items():
        condition |= Q(dataset__code=code, record_ref__in=sorted(refs))
    return list(
        SourceRecord.objects.filter(condition)
        .select_related("dataset")
        .order_by(
            "dataset__code",
            F("ended_at").asc(nulls_first=True),
            F("valid_from").desc(nulls_last=True),
            "record_ref",
        )
    )


@dataclass(frozen=True)
class IdEvent:
    """A line of ``events.jsonl`` about a resident ID: new, merge, split or removed."""

    at: str
    kind: str
    resident_id: str
    others: tuple[str, ...]
    records: int


def id_history(resident_id: str) -> list[IdEvent]:
    """What the links did to ``resident_id`` (created it, merged others into it, split it, or
    another resident's merge or split that involved it), oldest first. Empty if there is no
    event log."""
    path = index.index_dir() / "events.jsonl"
    if not path.exists():
        return []
    found = []
    with path.open(encoding="utf-8") as log:
        for line in log:
            if resident_id not in line:  # cheap test before parsing
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            others = tuple(event.get("others") or ())
            if event.get("resident_id") != resident_id and resident_id not in others:
                continue
            found.append(
                IdEvent(
                    at=str(event.get("at", "")),
                    kind=str(event.get("kind", "")),
                    resident_id=str(event.get("resident_id", "")),
                    others=others,
                    records=int(event.get("records") or 0),
                )
            )
    return found
