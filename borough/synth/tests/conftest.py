import csv
from pathlib import Path

import pytest

from borough.synth import generate


class Borough:
    """A generated borough's folder, with its files read as lists of dicts."""

    def __init__(self, path: Path, manifest: dict) -> None:
        self.path = path
        self.manifest = manifest
        self._cache: dict[str, list[dict[str, str]]] = {}

    def rows(self, name: str) -> list[dict[str, str]]:
        if name not in self._cache:
            with open(self.path / f"{name}.csv", encoding="utf-8", newline="") as f:
                self._cache[name] = list(csv.DictReader(f))
        return self._cache[name]


@pytest.fixture(scope="session")
def small_borough(tmp_path_factory) -> Borough:
    path = tmp_path_factory.mktemp("small")
    return Borough(path, generate(path, residents=200, seed=11, workers=1))


@pytest.fixture(scope="session")
def borough(tmp_path_factory) -> Borough:
    """Big enough for error rates to show (about 8,000 source records), small enough to be
    quick, and in several chunks so chunk boundaries are exercised."""
    path = tmp_path_factory.mktemp("borough")
    return Borough(path, generate(path, residents=4000, seed=7, workers=2, chunk_units=600))
