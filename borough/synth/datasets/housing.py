"""The housing system's tenancies and the benefits system's housing benefit claims.

Tenancies: one row per tenant (a joint tenancy has two), council-owned units only, dates in
the housing system's DD-MON-YYYY form. Housing benefit: one row per claim with claimant and
partner side by side, each with a date of birth and a National Insurance number. The numbers
use the prefix ZZ, which HMRC never issues, so none can be a real person's.
"""

from __future__ import annotations

import numpy as np

from borough.synth.households import CURRENT, DIED
from borough.synth.noise import DATASET_NOISE, noisy_dob, oracle, scaled, to_date, typo, uk
from borough.synth.people import NEVER, PARTNER, WIDOWED, YEAR
from borough.synth.render import Chunk

TENANCIES = "housing_tenancies"
TENANCY_COLUMNS = [
    "TENANCY_REF",
    "TENANT_REF",
    "LEAD_TENANT",
    "PROPERTY_REF",
    "UPRN",
    "ADDRESS",
    "POSTCODE",
    "TENURE_TYPE",
    "TENANCY_START",
    "TENANCY_END",
    "TITLE",
    "FORENAME",
    "SURNAME",
    "DATE_OF_BIRTH",
    "PHONE",
    "EMAIL",
]
BENEFIT = "housing_benefit"
BENEFIT_COLUMNS = [
    "CLAIM_REF",
    "CLAIMANT_TITLE",
    "CLAIMANT_FORENAME",
    "CLAIMANT_SURNAME",
    "CLAIMANT_DOB",
    "CLAIMANT_NINO",
    "PARTNER_TITLE",
    "PARTNER_FORENAME",
    "PARTNER_SURNAME",
    "PARTNER_DOB",
    "PARTNER_NINO",
    "ADDRESS_1",
    "ADDRESS_2",
    "ADDRESS_3",
    "POSTCODE",
    "CLAIM_START",
    "CLAIM_END",
]
RETENTION_YEARS = 6
NINO_SUFFIX = "ABCD"


def _households(ck: Chunk):
    p = ck.pop.people
    n_h = len(ck.pop.h_type)
    head = np.searchsorted(p.hh, np.arange(n_h))
    nxt = np.minimum(head + 1, len(p) - 1)
    partner = np.where((p.hh[nxt] == np.arange(n_h)) & (p.role[nxt] == PARTNER), nxt, -1)
    return head, partner


def _stays(ck: Chunk, mask: np.ndarray) -> np.ndarray:
    pop = ck.pop
    keep = mask & (pop.stay_end >= ck.today - RETENTION_YEARS * YEAR)
    stays = np.flatnonzero(keep)
    return stays[np.lexsort((pop.stay_start[stays], pop.stay_unit[stays]))]


def tenancies(ck: Chunk) -> tuple[list[list], list[tuple]]:
    n = DATASET_NOISE[TENANCIES]
    noisier = scaled(n, 4)
    rnd = ck.pyrandom()
    pop, p, today = ck.pop, ck.pop.people, ck.today
    head, partner = _households(ck)
    council = np.asarray(ck.units["council"], dtype=bool)
    rows: list[list] = []
    truth: list[tuple] = []
    for s in _stays(ck, council[pop.stay_unit]).tolist():
        h, u = int(pop.stay_hh[s]), int(pop.stay_unit[s])
        start, end, kind = int(pop.stay_start[s]), int(pop.stay_end[s]), int(pop.stay_kind[s])
        tenants = [int(head[h])]
        if partner[h] >= 0 and rnd.random() < 0.6:
            tenants.append(int(partner[h]))
        if pop.h_type[h] == WIDOWED and len(tenants) == 2:
            if not (p.dod[tenants[1]] > today - 365 and rnd.random() < n.death_not_reflected):
                tenants = tenants[:1]  # the survivor succeeded to the tenancy
        if kind == DIED and end > today - 365 and rnd.random() < n.death_not_reflected:
            end = NEVER
        if kind == CURRENT and start > today - 2 * YEAR and rnd.random() < 0.08:
            tenure = "TEMPORARY"
        elif start > today - 365:
            tenure = "INTRODUCTORY"
        else:
            tenure = "FLEXIBLE" if rnd.random() < 0.05 else "SECURE"
        copies = 2 if rnd.random() < n.duplicate else 1
        for copy in range(copies):
            noise = n if copy == 0 else noisier
            ref = f"T{ck.next_number(TENANCIES):08d}"
            address = ck.address_line(u, noise, rnd).upper()
            for k, i in enumerate(tenants):
                first, _, surname = ck.name(i, noise, rnd)
                tenant_ref = f"{ref}/{k + 1}"
                rows.append(
                    [
                        ref,
                        tenant_ref,
                        "Y" if k == 0 else "N",
                        f"HSG{ck.units['uprn'][u] % 10**7:07d}",
                        ck.uprn(u, noise, rnd),
                        address,
                        ck.postcode(u, noise, rnd),
                        tenure,
                        oracle(to_date(start)),
                        oracle(to_date(end)) if end < NEVER else "",
                        ck.title[i],
                        first,
                        surname,
                        oracle(noisy_dob(ck.dob[i], noise, rnd)),
                        ck.phone[i],
                        ck.email[i],
                    ]
                )
                truth.append((TENANCIES, tenant_ref, ck.pid[i]))
    return rows, truth


def _nino(ck: Chunk, i: int) -> str:
    serial = (ck.index * 40_000 + i) % 4_000_000
    number, suffix = divmod(serial * 1_234_567 % 4_000_000, 4)  # a bijection: no repeats
    return f"ZZ{number:06d}{NINO_SUFFIX[suffix]}"


def benefit(ck: Chunk) -> tuple[list[list], list[tuple]]:
    n = DATASET_NOISE[BENEFIT]
    noisier = scaled(n, 4)
    rnd = ck.pyrandom()
    pop, rng, today = ck.pop, ck.rng, ck.today
    head, partner = _households(ck)
    council = np.asarray(ck.units["council"], dtype=bool)[pop.stay_unit]
    claims = rng.random(len(pop.stay_hh)) < np.where(council, 0.45, 0.10)
    rows: list[list] = []
    truth: list[tuple] = []
    for s in _stays(ck, claims).tolist():
        h, u = int(pop.stay_hh[s]), int(pop.stay_unit[s])
        start, end = int(pop.stay_start[s]), int(pop.stay_end[s])
        claim_start = max(start, today - int(rnd.uniform(0.2, 10) * YEAR))
        claim_end = end
        if end == NEVER and claim_start < today - 1 and rnd.random() < 0.15:
            claim_end = rnd.randint(claim_start + 1, today - 1)  # the claim ended, they stayed
        if claim_end <= claim_start:
            continue
        people = [int(head[h])]
        if partner[h] >= 0 and pop.h_type[h] != WIDOWED:
            people.append(int(partner[h]))
        shown = u
        moved = pop.stay_kind[s] == CURRENT and pop.old_unit[people[0]] >= 0
        if moved and rnd.random() < n.stale_address:
            shown = int(pop.old_unit[people[0]])
        copies = 2 if rnd.random() < n.duplicate else 1
        for copy in range(copies):
            noise = n if copy == 0 else noisier
            ref = str(10_000_000 + ck.next_number(BENEFIT))
            fields: list[str] = []
            for k in range(2):
                if k < len(people):
                    i = people[k]
                    first, _, surname = ck.name(i, noise, rnd)
                    nino = _nino(ck, i)
                    if rnd.random() < (0.02 if k == 0 else 0.1):
                        nino = ""
                    elif rnd.random() < 0.01:
                        nino = nino[:2] + typo(nino[2:8], rnd)[:6].ljust(6, "0") + nino[8]
                    fields += [
                        ck.title[i].upper(),
                        first.upper(),
                        surname.upper(),
                        uk(noisy_dob(ck.dob[i], noise, rnd)),
                        nino,
                    ]
                    truth.append((BENEFIT, f"{ref}#{k + 1}", ck.pid[i]))
                else:
                    fields += [""] * 5
            rows.append(
                [
                    ref,
                    *fields,
                    *ck.address_lines(shown, noise, rnd, 3),
                    ck.postcode(shown, noise, rnd),
                    uk(to_date(claim_start)),
                    uk(to_date(claim_end)) if claim_end < NEVER else "",
                ]
            )
    return rows, truth
