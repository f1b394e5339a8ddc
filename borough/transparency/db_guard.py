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


def register(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: give SQLite connections ``borough_log_guard()``."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("borough_log_guard", 0, _guard)


@contextmanager
def allow_flush():
    """Let this thread empty the log's tables (the whole-database ``flush`` command only)."""
    _state.flushing = True
    try:
        yield
    finally:
        _state.flushing = False
