"""Enforcement checks over HTTP: how fast is ``GET /api/v1/parking/check``, logged, on PostgreSQL?

``size`` is the number of live resident permits (default 200,000). A fresh PostgreSQL database
(``borough_bench_enforcement``, dropped first and dropped again at the end) is migrated and
filled with ``bulk_create``: a few zones, and per permit a property, a resident account, an
issued application carrying a resident ID (so each check's data-use event has a subject) and an
active permit valid today with its own registration. Then ``VACUUM ANALYZE`` and one API client
with scope ``enforcement``.

The real app is served by gunicorn (``WORKERS`` gthread workers, ``BOROUGH_ENV=production``,
persistent database connections) with this module as its URLconf: ``borough.urls`` plus a
baseline view. Two endpoints are measured in the same run, in alternating rounds so that they
share the machine's noise:

- ``real``: ``GET /api/v1/parking/check?vrm=…&zone=…`` with ``Authorization: Bearer <key>``:
  the key checked and the zone found (both from the process's short-lived copies once read, see
  docs/parking.md), the request counted against the client's rate limit (one statement on
  PostgreSQL; the benchmark's client has a limit it never reaches, docs/rate-limits.md), the
  permit looked up (and visitor sessions, when no permit), and one data-use event written per
  check;
- ``baseline``: a bare Django view (``JsonResponse``; no ninja, no authentication, no logging)
  making the same single indexed permit look-up, behind the same middleware.

``CLIENTS`` concurrent keep-alive connections (asyncio, split over ``LOAD_PROCESSES`` processes so
that the load generator is not one process's GIL) each send a request as soon as the last answer
arrived, for ``ROUND_SECONDS`` per round, after a warm-up. Nine in ten checks are for a permit's
own registration in its zone, one in ten for a registration with no permit. Reported per
endpoint: requests per second, latency percentiles (from writing the request to reading the
whole answer, reconnecting included), errors, and answers that were wrong; the ratio real /
baseline; the share of the machine's CPU in use and the load generator's part of it; and the
number of data-use events, which must equal the real checks answered.

Closed-loop clients measure the most the machine can answer, and their latency is set by it:
with 32 clients always waiting, the mean latency is 32 / throughput (Little's law), so a p99 of
50 ms needs more than 640 answers a second. After the closed-loop rounds the same 32
connections are **paced** (open loop) at ``PACED_SHARES`` of the bare view's closed-loop
throughput, one round per endpoint each: every connection sends a request every
32 / rate seconds from a random start, and a request's latency counts from when it was due,
so a slow answer that delays the next request is counted, not hidden (coordinated omission).
That is the latency officers' devices see when the service is not saturated.

Everything runs on one 2-core machine: the server, PostgreSQL and the load generator compete for
the same cores, so the figures are for this machine as a whole, not for the server alone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

DEFAULT_SIZE = 200_000
SEED = 3
DATABASE = "borough_bench_enforcement"
#: The server to create the benchmark's database on; override with BOROUGH_BENCH_POSTGRES_URL.
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432"
BATCH = 5000
ZONES = ["A", "B", "C", "D", "E", "F", "G", "H"]
UNKNOWN_SHARE = 0.1

WORKER_CLASS = "gthread"  # keeps connections alive, as a reverse proxy's upstream pool would
WORKERS = 4  # gunicorn worker processes, for 2 cores
THREADS = 4  # threads per worker: overlap database round trips
CONN_MAX_AGE = 600  # persistent database connections, the same for both endpoints
CLIENTS = 32
#: The benchmark client's own rate limit: far above what the closed loop reaches (~60,000 a
#: minute), so nothing is refused and the answers stay comparable with the bare view's.
BENCH_CLIENT_PER_MINUTE = 10_000_000
LOAD_PROCESSES = 2
WARM_UP_SECONDS = 5
ROUNDS = 3
ROUND_SECONDS = 15
# Paced rounds (open loop): the same CLIENTS connections send requests on a fixed schedule
# at these shares of the bare view's closed-loop throughput, one round per endpoint each.
PACED_SHARES = (0.25, 0.5)
REQUEST_TIMEOUT = 30
REAL_PATH = "/api/v1/parking/check"
BASELINE_PATH = "/bench/enforcement/baseline"

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


# --- The server side: baseline view, URLconf, WSGI application --------------------------------


def baseline_check(request: HttpRequest) -> JsonResponse:
    """The same single indexed permit look-up as the real check, and nothing else."""
    from django.utils import timezone

    from borough.parking.models import Permit

    vrm = request.GET.get("vrm", "").strip().upper()
    zone = request.GET.get("zone", "").strip().upper()
    today = timezone.localdate()
    permit = (
        Permit.objects.filter(
            vrm=vrm,
            zone__code=zone,
            status__in=Permit.LIVE,
            starts_on__lte=today,
            ends_on__gte=today,
        )
        .values("permit_type", "ends_on")
        .first()
    )
    return JsonResponse(
        {
            "vrm": vrm,
            "zone": zone,
            "allowed": permit is not None,
            "permit_type": permit["permit_type"] if permit else None,
            "valid_until": permit["ends_on"].isoformat() if permit else None,
        }
    )


def __getattr__(name: str):
    # The server's URLconf (ROOT_URLCONF = "enforcement"): the baseline, then the real app. Built
    # on first use, because importing borough.urls needs settings that the runner process has
    # only once run() has set them up.
    if name == "urlpatterns":
        return [path(BASELINE_PATH.lstrip("/"), baseline_check), path("", include("borough.urls"))]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def wsgi_application():
    """gunicorn's app factory (``enforcement:wsgi_application()``): Borough's settings with
    this module as the URLconf."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "borough.settings")
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    settings.ROOT_URLCONF = __name__
    return get_wsgi_application()


# --- Data ---------------------------------------------------------------------------------------

_TAG = "ABCDEFGHJKLMNOPRSTUVWXY"
_RANDOM = "ABCDEFGHJKLMNPRSTUVWXYZ"


def _vrm(n: int) -> str:
    """The n-th current-format registration mark (AB12CDE): distinct for distinct n."""
    letters = ""
    for _ in range(3):
        n, k = divmod(n, len(_RANDOM))
        letters += _RANDOM[k]
    n, age = divmod(n, 100)
    n, second = divmod(n, len(_TAG))
    first = _TAG[n % len(_TAG)]
    return f"{first}{_TAG[second]}{age:02d}{letters}"


def _registrations(size: int, rng: random.Random) -> tuple[list[str], list[str]]:
    """``size`` registrations for permits and ``size // 10 + 1`` that have none."""
    space = len(_TAG) ** 2 * 100 * len(_RANDOM) ** 3
    drawn = rng.sample(range(space), size + size // 10 + 1)
    return [_vrm(n) for n in drawn[:size]], [_vrm(n) for n in drawn[size:]]


def _admin_connection():
    import psycopg

    url = os.environ.get("BOROUGH_BENCH_POSTGRES_URL", POSTGRES_URL)
    return psycopg.connect(f"{url}/postgres", autocommit=True)


def _recreate_database() -> None:
    with _admin_connection() as con:
        con.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{DATABASE}"')


def _drop_database() -> None:
    with _admin_connection() as con:
        con.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def _fill(size: int, vrms: list[str], rng: random.Random, progress) -> dict[str, str]:
    """Zones, properties, residents, applications and live permits; each registration's zone."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from borough.core.models import AccountKind, User
    from borough.parking.models import Permit, PermitApplication, Zone
    from borough.places.models import Property

    zones = []
    for k, code in enumerate(ZONES):
        west, south = -0.1 + k * 0.01, 51.5
        ring = [[west, south], [west + 0.01, south], [west + 0.01, south + 0.01], [west, south]]
        zones.append(
            Zone(
                code=code,
                name=f"Zone {code}",
                boundary={"type": "Polygon", "coordinates": [ring]},
                min_lon=west,
                min_lat=south,
                max_lon=west + 0.01,
                max_lat=south + 0.01,
            )
        )
    zones = Zone.objects.bulk_create(zones)
    unusable = make_password(None)
    today = timezone.localdate()
    zone_of: dict[str, str] = {}
    started = time.perf_counter()
    for start in range(0, size, BATCH):
        chunk = range(start, min(size, start + BATCH))
        with transaction.atomic():
            properties = Property.objects.bulk_create(
                [
                    Property(
                        uprn=10_000_000 + i, building_number=str(i % 300 + 1), street="Bench Road"
                    )
                    for i in chunk
                ]
            )
            users = User.objects.bulk_create(
                [
                    User(
                        username=f"bench-resident-{i}",
                        email=f"resident{i}@bench.invalid",
                        password=unusable,
                        kind=AccountKind.RESIDENT,
                    )
                    for i in chunk
                ]
            )
            chosen = [rng.choice(zones) for _ in chunk]
            applications = PermitApplication.objects.bulk_create(
                [
                    PermitApplication(
                        journey=f"bench-{i}",
                        applicant=user,
                        permit_type="resident",
                        property=prop,
                        zone=zone,
                        first_name="Bench",
                        surname="Resident",
                        date_of_birth=dt.date(1980, 1, 1),
                        vrm=vrms[i],
                        duration_months=12,
                        price_pence=12_000,
                        resident_id=f"R{i:09d}",
                        status=PermitApplication.Status.ISSUED,
                    )
                    for i, user, prop, zone in zip(chunk, users, properties, chosen, strict=True)
                ]
            )
            Permit.objects.bulk_create(
                [
                    Permit(
                        application=application,
                        holder=application.applicant,
                        permit_type="resident",
                        property=application.property,
                        zone=application.zone,
                        vrm=application.vrm,
                        starts_on=today - dt.timedelta(days=rng.randrange(0, 330)),
                        ends_on=today + dt.timedelta(days=rng.randrange(2, 365)),
                        status=Permit.Status.ACTIVE,
                        paid_pence=application.price_pence,
                    )
                    for application in applications
                ]
            )
        for i, zone in zip(chunk, chosen, strict=True):
            zone_of[vrms[i]] = zone.code
        done = chunk.stop
        if done % (BATCH * 10) == 0 or done == size:
            rate = done / (time.perf_counter() - started)
            progress(f"inserted {done:,}/{size:,} permits ({rate:,.0f} permits/s)")
    return zone_of


# --- Load generator (runs in LOAD_PROCESSES forked processes) ----------------------------------

_TARGETS: list[tuple[str, str, bool]] = []


def _set_targets(targets: list[tuple[str, str, bool]]) -> None:
    global _TARGETS
    _TARGETS = targets


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body and whether the server will close the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, close = None, lines[0].startswith("HTTP/1.0")
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection":
            close = value.strip().lower() == "close"
    body = await reader.readexactly(length) if length is not None else await reader.read()
    return status, body, close or length is None


async def _connection(
    port, route, auth, deadline, rng, latencies, counts, interval: float | None = None
) -> None:
    """One keep-alive client until ``deadline``. Closed loop (``interval`` None): the next
    request as soon as the last answer arrived. Paced: a request every ``interval`` seconds
    from a random start, and the latency counted from when the request was due, so that a
    slow answer delaying the next request is counted, not hidden (coordinated omission)."""
    reader = writer = None
    due = time.perf_counter() + (rng.random() * interval if interval else 0.0)
    while time.monotonic() < deadline:
        vrm, zone, known = rng.choice(_TARGETS)
        request = (
            f"GET {route}?vrm={vrm}&zone={zone} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n"
        ).encode()
        if interval:
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            started, due = due, due + interval
        else:
            started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            status, body, close = await asyncio.wait_for(_answer(reader), REQUEST_TIMEOUT)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            counts["errors"] += 1
            if writer is not None:
                writer.close()
            writer = None
            continue
        latencies.append(time.perf_counter() - started)
        if status != 200:
            counts[f"status_{status}"] += 1
        else:
            counts["ok"] += 1
            counts["wrong_answers"] += (b'"allowed": true' in body) != known
        if close:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


def _load(
    port: int,
    route: str,
    auth: str,
    connections: int,
    seconds: float,
    seed: int,
    interval: float | None = None,
) -> dict:
    """``connections`` clients for ``seconds`` (closed loop, or paced every ``interval``
    seconds each): latencies and counts."""
    rng = random.Random(seed)
    latencies: array = array("d")
    counts: Counter = Counter()
    cpu = time.process_time()

    async def main() -> tuple[float, float]:
        start = time.monotonic()
        deadline = start + seconds
        await asyncio.gather(
            *(
                _connection(
                    port,
                    route,
                    auth,
                    deadline,
                    random.Random(rng.random()),
                    latencies,
                    counts,
                    interval,
                )
                for _ in range(connections)
            )
        )
        return start, time.monotonic()

    start, end = asyncio.run(main())
    return {
        "latencies": latencies.tobytes(),
        "counts": dict(counts),
        "start": start,
        "end": end,
        "cpu_seconds": time.process_time() - cpu,
    }


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all cores since boot, from /proc/stat."""
    with open("/proc/stat") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _process_ticks(pid: int) -> tuple[int, int]:
    """(parent pid, user + system jiffies) of a process, or (0, 0) once it has gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0, 0
    return int(fields[1]), int(fields[11]) + int(fields[12])


def _server_ticks(server_pid: int) -> dict[int, int]:
    """CPU jiffies so far of each gunicorn worker and each PostgreSQL backend serving the
    benchmark's database: the work done for the requests, whatever else the machine runs."""
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    workers = [p for p in pids if _process_ticks(p)[0] == server_pid]
    with _admin_connection() as con:
        backends = [
            row[0]
            for row in con.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [DATABASE]
            )
        ]
    return {p: _process_ticks(p)[1] for p in workers + backends}


def _round(
    pool,
    server_pid: int,
    port: int,
    route: str,
    auth: str,
    seconds: float,
    seed: int,
    rate: float | None = None,
) -> dict:
    """One round of ``CLIENTS`` connections: closed loop, or paced at ``rate`` requests per
    second in all."""
    per_process = [
        CLIENTS // LOAD_PROCESSES + (k < CLIENTS % LOAD_PROCESSES) for k in range(LOAD_PROCESSES)
    ]
    interval = CLIENTS / rate if rate else None
    server0 = _server_ticks(server_pid)
    busy0, total0 = _cpu_ticks()
    futures = [
        pool.submit(_load, port, route, auth, n, seconds, seed * 100 + k, interval)
        for k, n in enumerate(per_process)
    ]
    results = [f.result() for f in futures]
    busy1, total1 = _cpu_ticks()
    server1 = _server_ticks(server_pid)
    server_cpu = sum(t - server0.get(p, 0) for p, t in server1.items()) / os.sysconf("SC_CLK_TCK")
    latencies = array("d")
    counts: Counter = Counter()
    for r in results:
        latencies.frombytes(r["latencies"])
        counts.update(r["counts"])
    elapsed = max(r["end"] for r in results) - min(r["start"] for r in results)
    return {
        "latencies": latencies,
        "counts": counts,
        "seconds": elapsed,
        "client_cpu_seconds": sum(r["cpu_seconds"] for r in results),
        "cpu_busy": (busy1 - busy0) / max(1, total1 - total0),
        "server_cpu_seconds": server_cpu,
    }


def _summary(rounds: list[dict]) -> dict:
    import numpy as np

    ms = np.frombuffer(b"".join(r["latencies"].tobytes() for r in rounds)) * 1000
    counts: Counter = Counter()
    for r in rounds:
        counts.update(r["counts"])
    seconds = sum(r["seconds"] for r in rounds)
    requests = len(ms)
    cores = os.cpu_count() or 1
    return {
        "requests": requests,
        "seconds": round(seconds, 2),
        "requests_per_second": round(requests / seconds, 1),
        "requests_per_second_by_round": [
            round(len(r["latencies"]) / r["seconds"], 1) for r in rounds
        ],
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "max_ms": round(float(ms.max()), 2),
        "errors": requests - counts["ok"] + counts["errors"],
        "non_200": {k: v for k, v in counts.items() if k.startswith("status_")},
        "wrong_answers": counts["wrong_answers"],
        "server_cpu_ms_per_request": round(
            sum(r["server_cpu_seconds"] for r in rounds) / requests * 1000, 3
        ),
        "machine_cpu_busy": round(sum(r["cpu_busy"] * r["seconds"] for r in rounds) / seconds, 3),
        "load_generator_cpu_share": round(
            sum(r["client_cpu_seconds"] for r in rounds) / (seconds * cores), 3
        ),
    }


# --- The benchmark ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server() -> str:
    threads = f" x {THREADS} threads" if WORKER_CLASS == "gthread" else ""
    return f"gunicorn {WORKER_CLASS} {WORKERS} workers{threads}, CONN_MAX_AGE {CONN_MAX_AGE}"


def production_env() -> dict[str, str]:
    """This process's environment with Borough's production settings for a server on the
    loopback: a fresh secret key, the local payment provider, warnings only in the log."""
    from cryptography.fernet import Fernet

    env = {
        **os.environ,
        "BOROUGH_ENV": "production",
        "BOROUGH_SECRET_KEY": secrets.token_urlsafe(50),
        "BOROUGH_PAYMENT_PROVIDER": "local",
        "BOROUGH_LOG_LEVEL": "WARNING",
        # Production refuses to start without it; the benchmark stores no bank details.
        "BOROUGH_BANK_DETAILS_KEYS": Fernet.generate_key().decode(),
        # Plain HTTP on the loopback: no load balancer ending TLS in front of it.
        "BOROUGH_SSL_REDIRECT": "0",
    }
    env.pop("BOROUGH_DEBUG", None)
    return env


def _wait_for_server(server: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not start within 60 s")


def run(size: int | None, progress: Callable[[str], None]) -> dict:
    size = size or DEFAULT_SIZE
    rng = random.Random(SEED)
    tmp = Path(tempfile.mkdtemp(prefix="borough-bench-enforcement-"))
    (tmp / "static").mkdir()
    url = os.environ.get("BOROUGH_BENCH_POSTGRES_URL", POSTGRES_URL)
    os.environ["BOROUGH_DATA"] = str(tmp)
    os.environ["DATABASE_URL"] = f"{url}/{DATABASE}"
    os.environ["BOROUGH_DB_CONN_MAX_AGE"] = str(CONN_MAX_AGE)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "borough.settings")
    server = pool = None
    _recreate_database()
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections

        from borough.core.api_clients import create_client
        from borough.transparency.queries import events

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        progress(f"database {DATABASE} migrated in {time.perf_counter() - started:.1f}s")
        vrms, unknown = _registrations(size, rng)
        started = time.perf_counter()
        zone_of = _fill(size, vrms, rng, progress)
        insert_seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("SHOW server_version")
            postgres_version = cursor.fetchone()[0]
        # One key for all 32 connections, asking as fast as the server answers: a load no
        # device makes, so the client gets its own limit (docs/rate-limits.md), high enough never
        # to refuse; every check still counts against it, so the counting's cost is measured.
        _, key = create_client(
            "Enforcement benchmark", ["enforcement"], requests_per_minute=BENCH_CLIENT_PER_MINUTE
        )
        progress(f"{size:,} permits in {insert_seconds:.1f}s; vacuumed and analysed")
        connections.close_all()  # the load generator is forked from here

        targets = [(v, zone_of[v], True) for v in vrms]
        unknown_wanted = round(len(targets) * UNKNOWN_SHARE / (1 - UNKNOWN_SHARE))
        targets += [
            (unknown[k % len(unknown)], rng.choice(ZONES), False) for k in range(unknown_wanted)
        ]

        port = _free_port()
        log = tmp / "gunicorn.log"
        env = production_env()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                f"--bind=127.0.0.1:{port}",
                f"--workers={WORKERS}",
                f"--worker-class={WORKER_CLASS}",
                f"--threads={THREADS}",
                "--backlog=2048",
                "--keep-alive=30",
                f"--chdir={ROOT}",
                f"--pythonpath={ROOT},{HERE}",
                f"--error-logfile={log}",
                "enforcement:wsgi_application()",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_server(server, port, log)
        progress(f"gunicorn on port {port}: {_server()}")

        auth = f"Authorization: Bearer {key}\r\n"
        endpoints = {"real": (REAL_PATH, auth), "baseline": (BASELINE_PATH, "")}
        pool = ProcessPoolExecutor(
            LOAD_PROCESSES,
            mp_context=get_context("fork"),
            initializer=_set_targets,
            initargs=(targets,),
        )
        real_answered = 0
        for name, (route, headers) in endpoints.items():
            warm = _round(pool, server.pid, port, route, headers, WARM_UP_SECONDS, seed=0)
            real_answered += warm["counts"]["ok"] if name == "real" else 0
            if not warm["counts"]["ok"]:
                # gunicorn's master accepts connections even when its workers cannot boot.
                raise RuntimeError(
                    f"no answers from {name} in the warm-up ({dict(warm['counts'])}); "
                    f"gunicorn: {log.read_text()[-2000:] if log.exists() else 'no log'}"
                )
            progress(
                f"warm-up {name}: {len(warm['latencies']) / warm['seconds']:.0f} req/s, "
                f"{warm['counts']}"
            )

        def both(label: str, seed: int, real_first: bool, rate: float | None = None):
            """A round of each endpoint (closed loop, or paced at ``rate``), in that order."""
            nonlocal real_answered
            results: dict[str, dict] = {}
            for name in ["real", "baseline"] if real_first else ["baseline", "real"]:
                route, headers = endpoints[name]
                result = _round(pool, server.pid, port, route, headers, ROUND_SECONDS, seed, rate)
                results[name] = result
                real_answered += result["counts"]["ok"] if name == "real" else 0
                progress(
                    f"{label} {name}: "
                    f"{len(result['latencies']) / result['seconds']:.0f} req/s, "
                    f"machine CPU {result['cpu_busy']:.0%} busy, {dict(result['counts'])}"
                )
            return results

        load_before = os.getloadavg()
        measured: dict[str, list[dict]] = {"real": [], "baseline": []}
        for n in range(ROUNDS):
            for name, result in both(f"round {n + 1}/{ROUNDS}", n + 1, n % 2 == 0).items():
                measured[name].append(result)
        # Paced: the same clients at set shares of the bare view's closed-loop throughput,
        # to show the latency when the machine is not saturated.
        capacity = sum(len(r["latencies"]) for r in measured["baseline"]) / sum(
            r["seconds"] for r in measured["baseline"]
        )
        paced: list[dict] = []
        for k, share in enumerate(PACED_SHARES):
            rate = round(capacity * share)
            rounds = both(f"paced at {rate} req/s", ROUNDS + k + 1, k % 2 == 0, rate)
            paced.append(
                {
                    "share_of_baseline_capacity": share,
                    "rate_per_second": rate,
                    "real": _summary([rounds["real"]]),
                    "baseline": _summary([rounds["baseline"]]),
                }
            )
        load_after = os.getloadavg()
        pool.shutdown()
        pool = None
        server.terminate()
        server.wait(timeout=30)
        server = None

        logged = events(purpose="parking_enforcement_check").count()
        connections.close_all()
        real, baseline = _summary(measured["real"]), _summary(measured["baseline"])
        ratio = real["requests_per_second"] / baseline["requests_per_second"]
        ratio_by_round = [
            round(r / b, 3)
            for r, b in zip(
                real["requests_per_second_by_round"],
                baseline["requests_per_second_by_round"],
                strict=True,
            )
        ]
        # Throughput on a machine the server had to itself is about inversely proportional to
        # the server's CPU per request, which other people's jobs disturb much less.
        cpu_ratio = baseline["server_cpu_ms_per_request"] / real["server_cpu_ms_per_request"]
        progress(
            f"real {real['requests_per_second']} req/s p99 {real['p99_ms']} ms; baseline "
            f"{baseline['requests_per_second']} req/s; ratio {ratio:.3f} (by round "
            f"{ratio_by_round}, by server CPU {cpu_ratio:.3f}); "
            f"{logged:,} events for {real_answered:,} checks"
        )
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 (Django may not be set up yet)
            pass
        _drop_database()
        shutil.rmtree(tmp, ignore_errors=True)
        progress(f"dropped {DATABASE}")

    return {
        "permits": size,
        "insert_seconds": round(insert_seconds, 1),
        "postgres": postgres_version,
        "server": _server(),
        "clients": CLIENTS,
        "load_processes": LOAD_PROCESSES,
        "rounds": ROUNDS,
        "round_seconds": ROUND_SECONDS,
        "unknown_share": UNKNOWN_SHARE,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "real": real,
        "baseline": baseline,
        "paced": paced,
        "throughput_ratio": round(ratio, 3),
        "throughput_ratio_by_round": ratio_by_round,
        "server_cpu_ratio": round(cpu_ratio, 3),
        "data_use_events": logged,
        "real_checks_answered": real_answered,
        "one_event_per_check": logged == real_answered,
        "targets": {
            "throughput_ratio_at_least": 0.6,
            "p99_ms_at_most": 50,
            "ratio_met": ratio >= 0.6,
            "p99_met": real["p99_ms"] <= 50,
            "p99_met_paced": {str(r["rate_per_second"]): r["real"]["p99_ms"] <= 50 for r in paced},
        },
    }
