"""Calibration: what each link run estimates on its own scored pairs.

Splink scores the pairs with the trained m and u. Three things are then estimated on those
scored pairs, with m and u held fixed, because they depend on the population being linked
(its size and make-up) rather than on how records of one person differ:

- the prior (probability that two random records match);
- the weight of the household-move evidence (``model.HOUSEHOLD_MOVES_SQL``): whether another
  person made the same move between the pair's two homes;
- the weight of the periods evidence (same SQL): whether one record's period ends when the
  other's begins.

``calibrate`` reads the tables ``scored_pairs`` (``rid_l``, ``rid_r``, ``match_weight``) and
``household_moves`` (``rid_l``, ``rid_r``, ``moved_with``, ``periods_meet``) and
``periods_chance`` (``meeting_pairs``, ``pairs``) on the connection.
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
# EM on the move flags: it settles in under 30 iterations on the boroughs measured
EM_MAX_ITERATIONS = 500
EM_TOLERANCE = 1e-9


def logit2(p: float) -> float:
    """log2 of the odds of ``p``: the match weight of a probability."""
    return math.log2(p / (1 - p))


def _weights(m: float | None, u: float | None) -> tuple[float, float]:
    """Bits added by a yes/no piece of evidence with these m and u: (if yes, if no)."""
    if m is None or u is None:
        return 0.0, 0.0
    return math.log2(m / u), math.log2((1 - m) / (1 - u))


@dataclass(frozen=True)
class Calibration:
    """What each run estimates on its own scored pairs (see ``calibrate``)."""

    prior: float  # probability that two random records match
    move_m: float | None  # P(another person made the same move | match, two homes)
    move_u: float | None  # P(another person made the same move | non-match, two homes)
    periods_m: float | None = None  # P(periods meet | match, two homes, both dated)
    periods_u: float | None = None  # P(periods meet | non-match, two homes, both dated)

    @property
    def move_weights(self) -> tuple[float, float]:
        """Match weight (bits) added when another person made the same move, and when not."""
        return _weights(self.move_m, self.move_u)

    @property
    def periods_weights(self) -> tuple[float, float]:
        """Match weight (bits) added when the two records' periods meet, and when not."""
        return _weights(self.periods_m, self.periods_u)


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

    Each move flag (``model.HOUSEHOLD_MOVES_SQL``: another person made the same move; the
    periods meet) gets an m and a u, the way Splink weighs a comparison; the two are weighted
    independently of each other, as Splink's comparisons are.

    - u of the periods is counted over all pairs of dated records at two homes, as Splink
      estimates u from random pairs (``periods_chance``);
    - u of the household flag is the flagged share among namesakes (same first name) at two
      homes whose evidence, the periods included, puts them at p <= 0.05. Namesakes, because
      relatives with different first names who moved together carry the flag by
      construction; the periods included, because the pairs at p <= 0.05 on the comparisons
      alone hold weak true matches (a council tax account with no date of birth), and those
      moved with their household far more often;
    - m of each is started from the pairs the comparisons alone put at p >= 0.95, then
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
    # flag values (0.01 bit of error at most) so that the fixed point can be iterated tightly
    # and cheaply; a re-run with the saved model then lands on the same values.
    key = ((np.round(evidence * 64).astype(np.int64) * 3 + (moved + 1)) * 3 + (meet + 1)) * 2
    keys, index, counts = np.unique(key + namesake, return_inverse=True, return_counts=True)
    evidence = np.bincount(index, weights=evidence) / counts
    namesake = keys % 2
    meet = (keys // 2) % 3 - 1
    moved = (keys // 6) % 3 - 1
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

    lam = fixed_point(0.0, prior)
    p = 1.0 / (1.0 + np.exp2(-(evidence + logit2(lam))))
    sure_match, sure_non = p >= SURE_MATCH, p <= SURE_NON_MATCH

    def measure(
        flag: np.ndarray, non_matches: np.ndarray = sure_non
    ) -> tuple[float | None, float | None]:
        known = flag >= 0
        if not known.any():
            return None, None
        # add-one smoothing keeps both away from 0 and 1 on small data
        m = (float(counts[known & sure_match & (flag == 1)].sum()) + 1) / (
            float(counts[known & sure_match].sum()) + 2
        )
        u = (float(counts[known & non_matches & (flag == 1)].sum()) + 1) / (
            float(counts[known & non_matches].sum()) + 2
        )
        return m, u

    def adjust(flag: np.ndarray, m: float | None, u: float | None) -> np.ndarray:
        yes, no = _weights(m, u)
        return np.where(flag == 1, yes, np.where(flag == 0, no, 0.0))

    periods_m, periods_u = measure(meet)
    if periods_m is not None:
        meeting, pairs = con.execute("SELECT meeting_pairs, pairs FROM periods_chance").fetchone()
        if pairs:
            periods_u = (float(meeting) + 1) / (float(pairs) + 2)
    with_periods = evidence + logit2(lam) + adjust(meet, periods_m, periods_u)
    settled_non = 1.0 / (1.0 + np.exp2(-with_periods)) <= SURE_NON_MATCH
    move_m, move_u = measure(moved, settled_non & (namesake == 1))

    def expected_m(flag: np.ndarray, p: np.ndarray, m: float | None) -> float | None:
        """EM's m: the expected share of matches with the flag among the matches where it is
        known; add-one smoothed."""
        if m is None:
            return None
        known = counts * p * (flag >= 0)
        return float((known * (flag == 1)).sum() + 1) / float(known.sum() + 2)

    total = adjust(moved, move_m, move_u) + adjust(meet, periods_m, periods_u)
    iterations = 0
    while iterations < EM_MAX_ITERATIONS:
        iterations += 1
        lam = fixed_point(total, lam)
        p = 1.0 / (1.0 + np.exp2(-(evidence + total + logit2(lam))))
        old = (move_m, periods_m)
        move_m, periods_m = expected_m(moved, p, move_m), expected_m(meet, p, periods_m)
        total = adjust(moved, move_m, move_u) + adjust(meet, periods_m, periods_u)
        if all(
            a is None or abs(a - b) <= EM_TOLERANCE
            for a, b in zip(old, (move_m, periods_m), strict=True)
        ):
            break
    calibration = Calibration(fixed_point(total, lam), move_m, move_u, periods_m, periods_u)
    yes, no = calibration.move_weights
    meets, apart = calibration.periods_weights
    progress(
        f"calibrated on {n_scored:,} scored pairs: prior {prior:.3g} -> "
        f"{calibration.prior:.3g}; household moved together {yes:+.1f} bits, not {no:+.1f} bits "
        f"({int(counts[moved >= 0].sum()):,} pairs at two homes); periods meet {meets:+.1f} "
        f"bits, not {apart:+.1f} bits ({int(counts[meet >= 0].sum()):,} of them dated); "
        f"{iterations} EM iterations"
    )
    return calibration
