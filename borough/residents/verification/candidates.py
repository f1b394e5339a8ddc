"""The in-memory candidate index that online verification answers from.

Built from the linked records (``verification.parquet``, written by every link) and the trained
model. It holds, column by column, exactly the fields Splink compared (``model.PREPARE_SQL`` is
run on the records by DuckDB, as in the batch), each record's resident ID, dataset and validity,
and one sorted key array per prediction blocking rule (a string's categorical code, or several
codes combined into one exact integer). A look-up finds the records sharing any of the
applicant's keys by binary search and scores each with ``scoring.Scorer``: the
same pairs, the same weights as the batch (``tests/verification``).

Strings are held as categorical codes, so a million records take a few hundred megabytes.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from borough.residents.linkage import model as linkage_model
from borough.residents.verification.prepare import Dob, Prepared
from borough.residents.verification.scoring import Score, Scorer

_STRING_FIELDS = (
    "first_name",
    "first_name_canonical",
    "middle_names",
    "middle_initial",
    "surname",
    "surname_first_part",
    "surname_last_part",
    "postcode",
    "postcode_sector",
    "address_numbers",
    "address_text",
    "email",
    "national_id",
)
_META_FIELDS = ("unique_id", "source_dataset", "resident_id")
_EPOCH = dt.date(1970, 1, 1)
_NO_DATE = np.iinfo(np.int32).min

#: The blocking keys, one per ``model.PREDICTION_BLOCKING_RULES`` rule in the same order: a pair
#: is a candidate if the fields of one key are all present and equal.
BLOCKING_KEYS: tuple[tuple[str, ...], ...] = (
    ("first_name_canonical", "surname"),
    ("dob",),
    ("uprn",),
    ("postcode", "first_name_canonical"),
    ("postcode", "surname"),
    ("email",),
    ("national_id",),
)


def rule_for(key: tuple[str, ...]) -> str:
    """The Splink blocking rule a key stands for (checked against the model's in the tests)."""
    return " AND ".join(f'l."{field}" = r."{field}"' for field in key)


#: The columns the index is built from: the linkage contract, validity and the resident.
INDEX_COLUMNS = (*linkage_model.LINKAGE_COLUMNS, "valid_from", "valid_to", "resident_id")

# the model's own SQL, no input; {source} is index_input with any optional column it lacks
_INDEX_SQL = (
    "WITH prepared AS ("  # noqa: S608
    + linkage_model.PREPARE_SQL
    + "), extra AS (SELECT cast(unique_id AS varchar) AS unique_id, source_dataset, "
    "try_cast(valid_from AS date) AS valid_from, try_cast(valid_to AS date) AS valid_to, "
    "resident_id FROM index_input) "
    "SELECT p.* EXCLUDE (rid), e.source_dataset, e.resident_id, "
    "cast(date_diff('day', DATE '1970-01-01', p.dob) AS integer) AS dob_days, "
    "cast(date_diff('day', DATE '1970-01-01', e.valid_from) AS integer) AS valid_from_days, "
    "cast(date_diff('day', DATE '1970-01-01', e.valid_to) AS integer) AS valid_to_days "
    "FROM prepared p JOIN extra e USING (unique_id) ORDER BY p.rid"
)


def _index_sql(con: duckdb.DuckDBPyConnection) -> str:
    columns = [c[0] for c in con.execute("SELECT * FROM index_input LIMIT 0").description]
    return _INDEX_SQL.format(source=linkage_model.source_sql("index_input", columns))


@dataclass(frozen=True)
class Candidate:
    index: int
    record: Prepared
    score: Score


class CandidateIndex:
    """Linked records held for look-ups. Build with ``from_frame`` or ``from_parquet``."""

    def __init__(self, table: pd.DataFrame, trained: dict[str, Any], *, label: str = "") -> None:
        started = time.perf_counter()
        self.label = label
        self.size = len(table)
        self._strings: dict[str, tuple[np.ndarray, list[str | None]]] = {}
        for field in (*_STRING_FIELDS, *_META_FIELDS):
            categorical = pd.Categorical(table[field])
            self._strings[field] = (
                categorical.codes.astype(np.int32),
                list(categorical.categories),
            )
        self._uprn = table["uprn"].fillna(0).astype(np.int64).to_numpy()
        self._dob = table["dob_days"].fillna(_NO_DATE).astype(np.int32).to_numpy()
        self._valid_from = table["valid_from_days"].fillna(_NO_DATE).astype(np.int32).to_numpy()
        self._valid_to = table["valid_to_days"].fillna(_NO_DATE).astype(np.int32).to_numpy()
        self._blocks = []
        for key in BLOCKING_KEYS:
            present = np.ones(self.size, dtype=bool)
            for field in key:
                present &= self._present(field)
            rows = np.flatnonzero(present).astype(np.int32)
            keys = self._composite(
                [self._column_values(f)[rows].astype(np.int64) for f in key], key
            )
            order = np.argsort(keys, kind="stable")
            self._blocks.append((key, keys[order], rows[order]))
        # records of each resident
        codes, _ = self._strings["resident_id"]
        order = np.argsort(codes, kind="stable").astype(np.int32)
        self._by_resident = order
        self._resident_starts = np.searchsorted(
            codes[order], np.arange(len(self._strings["resident_id"][1]) + 1)
        )
        self._resident_code = {r: i for i, r in enumerate(self._strings["resident_id"][1])}
        self.tf = self._term_frequencies(trained)
        self.scorer = Scorer(trained, self.tf)
        self.build_seconds = time.perf_counter() - started

    # -- building -------------------------------------------------------------------------

    @classmethod
    def from_frame(
        cls, records: pd.DataFrame | pa.Table, trained: dict[str, Any], *, label: str = ""
    ) -> CandidateIndex:
        """From a frame with ``INDEX_COLUMNS`` (linkage contract + validity + resident ID)."""
        con = duckdb.connect(":memory:")
        try:
            con.register("index_input", records)
            table = con.execute(_index_sql(con)).df()
        finally:
            con.close()
        return cls(table, trained, label=label)

    @classmethod
    def from_parquet(
        cls, path: Path, trained: dict[str, Any], *, label: str = ""
    ) -> CandidateIndex:
        con = duckdb.connect(":memory:")
        try:
            quoted = "'" + str(path).replace("'", "''") + "'"
            con.execute(f"CREATE VIEW index_input AS SELECT * FROM read_parquet({quoted})")  # noqa: S608
            table = con.execute(_index_sql(con)).df()
        finally:
            con.close()
        return cls(table, trained, label=label)

    def _column_values(self, field: str) -> np.ndarray:
        if field == "uprn":
            return self._uprn
        if field == "dob":
            return self._dob
        codes, _ = self._strings[field]
        return codes

    def _present(self, field: str) -> np.ndarray:
        if field == "uprn":
            return self._uprn != 0
        if field == "dob":
            return self._dob != _NO_DATE
        return self._strings[field][0] >= 0

    def _term_frequencies(self, trained: dict[str, Any]) -> dict[str, dict[str, float]]:
        columns = {
            level["tf_adjustment_column"]
            for comparison in trained["comparisons"]
            for level in comparison["comparison_levels"]
            if level.get("tf_adjustment_column")
        }
        tf: dict[str, dict[str, float]] = {}
        for column in columns:
            codes, categories = self._strings[column]
            known = codes[codes >= 0]
            counts = np.bincount(known, minlength=len(categories))
            total = float(len(known)) or 1.0
            tf[column] = {
                value: count / total
                for value, count in zip(categories, counts, strict=True)
                if count
            }
        return tf

    # -- reading --------------------------------------------------------------------------

    def _string(self, field: str, i: int) -> str | None:
        codes, categories = self._strings[field]
        code = codes[i]
        return categories[code] if code >= 0 else None

    def record(self, i: int) -> Prepared:
        dob = int(self._dob[i])
        uprn = int(self._uprn[i])
        s = self._string
        return Prepared(
            first_name=s("first_name", i),
            first_name_canonical=s("first_name_canonical", i),
            middle_names=s("middle_names", i),
            middle_initial=s("middle_initial", i),
            surname=s("surname", i),
            surname_first_part=s("surname_first_part", i),
            surname_last_part=s("surname_last_part", i),
            dob=_dob(dob) if dob != _NO_DATE else None,
            postcode=s("postcode", i),
            postcode_sector=s("postcode_sector", i),
            uprn=uprn or None,
            address_numbers=s("address_numbers", i),
            address_text=s("address_text", i),
            email=s("email", i),
            national_id=s("national_id", i),
        )

    def unique_id(self, i: int) -> str:
        return self._string("unique_id", i)  # type: ignore[return-value]

    def unique_id_position(self, unique_id: str) -> int | None:
        """The position of a record in the index, or None."""
        cache = self.__dict__.get("_positions")
        if cache is None:
            codes, categories = self._strings["unique_id"]
            cache = {categories[code]: i for i, code in enumerate(codes.tolist())}
            self.__dict__["_positions"] = cache
        return cache.get(unique_id)

    def dataset(self, i: int) -> str:
        return self._string("source_dataset", i)  # type: ignore[return-value]

    def resident_id(self, i: int) -> str | None:
        return self._string("resident_id", i)

    def validity(self, i: int) -> tuple[dt.date | None, dt.date | None]:
        return _date(int(self._valid_from[i])), _date(int(self._valid_to[i]))

    def records_of(self, resident_id: str) -> list[int]:
        code = self._resident_code.get(resident_id)
        if code is None:
            return []
        start, end = self._resident_starts[code], self._resident_starts[code + 1]
        return [int(i) for i in self._by_resident[start:end]]

    # -- look-ups -------------------------------------------------------------------------

    def _composite(self, parts: list[np.ndarray], key: tuple[str, ...]) -> np.ndarray:
        """One exact int64 per key: a single field's value, or strings' codes combined."""
        if len(parts) == 1:
            return parts[0]
        if any(field in ("uprn", "dob") for field in key):
            raise ValueError("a blocking key on several fields must be on strings only")
        combined = np.zeros_like(parts[0])
        for field, part in zip(key, parts, strict=True):
            combined = combined * (len(self._strings[field][1]) + 1) + part
        return combined

    def _applicant_key(self, applicant: Prepared, key: tuple[str, ...]) -> int | None:
        values = []
        for field in key:
            if field == "dob":
                value = applicant.dob.days if applicant.dob else None
            elif field == "uprn":
                value = applicant.uprn
            else:
                text = getattr(applicant, field)
                value = None if text is None else self._category_lookup(field).get(text)
            if value is None:
                return None  # missing, or a value no record has: no candidates by this key
            values.append(np.array([value], dtype=np.int64))
        return int(self._composite(values, key)[0])

    def _category_lookup(self, field: str) -> dict[str, int]:
        cache = self.__dict__.setdefault("_lookups", {})
        if field not in cache:
            cache[field] = {v: i for i, v in enumerate(self._strings[field][1])}
        return cache[field]

    def candidates(self, applicant: Prepared) -> list[int]:
        """Records sharing at least one blocking key with ``applicant``, in index order."""
        found: set[int] = set()
        for key, keys, rows in self._blocks:
            wanted = self._applicant_key(applicant, key)
            if wanted is None:
                continue
            lo = int(np.searchsorted(keys, wanted, side="left"))
            hi = int(np.searchsorted(keys, wanted, side="right"))
            found.update(int(i) for i in rows[lo:hi])
        return sorted(found)

    def score_candidates(self, applicant: Prepared) -> list[Candidate]:
        """Every candidate with its score, best first (ties: index order)."""
        scored = []
        for i in self.candidates(applicant):
            record = self.record(i)
            scored.append(Candidate(i, record, self.scorer.score(applicant, record)))
        scored.sort(key=lambda c: -c.score.match_weight)
        return scored


def _dob(days: int) -> Dob:
    return Dob.of(_EPOCH + dt.timedelta(days=days))


def _date(days: int) -> dt.date | None:
    return None if days == _NO_DATE else _EPOCH + dt.timedelta(days=days)


Progress = Callable[[str], None]
