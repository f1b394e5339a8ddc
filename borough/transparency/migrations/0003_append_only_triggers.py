"""The data-use log is append-only in the database itself.

Row triggers refuse UPDATE and DELETE on the events, the sealed leaves and the checkpoints,
whoever runs them (the web processes, a migration, someone at a SQL prompt), on PostgreSQL and
SQLite alike. Emptying the whole database is still possible: PostgreSQL's TRUNCATE fires no row
triggers, and on SQLite ``borough flush`` (which deletes every row) switches the guard off for its
own connection; see ``borough/transparency/db_guard.py``.
"""

from django.db import migrations

TABLES = (
    "transparency_datauseevent",
    "transparency_sealedleaf",
    "transparency_logcheckpoint",
)
MESSAGE = "The data-use log is append-only: rows of {table} cannot be {done}."

POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION borough_refuse_log_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'The data-use log is append-only: rows of % cannot be %.',
        TG_TABLE_NAME, CASE TG_OP WHEN 'UPDATE' THEN 'changed' ELSE 'deleted' END
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def _statements(vendor: str, tables=TABLES) -> list[str]:
    sql = []
    if vendor == "postgresql":
        sql.append(POSTGRESQL_FUNCTION)
    for table in tables:
        for op, done in (("update", "changed"), ("delete", "deleted")):
            name = f"{table}_no_{op}"
            if vendor == "postgresql":
                sql.append(
                    f"CREATE TRIGGER {name} BEFORE {op.upper()} ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION borough_refuse_log_change()"
                )
            elif vendor == "sqlite":
                message = MESSAGE.format(table=table, done=done)
                sql.append(
                    f"CREATE TRIGGER {name} BEFORE {op.upper()} ON {table} FOR EACH ROW "
                    f"WHEN borough_log_guard() BEGIN SELECT RAISE(ABORT, '{message}'); END"
                )
    return sql


def _drop(vendor: str, tables=TABLES) -> list[str]:
    sql = []
    for table in tables:
        for op in ("update", "delete"):
            on = f" ON {table}" if vendor == "postgresql" else ""
            sql.append(f"DROP TRIGGER IF EXISTS {table}_no_{op}{on}")
    if vendor == "postgresql":
        sql.append("DROP FUNCTION IF EXISTS borough_refuse_log_change()")
    return sql


def create_triggers(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    for statement in _drop(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("transparency", "0002_merkle_log")]

    operations = [migrations.RunPython(create_triggers, drop_triggers, elidable=False)]
