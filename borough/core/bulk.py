"""Inserting many rows at once, faster than ``bulk_create``.

Django's ``bulk_create`` compiles every batch's SQL value by value (on SQLite in batches of a
few dozen rows, its 999-parameter limit): for a statement of 100,000 lines that is most of the
import's time. :func:`insert_rows` writes one ``INSERT`` for the model's named columns and hands
the rows to the driver's ``executemany`` (SQLite's loop in C; psycopg's pipeline), as
``residents.loader`` does for source records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Model

BATCH_SIZE = 5000


def insert_rows(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert ``rows`` (one value per field in ``fields``, ready for the database: dates
    through ``connection.ops.adapt_datefield_value``, JSON through its field) into ``model``'s
    table, in the caller's transaction. Returns how many. A unique value already there is an
    ``IntegrityError``: nothing is skipped silently. Saves, signals and defaults do not run:
    give every column that has no database default."""
    meta = model._meta
    columns = [meta.get_field(name).column for name in fields]
    quote = connection.ops.quote_name
    # Table and column names come from the model, never from input.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    count, batch = 0, []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(tuple(row))
            if len(batch) >= BATCH_SIZE:
                cursor.executemany(sql, batch)
                count, batch = count + len(batch), []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count
