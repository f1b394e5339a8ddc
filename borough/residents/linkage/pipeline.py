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

import datetime as dt
import hashlib
import json
import logging
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import splink
from splink import Linker

from borough.residents.linkage import model as linkage_model
from borough.residents.linkage.backends import (
    BACKENDS,
    Backend,
    DuckDBBackend,
    SparkBackend,
    spark_session,
    spark_session_class,
    start_spark,
)
from borough.residents.linkage.calibrate import (
    HOUSEHOLD_LEVELS,
    PERIODS_LEVELS,
    Calibration,
    calibrate,
    logit2,
)
from borough.residents.linkage.clerical import ClericalDecision, apply_decisions
from borough.residents.linkage.session import (
    MEMORY_LIMIT,
    Frame,
    LinkSession,
    Progress,
    quiet,
    silence_splink,
)
from borough.residents.linkage.training import (
    M_FLOOR,
    SEED,
    TRAINING_SAMPLE,
    U_MAX_PAIRS,
    train_on_session,
)

# A pair at or above this probability is the same person: clusters are joined through it.
# Chosen on a 100,000-record borough (seed 7) as the best cluster F1 of 0.5/0.7/0.8/0.9/0.95.
CLUSTER_THRESHOLD = 0.8
# Pairs at or above this probability are kept in predictions.parquet (review candidates).
STORE_THRESHOLD = 0.5
# Pairs scored before calibration (see _calibrate): those whose comparisons give at least
# this many bits of evidence (about p >= 0.0006 at a million records, 0.006 at 100,000).
EVIDENCE_FLOOR = 8.0


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


# -- prediction -----------------------------------------------------------------------------


def _predict(
    s: LinkSession,
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
    silence_splink()
    backend = backend or DuckDBBackend(s)
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
    s = LinkSession(workdir)
    try:
        s.load(df)
        _predict(
            s, trained, threshold=threshold, decisions=list(decisions), progress=progress or quiet
        )
        return s.con.execute("SELECT * EXCLUDE (rid_l, rid_r) FROM predictions").to_arrow_table()
    finally:
        s.close()


# -- clustering -----------------------------------------------------------------------------


def _cluster(s: LinkSession, threshold: float) -> None:
    """Connected components of the ``predictions`` pairs at or above ``threshold`` into the
    table ``clusters`` (``unique_id``, ``cluster_id``: the cluster's smallest unique_id)."""
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    silence_splink()
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
    s = LinkSession(None)
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
    progress = progress or quiet
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    decisions = list(decisions)
    seconds: dict[str, float] = {}
    own_spark = None
    result: LinkResult | None = None
    if backend == "spark" and spark is None:
        started = time.perf_counter()
        if spark_session_class().getActiveSession() is None:
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
    s = LinkSession(workdir, memory_limit=memory_limit)
    runner: Backend | None = None
    try:
        started = time.perf_counter()
        n = s.load(df)
        runner = SparkBackend(s, spark) if backend == "spark" else DuckDBBackend(s)
        seconds["load"] = time.perf_counter() - started
        progress(f"loaded {n:,} records in {seconds['load']:.1f}s")

        started = time.perf_counter()
        trained_here = trained is None
        if trained is None:
            trained = train_on_session(
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
        if isinstance(runner, SparkBackend):
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


def _conflicts(s: LinkSession, decisions: Sequence[ClericalDecision]) -> list[ClericalDecision]:
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
