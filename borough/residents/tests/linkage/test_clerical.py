"""Officers' decisions override the model for the pairs they decided."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from borough.residents.linkage import pipeline
from borough.residents.linkage.clerical import (
    ClericalDecision,
    apply_decisions,
    decisions_from_rows,
)


def _relink(linked, tmp_path, decisions):
    trained = pipeline.load_model(linked.result.model_path)
    result = pipeline.link(linked.frame, workdir=tmp_path, trained=trained, decisions=decisions)
    return result, pd.read_parquet(result.predictions_path)


def _cluster_of(result, unique_id):
    clusters = result.clusters.set_index("unique_id")["cluster_id"]
    return clusters[unique_id]


def _edges(linked):
    p = linked.predictions
    return p[p["match_probability"] >= pipeline.CLUSTER_THRESHOLD]


def test_different_splits_a_cluster_joined_only_through_that_pair(linked, tmp_path):
    clusters = linked.result.clusters
    sizes = clusters.groupby("cluster_id").size()
    pair_cluster = sizes[sizes == 2].index[0]
    a, b = sorted(clusters.loc[clusters["cluster_id"] == pair_cluster, "unique_id"])

    result, predictions = _relink(linked, tmp_path, [ClericalDecision(b, a, "different")])

    assert _cluster_of(result, a) != _cluster_of(result, b)
    row = predictions[(predictions["unique_id_l"] == a) & (predictions["unique_id_r"] == b)]
    assert row["match_probability"].tolist() == [0.0]
    assert row["clerical_decision"].tolist() == ["different"]
    assert result.clerical_conflicts == []


def test_same_joins_records_the_model_never_paired(linked, tmp_path):
    clusters = linked.result.clusters
    sizes = clusters.groupby("cluster_id").size()
    singles = sorted(sizes[sizes == 1].index)[:2]
    a, b = singles
    scored = linked.predictions
    assert scored[(scored["unique_id_l"] == a) & (scored["unique_id_r"] == b)].empty

    result, predictions = _relink(linked, tmp_path, [ClericalDecision(a, b, "same")])

    assert _cluster_of(result, a) == _cluster_of(result, b)
    row = predictions[(predictions["unique_id_l"] == a) & (predictions["unique_id_r"] == b)]
    assert row["match_probability"].tolist() == [1.0]
    assert row["clerical_decision"].tolist() == ["same"]


def test_different_inside_a_triangle_is_reported_as_a_conflict(linked, tmp_path):
    edges = _edges(linked)
    pairs = set(zip(edges["unique_id_l"], edges["unique_id_r"], strict=True))
    triangle = next(
        (a, b, c)
        for a, b in sorted(pairs)
        for c in sorted({right for left, right in pairs if left == b})
        if (a, c) in pairs
    )
    a, b, _ = triangle

    result, _ = _relink(linked, tmp_path, [ClericalDecision(a, b, "different")])

    # A and B stay together through C: the decision is kept on the pair but flagged
    assert _cluster_of(result, a) == _cluster_of(result, b)
    assert result.clerical_conflicts == [ClericalDecision(a, b, "different")]


def test_decisions_update_add_and_ignore_unknown_records():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE records AS SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) "
        "AS t(rid, unique_id)"
    )
    con.execute(
        "CREATE TABLE predictions (unique_id_l VARCHAR, unique_id_r VARCHAR, "
        "match_weight DOUBLE, match_probability DOUBLE, mw_first_name DOUBLE, "
        "clerical_decision VARCHAR, rid_l INTEGER, rid_r INTEGER)"
    )
    con.execute("INSERT INTO predictions VALUES ('a', 'b', 5.0, 0.97, 3.0, NULL, 1, 2)")

    apply_decisions(
        con,
        [
            ClericalDecision("b", "a", "different"),
            ClericalDecision("a", "c", "same"),
            ClericalDecision("a", "zz", "same"),  # no such record any more
        ],
    )

    rows = con.execute(
        "SELECT unique_id_l, unique_id_r, match_probability, clerical_decision, rid_l, rid_r "
        "FROM predictions ORDER BY 1, 2"
    ).fetchall()
    assert rows == [("a", "b", 0.0, "different", 1, 2), ("a", "c", 1.0, "same", 1, 3)]


def test_latest_decision_for_a_pair_wins_whatever_its_order():
    decisions = decisions_from_rows(
        [("a", "b", "same"), ("c", "d", "same"), ("b", "a", "different")]
    )
    assert decisions == [
        ClericalDecision("c", "d", "same"),
        ClericalDecision("a", "b", "different"),
    ]


@pytest.mark.parametrize(("left", "right", "decision"), [("a", "a", "same"), ("a", "b", "maybe")])
def test_malformed_decisions_are_refused(left, right, decision):
    with pytest.raises(ValueError):
        ClericalDecision(left, right, decision)  # type: ignore[arg-type]
