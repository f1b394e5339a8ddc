"""Calibration: what each link run estimates on its own scored pairs.

Splink scores the pairs with the trained m and u. Two things are then estimated on those
scored pairs, with m and u held fixed, because they depend on the population being linked
(its size and make-up) rather than on how records of one person differ:

- the prior (probability that two random records match);
- the weight of the household-move evidence (``model.HOUSEHOLD_MOVES_SQL``): whether another
  person made the same move between the pair's two homes.

``calibrate`` reads the tables ``scored_pairs`` (``rid_l``, ``rid_r``, ``match_weight``) and
``household_moves`` (``rid_l``, ``rid_r``, ``moved_with``) on the connection.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import numpy as np

Progress = Callable[[str], None]

# Pairs whose comparisons alone settle their class, for measuring the household-move flag.
SURE_MATCH = 0.95
SURE_NON_MATCH = 0.05


def logit2(p: float) -> float:
    """log2 of the odds of ``p``: the match weight of a probability."""
    return math.log2(p / (1 - p))


@dataclass(frozen=True)
class Calibration:
    """What each run estimates on its own scored pairs (see ``_calibrate``)."""

    prior: float  # probability that two random records match
    move_m: float | None  # P(another person made the same move | match, two homes)
    move_u: float | None  # P(another person made the same move | non-match, two homes)

    @property
    def move_weights(self) -> tuple[float, float]:
        """Match weight (bits) added when another person made the same move, and when not."""
        if self.move_m is None or self.move_u is None:
            return 0.0, 0.0
        return (
            math.log2(self.move_m / self.move_u),
            math.log2((1 - self.move_m) / (1 - self.move_u)),
        )


def calibrate(
    con: duckdb.DuckDBPyConnection, records: int, prior: float, progress: Progress
) -> Calibration:
    """The prior and the household-move evidence, estimated on the scored pairs with the
    Splink comparisons' m and u held fixed.

    The prior: EM's estimate from training moves with the random pairs drawn for u (two- or
    three-fold between seeds). Given m and u it has a self-consistent value: the expected
    number of matching pairs (the sum of the scored pairs' match probabilities; pairs never
    scored add next to nothing) over all pairs. Iterating to that fixed point is EM for the
    prior alone.

    The household-move flag (``model.HOUSEHOLD_MOVES_SQL``) is measured the way Splink
    measures a comparison, on pairs whose class the comparisons already settle: m is the
    share of flagged pairs among two-home pairs the comparisons alone put at p >= 0.95, u
    among those at p <= 0.05. (Full EM on the flag is degenerate: flagged non-matches pulled
    up to matches drive u to zero.)"""
    data = con.execute(
        "SELECT p.match_weight, coalesce(h.moved_with, -1) AS moved_with FROM scored_pairs p "
        "LEFT JOIN household_moves h ON h.rid_l = p.rid_l AND h.rid_r = p.rid_r"
    ).fetchnumpy()
    evidence = np.asarray(data["match_weight"], dtype=np.float64) - logit2(prior)
    flag = np.asarray(data["moved_with"], dtype=np.int64)
    n_scored = len(evidence)
    # Only sums over pairs are needed: group the pairs into 1/64-bit bins of evidence per
    # flag value (0.01 bit of error at most) so that the fixed point can be iterated tightly
    # and cheaply; a re-run with the saved model then lands on the same values.
    key = np.round(evidence * 64).astype(np.int64) * 3 + (flag + 1)
    keys, index, counts = np.unique(key, return_inverse=True, return_counts=True)
    evidence = np.bincount(index, weights=evidence) / counts
    flag = keys % 3 - 1
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
    two_homes = flag >= 0
    m = u = None
    if two_homes.any():
        p = 1.0 / (1.0 + np.exp2(-(evidence + logit2(lam))))
        sure_match, sure_non = two_homes & (p >= SURE_MATCH), two_homes & (p <= SURE_NON_MATCH)
        # add-one smoothing keeps both away from 0 and 1 on small data
        m = (float(counts[sure_match & (flag == 1)].sum()) + 1) / (
            float(counts[sure_match].sum()) + 2
        )
        u = (float(counts[sure_non & (flag == 1)].sum()) + 1) / (float(counts[sure_non].sum()) + 2)
    calibration = Calibration(lam, m, u)
    yes, no = calibration.move_weights
    if m is not None:
        adjust = np.where(flag == 1, yes, np.where(flag == 0, no, 0.0))
        calibration = Calibration(fixed_point(adjust, lam), m, u)
    progress(
        f"calibrated on {n_scored:,} scored pairs: prior {prior:.3g} -> "
        f"{calibration.prior:.3g}; household moved together {yes:+.1f} bits, not {no:+.1f} bits "
        f"({int(counts[two_homes].sum()):,} pairs at two homes)"
    )
    return calibration
