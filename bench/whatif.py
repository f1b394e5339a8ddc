"""The permit what-if's figures for ``size`` live permits, after they are read: pricing every
permit under the current and the changed rules (``whatif_permits._prices``) and the rows by band
and by ward with their protected counts (``whatif_permits._rows``). Reading the permits from the
database is not included (two bulk queries).

Vehicles are drawn like a borough's: CO2 from 0 to 300 g/km in steps of 1, a tenth electric, a
fifth diesel, 20 wards. Yardstick in the same run: pricing every permit once with no cache
(``pricing.quote`` each time) for a tenth of them, scaled up.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable

DEFAULT_SIZE = 100_000


def run(size: int | None, progress: Callable[[str], None]) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "borough.settings")
    django.setup()
    import pandas as pd
    from django.conf import settings

    from borough.insights.disclosure import Rule
    from borough.insights.whatif_permits import PermitRules, _price, _prices, _rows

    size = size or DEFAULT_SIZE
    rng = random.Random(15)
    snapshots = []
    for i in range(size):
        fuel = rng.choices(["ELECTRICITY", "DIESEL", "PETROL"], [1, 2, 7])[0]
        snapshots.append(
            {
                "registrationNumber": f"BN{i:07d}",
                "co2Emissions": 0 if fuel == "ELECTRICITY" else rng.randint(90, 300),
                "fuelType": fuel,
                "engineCapacity": rng.choice([1000, 1200, 1400, 1600, 2000]),
                "monthOfFirstRegistration": f"{rng.randint(2002, 2025)}-{rng.randint(1, 12):02d}",
                "realDrivingEmissions": rng.choice(["1", "2"]),
            }
        )
    wards = [f"Ward {rng.randint(1, 20)}" for _ in range(size)]
    current = PermitRules.current("resident")
    prices = list(current.prices_pence)
    prices[6] += 1000
    changed = PermitRules("resident", current.max_co2, tuple(prices), 10000)
    cfg = settings.COUNCIL.parking
    rule = Rule(threshold=10)
    progress(f"{size:,} permits: pricing under both rules")
    started = time.perf_counter()
    now = _prices("resident", snapshots, cfg)
    then = _prices("resident", snapshots, changed.parking(cfg))
    pricing_seconds = time.perf_counter() - started
    frame = pd.DataFrame(
        {
            "ward": wards,
            "band": [b for _, b in now],
            "current_pence": [p for p, _ in now],
            "new_pence": [p for p, _ in then],
        }
    )
    frame["change"] = (frame["new_pence"] - frame["current_pence"]).map(
        lambda d: "more" if d > 0 else "less" if d < 0 else "same"
    )
    started = time.perf_counter()
    by_band = _rows(frame, "band", rule, "Other", [b.name for b in cfg.bands])
    by_ward = _rows(frame, "ward", rule, "Other", None)
    rows_seconds = time.perf_counter() - started
    progress(f"priced in {pricing_seconds:.2f} s, rows in {rows_seconds:.2f} s")

    sample = snapshots[: max(size // 10, 1)]
    started = time.perf_counter()
    for snapshot in sample:
        _price("resident", snapshot, cfg)
    uncached = (time.perf_counter() - started) * (size / len(sample)) * 2
    return {
        "permits": size,
        "pricing_seconds": round(pricing_seconds, 3),
        "rows_seconds": round(rows_seconds, 3),
        "total_seconds": round(pricing_seconds + rows_seconds, 3),
        "uncached_pricing_seconds_estimate": round(uncached, 3),
        "rows_by_band": len(by_band),
        "rows_by_ward": len(by_ward),
    }
