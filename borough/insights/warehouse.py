"""Where the published warehouse is, and how readers open it.

``<BOROUGH_DATA>/warehouse/current`` is a link to the current build's folder
(``builds/<id>/``, holding ``warehouse.duckdb`` and ``parquet/``); ``warehouse.duckdb`` and
``parquet`` beside it are links through ``current``. Publishing a build replaces ``current`` in
one rename, so a reader sees the old warehouse or the new one, never half of one.
"""

from __future__ import annotations

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
