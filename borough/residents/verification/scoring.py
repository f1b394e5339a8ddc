"""Scoring one pair of records with the trained Splink model, in Python.

Splink scores pairs in SQL; an online verification cannot afford that per look-up (about 300 ms
at a million records, ``docs/linkage.md``). ``Scorer`` evaluates the same comparison levels
(``model.comparisons``) as Python predicates with ``rapidfuzz`` (whose Jaro-Winkler and
Levenshtein are the ones DuckDB uses) and applies the trained model's m and u probabilities and
term-frequency adjustments exactly as Splink does:

    match weight = log2(prior odds) + sum over comparisons of log2(m / u × tf adjustment)

    tf adjustment = (u of the exact level / max(tf of the left value, tf of the right value))
                    ** tf_adjustment_weight

where a value's tf is its share of the non-null values of its column in the linked records.
The batch's household-move evidence (``model.HOUSEHOLD_MOVES_SQL``) needs two homes and other
people's moves between them; an applicant has neither, so it adds nothing online.

SQL ``NULL`` semantics: a condition that touches a missing value is not true; every predicate
here returns False in that case. ``tests/verification`` checks each level against DuckDB on
random and blocked pairs, and whole scores against Splink's own.
"""

# ruff: noqa: E741 - "l" and "r" are the left and right records, as in Splink's "_l"/"_r" columns

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import JaroWinkler, Levenshtein

from borough.residents.verification.prepare import Prepared

Predicate = Callable[[Prepared, Prepared], bool]


def _jw(a: str | None, b: str | None, at_least: float) -> bool:
    return a is not None and b is not None and JaroWinkler.similarity(a, b) >= at_least


def _lev(a: str | None, b: str | None, at_most: int) -> bool:
    return (
        a is not None
        and b is not None
        and Levenshtein.distance(a, b, score_cutoff=at_most) <= at_most
    )


def _eq(a: Any, b: Any) -> bool:
    return a is not None and a == b


# -- first name --------------------------------------------------------------------------


def _first_part(name: str) -> str:
    return name.split(" ", 1)[0]


FIRST_NAME: dict[str, Predicate] = {
    "Null": lambda l, r: l.first_name is None or r.first_name is None,
    "Exact": lambda l, r: _eq(l.first_name, r.first_name),
    "Same canonical name": lambda l, r: _eq(l.first_name_canonical, r.first_name_canonical),
    "Jaro-Winkler >= 0.92": lambda l, r: _jw(l.first_name, r.first_name, 0.92),
    "One edit apart (typo)": lambda l, r: _lev(l.first_name, r.first_name, 1),
    "First part equal, or first name is the other's middle name": lambda l, r: (
        (
            l.first_name is not None
            and r.first_name is not None
            and _first_part(l.first_name) == _first_part(r.first_name)
        )
        or _eq(l.first_name, r.middle_names)
        or _eq(l.middle_names, r.first_name)
    ),
    "Two edits apart (a swap of two letters is two)": lambda l, r: _lev(
        l.first_name, r.first_name, 2
    ),
    "Jaro-Winkler >= 0.8": lambda l, r: _jw(l.first_name, r.first_name, 0.8),
}

# -- date of birth -----------------------------------------------------------------------


def _dob_two_of_three(l: Prepared, r: Prepared) -> bool:
    a, b = l.dob, r.dob
    if a is None or b is None:
        return False
    return (a.year == b.year) + (a.month == b.month) + (a.day == b.day) == 2


DATE_OF_BIRTH: dict[str, Predicate] = {
    "Null": lambda l, r: l.dob is None or r.dob is None,
    "Exact": lambda l, r: l.dob is not None and r.dob is not None and l.dob.days == r.dob.days,
    "Day and month swapped": lambda l, r: (
        l.dob is not None
        and r.dob is not None
        and l.dob.year == r.dob.year
        and l.dob.month == r.dob.day
        and l.dob.day == r.dob.month
    ),
    "Two of year, month, day equal": _dob_two_of_three,
    "Within a year": lambda l, r: (
        l.dob is not None and r.dob is not None and abs(l.dob.days - r.dob.days) <= 366
    ),
}

# -- surname and address together ---------------------------------------------------------


def _address_comparable(l: Prepared, r: Prepared) -> bool:
    return (
        (l.uprn is not None and r.uprn is not None)
        or (l.postcode is not None and r.postcode is not None)
        or (l.address_text is not None and r.address_text is not None)
    )


def _same_home(l: Prepared, r: Prepared) -> bool:
    if _eq(l.uprn, r.uprn):
        return True
    if l.uprn is not None and r.uprn is not None:
        return False
    if _eq(l.address_text, r.address_text):
        return True
    if not _eq(l.address_numbers, r.address_numbers):
        return False
    if _eq(l.postcode, r.postcode):
        return True
    # postcodes in two different sectors are two places, however alike the text
    sectors_differ = (
        l.postcode_sector is not None
        and r.postcode_sector is not None
        and l.postcode_sector != r.postcode_sector
    )
    if sectors_differ or l.address_text is None or r.address_text is None:
        return False
    return (
        _jw(l.address_text, r.address_text, 0.9)
        or l.address_text.startswith(r.address_text)
        or r.address_text.startswith(l.address_text)
    )


def _similar_surname(l: Prepared, r: Prepared) -> bool:
    if _jw(l.surname, r.surname, 0.88):
        return True
    parts_r = (r.surname_first_part, r.surname_last_part)
    return (l.surname_first_part is not None and l.surname_first_part in parts_r) or (
        l.surname_last_part is not None and l.surname_last_part in parts_r
    )


_SURNAMES: tuple[tuple[str, Predicate | None], ...] = (
    ("Same surname", lambda l, r: _eq(l.surname, r.surname)),
    ("Similar surname", _similar_surname),
    ("Other surname", None),
)
_ADDRESSES: tuple[tuple[str, Predicate | None], ...] = (
    ("same home", _same_home),
    ("same postcode, other home", lambda l, r: _eq(l.postcode, r.postcode)),
    ("same postcode sector", lambda l, r: _eq(l.postcode_sector, r.postcode_sector)),
    ("different address", _address_comparable),
    ("address unknown", None),
)


def _both(a: Predicate | None, b: Predicate | None) -> Predicate | None:
    if a is None:
        return b
    if b is None:
        return a
    return lambda l, r: a(l, r) and b(l, r)


SURNAME_ADDRESS: dict[str, Predicate | None] = {
    "Null": lambda l, r: not _address_comparable(l, r) and (l.surname is None or r.surname is None),
    **{
        f"{s_label}, {a_label}": _both(s_pred, a_pred)
        for s_label, s_pred in _SURNAMES
        for a_label, a_pred in _ADDRESSES
    },
}

# -- middle names, e-mail ----------------------------------------------------------------

MIDDLE_NAMES: dict[str, Predicate] = {
    "Null": lambda l, r: l.middle_initial is None or r.middle_initial is None,
    "Exact": lambda l, r: _eq(l.middle_names, r.middle_names),
    "Same initial": lambda l, r: _eq(l.middle_initial, r.middle_initial),
}

EMAIL: dict[str, Predicate] = {
    "Null": lambda l, r: l.email is None or r.email is None,
    "Exact": lambda l, r: _eq(l.email, r.email),
}

NATIONAL_ID: dict[str, Predicate] = {
    "Null": lambda l, r: l.national_id is None or r.national_id is None,
    "Exact": lambda l, r: _eq(l.national_id, r.national_id),
    "One edit apart (typo)": lambda l, r: _lev(l.national_id, r.national_id, 1),
}

#: Python predicates for every level of ``model.comparisons()``, by comparison and level label.
#: A level whose predicate is ``None`` (or is missing: "All other comparisons") always holds.
PREDICATES: dict[str, Mapping[str, Predicate | None]] = {
    "first_name": FIRST_NAME,
    "date_of_birth": DATE_OF_BIRTH,
    "surname_address": SURNAME_ADDRESS,
    "middle_names": MIDDLE_NAMES,
    "email": EMAIL,
    "national_id": NATIONAL_ID,
}
ELSE_LABEL = "All other comparisons"

#: What each comparison is called in reasons given to people.
COMPARISON_NAMES = {
    "first_name": "first name",
    "date_of_birth": "date of birth",
    "surname_address": "surname and address",
    "middle_names": "middle names",
    "email": "email address",
    "national_id": "identity number",
}


@dataclass(frozen=True, slots=True)
class Level:
    label: str
    predicate: Predicate | None
    is_null: bool
    bits: float  # log2(m / u); 0 for the null level
    tf_column: str | None  # "first_name" / "surname": adjust by that value's frequency
    tf_u_exact: float  # the u that the frequency replaces
    tf_weight: float
    tf_minimum_u: float


@dataclass(frozen=True, slots=True)
class LevelResult:
    comparison: str
    label: str
    bits: float  # this comparison's part of the match weight, tf adjustment included


@dataclass(frozen=True, slots=True)
class Score:
    match_weight: float
    probability: float
    levels: tuple[LevelResult, ...]


class ModelMismatch(ValueError):
    """The trained model has a comparison or level this scorer has no predicate for."""


class Scorer:
    """The trained model (Splink settings dict, as saved by ``pipeline.link``) with the term
    frequencies of the records it scores against (``tf``: column -> value -> share)."""

    def __init__(self, trained: dict[str, Any], tf: Mapping[str, Mapping[str, float]]):
        self.prior = float(trained["probability_two_random_records_match"])
        self.prior_weight = math.log2(self.prior / (1 - self.prior))
        self.tf = tf
        self.comparisons: list[tuple[str, tuple[Level, ...]]] = []
        for comparison in trained["comparisons"]:
            name = comparison["output_column_name"]
            predicates = PREDICATES.get(name)
            if predicates is None:
                raise ModelMismatch(f"the model compares {name!r}, which the scorer does not know")
            levels = []
            for level in comparison["comparison_levels"]:
                label = level.get("label_for_charts", "")
                if label not in predicates and label != ELSE_LABEL:
                    raise ModelMismatch(f"no predicate for {name}: {label!r}")
                is_null = bool(level.get("is_null_level"))
                bits = 0.0
                if not is_null:
                    bits = math.log2(level["m_probability"] / level["u_probability"])
                tf_column = level.get("tf_adjustment_column")
                levels.append(
                    Level(
                        label=label,
                        predicate=predicates.get(label),
                        is_null=is_null,
                        bits=bits,
                        tf_column=tf_column,
                        tf_u_exact=_u_exact(comparison, level) if tf_column else 0.0,
                        tf_weight=float(level.get("tf_adjustment_weight", 1.0)),
                        tf_minimum_u=float(level.get("tf_minimum_u_value", 0.0)),
                    )
                )
            self.comparisons.append((name, tuple(levels)))

    def _tf_bits(self, level: Level, l: Prepared, r: Prepared) -> float:
        column = level.tf_column
        if column is None or level.tf_weight == 0:
            return 0.0
        table = self.tf.get(column, {})
        tf_l = table.get(getattr(l, column)) if getattr(l, column) is not None else None
        tf_r = table.get(getattr(r, column)) if getattr(r, column) is not None else None
        if tf_l is None and tf_r is None:
            return 0.0
        divisor = max(x for x in (tf_l, tf_r, level.tf_minimum_u) if x is not None)
        return level.tf_weight * math.log2(level.tf_u_exact / divisor)

    def score(self, l: Prepared, r: Prepared) -> Score:
        total = self.prior_weight
        results = []
        for name, levels in self.comparisons:
            for level in levels:
                if level.predicate is None or level.predicate(l, r):
                    bits = 0.0 if level.is_null else level.bits + self._tf_bits(level, l, r)
                    total += bits
                    results.append(LevelResult(name, level.label, bits))
                    break
            else:  # pragma: no cover - every comparison ends with an ELSE level
                raise ModelMismatch(f"no level of {name} applied")
        return Score(total, probability(total), tuple(results))


def probability(match_weight: float) -> float:
    if match_weight == math.inf:
        return 1.0
    if match_weight == -math.inf:
        return 0.0
    return 1.0 / (1.0 + 2.0 ** (-match_weight))


def _u_exact(comparison: dict[str, Any], level: dict[str, Any]) -> float:
    """The u a term frequency replaces: the level's own when exact-match detection is off
    (surname levels), else the comparison's exact level on the tf column (first name)."""
    if level.get("disable_tf_exact_match_detection"):
        return float(level["u_probability"])
    column = level["tf_adjustment_column"]
    exact = f'"{column}_l" = "{column}_r"'
    for candidate in comparison["comparison_levels"]:
        if candidate.get("sql_condition") == exact:
            return float(candidate["u_probability"])
    raise ModelMismatch(f"no exact level on {column} for its term-frequency adjustment")
