"""Disclosure control for open data: protecting a ward × emission band table and its linked
zone × band table together (``borough.insights.disclosure.protect_tables``).

``size`` is the number of wards (default 20; 13 bands, 2 zones a ward). Counts are Poisson,
half the cells around 3 (small: hidden) and half around 30. Figures: seconds to protect, cells,
hidden cells (primary, secondary), and the seconds of one audit (two linear programmes) on the
same problem, measured in the same run, as the yardstick: protecting costs about one audit per
hidden cell.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

DEFAULT_SIZE = 20
BANDS = 13


def run(size: int | None, progress: Callable[[str], None]) -> dict:
    from borough.insights import disclosure

    wards = size or DEFAULT_SIZE
    rng = np.random.default_rng(15)
    rows = []
    for w in range(wards):
        for zone in (f"Z{w}", f"Z{(w + 1) % wards}"):
            for b in range(BANDS):
                rows.append((f"W{w:03d}", zone, f"B{b:02d}", int(rng.poisson(rng.choice([3, 30])))))
    counts = pd.DataFrame(rows, columns=["ward", "zone", "band", "count"])
    specs = [
        disclosure.TableSpec("by-ward", "ward", "band"),
        disclosure.TableSpec("by-zone", "zone", "band"),
    ]
    rule = disclosure.Rule(threshold=10, round_to=5)
    progress(f"{wards} wards x {BANDS} bands, linked with {wards} zones: protecting")
    started = time.perf_counter()
    tables = disclosure.protect_tables(counts, specs, rule)
    seconds = time.perf_counter() - started
    primary = sum(t.hidden_primary for t in tables)
    secondary = sum(t.hidden_secondary for t in tables)
    cells = sum(t.published.size for t in tables)
    progress(f"protected in {seconds:.2f} s: {primary} + {secondary} hidden of {cells}")

    problem = disclosure._problem(counts, specs)
    published = list(range(1, len(problem.cells)))
    started = time.perf_counter()
    disclosure._interval(problem, published, 0)
    one_audit = time.perf_counter() - started
    return {
        "wards": wards,
        "bands": BANDS,
        "cells": cells,
        "hidden_primary": primary,
        "hidden_secondary": secondary,
        "seconds": round(seconds, 3),
        "one_audit_seconds": round(one_audit, 4),
        "seconds_per_hidden_cell": round(seconds / max(primary + secondary, 1), 4),
    }
