"""Loading the council's gazetteer: every change to ``Property`` happens here.

``import_gazetteer`` enforces these rules:

- **All or nothing.** The whole file is read inside one transaction. If any row has a problem,
  the transaction is rolled back and nothing changes; the result lists the problems by row
  (as a spreadsheet counts them: the header is row 1) and column.
- **The file must be readable.** UTF-8 (with or without a byte-order mark), a header row
  holding every mapped column (unless the mapping lists the columns itself), at least one row.
- **Every row must be right.** A UPRN (a positive whole number, at most 12 digits) on every
  row and no UPRN twice; a parent UPRN that is in the file or already in the gazetteer;
  postcodes in the UK format; coordinates inside the UK; true/false values from the mapping's
  lists; text no longer than Borough keeps.
- **Idempotent.** Loading the file that was loaded last, with the same mapping, changes
  nothing and says so. Any other file is compared property by property: new UPRNs are
  created, changed ones updated, the rest left alone and counted as unchanged.
- **Nothing is deleted.** A property the new file no longer lists is kept (other records may
  refer to its UPRN) and marked ``in_latest_export = False``; it comes back if a later file
  lists it again.

Every attempt is recorded as a ``GazetteerImport``, including failed ones.
"""

import csv
import io
import os
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from django.db import transaction
from django.utils import timezone

from borough.core.files import EncodingProblem, hash_and_check_encoding
from borough.places.mapping import Mapping, RowReader, load_mapping
from borough.places.models import GazetteerImport, Property

# Rows per write; below 999 so the "uprn IN (…)" look-up fits SQLite builds with the old
# 999-parameter limit.
BATCH_SIZE = 900
#: How many problems an import keeps and shows; the rest are counted ("and 212 more").
MAX_PROBLEMS_SHOWN = 50

# The fields an import writes, in the order it compares them to see what changed.
_WRITTEN = [
    "parent",
    "usrn",
    "sub_building",
    "building_name",
    "building_number",
    "street",
    "locality",
    "town",
    "postcode",
    "ward_code",
    "ward_name",
    "latitude",
    "longitude",
    "classification",
    "is_residential",
    "car_free",
    "logical_status",
    "in_latest_export",
]
_DEFAULTS = {
    "parent_uprn": None,
    "usrn": None,
    "latitude": None,
    "longitude": None,
    "is_residential": False,
    "car_free": False,
}


@dataclass(frozen=True)
class ImportProblem:
    """Something wrong with a file: a row and column, or the file as a whole (row None)."""

    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        if self.column is None:
            return f"row {self.row}: {self.message}"
        return f"row {self.row}, column {self.column}: {self.message}"


@dataclass
class ImportResult:
    """What an import did, or why it did nothing."""

    file_name: str
    mapping: str
    status: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    left_export: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    problem_count: int = 0
    already_loaded_on: datetime | None = None
    record: GazetteerImport | None = None

    @property
    def ok(self) -> bool:
        return self.status != GazetteerImport.Status.FAILED

    def problem_lines(self, *, with_file: bool = False) -> list[str]:
        """The problems as lines, the first ``MAX_PROBLEMS_SHOWN``, then "and N more problems".

        ``with_file`` starts each line with the file's name ("gazetteer.csv, row 14, …").
        """
        lines = [
            (f"{self.file_name}{', ' if p.row else ': '}{p}" if with_file else str(p))
            for p in self.problems
        ]
        more = self.problem_count - len(self.problems)
        if more > 0:
            lines.append(f"and {more:,} more problem{'s' if more != 1 else ''}")
        return lines

    def summary(self) -> str:
        if self.status == GazetteerImport.Status.ALREADY_LOADED:
            when = timezone.localtime(self.already_loaded_on)
            return (
                f"{self.file_name} was already loaded on {when.day} {when:%B %Y at %H:%M}, "
                "nothing changed."
            )
        if self.status == GazetteerImport.Status.FAILED:
            count = self.problem_count
            return (
                f"Nothing was loaded from {self.file_name}: it has {count:,} "
                f"problem{'s' if count != 1 else ''}."
            )
        text = (
            f"Loaded {self.file_name}: {self.rows:,} properties; {self.created:,} new, "
            f"{self.updated:,} changed, {self.unchanged:,} unchanged."
        )
        if self.left_export:
            text += (
                f" {self.left_export:,} properties are no longer in the export: they are kept "
                "and marked as not in the latest export."
            )
        return text


class _FileRejected(Exception):
    def __init__(self, problem: ImportProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class _RollBack(Exception):
    pass


class _Problems:
    def __init__(self) -> None:
        self.kept: list[ImportProblem] = []
        self.count = 0

    def add(self, message: str, row: int | None = None, column: str | None = None) -> None:
        self.count += 1
        if len(self.kept) < MAX_PROBLEMS_SHOWN:
            self.kept.append(ImportProblem(message, row, column))

    def __bool__(self) -> bool:
        return self.count > 0


@contextmanager
def _binary(source: str | os.PathLike | BinaryIO):
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            yield handle
    else:
        source.seek(0)
        yield source


def _source_name(source) -> str:
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    return Path(getattr(source, "name", "") or "upload.csv").name


def _hash_and_check_encoding(handle: BinaryIO) -> tuple[str, int]:
    """The file's SHA-256 and size, having checked every byte is UTF-8.

    Raises _FileRejected naming the byte offset and line of the first byte that is not.
    """
    save_as = 'Save the file as "CSV UTF-8 (comma delimited)" and try again.'
    try:
        return hash_and_check_encoding(handle, "utf-8")
    except EncodingProblem as problem:
        if problem.kind == "utf16":
            message = (
                'The file is in UTF-16 (Excel\'s "Unicode Text"), not UTF-8. Save it as '
                '"CSV UTF-8 (comma delimited)" and try again.'
            )
        elif problem.kind == "byte":
            message = (
                f"The file is not in UTF-8: the byte 0x{problem.byte:02X} at byte "
                f"offset {problem.offset:,} (line {problem.line:,}) is not UTF-8 text. {save_as}"
            )
        else:
            message = (
                f"The file is not in UTF-8: it ends part-way through a character (byte offset "
                f"{problem.offset:,}). {save_as}"
            )
        raise _FileRejected(ImportProblem(message)) from None


def _last_loaded(digest: str, mapping: Mapping) -> GazetteerImport | None:
    latest = GazetteerImport.objects.filter(status=GazetteerImport.Status.LOADED).first()
    if latest and latest.sha256 == digest and latest.mapping == mapping.source:
        return latest
    return None


def _read_header(reader, mapping: Mapping) -> tuple[list[str], list[list[str]], int]:
    """The column names; any data row read while looking for them; the rows used up.

    Row numbers are as a spreadsheet shows them: a header is row 1. A file with no header
    row (the mapping lists its columns) starts with data on row 1.
    """
    rows_read = 0
    for first in reader:
        rows_read += 1
        if any(cell.strip() for cell in first):
            break
    else:
        raise _FileRejected(ImportProblem("The file is empty."))
    if not mapping.has_header:
        header = list(mapping.columns)
        names = [cell.strip().upper() for cell in first]
        if names == [c.upper() for c in header]:
            return header, [], rows_read
        return header, [first], rows_read - 1
    header = [cell.strip() for cell in first]
    where = f"row {rows_read} (the header)"
    missing = RowReader.missing_columns(mapping, header)
    if missing:
        found = ", ".join(name for name in header if name) or "none"
        plural = len(missing) > 1
        raise _FileRejected(
            ImportProblem(
                f"{where}: the column{'s' if plural else ''} {', '.join(missing)} "
                f"{'are' if plural else 'is'} missing. The mapping '{mapping.name}' needs "
                f"{', '.join(mapping.mapped_columns())}. The file has: {found}."
            )
        )
    duplicated = RowReader.duplicated_columns(mapping, header)
    if duplicated:
        plural = len(duplicated) > 1
        raise _FileRejected(
            ImportProblem(
                f"{where}: the column{'s' if plural else ''} {', '.join(duplicated)} "
                f"appear{'' if plural else 's'} more than once, so Borough cannot tell which "
                "to use."
            )
        )
    return header, [], rows_read


class _Loader:
    """One pass over the rows: check each, write good batches, remember what to check last."""

    def __init__(self, mapping: Mapping, header: list[str], record: GazetteerImport) -> None:
        self.reader = RowReader(mapping, header)
        self.mapping = mapping
        self.record = record
        self.problems = _Problems()
        self.seen: dict[int, int] = {}
        self.unresolved_parents: list[tuple[int, int]] = []
        self.batch: list[dict] = []
        self.rows = self.created = self.updated = self.unchanged = 0
        self.parent_label = (
            mapping.fields["parent_uprn"].label if "parent_uprn" in mapping.fields else ""
        )
        self.uprn_label = mapping.fields["uprn"].label

    def take(self, row: int, cells: list[str]) -> None:
        if not cells:
            return  # a blank line
        if len(cells) != self.reader.width:
            expected = (
                f"the header has {self.reader.width} columns"
                if self.mapping.has_header
                else f"the {self.mapping.name} mapping expects {self.reader.width} columns"
            )
            self.problems.add(
                f"has {len(cells)} values but {expected} "
                "(check for a stray comma or a missing quote, and that the mapping is right)",
                row,
            )
            return
        values, problems = self.reader.read(cells)
        for column, message in problems:
            self.problems.add(message, row, column)
        uprn = values.get("uprn")
        if uprn is not None:
            if uprn in self.seen:
                self.problems.add(
                    f"UPRN {uprn} is also on row {self.seen[uprn]}; each UPRN can appear once",
                    row,
                    self.uprn_label,
                )
            else:
                self.seen[uprn] = row
        parent = values.get("parent_uprn")
        if parent is not None:
            if parent == uprn:
                self.problems.add(
                    f"a property cannot be its own parent (UPRN {uprn})", row, self.parent_label
                )
            elif parent not in self.seen:
                self.unresolved_parents.append((row, parent))
        self.rows += 1
        if not self.problems:
            self.batch.append(values)
            if len(self.batch) >= BATCH_SIZE:
                self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        wanted = {}
        for values in self.batch:
            row = {**_DEFAULTS, **values}
            row["parent"] = row.pop("parent_uprn")
            row["in_latest_export"] = True
            wanted[row["uprn"]] = row
        self.batch = []
        compared = ["parent_id" if name == "parent" else name for name in _WRITTEN]
        existing = {
            found[0]: found[1:]
            for found in Property.objects.filter(uprn__in=list(wanted)).values_list(
                "uprn", *compared
            )
        }
        changed = []
        for uprn, row in wanted.items():
            before = existing.get(uprn)
            after = tuple(row.get(name, "") for name in _WRITTEN)
            if before is None:
                self.created += 1
            elif before != after:
                self.updated += 1
            else:
                self.unchanged += 1
                continue
            parent = row.pop("parent")
            changed.append(Property(**row, parent_id=parent, last_import=self.record))
        if changed:
            Property.objects.bulk_create(
                changed,
                update_conflicts=True,
                unique_fields=["uprn"],
                update_fields=[*_WRITTEN, "last_import", "updated_at"],
            )

    def check_parents(self) -> None:
        """Parents may come after their flats in the file, so they are checked at the end."""
        outside = [
            (row, parent) for row, parent in self.unresolved_parents if parent not in self.seen
        ]
        known: set[int] = set()
        wanted = sorted({parent for _, parent in outside})
        for start in range(0, len(wanted), 500):
            known.update(
                Property.objects.filter(uprn__in=wanted[start : start + 500]).values_list(
                    "uprn", flat=True
                )
            )
        for row, parent in outside:
            if parent not in known:
                self.problems.add(
                    f"parent UPRN {parent} is not in this file or in the gazetteer",
                    row,
                    self.parent_label,
                )

    def mark_left_export(self) -> int:
        listed = Property.objects.filter(in_latest_export=True).values_list("uprn", flat=True)
        gone = [uprn for uprn in listed.iterator(chunk_size=5000) if uprn not in self.seen]
        for start in range(0, len(gone), 500):
            Property.objects.filter(uprn__in=gone[start : start + 500]).update(
                in_latest_export=False, last_import=self.record, updated_at=timezone.now()
            )
        return len(gone)


def import_gazetteer(
    source: str | os.PathLike | BinaryIO,
    mapping: Mapping | str = "llpg",
    *,
    file_name: str | None = None,
    imported_by=None,
    via: str = "command line",
) -> ImportResult:
    """Load a gazetteer CSV (a path or an open binary file) with a column mapping.

    ``mapping`` is a Mapping, a shipped mapping's name or a path to a mapping file (a bad
    mapping raises ``MappingError``). Returns what happened; never raises for a bad file.
    """
    if not isinstance(mapping, Mapping):
        mapping = load_mapping(mapping)
    file_name = file_name or _source_name(source)
    started = timezone.now()
    result = ImportResult(file_name=file_name, mapping=mapping.source, status="")
    digest = ""
    with _binary(source) as handle:
        try:
            digest, size = _hash_and_check_encoding(handle)
            if size == 0:
                raise _FileRejected(ImportProblem("The file is empty."))
            previous = _last_loaded(digest, mapping)
            if previous is not None:
                result.status = GazetteerImport.Status.ALREADY_LOADED
                result.already_loaded_on = previous.finished_at
                result.rows = previous.rows
                result.unchanged = previous.rows
            else:
                handle.seek(0)
                _load(handle, mapping, result, started, imported_by, via, digest)
        except _FileRejected as rejected:
            result.status = GazetteerImport.Status.FAILED
            result.problems = [rejected.problem]
            result.problem_count = 1
    if result.status != GazetteerImport.Status.LOADED:
        result.record = GazetteerImport.objects.create(
            file_name=file_name[:255],
            sha256=digest,
            mapping=mapping.source[:255],
            status=result.status,
            started_at=started,
            finished_at=timezone.now(),
            imported_by=imported_by,
            via=via,
            rows=result.rows,
            unchanged=result.unchanged,
            error_count=result.problem_count,
            errors=result.problem_lines(),
        )
    return result


def _load(handle, mapping, result, started, imported_by, via, digest) -> None:
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    try:
        reader = csv.reader(text, delimiter=mapping.delimiter, strict=True)
        try:
            with transaction.atomic():
                record = GazetteerImport.objects.create(
                    file_name=result.file_name[:255],
                    sha256=digest,
                    mapping=mapping.source[:255],
                    status=GazetteerImport.Status.LOADED,
                    started_at=started,
                    finished_at=started,
                    imported_by=imported_by,
                    via=via,
                )
                loader = _run(reader, mapping, record)
                result.rows = loader.rows
                if loader.problems:
                    result.problems = sorted(
                        loader.problems.kept, key=lambda p: (p.row or 0, p.column or "")
                    )
                    result.problem_count = loader.problems.count
                    raise _RollBack
                result.created = loader.created
                result.updated = loader.updated
                result.unchanged = loader.unchanged
                result.left_export = loader.mark_left_export()
                record.rows = result.rows
                record.created = result.created
                record.updated = result.updated
                record.unchanged = result.unchanged
                record.left_export = result.left_export
                record.finished_at = timezone.now()
                record.save()
                result.status = GazetteerImport.Status.LOADED
                result.record = record
        except _RollBack:
            result.status = GazetteerImport.Status.FAILED
            result.created = result.updated = result.unchanged = 0
    finally:
        text.detach()


def _run(reader: Iterable[list[str]], mapping: Mapping, record: GazetteerImport) -> _Loader:
    header, early_rows, row = _read_header(reader, mapping)
    loader = _Loader(mapping, header, record)
    for cells in early_rows:
        row += 1
        loader.take(row, cells)
    try:
        for cells in reader:
            row += 1
            loader.take(row, cells)
    except csv.Error as error:
        loader.problems.add(f"the file is not valid CSV here: {error}", row + 1)
        return loader
    if loader.rows == 0 and not loader.problems:
        loader.problems.add("The file has a header row but no properties.")
    if not loader.problems:
        loader.flush()
    if "parent_uprn" in mapping.fields:
        loader.check_parents()
    return loader
