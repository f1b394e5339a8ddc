"""Rent payment matching: how fast, how many automatic, and never a wrong automatic match.

``size`` is the number of statement credits (default 100,000), matched against ``size // 2``
rent accounts from ``borough.housing.matching.synthetic`` (every line has its true account, or
none). Timed: building the matcher's index, and matching every line. Scored against the ground
truth:

- ``auto_share_of_open_account_lines``: lines whose true account is open, matched automatically
  (target at least 0.95); ``auto_share_of_lines_with_an_account`` counts payments to closed
  accounts too, which the matcher always leaves to an officer;
- ``wrong_auto``: automatic matches to an account other than the true one (target 0);
- ``suspense_share``; ``suspense_true_account_suggested``: suspense lines with a true account
  whose account is among the suggestions (first: ``..._first``);
- ``by_method`` and ``auto_share_by_scenario``.

Baseline in the same run: ``baseline_seconds``, a loop doing only a dict look-up of the last
word of each reference, so ``match_seconds / baseline_seconds`` is comparable across machines.
"""

from __future__ import annotations

import resource
import time
from collections import Counter
from collections.abc import Callable

from borough.housing.matching.engine import RentAccountMatcher
from borough.housing.matching.synthetic import generate

DEFAULT_SIZE = 100_000
SEED = 7


def run(size: int | None, progress: Callable[[str], None]) -> dict:
    size = size or DEFAULT_SIZE
    progress(f"generating {size:,} lines against {size // 2:,} accounts")
    started = time.perf_counter()
    data = generate(size, size // 2, seed=SEED)
    generate_seconds = time.perf_counter() - started

    progress("building the index")
    started = time.perf_counter()
    matcher = RentAccountMatcher(data.accounts)
    index_seconds = time.perf_counter() - started

    progress("matching")
    started = time.perf_counter()
    matches = matcher.match_lines(data.lines)
    match_seconds = time.perf_counter() - started

    progress("baseline: one dict look-up per line")
    by_reference = {a.payment_reference: a.account_id for a in data.accounts}
    started = time.perf_counter()
    found = 0
    for line in data.lines:
        words = line.reference.upper().split()
        found += words[-1] in by_reference if words else 0
    baseline_seconds = time.perf_counter() - started

    progress("scoring against the ground truth")
    accounts = {a.account_id: a for a in data.accounts}
    with_account = open_account = auto_open = auto_any = wrong = suspense = 0
    suspense_with_truth = suggested = suggested_first = 0
    by_method: Counter[str] = Counter()
    scenario_lines: Counter[str] = Counter()
    scenario_auto: Counter[str] = Counter()
    wrong_examples = []
    for match, truth, scenario, line in zip(
        matches, data.truth, data.scenarios, data.lines, strict=True
    ):
        by_method[match.method] += 1
        scenario_lines[scenario] += 1
        scenario_auto[scenario] += match.auto
        if match.auto and match.account_id != truth:
            wrong += 1
            if len(wrong_examples) < 5:
                wrong_examples.append(
                    {"reference": line.reference, "method": match.method, "scenario": scenario}
                )
        if not match.auto:
            suspense += 1
        if truth is None:
            continue
        with_account += 1
        auto_any += match.auto
        if accounts[truth].end_date is None:
            open_account += 1
            auto_open += match.auto
        if not match.auto:
            suspense_with_truth += 1
            ids = [s.account_id for s in match.suggestions]
            suggested += truth in ids
            suggested_first += bool(ids) and ids[0] == truth
    return {
        "lines": size,
        "accounts": len(data.accounts),
        "generate_seconds": round(generate_seconds, 3),
        "index_seconds": round(index_seconds, 3),
        "match_seconds": round(match_seconds, 3),
        "total_seconds": round(index_seconds + match_seconds, 3),
        "lines_per_second": round(size / match_seconds),
        "baseline_seconds": round(baseline_seconds, 4),
        "match_to_baseline_ratio": round(match_seconds / baseline_seconds, 1),
        "auto_share_of_open_account_lines": round(auto_open / open_account, 4),
        "auto_share_of_lines_with_an_account": round(auto_any / with_account, 4),
        "wrong_auto": wrong,
        "wrong_auto_examples": wrong_examples,
        "suspense_share": round(suspense / size, 4),
        "suspense_true_account_suggested": round(suggested / max(1, suspense_with_truth), 4),
        "suspense_true_account_suggested_first": round(
            suggested_first / max(1, suspense_with_truth), 4
        ),
        "by_method": dict(by_method.most_common()),
        "auto_share_by_scenario": {
            name: round(scenario_auto[name] / count, 4)
            for name, count in sorted(scenario_lines.items())
        },
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "targets_met": {
            "total_seconds_at_most_10": index_seconds + match_seconds <= 10,
            "auto_share_at_least_0_95": auto_open / open_account >= 0.95,
            "wrong_auto_is_0": wrong == 0,
        },
    }
