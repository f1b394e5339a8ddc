import csv
import filecmp
from datetime import date
from pathlib import Path

from borough.synth import FILES, generate


def _files(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir())


def test_same_seed_writes_byte_identical_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, residents=200, seed=5)
    generate(b, residents=200, seed=5)
    names = _files(a)
    assert names == sorted([*FILES, "manifest.json"])
    _, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    assert mismatch == [] and errors == []


def test_output_does_not_depend_on_the_number_of_workers(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    manifest = generate(one, residents=1500, seed=3, workers=1, chunk_units=200)
    generate(two, residents=1500, seed=3, workers=2, chunk_units=200)
    assert manifest["chunks"] > 2
    _, mismatch, errors = filecmp.cmpfiles(one, two, _files(one), shallow=False)
    assert mismatch == [] and errors == []


def test_a_different_seed_gives_a_different_borough(tmp_path):
    generate(tmp_path / "a", residents=200, seed=5)
    generate(tmp_path / "b", residents=200, seed=6)
    for name in ("people.csv", "gazetteer.csv", "council_tax.csv"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes()


def test_start_date_moves_the_borough_in_time(tmp_path):
    generate(tmp_path / "a", residents=300, seed=5, start_date=date(2020, 1, 1))
    with open(tmp_path / "a" / "people.csv", encoding="utf-8", newline="") as f:
        people = list(csv.DictReader(f))
    assert max(r["date_of_birth"] for r in people) < "2020-01-01"
    assert max(r["date_of_birth"] for r in people) > "2018-01-01"  # babies, as of then
