"""Evaluation arithmetic on a hand-made example."""

from __future__ import annotations

import pandas as pd
import pytest

from borough.residents.linkage.evaluate import cluster_scores, evaluate, pairwise_scores, true_pairs

# Person 1 has records a, b, c; person 2 has d, e; person 3 has f.
TRUTH = pd.DataFrame({"unique_id": list("abcdef"), "person_id": [1, 1, 1, 2, 2, 3]})
# True pairs: ab, ac, bc (person 1) + de (person 2) = 4.
PREDICTIONS = pd.DataFrame(
    {
        "unique_id_l": ["a", "a", "b", "c", "d"],
        "unique_id_r": ["b", "c", "c", "d", "f"],
        "match_probability": [0.99, 0.85, 0.4, 0.95, 0.7],
    }
)
# Clusters: {a, b, c, d} {e} {f}
CLUSTERS = pd.DataFrame({"unique_id": list("abcdef"), "cluster_id": list("aaaaef")})


def test_true_pairs_are_counted_per_person():
    assert true_pairs(TRUTH) == 4
    assert true_pairs(TRUTH, pd.Series(list("abde"))) == 2


def test_pairwise_scores_at_a_threshold():
    # at 0.8: ab (right), ac (right), cd (wrong) -> 2 of 3 predicted, 2 of 4 true
    s = pairwise_scores(PREDICTIONS, TRUTH, 0.8)
    assert (s.predicted, s.correct, s.true) == (3, 2, 4)
    assert s.precision == pytest.approx(2 / 3)
    assert s.recall == pytest.approx(0.5)
    assert s.f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    # at 0.3 every pair counts: ab, ac, bc right; cd, df wrong
    s = pairwise_scores(PREDICTIONS, TRUTH, 0.3)
    assert (s.predicted, s.correct) == (5, 3)


def test_cluster_scores():
    s = cluster_scores(CLUSTERS, TRUTH)
    # cluster {a,b,c,d}: C(4,2)=6 pairs predicted, 3 right (abc); e and f alone
    assert s["cluster_pairs"]["predicted"] == 6
    assert s["cluster_pairs"]["correct"] == 3
    assert s["cluster_pairs"]["true"] == 4
    assert s["cluster_pairs"]["precision"] == pytest.approx(0.5)
    assert s["cluster_pairs"]["recall"] == pytest.approx(0.75)
    assert s["cluster_pairs"]["f1"] == pytest.approx(0.6)
    # person 1 whole (but shares its cluster with d), person 2 split, person 3 exact
    assert s["people_whole"] == pytest.approx(2 / 3, abs=1e-5)
    assert s["people_exact"] == pytest.approx(1 / 3, abs=1e-5)
    assert s["people"] == 3 and s["clusters"] == 3


def test_perfect_linkage_scores_one():
    perfect = pd.DataFrame({"unique_id": list("abcdef"), "cluster_id": list("aaadde")})
    s = evaluate(PREDICTIONS.iloc[:0], perfect, TRUTH, 0.8)
    assert s["cluster_pairs"]["f1"] == 1.0
    assert s["people_exact"] == 1.0
    assert s["pairwise"]["recall"] == 0.0  # no predicted pairs at all
    assert s["pairwise"]["precision"] == 1.0


def test_clustered_record_missing_from_truth_is_an_error():
    clusters = pd.concat([CLUSTERS, pd.DataFrame({"unique_id": ["zz"], "cluster_id": ["zz"]})])
    with pytest.raises(ValueError, match="not in the truth"):
        cluster_scores(clusters, TRUTH)
