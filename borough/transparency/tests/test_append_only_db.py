"""The database itself refuses UPDATE and DELETE on the data-use log (triggers, both vendors)."""

import importlib
import sqlite3

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from borough.transparency import tiles
from borough.transparency.models import (
    DataUseEvent,
    EventDisclosure,
    EventSalt,
    LogCheckpoint,
    LogTile,
    SealedLeaf,
)
from borough.transparency.sealing import seal
from borough.transparency.visibility import release_event

TABLES = [
    DataUseEvent._meta.db_table,
    SealedLeaf._meta.db_table,
    LogCheckpoint._meta.db_table,
    EventSalt._meta.db_table,
    EventDisclosure._meta.db_table,
    LogTile._meta.db_table,
]
KEYS = {TABLES[1]: "position", TABLES[2]: "size", TABLES[3]: "event_id", TABLES[5]: '"index"'}


def _raw(sql: str, params=()) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@pytest.fixture
def sealed_log(verification, settings, tmp_path, dpo, monkeypatch):
    # Tiles 2 hashes wide, so the log's 3 leaves fill one and the sealer stores it.
    monkeypatch.setattr(tiles, "HEIGHT", 1)
    monkeypatch.setattr(tiles, "WIDTH", 2)
    settings.DATA_DIR = tmp_path
    settings.TRANSPARENCY_LOG_SIGNING_KEY = ""
    verification("R-1", "R-2")
    (held,) = verification(
        "R-3",
        purpose="parking_enforcement_check",
        action="enforcement_check",
        restriction_reason_code="enforcement_investigation",
    )
    release_event(held.pk, officer=dpo, reason="The investigation is closed.")
    seal()


@pytest.mark.django_db
@pytest.mark.parametrize("table", TABLES)
def test_raw_update_and_delete_are_refused(sealed_log, table):
    key = KEYS.get(table, "id")
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(f"UPDATE {table} SET {key} = {key} + 1000")
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(f"DELETE FROM {table}")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        assert cursor.fetchone()[0] > 0


@pytest.mark.django_db
def test_inserting_is_still_allowed(verification):
    verification("R-1")
    assert DataUseEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_flushing_the_whole_database_still_empties_the_log(sealed_log, verification):
    # What a transactional test's teardown does: TRUNCATE on PostgreSQL, DELETE on SQLite.
    call_command("flush", verbosity=0, interactive=False)
    assert not DataUseEvent.objects.exists()
    assert not SealedLeaf.objects.exists()
    assert not LogCheckpoint.objects.exists()
    assert not LogTile.objects.exists()
    # The guard is back on after the flush.
    verification("R-3")
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(f"DELETE FROM {TABLES[0]}")


def test_a_sqlite_connection_without_the_guard_function_is_refused():
    """Like the sqlite3 shell: it lacks borough_log_guard(), so its DELETE fails too."""
    migration = importlib.import_module("borough.transparency.migrations.0003_append_only_triggers")
    db = sqlite3.connect(":memory:")
    for table in TABLES:
        db.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
        db.execute(f"INSERT INTO {table} (id) VALUES (1)")
    for statement in migration._statements("sqlite"):
        db.execute(statement)
    with pytest.raises(sqlite3.OperationalError, match="borough_log_guard"):
        db.execute(f"DELETE FROM {TABLES[0]}")
    db.create_function("borough_log_guard", 0, lambda: 1)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute(f"UPDATE {TABLES[1]} SET id = 2")
    db.close()


@pytest.mark.django_db
def test_every_trigger_is_still_there_after_all_migrations():
    """SQLite rebuilds a table to alter it, which drops its triggers: a later migration that
    alters one of these tables must create them again (this test notices if it does not)."""
    if connection.vendor == "postgresql":
        sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        names = {name for (name,) in cursor.fetchall()}
    expected = {f"{table}_no_{op}" for table in TABLES for op in ("update", "delete")}
    assert expected <= names
