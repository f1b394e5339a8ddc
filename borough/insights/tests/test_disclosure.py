"""Disclosure control: nothing published lets anyone work out a count below the threshold.

The attack (``attack.py``) is written apart from the code under test and sees only what was
published."""

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borough.insights.disclosure import (
    CONFIDENTIAL,
    DisclosureError,
    Rule,
    TableSpec,
    protect,
    protect_tables,
)
from borough.insights.tests.attack import hidden_ranges

RULE = Rule(threshold=10, round_to=5)


def _table(rows):
    return pd.DataFrame(
        rows,
        index=pd.Index([f"W{i}" for i in range(len(rows))], name="ward"),
        columns=pd.Index([f"B{j}" for j in range(len(rows[0]))], name="band"),
    )


def _assert_safe(published_tables, levels, rule=RULE):
    for _, frame in published_tables:
        for value in frame["count"]:
            assert value == CONFIDENTIAL or value == 0 or value >= rule.threshold
    for _, row, low, high in hidden_ranges(published_tables, levels, rule.round_to):
        assert high - low >= rule.threshold - 1e-6, (row.to_dict(), low, high)


def test_a_small_cell_is_hidden_and_cannot_be_worked_out_from_the_totals():
    table = _table([[12, 3, 20], [15, 14, 11], [30, 25, 40]])
    protected = protect(table, RULE)
    assert protected.published.loc["W0", "B1"] == CONFIDENTIAL
    # One hidden cell in a row would be its total less the others: a second is hidden.
    assert (protected.published.loc["W0"] == CONFIDENTIAL).sum() >= 2
    assert (protected.published["B1"] == CONFIDENTIAL).sum() >= 2
    assert protected.hidden_primary == 1 and protected.hidden_secondary >= 2
    levels = {"ward": list(table.index), "band": list(table.columns)}
    _assert_safe([(("ward", "band"), protected.long())], levels)


def test_published_counts_are_rounded_to_the_nearest_five_and_zero_is_shown():
    table = _table([[12, 0, 23], [17, 0, 40]])
    published = protect(table, RULE).published
    assert published.loc["W0", "B0"] == 10
    assert published.loc["W0", "B2"] == 25
    assert published.loc["W1", "B0"] == 15
    assert published.loc["W0", "B1"] == 0
    assert published.loc["Total", "Total"] == 90  # 92 rounded


def test_an_exact_rule_publishes_counts_as_they_are():
    published = protect(_table([[12, 13], [14, 40]]), Rule(threshold=10, round_to=1)).published
    assert published.loc["W0", "B1"] == 13
    assert published.loc["Total", "Total"] == 79


def test_two_tables_published_together_cannot_be_differenced():
    """By ward and band, and by zone and band, from the same permits: a cell hidden in one is
    not given away by the other."""
    counts = pd.DataFrame(
        [
            ("W1", "Z1", "A", 40),
            ("W1", "Z2", "A", 4),
            ("W2", "Z1", "A", 30),
            ("W1", "Z1", "B", 25),
            ("W2", "Z2", "B", 33),
            ("W2", "Z1", "B", 18),
        ],
        columns=["ward", "zone", "band", "count"],
    )
    specs = [TableSpec("by_ward", "ward", "band"), TableSpec("by_zone", "zone", "band")]
    tables = protect_tables(counts, specs, RULE)
    levels = {"ward": ["W1", "W2"], "zone": ["Z1", "Z2"], "band": ["A", "B"]}
    published = [(t.spec.dimensions, t.long()) for t in tables]
    by_zone = tables[1].published
    assert by_zone.loc["Z2", "A"] == CONFIDENTIAL
    _assert_safe(published, levels)


def test_a_one_way_table_hides_its_small_row_and_another():
    counts = pd.DataFrame({"ward": ["W1", "W2", "W3"], "count": [50, 4, 30]})
    table = protect_tables(counts, [TableSpec("arrears", "ward")], RULE)[0]
    column = table.published["count"]
    assert column["W2"] == CONFIDENTIAL
    assert (column == CONFIDENTIAL).sum() >= 2
    _assert_safe([(("ward",), table.long())], {"ward": ["W1", "W2", "W3"]})


def test_a_suppressor_that_skips_secondary_suppression_is_caught_before_anything_is_returned():
    def primary_only(problem, hidden, rule):
        return hidden

    with pytest.raises(DisclosureError, match="could be worked out"):
        protect(_table([[12, 3, 20], [15, 14, 11]]), RULE, suppressor=primary_only)


def test_a_suppressor_that_publishes_a_small_cell_is_refused():
    with pytest.raises(DisclosureError, match="below the threshold"):
        protect(_table([[12, 3], [15, 14]]), RULE, suppressor=lambda p, h, r: set())


@pytest.mark.parametrize("bad", [-1, 2.5, "many"])
def test_a_count_that_is_not_a_whole_number_is_refused(bad):
    counts = pd.DataFrame({"ward": ["W1", "W2"], "count": [12, bad]})
    with pytest.raises(DisclosureError, match="whole number"):
        protect_tables(counts, [TableSpec("t", "ward")], RULE)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(2, 4).flatmap(
        lambda n_rows: st.integers(2, 4).flatmap(
            lambda n_cols: st.lists(
                st.lists(
                    st.one_of(st.integers(0, 12), st.integers(10, 60)),
                    min_size=n_cols,
                    max_size=n_cols,
                ),
                min_size=n_rows,
                max_size=n_rows,
            )
        )
    )
)
def test_no_published_table_reveals_fewer_than_the_threshold(rows):
    """Unrounded, so the attacker knows every published count exactly."""
    exact = Rule(threshold=10, round_to=1)
    table = _table(rows)
    protected = protect(table, exact)
    levels = {"ward": list(table.index), "band": list(table.columns)}
    _assert_safe([(("ward", "band"), protected.long())], levels, exact)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.integers(0, 9), st.integers(10, 50)), min_size=8, max_size=8))
def test_no_pair_of_linked_tables_reveals_fewer_than_the_threshold(values):
    atoms = [(w, z, b) for w in ("W1", "W2") for z in ("Z1", "Z2") for b in ("A", "B")]
    counts = pd.DataFrame(
        [(*a, v) for a, v in zip(atoms, values, strict=True)],
        columns=["ward", "zone", "band", "count"],
    )
    specs = [TableSpec("w", "ward", "band"), TableSpec("z", "zone", "band")]
    tables = protect_tables(counts, specs, RULE)
    levels = {"ward": ["W1", "W2"], "zone": ["Z1", "Z2"], "band": ["A", "B"]}
    _assert_safe([(t.spec.dimensions, t.long()) for t in tables], levels)
