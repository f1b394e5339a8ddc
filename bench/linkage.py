"""Record linkage: how fast and how well are a borough's source records linked into residents?

``size`` is the number of records to link (default 1,000,000): one record per person named in
a source row, i.e. the rows of ``ground_truth.csv`` (a council tax account or benefit claim
naming two people is two records). A 20,000-resident pilot measures records per resident;
the borough is generated with enough residents to reach ``size``, turned into the linkage
frame with the development adapter (``borough.residents.linkage.synth_input``, timed
separately: it stands in for the product's loading and standardisation), then linked:
train, predict, cluster. Accuracy is measured against the ground truth, and two yardsticks
from ``borough.residents.linkage.baseline`` are run on the same records at the same threshold,
after our run:

- ``baseline_tuned``: Splink tuned by a skilled analyst (``baseline.link_tuned``: the
  library's comparisons at chosen thresholds with term frequencies, postcode, address and UPRN
  as one comparison, our blocking rules, the standard training) on the SAME standardised
  linkage frame our model gets (with ``--no-gazetteer``, no UPRNs either), so that it compares
  models, not standardisation. It runs in its own spawned process like ours, reading the
  frame from Parquet as a pandas frame; ``peak_rss_mb`` is that process's peak.
- ``baseline``: Splink out of the box on the unstandardised records
  (``baseline.link_out_of_the_box``), in the benchmark process (no memory figure of its own).

The link runs in a freshly spawned process that reads the frame from Parquet as an Arrow
table (what ``records_for_linkage()`` returns) and calls ``pipeline.link``; ``seconds`` is that
call (load into DuckDB, train, predict, cluster, write artefacts). ``peak_rss_mb_link`` is that
process's ``getrusage(RUSAGE_SELF)`` peak: DuckDB runs in-process, so it covers DuckDB's memory
too. ``peak_rss_mb_bench`` is the benchmark process (pilot, frame building, evaluation,
baseline), which is not the linking's footprint. Generation runs in worker processes.

Options (``python bench/run.py linkage --help``):

- ``--no-gazetteer``: a council without an address gazetteer: no record has a UPRN (neither
  from the export nor matched from the address), so homes are told apart by postcode and
  address text alone. The baseline gets the same records.
- ``--backend spark``: link with Splink on Spark in local mode (``pipeline.link(backend=
  "spark")``) instead of DuckDB, with the settings the command computes from the size (the
  Spark environment, e.g. ``PYSPARK_SUBMIT_ARGS``, overrides them as for the command). Spark's
  JVM is a child process of the linking process and not in its ``RUSAGE_SELF``:
  ``peak_rss_mb_spark_jvm`` is the JVM's own peak (``VmHWM`` from ``/proc``, read before the
  session stops); the linking's footprint is the two added.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import queue as queue_module
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from borough.residents.linkage import backends, baseline, evaluate, pipeline
from borough.residents.linkage.synth_input import (
    raw_records_from_synth,
    records_from_synth,
    truth_from_synth,
)
from borough.synth import generate

DEFAULT_SIZE = 1_000_000
SEED = 1
PILOT_RESIDENTS = 20_000


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def add_options(parser) -> None:
    parser.add_argument(
        "--no-gazetteer",
        action="store_true",
        help="no UPRNs: homes known by postcode and address text only",
    )
    parser.add_argument(
        "--backend",
        choices=backends.BACKENDS,
        default="duckdb",
        help="where Splink trains and scores (default duckdb)",
    )


def _link_in_child(frame_path: str, workdir: str, backend: str, out: multiprocessing.Queue) -> None:
    """Link the frame in a fresh process, so that its peak memory is the linking's own:
    the records as an Arrow table (as ``records_for_linkage()`` returns them) plus DuckDB."""

    def progress(message: str) -> None:
        print(f"[linkage child] {message}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    table = pq.read_table(frame_path)
    read_seconds = time.perf_counter() - started
    started = time.perf_counter()
    result = pipeline.link(table, workdir=workdir, progress=progress, backend=backend)
    out.put(
        {
            "seconds": time.perf_counter() - started,
            "read_seconds": read_seconds,
            "stage_seconds": result.seconds,
            "records": result.records,
            "pairs_stored": result.pairs_stored,
            "predictions_path": str(result.predictions_path),
            "clusters_path": str(result.clusters_path),
            "metadata_path": str(result.metadata_path),
            "peak_rss_mb": _peak_mb(),
            "spark_jvm_peak_rss_mb": result.spark_jvm_peak_rss_mb,
        }
    )


def _tuned_in_child(frame_path: str, workdir: str, threshold: float, out) -> None:
    """The tuned Splink baseline in a fresh process (its peak RSS is its own): the frame as
    pandas plus DuckDB. Predictions and clusters go to Parquet files in ``workdir``."""

    def progress(message: str) -> None:
        print(f"[tuned baseline child] {message}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    frame = pq.read_table(frame_path).to_pandas()
    read_seconds = time.perf_counter() - started
    started = time.perf_counter()
    predictions, clusters, seconds = baseline.link_tuned(
        frame, threshold=threshold, progress=progress
    )
    total = time.perf_counter() - started
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    predictions.to_parquet(work / "predictions.parquet", index=False)
    clusters.to_parquet(work / "clusters.parquet", index=False)
    out.put(
        {
            "seconds": total,
            "read_seconds": read_seconds,
            "stage_seconds": seconds,
            "predictions_path": str(work / "predictions.parquet"),
            "clusters_path": str(work / "clusters.parquet"),
            "peak_rss_mb": _peak_mb(),
        }
    )


def _spawn(target, *args) -> dict:
    """Run ``target(*args, queue)`` in a spawned (not forked) process; its one message."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=target, args=(*args, queue))
    child.start()
    while True:
        try:
            message = queue.get(timeout=1)
            break
        except queue_module.Empty:
            if not child.is_alive():
                raise RuntimeError(
                    f"{target.__name__} failed with exit code {child.exitcode}"
                ) from None
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"{target.__name__} failed with exit code {child.exitcode}")
    return message


def run(size: int | None, progress: Callable[[str], None], options=None) -> dict:
    size = size or DEFAULT_SIZE
    no_gazetteer = bool(options and options.no_gazetteer)
    backend = options.backend if options else "duckdb"
    tmp = Path(tempfile.mkdtemp(prefix="borough-bench-linkage-"))
    try:
        pilot = generate(tmp / "pilot", residents=PILOT_RESIDENTS, seed=SEED, workers=1)
        per_resident = pilot["rows"]["ground_truth.csv"] / PILOT_RESIDENTS
        residents = math.ceil(size / per_resident * 1.01)
        shutil.rmtree(tmp / "pilot")
        progress(f"pilot: {per_resident:.3f} records per resident -> {residents:,} residents")

        started = time.perf_counter()
        manifest = generate(
            tmp / "borough", residents=residents, seed=SEED, workers=min(2, os.cpu_count() or 1)
        )
        generate_seconds = time.perf_counter() - started
        progress(f"generated {manifest['source_records']:,} source rows in {generate_seconds:.1f}s")

        started = time.perf_counter()
        frame = records_from_synth(tmp / "borough")
        truth = truth_from_synth(tmp / "borough")
        if no_gazetteer:
            frame["uprn"] = pd.array([None] * len(frame), dtype="Int64")
        frame_seconds = time.perf_counter() - started
        frame_path = tmp / "frame.parquet"
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), frame_path)
        del frame
        progress(f"linkage frame: {len(truth):,} records in {frame_seconds:.1f}s")

        # link in a fresh process (spawned, not forked): its peak RSS is the linking's own
        linked = _spawn(_link_in_child, str(frame_path), str(tmp / "work"), backend)
        stages = linked["stage_seconds"]

        predictions = pd.read_parquet(linked["predictions_path"])
        clusters = pd.read_parquet(linked["clusters_path"])
        threshold = pipeline.CLUSTER_THRESHOLD
        ours = evaluate.evaluate(predictions, clusters, truth, threshold)
        best = max(
            (evaluate.pairwise_scores(predictions, truth, t, clusters["unique_id"]).f1, t)
            for t in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
        )
        meta = pipeline.load_model(linked["metadata_path"])
        del predictions, clusters
        progress(
            f"ours: pairwise F1 {ours['pairwise']['f1']}, cluster F1 "
            f"{ours['cluster_pairs']['f1']} at {threshold}"
        )

        tuned_run = _spawn(_tuned_in_child, str(frame_path), str(tmp / "tuned"), threshold)
        tuned = evaluate.evaluate(
            pd.read_parquet(tuned_run["predictions_path"]),
            pd.read_parquet(tuned_run["clusters_path"]),
            truth,
            threshold,
        )
        progress(
            f"tuned baseline: pairwise F1 {tuned['pairwise']['f1']}, cluster F1 "
            f"{tuned['cluster_pairs']['f1']}"
        )

        raw = raw_records_from_synth(tmp / "borough")
        started = time.perf_counter()
        base_predictions, base_clusters, base_seconds = baseline.link_out_of_the_box(
            raw, threshold=threshold, progress=progress
        )
        baseline_seconds = time.perf_counter() - started
        base = evaluate.evaluate(base_predictions, base_clusters, truth, threshold)
        progress(
            f"baseline: pairwise F1 {base['pairwise']['f1']}, cluster F1 "
            f"{base['cluster_pairs']['f1']}"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    return {
        "records": linked["records"],
        "source_rows": manifest["source_records"],
        "residents": manifest["residents"],
        "people_in_records": ours["people"],
        "seconds": round(linked["seconds"], 2),
        "seconds_load": round(stages["load"], 2),
        "seconds_train": round(stages["train"], 2),
        "seconds_predict": round(stages["predict"], 2),
        "seconds_cluster": round(stages["cluster"], 2),
        "seconds_write": round(stages["write"], 2),
        "seconds_read_parquet": round(linked["read_seconds"], 2),
        "records_per_second": round(linked["records"] / linked["seconds"]),
        "peak_rss_mb_link": round(linked["peak_rss_mb"], 1),
        **(
            {"peak_rss_mb_spark_jvm": round(linked["spark_jvm_peak_rss_mb"], 1)}
            if linked.get("spark_jvm_peak_rss_mb") is not None
            else {}
        ),
        "peak_rss_mb_bench": round(_peak_mb(), 1),
        "threshold": threshold,
        "pairwise": ours["pairwise"],
        "cluster_pairs": ours["cluster_pairs"],
        "people_whole": ours["people_whole"],
        "people_exact": ours["people_exact"],
        "clusters": ours["clusters"],
        "pairwise_f1_best_threshold": {"f1": round(best[0], 5), "threshold": best[1]},
        "prior": meta["probability_two_random_records_match"],
        "household_move_bits": meta["household_move"]["weights_bits"],
        "periods_meet_bits": meta["periods_meet"]["weights_bits"],
        "pairs_stored": linked["pairs_stored"],
        "baseline": {
            "what": "Splink out of the box on case-folded raw records (see baseline.py)",
            "sample": "none (same records)",
            "seconds": round(baseline_seconds, 2),
            "seconds_train": round(base_seconds["train"], 2),
            "seconds_predict": round(base_seconds["predict"], 2),
            "seconds_cluster": round(base_seconds["cluster"], 2),
            "pairwise": base["pairwise"],
            "cluster_pairs": base["cluster_pairs"],
            "people_exact": base["people_exact"],
        },
        "pairwise_f1_minus_baseline": round(ours["pairwise"]["f1"] - base["pairwise"]["f1"], 5),
        "baseline_tuned": {
            "what": (
                "Splink tuned on the same standardised linkage frame"
                + (" (no UPRNs)" if no_gazetteer else "")
                + " (see baseline.py)"
            ),
            "seconds": round(tuned_run["seconds"], 2),
            "seconds_train": round(tuned_run["stage_seconds"]["train"], 2),
            "seconds_predict": round(tuned_run["stage_seconds"]["predict"], 2),
            "seconds_cluster": round(tuned_run["stage_seconds"]["cluster"], 2),
            "seconds_read_parquet": round(tuned_run["read_seconds"], 2),
            "peak_rss_mb": round(tuned_run["peak_rss_mb"], 1),
            "pairwise": tuned["pairwise"],
            "cluster_pairs": tuned["cluster_pairs"],
            "people_exact": tuned["people_exact"],
        },
        "pairwise_f1_minus_tuned": round(ours["pairwise"]["f1"] - tuned["pairwise"]["f1"], 5),
        "generate_seconds": round(generate_seconds, 2),
        "frame_seconds": round(frame_seconds, 2),
    }
