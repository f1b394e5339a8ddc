"""Council tax: one row per liability account, up to two liable parties named in full.

Council tax systems rarely hold dates of birth. Accounts follow the households through the
property's history; an account can stay open after its people have gone or died.
"""

from __future__ import annotations

import numpy as np

from borough.synth.households import CURRENT, DIED, LEFT
from borough.synth.noise import DATASET_NOISE, scaled, to_date, uk
from borough.synth.people import NEVER, PARTNER, SHARER, SHARERS, WIDOWED, YEAR
from borough.synth.render import Chunk

from .common import adults_per_household

NAME = "council_tax"
COLUMNS = [
    "ACCOUNT_REF",
    "PROPERTY_REF",
    "UPRN",
    "BAND",
    "LIABLE_PARTY_1",
    "LIABLE_PARTY_2",
    "ADDRESS_1",
    "ADDRESS_2",
    "ADDRESS_3",
    "ADDRESS_4",
    "POSTCODE",
    "LIABILITY_START",
    "LIABILITY_END",
    "DISCOUNT",
]
RETENTION_YEARS = 6
BANDS = {
    "RD06": ("ABC", (0.30, 0.45, 0.25)),
    "RD04": ("CDE", (0.35, 0.45, 0.20)),
    "RD03": ("DEF", (0.40, 0.40, 0.20)),
    "RD02": ("EFG", (0.35, 0.40, 0.25)),
}


def build(ck: Chunk) -> tuple[list[list], list[tuple]]:
    n = DATASET_NOISE[NAME]
    noisier = scaled(n, 4)
    rnd = ck.pyrandom()
    pop, p, today = ck.pop, ck.pop.people, ck.today
    n_h = len(pop.h_type)
    head = np.searchsorted(p.hh, np.arange(n_h))
    nxt = np.minimum(head + 1, len(p) - 1)
    second = np.where(
        (p.hh[nxt] == np.arange(n_h)) & np.isin(p.role[nxt], (PARTNER, SHARER)), nxt, -1
    )
    last_day = np.zeros(n_h, dtype=np.int64)
    np.maximum.at(last_day, pop.stay_hh, np.minimum(pop.stay_end, today))
    adults = adults_per_household(ck, last_day)
    band = [rnd.choices(*BANDS[c])[0] for c in ck.units["cls"]]

    rows: list[list] = []
    truth: list[tuple] = []

    def emit(parties, u, start, end, discount, noise):
        ref = str(600_000_000 + ck.next_number(NAME))
        names = [ck.full_name(i, noise, rnd, initials=True).upper() for i in parties]
        rows.append(
            [
                ref,
                f"P{ck.units['uprn'][u] % 10**8:08d}",
                ck.uprn(u, noise, rnd),
                band[u],
                names[0],
                names[1] if len(names) > 1 else "",
                *ck.address_lines(u, noise, rnd, 4),
                ck.postcode(u, noise, rnd),
                uk(to_date(start)),
                uk(to_date(end)) if end < NEVER else "",
                discount,
            ]
        )
        truth.extend((NAME, f"{ref}#{k + 1}", ck.pid[i]) for k, i in enumerate(parties))

    keep = pop.stay_end >= today - RETENTION_YEARS * YEAR
    stays = np.flatnonzero(keep)
    stays = stays[np.lexsort((pop.stay_start[stays], pop.stay_unit[stays]))]
    for s in stays.tolist():
        h, u = int(pop.stay_hh[s]), int(pop.stay_unit[s])
        start, end, kind = int(pop.stay_start[s]), int(pop.stay_end[s]), int(pop.stay_kind[s])
        parties = [int(head[h])] + ([int(second[h])] if second[h] >= 0 else [])
        discount = "SPD" if adults[h] == 1 else ""
        if pop.h_type[h] == SHARERS and rnd.random() < 0.15:
            discount = "CLASS N"  # a household of students is exempt
        recent = end < NEVER and end > today - 365
        if kind == DIED and recent and rnd.random() < n.death_not_reflected:
            end = NEVER
        elif kind == LEFT and recent and rnd.random() < n.moved_out_kept:
            end = NEVER
        if pop.h_type[h] == WIDOWED and kind == CURRENT and len(parties) == 2:
            died = int(p.dod[parties[1]])
            if died > today - 365 and rnd.random() < n.death_not_reflected:
                discount = ""  # the death has not reached council tax yet
            else:
                if died > start:
                    emit(parties, u, start, died, "", n)
                start, parties = max(start, died), parties[:1]
        emit(parties, u, start, end, discount, n)
        if rnd.random() < n.duplicate:
            emit(parties, u, start, end, discount, noisier)
    return rows, truth
