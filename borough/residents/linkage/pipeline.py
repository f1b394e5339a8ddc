"""Train, predict, cluster: linking source records into residents with Splink on DuckDB
(or, ``link(..., backend="spark")``, the same model with Splink on Spark).

Input is the contract frame (``model.LINKAGE_COLUMNS``): a pandas DataFrame or a pyarrow
Table, one row per source record. The product reads it from
``borough.residents.queries.records_for_linkage()``; development, tests and the benchmark
build it with ``synth_input.records_from_synth``.

Scoring is Splink's (``model.settings``); each run then calibrates on its own scored pairs
(``calibrate.calibrate``): the prior, and the weight of the household-move evidence
(``model.HOUSEHOLD_MOVES_SQL``), which is added to the Splink match weight.

``link`` runs everything and writes, under ``workdir``:

- ``models/model-<UTC time>-<hash>.json``: the trained Splink model, loadable with
  ``splink.Linker(table, path, db_api)`` (its ``unique_id_column_name`` is ``rid``, the
  integer row id of ``model.PREPARE_SQL``), and ``….meta.json`` beside it (Splink and DuckDB
  versions, record count, training parameters, thresholds, timings);
- ``predictions.parquet``: every scored pair at or above ``store_threshold`` with each
  comparison's contribution to the match weight, clerical decisions applied;
- ``clusters.parquet``: ``unique_id`` -> ``cluster_id`` at ``cluster_threshold``.

Memory: DuckDB runs in this process with a memory limit and spills to ``workdir/tmp``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import splink
from splink import DuckDBAPI, Linker

from borough.residents.linkage import model as linkage_model
from borough.residents.linkage.calibrate import (
    HOUSEHOLD_LEVELS,
    PERIODS_LEVELS,
    Calibration,
    calibrate,
    logit2,
)
from borough.residents.linkage.clerical import ClericalDecision, apply_decisions

Progress = Callable[[str], None]
Frame = pd.DataFrame | pa.Table

# A pair at or above this probability is the same person: clusters are joined through it.
# Chosen on a 100,000-record borough (seed 7) as the best cluster F1 of 0.5/0.7/0.8/0.9/0.95.
CLUSTER_THRESHOLD = 0.8
# Pairs at or above this probability are kept in predictions.parquet (review candidates).
STORE_THRESHOLD = 0.5
# Pairs scored before calibration (see _calibrate): those whose comparisons give at least
# this many bits of evidence (about p >= 0.0006 at a million records, 0.006 at 100,000).
EVIDENCE_FLOOR = 8.0
# Records in the training sample, and random pairs for the u probabilities.
TRAINING_SAMPLE = 200_000
U_MAX_PAIRS = 5_000_000
# m for a level that no EM training pair fell into, and the floor for every m: EM drives
# the m of a level it never sees among matches to ~1e-30, a weight of -100 bits that no
# other evidence can outweigh.
M_FLOOR = 1e-5
SEED = 42
MEMORY_LIMIT = "3GB"


def _quiet(_: str) -> None:
    pass


@dataclass
class LinkResult:
    """What one run of ``link`` produced."""

    model_path: Path
    metadata_path: Path
    predictions_path: Path
    clusters_path: Path
    clusters: pd.DataFrame  # unique_id, cluster_id
    records: int
    pairs_stored: int
    clusters_count: int
    prior: float
    household_move_bits: tuple[float, float]  # added if another person moved too / if not
    periods_meet_bits: tuple[float, ...]  # added if the periods meet / are close / are not
    seconds: dict[str, float] = field(default_factory=dict)
    clerical_conflicts: list[ClericalDecision] = field(default_factory=list)
    # the peak resident memory of the Spark JVM this run started (local mode: the driver and
    # executor), read from /proc before it stopped; None for DuckDB or a session passed in
    spark_jvm_peak_rss_mb: float | None = None


class _Session:
    """One DuckDB connection holding the prepared ``records`` table."""

    def __init__(self, workdir: Path | None, memory_limit: str = MEMORY_LIMIT):
        self._own_dir = workdir is None
        self.workdir = (
            Path(tempfile.mkdtemp(prefix="borough-linkage-")) if workdir is None else workdir
        )
        self.tmp = self.workdir / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(":memory:")
        self.con.execute(f"SET memory_limit = {_sql_string(memory_limit)}")
        self.con.execute(f"SET temp_directory = {_sql_string(str(self.tmp))}")
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
            if c not in _columns(df) and c not in linkage_model.OPTIONAL_COLUMNS
        ]
        if missing:
            raise ValueError(f"linkage input lacks columns: {', '.join(missing)}")
        self.con.register("linkage_input", df)
        prepared = linkage_model.PREPARE_SQL.format(
            source=linkage_model.source_sql("linkage_input", _columns(df))
        )
        if linkage_model.LINK_ONLY_COLUMN in _columns(df):
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
        if all(c in _columns(df) for c in linkage_model.RESIDENCE_COLUMNS):
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


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _columns(df: Frame) -> list[str]:
    return list(df.column_names) if isinstance(df, pa.Table) else list(df.columns)


def _silence_splink() -> None:
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


# -- backends -------------------------------------------------------------------------------
#
# The records are always prepared in DuckDB (``model.PREPARE_SQL``, the ``records`` table of
# the ``_Session``). A backend is where Splink trains and scores: DuckDB in this process, or
# Spark, which gets the prepared records as they are and sends back the scored pairs; the
# household-move step, calibration, clerical decisions and clustering then run in DuckDB on
# those pairs, for both backends.


class _DuckDB:
    """Splink on the session's own DuckDB connection."""

    name = "duckdb"

    def __init__(self, s: _Session):
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


def _spark_session_class() -> Any:
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
    ``_Spark``); ``spark.checkpoint.dir`` in ``config`` does the same. Raises
    ``SparkUnavailable`` if pyspark is missing or Spark cannot start (it needs Java 17 or
    later, and a reachable master). No jar is needed: see ``register_spark_functions``."""
    SparkSession = _spark_session_class()
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
    progress: Progress = _quiet,
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


class _Spark:
    """Splink on a SparkSession. The prepared records go to Spark as they are (an Arrow
    table from the DuckDB session), so the derived columns are DuckDB's on both backends;
    results come back as Arrow into DuckDB tables."""

    name = "spark"

    def __init__(self, s: _Session, session: Any):
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


Backend = _DuckDB | _Spark
BACKENDS: tuple[str, ...] = ("duckdb", "spark")


# -- training -------------------------------------------------------------------------------


def _fill_missing(model: dict[str, Any], key: str, value: float) -> list[str]:
    """Set ``key`` to ``value`` on every non-null level that lacks it; return their names."""
    filled = []
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level") and not level.get(key):
                level[key] = value
                filled.append(f"{comparison['output_column_name']}: {level['label_for_charts']}")
    return filled


def _levels_in_short(levels: list[str]) -> str:
    """``["email: Exact", "email: All other comparisons", "first_name: …"]`` as
    ``"3 levels (email 2, first_name 1)"``: one short progress line, whatever the data."""
    counts: dict[str, int] = {}
    for level in levels:
        comparison = level.split(":", 1)[0]
        counts[comparison] = counts.get(comparison, 0) + 1
    each = ", ".join(f"{name} {n}" for name, n in counts.items())
    return f"{len(levels)} level{'s' if len(levels) != 1 else ''} ({each})"


def _floor_m(model: dict[str, Any]) -> None:
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level"):
                level["m_probability"] = max(level["m_probability"], M_FLOOR)


def _train(
    s: _Session,
    *,
    progress: Progress,
    backend: Backend | None = None,
    sample_size: int,
    u_max_pairs: float,
    term_frequencies: bool,
    seed: int,
) -> dict[str, Any]:
    _silence_splink()
    n = s.records
    # A uniform sample of records is a uniform sample of pairs: u and the share of matching
    # pairs are the same in it as in the whole table. Hashing the id makes the sample
    # independent of row order.
    if n > sample_size:
        s.con.execute(
            "CREATE OR REPLACE TABLE training_records AS SELECT * FROM records "
            "ORDER BY hash(unique_id || ?) LIMIT ?",
            [str(seed), int(sample_size)],
        )
        table, used = "training_records", int(sample_size)
    else:
        table, used = "records", n
    progress(f"training on {used:,} of {n:,} records")
    backend = backend or _DuckDB(s)
    api = backend.api()
    source = backend.source(table)
    settings = linkage_model.for_dialect(
        linkage_model.settings(term_frequencies=term_frequencies, link_only=s.link_only),
        backend.name,
    )
    linker = Linker(source, settings, api, set_up_basic_logging=False)
    pairs = min(u_max_pairs, used * (used - 1) / 2)
    started = time.perf_counter()
    linker.training.estimate_u_using_random_sampling(max_pairs=pairs, seed=seed)
    progress(f"u from {pairs:,.0f} random pairs in {time.perf_counter() - started:.1f}s")
    # A level no random pair fell into (a shared home AND a similar surname, at a million
    # records) would otherwise keep Splink's default u, far too large: give it the rate of
    # one pair in the sample, an overestimate that errs against linking.
    model = linker.misc.save_model_to_json()
    unseen = _fill_missing(model, "u_probability", 1.0 / pairs)
    if unseen:
        progress(f"u: no random pair in {_levels_in_short(unseen)}: set to 1/{pairs:,.0f}")
    linker = Linker(source, model, api, set_up_basic_logging=False)
    for rule in linkage_model.blocking_rules(
        linkage_model.TRAINING_BLOCKING_RULES, link_only=s.link_only
    ):
        started = time.perf_counter()
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule if backend.name == "duckdb" else linkage_model.spark_sql(rule),
            estimate_without_term_frequencies=True,
            populate_probability_two_random_records_match_from_trained_values=True,
        )
        progress(f"EM on [{rule}] in {time.perf_counter() - started:.1f}s")
    trained = linker.misc.save_model_to_json()
    unseen = _fill_missing(trained, "m_probability", M_FLOOR)
    if unseen:
        progress(f"m: no training pair in {_levels_in_short(unseen)}: set to {M_FLOOR}")
    _floor_m(trained)
    linker.table_management.delete_tables_created_by_splink_from_db()
    if table == "training_records":
        s.con.execute("DROP TABLE training_records")
        if isinstance(backend, _Spark):
            backend.forget(table)
    progress(f"prior from EM: {trained['probability_two_random_records_match']:.3g}")
    # the model is kept and saved as DuckDB SQL whichever backend trained it
    return linkage_model.for_dialect(trained, "duckdb")


def train(
    df: Frame,
    *,
    progress: Progress | None = None,
    workdir: Path | None = None,
    sample_size: int = TRAINING_SAMPLE,
    u_max_pairs: float = U_MAX_PAIRS,
    term_frequencies: bool = True,
    seed: int = SEED,
) -> dict[str, Any]:
    """The trained model (the Splink settings dict) for the records in ``df``.

    u probabilities come from random pairs; m probabilities from EM on blocks that do not
    fix the household (``model.TRAINING_BLOCKING_RULES``), on a uniform sample of at most
    ``sample_size`` records; the prior (probability two random records match) from those
    EM sessions. ``predict`` and ``link`` calibrate the prior on the pairs they score."""
    s = _Session(workdir)
    try:
        s.load(df)
        return _train(
            s,
            progress=progress or _quiet,
            sample_size=sample_size,
            u_max_pairs=u_max_pairs,
            term_frequencies=term_frequencies,
            seed=seed,
        )
    finally:
        s.close()


# -- prediction -----------------------------------------------------------------------------


def _predict(
    s: _Session,
    trained: dict[str, Any],
    *,
    threshold: float,
    decisions: Sequence[ClericalDecision],
    progress: Progress,
    backend: Backend | None = None,
) -> tuple[dict[str, Any], Calibration]:
    """Score pairs into the table ``predictions`` (at or above ``threshold``); return the
    model with its re-estimated prior, and the calibration. ``trained`` may be in either
    SQL dialect; the model returned is in DuckDB's."""
    _silence_splink()
    backend = backend or _DuckDB(s)
    trained = linkage_model.for_dialect(trained, "duckdb")
    # the pairs looked at are these records' (link-only or not), whatever the model was
    # trained on
    trained = {
        **trained,
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": rule}
            for rule in linkage_model.blocking_rules(
                linkage_model.PREDICTION_BLOCKING_RULES, link_only=s.link_only
            )
        ],
    }
    prior = trained["probability_two_random_records_match"]
    # keep each comparison's contribution to the match weight: a reviewer needs the reasons
    scoring = {
        **linkage_model.for_dialect(json.loads(json.dumps(trained)), backend.name),
        "retain_intermediate_calculation_columns": True,
    }
    linker = Linker(backend.source("records"), scoring, backend.api(), set_up_basic_logging=False)
    started = time.perf_counter()
    # Score a wider net than the threshold, fixed by the evidence alone (not by the prior,
    # which calibration changes), so that the same model scores the same pairs every time.
    with backend.scoring():
        scored = linker.inference.predict(threshold_match_weight=EVIDENCE_FLOOR + logit2(prior))
    names = {c.name.strip('"`') for c in scored.columns}
    weights = []
    for comparison in trained["comparisons"]:
        name = comparison["output_column_name"]
        tf = f" * coalesce(bf_tf_adj_{name}, 1)" if f"bf_tf_adj_{name}" in names else ""
        weights.append(f"log2(bf_{name}{tf}) AS mw_{name}")
    # names below come from the model's comparisons and Splink's own table, not from input;
    # the query is the same in DuckDB and Spark SQL
    backend.to_duckdb(
        "scored_pairs",
        f"SELECT rid_l, rid_r, match_weight, {', '.join(weights)}, match_key "  # noqa: S608
        f"FROM {scored.physical_name}",
    )
    linker.table_management.delete_tables_created_by_splink_from_db()
    progress(f"scored pairs in {time.perf_counter() - started:.1f}s")

    started = time.perf_counter()
    s.con.execute(
        linkage_model.HOUSEHOLD_MOVES_SQL.format(
            pairs="scored_pairs",
            periods="periods",
            meet_days=linkage_model.PERIODS_MEET_DAYS,
            close_days=linkage_model.PERIODS_CLOSE_DAYS,
        )
    )
    calibration = calibrate(s.con, s.records, prior, progress)
    yes, no = calibration.move_weights
    meet, close, apart = calibration.periods_weights
    s.con.execute(
        """
        CREATE OR REPLACE TABLE predictions AS
        WITH adjusted AS (
            SELECT p.*,
                CASE h.moved_with WHEN 1 THEN $yes WHEN 0 THEN $no ELSE 0.0 END
                    AS mw_household_move,
                CASE h.periods_meet WHEN 2 THEN $meet WHEN 1 THEN $close WHEN 0 THEN $apart
                    ELSE 0.0 END
                    AS mw_periods_meet
            FROM scored_pairs p
            LEFT JOIN household_moves h ON h.rid_l = p.rid_l AND h.rid_r = p.rid_r
        ), weighted AS (
            SELECT * REPLACE (
                match_weight + mw_household_move + mw_periods_meet + $shift AS match_weight
            )
            FROM adjusted
        )
        SELECT l.unique_id AS unique_id_l, r.unique_id AS unique_id_r, w.match_weight,
            1 / (1 + pow(2, -w.match_weight)) AS match_probability,
            w.* EXCLUDE (rid_l, rid_r, match_weight),
            CAST(NULL AS VARCHAR) AS clerical_decision, w.rid_l, w.rid_r
        FROM weighted w
        JOIN records l ON l.rid = w.rid_l
        JOIN records r ON r.rid = w.rid_r
        WHERE 1 / (1 + pow(2, -w.match_weight)) >= $threshold
        """,
        {
            "yes": yes,
            "no": no,
            "meet": meet,
            "close": close,
            "apart": apart,
            "shift": logit2(calibration.prior) - logit2(prior),
            "threshold": threshold,
        },
    )
    s.con.execute("DROP TABLE scored_pairs")
    s.con.execute("DROP TABLE household_moves")
    s.con.execute("DROP TABLE periods_chance")
    progress(
        f"calibrated and kept pairs at or above {threshold} in {time.perf_counter() - started:.1f}s"
    )
    if decisions:
        apply_decisions(s.con, decisions)
        progress(f"applied {len(decisions):,} clerical decisions")
    trained = {**trained, "probability_two_random_records_match": calibration.prior}
    return trained, calibration


def predict(
    df: Frame,
    trained: dict[str, Any],
    *,
    threshold: float = STORE_THRESHOLD,
    decisions: Iterable[ClericalDecision] = (),
    progress: Progress | None = None,
    workdir: Path | None = None,
) -> pa.Table:
    """Pairs of records in ``df`` scored by the trained model at or above ``threshold``:
    ``unique_id_l < unique_id_r``, ``match_weight``, ``match_probability``, ``mw_<comparison>``
    (each comparison's part of the match weight), ``match_key`` (the blocking rule that
    produced the pair) and ``clerical_decision`` (``same``/``different`` where an officer
    decided, which forces the probability to 1 or 0). The prior and the household-move
    weights are calibrated on these records' scored pairs, as in ``link``."""
    s = _Session(workdir)
    try:
        s.load(df)
        _predict(
            s, trained, threshold=threshold, decisions=list(decisions), progress=progress or _quiet
        )
        return s.con.execute("SELECT * EXCLUDE (rid_l, rid_r) FROM predictions").to_arrow_table()
    finally:
        s.close()


# -- clustering -----------------------------------------------------------------------------


def _cluster(s: _Session, threshold: float) -> None:
    """Connected components of the ``predictions`` pairs at or above ``threshold`` into the
    table ``clusters`` (``unique_id``, ``cluster_id``: the cluster's smallest unique_id)."""
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    _silence_splink()
    s.con.execute(
        "CREATE OR REPLACE TABLE cluster_edges AS SELECT rid_l, rid_r FROM predictions "
        "WHERE match_probability >= $threshold",
        {"threshold": threshold},
    )
    s.con.execute("CREATE OR REPLACE TABLE cluster_nodes AS SELECT rid FROM records")
    api = s.api()
    cc = cluster_pairwise_predictions_at_threshold(
        "cluster_nodes",
        "cluster_edges",
        api,
        node_id_column_name="rid",
        edge_id_column_name_left="rid_l",
        edge_id_column_name_right="rid_r",
    )
    # rid follows unique_id's order, so the smallest rid is the smallest unique_id
    s.con.execute(
        "CREATE OR REPLACE TABLE clusters AS SELECT r.unique_id, c.unique_id AS cluster_id "  # noqa: S608 (Splink's table)
        f"FROM {cc.physical_name} AS k JOIN records r ON r.rid = k.rid "
        "JOIN records c ON c.rid = k.cluster_id"
    )
    cc.drop_table_from_database_and_remove_from_cache()
    s.con.execute("DROP TABLE cluster_edges")
    s.con.execute("DROP TABLE cluster_nodes")


def cluster(predictions: Frame, df: Frame, threshold: float = CLUSTER_THRESHOLD) -> pd.DataFrame:
    """``unique_id`` -> ``cluster_id`` for every record of ``df``: the connected components
    of the pairs in ``predictions`` (``unique_id_l``, ``unique_id_r``, ``match_probability``,
    clerical decisions already applied) at or above ``threshold``. ``cluster_id`` is the
    smallest ``unique_id`` in the cluster."""
    s = _Session(None)
    try:
        s.load(df)
        s.con.register("predictions_input", predictions)
        s.con.execute(
            "CREATE TABLE predictions AS SELECT l.rid AS rid_l, r.rid AS rid_r, "
            "p.match_probability FROM predictions_input p "
            "JOIN records l ON l.unique_id = p.unique_id_l "
            "JOIN records r ON r.unique_id = p.unique_id_r"
        )
        _cluster(s, threshold)
        return s.con.execute("SELECT * FROM clusters ORDER BY unique_id").df()
    finally:
        s.close()


# -- the whole run --------------------------------------------------------------------------


def model_hash(trained: dict[str, Any]) -> str:
    """First 12 hex digits of the SHA-256 of the model's canonical JSON."""
    canonical = json.dumps(trained, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def write_model(
    trained: dict[str, Any], models_dir: Path, metadata: dict[str, Any], now: dt.datetime
) -> tuple[Path, Path]:
    """Write the model JSON and its metadata; the name carries the time and content hash."""
    models_dir.mkdir(parents=True, exist_ok=True)
    digest = model_hash(trained)
    stem = f"model-{now.strftime('%Y%m%dT%H%M%SZ')}-{digest}"
    model_path = models_dir / f"{stem}.json"
    meta_path = models_dir / f"{stem}.meta.json"
    model_path.write_text(json.dumps(trained, indent=2, sort_keys=True), encoding="utf-8")
    meta = {"model_file": model_path.name, "model_sha256_12": digest, **metadata}
    meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")
    return model_path, meta_path


def load_model(path: str | Path) -> dict[str, Any]:
    """A model written by ``link`` (or ``write_model``), as the settings dict Splink takes."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def link(
    df: Frame,
    *,
    workdir: str | Path,
    progress: Progress | None = None,
    trained: dict[str, Any] | None = None,
    decisions: Iterable[ClericalDecision] = (),
    cluster_threshold: float = CLUSTER_THRESHOLD,
    store_threshold: float = STORE_THRESHOLD,
    sample_size: int = TRAINING_SAMPLE,
    u_max_pairs: float = U_MAX_PAIRS,
    term_frequencies: bool = True,
    seed: int = SEED,
    memory_limit: str = MEMORY_LIMIT,
    backend: str = "duckdb",
    spark: Any = None,
    spark_master: str | None = None,
    spark_conf: dict[str, str] | None = None,
) -> LinkResult:
    """Train (unless a ``trained`` model is given), predict, apply clerical decisions and
    cluster the records of ``df``; write the artefacts under ``workdir``.

    Every run calibrates on its own scored pairs (``calibrate.calibrate``): the prior, which the
    saved model then carries, and the household-move weights, which the metadata carries.

    ``backend="spark"`` trains and scores with Splink on Spark (the same model, its SQL spelt
    for Spark: ``model.for_dialect``), on ``spark`` (a SparkSession) or else the active
    session or else a new local one, which is stopped at the end. The records are prepared,
    and the scored pairs calibrated and clustered, in DuckDB as for ``backend="duckdb"``.
    ``trained`` may come from either backend; the saved model is DuckDB SQL either way."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown linkage backend {backend!r}; expected one of {BACKENDS}")
    progress = progress or _quiet
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    decisions = list(decisions)
    seconds: dict[str, float] = {}
    own_spark = None
    result: LinkResult | None = None
    if backend == "spark" and spark is None:
        started = time.perf_counter()
        if _spark_session_class().getActiveSession() is None:
            own_spark = start_spark(
                df.num_rows if isinstance(df, pa.Table) else len(df),
                workdir=workdir,
                master=spark_master,
                conf=spark_conf,
                progress=progress,
            )
        elif spark_master or spark_conf:
            progress("a Spark session is already running: it is used as it is")
        spark = own_spark or spark_session()
        seconds["spark_start"] = time.perf_counter() - started
        progress(
            f"Spark {spark.version} session ({spark.sparkContext.master}) ready in "
            f"{seconds['spark_start']:.1f}s"
        )
    s = _Session(workdir, memory_limit=memory_limit)
    runner: Backend | None = None
    try:
        started = time.perf_counter()
        n = s.load(df)
        runner = _Spark(s, spark) if backend == "spark" else _DuckDB(s)
        seconds["load"] = time.perf_counter() - started
        progress(f"loaded {n:,} records in {seconds['load']:.1f}s")

        started = time.perf_counter()
        trained_here = trained is None
        if trained is None:
            trained = _train(
                s,
                progress=progress,
                backend=runner,
                sample_size=sample_size,
                u_max_pairs=u_max_pairs,
                term_frequencies=term_frequencies,
                seed=seed,
            )
        seconds["train"] = time.perf_counter() - started

        started = time.perf_counter()
        trained, calibration = _predict(
            s,
            trained,
            threshold=store_threshold,
            decisions=decisions,
            progress=progress,
            backend=runner,
        )
        seconds["predict"] = time.perf_counter() - started
        pairs_stored = s.con.execute("SELECT count(*) FROM predictions").fetchone()[0]
        progress(f"{pairs_stored:,} pairs at or above {store_threshold}")

        started = time.perf_counter()
        _cluster(s, cluster_threshold)
        conflicts = _conflicts(s, decisions)
        seconds["cluster"] = time.perf_counter() - started
        clusters_count = s.con.execute(
            "SELECT count(DISTINCT cluster_id) FROM clusters"
        ).fetchone()[0]
        progress(f"{clusters_count:,} clusters in {seconds['cluster']:.1f}s")

        started = time.perf_counter()
        predictions_path = workdir / "predictions.parquet"
        clusters_path = workdir / "clusters.parquet"
        s.con.sql("SELECT * EXCLUDE (rid_l, rid_r) FROM predictions").write_parquet(
            str(predictions_path)
        )
        s.con.sql("SELECT * FROM clusters ORDER BY unique_id").write_parquet(str(clusters_path))
        clusters_df = s.con.execute("SELECT * FROM clusters ORDER BY unique_id").df()
        seconds["write"] = time.perf_counter() - started
        metadata = {
            "created_utc": now.isoformat(),
            "model_version": linkage_model.MODEL_VERSION,
            "backend": backend,
            "splink_version": splink.__version__,
            "duckdb_version": duckdb.__version__,
            **({"spark_version": spark.version} if backend == "spark" else {}),
            "records": n,
            "trained_in_this_run": trained_here,
            "training": {
                "sample_size": min(sample_size, n),
                "u_max_pairs": u_max_pairs,
                "seed": seed,
                "em_blocking_rules": linkage_model.blocking_rules(
                    linkage_model.TRAINING_BLOCKING_RULES, link_only=s.link_only
                ),
                "term_frequencies": term_frequencies,
                "m_floor": M_FLOOR,
            },
            "prediction_blocking_rules": linkage_model.blocking_rules(
                linkage_model.PREDICTION_BLOCKING_RULES, link_only=s.link_only
            ),
            "link_only_datasets": [
                row[0]
                for row in s.con.execute(
                    "SELECT DISTINCT link_only_dataset FROM records "
                    "WHERE link_only_dataset IS NOT NULL ORDER BY 1"
                ).fetchall()
            ],
            "thresholds": {
                "cluster_match_probability": cluster_threshold,
                "stored_match_probability": store_threshold,
            },
            "probability_two_random_records_match": calibration.prior,
            "household_move": {
                "levels": list(HOUSEHOLD_LEVELS),
                "m": list(calibration.household.m) if calibration.household else None,
                "u": list(calibration.household.u) if calibration.household else None,
                "weights_bits": list(calibration.move_weights),
            },
            "periods_meet": {
                "levels": list(PERIODS_LEVELS),
                "within_days": [linkage_model.PERIODS_MEET_DAYS, linkage_model.PERIODS_CLOSE_DAYS],
                "m": list(calibration.periods.m) if calibration.periods else None,
                "u": list(calibration.periods.u) if calibration.periods else None,
                "weights_bits": list(calibration.periods_weights),
            },
            "pairs_stored": pairs_stored,
            "clusters": clusters_count,
            "clerical_decisions": len(decisions),
            "clerical_conflicts": len(conflicts),
            "seconds": {k: round(v, 2) for k, v in seconds.items()},
        }
        model_path, meta_path = write_model(trained, workdir / "models", metadata, now)
        result = LinkResult(
            model_path=model_path,
            metadata_path=meta_path,
            predictions_path=predictions_path,
            clusters_path=clusters_path,
            clusters=clusters_df,
            records=n,
            pairs_stored=pairs_stored,
            clusters_count=clusters_count,
            prior=trained["probability_two_random_records_match"],
            household_move_bits=calibration.move_weights,
            periods_meet_bits=calibration.periods_weights,
            seconds=seconds,
            clerical_conflicts=conflicts,
        )
        return result
    finally:
        if isinstance(runner, _Spark):
            try:
                runner.close()
            except Exception:  # a failed run's Spark may be gone: keep its own error
                logging.getLogger(__name__).warning(
                    "could not tidy the Spark session", exc_info=True
                )
        s.close()
        if own_spark is not None:
            jvm_peak = _jvm_peak_rss_mb(own_spark)
            if jvm_peak is not None:
                progress(f"Spark JVM peak resident memory {jvm_peak:,.0f} MB")
                if result is not None:
                    result.spark_jvm_peak_rss_mb = jvm_peak
            own_spark.stop()
            shutil.rmtree(workdir / "spark", ignore_errors=True)


def _jvm_peak_rss_mb(session: Any) -> float | None:
    """VmHWM of the session's local JVM (the py4j gateway process), if this is Linux."""
    try:
        pid = session.sparkContext._gateway.proc.pid
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except (AttributeError, OSError):
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def _conflicts(s: _Session, decisions: Sequence[ClericalDecision]) -> list[ClericalDecision]:
    """ "Different" decisions whose two records still ended in one cluster (joined through
    other records): an officer needs to look at the whole cluster."""
    different = [d for d in decisions if d.decision == "different"]
    if not different:
        return []
    frame = pd.DataFrame(
        {"l": [d.unique_id_l for d in different], "r": [d.unique_id_r for d in different]}
    )
    s.con.register("different_decisions", frame)
    rows = s.con.execute(
        "SELECT d.l, d.r FROM different_decisions d JOIN clusters a ON a.unique_id = d.l "
        "JOIN clusters b ON b.unique_id = d.r WHERE a.cluster_id = b.cluster_id"
    ).fetchall()
    s.con.unregister("different_decisions")
    together = set(rows)
    return [d for d in different if (d.unique_id_l, d.unique_id_r) in together]
