"""The two passes of one load: check every row, match the addresses, then write in one go.

``services.load_dataset`` is the entry point and states the rules; this module does the work.
"""

import hashlib
import math
from collections import Counter
from datetime import datetime
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from borough.residents.addresses import AddressMatcher, address_matcher
from borough.residents.config import DatasetConfig
from borough.residents.models import (
    SOURCE_VALUES,
    DatasetLoad,
    SourceDataset,
    SourceRecord,
    UprnMethod,
)
from borough.residents.reading import Problem, RowSource
from borough.residents.results import (
    MAX_PROBLEMS_SHOWN,
    MAX_UNMATCHED_KEPT,
    LoadResult,
    UnmatchedAddress,
)
from borough.residents.rows import RecordValues, RowReader

BATCH_SIZE = 2000
#: Up to this many records, the first pass keeps what it read for the second; a bigger file
#: is read twice instead, so memory stays bounded (about 1 kB a record).
KEEP_IN_MEMORY = 200_000

# SourceRecord's fields that a load writes and that the content hash covers, in the hash's order.
HASHED = SOURCE_VALUES
_DATES = {"date_of_birth", "valid_from", "valid_to"}


class Kept:
    """Problems (or warnings) found: the first few kept, all counted, and counted by column.
    At most ``per_column`` are kept of one column, so that one column's flood (a date format
    declared wrong, 5,000 postcodes from another country) does not hide another's."""

    def __init__(self, limit: int = MAX_PROBLEMS_SHOWN, per_column: int = 10) -> None:
        self.kept: list[Problem] = []
        self.count = 0
        self.limit = limit
        self.per_column = per_column
        self.by_column: Counter[str] = Counter()
        self.notes: list[Problem] = []

    def add(self, problem: Problem) -> None:
        self.count += 1
        column = problem.column or ""
        self.by_column[column] += 1
        if len(self.kept) < self.limit and self.by_column[column] <= self.per_column:
            self.kept.append(problem)

    def note(self, problem: Problem) -> None:
        """A line that explains the problems (listed first), not one of them: not counted."""
        self.notes.append(problem)

    def __bool__(self) -> bool:
        return self.count > 0 or bool(self.notes)


def _rows_allowed(rows: int, share: float | None) -> int:
    """How many rows with problems a load may set aside: ``share`` of them, at least one."""
    if share is None:
        return 0
    return max(1, math.floor(rows * share))


def content_hash(values: RecordValues) -> str:
    text = "\x1f".join("" if (v := getattr(values, name)) is None else str(v) for name in HASHED)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class Loader:
    """One load of one file. ``check()`` reads and checks every row; ``write()`` writes."""

    def __init__(
        self,
        config: DatasetConfig,
        dataset: SourceDataset | None,
        path: Path,
        load: DatasetLoad,
        result: LoadResult,
        matcher: AddressMatcher | None = None,
        set_aside_share: float | None = None,
    ) -> None:
        self.config = config
        self.dataset = dataset
        self.path = path
        self.load = load
        self.result = result
        self.matcher = matcher
        self.today = timezone.localdate(load.started_at)
        self.kept: list[RecordValues] | None = []
        # (ref, row, address as given, postcode, source UPRN) of every record, until matched.
        self.addresses: list[tuple] = []
        self.matches: dict[str, tuple[int | None, str, str]] = {}  # ref → UPRN, method, note
        self.set_aside_share = set_aside_share
        self.set_aside_rows: set[int] = set()  # row numbers left out (set_aside_share only)

    def rows(self):
        """(row number, RowResult) for every row of the file."""
        with RowSource(self.path, self.config) as source:
            reader = RowReader(self.config, source.index(), source.width, self.today)
            for number, cells in source:
                yield number, reader.read(number, cells)

    def records(self):
        """Every record of the file, from memory if the first pass kept them."""
        if self.kept is not None:
            yield from self.kept
            return
        for number, read in self.rows():
            if number not in self.set_aside_rows:
                yield from read.records

    # -- first pass ---------------------------------------------------------------------------
    def check(self) -> bool:
        """Read and check every row, then match addresses. False if the file has problems."""
        problems, warnings = Kept(), Kept()
        setting_aside = self.set_aside_share is not None
        set_aside: list[Problem] = []
        seen: dict[str, int] = {}
        rows = 0
        for number, read in self.rows():
            if read.records or read.problems:
                rows += 1
            found = list(read.problems)
            for record in read.records:
                if record.record_ref in seen:
                    found.append(
                        Problem(
                            f"the record id {record.record_ref} is also on row "
                            f"{seen[record.record_ref]}; each record can appear once",
                            number,
                            self.config.record_id,
                        )
                    )
            if found and setting_aside and number is not None:
                # the whole row is left out: none of its records, all of its problems listed
                self.set_aside_rows.add(number)
                set_aside.extend(found)
                continue
            for problem in found:
                problems.add(problem)
            for warning in read.warnings:
                warnings.add(warning)
            for record in read.records:
                if record.record_ref in seen:
                    continue
                seen[record.record_ref] = number
                if self.kept is not None and not problems:
                    self.kept.append(record)
                    if len(self.kept) > KEEP_IN_MEMORY:
                        self.kept = None
                self._note_address(record)
        allowed = _rows_allowed(rows, self.set_aside_share)
        if len(self.set_aside_rows) > allowed:
            problems.note(
                Problem(
                    f"{len(self.set_aside_rows):,} rows have problems: more than the {allowed:,} "
                    f"that may be set aside ({self.set_aside_share:.1%} of {rows:,} rows), so "
                    "nothing was loaded. The first of their problems follow."
                )
            )
            for problem in set_aside:
                problems.add(problem)
        if problems:
            self.kept = []
        self.result.rows, self.result.records = rows, len(seen)
        if not problems and not seen:
            problems.add(Problem("The file has a header row but no records."))
        if problems:
            self.result.problems, self.result.problem_count = problems.kept, problems.count
            self.result.problem_notes = problems.notes
            self.result.problems_by_column = dict(problems.by_column)
            return False
        self.result.set_aside_rows, self.result.set_aside = len(self.set_aside_rows), set_aside
        self._match_addresses(warnings)
        self.result.warnings, self.result.warning_count = warnings.kept, warnings.count
        self.result.warnings_by_column = dict(warnings.by_column)
        return True

    def _note_address(self, record: RecordValues) -> None:
        self.addresses.append(
            (
                record.record_ref,
                record.row_number,
                record.address_given,
                record.postcode,
                record.source_uprn,
            )
        )

    def address_keys(self, gazetteer) -> list[tuple[str, str]]:
        """Keys of the addresses the file's records need matched (no UPRN from the gazetteer),
        read without checking the rows: for matching several files' addresses in one batch."""
        return [
            (record.address_given, record.postcode)
            for _number, read in self.rows()
            for record in read.records
            if record.source_uprn is None or record.source_uprn not in gazetteer
        ]

    def _previous_matches(self, key: str) -> dict[str, tuple]:
        """ref → (address, postcode, UPRN, method, note) of the records whose address was
        matched (or not) against this same gazetteer by the dataset's last load."""
        if self.dataset is None:
            return {}
        last = (
            DatasetLoad.objects.filter(dataset=self.dataset, status=DatasetLoad.Status.LOADED)
            .order_by("-started_at", "-id")
            .first()
        )
        if last is None or last.gazetteer_key != key:
            return {}
        return {
            row[0]: row[1:]
            for row in SourceRecord.objects.filter(dataset=self.dataset)
            .exclude(uprn_method=UprnMethod.SOURCE)
            .values_list(
                "record_ref", "address_given", "postcode", "uprn", "uprn_method", "uprn_note"
            )
            .iterator(chunk_size=20_000)
        }

    def _match_addresses(self, warnings: Kept) -> None:
        """(UPRN, method, note) for every record; unmatched addresses listed in the result.

        An address the dataset's last load matched against the same gazetteer, unchanged
        since, keeps that load's answer; the rest are matched in one batch.
        """
        matcher = self.matcher or address_matcher()
        gazetteer, result = matcher.gazetteer, self.result
        self.load.gazetteer_key = gazetteer.key
        previous = self._previous_matches(gazetteer.key)
        wanted: dict[str, tuple[str, str]] = {}
        uprn_spec = self.config.people[0].fields.get("uprn")
        warned_rows: set[int] = set()
        for ref, row, address, postcode, uprn in self.addresses:
            if uprn is not None and uprn in gazetteer:
                self.matches[ref] = (uprn, UprnMethod.SOURCE, "")
                continue
            if uprn is not None and row not in warned_rows:
                warned_rows.add(row)
                warnings.add(
                    Problem(
                        f"UPRN {uprn} is not in the gazetteer; the address is matched instead",
                        row,
                        uprn_spec.column if uprn_spec else None,
                    )
                )
            before = previous.get(ref)
            if before and before[:2] == (address, postcode):
                self.matches[ref] = before[2:]
            else:
                wanted[ref] = (address, postcode)
        found = matcher.match(wanted.values())
        for ref, key in wanted.items():
            match = found[key]
            if match.uprn is not None:
                self.matches[ref] = (match.uprn, UprnMethod.ADDRESS_MATCH, "")
            else:
                self.matches[ref] = (None, UprnMethod.UNMATCHED, match.reason)
        for ref, row, address, postcode, _uprn in self.addresses:
            _uprn, method, note = self.matches[ref]
            if method == UprnMethod.SOURCE:
                result.uprn_from_source += 1
            elif method == UprnMethod.ADDRESS_MATCH:
                result.uprn_from_address += 1
            else:
                result.uprn_unmatched += 1
                if len(result.unmatched) < MAX_UNMATCHED_KEPT:
                    result.unmatched.append(UnmatchedAddress(ref, row, address, postcode, note))
        self.addresses = []

    # -- second pass --------------------------------------------------------------------------
    @transaction.atomic
    def write(self) -> None:
        """Write the snapshot in one transaction: create, update, end, reopen."""
        self.load.status = DatasetLoad.Status.LOADED
        self.load.finished_at = self.load.started_at
        self.load.save()
        self._write()

    def _existing(self) -> dict[str, tuple[int, str, bool]]:
        """ref → (id, content hash, is current) of every record the dataset has had."""
        return {
            ref: (pk, digest, ended is None)
            for pk, ref, digest, ended in SourceRecord.objects.filter(dataset=self.dataset)
            .values_list("id", "record_ref", "content_hash", "ended_at")
            .iterator(chunk_size=20_000)
        }

    def _write(self) -> None:
        result, now = self.result, self.load.started_at
        existing = self._existing()
        upsert = _Upsert(self.dataset.pk, self.load.pk, now)
        for values in self.records():
            values.uprn, values.uprn_method, values.uprn_note = self.matches[values.record_ref]
            digest = content_hash(values)
            before = existing.get(values.record_ref)
            if before is None:
                result.created += 1
            elif before[2] and before[1] == digest:
                result.unchanged += 1
                continue
            elif not before[2]:
                result.reopened += 1
            else:
                result.updated += 1
            upsert.add(values, digest)
        upsert.flush()
        gone = [
            pk for ref, (pk, _, current) in existing.items() if current and ref not in self.matches
        ]
        for start in range(0, len(gone), 500):
            SourceRecord.objects.filter(id__in=gone[start : start + 500]).update(
                ended_at=now, changed_at=now
            )
        result.ended = len(gone)
        SourceRecord.objects.filter(dataset=self.dataset, ended_at__isnull=True).update(
            last_seen_load=self.load
        )


class _Upsert:
    """Inserts new records and overwrites changed ones, in batches.

    Written as one ``INSERT … ON CONFLICT (dataset, record_ref) DO UPDATE`` (SQLite and
    PostgreSQL both have it) because Django's ``bulk_create`` spends most of a big load
    preparing values field by field: this is about five times faster. A conflicting row keeps
    its ``first_seen_load``; everything else is replaced.
    """

    def __init__(self, dataset_id: int, load_id: int, now: datetime) -> None:
        ops = connection.ops
        self.adapt_date = ops.adapt_datefield_value
        self.now = ops.adapt_datetimefield_value(now)
        self.dataset_id, self.load_id = dataset_id, load_id
        self.rows: list[tuple] = []
        meta = SourceRecord._meta
        columns = [
            "dataset_id",
            "record_ref",
            "row_number",
            *HASHED,
            "content_hash",
            "first_seen_load_id",
            "last_seen_load_id",
            "changed_at",
            "ended_at",
        ]
        foreign_keys = {"dataset_id", "first_seen_load_id", "last_seen_load_id"}
        names = [
            meta.get_field(c.removesuffix("_id") if c in foreign_keys else c).column
            for c in columns
        ]
        quote = ops.quote_name
        keep = {"dataset_id", "record_ref", "first_seen_load_id"}
        # Table and column names come from the model, never from the file.
        self.sql = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(n) for n in names)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(names))}) "
            f"ON CONFLICT ({quote('dataset_id')}, {quote('record_ref')}) DO UPDATE SET "
            + ", ".join(f"{quote(n)} = EXCLUDED.{quote(n)}" for n in names if n not in keep)
        )

    def add(self, values: RecordValues, digest: str) -> None:
        row = [self.dataset_id, values.record_ref, values.row_number]
        for name in HASHED:
            value = getattr(values, name)
            row.append(self.adapt_date(value) if name in _DATES else value)
        row += [digest, self.load_id, self.load_id, self.now, None]
        self.rows.append(tuple(row))
        if len(self.rows) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            with connection.cursor() as cursor:
                cursor.executemany(self.sql, self.rows)
            self.rows = []
