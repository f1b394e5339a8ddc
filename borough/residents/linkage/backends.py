"""Where Splink trains and scores: DuckDB in this process, or Spark.

The records are always prepared in DuckDB (``session.LinkSession``'s ``records`` table). Spark gets
the prepared records as they are and sends back the scored pairs; the household-move step,
calibration, clerical decisions and clustering then run in DuckDB on those pairs, for both
backends."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from splink import DuckDBAPI

from borough.residents.linkage import model as linkage_model
from borough.residents.linkage.session import (
    LinkSession,
    Progress,
    quiet,
)


class DuckDBBackend:
    """Splink on the session's own DuckDB connection."""

    name = "duckdb"

    def __init__(self, s: LinkSession):
        self.s = s

    def api(self) -> DuckDBAPI:
        return self.s.api()

    def source(self, table: str) -> str:
        return table

    def scoring(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def to_duckdb(self, table: str, select_sql: str) -> None:
        """Run ``select_sql`` (over Splink's tables) into the DuckDB ``table``."""
        self.s.con.execute(f"CREATE OR REPLACE TABLE {table} AS {select_sql}")


class SparkUnavailable(RuntimeError):
    """The Spark backend cannot run here: pyspark is not installed or Spark did not start."""


SPARK_INSTALL = 'pip install -e ".[spark]"'


def spark_session_class() -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise SparkUnavailable(
            f"The Spark backend needs pyspark, which is not installed: {SPARK_INSTALL}"
        ) from error
    return SparkSession


def spark_session(
    master: str | None = "local[*]",
    config: dict[str, str] | None = None,
    *,
    checkpoint_dir: str | Path | None = None,
) -> Any:
    """The active SparkSession, or a new one on ``master`` (``None``: what the standard Spark
    environment says, else ``local[*]``) set up for linkage, with ``config`` (Spark settings)
    on top of the defaults here (see ``spark_config.computed_settings`` for what ``link``
    passes). ``checkpoint_dir`` is where Splink's intermediate tables are written (see
    ``SparkBackend``); ``spark.checkpoint.dir`` in ``config`` does the same. Raises
    ``SparkUnavailable`` if pyspark is missing or Spark cannot start (it needs Java 17 or
    later, and a reachable master). No jar is needed: see ``register_spark_functions``."""
    SparkSession = spark_session_class()
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    settings = {
        # Spark's default of 200 shuffle partitions makes hundreds of tiny tasks per step on
        # one machine
        "spark.sql.shuffle.partitions": str(2 * (os.cpu_count() or 1)),
        # the comparison step's whole-stage code grows past the JVM's 64 KB method limit:
        # Spark would log a failed compile (with a long stack trace) and fall back
        "spark.sql.codegen.wholeStage": "false",
        "spark.ui.enabled": "false",
        **(config or {}),
    }
    if checkpoint_dir is not None:
        settings["spark.checkpoint.dir"] = str(checkpoint_dir)
    builder = SparkSession.builder.appName("borough-linkage")
    if master:
        builder = builder.master(master)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise SparkUnavailable(
            f"Spark did not start on master {master or '(from the environment)'}: {message} "
            "(Spark needs Java 17 or later on the PATH or in JAVA_HOME, and a master it can "
            "reach)"
        ) from error
    session.sparkContext.setLogLevel("ERROR")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    wanted = session.sparkContext.getConf().get("spark.checkpoint.dir")
    if wanted and session.sparkContext.getCheckpointDir() is None:
        session.sparkContext.setCheckpointDir(wanted)
    return session


def start_spark(
    records: int,
    *,
    workdir: Path,
    master: str | None = None,
    conf: dict[str, str] | None = None,
    progress: Progress = quiet,
) -> Any:
    """A new SparkSession for linking ``records`` records: its settings computed from the
    size (``spark_config.plan``) unless the Spark environment or ``master``/``conf`` say
    otherwise; the chosen settings are reported through ``progress``. In local mode Spark's
    scratch files (``spark.local.dir``) and Splink's intermediate tables
    (``spark.checkpoint.dir``) go under ``workdir/spark``."""
    from borough.residents.linkage import spark_config

    scratch = workdir / "spark"
    chosen = spark_config.plan(
        records,
        master=master,
        conf=conf,
        local_dir=str(scratch / "local"),
        checkpoint_dir=str(scratch / "checkpoints"),
    )
    progress(chosen.describe())
    try:
        spark_config.check_master(chosen.master)
    except ValueError as error:
        raise SparkUnavailable(str(error)) from None
    if spark_config.is_local(chosen.master):
        scratch.mkdir(parents=True, exist_ok=True)
    return spark_session(chosen.master, chosen.to_pass())


def register_spark_functions(session: Any) -> None:
    """Register ``duckdb_jaro_winkler`` (``model.SPARK_JARO_WINKLER``, what the model's
    ``jaro_winkler_similarity`` is spelt on Spark) on ``session``: DuckDB's Jaro-Winkler, so
    that the model's levels mean on Spark what they mean on DuckDB. (Spark 4.3 has a built-in
    ``jaro_winkler_similarity``, which a session function of that name does not override; it
    uses the textbook match window and differs from DuckDB's on 88,478 of 1,124,250 pairs of
    1,500 names of the 100,000-record benchmark borough, 75 of them across 0.8, 4 across 0.88
    and 1 across 0.92.)

    DuckDB runs its vendored copy of the ``jaro_winkler`` C++ library (by rapidfuzz's author)
    on the strings' UTF-8 bytes; rapidfuzz (a dependency of Borough) on the same bytes gives
    the same values (every pair of the 934 names of a 500-resident synthetic borough, 435,711
    pairs, and accented names: no difference). An empty string gives 0, as in DuckDB; a null,
    null. Each Spark executor needs rapidfuzz, pandas and pyarrow (Borough's own
    dependencies); in local mode they are this Python's.
    Splink's Scala jar has a ``jaro_winkler`` too, but it uses the textbook match window and
    differs from DuckDB's on about 1 name pair in 10,000 at the model's 0.8 and 0.88 levels."""
    from pyspark.sql.functions import pandas_udf

    def jaro_winkler_similarity(left: pd.Series, right: pd.Series) -> pd.Series:
        import numpy as np
        from rapidfuzz.distance import JaroWinkler

        out = np.full(len(left), np.nan)  # NaN goes to Spark as null, like DuckDB's null
        both = (left.notna() & right.notna()).to_numpy()
        out[both] = [
            JaroWinkler.similarity(a.encode(), b.encode()) if a and b else 0.0
            for a, b in zip(left[both], right[both], strict=True)
        ]
        return pd.Series(out, index=left.index)

    session.udf.register(
        linkage_model.SPARK_JARO_WINKLER,
        pandas_udf(jaro_winkler_similarity, "double"),  # type: ignore[call-overload]
    )


_EXCLUDED_RULES = "spark.sql.optimizer.excludedRules"
_NO_PUSHDOWN = (
    "org.apache.spark.sql.catalyst.optimizer.PushDownPredicates",
    "org.apache.spark.sql.catalyst.optimizer.PushPredicateThroughJoin",
)


class SparkBackend:
    """Splink on a SparkSession. The prepared records go to Spark as they are (an Arrow
    table from the DuckDB session), so the derived columns are DuckDB's on both backends;
    results come back as Arrow into DuckDB tables."""

    name = "spark"

    def __init__(self, s: LinkSession, session: Any):
        self.s = s
        self.session = session
        self._frames: dict[str, Any] = {}
        self._views_before = self._splink_views()
        register_spark_functions(session)
        # pyspark 4 warns on every Arrow/pandas hand-over that it does not fully support
        # pandas 3; the backend hands it Arrow tables and a pandas UDF on plain Series
        warnings.filterwarnings(
            "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
        )

    def _splink_views(self) -> set[str]:
        return {
            t.name for t in self.session.catalog.listTables() if t.name.startswith("__splink__")
        }

    def api(self) -> Any:
        from splink.backends.spark import SparkAPI

        # A fresh DatabaseAPI per Linker, as for DuckDB. Splink's intermediate tables (blocked
        # pairs, comparison vectors, term frequencies, samples) are written as Parquet under
        # the session's checkpoint directory and read back, which cuts each table's lineage:
        # with "persist" every later query carries the whole plan that made the table (the
        # comparison step's CASE expressions and the Python UDF), and Spark's optimiser and
        # cache look-up spent minutes and gigabytes of driver heap re-analysing those plans
        # (100,000 records did not finish training in 15 minutes). Without a checkpoint
        # directory (a cluster not given one) they are persisted in the session instead.
        # The Scala jar's functions are not used by the model.
        return SparkAPI(
            spark_session=self.session,
            break_lineage_method="parquet" if self._checkpoint_dir() else "persist",
            register_udfs_automatically=False,
        )

    def _checkpoint_dir(self) -> str | None:
        return self.session.sparkContext.getCheckpointDir()

    def source(self, table: str) -> Any:
        if table not in self._frames:
            # the table names are this module's own
            arrow = self.s.con.execute(f"SELECT * FROM {table} ORDER BY rid").to_arrow_table()  # noqa: S608
            self._frames[table] = self.session.createDataFrame(arrow)
        return self._frames[table]

    @contextlib.contextmanager
    def scoring(self) -> Iterator[None]:
        """Splink's scoring query with the match-weight threshold, planned without pushing
        the threshold into the join of the blocked pairs with the records: pushed there,
        the match weight becomes the join condition with every comparison's levels inlined
        into it (no common subexpressions are shared in a join condition), so each pair's
        comparisons were computed many times over (100,000 records: over 6 minutes of
        scoring, against about a minute with the filter above the comparisons)."""
        conf = self.session.conf
        before = conf.get(_EXCLUDED_RULES, "")
        rules = [r for r in before.split(",") if r] + list(_NO_PUSHDOWN)
        conf.set(_EXCLUDED_RULES, ",".join(dict.fromkeys(rules)))
        try:
            yield
        finally:
            if before:
                conf.set(_EXCLUDED_RULES, before)
            else:
                conf.unset(_EXCLUDED_RULES)

    def to_duckdb(self, table: str, select_sql: str) -> None:
        arrow = self.session.sql(select_sql).toArrow()
        self.s.con.register("spark_result", arrow)
        # ``table`` is one of this module's table names
        self.s.con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM spark_result")  # noqa: S608
        self.s.con.unregister("spark_result")

    def forget(self, table: str) -> None:
        self._frames.pop(table, None)

    def close(self) -> None:
        """Drop the temporary views Splink left in the session, and with them the tables it
        persisted there (dropping a view uncaches it); delete the Parquet files it wrote
        under a local checkpoint directory."""
        for name in self._splink_views() - self._views_before:
            self.session.catalog.dropTempView(name)
        self._frames.clear()
        where = self._checkpoint_dir()
        if where and (where.startswith("file:") or where.startswith("/")):
            folder = Path(where.removeprefix("file:"))
            for table in folder.glob("__splink__*"):
                shutil.rmtree(table, ignore_errors=True)


Backend = DuckDBBackend | SparkBackend
BACKENDS: tuple[str, ...] = ("duckdb", "spark")
