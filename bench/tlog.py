"""The sealed data-use log on PostgreSQL: sealing, verifying and a resident's proof.

``size`` is the number of data-use events (default 100,000; one in fifty held back, so sealed as
salted commitments). A scratch database (``borough_bench_tlog``, dropped first and again at the
end) is migrated and filled through ``record_data_use`` (1,000 residents a call). Then:

- ``seal``: ``sealing.seal_all`` over every event (events/s; target ≥ 2,000);
- ``verify``: ``log_verify.verify_log`` over the whole log (events/s; the target is 10,000,000
  events in ≤ 60 s, about 167,000/s), and its projection to 10 million; ``verify_2_workers``
  the same with pass 1 spread over two processes (``verify --workers 2``);
- ``baseline_sha256``: SHA-256 of as many 600-byte strings in this process, the same run (the
  floor for any verifier in pure Python: one hash per leaf, before the tree's own);
- ``proof``: ``proofs.inclusion_proof_for_event`` for an event in the middle, with a cold tile
  cache and a warm one (ms).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
import time
from collections.abc import Callable

DEFAULT_SIZE = 100_000
DATABASE = "borough_bench_tlog"
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432"
PER_CALL = 1000


def _admin(sql: str) -> None:
    import psycopg

    url = os.environ.get("BOROUGH_BENCH_POSTGRES_URL", POSTGRES_URL)
    with psycopg.connect(f"{url}/postgres", autocommit=True) as con:
        con.execute(sql)


def _fill(size: int, progress) -> int:
    from borough.transparency.services import record_data_use

    restricted = 0
    common = {
        "actor": None,
        "actor_kind": "service",
        "actor_label": "Parking permits service",
        "action": "verification",
        "datasets": ["council_tax", "electoral_register"],
        "reference": "PP-2026-000123",
        "outcome": "verified",
    }
    written = 0
    while written < size:
        if written % 50_000 == 0:
            progress(f"{written:,} events written")
        n = min(PER_CALL, size - written)
        held = n // 50
        record_data_use(
            subject_resident_ids=[f"R{written + i:09d}" for i in range(n - held)],
            purpose="parking_permit_residency_check",
            **common,
        )
        for i in range(held):  # each writes the event and the record of its hold
            record_data_use(
                subject_resident_ids=[f"R{written + n - held + i:09d}"],
                purpose="parking_enforcement_check",
                restriction_reason_code="enforcement_investigation",
                hidden_until=dt.date.today() + dt.timedelta(days=30),
                **{**common, "action": "enforcement_check"},
            )
        restricted += 2 * held
        written += n
    return restricted


def run(size: int | None, progress: Callable[[str], None]) -> dict:
    size = size or DEFAULT_SIZE
    url = os.environ.get("BOROUGH_BENCH_POSTGRES_URL", POSTGRES_URL)
    tmp = tempfile.mkdtemp(prefix="borough-bench-tlog-")
    os.environ["BOROUGH_DATA"] = tmp
    os.environ["DATABASE_URL"] = f"{url}/{DATABASE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "borough.settings")
    _admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{DATABASE}"')
    try:
        import django

        django.setup()
        from django.core.cache import cache
        from django.core.management import call_command
        from django.db import connections

        from borough.transparency.log_verify import verify_log
        from borough.transparency.models import SealedLeaf
        from borough.transparency.proofs import inclusion_proof_for_event
        from borough.transparency.sealing import seal_all

        call_command("migrate", verbosity=0)
        progress("migrated")
        started = time.perf_counter()
        restricted = _fill(size, progress)
        fill_s = time.perf_counter() - started
        events = size + restricted // 2  # each held event also wrote the record of its hold
        progress(f"{events:,} events written in {fill_s:.1f}s")

        started = time.perf_counter()
        checkpoints = seal_all()
        seal_s = time.perf_counter() - started
        progress(f"sealed in {seal_s:.1f}s ({len(checkpoints)} checkpoints)")

        started = time.perf_counter()
        report = verify_log()
        verify_s = time.perf_counter() - started
        progress(f"verified in {verify_s:.1f}s: ok={report.ok}")

        started = time.perf_counter()
        parallel = verify_log(workers=2)
        parallel_s = time.perf_counter() - started
        progress(f"verified with 2 workers in {parallel_s:.1f}s: ok={parallel.ok}")

        data = b"x" * 600
        started = time.perf_counter()
        for _ in range(events):
            hashlib.sha256(b"\x00" + data).digest()
        baseline_s = time.perf_counter() - started

        middle = SealedLeaf.objects.get(position=events // 2).event_id
        cache.clear()
        started = time.perf_counter()
        proof = inclusion_proof_for_event(middle)
        cold_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        inclusion_proof_for_event(middle)
        warm_ms = (time.perf_counter() - started) * 1000
        connections.close_all()
        return {
            "events": events,
            "restricted_events": restricted,
            "fill_seconds": round(fill_s, 2),
            "seal": {
                "seconds": round(seal_s, 2),
                "events_per_s": round(events / seal_s),
                "checkpoints": len(checkpoints),
            },
            "verify": {
                "seconds": round(verify_s, 2),
                "events_per_s": round(events / verify_s),
                "ok": report.ok,
                "problems": [str(p) for p in report.problems[:5]],
                "projected_10m_seconds": round(verify_s / events * 10_000_000),
            },
            "verify_2_workers": {
                "seconds": round(parallel_s, 2),
                "events_per_s": round(events / parallel_s),
                "ok": parallel.ok,
            },
            "baseline_sha256": {
                "seconds": round(baseline_s, 3),
                "per_s": round(events / baseline_s),
            },
            "proof": {
                "tree_size": proof["tree_size"],
                "hashes": len(proof["inclusion_proof"]),
                "cold_ms": round(cold_ms, 1),
                "warm_ms": round(warm_ms, 1),
            },
        }
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        progress(f"dropped {DATABASE}")
