"""The matcher against the synthetic borough's ground truth."""

from collections import Counter

import pytest

from borough.housing.matching.engine import RentAccountMatcher
from borough.housing.matching.synthetic import SCENARIOS, generate


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_automatic_match_is_ever_wrong_and_most_are_automatic(seed):
    data = generate(6000, seed=seed)
    matches = RentAccountMatcher(data.accounts).match_lines(data.lines)
    accounts = {a.account_id: a for a in data.accounts}
    wrong = [
        (m, t, s)
        for m, t, s in zip(matches, data.truth, data.scenarios, strict=True)
        if m.auto and m.account_id != t
    ]
    assert wrong == []
    open_lines = [
        m for m, t in zip(matches, data.truth, strict=True) if t and accounts[t].end_date is None
    ]
    assert sum(m.auto for m in open_lines) / len(open_lines) >= 0.93


def test_lines_for_no_account_and_for_closed_accounts_go_to_suspense():
    data = generate(4000, seed=5)
    matches = RentAccountMatcher(data.accounts).match_lines(data.lines)
    for match, scenario in zip(matches, data.scenarios, strict=True):
        if scenario in ("none", "closed_account"):
            assert not match.auto


def test_generated_lines_cover_every_scenario_with_ground_truth():
    data = generate(5000, seed=3)
    assert len(data.lines) == len(data.truth) == len(data.scenarios) == 5000
    assert len(data.accounts) == 2500
    assert set(Counter(data.scenarios)) == set(SCENARIOS)
    assert all(
        (t is None) == (s == "none") for t, s in zip(data.truth, data.scenarios, strict=True)
    )
    references = [a.payment_reference for a in data.accounts]
    assert len(set(references)) == len(references)
    after_april_at_old_rent = [
        line
        for line, truth, scenario in zip(data.lines, data.truth, data.scenarios, strict=True)
        if scenario == "exact"
        and line.booking_date.month == 5
        and line.amount_pence
        not in {data.accounts[truth - 1].weekly_charge_pence * k for k in (1, 2, 4)}
        and line.amount_pence != round(data.accounts[truth - 1].weekly_charge_pence * 52 / 12)
    ]
    assert after_april_at_old_rent  # standing orders nobody updated


def test_generation_is_repeatable():
    assert generate(500, seed=9).lines == generate(500, seed=9).lines
