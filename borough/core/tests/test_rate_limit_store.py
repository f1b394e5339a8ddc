"""The rate limits' counts are shared: two separate processes counting against one limit at the
same moment allow exactly the limit between them, on each store Borough counts in (SQLite and
PostgreSQL through one atomic statement, Redis through Django's cache API)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parents[3]
LIMIT = 150
EACH = 300  # requests per process: 600 in all, so the limit is reached whatever the order
# A window far longer than the test, so that it never straddles two windows.
WINDOW = 10**9

WORKER = """
import json, os, sys, time
import django
django.setup()
from borough.core import ratelimit
if sys.argv[1] == "create":
    from django.db import connection
    from borough.core.models import RateLimitCounter
    with connection.schema_editor() as editor:
        editor.create_model(RateLimitCounter)
    print(json.dumps({"created": True}))
    sys.exit(0)
from pathlib import Path
folder = Path(sys.argv[3])
(folder / f"ready-{os.getpid()}").touch()
while not (folder / "go").exists():  # both processes begin together, once both are ready
    time.sleep(0.002)
allowed = 0
for _ in range(int(sys.argv[2])):
    allowed += ratelimit.hit("api-verify-client", sys.argv[1]).allowed
    time.sleep(0.001)  # a breath between requests, as real ones have: the other process gets in
print(json.dumps({"allowed": allowed}))
"""


def _env(tmp_path: Path, **extra: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "borough.settings",
        "BOROUGH_DATA": str(tmp_path),
        "BOROUGH_ENV": "development",
        "BOROUGH_RATE_LIMITS": f"api-verify-client={LIMIT}/{WINDOW}",
    }
    env.pop("BOROUGH_CACHE_URL", None)
    env.update(extra)
    return env


def _two_processes(env: dict, folder: Path) -> list[int]:
    import time

    key = uuid.uuid4().hex
    signals = folder / f"signals-{key}"
    signals.mkdir()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, key, str(EACH), str(signals)],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    deadline = time.time() + 120
    while len(list(signals.glob("ready-*"))) < 2 and time.time() < deadline:
        if any(worker.poll() is not None for worker in workers):
            break  # one failed to start: its error is reported below
        time.sleep(0.01)
    (signals / "go").touch()
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1])["allowed"])
    return results


def test_two_processes_on_sqlite_share_one_count(tmp_path):
    env = _env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'shared.sqlite3'}")
    created = subprocess.run(
        [sys.executable, "-c", WORKER, "create"], env=env, cwd=REPO, capture_output=True, text=True
    )
    assert created.returncode == 0, created.stderr[-3000:]
    allowed = _two_processes(env, tmp_path)
    assert sum(allowed) == LIMIT, allowed
    assert all(n > 0 for n in allowed), f"the processes did not overlap: {allowed}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_processes_on_postgresql_share_one_count(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("runs against the PostgreSQL test database")
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    allowed = _two_processes(_env(tmp_path, DATABASE_URL=url), tmp_path)
    assert sum(allowed) == LIMIT, allowed


def _redis_url() -> str | None:
    url = os.environ.get("BOROUGH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    try:
        import redis  # noqa: F401
    except ImportError:
        return None
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return None
    return url


def test_two_processes_on_redis_share_one_count(tmp_path):
    url = _redis_url()
    if url is None:
        pytest.skip("no Redis at BOROUGH_TEST_REDIS_URL (default redis://127.0.0.1:6379/0)")
    prefix = f"borough-test-{uuid.uuid4().hex}"
    env = _env(
        tmp_path,
        BOROUGH_CACHE_URL=url,
        BOROUGH_CACHE_PREFIX=prefix,
        DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    )
    try:
        allowed = _two_processes(env, tmp_path)
    finally:
        import redis

        client = redis.Redis.from_url(url)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
    assert sum(allowed) == LIMIT, allowed


@pytest.mark.django_db
def test_a_busy_key_is_counted_in_leases_and_never_lets_more_than_its_limit_through(
    settings, django_assert_max_num_queries
):
    from borough.core import ratelimit

    settings.BOROUGH_RATE_LIMITS = {"api-enforcement-client": f"600/{WINDOW}"}
    ratelimit.LEASES.clear()
    with django_assert_max_num_queries(60):  # 600 // 50 = 12 a lease: 50 statements, not 600
        allowed = [ratelimit.hit("api-enforcement-client", "device").allowed for _ in range(600)]
    assert all(allowed)
    assert not ratelimit.hit("api-enforcement-client", "device").allowed


@pytest.mark.django_db
def test_a_process_that_stops_mid_lease_makes_others_refuse_early_never_late(settings):
    from borough.core import ratelimit

    settings.BOROUGH_RATE_LIMITS = {"api-enforcement-client": f"600/{WINDOW}"}
    ratelimit.LEASES.clear()
    allowed = 0
    for _ in range(5):
        allowed += ratelimit.hit("api-enforcement-client", "device").allowed
        ratelimit.LEASES.clear()  # the process ends, its lease's unused hits with it
    while ratelimit.hit("api-enforcement-client", "device").allowed:
        allowed += 1
    assert 600 - 5 * 12 <= allowed <= 600
