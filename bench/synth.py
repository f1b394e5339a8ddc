"""Synthetic borough generation: how fast are source records written?

``size`` is the number of source records wanted (default 1,000,000). A small pilot run
measures records per resident, the borough is generated with enough residents to reach the
size, and a baseline — writing the same number of rows of constant text with the csv module,
in this process, just before — gives a yardstick on a noisy shared machine. The files are
written to a temporary folder that is deleted afterwards.
"""

from __future__ import annotations

import csv
import math
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from borough.synth import SOURCE_FILES, generate

DEFAULT_SIZE = 1_000_000
SEED = 1
PILOT_RESIDENTS = 20_000


def _baseline(path: Path, rows: int) -> float:
    """Seconds to write ``rows`` rows of 13 short constant fields with csv.writer."""
    row = [
        "600001234",
        "P90000001",
        "100090000001",
        "B",
        "MR JOHN A SMITH",
        "MRS JANE SMITH",
        "FLAT 1 KINGFISHER HOUSE",
        "FLYNN LANE",
        "LONDON",
        "",
        "E21 0AA",
        "30/01/2019",
        "",
    ]
    started = time.perf_counter()
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        for start in range(0, rows, 10_000):
            writer.writerows([row] * min(10_000, rows - start))
    return time.perf_counter() - started


def _peak_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest finished child, in MB."""
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return self_kb / 1024, child_kb / 1024


def run(size: int | None, progress: Callable[[str], None]) -> dict:
    size = size or DEFAULT_SIZE
    tmp = Path(tempfile.mkdtemp(prefix="borough-bench-synth-"))
    try:
        pilot = generate(tmp / "pilot", residents=PILOT_RESIDENTS, seed=SEED, workers=1)
        per_resident = pilot["source_records"] / PILOT_RESIDENTS
        residents = math.ceil(size / per_resident * 1.01)
        shutil.rmtree(tmp / "pilot")
        progress(
            f"pilot: {per_resident:.3f} source records per resident -> {residents:,} residents"
        )

        baseline = _baseline(tmp / "baseline.csv", size)
        (tmp / "baseline.csv").unlink()
        progress(f"baseline: {size:,} constant csv rows in {baseline:.2f}s")

        def show(done: int, total: int, counts: dict[str, int]) -> None:
            records = sum(counts[f] for f in SOURCE_FILES)
            progress(f"chunk {done}/{total}: {records:,} source records")

        workers = min(2, os.cpu_count() or 1)
        started = time.perf_counter()
        manifest = generate(
            tmp / "borough", residents=residents, seed=SEED, workers=workers, progress=show
        )
        seconds = time.perf_counter() - started
        mb_self, mb_children = _peak_mb()
        disk_mb = sum(p.stat().st_size for p in (tmp / "borough").iterdir()) / 2**20
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    records = manifest["source_records"]
    all_rows = sum(manifest["rows"].values())
    return {
        "source_records": records,
        "seconds": round(seconds, 2),
        "records_per_second": round(records / seconds),
        "all_rows_written": all_rows,
        "all_rows_per_second": round(all_rows / seconds),
        "peak_rss_mb": round(mb_self + mb_children, 1),
        "peak_rss_mb_main": round(mb_self, 1),
        "peak_rss_mb_largest_worker": round(mb_children, 1),
        "output_mb": round(disk_mb, 1),
        "residents": manifest["residents"],
        "workers": workers,
        "chunks": manifest["chunks"],
        "rows": manifest["rows"],
        "baseline_seconds": round(baseline, 2),
        "baseline_rows_per_second": round(size / baseline),
        "seconds_per_baseline": round(seconds / baseline, 2),
    }
