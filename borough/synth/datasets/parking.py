"""Residents' parking permits, a year at a time, for the last three years.

A permit belongs to a vehicle's keeper at an address in a controlled parking zone; car-free
developments get none. The form is filled in by residents: names and addresses as typed, the
date of birth optional, the registration with or without its space.
"""

from __future__ import annotations

from borough.synth.noise import DATASET_NOISE, iso, noisy_dob, scaled, to_date, typo
from borough.synth.people import NEVER, YEAR
from borough.synth.render import Chunk, as_typed
from borough.synth.vehicles import Vehicles

NAME = "parking_permits_history"
COLUMNS = [
    "PERMIT_REF",
    "PERMIT_TYPE",
    "ZONE",
    "VRM",
    "APPLICANT_NAME",
    "APPLICANT_DOB",
    "EMAIL",
    "ADDRESS",
    "POSTCODE",
    "UPRN",
    "START_DATE",
    "END_DATE",
    "STATUS",
]
HISTORY_YEARS = 3
TAKE_UP = 0.85


def build(ck: Chunk, vehicles: Vehicles, wards: list[dict]) -> tuple[list[list], list[tuple]]:
    n = DATASET_NOISE[NAME]
    noisier = scaled(n, 4)
    rnd = ck.pyrandom()
    pop, today = ck.pop, ck.today
    stays_of: dict[int, list[int]] = {}
    for s, h in enumerate(pop.stay_hh.tolist()):
        stays_of.setdefault(h, []).append(s)
    in_cpz, car_free = ck.units["in_cpz"], ck.units["car_free"]
    rows: list[list] = []
    truth: list[tuple] = []
    for h, k, reg, registered in zip(
        vehicles.household, vehicles.keeper, vehicles.registration, vehicles.registered, strict=True
    ):
        if rnd.random() > TAKE_UP:
            continue
        for s in sorted(stays_of.get(h, []), key=lambda s: pop.stay_start[s]):
            u = int(pop.stay_unit[s])
            if not in_cpz[u] or car_free[u]:
                continue
            start = max(int(pop.stay_start[s]), registered, today - int(HISTORY_YEARS * YEAR))
            stay_end = int(pop.stay_end[s])
            while start < min(stay_end, today):
                natural_end = start + 365
                end = min(natural_end, stay_end)
                if end >= today and stay_end == NEVER:
                    status = "ACTIVE"
                else:
                    status = "CANCELLED" if end < natural_end else "EXPIRED"
                _permit(ck, rows, truth, rnd, n, k, reg, u, start, end, status, wards)
                if rnd.random() < n.duplicate:
                    _permit(ck, rows, truth, rnd, noisier, k, reg, u, start, end, status, wards)
                start = natural_end
    return rows, truth


def _permit(ck, rows, truth, rnd, noise, k, reg, u, start, end, status, wards):
    ref = f"RP{ck.next_number(NAME):08d}"
    first, middle, surname = ck.name(k, noise, rnd)
    name = as_typed(" ".join(x for x in (first, middle, surname) if x), rnd)
    vrm = reg if rnd.random() < 0.55 else f"{reg[:4]} {reg[4:]}"
    if rnd.random() < 0.05:
        vrm = vrm.lower()
    if rnd.random() < noise.typo_surname / 2:
        vrm = typo(vrm, rnd)
    email = ck.email[k]
    if email and rnd.random() < 0.1:
        email = email.capitalize()
    rows.append(
        [
            ref,
            "RESIDENT",
            wards[ck.units["ward"][u]]["letter"],
            vrm,
            name,
            iso(noisy_dob(ck.dob[k], noise, rnd)),
            email,
            as_typed(ck.address_line(u, noise, rnd), rnd),
            ck.postcode(u, noise, rnd),
            ck.uprn(u, noise, rnd),
            iso(to_date(start)),
            iso(to_date(end)),
            status,
        ]
    )
    truth.append((NAME, ref, ck.pid[k]))
