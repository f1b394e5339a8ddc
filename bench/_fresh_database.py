"""A fresh PostgreSQL database for a benchmark: dropped if it exists, created, Django set up on
it and migrated; closed and dropped again at the end, whatever happened."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from enforcement import _admin_connection  # bench/ modules import each other by name

POSTGRES_URL = "postgres://postgres@127.0.0.1:5432"  # as enforcement.py


def _drop(database: str) -> None:
    with _admin_connection() as con:
        con.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@contextmanager
def fresh_database(database: str, data_prefix: str) -> Iterator[None]:
    """Django on a new, migrated ``database`` (``BOROUGH_BENCH_POSTGRES_URL`` names the server)
    with its data folder a new temporary one, for the ``with`` block."""
    url = os.environ.get("BOROUGH_BENCH_POSTGRES_URL", POSTGRES_URL)
    os.environ["BOROUGH_DATA"] = tempfile.mkdtemp(prefix=data_prefix)
    os.environ["DATABASE_URL"] = f"{url}/{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "borough.settings")
    _drop(database)
    with _admin_connection() as con:
        con.execute(f'CREATE DATABASE "{database}"')
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield
    finally:
        from django.db import connections

        connections.close_all()
        _drop(database)
