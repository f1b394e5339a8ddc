"""Freedom passes: free travel for older residents (from State Pension age, 66) and disabled
residents. Older persons' passes are renewed together every five years on 31 March; a pass
often outlives its holder's death or move for a while."""

from __future__ import annotations

import datetime as dt

import numpy as np

from borough.synth.noise import DATASET_NOISE, add_years, noisy_dob, scaled, to_date, uk
from borough.synth.render import Chunk

from .common import current_or_stale

NAME = "freedom_pass"
COLUMNS = [
    "PASS_NUMBER",
    "PASS_TYPE",
    "TITLE",
    "FIRST_NAME",
    "LAST_NAME",
    "DATE_OF_BIRTH",
    "ADDRESS_LINE_1",
    "ADDRESS_LINE_2",
    "ADDRESS_LINE_3",
    "POSTCODE",
    "ISSUE_DATE",
    "EXPIRY_DATE",
]
PENSION_AGE = 66
OLDER_TAKE_UP = 0.75
DISABLED_RATE = 0.025
RENEWAL_YEAR = 2025  # older persons' passes expire on 31 March of 2025, 2030, ...


def build(ck: Chunk) -> tuple[list[list], list[tuple]]:
    n = DATASET_NOISE[NAME]
    noisier = scaled(n, 4)
    rnd = ck.pyrandom()
    rng, age = ck.rng, ck.age_now
    u = rng.random(len(age))
    older = (age >= PENSION_AGE) & (u < OLDER_TAKE_UP)
    disabled = (age >= 18) & (age < PENSION_AGE) & (u < DISABLED_RATE)
    person, unit = current_or_stale(ck, older | disabled, n, window_days=2 * 365)
    dup = rng.random(len(person)) < n.duplicate
    person, unit = np.r_[person, person[dup]], np.r_[unit, unit[dup]]
    is_dup = np.r_[np.zeros(len(dup), bool), np.ones(int(dup.sum()), bool)]

    today = to_date(ck.today)
    cycle = RENEWAL_YEAR + 5 * ((today.year - RENEWAL_YEAR) // 5)
    last_renewal = dt.date(cycle, 3, 31)
    if last_renewal > today:
        last_renewal = dt.date(cycle - 5, 3, 31)
    rows: list[list] = []
    truth: list[tuple] = []
    for k in range(len(person)):
        i, unit_k = int(person[k]), int(unit[k])
        noise = noisier if is_dup[k] else n
        if older[i]:
            kind = "OLDER_PERSON"
            issued = max(last_renewal, add_years(to_date(ck.dob[i]), PENSION_AGE))
            expires = add_years(last_renewal, 5)
        else:
            kind = "DISABLED_PERSON"
            issued = today - dt.timedelta(days=rnd.randint(1, 3 * 365))
            expires = add_years(issued, rnd.choice((1, 3, 5)))
        first, _, surname = ck.name(i, noise, rnd)
        ref = str(20_000_000 + ck.next_number(NAME))
        rows.append(
            [
                ref,
                kind,
                ck.title[i],
                first,
                surname,
                uk(noisy_dob(ck.dob[i], noise, rnd)),
                *ck.address_lines(unit_k, noise, rnd, 3),
                ck.postcode(unit_k, noise, rnd),
                uk(min(issued, today)),
                uk(expires),
            ]
        )
        truth.append((NAME, ref, ck.pid[i]))
    return rows, truth
