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
    periods meet) is measured the way Splink measures a comparison. m is the share of flagged
    pairs among the pairs where the flag is known that the comparisons alone put at
    p >= 0.95. u of the household flag is the same share among those at p <= 0.05; u of the
    periods is counted over all pairs of dated records at two homes, as Splink estimates u
    from random pairs (``periods_chance``). (Full EM on a flag is degenerate: flagged
    non-matches pulled up to matches drive u to zero.) The two flags are weighted
    independently of each other, as Splink's comparisons are."""
    data = con.execute(
        "SELECT p.match_weight, coalesce(h.moved_with, -1) AS moved_with, "
        "coalesce(h.periods_meet, -1) AS periods_meet FROM scored_pairs p "
        "LEFT JOIN household_moves h ON h.rid_l = p.rid_l AND h.rid_r = p.rid_r"
    ).fetchnumpy()
    evidence = np.asarray(data["match_weight"], dtype=np.float64) - logit2(prior)
    moved = np.asarray(data["moved_with"], dtype=np.int64)
    meet = np.asarray(data["periods_meet"], dtype=np.int64)
    n_scored = len(evidence)
    # Only sums over pairs are needed: group the pairs into 1/64-bit bins of evidence per
    # flag values (0.01 bit of error at most) so that the fixed point can be iterated tightly
    # and cheaply; a re-run with the saved model then lands on the same values.
    key = (np.round(evidence * 64).astype(np.int64) * 3 + (moved + 1)) * 3 + (meet + 1)
    keys, index, counts = np.unique(key, return_inverse=True, return_counts=True)
    evidence = np.bincount(index, weights=evidence) / counts
    meet = keys % 3 - 1
    moved = (keys // 3) % 3 - 1
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

    def measure(flag: np.ndarray) -> tuple[float | None, float | None]:
        known = flag >= 0
        if not known.any():
            return None, None
        # add-one smoothing keeps both away from 0 and 1 on small data
        m = (float(counts[known & sure_match & (flag == 1)].sum()) + 1) / (
            float(counts[known & sure_match].sum()) + 2
        )
        u = (float(counts[known & sure_non & (flag == 1)].sum()) + 1) / (
            float(counts[known & sure_non].sum()) + 2
        )
        return m, u

    periods_m, periods_u = measure(meet)
    if periods_m is not None:
        # u from the dates themselves: the share of all dated pairs at two homes that meet
        # (``model.HOUSEHOLD_MOVES_SQL``); the pairs at p <= 0.05 hold weak true matches
        # (a council tax account with no date of birth), which meet far more often
        meeting, pairs = con.execute("SELECT meeting_pairs, pairs FROM periods_chance").fetchone()
        if pairs:
            periods_u = (float(meeting) + 1) / (float(pairs) + 2)
    calibration = Calibration(lam, *measure(moved), periods_m, periods_u)
    yes, no = calibration.move_weights
    meets, apart = calibration.periods_weights

    def adjust(flag: np.ndarray, weights: tuple[float, float]) -> np.ndarray:
        return np.where(flag == 1, weights[0], np.where(flag == 0, weights[1], 0.0))

    total = adjust(moved, (yes, no)) + adjust(meet, (meets, apart))
    if total.any():
        calibration = Calibration(
            fixed_point(total, lam),
            calibration.move_m,
            calibration.move_u,
            calibration.periods_m,
            calibration.periods_u,
        )
    progress(
        f"calibrated on {n_scored:,} scored pairs: prior {prior:.3g} -> "
        f"{calibration.prior:.3g}; household moved together {yes:+.1f} bits, not {no:+.1f} bits "
        f"({int(counts[moved >= 0].sum()):,} pairs at two homes); periods meet {meets:+.1f} "
        f"bits, not {apart:+.1f} bits ({int(counts[meet >= 0].sum()):,} of them dated)"
    )
    return calibration
