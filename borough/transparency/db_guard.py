"""The SQLite side of the data-use log's append-only triggers.

SQLite has no TRUNCATE: Django's ``flush`` (and so every transactional test's teardown) empties a
table with ``DELETE FROM``, which the row trigger would refuse. The SQLite triggers therefore fire
only ``WHEN borough_log_guard()``, a function every Django connection registers (``apps.py``) and
that returns 1, except inside ``allow_flush()``, which only the ``flush`` command uses. A
connection without the function (the ``sqlite3`` shell) gets "no such function" and so is refused
too. On PostgreSQL the triggers have no such condition: ``flush`` there is TRUNCATE, which row
triggers do not see.
"""

import threading
from contextlib import contextmanager

_state = threading.local()


def _guard() -> int:
    return 0 if getattr(_state, "flushing", False) else 1


def _purging() -> int:
    return 1 if getattr(_state, "purging", False) else 0


def register(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: give SQLite connections ``borough_log_guard()`` and
    ``borough_log_purging()``."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("borough_log_guard", 0, _guard)
        connection.connection.create_function("borough_log_purging", 0, _purging)


@contextmanager
def allow_flush():
    """Let this thread empty the log's tables (the whole-database ``flush`` command only)."""
    _state.flushing = True
    try:
        yield
    finally:
        _state.flushing = False


@contextmanager
def allow_purge(connection):
    """Let this transaction delete events that already have a tombstone (retention's purge
    only; migration 0008). Must be entered inside ``transaction.atomic``: on PostgreSQL the
    setting is ``SET LOCAL``, gone at the transaction's end."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('borough.purging', 'on', true)")
    _state.purging = True
    try:
        yield
    finally:
        _state.purging = False
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('borough.purging', 'off', true)")
