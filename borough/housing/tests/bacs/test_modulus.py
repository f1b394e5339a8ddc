import csv
from pathlib import Path

import pytest

from borough.housing.bacs import modulus
from borough.housing.bacs.modulus import (
    ACCOUNT_MESSAGE,
    MISMATCH_MESSAGE,
    SORT_CODE_MESSAGE,
    ModulusDataError,
    check_bank_details,
)

DATA = Path(__file__).parent / "data"
VECTORS = list(csv.DictReader((DATA / "modulus-test-vectors.csv").open()))


def test_all_vocalink_vectors_are_here():
    assert len(VECTORS) == 34


@pytest.mark.parametrize(
    "vector", VECTORS, ids=[f"{v['sort_code']}-{v['account_number']}" for v in VECTORS]
)
def test_vocalink_vector(vector):
    check = check_bank_details(vector["sort_code"], vector["account_number"])
    assert check.ok is (vector["valid"] == "true")
    assert check.known_sort_code
    assert check.message == ("" if check.ok else MISMATCH_MESSAGE)


def test_details_are_normalised_for_bacs():
    check = check_bank_details(" 08 99-99 ", "6637 4958")
    assert check.ok
    assert check.sort_code == "08-99-99"
    assert check.sort_code_digits == "089999"
    assert check.account_number == "66374958"


@pytest.mark.parametrize("sort_code", ["08999", "0899999", "08-99-9A", "08.99.99"])
def test_a_sort_code_that_is_not_six_digits_is_refused(sort_code):
    check = check_bank_details(sort_code, "66374958")
    assert not check.ok
    assert check.message == SORT_CODE_MESSAGE
    assert check.field == "sort_code"


@pytest.mark.parametrize("account", ["12345", "12345678901", "6637495A"])
def test_an_account_outside_six_to_ten_digits_is_refused(account):
    check = check_bank_details("089999", account)
    assert not check.ok
    assert check.message == ACCOUNT_MESSAGE
    assert check.field == "account_number"


def test_blank_fields_say_what_to_enter():
    assert check_bank_details("", "66374958").message == "Enter a sort code"
    assert check_bank_details("089999", " ").message == "Enter an account number"


def test_short_accounts_are_zero_padded():
    # 6- and 7-digit accounts gain leading zeros; the padded number is what is checked.
    assert check_bank_details("089999", "637495").account_number == "00637495"
    assert check_bank_details("089999", "6374958").account_number == "06374958"


def test_nine_digit_santander_account_moves_a_digit_into_the_sort_code():
    check = check_bank_details("090120", "312345678")
    assert check.sort_code == "09-01-23"
    assert check.account_number == "12345678"


def test_ten_digit_accounts_use_the_bank_s_eight_digits():
    assert check_bank_details("601613", "1231231234").account_number == "31231234"
    assert check_bank_details("089000", "1234567890").account_number == "12345678"


def test_an_unknown_sort_code_passes_but_says_so():
    check = check_bank_details("99-99-99", "12345678")
    assert check.ok
    assert not check.known_sort_code


def test_a_wrong_digit_fails_the_check():
    assert check_bank_details("089999", "66374958").ok
    assert not check_bank_details("089999", "66374959").ok


def _write_tables(folder: Path, drop_prefix: str | None = None) -> None:
    rows = modulus.BUNDLED_WEIGHTS.read_text().splitlines()
    if drop_prefix:
        rows = [row for row in rows if not row.startswith(drop_prefix)]
    (folder / "valacdos.txt").write_text("\n".join(rows) + "\n\n")
    (folder / "scsubtab.txt").write_text(modulus.BUNDLED_SUBSTITUTIONS.read_text())


def test_a_council_can_load_newer_vocalink_files(settings, tmp_path):
    # A table without the 08 rows no longer knows 08-99-99: proof the folder is used.
    _write_tables(tmp_path, drop_prefix="08")
    settings.BOROUGH_MODULUS_DATA_DIR = str(tmp_path)
    check = check_bank_details("089999", "66374959")
    assert check.ok and not check.known_sort_code
    assert modulus.modulus_data_files()[0] == tmp_path / "valacdos.txt"
    settings.BOROUGH_MODULUS_DATA_DIR = ""
    assert not check_bank_details("089999", "66374959").ok


def test_a_full_copy_of_the_tables_gives_the_same_answers(settings, tmp_path):
    _write_tables(tmp_path)
    settings.BOROUGH_MODULUS_DATA_DIR = str(tmp_path)
    for vector in VECTORS:
        check = check_bank_details(vector["sort_code"], vector["account_number"])
        assert check.ok is (vector["valid"] == "true")


def test_a_broken_data_file_names_the_file_and_line(settings, tmp_path):
    _write_tables(tmp_path)
    weights = tmp_path / "valacdos.txt"
    weights.write_text(weights.read_text().replace("MOD11", "MOD99", 1))
    settings.BOROUGH_MODULUS_DATA_DIR = str(tmp_path)
    with pytest.raises(ModulusDataError, match=r"valacdos.txt, line 1"):
        check_bank_details("089999", "66374958")


def test_a_missing_data_file_is_reported(settings, tmp_path):
    settings.BOROUGH_MODULUS_DATA_DIR = str(tmp_path)
    with pytest.raises(ModulusDataError, match="file not found"):
        check_bank_details("089999", "66374958")
