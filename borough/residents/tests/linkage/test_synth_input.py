"""The development adapter gives the linkage contract's frame."""

from __future__ import annotations

import pandas as pd
import pytest

from borough.residents.linkage.synth_input import (
    FRAME_COLUMNS,
    _NameVocabulary,
    clean_address,
    clean_text,
    nickname_canon,
    normalise_postcode,
    raw_records_from_synth,
)


def test_frame_has_exactly_the_contract_columns_and_every_truth_record(small_borough):
    _, frame, truth = small_borough
    assert tuple(frame.columns) == FRAME_COLUMNS
    dated = frame.loc[frame["resident_from"].notna(), "source_dataset"]
    assert set(dated) == {"council_tax", "housing_tenancies", "housing_benefit"}
    assert sorted(frame["unique_id"]) == sorted(truth["unique_id"])
    assert frame["unique_id"].is_unique
    dob = frame["date_of_birth"].dropna()
    assert dob.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert frame["postcode"].dropna().str.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}").all()


def test_raw_frame_covers_the_same_records(small_borough):
    folder, frame, _ = small_borough
    raw = raw_records_from_synth(folder)
    assert sorted(raw["unique_id"]) == sorted(frame["unique_id"])


@pytest.mark.parametrize(
    ("typed", "normal"),
    [("e21 3ab", "E21 3AB"), ("E213AB", "E21 3AB"), ("E21 OAB", "E21 0AB"), ("E2O 1AB", "E20 1AB")],
)
def test_postcodes_are_normalised(typed, normal):
    assert normalise_postcode(typed) == normal


def test_unusable_postcodes_are_null():
    assert normalise_postcode("") is None
    assert normalise_postcode("LONDON") is None


def test_names_and_addresses_are_cleaned():
    assert clean_text("Wiśniewska-O'Neill") == "wisniewska oneill"
    assert clean_text("  Yılmaz ") == "yilmaz"
    assert (
        clean_address("FLT 3, KESTREL HSE, ALBION RD, LONDON") == "flat 3 kestrel house albion road"
    )


def test_nicknames_share_a_canonical_name():
    canon = nickname_canon()
    assert canon["bob"] == canon["robert"] == "robert"
    assert canon["mo"] == canon["muhammad"] == canon["mohammed"]


def test_one_field_names_are_split_with_known_double_names():
    vocab = _NameVocabulary(
        forenames=pd.Series(["maria jose", "john"]),
        surnames=pd.Series(["garcia lopez", "smith"]),
    )
    assert vocab.split("MR JOHN A B SMITH", initials_are_middle=True) == ("john", "a b", "smith")
    assert vocab.split("Maria Jose Garcia Lopez", initials_are_middle=False) == (
        "maria jose",
        "",
        "garcia lopez",
    )
    assert vocab.split("Etienne Leon Marin", initials_are_middle=False) == (
        "etienne",
        "leon",
        "marin",
    )
