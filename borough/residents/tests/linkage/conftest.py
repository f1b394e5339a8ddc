"""A small synthetic borough, linked once for the linkage tests (plain pytest, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from borough.residents.linkage import pipeline
from borough.residents.linkage.synth_input import records_from_synth, truth_from_synth
from borough.synth import generate


@dataclass
class Linked:
    folder: Path
    frame: pd.DataFrame
    truth: pd.DataFrame
    result: pipeline.LinkResult
    predictions: pd.DataFrame


@pytest.fixture(scope="session")
def small_borough(tmp_path_factory) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("synth")
    generate(folder, residents=500, seed=3, workers=1)
    return folder, records_from_synth(folder), truth_from_synth(folder)


@pytest.fixture(scope="session")
def linked(small_borough, tmp_path_factory) -> Linked:
    folder, frame, truth = small_borough
    result = pipeline.link(frame, workdir=tmp_path_factory.mktemp("work"))
    return Linked(folder, frame, truth, result, pd.read_parquet(result.predictions_path))
