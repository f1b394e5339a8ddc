"""The yardstick: Splink used out of the box, on unstandardised records.

This is what a council analyst gets by following Splink's tutorial on the raw exports
(``synth_input.raw_records_from_synth``): the library's ready-made comparisons for names,
date of birth, postcode and e-mail, the tutorial's blocking rules and training (the prior
from a deterministic rule with an assumed recall, u by random sampling, EM on first name and
surname and on date of birth), then connected components at the same threshold as ours. Our
model has to beat it on the same data in the same run (``bench/linkage.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import duckdb
import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.clustering import cluster_pairwise_predictions_at_threshold

Progress = Callable[[str], None]


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
            cl.PostcodeComparison("postcode"),
            cl.EmailComparison("email"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("date_of_birth"),
            block_on("postcode", "first_name"),
        ],
        retain_matching_columns=False,
    )


def link_out_of_the_box(
    raw: pd.DataFrame,
    *,
    threshold: float,
    progress: Progress | None = None,
    u_max_pairs: float = 5e6,
    seed: int = 42,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """(predictions at or above ``threshold``, clusters, seconds) for the raw records."""
    progress = progress or (lambda _: None)
    logging.getLogger("splink").setLevel(logging.WARNING)
    con = duckdb.connect(":memory:")
    con.execute("SET memory_limit = '3GB'")
    con.register("raw_input", raw)
    con.execute("CREATE TABLE raw_records AS SELECT * FROM raw_input")
    seconds: dict[str, float] = {}
    try:
        started = time.perf_counter()
        linker = Linker("raw_records", settings(), DuckDBAPI(con), set_up_basic_logging=False)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("first_name", "surname", "date_of_birth")], recall=0.7
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("first_name", "surname")
        )
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("date_of_birth")
        )
        seconds["train"] = time.perf_counter() - started
        progress(f"baseline trained in {seconds['train']:.1f}s")
        started = time.perf_counter()
        scored = linker.inference.predict(threshold_match_probability=threshold)
        predictions = (
            scored.as_duckdbpyrelation().select("unique_id_l, unique_id_r, match_probability").df()
        )
        seconds["predict"] = time.perf_counter() - started
        progress(f"baseline scored {len(predictions):,} pairs in {seconds['predict']:.1f}s")
        started = time.perf_counter()
        clusters = cluster_pairwise_predictions_at_threshold(
            "raw_records",
            scored,
            DuckDBAPI(con),
            node_id_column_name="unique_id",
            threshold_match_probability=threshold,
        ).as_pandas_dataframe()[["unique_id", "cluster_id"]]
        seconds["cluster"] = time.perf_counter() - started
        return predictions, clusters, seconds
    finally:
        con.close()
