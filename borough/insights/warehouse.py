"""Where the published warehouse is, and how readers open it.

``<BOROUGH_DATA>/warehouse/current`` is a link to the current build's folder
(``builds/<id>/``, holding ``warehouse.duckdb`` and ``parquet/``); ``warehouse.duckdb`` and
``parquet`` beside it are links through ``current``. Publishing a build replaces ``current`` in
one rename, so a reader sees the old warehouse or the new one, never half of one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import duckdb
from django.conf import settings


class WarehouseMissing(Exception):
    """No warehouse has been published yet."""

    def __init__(self) -> None:
        super().__init__("No warehouse has been built yet: run `borough insights build`.")


def root() -> Path:
    return Path(getattr(settings, "BOROUGH_WAREHOUSE_DIR", "") or settings.DATA_DIR / "warehouse")


def current_build() -> Path | None:
    """The published build's folder, or None."""
    link = root() / "current"
    if not link.exists():
        return None
    return link.resolve()


def database_path() -> Path:
    build = current_build()
    if build is None:
        raise WarehouseMissing()
    return build / "warehouse.duckdb"


def parquet_path() -> Path:
    build = current_build()
    if build is None:
        raise WarehouseMissing()
    return build / "parquet"


def connect() -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published warehouse (raises ``WarehouseMissing``)."""
    return duckdb.connect(str(database_path()), read_only=True)


#: The databases this process has opened for pages, by path: the current build's and the one
#: before it (a request may still be reading it when a new build is published).
_OPENED: OrderedDict[str, duckdb.DuckDBPyConnection] = OrderedDict()
_OPENED_LOCK = threading.Lock()


def reader(build: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only cursor on the published warehouse (or on ``build``, a build folder the
    caller found published) for one request (raises ``WarehouseMissing``). Opening a DuckDB file reads its catalogue and starts its threads,
    which costs more than a dashboard's queries, so each build's database is opened once a
    process and each request gets its own cursor on it (close it when done)."""
    path = str(build / "warehouse.duckdb" if build is not None else database_path())
    with _OPENED_LOCK:
        con = _OPENED.get(path)
        if con is None:
            con = _OPENED[path] = duckdb.connect(path, read_only=True)
            while len(_OPENED) > 2:
                # Not closed: a request may still hold a cursor on it; it goes with the last.
                _OPENED.popitem(last=False)
        return con.cursor()
