"""Linking a small synthetic borough end to end."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pytest
from splink import DuckDBAPI, Linker

from borough.residents.linkage import evaluate, model, pipeline, training

# Measured on this borough (500 residents, seed 3, 1,364 records): pairwise F1 0.979 and
# cluster F1 0.997 at the 0.8 threshold. The floors leave room for platform differences.
PAIRWISE_F1_FLOOR = 0.95
CLUSTER_F1_FLOOR = 0.97


def test_link_finds_the_people_behind_the_records(linked):
    scores = evaluate.evaluate(
        linked.predictions, linked.result.clusters, linked.truth, pipeline.CLUSTER_THRESHOLD
    )
    assert scores["pairwise"]["f1"] >= PAIRWISE_F1_FLOOR
    assert scores["cluster_pairs"]["f1"] >= CLUSTER_F1_FLOOR


def test_every_record_gets_exactly_one_cluster(linked):
    clusters = linked.result.clusters
    assert sorted(clusters["unique_id"]) == sorted(linked.frame["unique_id"])
    assert not clusters["unique_id"].duplicated().any()
    assert (pd.read_parquet(linked.result.clusters_path) == clusters).all().all()
    # the cluster id is the cluster's smallest unique_id
    smallest = clusters.groupby("cluster_id")["unique_id"].min()
    assert (smallest.index == smallest.to_numpy()).all()


def test_predictions_are_ordered_pairs_above_the_stored_threshold(linked):
    p = linked.predictions
    assert (p["unique_id_l"] < p["unique_id_r"]).all()
    assert (p["match_probability"] >= pipeline.STORE_THRESHOLD).all()
    assert {"mw_first_name", "mw_surname_address", "mw_household_move", "match_key"} <= set(
        p.columns
    )
    assert p["clerical_decision"].isna().all()


def test_model_artefact_is_versioned_and_reloadable(linked):
    result = linked.result
    assert result.model_path.parent.name == "models"
    stem = result.model_path.name.removesuffix(".json")
    assert stem.startswith("model-") and stem.endswith(
        pipeline.model_hash(pipeline.load_model(result.model_path))
    )
    meta = json.loads(result.metadata_path.read_text())
    assert meta["model_file"] == result.model_path.name
    assert meta["records"] == len(linked.frame)
    assert meta["splink_version"] == "4.0.17"
    assert meta["thresholds"]["cluster_match_probability"] == pipeline.CLUSTER_THRESHOLD

    # Splink itself loads the JSON and scores the same pairs with it
    trained = pipeline.load_model(result.model_path)
    import duckdb

    con = duckdb.connect()
    con.register("frame", linked.frame)
    con.execute(
        "CREATE TABLE records AS " + model.PREPARE_SQL.format(source=model.source_sql("frame", ()))
    )
    linker = Linker("records", str(result.model_path), DuckDBAPI(con), set_up_basic_logging=False)
    scored = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    assert len(scored) > 0
    assert trained["probability_two_random_records_match"] == pytest.approx(result.prior)


def test_relinking_with_the_saved_model_gives_the_same_clusters(linked, tmp_path):
    trained = pipeline.load_model(linked.result.model_path)
    again = pipeline.link(linked.frame, workdir=tmp_path, trained=trained)
    assert again.clusters.equals(linked.result.clusters)
    assert json.loads(again.metadata_path.read_text())["trained_in_this_run"] is False


def test_public_train_predict_cluster_compose(small_borough):
    _, frame, truth = small_borough
    trained = training.train(frame)
    predictions = pipeline.predict(frame, trained, threshold=0.5)
    clusters = pipeline.cluster(predictions, frame, threshold=pipeline.CLUSTER_THRESHOLD)
    scores = evaluate.cluster_scores(clusters, truth)
    assert scores["cluster_pairs"]["f1"] >= CLUSTER_F1_FLOOR


def test_input_without_a_contract_column_is_refused(small_borough):
    _, frame, _ = small_borough
    with pytest.raises(ValueError, match="uprn"):
        training.train(frame.drop(columns=["uprn"]))


def test_duplicate_unique_ids_are_refused(small_borough):
    _, frame, _ = small_borough
    with pytest.raises(ValueError, match="duplicate"):
        training.train(pd.concat([frame, frame.head(3)]))


def test_link_takes_the_arrow_table_records_for_linkage_returns(small_borough, tmp_path):
    from borough.residents.queries import LINKAGE_SCHEMA

    _, frame, truth = small_borough
    table = pa.Table.from_pandas(frame, schema=LINKAGE_SCHEMA, preserve_index=False)
    result = pipeline.link(table, workdir=tmp_path)
    assert (
        evaluate.cluster_scores(result.clusters, truth)["cluster_pairs"]["f1"] >= CLUSTER_F1_FLOOR
    )
