"""Mapping files: the shipped ones load, and a mistake in one is explained."""

import pytest

from borough.places.classification import is_residential_code
from borough.places.mapping import (
    FIELD_KINDS,
    MAX_LENGTHS,
    MappingError,
    available_mappings,
    load_mapping,
    parse_mapping,
)
from borough.places.models import Property


def test_the_shipped_mappings_load():
    names = {m.name for m in available_mappings()}
    assert names == {"llpg", "addressbase"}


def test_the_llpg_mapping_reads_the_synthetic_boroughs_columns():
    mapping = load_mapping("llpg")
    assert mapping.mapped_columns() == [
        "UPRN", "PARENT_UPRN", "USRN", "SAO_TEXT", "PAO_START_NUMBER", "PAO_TEXT",
        "STREET_DESCRIPTION", "LOCALITY", "TOWN_NAME", "POSTCODE_LOCATOR", "WARD_CODE",
        "WARD_NAME", "LATITUDE", "LONGITUDE", "CLASSIFICATION_CODE", "LOGICAL_STATUS", "CAR_FREE",
    ]  # fmt: skip
    assert mapping.has_header


def test_the_addressbase_mapping_lists_the_77_addressbase_plus_columns():
    mapping = load_mapping("addressbase")
    assert len(mapping.columns) == 77
    assert not mapping.has_header
    assert mapping.columns[:7] == (
        "UPRN", "UDPRN", "CHANGE_TYPE", "STATE", "STATE_DATE", "CLASS", "PARENT_UPRN",
    )  # fmt: skip
    assert mapping.fields["classification"].columns == ("CLASS",)


def test_text_limits_match_the_model():
    for name, limit in MAX_LENGTHS.items():
        assert Property._meta.get_field(name).max_length == limit, name
    assert set(MAX_LENGTHS) == {n for n, kind in FIELD_KINDS.items() if kind == "text"}


@pytest.mark.parametrize(
    ("code", "residential"),
    [
        ("RD04", True),
        ("RD06", True),
        ("RH01", True),
        ("RI01", True),
        ("RI02NC", True),
        ("R", True),
        ("RB", False),
        ("RC01", False),
        ("RG02", False),
        ("X", True),
        ("PP", False),
        ("CR08", False),
        ("U", False),
        ("", False),
    ],
)
def test_the_default_residential_rule(code, residential):
    assert is_residential_code(code) is residential


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "a mapping needs a [fields] table"),
        ({"fields": {"street": "STREET"}}, "must say which column holds the UPRN"),
        ({"fields": {"uprn": "UPRN", "colour": "C"}}, "'colour' is not a gazetteer field"),
        ({"fields": {"uprn": 5}}, "must be a column name or a table"),
        (
            {"fields": {"uprn": {"columns": ["A", "B"]}}},
            "only text fields can be made from several",
        ),
        ({"fields": {"uprn": "U", "street": {}}}, "needs either column"),
        (
            {"fields": {"uprn": "U", "street": {"column": "S", "colour": 1}}},
            "unknown setting(s) colour",
        ),
        (
            {
                "fields": {
                    "uprn": "U",
                    "building_number": {"columns": ["A", "B"], "compose": "bs7666"},
                }
            },
            "takes 4 columns",
        ),
        (
            {"fields": {"uprn": "U", "street": {"columns": ["A"], "compose": "glue"}}},
            "compose must be",
        ),
        (
            {"fields": {"uprn": "U", "street": {"column": "S", "true_values": ["Y"]}}},
            "only applies to true/false",
        ),
        ({"fields": {"uprn": "U"}, "file": {"delimiter": ";;"}}, "delimiter must be one character"),
        ({"fields": {"uprn": "U"}, "file": {"columns": ["A"]}}, "does not list U"),
        ({"fields": {"uprn": "U"}, "extra": 1}, "unknown setting(s) extra"),
        ({"fields": {"uprn": "U"}, "residential": {"residental": ["R"]}}, "unknown [residential]"),
    ],
)
def test_a_mistake_in_a_mapping_is_explained(document, message):
    with pytest.raises(MappingError) as error:
        parse_mapping(document, source="mine.toml", default_name="mine")
    assert message in str(error.value)
    assert str(error.value).startswith("mine.toml")


def test_an_unknown_mapping_name_lists_the_shipped_ones():
    with pytest.raises(MappingError, match=r"Use one of addressbase, llpg"):
        load_mapping("llgp")


def test_a_mapping_file_that_is_not_toml(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[fields\nuprn = ")
    with pytest.raises(MappingError, match="is not valid TOML"):
        load_mapping(path)
