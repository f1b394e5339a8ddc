"""The ``borough`` command: Django's management commands with Borough's settings."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "borough.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db import DatabaseError

    try:
        execute_from_command_line(argv if argv is not None else sys.argv)
    except ImproperlyConfigured as error:
        # A council's settings or profile is wrong: the message names the file and the
        # problem; a traceback would only bury it.
        sys.stderr.write(f"borough: {error}\n")
        raise SystemExit(2) from None
    except DatabaseError:
        waiting = _unapplied_migrations()
        if not waiting:
            raise
        sys.stderr.write(
            f"borough: the database ({_database()}) has not been set up for this version of "
            f"Borough: {waiting} migration{'s' if waiting != 1 else ''} to apply. Run "
            "`borough migrate` first, then this command again.\n"
        )
        raise SystemExit(2) from None


def _unapplied_migrations() -> int:
    """How many migrations the database still needs (0 if it cannot tell)."""
    from django.db import DatabaseError, connection
    from django.db.migrations.executor import MigrationExecutor

    try:
        connection.close()  # a failed statement may have left its transaction unusable
        executor = MigrationExecutor(connection)
        return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    except DatabaseError:
        return 0


def _database() -> str:
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return str(settings["NAME"])
    return f"{connection.vendor} database {settings['NAME']!r}"


if __name__ == "__main__":
    main()
