"""The stored tiles are append-only like the rest of the log.

The same row triggers as migration 0003's refuse UPDATE and DELETE on ``transparency_logtile``,
on PostgreSQL and SQLite. Nothing Borough does rewrites a stored tile: the sealer only inserts
tiles (``ON CONFLICT DO NOTHING``, so storing one twice changes nothing), retention keeps them,
and ``borough flush`` empties the table as it empties the others (TRUNCATE on PostgreSQL; on
SQLite the triggers fire only ``WHEN borough_log_guard()``). Someone who can drop or disable
triggers can still change a tile; ``borough transparency verify`` recomputes every stored tile
from the sealed leaves and names one that differs.
"""

import importlib

from django.db import migrations

TRIGGERS = importlib.import_module("borough.transparency.migrations.0003_append_only_triggers")
TOMBSTONES = importlib.import_module(
    "borough.transparency.migrations.0008_retention_purge_tombstones"
)
TILES = "transparency_logtile"
#: Every append-only table of the log.
TABLES = (*TOMBSTONES.TABLES, TILES)


def statements(vendor: str) -> list[str]:
    """Every trigger of the log as this migration leaves it (tests recreate them with this)."""
    return [*TOMBSTONES.statements(vendor), *TRIGGERS._statements(vendor, (TILES,))]


def _drop_tiles(vendor: str) -> list[str]:
    """Only the tiles' triggers: ``borough_refuse_log_change()`` stays for the other tables."""
    return [s for s in TRIGGERS._drop(vendor, (TILES,)) if s.startswith("DROP TRIGGER")]


def create_triggers(apps, schema_editor):
    """(Re)create every trigger of the log, the tiles' among them. PostgreSQL will not drop
    ``borough_refuse_log_change()`` while the tiles' triggers use it, so a later migration that
    makes SQLite rebuild one of the log's tables (dropping its triggers) runs this one after,
    where 0011 ran 0008's."""
    vendor = schema_editor.connection.vendor
    for statement in [*TRIGGERS._drop(vendor, TABLES), *statements(vendor)]:
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    for statement in _drop_tiles(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("transparency", "0014_event_rules_by_trigger")]

    operations = [migrations.RunPython(create_triggers, drop_triggers, elidable=False)]
