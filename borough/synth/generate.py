"""Generate a synthetic borough into a folder of CSV files, chunk by chunk.

The plan (streets, wards, household sizes) is made once from the seed; each chunk of streets
is then generated from its own random stream, ``SeedSequence(seed, spawn_key=(1, chunk))``,
so the files are byte-identical whatever the number of worker processes. Chunks are written
in order as they complete, with at most two per worker in flight: memory stays bounded.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from pathlib import Path

import numpy as np

from . import gazetteer, rents, zones
from .datasets import SOURCES
from .households import DIED, make_population
from .noise import DATASET_NOISE
from .people import NEVER
from .plan import BOROUGH, Plan, make_plan
from .render import Chunk
from .vehicles import COLUMNS as VEHICLE_COLUMNS
from .vehicles import make_vehicles

GENERATOR_VERSION = "1.0.0"
DEFAULT_START_DATE = date(2026, 4, 1)
DEFAULT_CHUNK_UNITS = 5000

PEOPLE_COLUMNS = [
    "person_id",
    "household_id",
    "title",
    "first_name",
    "middle_names",
    "surname",
    "birth_surname",
    "date_of_birth",
    "date_of_death",
    "sex",
    "email",
    "phone",
    "current_uprn",
    "language",
]
HISTORY_COLUMNS = ["person_id", "uprn", "from_date", "to_date"]
TRUTH_COLUMNS = ["dataset", "record_id", "person_id"]

# Every file written, with its columns (for zones.geojson, the properties of each zone).
FILES: dict[str, list[str]] = {
    "gazetteer.csv": gazetteer.COLUMNS,
    "people.csv": PEOPLE_COLUMNS,
    "addresses_history.csv": HISTORY_COLUMNS,
    **{f"{s.name}.csv": s.columns for s in SOURCES},
    "ground_truth.csv": TRUTH_COLUMNS,
    "vehicles.csv": VEHICLE_COLUMNS,
    "zones.geojson": zones.PROPERTIES,
    **rents.FILES,
}
# Written chunk by chunk; the rent files are written afterwards from the tenancies.
CSV_FILES = [name for name in FILES if name.endswith(".csv") and name not in rents.FILES]
SOURCE_FILES = [f"{s.name}.csv" for s in SOURCES]

Progress = Callable[[int, int, dict[str, int]], None]


def generate(
    out_dir: str | Path,
    residents: int,
    seed: int,
    start_date: date = DEFAULT_START_DATE,
    workers: int | None = None,
    chunk_units: int = DEFAULT_CHUNK_UNITS,
    progress: Progress | None = None,
) -> dict:
    """Write a synthetic borough of ``residents`` living residents into ``out_dir``.

    Returns the manifest (also written as ``manifest.json``). ``workers`` defaults to the
    number of CPUs (at most 2 per the default machine); the output does not depend on it.
    ``progress(chunks_done, chunks_total, row_counts)`` is called after each chunk.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plan = make_plan(residents, seed, start_date, chunk_units)
    workers = max(1, workers if workers is not None else min(2, os.cpu_count() or 1))
    workers = min(workers, len(plan.chunks))  # one chunk: no processes to start
    counts = dict.fromkeys(CSV_FILES, 0)
    handles = {name: open(out / name, "w", encoding="utf-8", newline="") for name in CSV_FILES}
    try:
        for name in CSV_FILES:
            csv.writer(handles[name], lineterminator="\n").writerow(FILES[name])
        for done, result in enumerate(_results(plan, workers), start=1):
            for name, (text, rows) in result.items():
                handles[name].write(text)
                counts[name] += rows
            if progress:
                progress(done, len(plan.chunks), counts)
    finally:
        for handle in handles.values():
            handle.close()
    manifest = _manifest(plan, chunk_units, counts)
    manifest["zones"] = zones.write(out / "zones.geojson", plan)
    manifest.update(rents.write(out, seed, start_date))
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _tasks(plan: Plan):
    st = plan.streets
    households_before = np.concatenate([[0], np.cumsum(~plan.unit_vacant)])
    for index, (lo, hi) in enumerate(plan.chunks):
        u0 = int(st["unit_lo"][lo])
        u1 = int(st["unit_lo"][hi - 1] + st["n_res"][hi - 1])
        h0, h1 = int(households_before[u0]), int(households_before[u1])
        yield {
            "seed": plan.seed,
            "index": index,
            "today": (plan.start_date - date(1970, 1, 1)).days,
            "first_street": lo,
            "streets": {k: v[lo:hi] for k, v in st.items()},
            "street_names": plan.street_names[lo:hi],
            "wards": plan.wards,
            "schools": plan.schools,
            "vacant": plan.unit_vacant[u0:u1],
            "sizes": plan.household_sizes[h0:h1],
        }


def _results(plan: Plan, workers: int):
    """Chunk results in chunk order, at most ``2 * workers`` in flight."""
    if workers == 1:
        yield from map(make_chunk, _tasks(plan))
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with multiprocessing.get_context(method).Pool(workers) as pool:
        pending = []
        for task in _tasks(plan):
            pending.append(pool.apply_async(make_chunk, (task,)))
            if len(pending) >= 2 * workers:
                yield pending.pop(0).get()
        for job in pending:
            yield job.get()


def _csv(rows) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _iso(days: np.ndarray) -> list[str]:
    text = np.datetime_as_string(np.minimum(days, NEVER - 1).astype("datetime64[D]"))
    return np.where(days >= NEVER, "", text).tolist()


def make_chunk(task: dict) -> dict[str, tuple[str, int]]:
    """Every file's rows for one chunk of streets, as CSV text and a row count."""
    index, today = task["index"], task["today"]
    rng = np.random.default_rng(np.random.SeedSequence(task["seed"], spawn_key=(1, index)))
    rnd = random.Random(int(rng.integers(2**63)))
    gaz_rows, units = gazetteer.build(
        task["streets"], task["street_names"], task["wards"], task["first_street"], rnd
    )
    cls = np.asarray(units["cls"])
    is_house = np.isin(cls, ("RD02", "RD03", "RD04"))
    council = np.asarray(units["council"], dtype=bool)
    pop = make_population(rng, is_house, council, task["vacant"], task["sizes"], today, index)
    ck = Chunk(index, pop, units, today, rng)
    p = pop.people
    uprn = np.asarray(units["uprn"], dtype=object)

    current_uprn = np.where(pop.unit_now >= 0, uprn[np.maximum(pop.unit_now, 0)], "")
    people_rows = zip(
        ck.pid,
        pop.household_id[p.hh].tolist(),
        ck.title,
        ck.first,
        ck.middle,
        ck.surname,
        np.where(p.birth_surname != p.surname, p.birth_surname, "").tolist(),
        _iso(p.dob),
        _iso(p.dod),
        np.where(p.sex == 1, "M", "F").tolist(),
        ck.email,
        ck.phone,
        current_uprn.tolist(),
        p.language.tolist(),
        strict=True,
    )
    history_rows = zip(
        pop.person_id[pop.hist_person].tolist(),
        uprn[pop.hist_unit].tolist(),
        _iso(pop.hist_from),
        _iso(pop.hist_to),
        strict=True,
    )

    # vehicles: households here now, and those who left (not those who died)
    kept_by = np.unique(pop.stay_hh[pop.stay_kind != DIED])
    head = np.searchsorted(p.hh, np.arange(len(pop.h_type)))
    ref_day = np.zeros(len(pop.h_type), dtype=np.int64)  # today, or the day they left
    np.maximum.at(ref_day, pop.stay_hh, np.minimum(pop.stay_end, today))
    households, first_stay = np.unique(pop.stay_hh, return_index=True)  # current stays first
    home = np.zeros(len(pop.h_type), dtype=np.int64)
    home[households] = pop.stay_unit[first_stay]
    car_free = np.asarray(units["car_free"], dtype=bool)[home]
    vehicles = make_vehicles(
        index, kept_by, head[kept_by], ref_day, car_free, ck.pid, current_uprn.tolist(), rng, rnd
    )

    out: dict[str, tuple[str, int]] = {
        "gazetteer.csv": (_csv(gaz_rows), len(gaz_rows)),
        "people.csv": (_csv(people_rows), len(p)),
        "addresses_history.csv": (_csv(history_rows), len(pop.hist_person)),
    }
    context = {"schools": task["schools"], "wards": task["wards"], "vehicles": vehicles}
    truth: list[tuple] = []
    for source in SOURCES:
        rows, source_truth = source.build(ck, context)
        out[f"{source.name}.csv"] = (_csv(rows), len(rows))
        truth.extend(source_truth)
    out["ground_truth.csv"] = (_csv(truth), len(truth))
    out["vehicles.csv"] = (_csv(vehicles.rows), len(vehicles.rows))
    return out


def _manifest(plan: Plan, chunk_units: int, counts: dict[str, int]) -> dict:
    import faker

    return {
        "generator": "borough.synth",
        "generator_version": GENERATOR_VERSION,
        "faker_version": faker.VERSION,
        "borough": BOROUGH,
        "seed": plan.seed,
        "residents": plan.residents,
        "households": len(plan.household_sizes),
        "start_date": plan.start_date.isoformat(),
        "chunk_units": chunk_units,
        "chunks": len(plan.chunks),
        "wards": len(plan.wards),
        "streets": len(plan.street_names),
        "rows": counts,
        "source_datasets": [f.removesuffix(".csv") for f in SOURCE_FILES],
        "source_records": sum(counts[f] for f in SOURCE_FILES),
        "noise": {name: asdict(n) for name, n in DATASET_NOISE.items()},
    }


def stderr_progress(started: float | None = None) -> Progress:
    """A progress display on stderr: one updating line on a terminal, a line a chunk otherwise."""
    started = started if started is not None else time.perf_counter()
    tty = sys.stderr.isatty()

    def show(done: int, total: int, counts: dict[str, int]) -> None:
        records = sum(counts[f] for f in SOURCE_FILES)
        width = 30
        bar = "#" * (width * done // total) + "-" * (width - width * done // total)
        line = (
            f"synth [{bar}] chunk {done}/{total}  people {counts['people.csv']:,}  "
            f"source records {records:,}  {time.perf_counter() - started:.1f}s"
        )
        end = "\n" if (not tty or done == total) else ""
        print(("\r" if tty else "") + line, end=end, file=sys.stderr, flush=True)

    return show
