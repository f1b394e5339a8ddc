import csv
from collections import defaultdict
from pathlib import Path

import pytest
from django.db import transaction

from borough.places.services import import_gazetteer
from borough.synth import generate

DATASETS = (
    "council_tax",
    "electoral_register",
    "housing_tenancies",
    "housing_benefit",
    "school_admissions",
    "freedom_pass",
    "parking_permits_history",
)


class SynthBorough:
    """A generated borough's folder, its files read as lists of dicts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._rows: dict[str, list[dict[str, str]]] = {}

    def file(self, name: str) -> Path:
        return self.path / f"{name}.csv"

    def rows(self, name: str) -> list[dict[str, str]]:
        if name not in self._rows:
            with self.file(name).open(encoding="utf-8", newline="") as handle:
                self._rows[name] = list(csv.DictReader(handle))
        return self._rows[name]

    def columns(self, name: str) -> list[str]:
        with self.file(name).open(encoding="utf-8", newline="") as handle:
            return next(csv.reader(handle))

    def truth(self, dataset: str) -> dict[str, int]:
        """record_id → person_id for one dataset, from ground_truth.csv."""
        return {
            r["record_id"]: int(r["person_id"])
            for r in self.rows("ground_truth")
            if r["dataset"] == dataset
        }

    def adults_at_home(self, n: int = 1) -> list[dict[str, str]]:
        """The first ``n`` living adults whose current home has a current council tax account:
        residents the verification service should verify at that address."""
        council_tax_uprns = {
            int(r["UPRN"]) for r in self.rows("council_tax") if r["UPRN"] and not r["LIABILITY_END"]
        }
        out = []
        for person in self.rows("people"):
            if person["date_of_death"] or not person["current_uprn"]:
                continue
            if person["date_of_birth"] > "2006-01-01":
                continue
            if int(person["current_uprn"]) in council_tax_uprns:
                out.append(person)
            if len(out) == n:
                break
        assert len(out) == n, "the synthetic borough has too few adults at home"
        return out

    def homes(self) -> dict[int, set[int]]:
        """person_id → every UPRN they have lived at, from addresses_history.csv."""
        out: dict[int, set[int]] = defaultdict(set)
        for r in self.rows("addresses_history"):
            out[int(r["person_id"])].add(int(r["uprn"]))
        return out


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> SynthBorough:
    """A small synthetic borough (300 residents, about 800 source records)."""
    path = tmp_path_factory.mktemp("synth")
    generate(path, residents=300, seed=7, workers=1)
    return SynthBorough(path)


@pytest.fixture
def gazetteer(db, synth):
    result = import_gazetteer(synth.file("gazetteer"), "llpg")
    assert result.ok, result.problem_lines()
    return result


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker, synth):
    """The borough's gazetteer and all seven datasets, loaded once for a module's tests and
    rolled back after them. Tests using it must also ask for ``db``."""
    from borough.residents.services import load_many

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            assert import_gazetteer(synth.file("gazetteer"), "llpg").ok
            results = {
                r.dataset: r for r in load_many([(name, synth.file(name)) for name in DATASETS])
            }
            yield results
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def write_csv(path: Path, rows: list[dict], columns: list[str], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path
