"""What the data-use event adds to a look-up's statement on PostgreSQL, arm against arm in one
process: the statement as the enforcement check sends it, before and after its event was made
cheaper, with nothing of the request around it.

    python bench/run.py event_statement [--size EVENTS] [--rounds N]

A fresh, migrated PostgreSQL database (``borough_bench_event_statement``, dropped first and again
at the end). A look-up table of 1,000 rows stands in for the permit look-up (one row by its
primary key, as the check finds a permit by its registration). Three copies of the log's table,
each filled with ``size`` events first (default 100,000):

- ``now``: the log's own table (its indexes, foreign key, and the trigger that checks an event's
  three rules, migration transparency 0014);
- ``checks``: the same with the rules as the three CHECK constraints they were before, and no
  trigger;
- ``floor``: a bare copy (no index, constraint or trigger).

Arms, each a call of ``lookup_events._run`` (the product's prepared statement on Django's
connection, outside a transaction, so each is its own transaction committed without waiting for
the disk), in alternating blocks of 100 calls for ``rounds`` rounds (default 30):

- ``off``: the look-up alone;
- ``before``: the look-up and its event as the check sent it before, the event's 14 values as
  parameters, into ``checks``;
- ``literals_checks``: the event's values as literals (as now), into ``checks``;
- ``now``: as now, literals into the log's table with its trigger;
- ``floor``: literals into the bare table.

Reported: each arm's median microseconds and what it adds to ``off``. The statements are the
ones ``lookup_events`` builds (``_lookup_statement``), so a change there is measured here.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable

DATABASE = "borough_bench_event_statement"
DEFAULT_SIZE = 100_000
LOOKUP = "SELECT n AS number, rid AS resident_id FROM bench_lookup WHERE vrm = %s"
FROM_ROW = {
    "subject_resident_id": "found.resident_id",
    "reference": "found.number",
    "outcome": "'allowed'",
}
EVENT = {
    "actor": None,
    "actor_kind": "system",
    "actor_label": "API client van-7",
    "purpose": "parking_enforcement_check",
    "action": "enforcement_check",
    "datasets": ("parking_permits",),
}
#: The three rules as CHECK constraints, as migration transparency 0014 found them.
CHECKS = (
    "CHECK (actor_kind IN ('staff', 'service', 'system', 'resident'))",
    "CHECK ((actor_kind IN ('staff', 'resident') AND actor_user_id IS NOT NULL) "
    "OR (actor_kind IN ('service', 'system') AND actor_user_id IS NULL))",
    "CHECK (hidden_until IS NULL OR NOT restriction_reason_code = '')",
)
BLOCK = 100


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=30, help="rounds of 100 calls an arm")


def run(size: int | None, progress: Callable[[str], None], options=None) -> dict:
    from _fresh_database import fresh_database

    size = DEFAULT_SIZE if size is None else size
    rounds = getattr(options, "rounds", 30)
    with fresh_database(DATABASE, "borough-bench-event-statement-"):
        return _measure(size, rounds, progress)


def _measure(size: int, rounds: int, progress) -> dict:
    import random

    from django.db import connection
    from django.utils import timezone

    from borough.transparency import lookup_events
    from borough.transparency.purposes import PURPOSES
    from borough.transparency.services import commits_on_its_own, event_fields

    table = "transparency_datauseevent"  # the log's table, as bench/datalog.py names it
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_lookup (vrm text PRIMARY KEY, n text, rid text)")
        cursor.execute(
            "INSERT INTO bench_lookup SELECT 'V' || g, 'RP-' || g, 'R' || lpad(g::text, 8, '0') "
            "FROM generate_series(1, 1000) AS g"
        )
        cursor.execute(f"CREATE TABLE bench_checks (LIKE {table} INCLUDING ALL)")
        for number, check in enumerate(CHECKS, start=1):
            cursor.execute(f"ALTER TABLE bench_checks ADD CONSTRAINT bench_rule_{number} {check}")
        cursor.execute(
            "ALTER TABLE bench_checks ADD FOREIGN KEY (actor_user_id) REFERENCES core_user (id) "
            "DEFERRABLE INITIALLY DEFERRED"
        )
        cursor.execute(
            f"CREATE TABLE bench_floor (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY)"
        )

    # The statements as lookup_events builds them: the literal one from a real call.
    lookup_events.lookup_and_record_data_use(LOOKUP, ["V1"], from_row=FROM_ROW, **EVENT)
    (literal,) = lookup_events._SERVICE_STATEMENTS.values()
    needs_subject = PURPOSES[EVENT["purpose"]].needs_subject
    unsynced = commits_on_its_own(connection.alias)
    with_parameters, given_fields = lookup_events._lookup_statement(
        connection, LOOKUP, FROM_ROW, needs_subject, unsynced
    )
    _, shared = event_fields(
        subject_resident_ids=None,
        **EVENT,
        reference="",
        outcome="",
        service=None,
        hidden_until=None,
        restriction_reason_code="",
    )
    given = {
        **shared,
        "actor_user_id": None,
        "subject_resident_id": "",
        "restriction_reason_code": "",
        "hidden_until": None,
    }

    def parameters() -> list:
        # What the check sent before: the event's values, a new ID and time each call.
        values = {**given, "action_id": uuid.uuid4(), "occurred_at": timezone.now()}
        return [
            values[name] if field is None else field.get_db_prep_save(values[name], connection)
            for name, field in given_fields
        ]

    quoted = f'"{table}"'
    statements = {
        "before": with_parameters.replace(quoted, "bench_checks"),
        "literals_checks": literal.replace(quoted, "bench_checks"),
        "now": literal,
        "floor": literal.replace(quoted, "bench_floor"),
    }

    # Fill each table with ``size`` events through the statements themselves (after the first
    # runs, so PostgreSQL has them prepared).
    started = time.perf_counter()
    filled = 0
    rng = random.Random(5)
    while filled < size:
        for name in ("before", "now", "floor"):
            vrm = f"V{rng.randint(1, 1000)}"
            extra = parameters() if name == "before" else [timezone.now()]
            lookup_events._run(connection, statements[name], [vrm, *extra])
        filled += 1
        if filled % 20_000 == 0:
            progress(f"filled {filled:,}/{size:,} events in each table")
    with connection.cursor() as cursor:
        for name in (table, "bench_checks", "bench_floor"):
            cursor.execute(f"VACUUM ANALYZE {name}")
    progress(f"filled in {time.perf_counter() - started:.1f} s")

    def call(name: str) -> Callable[[str], None]:
        if name == "off":

            def off(vrm: str) -> None:
                from borough.core.prepared import prepared_cursor

                with prepared_cursor(connection) as cursor:
                    cursor.execute(LOOKUP, [vrm])
                    cursor.fetchone()

            return off
        sql = statements[name]
        if name == "before":
            return lambda vrm: lookup_events._run(connection, sql, [vrm, *parameters()])
        return lambda vrm: lookup_events._run(connection, sql, [vrm, timezone.now()])

    arms = ("off", "before", "literals_checks", "now", "floor")
    calls = {name: call(name) for name in arms}
    times: dict[str, list[float]] = {name: [] for name in arms}
    for round_ in range(rounds):
        for name in arms:
            for _ in range(BLOCK):
                vrm = f"V{rng.randint(1, 1000)}"
                started = time.perf_counter()
                calls[name](vrm)
                times[name].append(time.perf_counter() - started)
        if (round_ + 1) % 10 == 0:
            progress(f"round {round_ + 1}/{rounds}")
    medians = {name: statistics.median(times[name]) * 1e6 for name in arms}
    figures = {
        "events_in_each_table": size,
        "calls_per_arm": rounds * BLOCK,
        "median_us": {name: round(value, 1) for name, value in medians.items()},
        "adds_us": {
            name: round(medians[name] - medians["off"], 1) for name in arms if name != "off"
        },
    }
    figures["now_vs_before_us"] = round(medians["now"] - medians["before"], 1)
    progress(f"medians: {figures['median_us']}")
    return figures
