"""Exports as councils send them: a load may set aside rows with problems instead of refusing
the file, only when asked and only up to a cap; each set-aside row is listed with its row,
column and reason in a report, and the load says how many. Without the flag a bad row still
loads nothing (``test_bad_files``)."""

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from borough.residents.models import DatasetLoad, SourceRecord
from borough.residents.services import load_dataset

from .conftest import write_csv
from .test_bad_files import CODE, assert_nothing_loaded

pytestmark = pytest.mark.django_db


@pytest.fixture
def passes(synth):
    return [dict(r) for r in synth.rows(CODE)], synth.columns(CODE)


def _spoil(rows, *numbers):
    """Give the rows at these file row numbers (the header is row 1) an impossible date."""
    refs = []
    for number in numbers:
        rows[number - 2]["DATE_OF_BIRTH"] = "31/02/1950"
        refs.append(rows[number - 2])
    return refs


def test_without_the_flag_one_bad_row_loads_nothing(passes, tmp_path):
    rows, columns = passes
    _spoil(rows, 5)
    assert_nothing_loaded(load_dataset(CODE, write_csv(tmp_path / "p.csv", rows, columns)))


def test_asked_to_the_bad_rows_are_set_aside_listed_and_the_rest_loaded(passes, tmp_path):
    rows, columns = passes
    _spoil(rows, 5, 9)
    result = load_dataset(CODE, write_csv(tmp_path / "p.csv", rows, columns), set_aside_share=0.1)
    assert result.ok, result.problem_lines()
    assert result.set_aside_rows == 2
    assert [(p.row, p.column, p.message) for p in result.set_aside] == [
        (5, "DATE_OF_BIRTH", "31 February 1950 is not a date"),
        (9, "DATE_OF_BIRTH", "31 February 1950 is not a date"),
    ]
    assert "2 rows with problems set aside, not loaded" in result.summary()
    assert SourceRecord.objects.count() == result.records == len(rows) - 2
    load = DatasetLoad.objects.get(pk=result.load.pk)
    assert load.set_aside_rows == 2 and len(load.set_aside) == 2


def test_more_bad_rows_than_the_cap_load_nothing(passes, tmp_path):
    rows, columns = passes
    _spoil(rows, *range(2, 12))  # ten bad rows
    result = load_dataset(CODE, write_csv(tmp_path / "p.csv", rows, columns), set_aside_share=0.001)
    assert_nothing_loaded(result)
    first = result.problem_lines()[0]
    assert "10 rows have problems: more than the 1 that may be set aside (0.1% of" in first
    assert any("31 February 1950 is not a date" in line for line in result.problem_lines())
    # the explanation is not counted as a problem: ten rows, ten problems
    assert result.problem_count == 10
    assert "it has 10 problems" in result.summary()


def test_the_command_writes_the_report_and_says_where(passes, tmp_path, settings):
    settings.DATA_DIR = tmp_path / "data"
    rows, columns = passes
    _spoil(rows, 7)
    out = io.StringIO()
    path = write_csv(tmp_path / "p.csv", rows, columns)
    call_command("residents", "load", CODE, str(path), "--set-aside-bad-rows", "5", stdout=out)
    text = out.getvalue()
    assert "1 row set aside: every row, column and reason is in" in text
    (report,) = (tmp_path / "data" / "reports").glob("*.csv")
    assert list(csv.reader(report.open())) == [
        ["row", "column", "reason"],
        ["7", "DATE_OF_BIRTH", "31 February 1950 is not a date"],
    ]
    with pytest.raises(CommandError, match="percentage above 0 and at most 10"):
        call_command("residents", "load", CODE, str(path), "--set-aside-bad-rows", "50")


def test_the_admin_offers_the_report_to_download(
    passes, tmp_path, client, make_staff, sign_in_staff
):
    rows, columns = passes
    _spoil(rows, 3)
    result = load_dataset(CODE, write_csv(tmp_path / "p.csv", rows, columns), set_aside_share=0.1)
    sign_in_staff(client, make_staff("Administrator", username="admin"))
    page = client.get(f"/admin/residents/datasetload/{result.load.pk}/change/")
    assert page.status_code == 200
    assert b"download the report (CSV)" in page.content
    report = client.get(f"/admin/residents/datasetload/{result.load.pk}/set-aside.csv")
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    assert b"3,DATE_OF_BIRTH,31 February 1950 is not a date" in report.content
