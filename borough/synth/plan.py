"""The borough's plan: how many households, which streets, wards, postcodes and schools.

The plan is small (a few numbers per street and one byte per household) and made once from
the seed. Everything per person is made later, chunk by chunk, from the plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from . import names

BOROUGH = "London Borough of Northmere"
TOWN = "LONDON"
CENTRE_LAT, CENTRE_LON = 51.55, -0.05
SIDE_M = 5000.0  # the borough is about 5 km by 5 km

# Living members per household (ONS-like for a young inner-London borough; mean about 2.4).
HOUSEHOLD_SIZES = np.arange(1, 9)
HOUSEHOLD_SIZE_P = np.array([0.30, 0.30, 0.16, 0.13, 0.06, 0.03, 0.015, 0.005])
VACANCY_RATE = 0.03

HOUSES, MIXED, ESTATE, HIGH_STREET = 0, 1, 2, 3
KIND_P = np.array([0.45, 0.20, 0.20, 0.15])
# residential units per street (and commercial units on high streets), before scaling
_RES_RANGE = {HOUSES: (15, 90), MIXED: (20, 80), ESTATE: (60, 260), HIGH_STREET: (6, 30)}
_COMM_RANGE = (8, 40)
ADDRESSES_PER_POSTCODE = 20
PD_UNITS = 1500  # residential units per polling district
# Postcode units within a sector: a digit then two letters, never C I K M O V.
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
FIRST_DISTRICT, LAST_DISTRICT = 21, 99  # E21 .. E99: format-valid, not real London districts


@dataclass
class Plan:
    seed: int
    residents: int
    start_date: date
    household_sizes: np.ndarray  # living members of each current household, in unit order
    unit_vacant: np.ndarray  # per residential unit, in street order
    streets: dict[str, np.ndarray]
    street_names: list[str]
    wards: list[dict[str, str]]
    schools: list[dict[str, str]]
    chunks: list[tuple[int, int]] = field(default_factory=list)  # street ranges [lo, hi)


def make_plan(residents: int, seed: int, start_date: date, chunk_units: int) -> Plan:
    if residents < 1:
        raise ValueError("residents must be at least 1")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    sizes = _household_sizes(rng, residents)
    n_vacant = round(len(sizes) * VACANCY_RATE)
    n_units = len(sizes) + n_vacant
    vacant = np.zeros(n_units, dtype=bool)
    vacant[rng.choice(n_units, n_vacant, replace=False)] = True

    kind, n_res, n_comm = _streets(rng, n_units)
    n_streets = len(kind)
    n_wards = int(min(n_streets, np.clip(round(residents / 15000), 8, 20)))
    mid = np.cumsum(n_res) - n_res / 2
    ward = np.minimum((mid / n_units * n_wards).astype(np.int64), n_wards - 1)

    streets = {"kind": kind, "n_res": n_res, "n_comm": n_comm, "ward": ward}
    streets["usrn"] = 20900001 + np.arange(n_streets, dtype=np.int64)
    streets["x0"], streets["y0"] = _street_origins(rng, ward, n_wards)
    streets["angle"] = rng.uniform(0, math.pi, n_streets)
    rows_est = n_res + n_comm + np.where(kind == ESTATE, n_res // 30 + 1, 0)
    n_pc = np.maximum(1, np.rint(rows_est / ADDRESSES_PER_POSTCODE)).astype(np.int64)
    streets["pc_lo"] = np.cumsum(n_pc) - n_pc
    streets["pc_n"] = n_pc
    if streets["pc_lo"][-1] + n_pc[-1] > (LAST_DISTRICT - FIRST_DISTRICT + 1) * 4000:
        raise ValueError("too many addresses for the borough's postcode districts")
    streets["unit_lo"] = np.cumsum(n_res) - n_res
    streets["pd"], streets["elector_base"] = _polling_districts(ward, n_res)
    in_cpz = (rng.random(n_streets) < 0.9) | (kind == HIGH_STREET)
    streets["in_cpz"] = in_cpz

    wards = _wards(rng, n_wards)
    plan = Plan(
        seed=seed,
        residents=residents,
        start_date=start_date,
        household_sizes=sizes,
        unit_vacant=vacant,
        streets=streets,
        street_names=_street_names(rng, n_streets),
        wards=wards,
        schools=_schools(rng, wards),
    )
    plan.chunks = _chunks(n_res, chunk_units)
    return plan


def _household_sizes(rng: np.random.Generator, residents: int) -> np.ndarray:
    """Household sizes summing exactly to the number of residents."""
    n = int(residents / 2.4 * 1.2) + 50
    sizes = rng.choice(HOUSEHOLD_SIZES, size=n, p=HOUSEHOLD_SIZE_P).astype(np.int16)
    total = np.cumsum(sizes)
    while total[-1] < residents:  # practically never: the draw has 20% headroom
        more = rng.choice(HOUSEHOLD_SIZES, size=n, p=HOUSEHOLD_SIZE_P).astype(np.int16)
        sizes = np.concatenate([sizes, more])
        total = np.cumsum(sizes)
    last = int(np.searchsorted(total, residents))
    sizes = sizes[: last + 1].copy()
    sizes[-1] -= total[last] - residents
    return sizes


def _streets(rng: np.random.Generator, n_units: int):
    """Kinds and sizes of streets whose residential units add up to exactly ``n_units``."""
    scale = min(1.0, n_units / 800)
    kinds, res, comm = [], [], []
    total = 0
    forced = [ESTATE, HOUSES, MIXED, HIGH_STREET]  # every borough has one of each
    while total < n_units:
        batch = rng.choice(4, size=256, p=KIND_P)
        if not kinds:
            batch[:4] = forced
        lo = np.array([_RES_RANGE[k][0] for k in range(4)])[batch]
        hi = np.array([_RES_RANGE[k][1] for k in range(4)])[batch]
        r = np.maximum(1, np.rint(rng.uniform(lo, hi) * scale)).astype(np.int64)
        c = np.where(batch == HIGH_STREET, rng.integers(*_COMM_RANGE, size=256), 0)
        c = np.where(c > 0, np.maximum(2, np.rint(c * scale)), 0).astype(np.int64)
        kinds.append(batch)
        res.append(r)
        comm.append(c)
        total += int(r.sum())
    kind, n_res, n_comm = (np.concatenate(a) for a in (kinds, res, comm))
    cum = np.cumsum(n_res)
    last = int(np.searchsorted(cum, n_units))
    kind, n_res, n_comm = kind[: last + 1], n_res[: last + 1].copy(), n_comm[: last + 1]
    n_res[-1] -= cum[last] - n_units
    return kind.astype(np.int8), n_res, n_comm


def _street_origins(rng, ward, n_wards):
    cols = math.ceil(math.sqrt(n_wards))
    rows = math.ceil(n_wards / cols)
    row = ward // cols
    col = np.where(row % 2 == 1, cols - 1 - ward % cols, ward % cols)  # serpentine: neighbours
    cw, ch = SIDE_M / cols, SIDE_M / rows
    x = -SIDE_M / 2 + (col + rng.uniform(0.1, 0.9, len(ward))) * cw
    y = SIDE_M / 2 - (row + rng.uniform(0.1, 0.9, len(ward))) * ch
    return x, y


def _polling_districts(ward, n_res):
    pd = np.empty(len(ward), dtype=object)
    base = np.zeros(len(ward), dtype=np.int64)
    current_ward, district, units, next_number = -1, 0, 0, 1
    for i, (w, n) in enumerate(zip(ward.tolist(), n_res.tolist(), strict=True)):
        if w != current_ward or units >= PD_UNITS:
            district = 1 if w != current_ward else district + 1
            current_ward, units, next_number = w, 0, 1
        pd[i] = f"{chr(65 + w)}{chr(65 + district - 1)}"
        base[i] = next_number
        next_number += 3 * n  # room for three register entries per property
        units += n
    return pd, base


def _wards(rng, n_wards: int) -> list[dict[str, str]]:
    pool = names.words()["ward"]
    picked = [pool[i] for i in rng.permutation(len(pool))[:n_wards]]
    return [
        {
            "code": f"E05{900001 + k:06d}",
            "name": name,
            "locality": name.upper(),
            "letter": chr(65 + k),
        }
        for k, name in enumerate(picked)
    ]


def _schools(rng, wards) -> list[dict[str, str]]:
    stems = names.words()["school_stem"]
    order = rng.permutation(len(stems)).tolist()
    schools = []
    for k, ward in enumerate(wards):
        for j, phase in enumerate(("PRIMARY", "PRIMARY")):
            stem = stems[order[(2 * k + j) % len(stems)]]
            suffix = "" if (2 * k + j) < len(stems) else f" {ward['name'].upper()}"
            schools.append(
                {"name": f"{stem}{suffix} {phase} SCHOOL", "phase": "primary", "ward": str(k)}
            )
        if k % 2 == 0:
            schools.append(
                {"name": f"{ward['name'].upper()} ACADEMY", "phase": "secondary", "ward": str(k)}
            )
    for i, school in enumerate(schools):
        school["urn"] = str(990001 + i)  # 99xxxx: clear of real DfE URNs in use
    return schools


def _street_names(rng, n_streets: int) -> list[str]:
    w = names.words()
    en_gb = names.groups()[0].surnames
    stems = w["street_stem"] + [s.upper() for s in en_gb if s.isalpha()]
    suffixes = sorted(set(w["street_suffix"]), key=w["street_suffix"].index)
    combos = [f"{s} {x}" for s in stems for x in suffixes]
    order = rng.permutation(len(combos))
    # Beyond the pool, names repeat in other wards, as "CHURCH ROAD" does across London.
    return [combos[order[i % len(combos)]] for i in range(n_streets)]


def _chunks(n_res: np.ndarray, chunk_units: int) -> list[tuple[int, int]]:
    chunks, lo, units = [], 0, 0
    for i, n in enumerate(n_res.tolist()):
        units += n
        if units >= chunk_units:
            chunks.append((lo, i + 1))
            lo, units = i + 1, 0
    if lo < len(n_res):
        chunks.append((lo, len(n_res)))
    return chunks


def postcode(index: int) -> str:
    """The postcode with this global index: E21 0AA-style, filled sector by sector."""
    district, rest = divmod(index, 4000)
    sector, unit = divmod(rest, 400)
    unit = (unit * 173 + sector * 59) % 400  # a fixed shuffle so neighbours differ
    a, b = divmod(unit, 20)
    return f"E{FIRST_DISTRICT + district} {sector}{INWARD_LETTERS[a]}{INWARD_LETTERS[b]}"
