"""The electoral register: one row per elector, numbered within polling districts.

No date of birth, except the date of attainment for 16 and 17 year olds. EU citizens carry
the franchise marker G (local elections only). Electors who moved within the borough are
sometimes registered at both addresses; the dead and departed linger for a while.
"""

from __future__ import annotations

import numpy as np

from borough.synth import names
from borough.synth.noise import DATASET_NOISE, add_years, scaled, to_date, uk
from borough.synth.render import Chunk

from .common import current_or_stale

NAME = "electoral_register"
COLUMNS = [
    "ELECTOR_NUMBER",
    "FRANCHISE",
    "DATE_OF_ATTAINMENT",
    "TITLE",
    "FORENAME",
    "MIDDLE_NAMES",
    "SURNAME",
    "ADDRESS_1",
    "ADDRESS_2",
    "ADDRESS_3",
    "ADDRESS_4",
    "POSTCODE",
    "UPRN",
    "OPTED_OUT",
]
COMMONWEALTH = {
    "british",
    "irish",
    "bengali",
    "pakistani",
    "indian",
    "nigerian",
    "ghanaian",
    "kenyan",
}
EU = {"polish", "spanish", "portuguese", "french", "italian", "romanian"}


def build(ck: Chunk) -> tuple[list[list], list[tuple]]:
    n = DATASET_NOISE[NAME]
    noisier = scaled(n, 4)
    rnd = ck.pyrandom()
    rng, p = ck.rng, ck.pop.people
    keys = np.array([g.key for g in names.groups()], dtype=object)[p.group]
    age = ck.age_now
    # Born or raised here means British; otherwise some have naturalised.
    naturalised = rng.random(len(p)) < np.where(age < 25, 0.85, 0.45)
    commonwealth = np.isin(keys, list(COMMONWEALTH))
    eu = np.isin(keys, list(EU))
    eligible = commonwealth | naturalised | eu
    registers = rng.random(len(p)) < np.select(
        [age < 18, age < 35, age < 65], [0.5, 0.75, 0.88], 0.95
    )
    person, unit = current_or_stale(ck, eligible & registers & (age >= 16), n, stale_adds=True)
    franchise = np.where(eu & ~commonwealth & ~naturalised, "G", "")
    dup = rng.random(len(person)) < n.duplicate
    person = np.concatenate([person, person[dup]])
    unit = np.concatenate([unit, unit[dup]])
    is_dup = np.r_[np.zeros(len(dup), bool), np.ones(int(dup.sum()), bool)]
    order = np.lexsort((person, unit))

    rows: list[list] = []
    truth: list[tuple] = []
    per_street: dict[int, int] = {}
    street_units = np.bincount(np.asarray(ck.units["street_index"]) - ck.units["street_index"][0])
    for k in order.tolist():
        i, u = int(person[k]), int(unit[k])
        noise = noisier if is_dup[k] else n
        s = ck.units["street_index"][u]
        rank = per_street.get(s, 0)
        per_street[s] = rank + 1
        cap = 3 * int(street_units[s - ck.units["street_index"][0]])
        number = ck.units["elector_base"][u] + min(rank, cap - 1)
        suffix = f"/{rank - cap + 1}" if rank >= cap else ""
        ref = f"{ck.units['pd'][u]}-{number}{suffix}"
        first, middle, surname = ck.name(i, noise, rnd)
        attain = ""
        if age[i] < 18:
            attain = uk(add_years(to_date(ck.dob[i]), 18))
        rows.append(
            [
                ref,
                franchise[i],
                attain,
                ck.title[i],
                first,
                middle,
                surname.upper(),
                *ck.address_lines(u, noise, rnd, 4),
                ck.postcode(u, noise, rnd),
                ck.uprn(u, noise, rnd),
                "Y" if rnd.random() < 0.55 else "N",
            ]
        )
        truth.append((NAME, ref, ck.pid[i]))
    return rows, truth
