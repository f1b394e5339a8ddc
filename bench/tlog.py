"""The sealed data-use log on PostgreSQL: sealing, verifying and a resident's proof.

    python bench/run.py tlog [--size EVENTS] [--fill record|copy] [--database NAME] [--keep]
                             [--reuse]

``size`` is the number of data-use events (default 100,000; one in fifty held back, so sealed as
salted commitments). A scratch database (``--database``, default ``borough_bench_tlog``, dropped
first and again at the end unless ``--keep``; with ``--reuse`` a kept one is verified again
without filling or sealing it) is migrated and filled: through
``record_data_use`` (``--fill record``, the default: 1,000 residents a call, about 1,400
events/s), or by PostgreSQL itself (``--fill copy``: ``INSERT … SELECT`` over
``generate_series``, the purposes' own texts, a salt for each held-back event; for millions of
events, as a fixture: the product writes only through ``record_data_use``). Then:

- ``seal``: ``sealing.seal_all`` over every event (events/s; target ≥ 2,000);
- ``verify``: ``borough transparency verify`` over the whole log, run as a command in its own
  process (events/s; the target is 10,000,000 events in ≤ 60 s, about 167,000/s), its
  projection to 10 million, and the CPU seconds of the verifying process and of PostgreSQL's
  backends while it ran; ``verify_2_workers`` the same with ``--workers 2``;
- ``baseline_sha256``: SHA-256 of as many 600-byte strings in this process, the same run (the
  floor for any verifier in pure Python: one hash per leaf, before the tree's own);
- ``proof``: ``proofs.inclusion_proof_for_event`` for an event in the middle, the first after
  sealing (cold) and again (warm), in ms. The sealer stores the tiles as it seals; after a
  ``--seal bulk`` the product's ``sealing.store_missing_tiles`` stores them, in batches of their
  own as the first seal after an upgrade would (``bulk_tiles_seconds``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

DEFAULT_SIZE = 100_000
DATABASE = "borough_bench_tlog"
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432"
PER_CALL = 1000
#: Events a statement when PostgreSQL fills the log itself (``--fill copy``).
FILL_BATCH = 500_000
#: One event in this many is held back (an investigation), as ``record_data_use`` fills it.
HELD_EVERY = 50
#: The benchmark fills the table directly, as a fixture: the product writes only through
#: record_data_use.
EVENTS = "transparency_datauseevent"
ROOT = Path(__file__).resolve().parent.parent


def add_options(parser) -> None:
    parser.add_argument(
        "--fill",
        choices=("record", "copy"),
        default="record",
        help="write the events through record_data_use (default) or by PostgreSQL itself",
    )
    parser.add_argument(
        "--seal",
        choices=("sealer", "bulk"),
        default="sealer",
        help="seal with the product's sealer (default) or in bulk (a fixture for millions)",
    )
    parser.add_argument(
        "--database", default=DATABASE, help=f"the scratch database's name (default {DATABASE})"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the sealed database at the end (drop it by hand)"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="if the database was kept (--keep), verify it again without filling or sealing "
        "(implies --keep; --size is then the kept log's)",
    )


def _admin(sql: str, params=()) -> list[tuple]:
    import psycopg

    url = os.environ.get("BOROUGH_BENCH_POSTGRES_URL", POSTGRES_URL)
    with psycopg.connect(f"{url}/postgres", autocommit=True) as con:
        cursor = con.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _data_folder(database: str) -> Path:
    """The data folder (it holds the log's signing key) of a database kept for ``--reuse``."""
    return Path(tempfile.gettempdir()) / f"borough-bench-tlog-{database}"


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


def _fill_copy(size: int, progress) -> int:
    """Fill the log to ``size`` events in PostgreSQL itself: ordinary events for the purposes in
    the registry (their real texts, some with non-ASCII characters), one in ``HELD_EVERY`` held
    back for an investigation with its 32-byte salt, as ``record_data_use`` stores them. Returns
    the number of held-back events."""
    from datalog import _event_templates
    from django.db import connection

    events, salts = EVENTS, "transparency_eventsalt"
    templates = _event_templates()
    raw = connection.connection  # psycopg 3
    started = time.perf_counter()
    with raw.cursor() as cursor:
        # The secondary indexes are built once at the end (far quicker than row by row).
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
            "AND indexname NOT LIKE '%%_pkey'",
            [events],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET synchronous_commit TO OFF")
        cursor.execute(
            "CREATE TEMP TABLE bench_templates (k int, service text, purpose text, "
            "purpose_text text, lawful_basis text, lawful_basis_text text)"
        )
        with cursor.copy("COPY bench_templates FROM STDIN") as copy:
            for k, t in enumerate(templates):
                copy.write_row([k, *(t[c] for c in list(t))])
        done = 0
        while done < size:
            stop = min(size, done + FILL_BATCH)
            cursor.execute(
                f"""INSERT INTO {events} (occurred_at, action_id, subject_resident_id, actor_kind,
                    actor_label, service, purpose, purpose_text, lawful_basis, lawful_basis_text,
                    datasets_read, action, reference, outcome, restriction_reason_code,
                    hidden_until)
                SELECT now() - make_interval(secs => 6 * 365 * 86400 * (1 - g::float8 / %(n)s)),
                       md5(g::text || 'tlog')::uuid,
                       'R' || lpad((g %% 1000003)::text, 9, '0'),
                       'service', 'Parking permits service',
                       t.service, t.purpose, t.purpose_text, t.lawful_basis, t.lawful_basis_text,
                       CASE WHEN g %% 3 = 0 THEN '["council_tax"]'
                            ELSE '["council_tax", "electoral_register"]' END::jsonb,
                       CASE WHEN g %% %(held)s = 0 THEN 'enforcement_check' ELSE 'verification' END,
                       'PP-2026-' || lpad(g::text, 9, '0'), 'verified',
                       CASE WHEN g %% %(held)s = 0 THEN 'enforcement_investigation' ELSE '' END,
                       CASE WHEN g %% %(held)s = 0 THEN current_date + 30 END
                FROM generate_series(%(start)s, %(stop)s - 1) AS g
                JOIN bench_templates t ON t.k = g %% %(templates)s
                ORDER BY g""",  # noqa: S608 (the model's own table)
                {
                    "n": size,
                    "held": HELD_EVERY,
                    "start": done,
                    "stop": stop,
                    "templates": len(templates),
                },
            )
            raw.commit()
            done = stop
            rate = done / (time.perf_counter() - started)
            progress(f"log: {done:,}/{size:,} events ({rate:,.0f}/s)")
        cursor.execute(
            f"""INSERT INTO {salts} (event_id, salt)
            SELECT id, decode(md5(id::text || 'a') || md5(id::text || 'b'), 'hex')
            FROM {events} WHERE restriction_reason_code <> ''"""  # noqa: S608 (as above)
        )
        cursor.execute("DROP TABLE bench_templates")
        for _, definition in indexes:
            cursor.execute(definition)
        progress(f"log: {len(indexes)} indexes rebuilt")
    raw.commit()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {events}")
        cursor.execute(f"SELECT count(*) FROM {salts}")  # noqa: S608 (as above)
        return cursor.fetchone()[0]


def _seal_bulk(progress) -> int:
    """Seal the whole log as ``seal_all`` would (positions in event-ID order, a signed checkpoint
    every ``MAX_EVENTS_PER_CHECKPOINT`` events), but reading the events once through a
    server-side cursor and writing the leaves with ``COPY``: a fixture for logs of millions,
    which the sealer (one bounded batch a transaction) takes many minutes over. The leaf hashes
    come from the sealer's own ``event_leaf_hash``; ``verify`` then checks every one. Returns
    the number of checkpoints."""
    import psycopg
    from django.db import connection

    from borough.transparency import merkle
    from borough.transparency.checkpoint import (
        Checkpoint,
        load_signer,
        log_origin,
        sign_checkpoint,
    )
    from borough.transparency.models import LogCheckpoint, SealedLeaf
    from borough.transparency.sealing import (
        MAX_EVENTS_PER_CHECKPOINT,
        event_leaf_hash,
        normalise_stored,
        select_events,
    )

    signer, origin = load_signer(), log_origin()
    params = connection.get_connection_params()
    leaves, checkpoints = SealedLeaf._meta.db_table, LogCheckpoint._meta.db_table
    tree, made, last_id = merkle.CompactRange(), 0, 0
    started = time.perf_counter()
    with psycopg.connect(**params) as reader, psycopg.connect(**params) as writer:
        writer.execute("SET synchronous_commit TO OFF")
        with reader.cursor(name="bench_seal") as cursor:
            cursor.execute(select_events("TRUE", limit=False, salt=True))
            while rows := cursor.fetchmany(MAX_EVENTS_PER_CHECKPOINT):
                chunk = []
                for row in rows:
                    h = event_leaf_hash(tree.size, normalise_stored(row))
                    chunk.append((tree.size, row[0], h))
                    tree.append(h)
                last_id = rows[-1][0]
                with writer.cursor() as out:
                    with out.copy(f"COPY {leaves} (position, event_id, leaf_hash) FROM STDIN") as c:
                        for leaf in chunk:
                            c.write_row(leaf)
                    root = tree.root()
                    note = sign_checkpoint(Checkpoint(origin, tree.size, root), signer)
                    out.execute(
                        f"INSERT INTO {checkpoints} (size, root_hash, compact_range, note, "  # noqa: S608
                        "last_event_id, created_at) VALUES (%s, %s, %s, %s, %s, now())",
                        [tree.size, root, tree.to_bytes(), note, last_id],
                    )
                writer.commit()
                made += 1
                rate = tree.size / (time.perf_counter() - started)
                if made % 20 == 0:
                    progress(f"bulk seal: {tree.size:,} events ({rate:,.0f}/s)")
        writer.commit()
        writer.autocommit = True
        writer.execute(f"VACUUM ANALYZE {leaves}")
    return made


def _postmaster_pid() -> int | None:
    """The PostgreSQL server's main process (the parent of this connection's backend), if it
    runs on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    try:
        return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _ended_backends_cpu(postmaster: int | None) -> float | None:
    """CPU seconds of every PostgreSQL backend that has ended so far (the server's main process
    collects them: ``cutime + cstime``); None if the server is not on this machine."""
    if postmaster is None:
        return None
    try:
        fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def _command(args: list[str], postmaster: int | None = None) -> tuple[float, float, str]:
    """Run ``borough ARGS`` in its own process: (wall seconds, CPU seconds of it and any worker
    processes it started, what it printed). With ``postmaster``, also the CPU seconds of the
    PostgreSQL backends that ended meanwhile (its own; and any other client's that ended then)."""
    pg_before = _ended_backends_cpu(postmaster)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "borough", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    said = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        raise RuntimeError(f"borough {' '.join(args)} failed: {said[-2000:]}")
    pg_after = _ended_backends_cpu(postmaster)
    pg = None if pg_before is None or pg_after is None else pg_after - pg_before
    return seconds, cpu, said.splitlines()[-1][:300] if said else "", pg


def _verify_figures(events: int, seconds: float, cpu: float, said: str, pg: float | None) -> dict:
    """The command's figures: its wall time from start to exit, and the checking time it
    reports itself ("checked in N s": without the process's start, Django's set-up)."""
    checking = float(re.search(r"checked in ([0-9.]+) s", said).group(1))
    return {
        "seconds": round(seconds, 2),
        "events_per_s": round(events / seconds),
        "projected_10m_seconds": round(seconds / events * 10_000_000),
        "checking_seconds": checking,
        "checking_events_per_s": round(events / max(checking, 0.05)),
        "process_cpu_seconds": round(cpu, 2),
        "postgresql_backends_cpu_seconds": None if pg is None else round(pg, 2),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "said": said,
    }


def run(size: int | None, progress: Callable[[str], None], options=None) -> dict:
    size = size or DEFAULT_SIZE
    fill = getattr(options, "fill", "record")
    database = getattr(options, "database", DATABASE)
    reuse = getattr(options, "reuse", False)
    keep = getattr(options, "keep", False) or reuse
    url = os.environ.get("BOROUGH_BENCH_POSTGRES_URL", POSTGRES_URL)
    folder = _data_folder(database)
    reuse = (
        reuse
        and folder.is_dir()
        and bool(_admin("SELECT 1 FROM pg_database WHERE datname = %s", [database]))
    )
    if keep:
        folder.mkdir(exist_ok=True)
        tmp = str(folder)
    else:
        tmp = tempfile.mkdtemp(prefix="borough-bench-tlog-")
    os.environ["BOROUGH_DATA"] = tmp
    os.environ["DATABASE_URL"] = f"{url}/{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "borough.settings")
    if not reuse:
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{database}"')
    try:
        import django

        django.setup()
        from django.core.cache import cache
        from django.core.management import call_command
        from django.db import connections

        from borough.transparency.models import LogCheckpoint, SealedLeaf
        from borough.transparency.proofs import inclusion_proof_for_event
        from borough.transparency.sealing import seal_all, store_missing_tiles

        call_command("migrate", verbosity=0)
        progress("migrated")
        started = time.perf_counter()
        if reuse:
            fill, restricted = "reused", None
        elif fill == "copy":
            restricted = _fill_copy(size, progress)
        else:
            restricted = _fill(size, progress)
        fill_s = time.perf_counter() - started
        with connections["default"].cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {EVENTS}")  # noqa: S608 (a constant)
            events = cursor.fetchone()[0]
        progress(f"{events:,} events written in {fill_s:.1f}s")

        started = time.perf_counter()
        stored_tiles = tiles_s = None
        if reuse:
            checkpoints = LogCheckpoint.objects.count()
            progress(f"reused {database}: {events:,} events, {checkpoints} checkpoints")
        elif getattr(options, "seal", "sealer") == "bulk":
            connections.close_all()
            checkpoints = _seal_bulk(progress)
            # The sealer stores the tiles each seal completes; the bulk fixture leaves that to
            # the product's store_missing_tiles (in batches, each its own transaction), as the
            # first seal after an upgrade would.
            tiles_started = time.perf_counter()
            stored_tiles = store_missing_tiles()
            tiles_s = time.perf_counter() - tiles_started
            progress(f"stored {stored_tiles:,} tiles in {tiles_s:.1f}s")
        else:
            checkpoints = len(seal_all())
        seal_s = time.perf_counter() - started
        if not reuse:
            progress(f"sealed in {seal_s:.1f}s ({checkpoints} checkpoints)")
        connections.close_all()

        postmaster = _postmaster_pid()
        connections.close_all()
        load_before = [round(x, 2) for x in os.getloadavg()]
        seconds, cpu, said, pg = _command(["transparency", "verify", "--workers", "1"], postmaster)
        verify = _verify_figures(events, seconds, cpu, said, pg)
        progress(f"verified in {seconds:.1f}s (CPU {cpu:.1f}s, PostgreSQL {pg}s): {said}")
        seconds, cpu, said, pg = _command(["transparency", "verify", "--workers", "2"], postmaster)
        parallel = _verify_figures(events, seconds, cpu, said, pg)
        progress(
            f"verified with 2 workers in {seconds:.1f}s (CPU {cpu:.1f}s, PostgreSQL {pg}s): {said}"
        )

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
            "fill": fill,
            "fill_seconds": round(fill_s, 2),
            "load_average_before_verify": load_before,
            "seal": {
                "seconds": None if reuse else round(seal_s, 2),
                "events_per_s": None if reuse else round(events / seal_s),
                "checkpoints": checkpoints,
                "how": "reused" if reuse else getattr(options, "seal", "sealer"),
                "bulk_tiles_stored": stored_tiles,
                "bulk_tiles_seconds": None if tiles_s is None else round(tiles_s, 2),
            },
            "verify": verify,
            "verify_2_workers": parallel,
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
        from django.db import connections

        connections.close_all()
        if keep:
            progress(f"kept {database} (and the data folder {tmp}, which holds its signing key)")
        else:
            _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            shutil.rmtree(tmp, ignore_errors=True)
            progress(f"dropped {database}")
