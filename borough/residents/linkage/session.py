"""The DuckDB session a linkage run prepares its records in: one in-memory connection with a
memory limit, spilling to the run's folder, holding the ``records`` table (``model.PREPARE_SQL``)
and the records' periods."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
from splink import DuckDBAPI

from borough.residents.linkage import model as linkage_model

Progress = Callable[[str], None]
Frame = pd.DataFrame | pa.Table

#: DuckDB's memory limit for a run (it spills to the run's folder beyond it).
MEMORY_LIMIT = "3GB"


class LinkSession:
    """One DuckDB connection holding the prepared ``records`` table."""

    def __init__(self, workdir: Path | None, memory_limit: str = MEMORY_LIMIT):
        self._own_dir = workdir is None
        self.workdir = (
            Path(tempfile.mkdtemp(prefix="borough-linkage-")) if workdir is None else workdir
        )
        self.tmp = self.workdir / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(":memory:")
        self.con.execute(f"SET memory_limit = {sql_string(memory_limit)}")
        self.con.execute(f"SET temp_directory = {sql_string(str(self.tmp))}")
        self.con.execute("SET preserve_insertion_order = false")
        self.records = 0
        self.link_only = False  # some records are of link-only datasets (model.LINK_ONLY_COLUMN)

    def api(self) -> DuckDBAPI:
        # A fresh DatabaseAPI per Linker: Splink caches intermediate tables (the input with
        # term frequencies) per DatabaseAPI by name, so a linker over the full table would
        # otherwise reuse the training sample's.
        return DuckDBAPI(self.con)

    def load(self, df: Frame) -> int:
        missing = [
            c
            for c in linkage_model.LINKAGE_COLUMNS
            if c not in frame_columns(df) and c not in linkage_model.OPTIONAL_COLUMNS
        ]
        if missing:
            raise ValueError(f"linkage input lacks columns: {', '.join(missing)}")
        self.con.register("linkage_input", df)
        prepared = linkage_model.PREPARE_SQL.format(
            source=linkage_model.source_sql("linkage_input", frame_columns(df))
        )
        if linkage_model.LINK_ONLY_COLUMN in frame_columns(df):
            self.con.execute(
                f"CREATE OR REPLACE TABLE records AS SELECT p.*, "  # noqa: S608 (the model's SQL)
                "CAST(CASE WHEN i.link_only THEN i.source_dataset END AS VARCHAR) "
                f"AS link_only_dataset FROM ({prepared}) p "
                "JOIN linkage_input i ON CAST(i.unique_id AS VARCHAR) = p.unique_id "
                "ORDER BY p.rid"
            )
        else:
            self.con.execute(
                "CREATE OR REPLACE TABLE records AS SELECT *, "  # noqa: S608 (the model's SQL)
                f"CAST(NULL AS VARCHAR) AS link_only_dataset FROM ({prepared})"
            )
        self.link_only = bool(
            self.con.execute(
                "SELECT count(*) FROM records WHERE link_only_dataset IS NOT NULL"
            ).fetchone()[0]
        )
        # the records' periods, where the input has them (the move evidence's dates)
        if all(c in frame_columns(df) for c in linkage_model.RESIDENCE_COLUMNS):
            self.con.execute(
                "CREATE OR REPLACE TABLE periods AS SELECT r.rid, "
                "try_cast(i.resident_from AS DATE) AS valid_from, "
                "try_cast(i.resident_to AS DATE) AS valid_to "
                "FROM linkage_input i JOIN records r ON r.unique_id = CAST(i.unique_id AS VARCHAR) "
                "WHERE try_cast(i.resident_from AS DATE) IS NOT NULL"
            )
        else:
            self.con.execute(
                "CREATE OR REPLACE TABLE periods (rid INTEGER, valid_from DATE, valid_to DATE)"
            )
        self.con.unregister("linkage_input")
        n, distinct = self.con.execute(
            "SELECT count(*), count(DISTINCT unique_id) FROM records"
        ).fetchone()
        if n != distinct:
            raise ValueError(f"{n - distinct} duplicate unique_id values in the linkage input")
        self.records = n
        return n

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def quiet(_: str) -> None:
    """A progress callback that says nothing."""


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def frame_columns(df: Frame) -> list[str]:
    return list(df.column_names) if isinstance(df, pa.Table) else list(df.columns)


def silence_splink() -> None:
    logging.getLogger("splink").setLevel(logging.WARNING)
    em = logging.getLogger("splink.internals.expectation_maximisation")
    if not any(isinstance(f, _UntrainedLevels) for f in em.filters):
        em.addFilter(_UntrainedLevels())


class _UntrainedLevels(logging.Filter):
    """Splink warns once per comparison level that no training pair fell into; the link says
    so itself, in one line, with the value it gives them ("m: no training pair in 3 levels
    (email 2, …)")."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "unable to train m value" not in record.getMessage()
