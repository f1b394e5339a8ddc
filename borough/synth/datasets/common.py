"""Choosing who a dataset holds: the people it should, and the ones it has not caught up with."""

from __future__ import annotations

import numpy as np

from borough.synth.noise import Noise
from borough.synth.people import NEVER, YEAR
from borough.synth.render import Chunk


def current_or_stale(
    ck: Chunk, eligible: np.ndarray, n: Noise, stale_adds: bool = False, window_days: float = 365
) -> tuple[np.ndarray, np.ndarray]:
    """(person, unit) for every eligible resident at their address, where the dataset may
    still show the old address of people who moved within the borough (in place of the new
    one, or as well as it when ``stale_adds``) and may still hold people who died or left
    the borough within ``window_days``."""
    pop, rng, today = ck.pop, ck.rng, ck.today
    now = np.flatnonzero(eligible & (pop.unit_now >= 0))
    unit = pop.unit_now[now]
    moved = (pop.old_unit[now] >= 0) & (pop.moved_on[now] > today - 2 * YEAR)
    stale = moved & (rng.random(len(now)) < n.stale_address)
    persons, units = [now], [unit]
    if stale_adds:
        persons.append(now[stale])
        units.append(pop.old_unit[now[stale]])
    else:
        units[0] = np.where(stale, pop.old_unit[now], unit)
    recent = (pop.left_on > today - window_days) & (pop.left_on < NEVER) & (pop.last_unit >= 0)
    u = rng.random(len(eligible))
    dead = np.flatnonzero(eligible & recent & ~ck.alive & (u < n.death_not_reflected))
    gone = np.flatnonzero(
        eligible & recent & ck.alive & (pop.unit_now < 0) & (u < n.moved_out_kept)
    )
    persons += [dead, gone]
    units += [pop.last_unit[dead], pop.last_unit[gone]]
    return np.concatenate(persons), np.concatenate(units)


def adults_per_household(ck: Chunk, at: np.ndarray) -> np.ndarray:
    """Number of living adults in each household on the household's date ``at``."""
    p = ck.pop.people
    ref = at[p.hh]
    adult = (ref - p.dob >= 18 * YEAR) & (p.dod > ref)
    return np.bincount(p.hh, weights=adult, minlength=len(at)).astype(np.int64)
