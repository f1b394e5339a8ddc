"""Who lives where, and who lived there before: current households, moves and deaths.

Every residential unit of a chunk either has a current household or stands empty. A unit
whose household moved in within the last eight years usually had a former household, which
either moved within the borough (it is one of the chunk's current households), left the
borough, or died. Dates are days since 1970-01-01; ``NEVER`` means "still so".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import names
from .people import (
    NEVER,
    SINGLE,
    WIDOWED,
    YEAR,
    People,
    head_ages,
    household_types,
    make_people,
)
from .plan import HOUSEHOLD_SIZE_P, HOUSEHOLD_SIZES

CURRENT, MOVED, LEFT, DIED = range(4)  # kinds of stay
ID_STRIDE = 1_000_000  # ids are (chunk + 1) * ID_STRIDE + local number
FORMER_YEARS = 8  # a unit re-let within this many years had a former household ...
FORMER_RATE = 0.8  # ... this often
MOVED_WITHIN_RATE = 0.18  # of former households: moved within the borough
DIED_RATE = 0.07  # of the other former households: a single person who died


@dataclass
class Population:
    people: People
    person_id: np.ndarray
    household_id: np.ndarray  # per household
    h_type: np.ndarray
    # stays: one household at one unit for a period (CURRENT stays have end == NEVER)
    stay_hh: np.ndarray
    stay_unit: np.ndarray
    stay_start: np.ndarray
    stay_end: np.ndarray
    stay_kind: np.ndarray
    # per person
    unit_now: np.ndarray  # -1 if dead or gone
    last_unit: np.ndarray  # the last unit they lived at in the borough
    left_on: np.ndarray  # day they died or left the borough, NEVER if still here
    old_unit: np.ndarray  # for people who moved within the borough: where from, else -1
    moved_on: np.ndarray  # ... and when
    # address history rows
    hist_person: np.ndarray
    hist_unit: np.ndarray
    hist_from: np.ndarray
    hist_to: np.ndarray


def make_population(
    rng: np.random.Generator,
    is_house: np.ndarray,
    council: np.ndarray,
    vacant: np.ndarray,
    sizes: np.ndarray,
    today: int,
    chunk: int,
) -> Population:
    occupied = np.flatnonzero(~vacant)
    # Bigger households tend to live in houses: pair sizes and units by noisy rank.
    units_ranked = occupied[np.argsort(is_house[occupied] * 1.2 + rng.normal(0, 1, len(occupied)))]
    sizes_ranked = sizes[np.argsort(sizes + rng.normal(0, 1.2, len(sizes)))]
    order = np.argsort(units_ranked)
    cur_unit, cur_size = units_ranked[order], sizes_ranked[order].astype(np.int64)
    n_cur = len(cur_unit)

    cur_type = household_types(rng, cur_size)
    widowed = (cur_size == 1) & (rng.random(n_cur) < 0.12)
    cur_type[widowed] = WIDOWED
    cur_age = head_ages(rng, cur_type)
    mean_stay = np.where(is_house[cur_unit], 11.0, np.where(council[cur_unit], 9.0, 4.5))
    years = np.minimum(rng.exponential(mean_stay), np.maximum(cur_age - 18, 0.1))
    move_in = today - 1 - np.floor(np.minimum(years, 45) * YEAR).astype(np.int64)

    # Former households: most recently re-let units, and every empty unit.
    unit_move_in = np.full(len(vacant), -1, dtype=np.int64)
    unit_move_in[cur_unit] = move_in
    recent = unit_move_in > today - FORMER_YEARS * YEAR
    had_former = vacant | (recent & (rng.random(len(vacant)) < FORMER_RATE))
    slots = np.flatnonzero(had_former)
    slot_end = np.where(
        vacant[slots],
        today - rng.integers(30, 700, len(slots)),
        unit_move_in[slots] - rng.integers(0, 120, len(slots)),
    )

    # Some former households moved within the borough: they are current households here.
    internal = slots[rng.random(len(slots)) < MOVED_WITHIN_RATE]
    unit_has_internal = np.zeros(len(vacant), dtype=bool)
    unit_has_internal[internal] = True
    candidates = np.flatnonzero(
        (move_in > today - FORMER_YEARS * YEAR) & ~unit_has_internal[cur_unit]
    )
    k = min(len(internal), len(candidates))
    internal = rng.permutation(internal)[:k]
    movers = rng.permutation(candidates)[:k]
    is_internal = np.isin(slots, internal)
    slot_of = {int(u): i for i, u in enumerate(slots)}
    for q, h in zip(internal.tolist(), movers.tolist(), strict=True):
        slot_end[slot_of[q]] = move_in[h]
    # the household now at the old address arrived after the movers left
    pos = np.searchsorted(cur_unit, internal)
    at_q = (pos < n_cur) & (cur_unit[np.minimum(pos, n_cur - 1)] == internal)
    later = np.minimum(today - 1, move_in[movers] + rng.integers(0, 120, k))
    move_in[pos[at_q]] = np.maximum(move_in[pos[at_q]], later[at_q])

    others = slots[~is_internal]
    ends = slot_end[~is_internal]
    died = rng.random(len(others)) < DIED_RATE
    left_size = rng.choice(HOUSEHOLD_SIZES, size=int((~died).sum()), p=HOUSEHOLD_SIZE_P)
    left_type = household_types(rng, left_size)
    n_left, n_died = len(left_size), int(died.sum())

    # all households: current, then those who left, then those who died
    h_type = np.concatenate([cur_type, left_type, np.full(n_died, SINGLE, np.int8)])
    gen_size = np.concatenate([cur_size + widowed, left_size, np.ones(n_died, np.int64)])
    ref = np.concatenate([np.full(n_cur, today), ends[~died], ends[died]]).astype(np.int64)
    head_age = np.concatenate([cur_age, head_ages(rng, left_type), rng.uniform(72, 98, n_died)])
    group = rng.choice(len(names.group_shares()), size=len(h_type), p=names.group_shares())
    first_id = (chunk + 1) * ID_STRIDE
    people = make_people(rng, gen_size, h_type, ref, group, first_id, head_age)
    head = np.cumsum(gen_size) - gen_size

    # deaths: widowed partners died while living here; whole former households that died
    partners = head[:n_cur][widowed] + 1
    lo = move_in[widowed] + 30
    people.dod[partners] = np.where(
        lo < today - 1, rng.integers(np.minimum(lo, today - 2), today - 1), today - 1
    )
    died_h = np.arange(n_cur + n_left, n_cur + n_left + n_died)
    people.dod[np.isin(people.hh, died_h)] = ref[died_h]

    # stays
    h_index = np.arange(len(h_type))
    duration = np.floor((0.5 + rng.exponential(5.5, len(h_type))) * YEAR).astype(np.int64)
    adult_from = people.dob[head] + np.int64(18 * YEAR)
    stay_hh = np.concatenate([h_index[:n_cur], movers, h_index[n_cur:]])
    stay_unit = np.concatenate([cur_unit, internal, others[~died], others[died]])
    stay_end = np.concatenate([np.full(n_cur, NEVER), move_in[movers], ends[~died], ends[died]])
    stay_start = np.concatenate([move_in, stay_end[n_cur:] - duration[stay_hh[n_cur:]]])
    stay_start = np.maximum(stay_start, adult_from[stay_hh])
    stay_kind = np.concatenate(
        [np.full(n_cur, CURRENT), np.full(k, MOVED), np.full(n_left, LEFT), np.full(n_died, DIED)]
    ).astype(np.int8)

    return _finish(
        people, first_id, h_type, stay_hh, stay_unit, stay_start, stay_end, stay_kind, n_cur
    )


def _finish(
    people, first_id, h_type, stay_hh, stay_unit, stay_start, stay_end, stay_kind, n_cur
) -> Population:
    n = len(people)
    alive = people.dod == NEVER
    current_h = people.hh < n_cur
    unit_now = np.where(
        current_h & alive,
        np.concatenate([stay_unit[:n_cur], [-1]])[np.where(current_h, people.hh, n_cur)],
        -1,
    )

    # history: every member of a household at each of its stays, while born and alive
    order = np.argsort(stay_hh, kind="stable")
    per_h = np.bincount(stay_hh, minlength=len(h_type))
    first_stay = np.cumsum(per_h) - per_h
    reps = per_h[people.hh]
    person = np.repeat(np.arange(n), reps)
    offset = np.arange(len(person)) - np.repeat(np.cumsum(reps) - reps, reps)
    stay = order[first_stay[people.hh[person]] + offset]
    h_from = np.maximum(stay_start[stay], people.dob[person])
    h_to = np.minimum(stay_end[stay], people.dod[person])
    keep = h_from < h_to
    person, stay, h_from, h_to = person[keep], stay[keep], h_from[keep], h_to[keep]

    # last unit and leaving date per person: the stay that ends latest
    last = np.full(n, -1, dtype=np.int64)
    left_on = np.full(n, -1, dtype=np.int64)
    for_sort = np.lexsort((h_to, person))
    last_row = for_sort[np.r_[person[for_sort][1:] != person[for_sort][:-1], True]]
    last[person[last_row]] = stay_unit[stay[last_row]]
    left_on[person[last_row]] = h_to[last_row]

    old_unit = np.full(n, -1, dtype=np.int64)
    moved_on = np.full(n, NEVER, dtype=np.int64)
    was_there = stay_kind[stay] == MOVED
    old_unit[person[was_there]] = stay_unit[stay[was_there]]
    moved_on[person[was_there]] = h_to[was_there]

    return Population(
        people=people,
        person_id=first_id + np.arange(n),
        household_id=first_id + np.arange(len(h_type)),
        h_type=h_type,
        stay_hh=stay_hh,
        stay_unit=stay_unit,
        stay_start=stay_start,
        stay_end=stay_end,
        stay_kind=stay_kind,
        unit_now=unit_now,
        last_unit=last,
        left_on=left_on,
        old_unit=old_unit,
        moved_on=moved_on,
        hist_person=person,
        hist_unit=stay_unit[stay],
        hist_from=h_from,
        hist_to=h_to,
    )
