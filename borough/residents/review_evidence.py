"""What an officer is shown to decide a clerical review case (``review_views``): the case's two
source records side by side, field by field (``compare_fields``), the level the model gives each
comparison for the two records as they are now (``comparison_levels``), and what each comparison
added to or took from the match weight, in plain English (``explain``). Reads only; the queue
and the decisions are in ``review.py``, which records the data-use events."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from borough.residents.linkage import model as linkage_model
from borough.residents.models import ReviewCase, SourceRecord
from borough.residents.queries import LINKAGE_SCHEMA
from borough.residents.review import dataset_code, record_ref

# -- the two records, compared ---------------------------------------------------------------


def case_records(case: ReviewCase) -> tuple[SourceRecord | None, SourceRecord | None]:
    """The case's two source records (None for one Borough no longer holds)."""
    wanted = [case.unique_id_l, case.unique_id_r]
    found = {}
    for unique_id in wanted:
        found[unique_id] = (
            SourceRecord.objects.select_related("dataset")
            .filter(dataset__code=dataset_code(unique_id), record_ref=record_ref(unique_id))
            .first()
        )
    return found[case.unique_id_l], found[case.unique_id_r]


@dataclass(frozen=True)
class FieldComparison:
    label: str
    left: str
    right: str
    mark: str  # "agree", "differ" or "missing"
    left_note: str = ""
    right_note: str = ""


def _mark(left, right, *, also: tuple | None = None) -> str:
    if left in (None, "") or right in (None, ""):
        return "missing"
    if left == right:
        return "agree"
    if also and also[0] not in (None, "") and also[0] == also[1]:
        return "agree"
    return "differ"


def _given(record: SourceRecord, given: str, standard) -> tuple[str, str]:
    """The value as the source gave it; if the source gave none in this field but Borough
    derived one (a name split from the full name, a UPRN matched from the address), that."""
    if given.strip():
        return given.strip(), ""
    if standard not in (None, ""):
        return str(standard), "derived"
    return "", ""


_DERIVED_NOTES = {
    "first_name": "From the full name",
    "middle_names": "From the full name",
    "surname": "From the full name",
    "uprn": "Matched from the address",
}


def compare_fields(left: SourceRecord, right: SourceRecord) -> list[FieldComparison]:
    """Each person field of the two records as given, marked by comparing the standardised
    values: agree (the same), differ, or missing (at least one record has none)."""
    specs = [
        # label, given field, standardised field(s) compared, key for the derived note
        ("First name", "first_name", ("first_name_std", "first_name_canonical"), "first_name"),
        ("Middle names", "middle_names", ("middle_names_std",), "middle_names"),
        ("Surname", "surname", ("surname_std",), "surname"),
        ("Date of birth", "date_of_birth_given", ("date_of_birth",), ""),
        ("Address", "address_given", ("address_text",), ""),
        ("Postcode", "postcode_given", ("postcode",), ""),
        ("UPRN", "uprn_given", ("uprn",), "uprn"),
        ("Email", "email", ("email_std",), ""),
        ("Identity number", "national_id", ("national_id_std",), ""),
    ]
    rows = []
    for label, given, standard, derived_key in specs:
        main = standard[0]
        l_std, r_std = getattr(left, main), getattr(right, main)
        also = (
            (getattr(left, standard[1]), getattr(right, standard[1])) if len(standard) > 1 else None
        )
        l_value, l_how = _given(left, getattr(left, given), l_std if derived_key else None)
        r_value, r_how = _given(right, getattr(right, given), r_std if derived_key else None)
        rows.append(
            FieldComparison(
                label=label,
                left=l_value,
                right=r_value,
                mark=_mark(l_std, r_std, also=also),
                left_note=_DERIVED_NOTES.get(derived_key, "") if l_how else "",
                right_note=_DERIVED_NOTES.get(derived_key, "") if r_how else "",
            )
        )
    return rows


def _linkage_row(record: SourceRecord) -> dict:
    """The record as ``queries.records_for_linkage`` gives it to the model."""
    return {
        "unique_id": record.unique_id,
        "source_dataset": record.dataset.code,
        "first_name": record.first_name_std or None,
        "first_name_canonical": record.first_name_canonical or None,
        "middle_names": record.middle_names_std or None,
        "surname": record.surname_std or None,
        "date_of_birth": record.date_of_birth.isoformat() if record.date_of_birth else None,
        "postcode": record.postcode or None,
        "uprn": record.uprn,
        "address_text": record.address_text or None,
        "email": record.email_std or None,
        "phone": record.phone_std or None,
        "national_id": record.national_id_std or None,
        "link_only": _link_only(record.dataset.code),
    }


def _link_only(code: str) -> bool:
    """Whether the dataset is declared ``link_only`` (False if it is no longer declared)."""
    from borough.residents.config import DatasetConfigError, dataset_config

    try:
        return dataset_config(code).link_only
    except DatasetConfigError:
        return False


def comparison_levels(left: SourceRecord, right: SourceRecord) -> dict[str, tuple[str, bool]]:
    """comparison name -> (the model's level label, whether term frequencies adjust it) for the
    two records as they are now: the model's own SQL (``linkage.model.comparisons``), run by
    DuckDB on the two records prepared as a link prepares them."""
    frame = pa.Table.from_pylist([_linkage_row(left), _linkage_row(right)], schema=LINKAGE_SCHEMA)
    comparisons = linkage_model.comparisons()
    con = duckdb.connect(":memory:")
    try:
        con.register("pair_input", frame)
        con.execute(
            "CREATE TABLE records AS " + linkage_model.PREPARE_SQL.format(source="pair_input")
        )
        columns = [d[0] for d in con.execute("SELECT * FROM records LIMIT 0").description]
        pair = ", ".join(f'l."{c}" AS "{c}_l", r."{c}" AS "{c}_r"' for c in columns)
        cases = []
        for comparison in comparisons:
            levels = comparison["comparison_levels"]
            whens = " ".join(
                f"WHEN {level['sql_condition']} THEN {i}"
                for i, level in enumerate(levels)
                if level["sql_condition"] != "ELSE"
            )
            otherwise = next(
                (i for i, level in enumerate(levels) if level["sql_condition"] == "ELSE"), "NULL"
            )
            cases.append(f"CASE {whens} ELSE {otherwise} END")
        # the SQL is the model's own, from linkage/model.py; the values are bound as parameters
        found = con.execute(
            f"SELECT {', '.join(cases)} FROM (SELECT {pair} FROM records l, records r "  # noqa: S608
            "WHERE l.unique_id = ? AND r.unique_id = ?)",
            [left.unique_id, right.unique_id],
        ).fetchone()
    finally:
        con.close()
    out = {}
    for comparison, index in zip(comparisons, found or [], strict=False):
        if index is None:
            continue
        level = comparison["comparison_levels"][index]
        out[comparison["output_column_name"]] = (
            level["label_for_charts"],
            "tf_adjustment_column" in level,
        )
    return out


# -- the match weight, in plain English -------------------------------------------------------

COMPARISON_TITLES = {
    "first_name": "First name",
    "date_of_birth": "Date of birth",
    "surname_address": "Surname and address",
    "middle_names": "Middle names",
    "email": "Email address",
    "national_id": "Identity number",
    "household_move": "Moving house together",
    "periods_meet": "Moving house: dates",
}

_LEVELS = {
    "first_name": {
        "Null": "At least one record has no first name",
        "Exact": "First names are exactly the same",
        "Same canonical name": "First names are forms of one name, like Bob and Robert",
        "Jaro-Winkler >= 0.92": "First names are spelt very similarly",
        "One edit apart (typo)": "First names are one letter apart, like a typing error",
        "First part equal, or first name is the other's middle name": "First names start the "
        "same way, or one record's first name is the other's middle name",
        "Two edits apart (a swap of two letters is two)": "First names are two letters apart",
        "Jaro-Winkler >= 0.8": "First names are spelt somewhat similarly",
        "All other comparisons": "First names are different",
    },
    "date_of_birth": {
        "Null": "At least one record has no date of birth",
        "Exact": "Dates of birth are exactly the same",
        "Day and month swapped": "Dates of birth are the same with the day and month swapped",
        "Two of year, month, day equal": "Dates of birth agree on two of the day, month and year",
        "Within a year": "Dates of birth are different, but less than a year apart",
        "All other comparisons": "Dates of birth are different",
    },
    "middle_names": {
        "Null": "At least one record has no middle name",
        "Exact": "Middle names are exactly the same",
        "Same initial": "Middle names start with the same letter",
        "All other comparisons": "Middle names are different",
    },
    "email": {
        "Null": "At least one record has no email address",
        "Exact": "Email addresses are the same",
        "All other comparisons": "Email addresses are different",
    },
    "national_id": {
        "Null": "At least one record has no identity number",
        "Exact": "Identity numbers (National Insurance, NHS …) are the same",
        "One edit apart (typo)": "Identity numbers are one character apart, like a typing error",
        "All other comparisons": "Identity numbers are different",
    },
    "surname_address": {
        "Null": "At least one record has no surname, and the addresses cannot be compared",
    },
}
_SURNAMES = {
    "Same surname": "Surnames are the same",
    "Similar surname": "Surnames are similar",
    "Other surname": "Surnames are different",
}
_ADDRESSES = {
    "same home": "the records are at the same home",
    "same postcode, other home": "the records are at different homes in the same postcode",
    "same postcode sector": "the addresses are near each other (the same postcode sector)",
    "different address": "the addresses are different",
    "address unknown": "at least one record has no address to compare",
}
_COMMON = {
    "first_name": "A rarer first name counts for more, a common one for less.",
    "surname_address": "A rarer surname counts for more, a common one for less.",
}


def level_sentence(comparison: str, label: str) -> str:
    """The model's level ``label`` of ``comparison`` as a sentence an officer can read."""
    sentence = _LEVELS.get(comparison, {}).get(label)
    if sentence:
        return sentence
    if comparison == "surname_address":
        surname, _, address = label.partition(", ")
        if surname in _SURNAMES and address in _ADDRESSES:
            return f"{_SURNAMES[surname]}, and {_ADDRESSES[address]}"
    return f"{COMPARISON_TITLES.get(comparison, comparison)}: {label}"


# The move evidence weighed after scoring (linkage.model.HOUSEHOLD_MOVES_SQL): what it said
# when it added bits, when it took them away, and when it had nothing to say.
_MOVE_SENTENCES = {
    "household_move": (
        "The records are at two different homes, and someone else in the household moved "
        "between the same two homes: this may be one person who moved with them",
        "The records are at two different homes, and no one else moved between them",
        "No household-move evidence: the records are not at two different known homes",
    ),
    "periods_meet": (
        "The records are at two different homes, and one ends about when the other begins: "
        "this may be one person who moved",
        "The records are at two different homes, and one does not end when the other begins, "
        "as a move would",
        "No evidence from dates: the records are not at two different known homes, or a "
        "record has no start date",
    ),
}


def _move_sentence(name: str, bits: float) -> str:
    added, taken, nothing = _MOVE_SENTENCES[name]
    return added if bits > 0 else taken if bits < 0 else nothing


@dataclass(frozen=True)
class WeightPart:
    comparison: str
    title: str
    bits: float
    sentence: str
    hint: str = ""


def signed_bits(bits: float) -> str:
    """``+6.3`` or ``−3.3`` (a minus sign, which screen readers read as "minus")."""
    text = f"{abs(bits):.1f}"
    if text == "0.0":
        return "0.0"
    return ("+" if bits > 0 else "\u2212") + text


def explain(case: ReviewCase, levels: dict[str, tuple[str, bool]]) -> list[WeightPart]:
    """What each comparison added to or took from the case's match weight, in plain English.
    ``levels`` from ``comparison_levels`` (empty if the records are not available)."""
    parts = []
    for part in case.breakdown:
        name, bits = part["comparison"], float(part["bits"])
        title = COMPARISON_TITLES.get(name, name.replace("_", " ").capitalize())
        hint = ""
        if name in _MOVE_SENTENCES:
            sentence = _move_sentence(name, bits)
        elif name in levels:
            label, frequency_adjusted = levels[name]
            sentence = level_sentence(name, label)
            if frequency_adjusted:
                hint = _COMMON.get(name, "")
        else:
            sentence = title
        parts.append(WeightPart(name, title, bits, sentence, hint))
    return parts


def prior_odds_text(prior_bits: float) -> str:
    """The prior as "1 in N": how likely two records picked at random are one person."""
    probability = 1 / (1 + 2 ** (-prior_bits))
    if probability <= 0:
        return "almost never"
    return f"about 1 in {round(1 / probability):,}"
