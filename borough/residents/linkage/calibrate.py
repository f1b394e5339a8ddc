"""Calibration: what each link run estimates on its own scored pairs.

Splink scores the pairs with the trained m and u. Three things are then estimated on those
scored pairs, with m and u held fixed, because they depend on the population being linked
(its size and make-up) rather than on how records of one person differ:

- the prior (probability that two random records match);
- the weights of the household-move evidence (``model.HOUSEHOLD_MOVES_SQL``): whether another
  person made the same move between the pair's two homes;
- the weights of the periods evidence (same SQL): whether one record's period ends when the
  other's begins (within a day, within a month, or not).

``calibrate`` reads the tables ``scored_pairs`` (``rid_l``, ``rid_r``, ``match_weight``),
``household_moves`` (``rid_l``, ``rid_r``, ``moved_with``, ``periods_meet``,
``same_first_name``) and ``periods_chance`` (``meet_pairs``, ``close_pairs``, ``pairs``) on
the connection.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import numpy as np

Progress = Callable[[str], None]

# Pairs whose comparisons alone settle their class, for measuring the move evidence.
SURE_MATCH = 0.95
SURE_NON_MATCH = 0.05
# EM on the move evidence's m: it settles in under 30 iterations on the boroughs measured
EM_MAX_ITERATIONS = 500
EM_TOLERANCE = 1e-9

# The levels of each piece of move evidence, most telling first. A pair's value in
# ``household_moves`` is the level's position counted from the end (so 0 is the last level);
# a pair without the evidence (not at two known homes, a record with no dates) is null.
HOUSEHOLD_LEVELS = ("moved with another person", "no one else moved")
PERIODS_LEVELS = ("meet within a day", "meet within a month", "do not meet")


def logit2(p: float) -> float:
    """log2 of the odds of ``p``: the match weight of a probability."""
    return math.log2(p / (1 - p))


@dataclass(frozen=True)
class Evidence:
    """One piece of move evidence: for each level, most telling first, its share among
    matches (m) and among non-matches (u) where the evidence is known."""

    m: tuple[float, ...]
    u: tuple[float, ...]

    @property
    def weights(self) -> tuple[float, ...]:
        """Bits each level adds to a pair's match weight."""
        return tuple(math.log2(m / u) for m, u in zip(self.m, self.u, strict=True))


@dataclass(frozen=True)
class Calibration:
    """What each run estimates on its own scored pairs (see ``calibrate``)."""

    prior: float  # probability that two random records match
    household: Evidence | None = None  # None: no pair at two known homes
    periods: Evidence | None = None  # None: no pair of dated records at two homes

    @property
    def move_weights(self) -> tuple[float, ...]:
        """Bits added when another person made the same move, and when not."""
        return self.household.weights if self.household else (0.0,) * len(HOUSEHOLD_LEVELS)

    @property
    def periods_weights(self) -> tuple[float, ...]:
        """Bits added when the periods meet within a day, within a month, and not."""
        return self.periods.weights if self.periods else (0.0,) * len(PERIODS_LEVELS)


def calibrate(
    con: duckdb.DuckDBPyConnection, records: int, prior: float, progress: Progress
) -> Calibration:
    """The prior and the move evidence, estimated on the scored pairs with the Splink
    comparisons' m and u held fixed.

    The prior: EM's estimate from training moves with the random pairs drawn for u (two- or
    three-fold between seeds). Given m and u it has a self-consistent value: the expected
    number of matching pairs (the sum of the scored pairs' match probabilities; pairs never
    scored add next to nothing) over all pairs. Iterating to that fixed point is EM for the
    prior alone.

    Each piece of move evidence (``model.HOUSEHOLD_MOVES_SQL``: another person made the same
    move; the periods meet) gets an m and a u per level, the way Splink weighs a comparison;
    the two are weighted independently of each other, as Splink's comparisons are.

    - u of the periods is counted over all pairs of dated records at two homes, as Splink
      estimates u from random pairs (``periods_chance``);
    - u of the household flag is the flagged share among namesakes (same first name) at two
      homes whose evidence, the periods included, puts them at p <= 0.05. Namesakes, because
      relatives with different first names who moved together carry the flag by
      construction; the periods included, because the pairs at p <= 0.05 on the comparisons
      alone hold weak true matches (a council tax account with no date of birth), and those
      moved with their household far more often;
    - m of each starts from the pairs the comparisons alone put at p >= 0.95, then is
      re-estimated by EM together with the prior, every u held fixed (as Splink trains m and
      the prior with u from random pairs). The settled matches are records with a date of
      birth (tenancies, claims), whose periods meet less often than council tax accounts'.
      EM on u as well is degenerate: flagged non-matches pulled up to matches drive it
      towards zero (0.0002 against a true 0.004 on a 100,000-record borough)."""
    data = con.execute(
        "SELECT p.match_weight, coalesce(h.moved_with, -1) AS moved_with, "
        "coalesce(h.periods_meet, -1) AS periods_meet, "
        "coalesce(h.same_first_name, 0) AS same_first_name FROM scored_pairs p "
        "LEFT JOIN household_moves h ON h.rid_l = p.rid_l AND h.rid_r = p.rid_r"
    ).fetchnumpy()
    evidence = np.asarray(data["match_weight"], dtype=np.float64) - logit2(prior)
    moved = np.asarray(data["moved_with"], dtype=np.int64)
    meet = np.asarray(data["periods_meet"], dtype=np.int64)
    namesake = np.asarray(data["same_first_name"], dtype=np.int64)
    n_scored = len(evidence)
    # Only sums over pairs are needed: group the pairs into 1/64-bit bins of evidence per
    # value of the move evidence (0.01 bit of error at most) so that the fixed points can be
    # iterated tightly and cheaply; a re-run with the saved model then lands on the same values.
    key = (np.round(evidence * 64).astype(np.int64) * 3 + (moved + 1)) * 4 + (meet + 1)
    keys, index, counts = np.unique(key * 2 + namesake, return_inverse=True, return_counts=True)
    evidence = np.bincount(index, weights=evidence) / counts
    namesake = keys % 2
    meet = (keys // 2) % 4 - 1
    moved = (keys // 8) % 3 - 1
    counts = counts.astype(np.float64)
    total_pairs = records * (records - 1) / 2

    def fixed_point(adjust: np.ndarray | float, lam: float) -> float:
        for _ in range(10_000):
            p = 1.0 / (1.0 + np.exp2(-(evidence + adjust + logit2(lam))))
            new = min(max(float((p * counts).sum()) / total_pairs, 1e-15), 0.5)
            if abs(new - lam) <= 1e-12 * lam:
                return new
            lam = new
        return lam

    def shares(value: np.ndarray, levels: int, weight: np.ndarray) -> tuple[float, ...]:
        """Each level's share of the pairs where the evidence is known, each pair weighted
        by ``weight``; add-one smoothed, so no level is ever 0 or 1."""
        known = counts * weight * (value >= 0)
        total = float(known.sum()) + levels
        return tuple(
            (float(known[value == levels - 1 - k].sum()) + 1) / total for k in range(levels)
        )

    def bits(value: np.ndarray, found: Evidence | None) -> np.ndarray:
        """Each pair's bits from one piece of evidence (0 where it is unknown)."""
        out = np.zeros(len(value))
        if found is not None:
            for k, w in enumerate(found.weights):
                out[value == len(found.m) - 1 - k] = w
        return out

    lam = fixed_point(0.0, prior)
    settled = 1.0 / (1.0 + np.exp2(-(evidence + logit2(lam))))
    sure_match = (settled >= SURE_MATCH).astype(np.float64)

    periods = None
    if (meet >= 0).any():
        meets, close, pairs = con.execute(
            "SELECT meet_pairs, close_pairs, pairs FROM periods_chance"
        ).fetchone()
        levels = len(PERIODS_LEVELS)
        u = ((meets + 1) / (pairs + levels), (close - meets + 1) / (pairs + levels))
        periods = Evidence(shares(meet, levels, sure_match), (*u, 1.0 - sum(u)))
    household = None
    if (moved >= 0).any():
        with_periods = evidence + logit2(lam) + bits(meet, periods)
        settled_non = 1.0 / (1.0 + np.exp2(-with_periods)) <= SURE_NON_MATCH
        household = Evidence(
            shares(moved, len(HOUSEHOLD_LEVELS), sure_match),
            shares(moved, len(HOUSEHOLD_LEVELS), (settled_non & (namesake == 1)) * 1.0),
        )

    total = bits(moved, household) + bits(meet, periods)
    iterations = 0
    while iterations < EM_MAX_ITERATIONS and (household or periods):
        iterations += 1
        lam = fixed_point(total, lam)
        p = 1.0 / (1.0 + np.exp2(-(evidence + total + logit2(lam))))
        old = (household, periods)
        if household:
            household = Evidence(shares(moved, len(HOUSEHOLD_LEVELS), p), household.u)
        if periods:
            periods = Evidence(shares(meet, len(PERIODS_LEVELS), p), periods.u)
        total = bits(moved, household) + bits(meet, periods)
        if all(
            a is None or max(abs(x - y) for x, y in zip(a.m, b.m, strict=True)) <= EM_TOLERANCE
            for a, b in zip(old, (household, periods), strict=True)
        ):
            break
    calibration = Calibration(fixed_point(total, lam), household, periods)
    progress(
        f"calibrated on {n_scored:,} scored pairs: prior {prior:.3g} -> "
        f"{calibration.prior:.3g}; household moved together / not "
        f"{_bits(calibration.move_weights)} ({int(counts[moved >= 0].sum()):,} pairs at two "
        f"homes); periods meet within a day / a month / not {_bits(calibration.periods_weights)}"
        f" ({int(counts[meet >= 0].sum()):,} of them dated); {iterations} EM iterations"
    )
    return calibration


def _bits(weights: tuple[float, ...]) -> str:
    return " / ".join(f"{w:+.1f}" for w in weights) + " bits"
