"""What a load did: ``LoadResult``, with its problems, warnings and unmatched addresses."""

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from borough.residents.models import DatasetLoad
from borough.residents.reading import Problem

#: How many problems and warnings a load keeps and shows; the rest are counted.
MAX_PROBLEMS_SHOWN = 50
#: How many unmatched addresses a load keeps for the command and the admin to list.
MAX_UNMATCHED_KEPT = 1000


@dataclass(frozen=True)
class UnmatchedAddress:
    record_ref: str
    row: int
    address: str
    postcode: str
    reason: str

    def __str__(self) -> str:
        where = ", ".join(p for p in (self.address, self.postcode) if p) or "(no address)"
        return f"row {self.row}, {self.record_ref}: {where}: {self.reason}"


@dataclass
class LoadResult:
    """What a load did, or why it did nothing."""

    dataset: str
    file_name: str
    status: str
    rows: int = 0
    records: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ended: int = 0
    reopened: int = 0
    uprn_from_source: int = 0
    uprn_from_address: int = 0
    uprn_unmatched: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    #: Lines that explain the problems ("12 rows have problems: more than … may be set aside"),
    #: listed before them and not counted among them.
    problem_notes: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    warning_count: int = 0
    #: How many problems and warnings each column had ("" for a row's or the file's own).
    problems_by_column: dict[str, int] = field(default_factory=dict)
    warnings_by_column: dict[str, int] = field(default_factory=dict)
    unmatched: list[UnmatchedAddress] = field(default_factory=list)
    already_loaded_on: datetime | None = None
    load: DatasetLoad | None = None
    #: Rows with problems left out of a load that was asked to set them aside, and every one
    #: of their problems (row, column, reason).
    set_aside_rows: int = 0
    set_aside: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status != DatasetLoad.Status.FAILED

    def _lines(self, found: list[Problem], count: int, noun: str) -> list[str]:
        lines = [f"{self.file_name}{', ' if p.row else ': '}{p}" for p in found]
        more = count - len(found)
        if more > 0:
            lines.append(f"and {more:,} more {noun}{'s' if more != 1 else ''}")
        return lines

    @staticmethod
    def by_column_words(counts: dict[str, int]) -> str:
        """``{"POSTCODE": 5000, "DOB": 3}`` as ``"5,000 in POSTCODE, 3 in DOB"``, most first."""
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return ", ".join(
            f"{n:,} in {column}" if column else f"{n:,} about whole rows or the file"
            for column, n in ordered
        )

    def problem_lines(self) -> list[str]:
        """The problems, each naming the file, row and column, then "and N more problems"."""
        notes = [f"{self.file_name}: {p}" for p in self.problem_notes]
        return notes + self._lines(self.problems, self.problem_count, "problem")

    def warning_lines(self) -> list[str]:
        return self._lines(self.warnings, self.warning_count, "warning")

    def unmatched_lines(self) -> list[str]:
        lines = [str(u) for u in self.unmatched]
        more = self.uprn_unmatched - len(self.unmatched)
        if more > 0:
            lines.append(f"and {more:,} more")
        return lines

    def summary(self) -> str:
        if self.status == DatasetLoad.Status.ALREADY_LOADED:
            when = timezone.localtime(self.already_loaded_on)
            return (
                f"{self.file_name} was already loaded into {self.dataset} on {when.day} "
                f"{when:%B %Y at %H:%M}: nothing changed."
            )
        if self.status == DatasetLoad.Status.FAILED:
            count = self.problem_count
            return (
                f"Nothing was loaded from {self.file_name} into {self.dataset}: it has "
                f"{count:,} problem{'s' if count != 1 else ''}."
            )
        text = (
            f"Loaded {self.file_name} into {self.dataset}: {self.rows:,} rows, "
            f"{self.records:,} records; {self.created:,} new, {self.updated:,} changed, "
            f"{self.unchanged:,} unchanged, {self.ended:,} ended (no longer in the export)"
        )
        if self.reopened:
            text += f", {self.reopened:,} back in the export"
        text += (
            f". UPRNs: {self.uprn_from_source:,} from the source, {self.uprn_from_address:,} "
            f"matched from the address, {self.uprn_unmatched:,} not matched."
        )
        if self.warning_count:
            text += f" {self.warning_count:,} warning{'s' if self.warning_count != 1 else ''}."
        if self.set_aside_rows:
            rows = self.set_aside_rows
            text += f" {rows:,} row{'s' if rows != 1 else ''} with problems set aside, not loaded."
        return text


def set_aside_csv(load: DatasetLoad) -> str:
    """The rows a load set aside, one line per problem: row, column, reason (CSV)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "column", "reason"])
    for problem in load.set_aside:
        writer.writerow([problem.get("row") or "", problem.get("column") or "", problem["message"]])
    return out.getvalue()
