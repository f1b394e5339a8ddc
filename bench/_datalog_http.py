"""The datalog benchmark's enforcement check over HTTP, as the production server answers it.

The in-process arms (Django's test client) time the check without a server. Here the same
check is served by gunicorn with the production settings (``BOROUGH_ENV=production``, persistent
database connections, one ``gthread`` worker with one thread), and one keep-alive HTTP
connection on the loopback sends one request at a time: each latency runs from writing the
request to reading the whole answer, the time an officer's device waits less its network.

The write is switched on and off inside the server: this module is the server's URLconf,
Borough's URLs plus ``/bench/datalog/arm/<arm>``, which sets the arm in the worker with the
benchmark's own switch (``datalog._write_switch``: "off" runs the check's look-up alone,
prepared as the real statement is). That URL exists only in this benchmark's server, never in
Borough's URLconf. One worker, so the switch reaches the process that answers.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import include, path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ARM_PATH = "/bench/datalog/arm/"
CONN_MAX_AGE = 600

_switch: dict | None = None


def set_arm(request: HttpRequest, arm: str) -> HttpResponse:
    """Set the worker's arm ("on", "off", "unprepared" or "floor"). The switch replaces the functions in
    the modules loaded when it is first asked for: by then a check has loaded the API's."""
    global _switch
    if _switch is None:
        import datalog

        _switch = datalog._write_switch()
    if arm not in _switch:
        return HttpResponseBadRequest("no such arm")
    _switch[arm]()
    return HttpResponse(arm)


def __getattr__(name: str):
    # Built on first use: importing borough.urls needs the settings that wsgi_application sets.
    if name == "urlpatterns":
        return [
            path(f"{ARM_PATH.lstrip('/')}<str:arm>", set_arm),
            path("", include("borough.urls")),
        ]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def wsgi_application():
    """gunicorn's app factory: Borough's settings with this module as the URLconf."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "borough.settings")
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    settings.ROOT_URLCONF = __name__
    return get_wsgi_application()


def serve(log: Path) -> tuple[subprocess.Popen, int]:
    """Start gunicorn with the production settings over the benchmark's database (the
    ``DATABASE_URL`` in this process's environment): (the server, its port)."""
    import enforcement

    port = enforcement._free_port()
    env = enforcement.production_env()
    env["BOROUGH_DB_CONN_MAX_AGE"] = str(CONN_MAX_AGE)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            f"--bind=127.0.0.1:{port}",
            "--workers=1",
            "--worker-class=gthread",
            "--threads=1",
            "--keep-alive=60",
            f"--chdir={ROOT}",
            f"--pythonpath={ROOT},{HERE}",
            f"--error-logfile={log}",
            "_datalog_http:wsgi_application()",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    enforcement._wait_for_server(server, port, log)
    return server, port


class Connection:
    """One keep-alive HTTP connection to the server, one request at a time."""

    def __init__(self, port: int, headers: dict[str, str]):
        self.port, self.headers = port, headers
        # The worker loads Borough's URLconf, and every view with it, on its first request:
        # 22 s on a busy machine with no compiled bytecode yet.
        self.http = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def get(self, url: str) -> float:
        """Seconds from sending ``GET url`` to having read the whole answer (a 200)."""
        started = time.perf_counter()
        self.http.request("GET", url, headers=self.headers)
        response = self.http.getresponse()
        body = response.read()
        seconds = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"{url} answered {response.status}: {body[:300]!r}")
        return seconds

    def set_arm(self, arm: str) -> None:
        self.get(f"{ARM_PATH}{arm}")

    def close(self) -> None:
        self.http.close()


def arm_setters(connection: Connection) -> dict[str, Callable[[], None]]:
    """``_measure_write_cost``'s switch, for the server: each arm's setter asks the worker."""
    return {
        arm: (lambda arm=arm: connection.set_arm(arm))
        for arm in ("on", "off", "unprepared", "floor")
    }


def _worker_cpu(master_pid: int) -> Callable[[], float | None]:
    """A reader of the CPU seconds used so far by gunicorn's worker (the master's one child)."""
    tick = os.sysconf("SC_CLK_TCK")

    def read() -> float | None:
        try:
            children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
            total = 0.0
            for pid in children:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
            return total if children else None
        except (OSError, ValueError, IndexError):
            return None

    return read


def measure(tmp: Path, key: str, next_url: Callable[[], str], requests: int, progress) -> dict:
    """The check's write cost over HTTP: the datalog benchmark's arms and rounds
    (``datalog._measure_write_cost``), each request a ``GET next_url()`` with the API key."""
    import datalog

    server, port = serve(tmp / "gunicorn-datalog.log")
    connection = Connection(port, {"Authorization": f"Bearer {key}"})
    progress(f"gunicorn (production settings, 1 worker) on port {port}")
    try:
        figures = datalog._measure_write_cost(
            "enforcement check over HTTP",
            lambda: connection.get(next_url()),
            requests,
            progress,
            extra_arms=("unprepared", "floor"),
            switch=arm_setters(connection),
            server_cpu=_worker_cpu(server.pid),
        )
    finally:
        connection.close()
        server.terminate()
        server.wait(30)
    figures["server"] = "gunicorn gthread, 1 worker x 1 thread, production settings, keep-alive"
    # "client" is this process sending the requests; "server" the gunicorn worker (its
    # PostgreSQL backend is not counted).
    return figures
