"""The tuned Splink baseline (``baseline.tuned_settings``, ``baseline.link_tuned``) on the small
synthetic borough."""

from __future__ import annotations

import pandas as pd
import pytest

from borough.residents.linkage import baseline, evaluate, pipeline

# Measured on this borough (500 residents, seed 3, 1,336 records) with no UPRNs: pairwise F1
# 0.960 and cluster F1 0.984 at the 0.8 threshold. The floor leaves room for platform
# differences. The link took 17 s (15 s of it training) at a load average of 14 on the
# 2-core VM.
TUNED_PAIRWISE_F1_FLOOR = 0.9


def _comparisons(settings) -> dict[str, list[str]]:
    created = settings.get_settings("duckdb").as_dict()
    return {
        c["output_column_name"]: [level["sql_condition"] for level in c["comparison_levels"]]
        for c in created["comparisons"]
    }


def test_home_is_one_comparison_with_uprn_only_where_there_are_uprns():
    with_uprn = _comparisons(baseline.tuned_settings(with_uprn=True))
    without = _comparisons(baseline.tuned_settings(with_uprn=False))
    assert "postcode" not in with_uprn and "uprn" not in with_uprn
    assert any('"uprn_l" = "uprn_r"' in sql for sql in with_uprn["location"])
    assert not any("uprn" in sql for sql in without["location"])
    assert set(with_uprn) == {
        "first_name",
        "surname",
        "middle_names",
        "date_of_birth",
        "email",
        "location",
    }


def test_separate_location_variant_compares_postcode_and_address_apart():
    separate = _comparisons(baseline.tuned_settings(with_uprn=True, location="separate"))
    assert {"postcode", "address_text", "uprn"} <= set(separate)
    with pytest.raises(ValueError):
        baseline.tuned_settings(location="nowhere")


def test_tuned_baseline_links_the_small_borough_without_uprns(small_borough):
    _, frame, truth = small_borough
    frame = frame.assign(uprn=pd.array([None] * len(frame), dtype="Int64"))
    threshold = pipeline.CLUSTER_THRESHOLD
    predictions, clusters, seconds = baseline.link_tuned(frame, threshold=threshold)
    assert set(seconds) == {"train", "predict", "cluster"}
    assert sorted(clusters["unique_id"]) == sorted(frame["unique_id"])
    assert (predictions["match_probability"] >= threshold).all()
    scores = evaluate.evaluate(predictions, clusters, truth, threshold)
    assert scores["pairwise"]["f1"] >= TUNED_PAIRWISE_F1_FLOOR
    # records that agree on every standardised field are one person
    key = ["first_name", "surname", "date_of_birth", "postcode", "address_text"]
    twins = frame.dropna(subset=key)
    twins = twins[twins.duplicated(key, keep=False)]
    assert len(twins) > 0
    cluster_of = clusters.set_index("unique_id")["cluster_id"]
    per_group = twins.assign(cluster=twins["unique_id"].map(cluster_of)).groupby(key)["cluster"]
    assert (per_group.nunique() == 1).all()
