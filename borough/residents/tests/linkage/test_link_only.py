"""Link-only datasets: no pair within one, every pair across (``model.LINK_ONLY_COLUMN``)."""

from __future__ import annotations

import pandas as pd

from borough.residents.linkage import model, pipeline


def _dataset_of(unique_id: pd.Series) -> pd.Series:
    return unique_id.str.split(":").str[0]


def _within(predictions: pd.DataFrame, dataset: str) -> pd.DataFrame:
    left, right = _dataset_of(predictions["unique_id_l"]), _dataset_of(predictions["unique_id_r"])
    return predictions[(left == dataset) & (right == dataset)]


def test_a_link_only_datasets_records_are_never_paired_with_each_other(linked, tmp_path):
    frame = linked.frame
    trained = pipeline.load_model(linked.result.model_path)  # scoring is what is tested
    # the electoral register, copied with every record twice: a dataset that pairs with itself
    register = frame[frame["source_dataset"] == "electoral_register"]
    twice = register.assign(unique_id=register["unique_id"] + "-again")
    records = pd.concat([frame, twice], ignore_index=True)

    plain = pipeline.link(records, workdir=tmp_path / "plain", trained=trained)
    plain_pairs = pd.read_parquet(plain.predictions_path)
    # without the flag, each copy pairs with its original (and relatives' records with each other)
    assert len(_within(plain_pairs, "electoral_register")) >= len(register)

    flagged = records.assign(
        **{model.LINK_ONLY_COLUMN: records["source_dataset"] == "electoral_register"}
    )
    run = pipeline.link(flagged, workdir=tmp_path / "link-only", trained=trained)
    pairs = pd.read_parquet(run.predictions_path)
    assert _within(pairs, "electoral_register").empty
    # records of the other datasets still pair among themselves and with the register's
    assert not _within(pairs, "council_tax").empty
    across = pairs[
        (_dataset_of(pairs["unique_id_l"]) == "electoral_register")
        != (_dataset_of(pairs["unique_id_r"]) == "electoral_register")
    ]
    assert len(across) > 0
    meta = pipeline.load_model(run.metadata_path)
    assert meta["link_only_datasets"] == ["electoral_register"]
    assert all(model.LINK_ONLY_CONDITION in rule for rule in meta["prediction_blocking_rules"])
    # a frame without the column (or with no link-only record) keeps the rules as they were
    assert pipeline.load_model(plain.metadata_path)["prediction_blocking_rules"] == (
        model.PREDICTION_BLOCKING_RULES
    )


def test_the_link_only_rules_translate_for_spark():
    spark = model.for_dialect(model.settings(link_only=True), "spark")
    rules = [r["blocking_rule"] for r in spark["blocking_rules_to_generate_predictions"]]
    assert all("coalesce(l.`link_only_dataset` <> r.`link_only_dataset`, true)" in r for r in rules)
    back = model.for_dialect(spark, "duckdb")
    assert (
        back["blocking_rules_to_generate_predictions"]
        == (model.settings(link_only=True)["blocking_rules_to_generate_predictions"])
    )
