"""Data from outside the UK's formats, said in the declaration: postal codes of other
countries kept as text, datasets linked only to other datasets (``link_only``), people with
no name (``name_required = false``) and dates of birth that are not dates (``not_a_date``)."""

from pathlib import Path

import pytest

from borough.residents import standardise as s
from borough.residents.config import DatasetConfigError, dataset_config
from borough.residents.models import SourceRecord
from borough.residents.queries import LINKAGE_SCHEMA, records_for_linkage
from borough.residents.services import load_dataset, sync_datasets

from .test_config import VALID, write

HEADER = "MEMBER_ID,NAME,BORN,ADDRESS,POSTCODE\n"


def _load(tmp_path, monkeypatch, rows: str, declaration: str = VALID, name="library_members"):
    folder = tmp_path / "datasets"
    write(folder, declaration, name)
    monkeypatch.setenv("BOROUGH_DATASETS_DIR", str(folder))
    export = tmp_path / f"{name}.csv"
    export.write_text(HEADER + rows, encoding="utf-8")
    sync_datasets()
    return load_dataset(name, export)


@pytest.mark.django_db
def test_a_postcode_from_another_country_is_kept_as_text_and_junk_is_not(tmp_path, monkeypatch):
    result = _load(
        tmp_path,
        monkeypatch,
        "L1,Jane Smith,14.03.1950,8 stanley street winston hills,4223\n"
        "L2,Jan de Vries,01.02.1960,Damstraat 1 Amsterdam,1234  ab\n"
        "L3,John Brown,01.02.1970,12 Albion Road,N/A\n"
        "L4,Mary Jones,01.02.1980,12 Albion Road,e21 oaa\n"
        "L5,Ann Lee,01.02.1981,1 High Street,UNKNOWN\n"
        "L6,Tom Lee,01.02.1982,2 High Street,WX4H1S\n",
    )

    assert result.ok, result.problem_lines()
    kept = dict(SourceRecord.objects.values_list("record_ref", "postcode"))
    assert kept == {
        "L1": "4223",
        "L2": "1234 AB",
        "L3": "",
        "L4": "E21 0AA",
        "L5": "",
        "L6": "WX4H1S",
    }
    assert result.warning_lines() == [
        "library_members.csv, row 2, column POSTCODE: '4223' is not a UK postcode; it is kept "
        "as text ('4223'), compared only with the same text and not used to find a UPRN",
        "library_members.csv, row 3, column POSTCODE: '1234 ab' is not a UK postcode; it is "
        "kept as text ('1234 AB'), compared only with the same text and not used to find a UPRN",
        "library_members.csv, row 4, column POSTCODE: 'N/A' is not a UK postcode; it is kept as "
        "given but not used",
        "library_members.csv, row 6, column POSTCODE: 'UNKNOWN' is not a UK postcode; it is "
        "kept as given but not used",
        # shaped like a UK postcode: a typing error, said so
        "library_members.csv, row 7, column POSTCODE: 'WX4H1S' is not a UK postcode (typed "
        "wrong?); it is kept as text ('WX4H1S'), compared only with the same text and not used "
        "to find a UPRN",
    ]
    linkage = {r["unique_id"]: r["postcode"] for r in records_for_linkage().to_pylist()}
    assert linkage["library_members:L1"] == "4223"
    assert linkage["library_members:L3"] is None


def test_only_uk_postcodes_are_given_to_the_uk_address_matcher(monkeypatch):
    """A postal code of another country would only point the gazetteer's matcher at the wrong
    UK postcode: the address is matched as if it had none."""
    import uk_address_matcher

    from borough.residents import addresses

    seen = {}

    class Matcher:
        def __init__(self, *, canonical_addresses, addresses_to_match, con, show_progress):
            seen["rows"] = addresses_to_match.fetchall()
            self.con = con

        def match(self):
            return self

        def matches(self, all_columns):
            return self.con.sql(
                "SELECT '0' AS unique_id, NULL::VARCHAR AS resolved_canonical_id, "
                "NULL::VARCHAR AS match_reason, NULL::DOUBLE AS match_weight, "
                "NULL::DOUBLE AS distinguishability WHERE false"
            )

    monkeypatch.setattr(uk_address_matcher, "AddressMatcher", Matcher)
    monkeypatch.setattr(addresses, "prepared_gazetteer", lambda gazetteer: Path("unused"))
    gazetteer = addresses.Gazetteer.__new__(addresses.Gazetteer)
    gazetteer.candidates = [("100", "12 ALBION ROAD", "E21 0AA")]
    found = addresses.AddressMatcher(gazetteer).match(
        [("12 Albion Road", "E21 0AA"), ("8 stanley street", "4223"), ("Damstraat 1", "1234 AB")]
    )

    assert [row[2] for row in seen["rows"]] == ["E21 0AA", None, None]
    assert all(match.uprn is None for match in found.values())


@pytest.mark.django_db
def test_a_link_only_dataset_says_so_in_the_linkage_frame(tmp_path, monkeypatch):
    declaration = VALID.replace(
        'proves = ["residency"]', 'proves = ["residency"]\nlink_only = true'
    )
    _load(tmp_path, monkeypatch, "L1,Jane Smith,14.03.1950,,\n", declaration)
    write(tmp_path / "datasets", VALID.replace("library_members", "gym_members"), "gym_members")
    export = tmp_path / "gym.csv"
    export.write_text(HEADER + "G1,Jane Smith,14.03.1950,,\n", encoding="utf-8")
    sync_datasets()
    assert load_dataset("gym_members", export).ok

    assert dataset_config("library_members").link_only is True
    assert dataset_config("gym_members").link_only is False
    table = records_for_linkage()
    assert table.schema == LINKAGE_SCHEMA
    assert table.schema.field("link_only").type == "bool"
    columns = table.select(["unique_id", "link_only"]).to_pydict()
    assert dict(zip(columns["unique_id"], columns["link_only"], strict=True)) == {
        "gym_members:G1": False,
        "library_members:L1": True,
    }
    with_validity = records_for_linkage(with_validity=True)
    assert with_validity.column("link_only").to_pylist() == [False, True]


@pytest.mark.parametrize("key", ["link_only", "name_required"])
def test_link_only_and_name_required_are_true_or_false(tmp_path, key):
    path = write(
        tmp_path, VALID.replace('proves = ["residency"]', f'proves = ["residency"]\n{key} = "yes"')
    )
    with pytest.raises(DatasetConfigError, match=f"{key} must be true or false"):
        dataset_config("library_members", tmp_path)
    assert path.exists()


@pytest.mark.django_db
def test_a_row_with_no_name_is_a_record_where_the_declaration_allows_it(tmp_path, monkeypatch):
    rows = "L1,,14.03.1950,8 stanley street,4223\nL2,Jane Smith,01.02.1960,,\n"
    refused = _load(tmp_path, monkeypatch, rows)
    assert not refused.ok
    assert refused.problem_lines() == [
        "library_members.csv, row 2, column NAME: the person's name is empty; every row needs one"
    ]

    declaration = VALID.replace(
        'proves = ["residency"]', 'proves = ["residency"]\nname_required = false'
    )
    result = _load(tmp_path, monkeypatch, rows, declaration)

    assert result.ok, result.problem_lines()
    nameless = SourceRecord.objects.get(record_ref="L1")
    assert (nameless.first_name_std, nameless.surname_std) == ("", "")
    assert nameless.date_of_birth.isoformat() == "1950-03-14"
    assert result.warning_lines()[0] == (
        "library_members.csv, row 2, column NAME: the person's name is empty; the record is "
        "kept without one (the dataset's name_required = false)"
    )


@pytest.mark.django_db
def test_a_date_of_birth_that_is_not_a_date_is_left_blank_where_the_declaration_says_so(
    tmp_path, monkeypatch
):
    rows = "L1,Jane Smith,31.02.1950,,\nL2,John Smith,01.02.1960,,\n"
    refused = _load(tmp_path, monkeypatch, rows)
    assert refused.problem_lines() == [
        "library_members.csv, row 2, column BORN: 31 February 1950 is not a date"
    ]

    declaration = VALID.replace(
        'date_of_birth = "BORN"', 'date_of_birth = { column = "BORN", not_a_date = "blank" }'
    )
    result = _load(tmp_path, monkeypatch, rows, declaration)

    assert result.ok, result.problem_lines()
    record = SourceRecord.objects.get(record_ref="L1")
    assert (record.date_of_birth_given, record.date_of_birth) == ("31.02.1950", None)
    assert result.warning_lines() == [
        "library_members.csv, row 2, column BORN: 31 February 1950 is not a date; it is kept as "
        "given but not used"
    ]


def test_not_a_date_takes_problem_or_blank(tmp_path):
    write(
        tmp_path,
        VALID.replace(
            'date_of_birth = "BORN"', 'date_of_birth = { column = "BORN", not_a_date = "guess" }'
        ),
    )
    with pytest.raises(DatasetConfigError, match="not_a_date must be one of problem, blank"):
        dataset_config("library_members", tmp_path)


@pytest.mark.parametrize(
    ("postcode", "sector"), [("4223", None), ("1234 AB", None), ("E21 0AA", "E21 0")]
)
def test_verification_prepares_another_countrys_postcode_with_no_uk_sector(postcode, sector):
    """The verification index reads a record's postcode as linkage does: a postal code of
    another country has no UK sector, so it is close only to the same text."""
    from borough.residents.verification.prepare import prepare

    prepared = prepare(surname="smith", postcode=postcode, address_text="8 stanley street")
    assert (prepared.postcode, prepared.postcode_sector) == (postcode, sector)


@pytest.mark.django_db
def test_a_forenames_column_gives_the_first_name_and_the_middle_names(tmp_path, monkeypatch):
    """An electoral register's FORENAMES ("Karen Joseph") compares with a council tax account's
    "Karen": the declaration says the column holds every given name."""
    declaration = VALID.replace(
        'full_name = "NAME"',
        'first_name = { column = "FORENAMES", forenames = true }\nsurname = "SURNAME"',
    )
    folder = tmp_path / "datasets"
    write(folder, declaration)
    monkeypatch.setenv("BOROUGH_DATASETS_DIR", str(folder))
    export = tmp_path / "library_members.csv"
    export.write_text(
        "MEMBER_ID,FORENAMES,SURNAME,BORN,ADDRESS,POSTCODE\n"
        "L1,Karen Joseph,Dixon,14.03.1950,8 Albion Road,E21 0AA\n"
        "L2,Anne-Marie,Lee,01.02.1960,9 Albion Road,E21 0AA\n"
        "L3,Bob,Jones,01.02.1970,10 Albion Road,E21 0AA\n",
        encoding="utf-8",
    )
    sync_datasets()
    assert load_dataset("library_members", export).ok
    names = {
        r.record_ref: (r.first_name_std, r.middle_names_std, r.first_name_canonical)
        for r in SourceRecord.objects.all()
    }
    assert names == {
        "L1": ("karen", "joseph", "karen"),
        "L2": (s.standardise_name("Anne-Marie"), "", s.standardise_name("Anne-Marie")),
        "L3": ("bob", "", "robert"),
    }


def test_forenames_is_true_or_false(tmp_path):
    text = VALID.replace('full_name = "NAME"', 'first_name = { column = "F", forenames = "yes" }')
    with pytest.raises(DatasetConfigError, match="forenames must be true or false"):
        write(tmp_path / "datasets", text)
        dataset_config("library_members", tmp_path / "datasets")
