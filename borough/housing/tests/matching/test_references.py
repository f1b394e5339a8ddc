import pytest
from hypothesis import given
from hypothesis import strategies as st

from borough.housing.matching.references import (
    EXACT,
    LEADING_ZEROS,
    LEADING_ZEROS_MISSING_CHECK,
    LOCALGOV_HOUSING_RENTS,
    MISSING_CHECK,
    TRANSPOSITION,
    WRONG_CHECK,
    ReferenceScheme,
    get_scheme,
)

scheme = LOCALGOV_HOUSING_RENTS
numbers = st.integers(min_value=0, max_value=99_999_999)


def _kinds(text: str) -> dict[str, str]:
    return {c.reference: c.correction for c in scheme.candidates(text)}


@pytest.mark.parametrize(
    ("number", "reference"),
    [("12345678", "12345678I"), ("00001234", "00001234C"), (1234, "00001234C")],
)
def test_localgov_worked_examples(number, reference):
    assert scheme.issue(number) == reference
    assert scheme.is_valid(reference)


def test_scheme_is_chosen_by_name_and_defaults_to_localgov_housing_rents(settings):
    assert get_scheme("localgov-housing-rents") is LOCALGOV_HOUSING_RENTS
    assert isinstance(get_scheme(), ReferenceScheme)
    settings.HOUSING_PAYMENT_REFERENCE_SCHEME = "localgov-housing-rents"
    assert get_scheme() is LOCALGOV_HOUSING_RENTS
    settings.HOUSING_PAYMENT_REFERENCE_SCHEME = "no-such-scheme"
    with pytest.raises(ValueError, match="no payment reference scheme 'no-such-scheme'"):
        get_scheme()


def test_issue_refuses_numbers_that_do_not_fit():
    for bad in (123456789, -1, "12a4"):
        with pytest.raises(ValueError):
            scheme.issue(bad)


@pytest.mark.parametrize(
    "typed", ["12345678I", "RENT 12345678I", "hsg-12345678-i", "REF: 1234 5678 I", "RENT12345678I"]
)
def test_spaces_hyphens_prefixes_and_case_do_not_stop_an_exact_match(typed):
    assert _kinds(typed)["12345678I"] == EXACT


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("12345678", MISSING_CHECK),
        ("12345678X", WRONG_CHECK),
        ("12345687I", TRANSPOSITION),
        ("1234C", LEADING_ZEROS),
        ("RENT 1234", LEADING_ZEROS_MISSING_CHECK),
    ],
)
def test_each_common_slip_is_corrected_and_says_how(typed, kind):
    wanted = "00001234C" if "1234C" in typed or typed.endswith(" 1234") else "12345678I"
    assert _kinds(typed)[wanted] == kind


def test_pieces_of_a_full_reference_are_not_taken_for_references_with_zeros_dropped():
    assert set(_kinds("RENT 1234 5678")) == {"12345678I"}


def test_numbers_too_short_or_too_long_give_nothing():
    assert _kinds("RENT 123") == {}
    assert _kinds("RENT 1234567890") == {}


@given(numbers)
def test_issued_references_round_trip(number):
    reference = scheme.issue(number)
    assert scheme.is_valid(reference)
    assert int(reference[:-1]) == number
    assert _kinds(f"rent {reference.lower()}") == {reference: EXACT}


@given(numbers, st.integers(min_value=0, max_value=6))
def test_any_adjacent_transposition_is_detected_and_undone(number, position):
    reference = scheme.issue(number)
    digits = reference[:-1]
    if digits[position] == digits[position + 1]:
        return
    swapped = digits[:position] + digits[position + 1] + digits[position] + digits[position + 2 :]
    typed = swapped + reference[-1]
    assert not scheme.is_valid(typed)
    assert _kinds(typed)[reference] == TRANSPOSITION


@given(numbers, st.sampled_from("ABCDEFGHIJKXYZ"))
def test_a_wrong_check_character_is_never_valid_and_is_corrected(number, letter):
    reference = scheme.issue(number)
    if letter == reference[-1]:
        return
    typed = reference[:-1] + letter
    assert not scheme.is_valid(typed)
    assert _kinds(typed)[reference] in (WRONG_CHECK, TRANSPOSITION)


@given(numbers)
def test_a_single_changed_digit_is_never_valid(number):
    reference = scheme.issue(number)
    for i in range(8):
        for d in "0123456789":
            if d != reference[i]:
                assert not scheme.is_valid(reference[:i] + d + reference[i + 1 :])


@given(st.integers(min_value=1000, max_value=9_999_999))
def test_dropped_leading_zeros_are_restored(number):
    reference = scheme.issue(number)
    typed = reference.lstrip("0")
    assert _kinds(typed)[reference] in (EXACT, LEADING_ZEROS)
    assert _kinds(typed[:-1])[reference] in (MISSING_CHECK, LEADING_ZEROS_MISSING_CHECK)


def test_only_swaps_that_fit_the_typed_check_character_are_offered():
    assert _kinds("12345687I") == {"12345678I": TRANSPOSITION, "12345687H": WRONG_CHECK}
