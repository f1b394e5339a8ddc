"""Move evidence: a record at one home that ends when another begins at a new home."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from borough.residents.linkage import model, pipeline

MEET, CLOSE = model.PERIODS_MEET_DAYS, model.PERIODS_CLOSE_DAYS


def _run(records: pd.DataFrame, periods: pd.DataFrame, pairs: list[tuple[int, int]]):
    """HOUSEHOLD_MOVES_SQL over hand-made records: (household_moves, periods_chance)."""
    con = duckdb.connect()
    con.register("records_in", records)
    con.execute(
        "CREATE TABLE records AS SELECT rid::INTEGER AS rid, first_name_canonical, "
        "uprn::BIGINT AS uprn, postcode, address_numbers FROM records_in"
    )
    con.register("periods_in", periods)
    con.execute(
        "CREATE TABLE periods AS SELECT rid::INTEGER AS rid, valid_from::DATE AS valid_from, "
        "valid_to::DATE AS valid_to FROM periods_in"
    )
    con.register("pairs_in", pd.DataFrame(pairs, columns=["rid_l", "rid_r"]))
    con.execute(
        "CREATE TABLE pairs AS SELECT rid_l::INTEGER rid_l, rid_r::INTEGER rid_r FROM pairs_in"
    )
    con.execute(
        model.HOUSEHOLD_MOVES_SQL.format(
            pairs="pairs", periods="periods", meet_days=MEET, close_days=CLOSE
        )
    )
    moves = con.execute("SELECT * FROM household_moves ORDER BY rid_l, rid_r").df()
    chance = con.execute("SELECT meet_pairs, close_pairs, pairs FROM periods_chance").fetchone()
    return moves, chance


def _records(uprns: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rid": range(1, len(uprns) + 1),
            "first_name_canonical": "sam",
            "uprn": uprns,
            "postcode": "E21 3AB",
            "address_numbers": [str(u) for u in uprns],
        }
    )


def test_periods_meet_when_one_record_ends_the_day_before_the_other_begins():
    records = _records([1, 2, 3, 4, 1, 6])
    periods = pd.DataFrame(
        {
            "rid": [1, 2, 3, 5, 6],
            "valid_from": ["2019-01-01", "2022-03-02", "2024-01-01", "2022-03-03", "2022-03-20"],
            "valid_to": ["2022-03-01", None, None, None, None],
        }
    )
    # 1-2: ends 1 March, begins 2 March (meet); 1-6: begins 19 days later (close); 1-3: years
    # apart; 1-4: 4 has no dates; 1-5: one home, so no move evidence at all
    moves, _ = _run(records, periods, [(1, 2), (1, 3), (1, 4), (1, 5), (1, 6)])
    homes = zip(moves.rid_l, moves.rid_r, strict=True)
    meet = dict(zip(homes, moves.periods_meet, strict=True))
    assert meet[(1, 2)] == 2
    assert meet[(1, 6)] == 1
    assert meet[(1, 3)] == 0
    assert pd.isna(meet[(1, 4)])
    assert (1, 5) not in meet


def test_the_chance_that_two_random_dated_records_meet_is_counted_exactly():
    rng = np.random.default_rng(7)
    n = 60
    uprns = rng.integers(1, 15, n).tolist()
    start = date(2020, 1, 1)
    froms = [start + timedelta(days=int(d)) for d in rng.integers(0, 400, n)]
    tos = [
        f + timedelta(days=int(d)) if rng.random() < 0.7 else None
        for f, d in zip(froms, rng.integers(0, 200, n), strict=True)
    ]
    records = _records(uprns)
    periods = pd.DataFrame({"rid": range(1, n + 1), "valid_from": froms, "valid_to": tos}).iloc[
        5:
    ]  # five records have no dates
    _, (meets, close, pairs) = _run(records, periods, [])
    dated = list(periods.itertuples(index=False))

    def within(a, b, days):
        return a is not None and b is not None and abs((a - b).days) <= days

    expected = {MEET: 0, CLOSE: 0}
    expected_pairs = 0
    for a, b in itertools.permutations(dated, 2):
        if uprns[a.rid - 1] != uprns[b.rid - 1]:
            for days in expected:  # a ends as b begins
                expected[days] += within(a.valid_to, b.valid_from, days)
    for a, b in itertools.combinations(dated, 2):
        expected_pairs += uprns[a.rid - 1] != uprns[b.rid - 1]
    assert 0 < expected[MEET] < expected[CLOSE]
    assert (meets, close, pairs) == (expected[MEET], expected[CLOSE], expected_pairs)


def test_linking_weighs_periods_that_meet_as_a_move(linked):
    bits = linked.result.periods_meet_bits
    assert len(bits) == 3
    assert bits[0] > 3 > 0 > bits[2]
    meta = pipeline.load_model(linked.result.metadata_path)
    assert meta["periods_meet"]["within_days"] == [MEET, CLOSE]
    assert meta["periods_meet"]["weights_bits"] == pytest.approx(list(bits))
    assert sum(meta["periods_meet"]["u"]) == pytest.approx(1)
    weights = set(linked.predictions["mw_periods_meet"].round(9))
    assert weights <= {0.0, *(round(b, 9) for b in bits)}
    assert round(bits[0], 9) in weights


def test_without_residence_dates_there_is_no_periods_evidence(small_borough, tmp_path):
    _, frame, _ = small_borough
    result = pipeline.link(frame[list(model.LINKAGE_COLUMNS)], workdir=tmp_path)
    assert result.periods_meet_bits == (0.0, 0.0, 0.0)
    predictions = pd.read_parquet(result.predictions_path)
    assert (predictions["mw_periods_meet"] == 0).all()
