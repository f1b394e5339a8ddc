"""The same linkage model on Spark (pyspark in local mode) as on DuckDB.

One SparkSession for the module. Spark's start-up and first queries (the JVM warming up)
take most of the time; the borough is the small one of ``conftest.py`` (1,336 records), and
for training on Spark against DuckDB one of a few thousand records (``mid_borough``).
"""

from __future__ import annotations

import json
import os
import shutil
import sys

import pandas as pd
import pytest
from django.core.management.base import CommandError

from borough.residents.cli import link as link_command
from borough.residents.linkage import backends, evaluate, model, pipeline
from borough.residents.linkage.synth_input import records_from_synth, truth_from_synth
from borough.synth import generate

# pyspark 4.3 warns that it does not fully support pandas 3; the backend hands it Arrow
pytestmark = [
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

# Random pairs for u in the two runs that train: all pairs of this borough (891,780) cost
# Spark ~20 s in local mode on two cores; 100,000 are plenty for its 1,336 records and the
# same for both backends.
U_PAIRS = 100_000


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    pytest.importorskip("pyspark", reason="the Spark backend needs pyspark (the spark extra)")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        pytest.skip("the Spark backend needs Java 17 or later (none on the PATH or JAVA_HOME)")
    # Spark tuned for a tiny table: one shuffle partition, no adaptive re-planning (Splink's
    # EM runs dozens of small queries); the results do not depend on it. Splink's tables are
    # written under a checkpoint directory, as in the sessions the pipeline starts.
    session = backends.spark_session(
        "local[2]",
        {"spark.sql.shuffle.partitions": "1", "spark.sql.adaptive.enabled": "false"},
        checkpoint_dir=tmp_path_factory.mktemp("spark-checkpoints"),
    )
    yield session
    session.stop()


def _pairs(predictions: pd.DataFrame, threshold: float) -> pd.DataFrame:
    kept = predictions[predictions["match_probability"] >= threshold]
    return kept.sort_values(["unique_id_l", "unique_id_r"]).reset_index(drop=True)


def _pairwise_f1(run: pipeline.LinkResult, truth: pd.DataFrame) -> float:
    predictions = pd.read_parquet(run.predictions_path)
    scores = evaluate.pairwise_scores(predictions, truth, pipeline.CLUSTER_THRESHOLD)
    return scores.as_dict()["f1"]


@pytest.mark.spark
def test_a_duckdb_trained_model_links_the_same_on_spark(linked, spark, tmp_path):
    trained = pipeline.load_model(linked.result.model_path)
    run = pipeline.link(
        linked.frame,
        workdir=tmp_path,
        trained=trained,
        backend="spark",
        spark=spark,
    )
    duck = _pairs(linked.predictions, pipeline.STORE_THRESHOLD)
    on_spark = _pairs(pd.read_parquet(run.predictions_path), pipeline.STORE_THRESHOLD)
    # the same pairs, with the same weights and the same parts of each weight
    assert len(duck) > 0
    for threshold in (pipeline.STORE_THRESHOLD, pipeline.CLUSTER_THRESHOLD):
        assert _pairs(duck, threshold)[["unique_id_l", "unique_id_r"]].equals(
            _pairs(on_spark, threshold)[["unique_id_l", "unique_id_r"]]
        )
    weights = [c for c in duck.columns if c == "match_weight" or c.startswith("mw_")]
    assert set(weights) == {c for c in on_spark.columns if c == "match_weight" or c[:3] == "mw_"}
    assert (duck[weights] - on_spark[weights]).abs().max().max() <= 1e-6
    assert duck["match_key"].equals(on_spark["match_key"])
    # the same clusters, the same calibration
    assert run.clusters.equals(linked.result.clusters)
    assert run.prior == pytest.approx(linked.result.prior, rel=1e-9)
    assert run.household_move_bits == pytest.approx(linked.result.household_move_bits)
    # the saved model is DuckDB SQL whichever backend ran it
    saved = pipeline.load_model(run.model_path)
    assert saved["sql_dialect"] == "duckdb"
    assert saved["comparisons"] == trained["comparisons"]
    meta = json.loads(run.metadata_path.read_text())
    assert meta["backend"] == "spark"
    assert meta["spark_version"] == spark.version
    assert meta["trained_in_this_run"] is False
    # Splink's intermediate tables do not stay behind in the session
    assert not [t for t in spark.catalog.listTables() if t.name.startswith("__splink__")]


@pytest.fixture(scope="module")
def mid_borough(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A borough of a few thousand records (1,000 residents, seed 5)."""
    folder = tmp_path_factory.mktemp("synth-mid")
    generate(folder, residents=1_000, seed=5, workers=1)
    return records_from_synth(folder), truth_from_synth(folder)


@pytest.mark.spark
def test_spark_trains_and_links_as_well_as_duckdb(mid_borough, spark, tmp_path):
    frame, truth = mid_borough
    assert 2_000 <= len(frame) <= 3_500
    duck = pipeline.link(frame, workdir=tmp_path / "duckdb", u_max_pairs=U_PAIRS)
    run = pipeline.link(
        frame, workdir=tmp_path / "spark", u_max_pairs=U_PAIRS, backend="spark", spark=spark
    )
    meta = json.loads(run.metadata_path.read_text())
    assert meta["backend"] == "spark"
    assert meta["trained_in_this_run"] is True
    duck_f1, spark_f1 = _pairwise_f1(duck, truth), _pairwise_f1(run, truth)
    assert spark_f1 > 0.9
    # trained and scored on Spark, the same pairwise F1 as DuckDB to within 0.005
    assert abs(spark_f1 - duck_f1) <= 0.005, (spark_f1, duck_f1)
    # the model Spark trained is the same model (DuckDB SQL), and DuckDB can run it
    trained = pipeline.load_model(run.model_path)
    assert trained["sql_dialect"] == "duckdb"
    again = pipeline.link(frame, workdir=tmp_path / "again", trained=trained)
    assert _pairwise_f1(again, truth) == pytest.approx(spark_f1, abs=1e-9)


def test_the_spark_dialect_is_the_same_model():
    settings = model.settings()
    on_spark = model.for_dialect(settings, "spark")
    levels = [
        level["sql_condition"]
        for comparison in on_spark["comparisons"]
        for level in comparison["comparison_levels"]
    ]
    rules = [r["blocking_rule"] for r in on_spark["blocking_rules_to_generate_predictions"]]
    # in Spark SQL a double-quoted name is a string: every identifier is back-quoted
    assert not any('"' in sql for sql in levels + rules)
    assert not any("date_diff" in sql for sql in levels)
    assert "abs(datediff(`dob_r`, `dob_l`)) <= 366" in levels
    # the round trip gives the DuckDB model back, unchanged
    back = model.for_dialect(on_spark, "duckdb")
    assert back["comparisons"] == settings["comparisons"]
    assert (
        back["blocking_rules_to_generate_predictions"]
        == (settings["blocking_rules_to_generate_predictions"])
    )
    assert model.for_dialect(settings, "duckdb") is settings
    edited = json.loads(json.dumps(on_spark))
    edited["comparisons"][0]["comparison_levels"][1]["sql_condition"] = "`x_l` = `x_r`"
    with pytest.raises(ValueError, match="not model version"):
        model.for_dialect(edited, "duckdb")


def test_without_pyspark_the_spark_backend_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    frame = pd.DataFrame(
        {c: ["x:1"] if c == "unique_id" else [None] for c in model.LINKAGE_COLUMNS}
    )
    with pytest.raises(backends.SparkUnavailable, match=r'pip install -e "\.\[spark\]"'):
        pipeline.link(frame, workdir=tmp_path, backend="spark")
    with pytest.raises(ValueError, match="unknown linkage backend"):
        pipeline.link(frame, workdir=tmp_path, backend="sqlite")


def test_the_command_without_pyspark_says_how_to_install_it(monkeypatch):
    real = link_command.importlib.util.find_spec
    monkeypatch.setattr(
        link_command.importlib.util,
        "find_spec",
        lambda name, *args: None if name == "pyspark" else real(name, *args),
    )
    with pytest.raises(CommandError, match=r'pip install -e "\.\[spark\]"'):
        link_command.run(None, {"backend": "spark"})
