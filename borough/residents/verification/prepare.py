"""The fields the linkage model compares, derived in Python for one applicant.

``model.PREPARE_SQL`` derives them in DuckDB for the batch (and for the verification index, which
runs the same SQL). ``prepare`` is its mirror for a single record, so an applicant is compared on
exactly the values a source record would be; ``tests/verification/test_prepare.py`` checks the two
agree on every record of a synthetic borough.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_SECTOR = re.compile(r"^(.+ [0-9])[A-Z]{2}$")
_NUMBERS = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class Dob:
    days: int  # days since 1970-01-01
    year: int
    month: int
    day: int

    @classmethod
    def of(cls, value: dt.date) -> Dob:
        return cls((value - dt.date(1970, 1, 1)).days, value.year, value.month, value.day)


@dataclass(frozen=True, slots=True)
class Prepared:
    """One record's compared fields; ``None`` where the record has no value."""

    first_name: str | None = None
    first_name_canonical: str | None = None
    middle_names: str | None = None
    middle_initial: str | None = None
    surname: str | None = None
    surname_first_part: str | None = None
    surname_last_part: str | None = None
    dob: Dob | None = None
    postcode: str | None = None
    postcode_sector: str | None = None
    uprn: int | None = None
    address_numbers: str | None = None
    address_text: str | None = None
    email: str | None = None
    national_id: str | None = None


def _blank(value: str | None) -> str | None:
    return value if value else None


def prepare(
    *,
    first_name: str | None = None,
    first_name_canonical: str | None = None,
    middle_names: str | None = None,
    surname: str | None = None,
    date_of_birth: dt.date | None = None,
    postcode: str | None = None,
    uprn: int | None = None,
    address_text: str | None = None,
    email: str | None = None,
    national_id: str | None = None,
) -> Prepared:
    """``PREPARE_SQL`` for one record of standardised values (``standardise.py``)."""
    first = _blank(first_name)
    canonical = _blank(first_name_canonical or first)
    middle = _blank(middle_names)
    surname = _blank(surname)
    parts = surname.replace("-", " ").split(" ") if surname is not None else None
    postcode = _blank(postcode)
    sector = None
    if postcode is not None:
        found = _SECTOR.match(postcode)
        sector = _blank(found.group(1)) if found else None
    numbers = None
    if address_text:
        numbers = _blank(" ".join(sorted(_NUMBERS.findall(address_text))))
    email = _blank(email.strip(" ").lower()) if email else None
    return Prepared(
        first_name=first,
        first_name_canonical=canonical,
        middle_names=middle,
        middle_initial=middle[0] if middle else None,
        surname=surname,
        surname_first_part=_blank(parts[0]) if parts else None,
        surname_last_part=_blank(parts[-1]) if parts else None,
        dob=Dob.of(date_of_birth) if date_of_birth else None,
        postcode=postcode,
        postcode_sector=sector,
        uprn=int(uprn) if uprn else None,
        address_numbers=numbers,
        address_text=_blank(address_text),
        email=email,
        national_id=_blank(national_id),
    )
