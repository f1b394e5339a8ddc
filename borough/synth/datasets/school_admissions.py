"""School admissions: one row per pupil of a school in the borough, with a parent or carer.

Schools learn of a move late or never, so a moved family's child often keeps the old
address. Children who left the borough within two years keep their historical admission.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from borough.synth.noise import DATASET_NOISE, iso, noisy_dob, scaled, to_date
from borough.synth.people import CHILD, FEMALE, YEAR
from borough.synth.render import Chunk, as_typed

from .common import current_or_stale

NAME = "school_admissions"
COLUMNS = [
    "ADMISSION_ID",
    "PUPIL_SURNAME",
    "PUPIL_FORENAME",
    "PUPIL_MIDDLE_NAMES",
    "PUPIL_DOB",
    "PUPIL_GENDER",
    "PARENT_CARER_NAME",
    "ADDRESS_LINE_1",
    "ADDRESS_LINE_2",
    "ADDRESS_LINE_3",
    "POSTCODE",
    "SCHOOL_URN",
    "SCHOOL_NAME",
    "NC_YEAR",
    "ADMISSION_DATE",
]
IN_BOROUGH_SCHOOL = 0.92


def build(ck: Chunk, schools: list[dict[str, str]]) -> tuple[list[list], list[tuple]]:
    n = DATASET_NOISE[NAME]
    noisier = scaled(n, 4)
    rnd = ck.pyrandom()
    rng, p, today = ck.rng, ck.pop.people, ck.today
    t = to_date(today)
    year_start = dt.date(t.year if t.month >= 9 else t.year - 1, 9, 1)
    aug31 = (year_start - dt.date(1970, 1, 1)).days - 1
    age_aug = np.floor((aug31 - p.dob) / YEAR).astype(np.int64)
    pupils = (age_aug >= 4) & (age_aug <= 15) & (rng.random(len(p)) < IN_BOROUGH_SCHOOL)
    person, unit = current_or_stale(ck, pupils, n, window_days=2 * 365)
    dup = rng.random(len(person)) < n.duplicate
    person, unit = np.r_[person, person[dup]], np.r_[unit, unit[dup]]
    is_dup = np.r_[np.zeros(len(dup), bool), np.ones(int(dup.sum()), bool)]

    head = np.searchsorted(p.hh, np.arange(len(ck.pop.h_type)))
    by_ward: dict[int, list[dict]] = {}
    secondary = [s for s in schools if s["phase"] == "secondary"]
    for s in schools:
        if s["phase"] == "primary":
            by_ward.setdefault(int(s["ward"]), []).append(s)
    rows: list[list] = []
    truth: list[tuple] = []
    for k in range(len(person)):
        i, u = int(person[k]), int(unit[k])
        noise = noisier if is_dup[k] else n
        year = int(age_aug[i]) - 4
        ward = ck.units["ward"][u]
        school = rnd.choice(by_ward.get(ward) or secondary) if year <= 6 else rnd.choice(secondary)
        start_phase = dt.date(year_start.year - (year if year <= 6 else year - 7), 9, 1)
        arrived = to_date(min(ck.arrived[i], today))
        admitted = max(start_phase, arrived + dt.timedelta(days=14))
        first, middle, surname = ck.name(i, noise, rnd)
        carer = int(head[p.hh[i]])
        carer_name = ck.full_name(carer, noise, rnd) if carer != i and p.role[i] == CHILD else ""
        ref = f"ADM{ck.next_number(NAME):08d}"
        rows.append(
            [
                ref,
                surname,
                first,
                middle,
                iso(noisy_dob(ck.dob[i], noise, rnd)),
                "F" if p.sex[i] == FEMALE else "M",
                carer_name,
                *(as_typed(x, rnd) for x in ck.address_lines(u, noise, rnd, 3)),
                ck.postcode(u, noise, rnd),
                school["urn"],
                school["name"],
                "R" if year == 0 else str(year),
                iso(min(admitted, t)),
            ]
        )
        truth.append((NAME, ref, ck.pid[i]))
    return rows, truth
