"""``flush`` that can empty the data-use log on SQLite too (see ``transparency/db_guard.py``).

Flushing deletes every row of every table; on PostgreSQL it is TRUNCATE, which the log's row
triggers do not refuse, and this makes SQLite behave the same.
"""

from django.core.management.commands.flush import Command as FlushCommand

from borough.transparency.db_guard import allow_flush


class Command(FlushCommand):
    def handle(self, **options):
        with allow_flush():
            return super().handle(**options)
