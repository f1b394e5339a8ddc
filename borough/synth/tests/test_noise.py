"""The datasets carry the errors they are configured to carry, at about the configured rates."""

import datetime as dt
from collections import Counter

from borough.synth.names import ascii_fold, nicknames
from borough.synth.noise import DATASET_NOISE

from .test_ground_truth import RECORD_ID

# dataset -> (first name column, surname column, date of birth columns and format)
NAMES = {
    "electoral_register": ("FORENAME", "SURNAME"),
    "housing_tenancies": ("FORENAME", "SURNAME"),
    "housing_benefit": ("CLAIMANT_FORENAME", "CLAIMANT_SURNAME"),
    "school_admissions": ("PUPIL_FORENAME", "PUPIL_SURNAME"),
    "freedom_pass": ("FIRST_NAME", "LAST_NAME"),
}
DOBS = {
    "housing_tenancies": ("DATE_OF_BIRTH", "%d-%b-%Y"),
    "housing_benefit": ("CLAIMANT_DOB", "%d/%m/%Y"),
    "school_admissions": ("PUPIL_DOB", "%Y-%m-%d"),
    "freedom_pass": ("DATE_OF_BIRTH", "%d/%m/%Y"),
    "parking_permits_history": ("APPLICANT_DOB", "%Y-%m-%d"),
}


def _key(text: str) -> str:
    return ascii_fold(text).casefold()


def _records(borough, dataset):
    """(record, true person) for single-person records (the first party of two-party rows)."""
    people = {r["person_id"]: r for r in borough.rows("people")}
    truth = {
        r["record_id"]: people[r["person_id"]]
        for r in borough.rows("ground_truth")
        if r["dataset"] == dataset
    }
    id_column = RECORD_ID[dataset][0]
    for row in borough.rows(dataset):
        person = truth.get(row[id_column]) or truth.get(row[id_column] + "#1")
        yield row, person


def _within(observed: int, expected: float) -> bool:
    return 0.5 * expected <= observed <= 1.8 * expected + 3


def test_nicknames_appear_at_about_the_configured_rate(borough):
    table = nicknames()
    observed, expected = 0, 0.0
    for dataset, (first_col, _) in NAMES.items():
        for row, person in _records(borough, dataset):
            true = _key(person["first_name"])
            variants = {_key(v) for v in table.get(person["first_name"], ())} - {true}
            if variants:
                expected += DATASET_NOISE[dataset].nickname
                observed += _key(row[first_col]) in variants
    assert expected > 5
    assert _within(observed, expected), (observed, expected)


def test_day_and_month_swapped_at_about_the_configured_rate(borough):
    observed, expected = 0, 0.0
    for dataset, (column, fmt) in DOBS.items():
        for row, person in _records(borough, dataset):
            true = dt.date.fromisoformat(person["date_of_birth"])
            if true.day > 12 or true.day == true.month or not row[column]:
                continue
            expected += DATASET_NOISE[dataset].dob_swap
            shown = dt.datetime.strptime(row[column].title(), fmt).date()
            observed += shown == true.replace(day=true.month, month=true.day)
    assert expected > 3
    assert _within(observed, expected), (observed, expected)


def test_some_records_show_a_maiden_name(borough):
    stale = 0
    for dataset, (_, surname_col) in NAMES.items():
        for row, person in _records(borough, dataset):
            if person["birth_surname"] and _key(row[surname_col]) == _key(person["birth_surname"]):
                stale += 1
    assert stale > 0


def test_some_names_carry_small_typos(borough):
    typos = 0
    for dataset, (first_col, _) in NAMES.items():
        for row, person in _records(borough, dataset):
            shown, true = _key(row[first_col]), _key(person["first_name"])
            if shown != true and 1 <= _distance(shown, true) <= 2:
                typos += shown not in {_key(v) for v in nicknames().get(person["first_name"], ())}
    assert typos > 0


def test_the_same_person_is_sometimes_recorded_twice_in_one_dataset(borough):
    truth = Counter(
        (r["dataset"], r["person_id"])
        for r in borough.rows("ground_truth")
        if r["dataset"] in ("electoral_register", "freedom_pass")
    )
    twice = sum(1 for n in truth.values() if n > 1)
    assert twice >= 5


def test_registers_still_hold_some_people_who_died_or_moved_away(borough):
    people = {r["person_id"]: r for r in borough.rows("people")}
    in_register = {
        r["person_id"] for r in borough.rows("ground_truth") if r["dataset"] == "electoral_register"
    }
    dead = [p for p in in_register if people[p]["date_of_death"]]
    gone = [p for p in in_register if not people[p]["current_uprn"]]
    assert dead and len(gone) > len(dead)


def test_some_addresses_are_stale_after_a_move(borough):
    previous = {}
    for h in borough.rows("addresses_history"):
        if h["to_date"]:
            previous.setdefault(h["person_id"], set()).add(h["uprn"])
    stale = 0
    for row, person in _records(borough, "electoral_register"):
        here = person["current_uprn"]
        stale += bool(
            here
            and row["UPRN"]
            and row["UPRN"] != here
            and row["UPRN"] in previous.get(person["person_id"], ())
        )
    assert stale > 0


def test_addresses_are_written_differently(borough):
    lines = [r["ADDRESS"] for r in borough.rows("parking_permits_history")]
    assert any(" Rd" in a or " RD" in a or " rd" in a for a in lines)
    assert any(a.islower() for a in lines) and any(a.isupper() for a in lines)
    postcodes = [r["POSTCODE"] for r in borough.rows("parking_permits_history")]
    assert "" in postcodes and any(p and " " not in p for p in postcodes)


def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein with adjacent transpositions)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(
                d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]
