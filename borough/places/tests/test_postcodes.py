import pytest
from hypothesis import given
from hypothesis import strategies as st

from borough.places.postcodes import (
    NORMALISED,
    InvalidPostcode,
    is_postcode,
    normalise_postcode,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("E8 1DY", "E8 1DY"),
        ("e8 1dy", "E8 1DY"),
        ("e81dy", "E8 1DY"),
        ("  E8    1DY  ", "E8 1DY"),
        ("E8\t1DY", "E8 1DY"),
        ("M1 1AE", "M1 1AE"),  # A9
        ("B33 8TH", "B33 8TH"),  # A99
        ("CR2 6XH", "CR2 6XH"),  # AA9
        ("DN55 1PT", "DN55 1PT"),  # AA99
        ("W1A 0AX", "W1A 0AX"),  # A9A
        ("EC1A 1BB", "EC1A 1BB"),  # AA9A
        ("sw1a2aa", "SW1A 2AA"),
        ("gir 0aa", "GIR 0AA"),
        ("GIR0AA", "GIR 0AA"),
    ],
)
def test_valid_postcodes_are_written_the_one_stored_way(raw, expected):
    assert normalise_postcode(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "E8 1D",  # inward code too short
        "E8",  # outward code only
        "1DY",
        "E8 1DYY",
        "EEE8 1DY",
        "Q1 1AA",  # Q never first
        "V1 1AA",
        "X1 1AA",
        "AI1 1AA",  # I never second
        "AJ1 1AA",
        "AZ1 1AA",
        "E8 1CA",  # C, I, K, M, O, V never in the inward code
        "E8 1AI",
        "E8 1KA",
        "E8 1AM",
        "E8 1OA",
        "E8 1AV",
        "W1I 0AX",  # I not allowed in A9A
        "EC1C 1BB",  # C not allowed in AA9A
        "E8 IDY",  # letter I for digit 1
        "E8-1DY",
        "BFPO 1234",
        "ASCN 1ZZ",
        "E8 1DY!",
        "ｅ８ １ｄｙ",  # full-width characters
        "Eı 1DY",  # dotless i upper-cases to I
    ],
)
def test_anything_else_is_not_a_postcode(raw):
    with pytest.raises(InvalidPostcode) as error:
        normalise_postcode(raw)
    assert str(error.value) == "Enter a real postcode, like E8 1DY"
    assert isinstance(error.value, ValueError)
    assert not is_postcode(raw)


@pytest.mark.parametrize("raw", ["", "   ", "\t", None])
def test_an_empty_postcode_has_its_own_message(raw):
    with pytest.raises(InvalidPostcode, match=r"^Enter a postcode$"):
        normalise_postcode(raw)


# Valid postcodes built from the rules, to check against.
_FIRST = "ABCDEFGHIJKLMNOPRSTUWYZ"
_SECOND = "ABCDEFGHKLMNOPQRSTUVWXY"
_A9A = "ABCDEFGHJKPSTUW"
_AA9A = "ABEHMNPRVWXY"
_INWARD = "ABDEFGHJLNPQRSTUWXYZ"
digit = st.sampled_from("0123456789")
outward = st.one_of(
    st.tuples(st.sampled_from(_FIRST), digit),
    st.tuples(st.sampled_from(_FIRST), digit, digit),
    st.tuples(st.sampled_from(_FIRST), st.sampled_from(_SECOND), digit),
    st.tuples(st.sampled_from(_FIRST), st.sampled_from(_SECOND), digit, digit),
    st.tuples(st.sampled_from(_FIRST), digit, st.sampled_from(_A9A)),
    st.tuples(st.sampled_from(_FIRST), st.sampled_from(_SECOND), digit, st.sampled_from(_AA9A)),
).map("".join)
inward = st.tuples(digit, st.sampled_from(_INWARD), st.sampled_from(_INWARD)).map("".join)
canonical = st.builds(lambda o, i: f"{o} {i}", outward, inward)
spacing = st.text(alphabet=" \t", max_size=3)


@st.composite
def written_any_way(draw, postcode=canonical):
    """A valid postcode with random case and random spaces around and between its characters."""
    value = draw(postcode)
    compact = value.replace(" ", "")
    chars = [(c.lower() if draw(st.booleans()) else c) + draw(spacing) for c in compact]
    return draw(spacing) + "".join(chars), value


@given(canonical)
def test_a_valid_postcode_is_already_normal(postcode):
    assert normalise_postcode(postcode) == postcode


@given(written_any_way())
def test_any_case_and_spacing_normalises_to_the_same_postcode(pair):
    messy, expected = pair
    assert normalise_postcode(messy) == expected


@given(st.text(max_size=12))
def test_normalising_is_idempotent_and_only_returns_the_stored_form(text):
    try:
        once = normalise_postcode(text)
    except InvalidPostcode:
        return
    assert NORMALISED.fullmatch(once)
    assert normalise_postcode(once) == once


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ", min_size=1, max_size=9))
def test_normalising_never_raises_anything_but_invalid_postcode(text):
    try:
        result = normalise_postcode(text)
    except InvalidPostcode:
        return
    assert result == normalise_postcode(result.lower())
