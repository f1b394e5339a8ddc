"""Statements PostgreSQL prepares once per connection, for the few run very often.

Django's psycopg 3 backend binds parameters on the client (``ClientCursor``) and turns
preparation off (``prepare_threshold`` None, for connection poolers), so PostgreSQL parses and
plans every statement it is sent. For a small statement run thousands of times a day that is
most of its cost: the enforcement check's look-up and event took 0.26 ms to plan and 0.15 ms to
run (``bench/RESULTS.md``, "the enforcement check's write, prepared").
"""

import weakref
from contextlib import contextmanager

from django.conf import settings
from django.db.backends.utils import CursorDebugWrapper

try:
    import psycopg
except ImportError:  # SQLite only, or psycopg2: nothing is prepared
    psycopg = None


class _PreparingCursor(psycopg.Cursor if psycopg is not None else object):
    """A psycopg 3 cursor that binds its parameters on the server and has PostgreSQL prepare a
    statement the second time it runs on a connection: later runs skip parsing and planning.
    The first run is not prepared, so a connection used once (``CONN_MAX_AGE`` 0: one a
    request) pays no extra round trip for it. Django's own cursors bind on the client
    (``ClientCursor``), which never prepares."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        if prepare is None:
            run = _RUN_ON.setdefault(self.connection, set())
            prepare = query in run
            run.add(query)
        return super().execute(query, params, prepare=prepare, binary=binary)


#: psycopg connection -> the statements a ``_PreparingCursor`` has run on it: a new connection
#: starts with none.
_RUN_ON: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


#: The connection's ``prepare_threshold`` while Django leaves it None (preparation off): so high
#: that psycopg prepares only what a ``_PreparingCursor`` asks it to. Django's client-binding
#: cursors never prepare, whatever the threshold.
_ONLY_WHEN_ASKED = 2**31 - 1


def prepared_cursor(connection):
    """A cursor (wrapped as Django wraps its own: errors translated, queries logged when Django
    logs them, thread checks) whose statements PostgreSQL prepares once per connection, at
    their second run on it.

    For a few fixed statements run very often, such as the enforcement check's look-up and
    event (``transparency.lookup_events.lookup_and_record_data_use``), where parsing and planning
    cost more than running. psycopg keeps the prepared statements per connection, so a new
    connection (Django reconnects after an error or ``CONN_MAX_AGE``) prepares them again, and
    so does the next run after a rollback on the connection (psycopg then drops them all); a
    schema change makes PostgreSQL plan them again. Works inside and
    outside a transaction. ``BOROUGH_DB_PREPARED_STATEMENTS = False`` (for a connection pooler
    that cannot hold prepared statements), or any database other than PostgreSQL with psycopg 3:
    Django's own cursor.
    """
    if (
        connection.vendor != "postgresql"
        or psycopg is None
        or not getattr(settings, "BOROUGH_DB_PREPARED_STATEMENTS", True)
    ):
        return connection.cursor()
    connection.ensure_connection()
    raw = connection.connection
    if not isinstance(raw, psycopg.Connection):
        return connection.cursor()
    if raw.prepare_threshold is None:
        raw.prepare_threshold = _ONLY_WHEN_ASKED
    connection.validate_thread_sharing()
    cursor = _PreparingCursor(raw)
    if connection.queries_logged:
        return _PreparedDebugWrapper(cursor, connection)
    return connection.make_cursor(cursor)


class _PreparedDebugWrapper(CursorDebugWrapper):
    """Logs a prepared statement as Django logs its own: with its values in (Django reads them
    back from a client-binding cursor, which this is not)."""

    @contextmanager
    def debug_sql(self, sql=None, params=None, use_last_executed_query=False, many=False):
        if use_last_executed_query and not many:
            try:
                composed = self.db.ops.compose_sql(sql, params)
            except psycopg.DataError:  # as Django's own: the statement without its values
                composed = sql
            sql, use_last_executed_query = composed, False
        with super().debug_sql(sql, params, use_last_executed_query, many):
            yield
