"""The resident index on disk: which source record belongs to which resident.

``borough residents link`` writes it under ``<BOROUGH_DATA>/linkage/``: ``residents.parquet``
(unique_id → resident_id), ``state.json`` (IDs ever issued, the latest run's artefacts) and
``events.jsonl`` (new residents, merges, splits, removals, one JSON line each, newest last).
Files are replaced atomically, so a reader never sees half an index.
"""

import json
import os
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.utils import timezone

from borough.residents.linkage.pipeline import LinkResult, link
from borough.residents.linkage.stable_ids import assign_resident_ids
from borough.residents.queries import records_for_linkage


def index_dir() -> Path:
    return Path(settings.DATA_DIR) / "linkage"


def _state(folder: Path) -> dict:
    path = folder / "state.json"
    return json.loads(path.read_text()) if path.exists() else {"issued": 0}


def _replace(path: Path, write) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def previous_assignment(folder: Path | None = None) -> pd.DataFrame | None:
    path = (folder or index_dir()) / "residents.parquet"
    return pd.read_parquet(path) if path.exists() else None


def link_residents(*, progress=None, folder: Path | None = None) -> tuple[LinkResult, Counter]:
    """Link the current source records and carry resident IDs over from the last run.

    A resident whose records did not change keeps their ID; merges and splits are appended to
    ``events.jsonl``. Returns the link result and the count of each kind of event."""
    folder = folder or index_dir()
    records = records_for_linkage()
    if records.num_rows == 0:
        raise ValueError("There are no source records to link. Load datasets first.")
    state = _state(folder)
    result = link(records, workdir=folder, progress=progress)
    assignment = assign_resident_ids(
        result.clusters, previous_assignment(folder), issued=state["issued"]
    )
    folder.mkdir(parents=True, exist_ok=True)
    _replace(folder / "residents.parquet", lambda p: assignment.ids.to_parquet(p, index=False))
    when = timezone.now().isoformat(timespec="seconds")
    with (folder / "events.jsonl").open("a", encoding="utf-8") as log:
        for event in assignment.events:
            log.write(json.dumps({"at": when, **asdict(event)}, default=str) + "\n")
    state.update(
        issued=assignment.issued,
        linked_at=when,
        records=result.records,
        residents=int(assignment.ids["resident_id"].nunique()),
        model=str(result.model_path),
        predictions=str(result.predictions_path),
        clusters=str(result.clusters_path),
    )
    _replace(folder / "state.json", lambda p: p.write_text(json.dumps(state, indent=2)))
    return result, Counter(str(event.kind) for event in assignment.events)


def latest_run(folder: Path | None = None) -> dict:
    state = _state(folder or index_dir())
    if "predictions" not in state:
        raise ValueError("The records have not been linked yet. Run borough residents link.")
    return state
