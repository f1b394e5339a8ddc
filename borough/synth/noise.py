"""The errors real council data carries, and how often each dataset makes them.

Every rate lives in ``DATASET_NOISE``: change them here and nowhere else. A rate is the share
of the records for which the error is possible (e.g. ``nickname`` is the share of records of
people whose first name has a known nickname; ``dob_swap`` the share of records whose date of
birth has a day of 12 or less that differs from the month).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, replace

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


@dataclass(frozen=True)
class Noise:
    typo_first: float = 0.01  # edit distance 1-2 in the first name
    typo_surname: float = 0.01
    nickname: float = 0.04  # Bob for Robert, Mo for Mohammed, Kasia for Katarzyna
    middle_dropped: float = 0.3  # of people with middle names, where the dataset holds them
    middle_initial: float = 0.2  # ... shown as initials only
    middle_added: float = 0.0  # an initial that is not in the truth
    stale_surname: float = 0.15  # of people whose surname changed: the birth surname shown
    hyphen_part: float = 0.3  # of double-barrelled surnames: one part only
    ascii_fold: float = 0.5  # accents dropped (Wiśniewski -> Wisniewski)
    dob_swap: float = 0.01  # day and month swapped
    dob_typo: float = 0.005  # a digit of the year or day wrong
    dob_missing: float = 0.0
    postcode_missing: float = 0.02
    postcode_mangled: float = 0.02  # no space, lower case, or O for 0
    address_abbreviated: float = 0.15  # RD for ROAD, HSE for HOUSE ...
    flat_dropped: float = 0.01  # the flat number left out of the address
    uprn_missing: float = 0.05  # where the dataset has a UPRN column
    duplicate: float = 0.005  # the same person recorded twice, with variation
    stale_address: float = 0.1  # of people who moved within the borough: old address kept
    death_not_reflected: float = 0.3  # of people who died in the last year: still present
    moved_out_kept: float = 0.1  # of people who left the borough in the last year: still present


DATASET_NOISE: dict[str, Noise] = {
    "council_tax": Noise(
        nickname=0.06,
        stale_surname=0.2,
        ascii_fold=1.0,
        address_abbreviated=0.05,
        postcode_missing=0.005,
        postcode_mangled=0.005,
        uprn_missing=0.02,
        duplicate=0.004,
        death_not_reflected=0.4,
        moved_out_kept=0.15,
    ),
    "electoral_register": Noise(
        typo_first=0.008,
        typo_surname=0.008,
        nickname=0.02,
        middle_dropped=0.15,
        middle_initial=0.05,
        stale_surname=0.1,
        ascii_fold=0.3,
        address_abbreviated=0.0,
        postcode_missing=0.0,
        postcode_mangled=0.0,
        uprn_missing=0.08,
        duplicate=0.006,
        stale_address=0.15,
        death_not_reflected=0.25,
        moved_out_kept=0.2,
    ),
    "housing_tenancies": Noise(
        nickname=0.05,
        ascii_fold=0.7,
        dob_swap=0.01,
        dob_typo=0.005,
        dob_missing=0.01,
        uprn_missing=0.01,
        duplicate=0.003,
        death_not_reflected=0.5,
    ),
    "housing_benefit": Noise(
        nickname=0.03,
        ascii_fold=1.0,
        dob_swap=0.008,
        dob_typo=0.004,
        stale_surname=0.1,
        address_abbreviated=0.25,
        duplicate=0.004,
        stale_address=0.05,
    ),
    "school_admissions": Noise(
        typo_first=0.015,
        typo_surname=0.015,
        nickname=0.02,
        middle_dropped=0.4,
        middle_initial=0.0,
        ascii_fold=0.2,
        dob_swap=0.015,
        dob_typo=0.005,
        address_abbreviated=0.3,
        postcode_mangled=0.04,
        duplicate=0.008,
        stale_address=0.25,
        death_not_reflected=0.0,  # a death closes the school record
        moved_out_kept=0.8,  # a child who left keeps their last school's record (2 years)
    ),
    "freedom_pass": Noise(
        nickname=0.04,
        stale_surname=0.2,
        ascii_fold=0.8,
        dob_swap=0.01,
        dob_typo=0.006,
        address_abbreviated=0.2,
        duplicate=0.005,
        stale_address=0.3,
        death_not_reflected=0.6,
        moved_out_kept=0.3,
    ),
    "parking_permits_history": Noise(
        typo_first=0.025,
        typo_surname=0.025,
        nickname=0.12,
        middle_added=0.01,
        stale_surname=0.15,
        ascii_fold=0.4,
        dob_swap=0.02,
        dob_typo=0.01,
        dob_missing=0.4,
        postcode_missing=0.03,
        postcode_mangled=0.08,
        address_abbreviated=0.35,
        flat_dropped=0.03,
        uprn_missing=0.15,
        duplicate=0.01,
        stale_address=0.1,
    ),
}


def scaled(noise: Noise, factor: float) -> Noise:
    """Every error rate multiplied by ``factor`` (capped at 1) — for clean or dirty runs."""
    return replace(noise, **{k: min(1.0, v * factor) for k, v in noise.__dict__.items()})


_NEIGHBOURS = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyz",
        [
            "qs",
            "vn",
            "xv",
            "sf",
            "wr",
            "dg",
            "fh",
            "gj",
            "uo",
            "hk",
            "jl",
            "k",
            "n",
            "bm",
            "ip",
            "o",
            "w",
            "et",
            "ad",
            "ry",
            "yi",
            "cb",
            "qe",
            "zc",
            "tu",
            "x",
        ],
        strict=True,
    )
)


def typo(text: str, rnd: random.Random) -> str:
    """One edit (three times in four) or two: a key next to the right one, a letter dropped,
    doubled, or two letters swapped."""
    for _ in range(1 if rnd.random() < 0.75 else 2):
        if len(text) < 2:
            return text
        i = rnd.randrange(len(text))
        op = rnd.random()
        c = text[i]
        if op < 0.35 and c.lower() in _NEIGHBOURS:
            new = rnd.choice(_NEIGHBOURS[c.lower()])
            text = text[:i] + (new.upper() if c.isupper() else new) + text[i + 1 :]
        elif op < 0.6 and len(text) > 3:
            text = text[:i] + text[i + 1 :]
        elif op < 0.8:
            text = text[:i] + c + text[i:]
        elif i < len(text) - 1:
            text = text[:i] + text[i + 1] + c + text[i + 2 :]
    return text


def to_date(days: int) -> dt.date:
    return dt.date.fromordinal(days + _EPOCH_ORDINAL)


def to_days(d: dt.date) -> int:
    return d.toordinal() - _EPOCH_ORDINAL


def noisy_dob(days: int, n: Noise, rnd: random.Random) -> dt.date | None:
    """A date of birth as a dataset holds it: sometimes missing, swapped or mistyped."""
    if n.dob_missing and rnd.random() < n.dob_missing:
        return None
    d = to_date(days)
    if d.day <= 12 and d.day != d.month and rnd.random() < n.dob_swap:
        return d.replace(day=d.month, month=d.day)
    if rnd.random() < n.dob_typo:
        if rnd.random() < 0.5:
            year = d.year + rnd.choice((-10, -1, 1, 10))
            return d.replace(year=year, day=min(d.day, 28))
        return d.replace(day=min(28, max(1, d.day + rnd.choice((-1, 1, 10, -10)))))
    return d


def add_years(d: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (28 February for 29 February in a common year)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def iso(d: dt.date | None) -> str:
    return d.isoformat() if d else ""


def uk(d: dt.date | None) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}" if d else ""


def oracle(d: dt.date | None) -> str:
    return f"{d.day:02d}-{MONTHS[d.month - 1]}-{d.year}" if d else ""


def noisy_postcode(pc: str, n: Noise, rnd: random.Random) -> str:
    u = rnd.random()
    if u < n.postcode_missing:
        return ""
    if u < n.postcode_missing + n.postcode_mangled:
        how = rnd.random()
        if how < 0.4:
            return pc.replace(" ", "")
        if how < 0.7:
            return pc.lower()
        if how < 0.85 and "0" in pc:
            return pc.replace("0", "O", 1)
        return pc[:-2] + pc[-1] + pc[-2]  # last two letters swapped
    return pc


ABBREVIATIONS = {
    "ROAD": "RD",
    "STREET": "ST",
    "AVENUE": "AVE",
    "GROVE": "GR",
    "CLOSE": "CL",
    "TERRACE": "TER",
    "GARDENS": "GDNS",
    "PLACE": "PL",
    "LANE": "LN",
    "CRESCENT": "CRES",
    "SQUARE": "SQ",
    "COURT": "CT",
    "HOUSE": "HSE",
    "DRIVE": "DR",
    "MANSIONS": "MANS",
}


def abbreviate(text: str) -> str:
    return " ".join(ABBREVIATIONS.get(w, w) for w in text.split(" "))
