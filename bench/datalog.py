"""The data-use log at scale, on PostgreSQL: what writing an event costs, a resident's timeline
from a big log, sealing and verifying.

    python bench/run.py datalog [--size EVENTS] [--residents N] [--requests N] [--no-seal]

``size`` is the number of events in the log (default 10,000,000). A fresh PostgreSQL database
(``borough_bench_datalog``, or ``$BOROUGH_BENCH_DATALOG_DATABASE``; dropped first and again at the
end) gets the demo's set-up
(``borough demo --no-serve --residents N``: the synthetic borough's datasets loaded and linked,
zones, permits, staff) and then the log is filled to ``size`` events with ``COPY``: the demo's
linked residents get ``EVENTS_PER_LINKED`` events each (the residents whose timelines and records
are measured), one linked resident gets ``HEAVY_EVENTS`` (the worst timeline), and the rest go to
``size / 10`` other resident IDs, over six years. ``VACUUM ANALYZE`` after.

``--keep-fill`` keeps the demo and the filled log for later runs (the database as a PostgreSQL
template, ``<database>_fill_<size>_<residents>``, and the demo's data folder with the random
generator's state in ``$TMPDIR/<that name>``); a later run with ``--keep-fill`` and the same
size and residents starts from a copy of them (``CREATE DATABASE … TEMPLATE``) instead of
setting up and filling again (migrated to the code's schema first), and measures the same
requests. Drop the template and delete the folder to free the space.

Measured, each through what a user runs:

- **Write cost.** The enforcement check (``GET /api/v1/parking/check`` with an API key) and a
  staff view of one resident's records (``/staff/residents/records/<id>?reason=…``, signed in
  with a second factor) through Django's test client in this process, each request end to end
  (middleware, session, database). Each is measured with the data-use write on and off, in
  alternating rounds so both arms share the machine's noise; "off" replaces ``record_data_use`` in
  every module that imported it with a function that returns at once, and
  ``lookup_and_record_data_use`` (the check's permit look-up with its event in one statement)
  with the look-up alone, run the same way (a statement prepared once per connection, where
  ``borough.core.prepared`` exists), so that the arms differ by the event
  alone. For the check, a third arm, "unprepared", runs the look-up alone through Django's own
  cursor, as the check did before its statement was prepared; a fourth, "floor", runs the real
  statement with its event written to a bare copy of the log's table (``bench_event_floor``: no
  index, constraint or trigger), the least any durable write of the same row costs. The same
  arms are then measured over HTTP, the check served by gunicorn with the production settings
  (``_datalog_http``: one worker, one keep-alive connection, one request at a time). Each round
  checks that its arm wrote events to the log (on) or none (the others). Reported: the median
  of each arm and the write's share, ``median(on) / median(off) - 1`` (target ≤ 10%), and each
  arm's CPU milliseconds a request in this process and in its PostgreSQL backend (read from
  /proc when the server is on this machine; ``None`` otherwise): steadier than wall time when
  the machine is busy.
- **Timeline.** When the resident timeline page exists (URL name ``transparency:timeline``), the
  server time of that page for the linked residents, signed in as each (p50/p95, target p95 ≤
  200 ms), and of the heavy resident's first page.
- **Seal and verify.** ``borough transparency seal`` once over the whole log, as a subprocess
  (events a second, target ≥ 2,000), then ``borough transparency verify`` (seconds, target
  10,000,000 events in ≤ 60 s). ``--no-seal`` leaves both out.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

DEFAULT_SIZE = 10_000_000
DEFAULT_RESIDENTS = 1000
DEFAULT_REQUESTS = 150
SEED = 5
#: Override with BOROUGH_BENCH_DATALOG_DATABASE when several people run this benchmark at once.
DATABASE = os.environ.get("BOROUGH_BENCH_DATALOG_DATABASE", "borough_bench_datalog")
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432"
EVENTS_PER_LINKED = 60
HEAVY_EVENTS = 20_000
ROUNDS = 6
COPY_BATCH = 200_000
TIMELINE_RESIDENTS = 200

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def add_options(parser) -> None:
    parser.add_argument(
        "--residents",
        type=int,
        default=DEFAULT_RESIDENTS,
        help=f"residents in the demo borough (default {DEFAULT_RESIDENTS:,})",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=DEFAULT_REQUESTS,
        help=f"requests per arm per round (default {DEFAULT_REQUESTS})",
    )
    parser.add_argument("--no-seal", action="store_true", help="leave out sealing and verifying")
    parser.add_argument(
        "--keep-fill",
        action="store_true",
        help="keep the demo and the filled log for later runs, or start from the kept ones",
    )


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


def _kept_name(size: int, residents: int) -> str:
    return f"{DATABASE}_fill_{size}_{residents}"


def _kept_folder(size: int, residents: int) -> Path:
    return Path(tempfile.gettempdir()) / _kept_name(size, residents)


def _restore_kept(size: int, residents: int, data: Path) -> dict | None:
    """Recreate the database from the kept template and the data folder from its copy; the
    kept state (linked residents, heavy resident, the fill's figures, the generator's state), or
    None when nothing is kept for this size and number of residents."""
    folder = _kept_folder(size, residents)
    state_file = folder / "state.json"
    with _admin_connection() as con:
        kept = con.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [_kept_name(size, residents)]
        ).fetchone()
        if kept is None or not state_file.exists():
            return None
        con.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{DATABASE}" TEMPLATE "{_kept_name(size, residents)}"')
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(folder / "data", data)
    # The template keeps the schema it was made with: bring the copy up to this code's (a
    # migration since then would otherwise fail the first request that reads a new column).
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return json.loads(state_file.read_text())


def _keep(size: int, residents: int, data: Path, state: dict) -> None:
    """Keep the set-up database as a template and the data folder beside the state."""
    from django.db import connections

    connections.close_all()
    name = _kept_name(size, residents)
    folder = _kept_folder(size, residents)
    with _admin_connection() as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{name}" TEMPLATE "{DATABASE}"')
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(data, folder / "data")
    (folder / "state.json").write_text(json.dumps(state))


def _rng_state(rng: random.Random) -> list:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def _set_rng_state(rng: random.Random, state: list) -> None:
    version, internal, gauss = state
    rng.setstate((version, tuple(internal), gauss))


def _percentiles(seconds: list[float]) -> dict:
    ordered = sorted(seconds)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"n": len(ordered), "p50_ms": at(0.5), "p95_ms": at(0.95), "max_ms": at(1.0)}


# --- Filling the log ----------------------------------------------------------------------------


def _event_templates() -> list[dict]:
    """Events as the services write them: purpose, basis and texts from the registry."""
    from borough.transparency.purposes import LAWFUL_BASES, PURPOSES

    templates = []
    for code, spec in sorted(PURPOSES.items()):
        basis = LAWFUL_BASES[spec.lawful_basis]
        templates.append(
            {
                "service": spec.service or "residents",
                "purpose": code,
                "purpose_text": spec.description_for_residents,
                "lawful_basis": spec.lawful_basis,
                "lawful_basis_text": f"{basis.description} ({basis.article})",
            }
        )
    return templates


COLUMNS = (
    "occurred_at",
    "action_id",
    "subject_resident_id",
    "actor_kind",
    "actor_label",
    "service",
    "purpose",
    "purpose_text",
    "lawful_basis",
    "lawful_basis_text",
    "datasets_read",
    "action",
    "reference",
    "outcome",
    "restriction_reason_code",
)
ACTIONS = ("verification", "viewed_records", "enforcement_check", "payment_matching")
#: The benchmark fills the table directly, as a fixture: the product writes only through
#: record_data_use.
TABLE = "transparency_datauseevent"


def _fill_log(
    size: int, linked: list[str], rng: random.Random, progress: Callable[[str], None]
) -> tuple[int, str]:
    """Fill the log to ``size`` events; returns (events written, the heavy resident).

    The measured residents' events (COPY from here) have random times over six years; the rest
    are made by PostgreSQL itself (``INSERT … SELECT`` over ``generate_series``, in batches),
    spread evenly over the same six years, each for one of ``size / 10`` other resident IDs.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {TABLE}")  # noqa: S608 (a constant)
        existing = cursor.fetchone()[0]
    wanted = max(0, size - existing)
    heavy = linked[0]
    subjects = [rid for rid in linked[1:] for _ in range(EVENTS_PER_LINKED)]
    subjects = (subjects + [heavy] * HEAVY_EVENTS)[:wanted]
    templates = _event_templates()
    now = dt.datetime.now(dt.UTC)
    span = 6 * 365 * 86400
    raw = connection.connection  # psycopg 3
    buffer = io.StringIO()
    for k, subject in enumerate(subjects):
        t = templates[k % len(templates)]
        at = now - dt.timedelta(seconds=rng.uniform(0, span))
        fields = [
            at.isoformat(),
            str(uuid.UUID(int=rng.getrandbits(128))),
            subject,
            "service",
            "Parking permits service",
            t["service"],
            t["purpose"],
            t["purpose_text"],
            t["lawful_basis"],
            t["lawful_basis_text"],
            json.dumps(["council_tax", "electoral_register"]),
            ACTIONS[k % len(ACTIONS)],
            f"BENCH-L{k}",
            "verified",
            "",
        ]
        buffer.write("\t".join(f.replace("\t", " ").replace("\n", " ") for f in fields) + "\n")
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
    raw.commit()
    rest = wanted - len(subjects)
    others = max(1, rest // 10)
    started = time.perf_counter()
    with raw.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_templates (k int, service text, purpose text, "
            "purpose_text text, lawful_basis text, lawful_basis_text text)"
        )
        with cursor.copy("COPY bench_templates FROM STDIN") as copy:
            for k, t in enumerate(templates):
                copy.write_row(
                    [
                        k,
                        t["service"],
                        t["purpose"],
                        t["purpose_text"],
                        t["lawful_basis"],
                        t["lawful_basis_text"],
                    ]
                )
        done = 0
        while done < rest:
            stop = min(rest, done + COPY_BATCH)
            cursor.execute(
                f"""INSERT INTO {TABLE} ({", ".join(COLUMNS)})
                SELECT now() - make_interval(secs => %(span)s * (1 - g::float8 / %(rest)s)),
                       md5(g::text || 'bench')::uuid,
                       'BENCH' || lpad(((hashint4(g) & 2147483647) %% %(others)s)::text, 9, '0'),
                       'service', 'Parking permits service',
                       t.service, t.purpose, t.purpose_text, t.lawful_basis, t.lawful_basis_text,
                       '["council_tax", "electoral_register"]'::jsonb,
                       (ARRAY['verification', 'viewed_records', 'enforcement_check',
                              'payment_matching'])[g %% 4 + 1],
                       'BENCH-' || g, 'verified', ''
                FROM generate_series(%(start)s, %(stop)s - 1) AS g
                JOIN bench_templates t ON t.k = g %% %(templates)s""",  # noqa: S608 (constants)
                {
                    "span": span,
                    "rest": rest,
                    "others": others,
                    "start": done,
                    "stop": stop,
                    "templates": len(templates),
                },
            )
            raw.commit()
            done = stop
            rate = done / (time.perf_counter() - started)
            progress(f"log: {existing + len(subjects) + done:,}/{size:,} events ({rate:,.0f}/s)")
        cursor.execute("DROP TABLE bench_templates")
    raw.commit()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {TABLE}")
    return wanted, heavy


def _permits(resident_ids: list[str], rng: random.Random) -> list[tuple[str, str]]:
    """A live permit for each of ``resident_ids`` (the demo issues none), at a gazetteer address
    in one of the demo's zones: (registration, zone) pairs to check."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone
    from enforcement import _vrm

    from borough.core.models import AccountKind, User
    from borough.parking.models import Permit, PermitApplication, Zone
    from borough.places.models import Property

    zones = list(Zone.objects.all())
    properties = list(Property.objects.all()[: len(resident_ids)])
    if not zones or not properties:
        raise RuntimeError("the demo loaded no zones or no addresses")
    today = timezone.localdate()
    unusable = make_password(None)
    users = User.objects.bulk_create(
        [
            User(
                username=f"datalog-holder-{k}",
                email=f"holder{k}@bench.invalid",
                password=unusable,
                kind=AccountKind.RESIDENT,
            )
            for k in range(len(resident_ids))
        ]
    )
    pairs = []
    applications = []
    for k, (rid, user) in enumerate(zip(resident_ids, users, strict=True)):
        prop = properties[k % len(properties)]
        vrm = _vrm(7_000_000 + k)
        zone = rng.choice(zones)
        pairs.append((vrm, zone.code))
        applications.append(
            PermitApplication(
                journey=f"datalog-{k}",
                applicant=user,
                permit_type="resident",
                property=prop,
                zone=zone,
                first_name="Bench",
                surname="Holder",
                date_of_birth=dt.date(1980, 1, 1),
                vrm=vrm,
                duration_months=12,
                price_pence=12_000,
                resident_id=rid,
                status=PermitApplication.Status.ISSUED,
            )
        )
    applications = PermitApplication.objects.bulk_create(applications)
    Permit.objects.bulk_create(
        [
            Permit(
                application=a,
                holder=a.applicant,
                permit_type="resident",
                property=a.property,
                zone=a.zone,
                vrm=a.vrm,
                starts_on=today - dt.timedelta(days=30),
                ends_on=today + dt.timedelta(days=300),
                status=Permit.Status.ACTIVE,
                paid_pence=a.price_pence,
            )
            for a in applications
        ]
    )
    return pairs


# --- Write on and off ---------------------------------------------------------------------------


def _write_switch() -> dict[str, Callable[[], None]]:
    """Setters of the arms, each replacing functions in every loaded module: "on" puts the real
    ones back; "off" replaces ``record_data_use`` with a function that does nothing and
    ``lookup_and_record_data_use`` with one that runs the look-up alone (the same SQL, without
    the event's INSERT), run as the real one runs its statement (prepared, where
    ``borough.core.prepared`` exists); "unprepared" is "off" with the look-up through Django's own
    cursor, parsed and planned each time (how the check ran its look-up before)."""
    from django.db import connections

    from borough.transparency import services

    try:  # where the look-up and its event are written (services.py before it was split)
        from borough.transparency import lookup_events
    except ImportError:
        lookup_events = services

    def nothing(**kwargs):
        return []

    try:
        from borough.core.prepared import prepared_cursor
    except ImportError:  # a version from before it: the look-up through Django's cursor
        prepared_cursor = None

    def lookup_only(lookup_sql, lookup_params, *, using=None, **event):
        connection = connections[using or "default"]
        with prepared_cursor(connection) if prepared_cursor else connection.cursor() as cursor:
            cursor.execute(lookup_sql, lookup_params)
            return cursor.fetchone()

    def lookup_unprepared(lookup_sql, lookup_params, *, using=None, **event):
        with connections[using or "default"].cursor() as cursor:
            cursor.execute(lookup_sql, lookup_params)
            return cursor.fetchone()

    stand_ins = {
        "off": {"record_data_use": nothing, "lookup_and_record_data_use": lookup_only},
        "unprepared": {"record_data_use": nothing, "lookup_and_record_data_use": lookup_unprepared},
        "floor": {"record_data_use": nothing},
    }
    # "floor": the real statement, its event written to a bare copy of the log's table (no
    # index, no constraint, no trigger): what any durable write of the same row costs here.
    kept = [getattr(lookup_events, name, None) for name in _STATEMENT_CACHES]
    floor = {}

    def set_floor(on: bool) -> None:
        for name, cache in zip(_STATEMENT_CACHES, kept, strict=True):
            if cache is None:
                continue
            if on:
                floor[name] = dict(cache)
                with connections["default"].cursor() as cursor:
                    cursor.execute(
                        f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} "
                        f"(LIKE {TABLE} INCLUDING DEFAULTS INCLUDING IDENTITY)"
                    )
                for key, value in floor[name].items():
                    if isinstance(value, str):  # a service's statement
                        cache[key] = value.replace(f'"{TABLE}"', FLOOR_TABLE)
                    else:
                        cache[key] = (value[0].replace(f'"{TABLE}"', FLOOR_TABLE), *value[1:])
            elif name in floor:
                cache.clear()
                cache.update(floor.pop(name))

    places = []
    for name, home in (
        ("record_data_use", services),
        ("lookup_and_record_data_use", lookup_events),
    ):
        real = getattr(home, name)
        places += [
            (module, name, real)
            for module in list(sys.modules.values())
            if module is not None and getattr(module, name, None) is real
        ]

    def setter(arm: str) -> Callable[[], None]:
        def set_arm() -> None:
            set_floor(arm == "floor")
            for module, name, real in places:
                setattr(module, name, stand_ins.get(arm, {}).get(name, real))

        return set_arm

    return {arm: setter(arm) for arm in ("on", "off", "unprepared", "floor")}


#: The caches of built statements in ``transparency.lookup_events`` whose SQL names the log's
#: table.
_STATEMENT_CACHES = ("_LOOKUP_STATEMENTS", "_SERVICE_STATEMENTS")
FLOOR_TABLE = "bench_event_floor"


def _timed(client, url: str, headers: dict | None = None) -> float:
    started = time.perf_counter()
    response = client.get(url, **(headers or {}))
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return seconds


def _measure_write_cost(
    name: str,
    request: Callable[[], float],
    requests: int,
    progress: Callable[[str], None],
    extra_arms: tuple[str, ...] = (),
    switch: dict[str, Callable[[], None]] | None = None,
    server_cpu: Callable[[], float | None] | None = None,
) -> dict:
    """The write's cost: arms "on" and "off" (and ``extra_arms``, see ``_write_switch``) in
    rounds, the order of the arms turning by one each round. ``switch``: the arms' setters when
    they are not this process's (a server's), and ``server_cpu`` a reader of the CPU seconds of
    the process that answers; by default this process's switch and its PostgreSQL backend."""
    arms: dict[str, list[float]] = {arm: [] for arm in ("on", "off", *extra_arms)}
    # CPU seconds per arm: this process's, and its PostgreSQL backend's (when readable).
    cpu = {arm: {"client": 0.0, "server": 0.0} for arm in arms}
    for _ in range(20):  # warm-up: caches, connection, first queries
        request()
    # After the warm-up: the switch replaces the functions in the modules loaded by then, and a
    # view's modules are loaded by its first request.
    switch = switch or _write_switch()
    on = switch["on"]
    order = list(arms)
    for k in range(ROUNDS):
        for arm in order[k % len(order) :] + order[: k % len(order)]:
            switch[arm]()
            server = server_cpu or _backend_cpu()
            last_event = _last_event()
            client_before, server_before = time.process_time(), server()
            try:
                arms[arm] += [request() for _ in range(requests)]
            finally:
                on()
            cpu[arm]["client"] += time.process_time() - client_before
            server_after = server()
            wrote = _last_event() != last_event
            if wrote != (arm == "on"):
                raise RuntimeError(f"{name}: the write {'was' if wrote else 'was not'} on")
            if server_before is None or server_after is None:
                cpu[arm]["server"] = float("nan")
            else:
                cpu[arm]["server"] += server_after - server_before
        progress(
            f"{name}: round {k + 1}/{ROUNDS}, median on "
            f"{statistics.median(arms['on']) * 1000:.2f} ms, off "
            f"{statistics.median(arms['off']) * 1000:.2f} ms"
        )
    on_ms = statistics.median(arms["on"]) * 1000
    off_ms = statistics.median(arms["off"]) * 1000
    extra = {}
    for arm in extra_arms:
        arm_ms = statistics.median(arms[arm]) * 1000
        extra[f"median_ms_{arm}"] = round(arm_ms, 3)
        extra[f"p95_ms_{arm}"] = _percentiles(arms[arm])["p95_ms"]
        extra[f"write_on_share_vs_{arm}"] = round(on_ms / arm_ms - 1, 4)
    return {
        "median_ms_write_on": round(on_ms, 3),
        "median_ms_write_off": round(off_ms, 3),
        "write_share": round(on_ms / off_ms - 1, 4),
        "requests_per_arm": len(arms["on"]),
        "p95_ms_write_on": _percentiles(arms["on"])["p95_ms"],
        "p95_ms_write_off": _percentiles(arms["off"])["p95_ms"],
        **extra,
        "cpu_ms_per_request": {
            arm: {
                side: None if seconds != seconds else round(seconds * 1000 / len(arms[arm]), 3)
                for side, seconds in sides.items()
            }
            for arm, sides in cpu.items()
        },
    }


def _last_event() -> int | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(id) FROM {TABLE}")  # noqa: S608 (a constant)
        return cursor.fetchone()[0]


def _backend_cpu() -> Callable[[], float | None]:
    """A reader of the CPU seconds used so far by this connection's PostgreSQL backend (from
    /proc; None when the server is not on this machine or not readable). Coarse: clock ticks."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    tick = os.sysconf("SC_CLK_TCK")

    def read() -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        except (OSError, ValueError, IndexError):
            return None

    return read


# --- The command's subprocesses -----------------------------------------------------------------


def _borough(args: list[str], env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "borough", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"borough {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout + done.stderr


def run(size: int | None, progress: Callable[[str], None], options=None) -> dict:
    size = size or DEFAULT_SIZE
    residents = getattr(options, "residents", DEFAULT_RESIDENTS)
    requests = getattr(options, "requests", DEFAULT_REQUESTS)
    rng = random.Random(SEED)
    tmp = Path(tempfile.mkdtemp(prefix="borough-bench-datalog-"))
    url = os.environ.get("BOROUGH_BENCH_POSTGRES_URL", POSTGRES_URL)
    os.environ["BOROUGH_DATA"] = str(tmp)
    os.environ["DATABASE_URL"] = f"{url}/{DATABASE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "borough.settings")
    _recreate_database()
    figures: dict = {"events": size, "demo_residents": residents}
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection
        from django.test import Client
        from django.urls import NoReverseMatch, reverse

        from borough.core.api_clients import create_client
        from borough.core.services import create_staff_account
        from borough.core.testing import sign_in_staff
        from borough.transparency.checkpoint import Signer, log_origin

        settings.ALLOWED_HOSTS = ["*"]
        keep = getattr(options, "keep_fill", False)
        kept = _restore_kept(size, residents, tmp) if keep else None
        if kept is not None:
            linked, heavy = kept["linked"], kept["heavy"]
            _set_rng_state(rng, kept["rng"])
            figures["fill"] = {**kept["fill"], "reused": _kept_name(size, residents)}
            progress(f"reused the kept demo and log ({_kept_name(size, residents)})")
        else:
            linked, heavy = _set_up(size, residents, tmp, rng, figures, progress)
            if keep:
                _keep(
                    size,
                    residents,
                    tmp,
                    {
                        "linked": linked,
                        "heavy": heavy,
                        "fill": figures["fill"],
                        "rng": _rng_state(rng),
                    },
                )
                progress(f"kept the demo and log as {_kept_name(size, residents)}")

        # Write cost: the enforcement check, with an API key.
        _, key = create_client("Datalog benchmark", ["enforcement"], requests_per_minute=10**7)
        permits = _permits(linked[1 : 1 + 300], rng)
        api = Client()
        auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

        def check_url() -> str:
            vrm, zone = rng.choice(permits)
            return f"/api/v1/parking/check?vrm={vrm}&zone={zone}"

        def enforcement() -> float:
            return _timed(api, check_url(), auth)

        figures["enforcement_check"] = _measure_write_cost(
            "enforcement check",
            enforcement,
            requests,
            progress,
            extra_arms=("unprepared", "floor"),
        )

        # The same check served by gunicorn with the production settings, over HTTP.
        import _datalog_http

        figures["enforcement_check_http"] = _datalog_http.measure(
            tmp, key, check_url, requests, progress
        )

        # Write cost: a staff member's view of one resident's records.
        officer, _ = create_staff_account(
            "datalog-bench", ["Resident data officer"], full_name="Bench Officer"
        )
        staff = Client()
        sign_in_staff(staff, officer)
        viewed = linked[1 : 1 + 300]

        def records_view() -> float:
            rid = rng.choice(viewed)
            return _timed(staff, f"/staff/residents/records/{rid}?reason=resident_request")

        figures["staff_records_view"] = _measure_write_cost(
            "staff records view", records_view, requests, progress
        )

        # A resident's timeline, when the page exists.
        try:
            timeline_url = reverse("transparency:timeline")
        except NoReverseMatch:
            timeline_url = None
        if timeline_url:
            figures["timeline"] = _timeline(timeline_url, linked, heavy, rng, progress)
        else:
            figures["timeline"] = "no page named transparency:timeline in this version"

        if not getattr(options, "no_seal", False):
            signer = Signer.generate(log_origin())
            env = {
                **os.environ,
                "BOROUGH_LOG_SIGNING_KEY": signer.private_key_text(),
                "BOROUGH_LOG_VERIFIER_KEY": signer.verifier_key(),
            }
            connection.close()
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM transparency_datauseevent")
                events = cursor.fetchone()[0]
            progress(f"sealing {events:,} events (borough transparency seal)")
            seconds, _ = _borough(["transparency", "seal"], env)
            figures["seal"] = {
                "events": events,
                "seconds": round(seconds, 1),
                "events_per_second": round(events / seconds),
            }
            progress(f"sealed in {seconds:.1f}s; verifying (borough transparency verify)")
            seconds, out = _borough(["transparency", "verify", "--key", signer.verifier_key()], env)
            figures["verify"] = {
                "events": events,
                "seconds": round(seconds, 1),
                "events_per_second": round(events / seconds),
                "said": out.strip().splitlines()[-1][:200] if out.strip() else "",
            }
            progress(f"verified in {seconds:.1f}s")
        return figures
    finally:
        from django.db import connections

        connections.close_all()
        _drop_database()
        shutil.rmtree(tmp, ignore_errors=True)


def _set_up(
    size: int, residents: int, tmp: Path, rng: random.Random, figures: dict, progress
) -> tuple[list[str], str]:
    """The demo's set-up and the log filled to ``size``: (linked residents, heavy resident)."""
    import duckdb
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("demo", "--no-serve", "--residents", str(residents), stdout=io.StringIO())
    progress(f"demo set up ({residents:,} residents) in {time.perf_counter() - started:.1f}s")
    linked = sorted(
        {
            row[0]
            for row in duckdb.sql(
                "SELECT DISTINCT resident_id FROM read_parquet(?) WHERE resident_id IS NOT NULL",
                params=[str(tmp / "linkage" / "verification.parquet")],
            ).fetchall()
        }
    )
    rng.shuffle(linked)
    progress(f"{len(linked):,} linked residents")
    started = time.perf_counter()
    written, heavy = _fill_log(size, linked, rng, progress)
    fill_seconds = time.perf_counter() - started
    figures["fill"] = {"events_copied": written, "seconds": round(fill_seconds, 1)}
    return linked, heavy


def _timeline(url: str, linked: list[str], heavy: str, rng, progress) -> dict:
    """Server time of the timeline page, signed in as residents whose IDs the page resolves.

    The page finds a resident's IDs from their account (``transparency.resident_ids`` once it
    exists); here each measured resident gets an account linked the way the product links it.
    """
    import _datalog_residents
    from django.test import Client

    clients = _datalog_residents.signed_in_clients(linked[1 : 1 + TIMELINE_RESIDENTS], Client)
    seconds = [_timed(client, url) for client in clients for _ in range(2)]
    heavy_client = _datalog_residents.signed_in_clients([heavy], Client)[0]
    heavy_seconds = [_timed(heavy_client, url) for _ in range(10)]
    result = {"residents": _percentiles(seconds), "heavy_resident": _percentiles(heavy_seconds)}
    progress(f"timeline: {result}")
    return result
