"""Vehicles kept by households, with current-format UK registration marks.

A mark is a two-letter memory tag (region letter, then a letter other than I, Q or Z), a
two-digit age identifier (the year for March-August registrations, year + 50 for
September-February), and three random letters without I or Q. Marks are unique across the
whole run by construction: within an age identifier, the mark is a fixed bijection of a serial
number that no two chunks share. (DVLA also withholds offensive combinations; we do not.)
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import itertools
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .noise import to_date, to_days

COLUMNS = [
    "registration",
    "make",
    "model",
    "colour",
    "fuel_type",
    "co2_emissions",
    "engine_capacity",
    "year_of_manufacture",
    "month_of_first_registration",
    "tax_status",
    "mot_status",
    "keeper_person_id",
    "keeper_uprn",
]
REGIONS = "ABCDEFGHKLMNOPRSVWY"
TAG_SECOND = "ABCDEFGHJKLMNOPRSTUVWXY"
RANDOM_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXYZ"
_TAGS = [a + b for a in REGIONS for b in TAG_SECOND]
_SPACE = len(_TAGS) * len(RANDOM_LETTERS) ** 3
_MULTIPLIER = 1_000_003  # prime, coprime with _SPACE, so serial -> mark is a bijection
SERIALS_PER_CHUNK = 5000  # per age identifier
COLOURS = (
    ("BLACK", 20),
    ("WHITE", 19),
    ("GREY", 17),
    ("SILVER", 12),
    ("BLUE", 14),
    ("RED", 9),
    ("GREEN", 2),
    ("ORANGE", 1),
    ("YELLOW", 1),
    ("BROWN", 1),
    ("BEIGE", 1),
    ("PURPLE", 1),
    ("GOLD", 1),
    ("MAROON", 1),
)
HAS_VEHICLE = 0.35  # share of households keeping at least one vehicle
HAS_VEHICLE_CAR_FREE = 0.12  # ... in car-free developments


def age_identifier(year: int, month: int) -> int:
    """The age identifier for a first registration in this month (current format only)."""
    if (year, month) < (2001, 9):
        raise ValueError("current-format marks began in September 2001")
    if 3 <= month <= 8:
        return year % 100
    return (year if month >= 9 else year - 1) % 100 + 50


def registration(age_id: int, serial: int) -> str:
    index = (serial * _MULTIPLIER + age_id * 7919) % _SPACE
    tag, rest = divmod(index, len(RANDOM_LETTERS) ** 3)
    n = len(RANDOM_LETTERS)
    letters = (
        RANDOM_LETTERS[rest // n // n] + RANDOM_LETTERS[rest // n % n] + RANDOM_LETTERS[rest % n]
    )
    return f"{_TAGS[tag]}{age_id:02d}{letters}"


@functools.lru_cache(maxsize=1)
def models() -> list[dict[str, str]]:
    with open(Path(__file__).parent / "data" / "vehicles.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@dataclass
class Vehicles:
    household: list[int]
    keeper: list[int]  # local person index
    registration: list[str]
    registered: list[int]  # first registration, days since 1970-01-01
    rows: list[list]


def make_vehicles(
    chunk: int,
    households: np.ndarray,
    keeper: np.ndarray,
    ref_day: np.ndarray,
    car_free: np.ndarray,
    person_id: list[int],
    keeper_uprn: list[str],
    rng: np.random.Generator,
    rnd: random.Random,
) -> Vehicles:
    """Vehicles for the given households (``keeper``: one per them); ``ref_day`` and
    ``car_free`` are indexed by household."""
    p_any = np.where(car_free[households], HAS_VEHICLE_CAR_FREE, HAS_VEHICLE)
    count = np.where(
        rng.random(len(households)) < p_any,
        rng.choice([1, 2, 3], size=len(households), p=[0.8, 0.17, 0.03]),
        0,
    )
    table = models()
    cum_weights = list(itertools.accumulate(float(m["weight"]) for m in table))
    colours, colour_w = zip(*COLOURS, strict=True)
    colour_cum = list(itertools.accumulate(colour_w))
    serials: dict[int, int] = {}
    out = Vehicles([], [], [], [], [])
    for h, k, c in zip(households.tolist(), keeper.tolist(), count.tolist(), strict=True):
        ref = to_date(int(ref_day[h]))
        for _ in range(c):
            m = rnd.choices(table, cum_weights=cum_weights)[0]
            lo = max(int(m["year_from"]), 2001)
            hi = min(int(m["year_to"]), ref.year)
            if lo > hi:
                lo = hi = ref.year
            # cars are about 8 years old on average (the UK fleet), few under three
            year = min(hi, max(lo, ref.year - int(rnd.gammavariate(2.2, 3.8))))
            month = rnd.randint(9 if year == 2001 else 1, ref.month if year == ref.year else 12)
            age_id = age_identifier(year, month)
            serial = serials.get(age_id, 0)
            if serial >= SERIALS_PER_CHUNK:
                raise OverflowError("too many vehicles of one age in a chunk")
            serials[age_id] = serial + 1
            reg = registration(age_id, chunk * SERIALS_PER_CHUNK + serial)
            electric = m["fuel_type"] == "ELECTRICITY"
            co2 = "0" if electric else str(rnd.randint(int(m["co2_min"]), int(m["co2_max"])))
            if year <= 2005 and rnd.random() < 0.15:
                co2 = ""  # not recorded for some older vehicles
            cc = "" if electric else rnd.choice((m["engine_cc_min"], m["engine_cc_max"]))
            made = year - (1 if rnd.random() < (0.4 if month <= 2 else 0.1) else 0)
            age_years = (ref.year - year) + (ref.month - month) / 12
            mot = (
                "No details held by DVLA"
                if age_years < 3
                else "Valid"
                if rnd.random() < 0.88
                else "Not valid"
            )
            u = rnd.random()
            tax = "Taxed" if u < 0.9 else "SORN" if u < 0.94 else "Untaxed"
            out.rows.append(
                [
                    reg,
                    m["make"],
                    m["model"],
                    rnd.choices(colours, cum_weights=colour_cum)[0],
                    m["fuel_type"],
                    co2,
                    cc,
                    made,
                    f"{year}-{month:02d}",
                    tax,
                    mot,
                    person_id[k],
                    keeper_uprn[k],
                ]
            )
            out.household.append(h)
            out.keeper.append(k)
            out.registration.append(reg)
            out.registered.append(to_days(dt.date(year, month, 1)))
    return out
