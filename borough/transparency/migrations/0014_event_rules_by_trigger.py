"""The three rules every data-use event keeps are checked by one trigger, not three CHECK
constraints.

The rules are the same: the actor's kind is one of the four; a person (staff, resident) has an
account and a service or system has none; only a restricted event may be held back until a
date. PostgreSQL plans a table's CHECK constraints again for every statement that inserts into
it, which cost about 0.06 ms on each enforcement check's event (``bench/RESULTS.md``, "the
event's own costs"); a PL/pgSQL trigger's plans are kept for the session. On SQLite the CHECK
constraints of a table made before this migration stay where they are, and a trigger refuses
the same rows (a table Django rebuilds later gets the trigger again from ``create_triggers``).

A refused row raises ``check_violation`` on PostgreSQL and a constraint error on SQLite: Django's
``IntegrityError`` on both, naming the rule.
"""

from django.db import migrations

TABLE = "transparency_datauseevent"
RULES = (
    (
        "data_use_actor_kind",
        "NEW.actor_kind IN ('staff', 'service', 'system', 'resident')",
        "its actor must be staff, a resident, a service or a system",
    ),
    (
        "data_use_actor_user_matches_kind",
        "(NEW.actor_kind IN ('staff', 'resident') AND NEW.actor_user_id IS NOT NULL) "
        "OR (NEW.actor_kind IN ('service', 'system') AND NEW.actor_user_id IS NULL)",
        "a person acting has an account, a service or system has none",
    ),
    (
        "data_use_hidden_only_if_restricted",
        "NEW.hidden_until IS NULL OR NEW.restriction_reason_code <> ''",
        "only a restricted event is held back until a date",
    ),
)
MESSAGE = "A data-use event breaks the rule {name}: {text}."

POSTGRESQL_FUNCTION = (
    "CREATE OR REPLACE FUNCTION borough_check_data_use_event() RETURNS trigger\n"
    "LANGUAGE plpgsql AS $$\nBEGIN\n"
    + "".join(
        f"    IF NOT coalesce({condition}, false) THEN\n"
        f"        RAISE EXCEPTION '{MESSAGE.format(name=name, text=text)}'\n"
        f"            USING ERRCODE = 'check_violation', CONSTRAINT = '{name}';\n"
        "    END IF;\n"
        for name, condition, text in RULES
    )
    + "    RETURN NEW;\nEND;\n$$"
)


def _statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            *(f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS {name}" for name, _, _ in RULES),
            POSTGRESQL_FUNCTION,
            f"CREATE TRIGGER {TABLE}_rules BEFORE INSERT ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION borough_check_data_use_event()",
        ]
    if vendor == "sqlite":
        # One trigger whose statements run in order, so a row breaking two rules names the first.
        checks = " ".join(
            f"SELECT RAISE(ABORT, '{MESSAGE.format(name=name, text=text)}') "
            f"WHERE NOT coalesce({condition}, 0);"
            for name, condition, text in RULES
        )
        return [
            f"CREATE TRIGGER {TABLE}_rules BEFORE INSERT ON {TABLE} FOR EACH ROW BEGIN {checks} END"
        ]
    return []


def _drop(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {TABLE}_rules ON {TABLE}",
            "DROP FUNCTION IF EXISTS borough_check_data_use_event()",
            *(
                f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} CHECK ({condition.replace('NEW.', '')})"
                for name, condition, _ in RULES
            ),
        ]
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {TABLE}_rules"]
    return []


def create_triggers(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    for statement in _drop(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("transparency", "0013_data_use_subject_index_covers_visibility")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(model_name="datauseevent", name=name)
                for name, _, _ in RULES
            ],
            database_operations=[
                migrations.RunPython(create_triggers, drop_triggers, elidable=False)
            ],
        )
    ]
