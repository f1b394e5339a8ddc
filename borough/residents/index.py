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

from borough.residents.data_use import record_link
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


def link_residents(
    *,
    progress=None,
    folder: Path | None = None,
    backend: str = "duckdb",
    spark_master: str | None = None,
    spark_conf: dict[str, str] | None = None,
) -> tuple[LinkResult, Counter]:
    """Link the current source records and carry resident IDs over from the last run.

    A resident whose records did not change keeps their ID; merges and splits are appended to
    ``events.jsonl``. ``backend`` is where Splink trains and scores: ``"duckdb"`` or
    ``"spark"`` (``linkage.pipeline.link``; ``spark_master`` and ``spark_conf`` override the
    Spark settings it computes). Returns the link result and the count of each
    kind of event."""
    folder = folder or index_dir()
    records = records_for_linkage(with_validity=True)
    if records.num_rows == 0:
        raise ValueError("There are no source records to link. Load datasets first.")
    state = _state(folder)
    from borough.residents.review import clerical_decisions, queue_uncertain_pairs

    decisions = clerical_decisions()
    result = link(
        records,
        workdir=folder,
        progress=progress,
        decisions=decisions,
        backend=backend,
        spark_master=spark_master,
        spark_conf=spark_conf,
    )
    assignment = assign_resident_ids(
        result.clusters, previous_assignment(folder), issued=state["issued"]
    )
    folder.mkdir(parents=True, exist_ok=True)
    _replace(folder / "residents.parquet", lambda p: assignment.ids.to_parquet(p, index=False))
    _replace(
        folder / "verification.parquet",
        lambda p: write_verification_records(records, assignment.ids, p),
    )
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
        verification=str(folder / "verification.parquet"),
    )
    _replace(folder / "state.json", lambda p: p.write_text(json.dumps(state, indent=2)))
    record_link(assignment.ids)
    counts = queue_uncertain_pairs(result.predictions_path, when)
    if progress:
        progress(
            f"clerical review: {counts.in_band:,} uncertain pairs; {counts.opened:,} new cases "
            f"for officers, {counts.kept_open:,} earlier cases still open, {counts.closed:,} "
            f"earlier cases closed, {len(decisions):,} officers' decisions applied"
        )
    return result, Counter(str(event.kind) for event in assignment.events)


def write_verification_records(records, ids: pd.DataFrame, path: Path) -> None:
    """The records the verification index is built from: the linkage columns, validity and
    each record's resident ID (``verification.candidates.INDEX_COLUMNS``)."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.register("records_input", records)
        con.register("ids_input", ids)
        target = "'" + str(path).replace("'", "''") + "'"
        con.execute(
            "COPY (SELECT r.*, i.resident_id FROM records_input r "  # noqa: S608 (a quoted path)
            f"LEFT JOIN ids_input i USING (unique_id)) TO {target} (FORMAT parquet)"
        )
    finally:
        con.close()


def latest_run(folder: Path | None = None) -> dict:
    state = _state(folder or index_dir())
    if "predictions" not in state:
        raise ValueError("The records have not been linked yet. Run borough residents link.")
    return state


def _assignment_path(folder: Path | None) -> Path:
    path = (folder or index_dir()) / "residents.parquet"
    if not path.exists():
        raise ValueError("The records have not been linked yet. Run borough residents link.")
    return path


def resident_ids_of(unique_ids: list[str], *, folder: Path | None = None) -> dict[str, str]:
    """``unique_id`` -> resident ID for those of ``unique_ids`` the last link placed (a record
    loaded since then has none until the next link)."""
    if not unique_ids:
        return {}
    import duckdb

    path = _assignment_path(folder)
    con = duckdb.connect(":memory:")
    try:
        con.register("wanted", pd.DataFrame({"unique_id": list(dict.fromkeys(unique_ids))}))
        rows = con.execute(
            "SELECT a.unique_id, a.resident_id FROM read_parquet(?) a "
            "JOIN wanted w USING (unique_id)",
            [str(path)],
        ).fetchall()
    finally:
        con.close()
    return dict(rows)


def unique_ids_of_resident(resident_id: str, *, folder: Path | None = None) -> list[str]:
    """The ``unique_id``s (``"{dataset}:{record_ref}"``) of a resident's records in the last
    link, sorted; empty for an unknown ID."""
    import duckdb

    path = _assignment_path(folder)
    con = duckdb.connect(":memory:")
    try:
        rows = con.execute(
            "SELECT unique_id FROM read_parquet(?) WHERE resident_id = ? ORDER BY unique_id",
            [str(path), resident_id],
        ).fetchall()
    finally:
        con.close()
    return [row[0] for row in rows]


def drop_records(unique_ids: list[str], *, folder: Path | None = None) -> int:
    """Take records out of the last link's index files (``residents.parquet`` and
    ``verification.parquet``), each replaced atomically: retention's purge calls it before it
    anonymises them, so that no verification answers from their values again, even before the
    next link. The number of rows dropped from the verification records; 0 with no index."""
    if not unique_ids:
        return 0
    import duckdb

    folder = folder or index_dir()
    dropped = 0
    for name in ("residents.parquet", "verification.parquet"):
        path = folder / name
        if not path.exists():
            continue
        con = duckdb.connect(":memory:")
        try:
            con.register("gone", pd.DataFrame({"unique_id": list(dict.fromkeys(unique_ids))}))
            source = "'" + str(path).replace("'", "''") + "'"
            con.execute(f"CREATE TABLE kept AS SELECT * FROM read_parquet({source})")  # noqa: S608
            before = con.execute("SELECT count(*) FROM kept").fetchone()[0]
            con.execute("DELETE FROM kept WHERE unique_id IN (SELECT unique_id FROM gone)")
            after = con.execute("SELECT count(*) FROM kept").fetchone()[0]
            if after != before:

                def write(tmp: Path, con=con) -> None:
                    target = "'" + str(tmp).replace("'", "''") + "'"
                    con.execute(f"COPY kept TO {target} (FORMAT parquet)")

                _replace(path, write)
            if name == "verification.parquet":
                dropped = before - after
        finally:
            con.close()
    return dropped
