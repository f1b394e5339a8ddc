"""Standard forms of names, dates, postcodes, contacts and addresses (pure functions)."""

import csv
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from borough.residents import standardise as s
from borough.residents.standardise import Name, split_full_name


@pytest.mark.parametrize(
    ("given_name", "expected"),
    [
        ("Wiśniewski", "wisniewski"),
        ("YILMAZ", "yilmaz"),
        ("Yılmaz", "yilmaz"),
        ("Żołądkiewicz", "zoladkiewicz"),
        ("Güçlü", "guclu"),
        ("Ioniță", "ionita"),
        ("Strauß", "strauss"),
        ("O'Brien", "obrien"),
        ("O’Sullivan", "osullivan"),
        ("Pearce-Chadwick", "pearce chadwick"),
        ("  garcía   lópez ", "garcia lopez"),
        ("St. John", "st john"),
        ("", ""),
    ],
)
def test_names_are_folded_to_lower_case_ascii(given_name, expected):
    assert s.standardise_name(given_name) == expected


def test_a_hyphenated_surname_shares_a_word_with_either_half():
    full = s.standardise_name("Pearce-Chadwick").split()
    assert s.standardise_name("PEARCE") in full
    assert s.standardise_name("Chadwick") in full


@given(st.text(max_size=40))
def test_a_standard_name_is_plain_lower_case_words_and_stable(text):
    name = s.standardise_name(text)
    assert name == name.strip()
    assert all(part.isascii() and part.isalpha() and part.islower() for part in name.split())
    assert "  " not in name
    assert s.standardise_name(name) == name


@pytest.mark.parametrize(
    ("full", "rule", "expected"),
    [
        ("MRS CAROLYN PREDA", "any", Name("Mrs", "carolyn", "", "preda")),
        ("MR JOHN A SMITH", "initials", Name("Mr", "john", "a", "smith")),
        ("MR JOSE A B GARCIA LOPEZ", "initials", Name("Mr", "jose", "a b", "garcia lopez")),
        ("MS NASIMA SIDDIQUE", "initials", Name("Ms", "nasima", "", "siddique")),
        ("SMITH, JOHN A", "any", Name("", "john", "a", "smith")),
        ("SMITH, MR JOHN", "any", Name("Mr", "john", "", "smith")),
        ("Dr. Anne-Marie O'Brien", "any", Name("Dr", "anne marie", "", "obrien")),
        ("Maria da Costa", "any", Name("", "maria", "", "da costa")),
        ("Kevin James Wood", "any", Name("", "kevin", "james", "wood")),
        ("john smith jnr", "any", Name("", "john", "", "smith")),
        ("MR SMITH", "any", Name("Mr", "", "", "smith")),
        ("", "any", Name()),
    ],
)
def test_full_names_are_split_into_title_first_middle_and_surname(full, rule, expected):
    assert split_full_name(full, middle_names=rule) == expected


_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=12).filter(
    lambda w: w not in s.TITLES and w not in s._PARTICLES and w not in s._SUFFIXES
)


@given(st.sampled_from(["Mr", "MRS", "ms.", "Dr", ""]), _WORD, _WORD, _WORD)
def test_a_full_name_splits_back_into_its_parts(title, first, middle, surname):
    full = " ".join(p for p in (title, first.upper(), middle.capitalize(), surname) if p)
    assert split_full_name(full) == Name(s.standardise_title(title), first, middle, surname)
    reversed_order = f"{surname.upper()}, {title} {first} {middle}"
    assert split_full_name(reversed_order) == Name(
        s.standardise_title(title), first, middle, surname
    )


@pytest.mark.parametrize(
    ("title", "expected"),
    [("MRS", "Mrs"), ("mrs.", "Mrs"), ("Dr", "Dr"), ("REVD", "Rev"), ("", ""), ("Cllr", "Cllr")],
)
def test_titles_are_written_one_way(title, expected):
    assert s.standardise_title(title) == expected


@pytest.mark.parametrize(
    ("value", "title", "expected"),
    [("F", "", "F"), ("male", "", "M"), ("", "Mrs", "F"), ("", "MR", "M"), ("", "Dr", "")],
)
def test_sex_comes_from_a_sex_column_or_else_the_title(value, title, expected):
    assert s.sex_from(value, title) == expected


@pytest.mark.parametrize(
    ("first", "sex", "expected"),
    [
        ("bob", "", "robert"),
        ("robert", "", "robert"),
        ("liz", "F", "elizabeth"),
        ("mo", "", "mohammed"),
        ("muhammad", "", "mohammed"),
        ("mohamed", "M", "mohammed"),
        ("kate", "", "katherine"),
        ("catherine", "", "katherine"),
        ("kasia", "", "katarzyna"),
        ("chris", "F", "christine"),
        ("chris", "M", "christopher"),
        ("chris", "", "chris"),  # Christopher or Christine: not guessed
        ("sam", "", "sam"),
        ("zebedee", "", "zebedee"),
    ],
)
def test_nicknames_and_spellings_have_one_canonical_name(first, sex, expected):
    assert s.canonical_first_name(first, sex) == expected


def _synth_nicknames():
    table = Path(__file__).resolve().parents[2] / "synth" / "data" / "nicknames.csv"
    with table.open(encoding="utf-8", newline="") as handle:
        return [(row["name"], row["variant"]) for row in csv.DictReader(handle)]


def test_every_variant_the_synthetic_borough_uses_has_its_names_canonical_form():
    # The synthetic borough writes a person's first name as any of its variants; with the
    # person's sex known, both must reach the same canonical name.
    misses = []
    for name, variant in _synth_nicknames():
        a, b = s.standardise_name(name), s.standardise_name(variant)
        if not any(
            s.canonical_first_name(a, sex) == s.canonical_first_name(b, sex) for sex in "FM"
        ):
            misses.append((name, variant))
    assert misses == []


def test_the_nickname_table_has_no_chains():
    table = s._nicknames()
    for name, found in table.items():
        for canonical, _sex in found:
            assert canonical not in table, f"{name} → {canonical}, which maps on again"


@pytest.mark.parametrize(
    ("text", "formats", "expected"),
    [
        ("24/11/2020", ("%d/%m/%Y",), date(2020, 11, 24)),
        ("24-NOV-2020", ("%d-%b-%Y",), date(2020, 11, 24)),
        ("24-nov-2020", ("%d-%b-%Y",), date(2020, 11, 24)),
        ("2020-11-24", ("%Y-%m-%d",), date(2020, 11, 24)),
        ("", ("%Y-%m-%d",), None),
        ("29/02/2024", ("%d/%m/%Y",), date(2024, 2, 29)),
    ],
)
def test_dates_are_read_in_the_declared_formats(text, formats, expected):
    assert s.parse_date(text, formats) == expected


@pytest.mark.parametrize(
    ("text", "formats"),
    [
        ("11/24/2020", ("%d/%m/%Y",)),  # US order: day and month are not swapped to fit
        ("2020-11-24", ("%d/%m/%Y",)),  # ISO where the dataset declares UK dates
        ("24/11/20", ("%d/%m/%Y",)),
        ("yesterday", ("%d/%m/%Y",)),
    ],
)
def test_a_date_not_in_the_declared_format_is_an_error_not_a_guess(text, formats):
    with pytest.raises(s.DateError, match="not a date in the declared format"):
        s.parse_date(text, formats)


@pytest.mark.parametrize(
    ("text", "formats", "message"),
    [
        ("31/02/2020", ("%d/%m/%Y",), "31 February 2020 is not a date"),
        ("29/02/1939", ("%d/%m/%Y",), "29 February 1939 is not a date"),
        ("1939-02-29", ("%Y-%m-%d",), "29 February 1939 is not a date"),
        ("31-APR-2001", ("%d-%b-%Y",), "31 April 2001 is not a date"),
        ("29/02/2023", ("%Y-%m-%d", "%d/%m/%Y"), "29 February 2023 is not a date"),
    ],
)
def test_a_day_that_does_not_exist_is_named_as_such(text, formats, message):
    with pytest.raises(s.DateError) as raised:
        s.parse_date(text, formats)
    assert str(raised.value) == message


def test_an_ambiguous_day_and_month_is_read_as_declared():
    # 03/04/2020 is 3 April in a UK file; it is never "fixed" to 4 March.
    assert s.parse_date("03/04/2020", ("%d/%m/%Y",)) == date(2020, 4, 3)
    assert s.parse_date("03/04/2020", ("%m/%d/%Y",)) == date(2020, 3, 4)


def test_implausible_dates_of_birth_are_explained():
    today = date(2026, 4, 1)
    assert "future" in s.implausible_birth_date(date(2030, 1, 1), today)
    # kept whatever the year, unless the dataset's declaration says how old is too old
    assert s.implausible_birth_date(date(1890, 1, 1), today) == ""
    assert "120 years" in s.implausible_birth_date(date(1890, 1, 1), today, oldest_years=120)
    assert s.implausible_birth_date(date(1950, 6, 1), today, oldest_years=120) == ""


def test_years_before_keeps_the_day_except_29_february():
    assert s.years_before(date(2026, 5, 17), 18) == date(2008, 5, 17)
    assert s.years_before(date(2024, 2, 29), 18) == date(2006, 2, 28)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("E21 0AA", "E21 0AA"),
        ("e210aa", "E21 0AA"),
        ("E21 OAA", "E21 0AA"),  # the letter O for a zero
        ("EC1A 1BB", "EC1A 1BB"),
        ("E21 0XX", "E21 0XX"),
        ("not a postcode", ""),
        ("E21", ""),
        ("", ""),
    ],
)
def test_postcodes_are_normalised_or_left_blank(text, expected):
    assert s.standardise_postcode(text) == expected


@pytest.mark.parametrize(
    ("text", "expected", "uk"),
    [
        ("E21 0AA", "E21 0AA", True),
        ("e210aa", "E21 0AA", True),
        ("E21 OAA", "E21 0AA", True),  # the letter O for a zero, as standardise_postcode
        ("4223", "4223", False),  # Australia
        (" 1234  ab ", "1234 AB", False),  # the Netherlands: upper case, one space
        ("75008", "75008", False),
        ("K1A 0B6", "K1A 0B6", False),
        ("100-0001", "100-0001", False),
        ("N/A", "", False),
        ("UNKNOWN", "", False),
        ("NONE", "", False),
        ("-", "", False),
        ("0", "", False),
        ("0000", "", False),  # placeholders: only zeros, only nines
        ("99999", "", False),
        ("2222", "2222", False),  # Penshurst, New South Wales (in FEBRL4)
        ("12", "", False),  # too short
        ("12345678901", "", False),  # too long
        ("not a postcode", "", False),
        ("", "", False),
    ],
)
def test_a_postcode_of_another_country_is_kept_as_text_and_junk_is_not(text, expected, uk):
    assert s.standardise_any_postcode(text) == expected
    assert s.is_uk_postcode(expected) is uk


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07700 900396", "07700900396"),
        ("+44 (0)7700 900123", "07700900123"),
        ("+447700900123", "07700900123"),
        ("0044 20 7946 0000", "02079460000"),
        ("+33 1 23 45 67 89", ""),
        ("12345", ""),
        ("", ""),
    ],
)
def test_phone_numbers_are_uk_national_digits(text, expected):
    assert s.standardise_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [(" Bob@Example.COM ", "bob@example.com"), ("not an email", ""), ("a@b", "")],
)
def test_email_addresses_are_lower_case(text, expected):
    assert s.standardise_email(text) == expected


def test_address_text_expands_abbreviations_and_drops_the_postcode():
    lines = ["FLT 3, KESTREL HSE", "12 ST JOHNS RD", "ALBION ST", "LONDON E21 0AA"]
    assert s.address_text(lines, "E21 0AA") == (
        "flat 3 kestrel house 12 saint johns road albion street london"
    )


@given(st.lists(st.text(max_size=30), max_size=4))
def test_address_text_is_plain_words(lines):
    text = s.address_text(lines)
    assert text == " ".join(text.split())
    assert text.isascii()
    assert text == text.lower()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("qq 12 34 56 c", "QQ123456C"),  # a National Insurance number as typed
        ("485 777 3456", "4857773456"),  # an NHS number
        ("5304218", "5304218"),  # FEBRL's social security ids
        ("N/A", ""),  # no digit
        ("000000000", ""),  # a placeholder: one character repeated
        ("12", ""),  # too short to tell two people apart
        ("", ""),
    ],
)
def test_identity_numbers_are_letters_and_digits_or_left_out(text, expected):
    assert s.standardise_identifier(text) == expected


def test_a_postcode_of_another_country_is_taken_out_of_the_address_only_as_whole_words():
    assert (
        s.address_text(["Damstraat 1", "1234 AB Amsterdam"], "1234 AB") == "damstraat 1 amsterdam"
    )
    assert s.address_text(["42230 Main St"], "4223") == "42230 main street"
    assert s.address_text(["12 Albion Rd E21 0AA"], "E21 0AA") == "12 albion road"


@pytest.mark.parametrize(
    ("text", "typed_wrong"),
    [("WX4H1S", True), ("E21OAA", True), ("4223", False), ("1234 AB", False), ("K1A 0B6", False)],
)
def test_a_uk_shaped_code_that_is_not_a_postcode_is_told_from_another_countrys(text, typed_wrong):
    assert s.looks_like_uk_postcode(text) is typed_wrong
