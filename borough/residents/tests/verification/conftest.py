"""A small synthetic borough, linked once, and its verification index (no database)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from borough.residents.linkage import pipeline
from borough.residents.linkage.synth_input import records_from_synth, truth_from_synth
from borough.residents.verification.candidates import CandidateIndex
from borough.residents.verification.service import HOLDER
from borough.synth import generate


@dataclass
class Indexed:
    folder: Path
    frame: pd.DataFrame  # the linkage frame with validity and resident_id
    truth: pd.DataFrame  # unique_id -> person_id
    trained: dict
    index: CandidateIndex


@pytest.fixture(scope="session")
def indexed(tmp_path_factory) -> Indexed:
    folder = tmp_path_factory.mktemp("verify-synth")
    generate(folder, residents=800, seed=11, workers=1)
    frame = records_from_synth(folder)
    result = pipeline.link(frame, workdir=tmp_path_factory.mktemp("verify-work"))
    trained = pipeline.load_model(result.model_path)
    ids = result.clusters.rename(columns={"cluster_id": "resident_id"})
    frame = frame.merge(ids, on="unique_id", how="left")
    frame["valid_from"] = None
    frame["valid_to"] = None
    return Indexed(
        folder, frame, truth_from_synth(folder), trained, CandidateIndex.from_frame(frame, trained)
    )


@pytest.fixture(scope="module")
def index_folder(loaded, django_db_blocker, tmp_path_factory):
    """The loaded synthetic borough (``loaded``) linked once per module into a resident index."""
    from django.core.management import call_command
    from django.test import override_settings

    folder = tmp_path_factory.mktemp("verify-data")
    with (
        django_db_blocker.unblock(),
        override_settings(DATA_DIR=folder),
        open("/dev/null", "w") as quiet,
    ):
        call_command("residents", "link", stdout=quiet)
    return folder


@pytest.fixture
def linked(index_folder, settings, db):
    """That index in force, with a fresh verification index in this process."""
    settings.DATA_DIR = index_folder
    HOLDER.clear()
    yield index_folder
    HOLDER.clear()
