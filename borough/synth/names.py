"""Name pools for a diverse borough, read from Faker's locale word lists and sampled with NumPy.

Faker is never called per record: its provider classes are only read for their name tuples
(which is all ``fake.first_name()`` does underneath), so a million names cost one ``take``.
Where Faker has no romanised list for a community the borough has (Bengali, Pakistani,
Chinese first names), a short curated list ships in ``data/names_extra.csv``.
"""

from __future__ import annotations

import csv
import functools
import importlib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class NameGroup:
    """A naming tradition: its pools, its share of households and its marriage customs."""

    key: str
    share: float  # share of households whose lead person belongs to this group
    language: str  # ISO 639-1 code of the group's main language
    language_rate: float  # share of adults in the group whose main language it is
    middle_rate: float  # share of people given a middle name
    take_surname: float  # share of married women who take their husband's surname
    hyphenate: float  # share of married couples who both take a double-barrelled surname
    compound_surname: float  # share of people with two surnames ("García López")
    male: np.ndarray
    female: np.ndarray
    surnames: np.ndarray
    surname_p: np.ndarray | None
    female_surnames: np.ndarray  # surnames some women hold whatever their husband's ("Begum")
    female_surname_rate: float


_RATES = (
    "share",
    "language_rate",
    "middle_rate",
    "take_surname",
    "hyphenate",
    "compound_surname",
    "female_surname_rate",
)

# Polish surnames agree with the holder's sex: Kowalski / Kowalska.
_POLISH_FEMININE = (("dzki", "dzka"), ("cki", "cka"), ("ski", "ska"))


def _latin(name: str) -> bool:
    return bool(name) and all(ord(c) < 0x250 or c in "’'" for c in name)


@functools.lru_cache(maxsize=1)
def _extra() -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    with open(DATA / "names_extra.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault((row["group"], row["kind"]), []).append(row["name"])
    return out


def _pool(spec: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Names (deduplicated, in source order) and weights if every source carries them."""
    names: dict[str, float] = {}
    weighted = True
    for part in spec.split("+"):
        if part.startswith("extra:"):
            _, group, kind = part.split(":")
            values: object = _extra()[(group, kind)]
        else:
            locale, attr = part.split(":")
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
            values = getattr(provider, attr)
        if isinstance(values, dict):
            items = list(values.items())
        else:
            weighted = False
            items = [(v, 1.0) for v in values]
        for name, weight in items:
            name = name.strip()
            if _latin(name):
                names[name] = names.get(name, 0.0) + float(weight)
    arr = np.array(list(names), dtype=object)
    if not weighted:
        return arr, None
    p = np.array(list(names.values()), dtype=float)
    return arr, p / p.sum()


@functools.lru_cache(maxsize=1)
def groups() -> tuple[NameGroup, ...]:
    """The borough's naming groups (``data/name_groups.csv``), in a fixed order: their index
    is what is stored per person."""
    extra = _extra()
    out = []
    with open(DATA / "name_groups.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            key = row["key"]
            rates = {k: float(row[k]) for k in _RATES}
            out.append(
                NameGroup(
                    key=key,
                    language=row["language"],
                    male=_pool(row["male"])[0],
                    female=_pool(row["female"])[0],
                    surnames=_pool(row["surnames"])[0],
                    surname_p=_pool(row["surnames"])[1],
                    female_surnames=np.array(extra.get((key, "female_surname"), []), dtype=object),
                    **rates,
                )
            )
    total = sum(g.share for g in out)
    assert abs(total - 1.0) < 1e-9, total
    return tuple(out)


def group_shares() -> np.ndarray:
    return np.array([g.share for g in groups()])


def feminine_surname(surname: str) -> str:
    """The feminine form of a Polish surname (other surnames are returned unchanged)."""
    for masc, fem in _POLISH_FEMININE:
        if surname.endswith(masc):
            return surname[: -len(masc)] + fem
    return surname


@functools.lru_cache(maxsize=200_000)
def ascii_fold(text: str) -> str:
    """Drop accents the way older council systems do: Yılmaz -> Yilmaz, Wiśniewski -> Wisniewski."""
    text = text.translate(_FOLD_EXTRA)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_FOLD_EXTRA = str.maketrans(
    {
        "ı": "i",
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "ß": "ss",
        "đ": "d",
        "Đ": "D",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "ə": "e",
    }
)


@functools.lru_cache(maxsize=1)
def nicknames() -> dict[str, tuple[str, ...]]:
    """Formal name -> the nicknames and spellings the same person also goes by."""
    out: dict[str, list[str]] = {}
    with open(DATA / "nicknames.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["name"], []).append(row["variant"])
    return {k: tuple(v) for k, v in out.items()}


@functools.lru_cache(maxsize=1)
def words() -> dict[str, list[str]]:
    """Street, block, ward and school words for the borough's place names."""
    out: dict[str, list[str]] = {}
    with open(DATA / "words.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["kind"], []).append(row["word"])
    return out
