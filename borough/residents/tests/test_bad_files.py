"""A file with a problem loads nothing, and says which file, row and column to fix."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from borough.residents.models import DatasetLoad, SourceRecord
from borough.residents.services import load_dataset

from .conftest import write_csv

pytestmark = pytest.mark.django_db

CODE = "freedom_pass"


@pytest.fixture
def passes(synth):
    return [dict(r) for r in synth.rows(CODE)], synth.columns(CODE)


def assert_nothing_loaded(result, records_before: int = 0) -> None:
    assert not result.ok
    assert result.status == DatasetLoad.Status.FAILED
    assert SourceRecord.objects.count() == records_before
    load = result.load
    assert load.status == "failed" and load.error_count == result.problem_count
    assert (load.created, load.updated, load.ended) == (0, 0, 0)


def test_a_missing_column_is_named_with_the_columns_found(passes, tmp_path):
    rows, columns = passes
    columns = [c for c in columns if c != "DATE_OF_BIRTH"]
    for row in rows:
        del row["DATE_OF_BIRTH"]

    result = load_dataset(CODE, write_csv(tmp_path / "passes.csv", rows, columns))

    assert_nothing_loaded(result)
    (line,) = result.problem_lines()
    assert line.startswith("passes.csv: row 1 (the header): the column DATE_OF_BIRTH is missing")
    assert "The file has: PASS_NUMBER, PASS_TYPE, TITLE" in line


def test_a_bad_date_names_the_row_and_column(passes, tmp_path):
    rows, columns = passes
    rows[6]["DATE_OF_BIRTH"] = "1950-03-14"  # ISO where the dataset writes 14/03/1950
    rows[9]["ISSUE_DATE"] = "31/02/2025"

    result = load_dataset(CODE, write_csv(tmp_path / "passes.csv", rows, columns))

    assert_nothing_loaded(result)
    assert result.problem_lines() == [
        "passes.csv, row 8, column DATE_OF_BIRTH: '1950-03-14' is not a date in the declared "
        "format (like 24/11/2020)",
        "passes.csv, row 11, column ISSUE_DATE: 31 February 2025 is not a date",
    ]


def test_day_and_month_are_never_swapped_to_make_a_date_fit(passes, tmp_path):
    rows, columns = passes
    rows[0]["DATE_OF_BIRTH"] = "03/25/1950"  # month first: there is no 25th month

    result = load_dataset(CODE, write_csv(tmp_path / "passes.csv", rows, columns))

    assert_nothing_loaded(result)
    assert "row 2, column DATE_OF_BIRTH: '03/25/1950' is not a date" in result.problem_lines()[0]


def test_a_file_not_in_the_declared_encoding_is_refused_with_where(passes, tmp_path):
    rows, columns = passes
    rows[4]["FIRST_NAME"] = "Zoë"
    path = write_csv(tmp_path / "passes.csv", rows, columns)
    # "Zoë" as Latin-1 or Windows-1252 writes it, in a file declared UTF-8.
    path.write_bytes(path.read_bytes().replace("Zoë".encode(), b"Zo\xeb"))

    result = load_dataset(CODE, path)

    assert_nothing_loaded(result)
    (line,) = result.problem_lines()
    assert "not in utf-8, as the dataset declares: the byte 0xEB" in line
    assert "(line 6, row 6" in line


def test_utf16_from_excel_is_refused_with_the_way_to_fix_it(passes, tmp_path):
    rows, columns = passes
    path = write_csv(tmp_path / "passes.csv", rows, columns, encoding="utf-16")
    result = load_dataset(CODE, path)
    assert_nothing_loaded(result)
    assert "UTF-16" in result.problem_lines()[0]


def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "passes.csv"
    path.write_bytes(b"")
    result = load_dataset(CODE, path)
    assert_nothing_loaded(result)
    assert result.problem_lines() == [
        "passes.csv: The file is empty: it has no header row and no records."
    ]


def test_a_header_with_no_records_is_refused_rather_than_ending_everything(passes, tmp_path):
    _, columns = passes
    result = load_dataset(CODE, write_csv(tmp_path / "passes.csv", [], columns))
    assert_nothing_loaded(result)
    assert "a header row but no records" in result.problem_lines()[0]


def test_a_repeated_record_id_and_a_short_row_are_problems(passes, tmp_path):
    rows, columns = passes
    rows[5]["PASS_NUMBER"] = rows[2]["PASS_NUMBER"]
    path = write_csv(tmp_path / "passes.csv", rows, columns)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("20999999,OLDER_PERSON,Mr\n")

    result = load_dataset(CODE, path)

    assert_nothing_loaded(result)
    lines = result.problem_lines()
    assert lines[0].startswith(
        f"passes.csv, row 7, column PASS_NUMBER: the record id {rows[2]['PASS_NUMBER']} "
        "is also on row 4"
    )
    assert lines[1].startswith(f"passes.csv, row {len(rows) + 2}: has 3 values but the header")


def test_a_person_with_no_name_is_a_problem(passes, tmp_path):
    rows, columns = passes
    rows[3]["FIRST_NAME"] = rows[3]["LAST_NAME"] = ""
    result = load_dataset(CODE, write_csv(tmp_path / "passes.csv", rows, columns))
    assert_nothing_loaded(result)
    assert result.problem_lines() == [
        "passes.csv, row 5, column FIRST_NAME + LAST_NAME: the person's name is empty; "
        "every row needs one"
    ]


def test_many_problems_are_capped_with_a_count(passes, tmp_path):
    template, columns = passes
    rows = [{**template[0], "PASS_NUMBER": str(n), "EXPIRY_DATE": "soon"} for n in range(80)]
    rows[79]["ISSUE_DATE"] = "31/02/2025"  # one problem of another kind, in another column
    result = load_dataset(CODE, write_csv(tmp_path / "passes.csv", rows, columns))
    assert_nothing_loaded(result)
    lines = result.problem_lines()
    # the first ten of each column, so that 80 of one kind do not hide the one of another
    assert len(lines) == 12
    assert "31 February 2025 is not a date" in lines[10]
    assert lines[-1] == "and 70 more problems"
    assert result.problems_by_column == {"EXPIRY_DATE": 80, "ISSUE_DATE": 1}


# These two load files successfully: tenancies, whose rows all have a UPRN in the
# gazetteer, so no address matching is needed.
def test_a_failed_file_leaves_the_last_snapshot_as_it_was(synth, tmp_path, gazetteer):
    rows, columns = (
        [dict(r) for r in synth.rows("housing_tenancies")],
        synth.columns("housing_tenancies"),
    )
    first = load_dataset("housing_tenancies", write_csv(tmp_path / "good.csv", rows, columns))
    assert first.ok, first.problem_lines()
    before = list(SourceRecord.objects.order_by("id").values_list())
    rows.pop(0)
    rows[0]["DATE_OF_BIRTH"] = "not a date"

    result = load_dataset("housing_tenancies", write_csv(tmp_path / "bad.csv", rows, columns))

    assert_nothing_loaded(result, records_before=len(before))
    assert list(SourceRecord.objects.order_by("id").values_list()) == before


def test_warnings_do_not_stop_a_load(synth, tmp_path, gazetteer):
    rows, columns = (
        [dict(r) for r in synth.rows("housing_tenancies")],
        synth.columns("housing_tenancies"),
    )
    rows[0]["POSTCODE"] = "NOT A POSTCODE"
    rows[1]["DATE_OF_BIRTH"] = "01-JAN-2090"
    rows[2]["EMAIL"] = "nobody at example.com"

    result = load_dataset("housing_tenancies", write_csv(tmp_path / "t.csv", rows, columns))

    assert result.ok, result.problem_lines()
    assert result.warning_lines() == [
        "t.csv, row 2, column POSTCODE: 'NOT A POSTCODE' is not a UK postcode; it is kept as "
        "given but not used",
        "t.csv, row 3, column DATE_OF_BIRTH: the date of birth 1 January 2090 is in the future; "
        "it is not used",
        "t.csv, row 4, column EMAIL: 'nobody at example.com' is not an e-mail address; it is "
        "not used",
    ]
    first = SourceRecord.objects.get(record_ref=rows[0]["TENANT_REF"])
    assert (first.postcode_given, first.postcode) == ("NOT A POSTCODE", "")
    second = SourceRecord.objects.get(record_ref=rows[1]["TENANT_REF"])
    assert (second.date_of_birth_given, second.date_of_birth) == ("01-JAN-2090", None)


def test_the_command_lists_the_problems_and_fails(passes, tmp_path, capsys):
    rows, columns = passes
    rows[2]["ISSUE_DATE"] = "2025-13-01"
    path = write_csv(tmp_path / "passes.csv", rows, columns)
    with pytest.raises(CommandError, match=r"Nothing was loaded from passes\.csv"):
        call_command("residents", "load", CODE, str(path))
    err = capsys.readouterr().err
    assert "passes.csv, row 4, column ISSUE_DATE: '2025-13-01' is not a date" in err


def test_an_unknown_dataset_or_file_is_a_clear_command_error(tmp_path):
    with pytest.raises(CommandError, match="There is no dataset called 'council_tx'"):
        call_command("residents", "load", "council_tx", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="There is no file"):
        call_command("residents", "load", CODE, str(tmp_path / "missing.csv"))
