"""Training the linkage model: u probabilities from random pairs, m probabilities by EM on a
sample of the records, levels no pair fell into given a value the run reports, and every m
floored so that one unseen level cannot outweigh all other evidence."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from splink import Linker

from borough.residents.linkage import model as linkage_model
from borough.residents.linkage.backends import (
    Backend,
    DuckDBBackend,
    SparkBackend,
)
from borough.residents.linkage.session import (
    Frame,
    LinkSession,
    Progress,
    quiet,
    silence_splink,
)

# Records in the training sample, and random pairs for the u probabilities.
TRAINING_SAMPLE = 200_000
U_MAX_PAIRS = 5_000_000
# m for a level that no EM training pair fell into, and the floor for every m: EM drives
# the m of a level it never sees among matches to ~1e-30, a weight of -100 bits that no
# other evidence can outweigh.
M_FLOOR = 1e-5
SEED = 42


def _fill_missing(model: dict[str, Any], key: str, value: float) -> list[str]:
    """Set ``key`` to ``value`` on every non-null level that lacks it; return their names."""
    filled = []
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level") and not level.get(key):
                level[key] = value
                filled.append(f"{comparison['output_column_name']}: {level['label_for_charts']}")
    return filled


def _levels_in_short(levels: list[str]) -> str:
    """``["email: Exact", "email: All other comparisons", "first_name: …"]`` as
    ``"3 levels (email 2, first_name 1)"``: one short progress line, whatever the data."""
    counts: dict[str, int] = {}
    for level in levels:
        comparison = level.split(":", 1)[0]
        counts[comparison] = counts.get(comparison, 0) + 1
    each = ", ".join(f"{name} {n}" for name, n in counts.items())
    return f"{len(levels)} level{'s' if len(levels) != 1 else ''} ({each})"


def _floor_m(model: dict[str, Any]) -> None:
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level"):
                level["m_probability"] = max(level["m_probability"], M_FLOOR)


def train_on_session(
    s: LinkSession,
    *,
    progress: Progress,
    backend: Backend | None = None,
    sample_size: int,
    u_max_pairs: float,
    term_frequencies: bool,
    seed: int,
) -> dict[str, Any]:
    silence_splink()
    n = s.records
    # A uniform sample of records is a uniform sample of pairs: u and the share of matching
    # pairs are the same in it as in the whole table. Hashing the id makes the sample
    # independent of row order.
    if n > sample_size:
        s.con.execute(
            "CREATE OR REPLACE TABLE training_records AS SELECT * FROM records "
            "ORDER BY hash(unique_id || ?) LIMIT ?",
            [str(seed), int(sample_size)],
        )
        table, used = "training_records", int(sample_size)
    else:
        table, used = "records", n
    progress(f"training on {used:,} of {n:,} records")
    backend = backend or DuckDBBackend(s)
    api = backend.api()
    source = backend.source(table)
    settings = linkage_model.for_dialect(
        linkage_model.settings(term_frequencies=term_frequencies, link_only=s.link_only),
        backend.name,
    )
    linker = Linker(source, settings, api, set_up_basic_logging=False)
    pairs = min(u_max_pairs, used * (used - 1) / 2)
    started = time.perf_counter()
    linker.training.estimate_u_using_random_sampling(max_pairs=pairs, seed=seed)
    progress(f"u from {pairs:,.0f} random pairs in {time.perf_counter() - started:.1f}s")
    # A level no random pair fell into (a shared home AND a similar surname, at a million
    # records) would otherwise keep Splink's default u, far too large: give it the rate of
    # one pair in the sample, an overestimate that errs against linking.
    model = linker.misc.save_model_to_json()
    unseen = _fill_missing(model, "u_probability", 1.0 / pairs)
    if unseen:
        progress(f"u: no random pair in {_levels_in_short(unseen)}: set to 1/{pairs:,.0f}")
    linker = Linker(source, model, api, set_up_basic_logging=False)
    for rule in linkage_model.blocking_rules(
        linkage_model.TRAINING_BLOCKING_RULES, link_only=s.link_only
    ):
        started = time.perf_counter()
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule if backend.name == "duckdb" else linkage_model.spark_sql(rule),
            estimate_without_term_frequencies=True,
            populate_probability_two_random_records_match_from_trained_values=True,
        )
        progress(f"EM on [{rule}] in {time.perf_counter() - started:.1f}s")
    trained = linker.misc.save_model_to_json()
    unseen = _fill_missing(trained, "m_probability", M_FLOOR)
    if unseen:
        progress(f"m: no training pair in {_levels_in_short(unseen)}: set to {M_FLOOR}")
    _floor_m(trained)
    linker.table_management.delete_tables_created_by_splink_from_db()
    if table == "training_records":
        s.con.execute("DROP TABLE training_records")
        if isinstance(backend, SparkBackend):
            backend.forget(table)
    progress(f"prior from EM: {trained['probability_two_random_records_match']:.3g}")
    # the model is kept and saved as DuckDB SQL whichever backend trained it
    return linkage_model.for_dialect(trained, "duckdb")


def train(
    df: Frame,
    *,
    progress: Progress | None = None,
    workdir: Path | None = None,
    sample_size: int = TRAINING_SAMPLE,
    u_max_pairs: float = U_MAX_PAIRS,
    term_frequencies: bool = True,
    seed: int = SEED,
) -> dict[str, Any]:
    """The trained model (the Splink settings dict) for the records in ``df``.

    u probabilities come from random pairs; m probabilities from EM on blocks that do not
    fix the household (``model.TRAINING_BLOCKING_RULES``), on a uniform sample of at most
    ``sample_size`` records; the prior (probability two random records match) from those
    EM sessions. ``predict`` and ``link`` calibrate the prior on the pairs they score."""
    s = LinkSession(workdir)
    try:
        s.load(df)
        return train_on_session(
            s,
            progress=progress or quiet,
            sample_size=sample_size,
            u_max_pairs=u_max_pairs,
            term_frequencies=term_frequencies,
            seed=seed,
        )
    finally:
        s.close()
