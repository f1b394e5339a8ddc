"""Loading a gazetteer export: all or nothing, idempotent, and clear about what is wrong."""

import codecs

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from borough.core import files
from borough.places import services
from borough.places.models import GazetteerImport, Property
from borough.places.services import import_gazetteer

from .conftest import LLPG_COLUMNS, write_rows

pytestmark = pytest.mark.django_db


def snapshot() -> list[tuple]:
    return list(Property.objects.order_by("uprn").values_list())


def test_an_llpg_export_loads_every_property(gazetteer_csv):
    result = import_gazetteer(gazetteer_csv, "llpg")

    assert result.ok, result.problem_lines()
    assert (result.rows, result.created, result.updated, result.unchanged) == (13, 13, 0, 0)
    assert Property.objects.count() == 13
    flat = Property.objects.get(uprn=100021000004)
    assert flat.parent_uprn == 100021000001
    assert flat.parent.classification == "PP"
    assert flat.single_line() == "Flat 3, Kestrel House, 12 Albion Road, Northmere, London E21 3AB"
    assert flat.lines() == [
        "Flat 3",
        "Kestrel House",
        "12 Albion Road",
        "Northmere",
        "London",
        "E21 3AB",
    ]
    assert (flat.usrn, flat.ward_code, flat.ward_name) == (21000001, "E05099001", "Albion")
    assert (flat.latitude, flat.longitude) == (51.54012, -0.05521)
    assert flat.is_residential and flat.car_free and flat.in_latest_export
    assert flat.logical_status == "1"
    record = GazetteerImport.objects.get()
    assert record.status == "loaded"
    assert (record.file_name, record.mapping, record.rows, record.created) == (
        "gazetteer.csv",
        "llpg",
        13,
        13,
    )
    assert len(record.sha256) == 64
    assert flat.last_import == record


@pytest.mark.parametrize(
    ("uprn", "residential"),
    [
        (100021000001, False),  # PP: the building shell
        (100021000020, True),  # RD04 terraced house
        (100021000023, False),  # RG02 garage
        (100021000030, False),  # CR08 shop
        (100021000033, True),  # X dual use
    ],
)
def test_residential_comes_from_the_classification(gazetteer_csv, uprn, residential):
    import_gazetteer(gazetteer_csv)
    assert Property.objects.get(uprn=uprn).is_residential is residential


def test_car_free_takes_the_mappings_true_and_false_values(gazetteer_csv):
    import_gazetteer(gazetteer_csv)
    assert Property.objects.get(uprn=100021000022).car_free is False  # blank
    assert Property.objects.get(uprn=100021000031).car_free is False  # "NO"
    assert Property.objects.filter(car_free=True).count() == 5


def test_postcodes_are_stored_normalised(tmp_path, rows):
    rows[0]["POSTCODE_LOCATOR"] = "e21  3ab"
    import_gazetteer(write_rows(tmp_path / "g.csv", rows))
    assert Property.objects.get(uprn=rows[0]["UPRN"]).postcode == "E21 3AB"


def test_loading_the_same_file_again_changes_nothing_and_says_so(gazetteer_csv):
    import_gazetteer(gazetteer_csv)
    before = snapshot()

    again = import_gazetteer(gazetteer_csv)

    assert again.ok
    assert again.status == "already_loaded"
    assert "was already loaded on" in again.summary()
    assert "nothing changed" in again.summary()
    assert (again.created, again.updated) == (0, 0)
    assert snapshot() == before
    assert list(GazetteerImport.objects.values_list("status", flat=True)) == [
        "already_loaded",
        "loaded",
    ]


def test_the_same_rows_in_a_new_file_count_as_unchanged(tmp_path, gazetteer_csv, rows):
    import_gazetteer(gazetteer_csv)
    before = snapshot()
    # Same properties, different bytes (quoting, row order): compared row by row.
    rows.reverse()
    result = import_gazetteer(write_rows(tmp_path / "reordered.csv", rows))

    assert result.status == "loaded"
    assert (result.created, result.updated, result.unchanged, result.left_export) == (0, 0, 13, 0)
    assert snapshot() == before


def test_a_newer_export_creates_updates_and_keeps_what_it_no_longer_lists(
    tmp_path, gazetteer_csv, rows
):
    import_gazetteer(gazetteer_csv)
    by_uprn = {row["UPRN"]: row for row in rows}
    by_uprn["100021000020"]["WARD_NAME"] = "Albion and Canal"
    by_uprn["100021000031"]["CAR_FREE"] = "Y"
    del by_uprn["100021000032"]
    by_uprn["100021000040"] = {
        **by_uprn["100021000031"],
        "UPRN": "100021000040",
        "PAO_START_NUMBER": "9",
        "CAR_FREE": "N",
    }

    result = import_gazetteer(write_rows(tmp_path / "newer.csv", list(by_uprn.values())))

    assert result.ok, result.problem_lines()
    assert (result.created, result.updated, result.unchanged, result.left_export) == (1, 2, 10, 1)
    assert "1 new, 2 changed, 10 unchanged" in result.summary()
    assert Property.objects.get(uprn=100021000020).ward_name == "Albion and Canal"
    assert Property.objects.get(uprn=100021000031).car_free is True
    assert Property.objects.get(uprn=100021000040).building_number == "9"
    gone = Property.objects.get(uprn=100021000032)  # kept, not deleted
    assert gone.in_latest_export is False
    assert Property.objects.count() == 14


def test_a_property_that_comes_back_is_current_again(tmp_path, gazetteer_csv, rows):
    import_gazetteer(gazetteer_csv)
    import_gazetteer(write_rows(tmp_path / "without.csv", rows[1:]))
    assert Property.objects.get(uprn=rows[0]["UPRN"]).in_latest_export is False

    result = import_gazetteer(gazetteer_csv)

    assert result.status == "loaded"  # not "already loaded": a different file came between
    assert (result.created, result.updated, result.unchanged) == (0, 1, 12)
    assert Property.objects.get(uprn=rows[0]["UPRN"]).in_latest_export is True


def test_a_parent_already_in_the_gazetteer_is_enough(tmp_path, gazetteer_csv, rows):
    import_gazetteer(gazetteer_csv)
    flat = {**rows[0], "UPRN": "100021000099", "SAO_TEXT": "FLAT 99"}
    # The new file lists the flat but not its building: the building stays, marked as gone.
    result = import_gazetteer(write_rows(tmp_path / "flat-only.csv", [flat]))
    assert result.ok, result.problem_lines()
    assert Property.objects.get(uprn=100021000099).parent_id == 100021000001


def test_utf8_with_a_byte_order_mark_loads(tmp_path, gazetteer_csv):
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + gazetteer_csv.read_bytes())
    result = import_gazetteer(path)
    assert result.ok, result.problem_lines()
    assert Property.objects.count() == 13


def test_non_ascii_text_survives(tmp_path, rows):
    rows[5]["PAO_TEXT"] = "CAFÉ ŁÓDŹ HOUSE"
    import_gazetteer(write_rows(tmp_path / "g.csv", rows))
    assert Property.objects.get(uprn=rows[5]["UPRN"]).building_name == "CAFÉ ŁÓDŹ HOUSE"


# --- Bad rows: every problem names the row and column, and nothing is loaded. -----------------


def _set(index: int, **changes):
    def change(rows):
        rows[index].update(changes)

    return change


BAD_ROWS = [
    pytest.param(
        _set(12, POSTCODE_LOCATOR="E8 1D"),
        "row 14, column POSTCODE_LOCATOR: 'E8 1D' is not a real postcode",
        id="bad postcode",
    ),
    pytest.param(
        _set(3, UPRN="abc"),
        "row 5, column UPRN: 'abc' is not a UPRN: it must be a whole number above 0, at most 12 digits",
        id="UPRN not a number",
    ),
    pytest.param(_set(3, UPRN="0"), "row 5, column UPRN: '0' is not a UPRN", id="UPRN zero"),
    pytest.param(
        _set(3, UPRN="-12"), "row 5, column UPRN: '-12' is not a UPRN", id="UPRN negative"
    ),
    pytest.param(
        _set(3, UPRN="1.00021E+11"),
        "row 5, column UPRN: '1.00021E+11' is not a UPRN",
        id="UPRN from Excel",
    ),
    pytest.param(
        _set(3, UPRN="1000210000041"),
        "row 5, column UPRN: '1000210000041' is not a UPRN",
        id="UPRN 13 digits",
    ),
    pytest.param(
        _set(3, UPRN=""), "row 5, column UPRN: is empty; every row needs a UPRN", id="UPRN missing"
    ),
    pytest.param(
        _set(8, UPRN="100021000020"),
        "row 10, column UPRN: UPRN 100021000020 is also on row 7; each UPRN can appear once",
        id="duplicate UPRN",
    ),
    pytest.param(
        _set(2, PARENT_UPRN="100021009999"),
        "row 4, column PARENT_UPRN: parent UPRN 100021009999 is not in this file or in the gazetteer",
        id="parent nowhere",
    ),
    pytest.param(
        _set(2, PARENT_UPRN="x1"),
        "row 4, column PARENT_UPRN: 'x1' is not a parent UPRN",
        id="parent not a number",
    ),
    pytest.param(
        _set(1, PARENT_UPRN="100021000001"),
        "row 3, column PARENT_UPRN: a property cannot be its own parent",
        id="own parent",
    ),
    pytest.param(
        _set(6, LATITUDE="151.54"),
        "row 8, column LATITUDE: '151.54' is out of range: a latitude in the UK is between 49.0 and 61.0",
        id="latitude out of range",
    ),
    pytest.param(
        _set(6, LATITUDE="-0.05602", LONGITUDE="51.54031"),
        "row 8, column LATITUDE: '-0.05602' is out of range",
        id="coordinates swapped",
    ),
    pytest.param(
        _set(6, LONGITUDE="west"),
        "row 8, column LONGITUDE: 'west' is not a number",
        id="longitude text",
    ),
    pytest.param(
        _set(6, LONGITUDE="nan"),
        "row 8, column LONGITUDE: 'nan' is out of range",
        id="longitude nan",
    ),
    pytest.param(
        _set(6, LONGITUDE=""),
        "row 8, column LONGITUDE: is empty but LATITUDE is filled in; give both or neither",
        id="only one coordinate",
    ),
    pytest.param(
        _set(9, CAR_FREE="MAYBE"),
        "row 11, column CAR_FREE: 'MAYBE' is not one of Y, YES, TRUE, 1, N, NO, FALSE, 0, blank",
        id="car free not yes or no",
    ),
    pytest.param(
        _set(9, CLASSIFICATION_CODE="R D04"),
        "row 11, column CLASSIFICATION_CODE: 'R D04' is not an AddressBase classification code, like RD04",
        id="bad classification",
    ),
    pytest.param(
        _set(9, USRN="street"), "row 11, column USRN: 'street' is not a USRN", id="bad USRN"
    ),
    pytest.param(
        _set(9, STREET_DESCRIPTION="A" * 121),
        "row 11, column STREET_DESCRIPTION: 'AAAA",
        id="street too long",
    ),
]


@pytest.mark.parametrize(("change", "expected"), BAD_ROWS)
def test_a_bad_row_loads_nothing_into_an_empty_gazetteer(tmp_path, rows, change, expected):
    change(rows)
    result = import_gazetteer(write_rows(tmp_path / "bad.csv", rows))

    assert not result.ok
    assert result.status == "failed"
    assert any(line.startswith(expected) for line in result.problem_lines()), result.problem_lines()
    assert Property.objects.count() == 0
    record = GazetteerImport.objects.get()
    assert record.status == "failed"
    assert record.error_count == result.problem_count >= 1
    assert "Nothing was loaded from bad.csv" in result.summary()


@pytest.mark.parametrize(("change", "expected"), BAD_ROWS)
def test_a_bad_row_changes_nothing_already_loaded(tmp_path, gazetteer_csv, rows, change, expected):
    import_gazetteer(gazetteer_csv)
    before = snapshot()
    for row in rows:
        row["WARD_NAME"] = "Renamed"  # good changes on every row, which must not be applied
    change(rows)

    result = import_gazetteer(write_rows(tmp_path / "bad.csv", rows))

    assert not result.ok
    assert any(line.startswith(expected) for line in result.problem_lines())
    assert snapshot() == before


def test_rows_written_before_a_late_problem_are_rolled_back(tmp_path, rows, monkeypatch):
    monkeypatch.setattr(services, "BATCH_SIZE", 2)  # so earlier rows are written first
    for row in rows:
        row["PARENT_UPRN"] = ""
    rows[-1]["LATITUDE"] = "99"
    result = import_gazetteer(write_rows(tmp_path / "late.csv", rows))
    assert not result.ok
    assert result.problem_lines() == [
        "row 14, column LATITUDE: '99' is out of range: a latitude in the UK is between 49.0 and 61.0"
    ]
    assert Property.objects.count() == 0


def test_a_row_with_the_wrong_number_of_values_is_named(tmp_path, gazetteer_csv):
    lines = gazetteer_csv.read_text().splitlines()
    lines[4] = lines[4] + ",EXTRA"
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join(lines) + "\n")
    result = import_gazetteer(path)
    assert result.problem_lines() == [
        "row 5: has 18 values but the header has 17 columns (check for a stray comma or a "
        "missing quote, and that the mapping is right)"
    ]
    assert Property.objects.count() == 0


def test_many_problems_are_capped_with_a_count_of_the_rest(tmp_path, rows):
    template = rows[5]
    many = [
        {**template, "UPRN": str(200000000000 + n), "POSTCODE_LOCATOR": "NOT A POSTCODE"}
        for n in range(60)
    ]
    result = import_gazetteer(write_rows(tmp_path / "many.csv", many))
    lines = result.problem_lines()
    assert result.problem_count == 60
    assert len(lines) == services.MAX_PROBLEMS_SHOWN + 1
    assert lines[0] == "row 2, column POSTCODE_LOCATOR: 'NOT A POSTCODE' is not a real postcode"
    assert lines[-1] == "and 10 more problems"
    assert GazetteerImport.objects.get().errors == lines


def test_every_problem_in_a_row_is_reported(tmp_path, rows):
    rows[0].update(POSTCODE_LOCATOR="E8 1D", LATITUDE="500", CAR_FREE="?")
    result = import_gazetteer(write_rows(tmp_path / "bad.csv", rows))
    columns = [problem.column for problem in result.problems]
    assert columns == ["CAR_FREE", "LATITUDE", "POSTCODE_LOCATOR"]
    assert {problem.row for problem in result.problems} == {2}


# --- Bad files ---------------------------------------------------------------------------------


def test_a_missing_column_stops_the_load_naming_it_and_the_columns_found(tmp_path, rows):
    columns = [c for c in LLPG_COLUMNS if c not in ("POSTCODE_LOCATOR", "CAR_FREE")]
    trimmed = [{c: row[c] for c in columns} for row in rows]
    result = import_gazetteer(write_rows(tmp_path / "short.csv", trimmed, columns))

    assert not result.ok
    [line] = result.problem_lines()
    assert line.startswith(
        "row 1 (the header): the columns POSTCODE_LOCATOR, CAR_FREE are missing."
    )
    assert "The file has: UPRN, PARENT_UPRN, USRN, SAO_TEXT" in line
    assert Property.objects.count() == 0


def test_a_file_that_is_not_a_gazetteer_export_is_refused(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("name,email\nAda,ada@example.com\n")
    result = import_gazetteer(path)
    [line] = result.problem_lines()
    assert "the columns UPRN, PARENT_UPRN" in line
    assert line.endswith("The file has: name, email.")


def test_header_names_match_whatever_their_case_and_spacing(tmp_path, rows):
    columns = [f" {c.lower()} " for c in LLPG_COLUMNS]
    renamed = [{f" {k.lower()} ": v for k, v in row.items()} for row in rows]
    result = import_gazetteer(write_rows(tmp_path / "lower.csv", renamed, columns))
    assert result.ok, result.problem_lines()


def test_a_duplicated_mapped_column_is_refused(tmp_path, gazetteer_csv):
    text = [line + ",E8 1DY" for line in gazetteer_csv.read_text().splitlines()]
    text[0] = text[0].replace(",E8 1DY", ",postcode_locator")
    path = tmp_path / "dup.csv"
    path.write_text("\n".join(text))
    [line] = import_gazetteer(path).problem_lines()
    assert line.startswith("row 1 (the header): the column POSTCODE_LOCATOR appears more than once")


def test_a_file_not_in_utf8_is_refused_with_the_byte_and_line(tmp_path, gazetteer_csv):
    text = gazetteer_csv.read_text().splitlines()
    text[4] = text[4].replace("KESTREL HOUSE", "KESTREL £ HOUSE")
    content = ("\n".join(text) + "\n").encode("latin-1")
    path = tmp_path / "latin1.csv"
    path.write_bytes(content)

    result = import_gazetteer(path)

    assert not result.ok
    [line] = result.problem_lines()
    offset = content.index(b"\xa3")
    assert line.startswith(
        f"The file is not in UTF-8: the byte 0xA3 at byte offset {offset:,} (line 5) is not UTF-8 text."
    )
    assert "CSV UTF-8" in line
    assert Property.objects.count() == 0


def test_a_bad_byte_across_a_read_boundary_is_found(tmp_path, gazetteer_csv, monkeypatch):
    monkeypatch.setattr(files, "CHUNK", 7)
    content = gazetteer_csv.read_bytes()
    for offset in (content.index(b"\n") + 10, len(content) - 3):
        cut = content[:offset] + "é".encode()[:1] + content[offset:]
        path = tmp_path / "cut.csv"
        path.write_bytes(cut)
        [line] = import_gazetteer(path).problem_lines()
        line_number = cut[:offset].count(b"\n") + 1
        assert f"the byte 0xC3 at byte offset {offset:,} (line {line_number})" in line
    # A character cut short at the very end of the file.
    path.write_bytes(content + "é".encode()[:1])
    [line] = import_gazetteer(path).problem_lines()
    assert f"it ends part-way through a character (byte offset {len(content):,})" in line


def test_a_utf16_file_is_refused_by_name(tmp_path, gazetteer_csv):
    path = tmp_path / "excel-unicode.csv"
    path.write_bytes(gazetteer_csv.read_text().encode("utf-16"))
    [line] = import_gazetteer(path).problem_lines()
    assert line.startswith("The file is in UTF-16")


@pytest.mark.parametrize("content", [b"", b"\n\n", b"  \r\n", codecs.BOM_UTF8])
def test_an_empty_file_is_an_error(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    result = import_gazetteer(path)
    assert result.problem_lines() == ["The file is empty."]
    assert GazetteerImport.objects.get().status == "failed"


def test_a_header_with_no_rows_is_an_error(tmp_path):
    result = import_gazetteer(write_rows(tmp_path / "header-only.csv", []))
    assert result.problem_lines() == ["The file has a header row but no properties."]


def test_an_unclosed_quote_is_reported_not_crashed(tmp_path, gazetteer_csv):
    text = gazetteer_csv.read_bytes().replace(b"CANAL STREET", b'"CANAL STREET', 1)
    path = tmp_path / "quote.csv"
    path.write_bytes(text)
    result = import_gazetteer(path)
    assert result.problem_lines() == [
        "row 11: the file is not valid CSV here: unexpected end of data"
    ]
    assert Property.objects.count() == 0


def test_a_nul_byte_is_a_problem_in_its_column(tmp_path, gazetteer_csv):
    text = gazetteer_csv.read_bytes().replace(b"CANAL STREET", b"CANAL\x00STREET", 1)
    path = tmp_path / "nul.csv"
    path.write_bytes(text)
    result = import_gazetteer(path)
    assert result.problem_lines() == [
        "row 11, column STREET_DESCRIPTION: 'CANAL\\x00STREET' contains a control character "
        "(such as NUL); remove it from the file"
    ]
    assert Property.objects.count() == 0


# --- Mappings --------------------------------------------------------------------------------

ADDRESSBASE_COLUMNS = services.load_mapping("addressbase").columns


def _addressbase_row(**values) -> list[str]:
    row = dict.fromkeys(ADDRESSBASE_COLUMNS, "")
    row.update(values)
    return [row[c] for c in ADDRESSBASE_COLUMNS]


def _write_plain_csv(path, rows):
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


ADDRESSBASE_ROWS = [
    _addressbase_row(
        UPRN="10023456789",
        CLASS="PP",
        PAO_START_NUMBER="12",
        PAO_TEXT="KESTREL HOUSE",
        STREET_DESCRIPTION="ALBION ROAD",
        TOWN_NAME="LONDON",
        POSTCODE_LOCATOR="E21 3AB",
        LATITUDE="51.5401200",
        LONGITUDE="-0.0552100",
        USRN="21000001",
        WARD_CODE="E05099001",
    ),
    _addressbase_row(
        UPRN="10023456790",
        PARENT_UPRN="10023456789",
        CLASS="RD06",
        SAO_TEXT="FLAT",
        SAO_START_NUMBER="3",
        PAO_START_NUMBER="12",
        PAO_TEXT="KESTREL HOUSE",
        STREET_DESCRIPTION="ALBION ROAD",
        TOWN_NAME="LONDON",
        POSTCODE_LOCATOR="E21 3AB",
        LATITUDE="51.5401200",
        LONGITUDE="-0.0552100",
        USRN="21000001",
    ),
    _addressbase_row(
        UPRN="10023456791",
        CLASS="RD04",
        PAO_START_NUMBER="14",
        PAO_START_SUFFIX="A",
        PAO_END_NUMBER="16",
        STREET_DESCRIPTION="ALBION ROAD",
        TOWN_NAME="LONDON",
        POSTCODE_LOCATOR="E21 3AB",
        LATITUDE="51.5401200",
        LONGITUDE="-0.0552100",
    ),
]


def test_an_addressbase_plus_file_loads_without_a_header_row(tmp_path):
    path = _write_plain_csv(tmp_path / "AddressBasePlus_FULL_2025-01-01_001.csv", ADDRESSBASE_ROWS)
    result = import_gazetteer(path, "addressbase")
    assert result.ok, result.problem_lines()
    flat = Property.objects.get(uprn=10023456790)
    assert flat.single_line() == "Flat 3, Kestrel House, 12 Albion Road, London E21 3AB"
    assert flat.parent_id == 10023456789 and flat.is_residential
    assert Property.objects.get(uprn=10023456791).building_number == "14A-16"
    assert Property.objects.get(uprn=10023456789).ward_code == "E05099001"


def test_an_addressbase_file_with_its_header_added_back_loads_the_same(tmp_path):
    path = _write_plain_csv(tmp_path / "abp.csv", [list(ADDRESSBASE_COLUMNS), *ADDRESSBASE_ROWS])
    result = import_gazetteer(path, "addressbase")
    assert result.ok, result.problem_lines()
    assert result.rows == 3


def test_a_file_that_is_not_addressbase_is_refused_by_its_width(tmp_path, gazetteer_csv):
    result = import_gazetteer(gazetteer_csv, "addressbase")
    assert result.problem_count == 14
    assert result.problem_lines()[0] == (
        "row 1: has 17 values but the addressbase mapping expects 77 columns (check for a stray "
        "comma or a missing quote, and that the mapping is right)"
    )


def test_rows_in_a_headerless_file_are_counted_from_one(tmp_path):
    rows = [*ADDRESSBASE_ROWS]
    rows[1] = _addressbase_row(UPRN="10023456790", POSTCODE_LOCATOR="E21 3A", CLASS="RD06")
    result = import_gazetteer(_write_plain_csv(tmp_path / "abp.csv", rows), "addressbase")
    assert result.problem_lines() == [
        "row 2, column POSTCODE_LOCATOR: 'E21 3A' is not a real postcode"
    ]


def test_a_councils_own_mapping_file(tmp_path):
    mapping = tmp_path / "our-export.toml"
    mapping.write_text(
        """
name = "our-export"
[file]
delimiter = ";"
[fields]
uprn = "Property Ref"
street = "Street"
town = "Town"
postcode = { column = "Post Code", required = true }
is_residential = { column = "Domestic", true_values = ["D"], false_values = ["ND"] }
car_free = { column = "No Permits", true_values = ["X"], false_values = [""] }
"""
    )
    data = tmp_path / "export.csv"
    data.write_text(
        "Property Ref;Street;Town;Post Code;Domestic;No Permits\n"
        "5001;HIGH STREET;LONDON;e8 1dy;D;X\n"
        "5002;HIGH STREET;LONDON;E8 1DY;ND;\n"
    )
    result = import_gazetteer(data, mapping)
    assert result.ok, result.problem_lines()
    assert result.mapping == str(mapping)
    first, second = Property.objects.order_by("uprn")
    assert (first.postcode, first.is_residential, first.car_free) == ("E8 1DY", True, True)
    assert (second.is_residential, second.car_free) == (False, False)


def test_a_required_field_left_empty_is_a_problem(tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text('[fields]\nuprn = "UPRN"\npostcode = { column = "PC", required = true }\n')
    data = tmp_path / "d.csv"
    data.write_text("UPRN,PC\n1,\n")
    assert import_gazetteer(data, mapping).problem_lines() == [
        "row 2, column PC: is empty; every row needs a postcode"
    ]


def test_the_residential_rule_can_be_changed_in_the_mapping(tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[fields]\nuprn = "UPRN"\nclassification = "CLASS"\n'
        '[residential]\nresidential = ["R"]\nnot_residential = ["RI", "RG"]\n'
    )
    data = tmp_path / "d.csv"
    data.write_text("UPRN,CLASS\n1,RI01\n2,X\n3,RD04\n")
    import_gazetteer(data, mapping)
    assert dict(Property.objects.values_list("uprn", "is_residential")) == {
        1: False,
        2: False,
        3: True,
    }


# --- The command -----------------------------------------------------------------------------


def test_the_command_prints_a_summary(gazetteer_csv, capsys):
    call_command("places", "import", str(gazetteer_csv), "--mapping", "llpg")
    out = capsys.readouterr().out
    assert "Loaded gazetteer.csv: 13 properties; 13 new, 0 changed, 0 unchanged." in out


def test_the_command_lists_the_problems_and_fails(tmp_path, rows, capsys):
    rows[12]["POSTCODE_LOCATOR"] = "E8 1D"
    path = write_rows(tmp_path / "bad.csv", rows)
    with pytest.raises(CommandError, match=r"Nothing was loaded from bad\.csv"):
        call_command("places", "import", str(path))
    err = capsys.readouterr().err
    assert "bad.csv, row 14, column POSTCODE_LOCATOR: 'E8 1D' is not a real postcode" in err
    assert Property.objects.count() == 0


def test_the_command_refuses_an_unknown_mapping(gazetteer_csv):
    with pytest.raises(CommandError, match="There is no mapping called 'nope'"):
        call_command("places", "import", str(gazetteer_csv), "--mapping", "nope")


def test_the_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="There is no file"):
        call_command("places", "import", str(tmp_path / "missing.csv"))
