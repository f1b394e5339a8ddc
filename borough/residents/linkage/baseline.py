"""The yardsticks: Splink out of the box on unstandardised records, and Splink tuned by a
skilled analyst on our standardised records.

**Out of the box** (``settings``, ``link_out_of_the_box``): what a council analyst gets by
following Splink's tutorial on the raw exports (``synth_input.raw_records_from_synth``): the
library's ready-made comparisons for names, date of birth, postcode and e-mail, the tutorial's
blocking rules and training (the prior from a deterministic rule with an assumed recall, u by
random sampling, EM on first name and surname and on date of birth), then connected
components at the same threshold as ours.

**Tuned** (``tuned_settings``, ``link_tuned``): the model a skilled analyst would build with
Splink 4's comparison and comparison-level libraries in an afternoon, given the SAME
standardised linkage frame our model gets (``model.LINKAGE_COLUMNS``: cleaned names, the
canonical first name for nicknames, ISO dates of birth, normalised postcodes, cleaned address
text, UPRN where the council has a gazetteer), so that the comparison is of models, not of
standardisation:

- first name: exact (term-frequency adjusted), same canonical name (nicknames),
  Jaro-Winkler >= 0.92 / 0.88 / 0.7; surname: exact (term-frequency adjusted),
  Jaro-Winkler >= 0.92 / 0.88 / 0.7; middle names: exact, same initial;
- ``DateOfBirthComparison`` (string input) and ``EmailComparison`` as the library gives them;
- where the person lives as ONE comparison, because UPRN, postcode and address text are
  the same evidence three times over: same UPRN (only when the frame has UPRNs), same
  postcode and address, same postcode and first number (house or flat) with address
  Jaro-Winkler >= 0.9, same first number and address Jaro-Winkler >= 0.95 whatever the
  postcode (a mistyped or missing postcode), same postcode, same postcode sector, other;
- the same blocking rules as our model at a million records (first name and surname, date of
  birth, UPRN, postcode and first name, postcode and surname, e-mail);
- training the standard way: the prior from exact first name, surname and date of birth with
  an assumed recall of 0.3 (many sources hold no date of birth), u by random sampling
  (5e6 pairs, fixed seed), EM on first name and surname and on date of birth; then connected
  components at the same threshold as ours. No ground truth is used in training.

Variants tried on the benchmark's 100,529-record borough (seed 1), chosen between by their
pairwise F1 at 0.8 against the ground truth (the choice an analyst could make with a few
hundred clerically reviewed pairs; the labels never enter training). No gazetteer unless
said; recall 0.7 until a line changes it; a line in parentheses changes the line above
it, the others build on the last line not in parentheses:

| variant | pairwise F1 |
| --- | ---: |
| postcode (``PostcodeComparison``), address text (exact, first number and JW >= 0.9, JW >= 0.9, JW >= 0.8) and UPRN (where there are UPRNs) as separate comparisons; ``location="separate"`` | 0.80945 |
| (same, address text as exact or same first number only) | 0.86525 |
| (same, no address text comparison, postcode only) | 0.95374 |
| postcode and address as one comparison (as shipped but no cross-postcode level) | 0.95292 |
| (same, no term-frequency adjustments) | 0.93520 |
| (same, name Jaro-Winkler levels 0.92 and 0.88 only) | 0.94310 |
| (same, recall 0.9) | 0.95207 |
| + same first number and address JW >= 0.95 whatever the postcode | 0.95657 |
| (same, no term frequencies on surname) | 0.94957 |
| (same, term-frequency weight 0.5) | 0.94880 |
| (same, third EM block: postcode and first name) | 0.95677 |
| (same, first name and surname as one comparison with tf on the full name) | 0.92479 |
| recall 0.5 | 0.95741 |
| (same, no middle names comparison) | 0.95317 |
| recall 0.3 (shipped; cluster F1 0.96410 against 0.96694 at 0.5) | **0.95778** |

With UPRNs (the gazetteer), recall 0.5: UPRN as the top level of the location comparison
0.95943, as a separate exact-match comparison 0.87090; everything separate (the first line,
recall 0.7) 0.59927. Separate comparisons count a household's shared home two or three times
over, and relatives sharing a surname and a home then outscore a different first name.

It was tuned at 100k only. At 1,010,768 records with no gazetteer it falls to pairwise F1
0.93240 (precision 0.92249; ``bench/RESULTS.md``, 2026-12-07): EM on the first name and
surname block, with ten times the namesakes, learns that 4.4 % of matches have unrelated
dates of birth (0.7 % in a recall-0.7 variant at 100k), so a different date of birth no longer keeps namesakes and
relatives apart. Not tuned further (no variant was tried at 1M).

Our model has to beat both on the same data in the same run (``bench/linkage.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import duckdb
import pandas as pd
import splink.comparison_level_library as cll
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
        return _predict_and_cluster(
            linker, con, "raw_records", threshold, "baseline", progress, seconds
        )
    finally:
        con.close()


#: The columns of the linkage frame the tuned baseline reads: the contract
#: (``model.LINKAGE_COLUMNS``) less the dataset and the phone number (households share
#: landlines).
TUNED_COLUMNS = (
    "unique_id",
    "first_name",
    "first_name_canonical",
    "middle_names",
    "surname",
    "date_of_birth",
    "postcode",
    "uprn",
    "address_text",
    "email",
)

# The table the tuned model links: the frame's columns with blanks as nulls, and the first
# number in the address (the house or flat number) derived for the address levels.
_PREPARE_TUNED = """
create table tuned_records as
select
    cast(unique_id as varchar) as unique_id,
    nullif(first_name, '') as first_name,
    nullif(coalesce(first_name_canonical, first_name), '') as first_name_canonical,
    nullif(middle_names, '') as middle_names,
    nullif(surname, '') as surname,
    nullif(cast(date_of_birth as varchar), '') as date_of_birth,
    nullif(postcode, '') as postcode,
    try_cast(uprn as bigint) as uprn,
    nullif(address_text, '') as address_text,
    nullif(regexp_extract(address_text, '[0-9]+[a-z]?'), '') as first_number,
    nullif(email, '') as email
from tuned_input
"""

_SECTOR = "regexp_extract(\"postcode_{side}\", '^[A-Z]{{1,2}}[0-9][A-Z0-9]? [0-9]')"


def _location(*, with_uprn: bool) -> cl.CustomComparison:
    """UPRN, postcode and address text as one comparison (they are one piece of evidence)."""
    same_postcode = cll.ExactMatchLevel("postcode")
    return cl.CustomComparison(
        [
            cll.And(cll.NullLevel("postcode"), cll.NullLevel("address_text")),
            *(
                [cll.ExactMatchLevel("uprn").configure(label_for_charts="Same UPRN")]
                if with_uprn
                else []
            ),
            cll.And(same_postcode, cll.ExactMatchLevel("address_text")).configure(
                label_for_charts="Same postcode and address"
            ),
            cll.And(
                same_postcode,
                cll.ExactMatchLevel("first_number"),
                cll.JaroWinklerLevel("address_text", 0.9),
            ).configure(label_for_charts="Same postcode and number, address JW >= 0.9"),
            cll.And(
                cll.ExactMatchLevel("first_number"), cll.JaroWinklerLevel("address_text", 0.95)
            ).configure(label_for_charts="Same number, address JW >= 0.95, any postcode"),
            cll.ExactMatchLevel("postcode").configure(label_for_charts="Same postcode"),
            cll.CustomLevel(
                f"{_SECTOR.format(side='l')} = {_SECTOR.format(side='r')}", "Same postcode sector"
            ),
            cll.ElseLevel(),
        ],
        output_column_name="location",
        comparison_description="UPRN, postcode and address text together",
    )


def _separate_location(*, with_uprn: bool) -> list:
    """The first variant tried: postcode, address text and UPRN as separate comparisons."""
    address = cl.CustomComparison(
        [
            cll.NullLevel("address_text"),
            cll.ExactMatchLevel("address_text"),
            cll.And(
                cll.ExactMatchLevel("first_number"), cll.JaroWinklerLevel("address_text", 0.9)
            ).configure(label_for_charts="Same number, address JW >= 0.9"),
            cll.JaroWinklerLevel("address_text", 0.9),
            cll.JaroWinklerLevel("address_text", 0.8),
            cll.ElseLevel(),
        ],
        output_column_name="address_text",
    )
    return [
        cl.PostcodeComparison("postcode"),
        address,
        *([cl.ExactMatch("uprn")] if with_uprn else []),
    ]


def tuned_settings(
    *,
    with_uprn: bool = True,
    term_frequencies: bool = True,
    location: str = "combined",
) -> SettingsCreator:
    """The tuned Splink settings for the linkage frame (see the module docstring).
    ``with_uprn``: the frame has UPRNs (a gazetteer); ``location``: ``"combined"`` (shipped)
    or ``"separate"`` (the first variant in the docstring's table)."""

    def tf(level: cll.ExactMatchLevel, column: str) -> cll.ExactMatchLevel:
        return level.configure(tf_adjustment_column=column) if term_frequencies else level

    jaro_winkler = (0.92, 0.88, 0.7)
    comparisons = [
        cl.CustomComparison(
            [
                cll.NullLevel("first_name"),
                tf(cll.ExactMatchLevel("first_name"), "first_name"),
                cll.ExactMatchLevel("first_name_canonical").configure(
                    label_for_charts="Same canonical first name (nickname)"
                ),
                *[cll.JaroWinklerLevel("first_name", t) for t in jaro_winkler],
                cll.ElseLevel(),
            ],
            output_column_name="first_name",
        ),
        cl.CustomComparison(
            [
                cll.NullLevel("surname"),
                tf(cll.ExactMatchLevel("surname"), "surname"),
                *[cll.JaroWinklerLevel("surname", t) for t in jaro_winkler],
                cll.ElseLevel(),
            ],
            output_column_name="surname",
        ),
        cl.CustomComparison(
            [
                cll.NullLevel("middle_names"),
                cll.ExactMatchLevel("middle_names"),
                cll.CustomLevel(
                    'substr("middle_names_l", 1, 1) = substr("middle_names_r", 1, 1)',
                    "Same initial",
                ),
                cll.ElseLevel(),
            ],
            output_column_name="middle_names",
        ),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
        cl.EmailComparison("email"),
    ]
    if location == "combined":
        comparisons.append(_location(with_uprn=with_uprn))
    elif location == "separate":
        comparisons.extend(_separate_location(with_uprn=with_uprn))
    else:
        raise ValueError(f"unknown location comparison {location!r}")
    blocking = [
        block_on("first_name_canonical", "surname"),
        block_on("date_of_birth"),
        *([block_on("uprn")] if with_uprn else []),
        block_on("postcode", "first_name_canonical"),
        block_on("postcode", "surname"),
        block_on("email"),
    ]
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


#: The assumed recall of the deterministic rule the prior is estimated from.
TUNED_RECALL = 0.3


def link_tuned(
    frame: pd.DataFrame,
    *,
    threshold: float,
    progress: Progress | None = None,
    u_max_pairs: float = 5e6,
    seed: int = 42,
    recall: float = TUNED_RECALL,
    **settings_options,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """(predictions at or above ``threshold``, clusters, seconds) for the linkage frame
    (``TUNED_COLUMNS`` of it). UPRN levels and blocking are used only if some record has a
    UPRN. ``settings_options`` go to ``tuned_settings``."""
    progress = progress or (lambda _: None)
    logging.getLogger("splink").setLevel(logging.ERROR)
    con = duckdb.connect(":memory:")
    con.execute("SET memory_limit = '3GB'")
    con.register("tuned_input", frame[list(TUNED_COLUMNS)])
    con.execute(_PREPARE_TUNED)
    con.unregister("tuned_input")
    with_uprn = con.execute("select count(uprn) from tuned_records").fetchone()[0] > 0
    seconds: dict[str, float] = {}
    try:
        started = time.perf_counter()
        settings_ = tuned_settings(with_uprn=with_uprn, **settings_options)
        linker = Linker("tuned_records", settings_, DuckDBAPI(con), set_up_basic_logging=False)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("first_name", "surname", "date_of_birth")], recall=recall
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("first_name_canonical", "surname")
        )
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("date_of_birth")
        )
        seconds["train"] = time.perf_counter() - started
        progress(f"tuned baseline trained in {seconds['train']:.1f}s")
        return _predict_and_cluster(
            linker, con, "tuned_records", threshold, "tuned baseline", progress, seconds
        )
    finally:
        con.close()


def _predict_and_cluster(
    linker: Linker,
    con: duckdb.DuckDBPyConnection,
    table: str,
    threshold: float,
    label: str,
    progress: Progress,
    seconds: dict[str, float],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Score a trained baseline's pairs and cluster ``table``'s records at ``threshold``:
    (predictions, clusters, ``seconds`` with predict and cluster added)."""
    started = time.perf_counter()
    scored = linker.inference.predict(threshold_match_probability=threshold)
    predictions = (
        scored.as_duckdbpyrelation().select("unique_id_l, unique_id_r, match_probability").df()
    )
    seconds["predict"] = time.perf_counter() - started
    progress(f"{label} scored {len(predictions):,} pairs in {seconds['predict']:.1f}s")
    started = time.perf_counter()
    clusters = cluster_pairwise_predictions_at_threshold(
        table,
        scored,
        DuckDBAPI(con),
        node_id_column_name="unique_id",
        threshold_match_probability=threshold,
    ).as_pandas_dataframe()[["unique_id", "cluster_id"]]
    seconds["cluster"] = time.perf_counter() - started
    return predictions, clusters, seconds
