"""Dataset declarations: the shipped ones, a council's own folder, and clear mistakes."""

import shutil
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command

from borough.residents.config import (
    SHIPPED_DIR,
    DatasetConfigError,
    dataset_config,
    declared_datasets,
)
from borough.residents.models import SourceDataset, SourceRecord
from borough.residents.services import load_dataset, sync_datasets

from .conftest import DATASETS

VALID = """
code = "library_members"
title = "Library members"
owner = "Libraries"
proves = ["residency"]

[lawful_basis]
summary = "Members give their address to borrow books."
reference = "UK GDPR Art 6(1)(e) public task; Public Libraries and Museums Act 1964"

[file]
record_id = "MEMBER_ID"
date_formats = ["%d.%m.%Y"]

[fields]
full_name = "NAME"
date_of_birth = "BORN"
address = ["ADDRESS"]
postcode = "POSTCODE"
"""


def write(folder: Path, text: str, name: str = "library_members") -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_seven_synthetic_datasets_are_declared():
    codes = [c.code for c in declared_datasets(SHIPPED_DIR)]
    assert sorted(codes) == sorted(DATASETS)
    benefit = dataset_config("housing_benefit", SHIPPED_DIR)
    assert [p.ref_suffix for p in benefit.people] == ["#1", "#2"]
    assert [p.optional for p in benefit.people] == [False, True]
    assert benefit.people[1].fields["first_name"].column == "PARTNER_FORENAME"
    assert benefit.people[1].fields["postcode"].column == "POSTCODE"  # shared by both


@pytest.mark.django_db
def test_a_council_adds_a_dataset_with_a_toml_file_in_its_own_folder(
    tmp_path, monkeypatch, gazetteer
):
    folder = tmp_path / "datasets"
    write(folder, VALID)
    monkeypatch.setenv("BOROUGH_DATASETS_DIR", str(folder))
    export = tmp_path / "members.csv"
    export.write_text(
        'MEMBER_ID,NAME,BORN,ADDRESS,POSTCODE\nL1,"SMITH, Mrs Jane",14.03.1950,,\n',
        encoding="utf-8",
    )

    assert [d.code for d in sync_datasets()] == ["library_members"]
    result = load_dataset("library_members", export)

    assert result.ok, result.problem_lines()
    record = SourceRecord.objects.get(record_ref="L1")
    assert (record.title_std, record.first_name_std, record.surname_std) == ("Mrs", "jane", "smith")
    assert record.date_of_birth.isoformat() == "1950-03-14"
    assert (record.uprn, record.uprn_note) == (None, "the record has no address")
    assert SourceDataset.objects.get(code="library_members").proves == ["residency"]


@pytest.mark.django_db
@pytest.mark.parametrize(("declared", "kept"), [("", True), (", oldest_years = 120", False)])
def test_a_very_old_date_of_birth_is_kept_unless_the_declaration_says_it_is_too_old(
    tmp_path, monkeypatch, gazetteer, declared, kept
):
    folder = tmp_path / "datasets"
    write(
        folder,
        VALID.replace('date_of_birth = "BORN"', f'date_of_birth = {{ column = "BORN"{declared} }}'),
    )
    monkeypatch.setenv("BOROUGH_DATASETS_DIR", str(folder))
    export = tmp_path / "members.csv"
    export.write_text(
        'MEMBER_ID,NAME,BORN,ADDRESS,POSTCODE\nL1,"SMITH, Mrs Jane",14.03.1899,,\n',
        encoding="utf-8",
    )
    sync_datasets()
    result = load_dataset("library_members", export)
    assert result.ok, result.problem_lines()
    born = SourceRecord.objects.get(record_ref="L1").date_of_birth
    assert (born is not None) is kept
    assert (result.warning_count == 0) is kept


@pytest.mark.django_db
def test_a_declaration_that_goes_away_is_kept_but_marked_undeclared(tmp_path, monkeypatch):
    folder = tmp_path / "datasets"
    write(folder, VALID)
    monkeypatch.setenv("BOROUGH_DATASETS_DIR", str(folder))
    sync_datasets()
    (folder / "library_members.toml").unlink()
    sync_datasets()
    assert SourceDataset.objects.get(code="library_members").declared is False


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('proves = ["residency"]', 'proves = ["residence"]'), "proves lists 'residence'"),
        (
            ('proves = ["residency"]', 'proves = ["residency"]\nperiod_is_residence = "yes"'),
            "period_is_residence must be true or false",
        ),
        (('code = "library_members"', 'code = "libraries"'), "must be named libraries.toml"),
        (('owner = "Libraries"\n', ""), "owner must be a non-empty text"),
        (('date_formats = ["%d.%m.%Y"]', 'date_formats = ["DD.MM.YYYY"]'), "not a date format"),
        (('postcode = "POSTCODE"', 'postcod = "POSTCODE"'), "'postcod' is not a person field"),
        (('full_name = "NAME"', 'full_name = ["NAME"]'), "only address can take a list"),
        (('full_name = "NAME"\n', ""), "a person needs a name"),
        (("[file]", '[file]\nformat = "xlsx"'), "format must be one of csv, parquet"),
        (("[file]", '[file]\nencoding = "klingon"'), "not an encoding Python knows"),
        (
            ('full_name = "NAME"', 'full_name = { column = "NAME", middle_names = "some" }'),
            "middle_names must be one of any, initials",
        ),
        (('owner = "Libraries"', 'owner = "Libraries"\nkept_for = 6'), "kept_for must be a text"),
        (
            ('owner = "Libraries"', f'owner = "Libraries"\npurpose = "{"x" * 1001}"'),
            "purpose must be 1000 characters or fewer",
        ),
        (
            ('owner = "Libraries"', 'owner = "Libraries"\nasset_owner = ["Head of Libraries"]'),
            "asset_owner must be a text",
        ),
    ],
)
def test_mistakes_in_a_declaration_are_named(tmp_path, change, message):
    old, new = change
    assert old in VALID
    write(tmp_path, VALID.replace(old, new))
    with pytest.raises(DatasetConfigError, match=message):
        dataset_config("library_members", tmp_path)


def test_the_texts_for_residents_are_optional_and_the_shipped_datasets_give_them(tmp_path):
    write(tmp_path, VALID)  # another council's declaration without them is still valid
    bare = dataset_config("library_members", tmp_path)
    assert (bare.purpose, bare.kept_for, bare.asset_owner) == ("", "", "")
    for config in declared_datasets(SHIPPED_DIR):
        assert config.description and config.purpose and config.kept_for and config.asset_owner


def test_a_declaration_with_several_mistakes_lists_them_all_at_once(tmp_path):
    text = VALID
    for old, new in (
        ('proves = ["residency"]', 'proves = ["residence"]'),
        ('owner = "Libraries"\n', ""),
        ("[file]", '[file]\nencoding = "klingon"'),
        ('postcode = "POSTCODE"', 'postcod = "POSTCODE"'),
    ):
        assert old in text
        text = text.replace(old, new)
    write(tmp_path, text)
    with pytest.raises(DatasetConfigError) as raised:
        dataset_config("library_members", tmp_path)
    message = str(raised.value)
    assert message.startswith(f"{tmp_path / 'library_members.toml'} has 4 problems:\n")
    for words in (
        "proves lists 'residence'",
        "owner must be a non-empty text",
        "not an encoding Python knows",
        "'postcod' is not a person field",
    ):
        assert words in message


def test_only_liabilities_tenancies_and_claims_say_their_period_is_the_residence(tmp_path):
    residence = {c.code for c in declared_datasets() if c.period_is_residence}
    assert residence == {"council_tax", "housing_tenancies", "housing_benefit"}
    write(tmp_path, VALID)  # says nothing: a period is not taken for the residence
    assert dataset_config("library_members", tmp_path).period_is_residence is False


def test_a_missing_lawful_basis_is_refused(tmp_path):
    text = VALID.split("[lawful_basis]")[0] + "[file]" + VALID.split("[file]")[1]
    write(tmp_path, text)
    with pytest.raises(DatasetConfigError, match=r"needs a \[lawful_basis\] table"):
        dataset_config("library_members", tmp_path)


def test_an_unknown_dataset_names_the_declared_ones():
    with pytest.raises(DatasetConfigError, match="The declared datasets are: council_tax, "):
        dataset_config("council_tx", SHIPPED_DIR)


@pytest.mark.django_db
def test_the_datasets_command_lists_the_declared_datasets(capsys):
    call_command("residents", "datasets", "--verbose")
    out = capsys.readouterr().out
    for code in DATASETS:
        assert code in out
    assert "Local Government Finance Act 1992" in out


@pytest.mark.django_db
def test_a_parquet_export_loads_like_the_csv(tmp_path, monkeypatch, synth, gazetteer):
    folder = tmp_path / "datasets"
    folder.mkdir()
    text = (SHIPPED_DIR / "housing_tenancies.toml").read_text(encoding="utf-8")
    write(folder, text.replace('format = "csv"', 'format = "parquet"'), "housing_tenancies")
    monkeypatch.setenv("BOROUGH_DATASETS_DIR", str(folder))
    # As a data platform would write it: UPRNs as integers, dates as dates.
    table = pacsv.read_csv(
        synth.file("housing_tenancies"),
        convert_options=pacsv.ConvertOptions(
            column_types={
                "UPRN": pa.int64(),
                "PHONE": pa.string(),
                "TENANCY_START": pa.string(),
                "TENANCY_END": pa.string(),
            }
        ),
    )
    born = pa.array(
        [
            datetime.strptime(v, "%d-%b-%Y").date() if v else None
            for v in table.column("DATE_OF_BIRTH").to_pylist()
        ],
        pa.date32(),
    )
    table = table.set_column(table.schema.get_field_index("DATE_OF_BIRTH"), "DATE_OF_BIRTH", born)
    pq.write_table(table, tmp_path / "tenancies.parquet")

    result = load_dataset("housing_tenancies", tmp_path / "tenancies.parquet")

    assert result.ok, result.problem_lines()
    assert result.records == len(synth.rows("housing_tenancies"))
    parquet = dict(SourceRecord.objects.values_list("record_ref", "content_hash"))
    fields = ("record_ref", "first_name_std", "surname_std", "date_of_birth", "uprn", "postcode")
    from_parquet = set(SourceRecord.objects.values_list(*fields))
    shutil.copy(synth.file("housing_tenancies"), tmp_path / "tenancies.csv")
    write(folder, text, "housing_tenancies")
    assert load_dataset("housing_tenancies", tmp_path / "tenancies.csv").ok
    assert set(SourceRecord.objects.values_list(*fields)) == from_parquet
    assert len(parquet) == result.records
