import csv
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from borough.core.models import User

DATA = Path(__file__).resolve().parent / "data"
LLPG_COLUMNS = [
    "UPRN",
    "PARENT_UPRN",
    "USRN",
    "SAO_TEXT",
    "PAO_START_NUMBER",
    "PAO_TEXT",
    "STREET_DESCRIPTION",
    "LOCALITY",
    "TOWN_NAME",
    "POSTCODE_LOCATOR",
    "WARD_CODE",
    "WARD_NAME",
    "LATITUDE",
    "LONGITUDE",
    "CLASSIFICATION_CODE",
    "CAR_FREE",
    "LOGICAL_STATUS",
]


@pytest.fixture
def gazetteer_csv() -> Path:
    """Thirteen properties in two postcodes: a block of flats (listed before its building
    shell), houses, a garage, a shop, a historical address and a dual-use property."""
    return DATA / "gazetteer.csv"


def read_rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict], columns: list[str] = LLPG_COLUMNS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def rows(gazetteer_csv) -> list[dict]:
    """The rows of gazetteer.csv as dicts, to change and write with ``write_rows``."""
    return read_rows(gazetteer_csv)


@pytest.fixture
def administrator(db) -> User:
    user = User.objects.create_user("gazetteer-admin", password="correct horse battery")
    user.groups.add(Group.objects.get_or_create(name="Administrator")[0])
    return user


@pytest.fixture
def parking_officer(db) -> User:
    user = User.objects.create_user("parking-officer", password="correct horse battery")
    user.groups.add(Group.objects.get_or_create(name="Parking officer")[0])
    return user


@pytest.fixture
def resident(db) -> User:
    return User.objects.create_resident("resident@example.com")
