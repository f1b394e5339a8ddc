"""Reading a dataset's export: its bytes, its encoding, its header and its rows.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first record row 2.
Parquet files are numbered the same way, as if their column names were a header row.
"""

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from borough.core.files import EncodingProblem
from borough.core.files import hash_and_check_encoding as check_file_encoding
from borough.residents.config import DatasetConfig

_PARQUET_BATCH = 10_000
# The csv module refuses fields over 128 KiB by default; a council export can hold long notes.
csv.field_size_limit(16 * 1024 * 1024)


@dataclass(frozen=True)
class Problem:
    """Something wrong: in a row and column, a row, or the file as a whole (row None)."""

    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        if self.column is None:
            return f"row {self.row}: {self.message}"
        return f"row {self.row}, column {self.column}: {self.message}"

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


class FileRejected(Exception):
    """The file cannot be read at all: wrong encoding, no header, wrong columns, empty."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _codec_name(encoding: str) -> str:
    return codecs.lookup(encoding).name


def hash_and_check_encoding(path: Path, config: DatasetConfig) -> str:
    """The file's SHA-256, having checked (for CSV) that every byte is in the declared encoding.

    Raises FileRejected naming the byte offset and line of the first byte that is not.
    """
    encoding = config.encoding
    try:
        with open(path, "rb") as handle:
            digest, _ = check_file_encoding(handle, encoding, check=config.format == "csv")
    except EncodingProblem as problem:
        if problem.kind == "utf16":
            message = (
                f'The file is in UTF-16 (Excel\'s "Unicode Text"), but the dataset '
                f'declares {encoding}. Save it as "CSV UTF-8" and try again.'
            )
        elif problem.kind == "byte":
            message = (
                f"The file is not in {encoding}, as the dataset declares: the "
                f"byte 0x{problem.byte:02X} at byte offset {problem.offset:,} (line "
                f"{problem.line:,}, row {problem.line:,} if no value holds a line break) is not "
                f"{encoding} text. Export the file again in {encoding}, "
                "or change the declared encoding."
            )
        else:
            message = (
                f"The file is not in {encoding}, as the dataset declares: it ends "
                f"part-way through a character (byte offset {problem.size:,})."
            )
        raise FileRejected(Problem(message)) from None
    return digest


class RowSource:
    """The header and the rows of one file, read in one pass. Use as a context manager."""

    def __init__(self, path: Path, config: DatasetConfig) -> None:
        self.path = path
        self.config = config
        self.header: list[str] = []
        self._columns: list[str] = []  # the columns a row's cells hold, in order
        self._closers: list = []
        self._rows: Iterator[tuple[int, list[str]]] = iter(())

    def __enter__(self) -> "RowSource":
        if self.config.format == "parquet":
            self._open_parquet()
        else:
            self._open_csv()
        self._check_header()
        return self

    def __exit__(self, *exc) -> None:
        for close in self._closers:
            close()

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        return self._rows

    @property
    def width(self) -> int:
        """How many cells a row has."""
        return len(self._columns)

    # -- CSV --------------------------------------------------------------------------------
    def _open_csv(self) -> None:
        codec = _codec_name(self.config.encoding)
        handle = open(
            self.path,
            encoding="utf-8-sig" if codec == "utf-8" else codec,
            newline="",
        )
        self._closers.append(handle.close)
        reader = csv.reader(handle, delimiter=self.config.delimiter)
        row = 0
        for cells in reader:
            row += 1
            if any(cell.strip() for cell in cells):
                self.header = [cell.strip() for cell in cells]
                self._columns = self.header
                break
        else:
            raise FileRejected(Problem("The file is empty: it has no header row and no records."))
        self._rows = ((number, cells) for number, cells in enumerate(reader, start=row + 1))

    # -- Parquet ----------------------------------------------------------------------------
    def _open_parquet(self) -> None:
        try:
            parquet = pq.ParquetFile(self.path)
        except (pa.ArrowInvalid, OSError) as error:
            raise FileRejected(
                Problem(f"The file is not a Parquet file Borough can read: {error}")
            ) from None
        self._closers.append(parquet.close)
        self.header = list(parquet.schema_arrow.names)
        if parquet.metadata.num_rows == 0:
            raise FileRejected(Problem("The file has no records."))
        wanted = [
            c for c in self.header if c.strip().upper() in _upper(self.config.mapped_columns())
        ]
        fmt = self.config.date_formats[0]

        def rows():
            number = 1
            for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH, columns=wanted):
                values = batch.to_pydict()
                columns = [values[name] for name in wanted]
                for cells in zip(*columns, strict=True):
                    number += 1
                    yield number, [_parquet_text(v, fmt) for v in cells]

        self._columns = wanted
        self._rows = rows()

    # -- header -----------------------------------------------------------------------------
    def _check_header(self) -> None:
        found = {name.strip().upper() for name in self.header}
        missing = [c for c in self.config.mapped_columns() if c.strip().upper() not in found]
        where = "row 1 (the header)" if self.config.format == "csv" else "the file's columns"
        if missing:
            plural = len(missing) > 1
            raise FileRejected(
                Problem(
                    f"{where}: the column{'s' if plural else ''} {', '.join(missing)} "
                    f"{'are' if plural else 'is'} missing. The {self.config.code} dataset "
                    f"reads {', '.join(self.config.mapped_columns())}. The file has: "
                    f"{', '.join(n for n in self.header if n) or 'no column names'}."
                )
            )
        counts: dict[str, int] = {}
        for name in self.header:
            counts[name.strip().upper()] = counts.get(name.strip().upper(), 0) + 1
        doubled = [c for c in self.config.mapped_columns() if counts[c.strip().upper()] > 1]
        if doubled:
            raise FileRejected(
                Problem(
                    f"{where}: the column(s) {', '.join(doubled)} appear more than once, so "
                    "Borough cannot tell which to read."
                )
            )

    def index(self) -> dict[str, int]:
        """Position of each mapped column in a row's cells (column names match in any case)."""
        columns = self._columns
        positions = {name.strip().upper(): i for i, name in reversed(list(enumerate(columns)))}
        return {c: positions[c.strip().upper()] for c in self.config.mapped_columns()}


def _upper(names: list[str]) -> set[str]:
    return {n.strip().upper() for n in names}


def _parquet_text(value, date_format: str) -> str:
    """A Parquet value as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().strftime(date_format)
    if isinstance(value, date):
        return value.strftime(date_format)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a UPRN stored as a double
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
