"""Reading the services' tables in bulk into DuckDB staging tables.

DuckDB's SQLite and PostgreSQL scanners are extensions that DuckDB downloads on first use, and
nothing can be downloaded where Borough runs, so the build reads through Django's database
connection instead: one SQL query per source into a DuckDB staging table with the types
declared here (how, below).

Each source says how it changes, which decides what an incremental build reads:

- ``append``: rows are only ever added (the ledger, the logs): rows with an ID above the last
  build's highest.
- ``changed``: rows carry a change time: rows changed since the last build (less an overlap of
  ten minutes, for transactions that committed late), plus rows with a higher ID. A source
  made from a join names the other table's change time too (``changed_also``: a permit's row
  changes when its application does). A ``kept`` source (the properties, which every fact
  joins for its ward) has its whole table kept by the build, and the changed rows are merged
  into that copy; if the source then holds fewer rows than the copy, some were deleted and the
  source is read whole.
- ``snapshot``: rows change with no change time (a collection returned unpaid): read whole,
  compared with the last build's copy, and only the rows that differ are replaced in the
  warehouse.

PostgreSQL sources are read by ``COPY (query) TO STDOUT`` as CSV, spooled to a file in the
build's folder and parsed by DuckDB's CSV reader into the declared types: no row becomes a
Python object. SQLite has no COPY: there, ``fetchmany`` batches become Arrow tables.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from django.apps import apps
from django.db import connection

BATCH_ROWS = 50_000
OVERLAP = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Source:
    name: str  # the staging table: stg_<name>
    mode: str  # append, changed or snapshot
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type) in the query's order
    sql: str  # with {table} placeholders "app.Model"; WHERE added for increments
    id_column: str = "id"  # qualified as the SQL needs it
    changed_column: str = ""  # for mode "changed"
    # Mode "changed": other change times that mean the row changed (a joined table's), each
    # read by its own index, in a UNION.
    changed_also: tuple[str, ...] = ()
    # Mode "changed": the transforms need the whole table (a lookup such as the properties),
    # so the build keeps its copy and merges the changed rows into it.
    kept: bool = False
    where: str = ""  # always applied


def _t(label: str) -> str:
    return connection.ops.quote_name(apps.get_model(label)._meta.db_table)


def _tables() -> dict[str, str]:
    labels = {
        "property": "places.Property",
        "zone": "parking.Zone",
        "application": "parking.PermitApplication",
        "permit": "parking.Permit",
        "permit_event": "parking.PermitEvent",
        "visitor": "parking.VisitorSession",
        "verification": "residents.Verification",
        "data_use": "transparency.DataUseEvent",
        "payment": "payments.Payment",
        "refund": "payments.Refund",
        "tenancy": "housing.Tenancy",
        "account": "housing.RentAccount",
        "ledger": "housing.LedgerEntry",
        "bank_line": "housing.BankLine",
        "mandate": "housing.Mandate",
        "mandate_event": "housing.MandateEvent",
        "collection": "housing.Collection",
        "bacs_run": "housing.BacsRun",
        "feedback": "core.Feedback",
        "purged_event": "transparency.PurgedEvent",
    }
    return {key: _t(label) for key, label in labels.items()}


def sources() -> list[Source]:
    t = _tables()
    return [
        Source(
            "property",
            "changed",
            (
                ("uprn", "BIGINT"),
                ("ward_code", "VARCHAR"),
                ("ward_name", "VARCHAR"),
                ("is_residential", "BOOLEAN"),
                ("updated_at", "TIMESTAMPTZ"),
            ),
            f"SELECT uprn, ward_code, ward_name, is_residential, updated_at FROM {t['property']}",
            id_column="uprn",
            changed_column="updated_at",
            kept=True,
        ),
        Source(
            "zone",
            "snapshot",
            (("id", "BIGINT"), ("code", "VARCHAR"), ("name", "VARCHAR"), ("active", "BOOLEAN")),
            f"SELECT id, code, name, active FROM {t['zone']}",
        ),
        Source(
            "account",
            "snapshot",
            (
                ("id", "BIGINT"),
                ("tenure", "VARCHAR"),
                ("property_id", "BIGINT"),
                ("opened_on", "DATE"),
                ("closed_on", "DATE"),
            ),
            f"SELECT a.id, t.tenure, t.property_id, a.opened_on, a.closed_on "
            f"FROM {t['account']} a JOIN {t['tenancy']} t ON t.id = a.tenancy_id",
            id_column="a.id",
        ),
        Source(
            "ledger",
            "append",
            (
                ("id", "BIGINT"),
                ("account_id", "BIGINT"),
                ("kind", "VARCHAR"),
                ("type_code", "VARCHAR"),
                ("posted_on", "DATE"),
                ("amount_pence", "BIGINT"),
                ("reverses_id", "BIGINT"),
                ("created_at", "TIMESTAMPTZ"),
            ),
            f"SELECT id, account_id, kind, type_code, posted_on, amount_pence, reverses_id, "
            f"created_at FROM {t['ledger']}",
        ),
        Source(
            "application",
            "changed",
            (
                ("id", "BIGINT"),
                ("resident_id", "VARCHAR"),
                ("journey", "VARCHAR"),
                ("permit_type", "VARCHAR"),
                ("zone_id", "BIGINT"),
                ("property_id", "BIGINT"),
                ("band", "VARCHAR"),
                ("duration_months", "INTEGER"),
                ("price_pence", "BIGINT"),
                ("vehicle_found", "BOOLEAN"),
                ("verification_decision", "VARCHAR"),
                ("status", "VARCHAR"),
                ("decided_by_id", "BIGINT"),
                ("created_at", "TIMESTAMPTZ"),
                ("issued_at", "TIMESTAMPTZ"),
                ("updated_at", "TIMESTAMPTZ"),
            ),
            f"SELECT a.id, a.resident_id, CASE WHEN a.renews_id IS NULL THEN 'new' ELSE 'renewal' END AS journey, a.permit_type, a.zone_id, a.property_id, "
            f"a.band, a.duration_months, a.price_pence, a.vehicle_found, "
            f"a.verification_decision, a.status, a.decided_by_id, a.created_at, p.issued_at, "
            f"a.updated_at FROM {t['application']} a "
            f"LEFT JOIN {t['permit']} p ON p.application_id = a.id",
            id_column="a.id",
            changed_column="a.updated_at",
        ),
        Source(
            "permit",
            "changed",
            (
                ("id", "BIGINT"),
                ("application_id", "BIGINT"),
                ("resident_id", "VARCHAR"),
                ("permit_type", "VARCHAR"),
                ("zone_id", "BIGINT"),
                ("property_id", "BIGINT"),
                ("band", "VARCHAR"),
                ("status", "VARCHAR"),
                ("starts_on", "DATE"),
                ("ends_on", "DATE"),
                ("paid_pence", "BIGINT"),
                ("refunded_pence", "BIGINT"),
                ("issued_at", "TIMESTAMPTZ"),
                ("cancelled_at", "TIMESTAMPTZ"),
                ("updated_at", "TIMESTAMPTZ"),
            ),
            f"SELECT p.id, p.application_id, a.resident_id, p.permit_type, p.zone_id, "
            f"p.property_id, a.band, p.status, p.starts_on, p.ends_on, p.paid_pence, "
            f"p.refunded_pence, p.issued_at, p.cancelled_at, p.updated_at "
            f"FROM {t['permit']} p LEFT JOIN {t['application']} a ON a.id = p.application_id",
            id_column="p.id",
            changed_column="p.updated_at",
            # The permit's fact takes the resident and band from its application.
            changed_also=("a.updated_at",),
        ),
        Source(
            "permit_event",
            "append",
            (
                ("id", "BIGINT"),
                ("application_id", "BIGINT"),
                ("permit_id", "BIGINT"),
                ("action", "VARCHAR"),
                ("actor_id", "BIGINT"),
                ("at", "TIMESTAMPTZ"),
            ),
            f"SELECT id, application_id, permit_id, action, actor_id, at FROM {t['permit_event']}",
        ),
        Source(
            "visitor",
            "snapshot",
            (
                ("id", "BIGINT"),
                ("host_id", "BIGINT"),
                ("zone_id", "BIGINT"),
                ("property_id", "BIGINT"),
                ("status", "VARCHAR"),
                ("hours_used", "INTEGER"),
                ("price_pence", "BIGINT"),
                ("refunded_pence", "BIGINT"),
                ("starts_at", "TIMESTAMPTZ"),
                ("ends_at", "TIMESTAMPTZ"),
                ("ended_early_at", "TIMESTAMPTZ"),
            ),
            f"SELECT id, host_id, zone_id, property_id, status, hours_used, price_pence, "
            f"refunded_pence, starts_at, ends_at, ended_early_at FROM {t['visitor']}",
        ),
        Source(
            "verification",
            "changed",
            (
                ("id", "BIGINT"),
                ("resident_id", "VARCHAR"),
                ("purpose", "VARCHAR"),
                ("actor_kind", "VARCHAR"),
                ("decision", "VARCHAR"),
                ("match_probability", "DOUBLE"),
                ("seconds", "DOUBLE"),
                ("review", "VARCHAR"),
                ("requested_at", "TIMESTAMPTZ"),
                ("reviewed_at", "TIMESTAMPTZ"),
            ),
            f"SELECT id, resident_id, purpose, actor_kind, decision, match_probability, "
            f"seconds, review, requested_at, reviewed_at FROM {t['verification']}",
            changed_column="reviewed_at",
        ),
        Source(
            "data_use",
            "append",
            (
                ("id", "BIGINT"),
                ("action_id", "VARCHAR"),
                ("subject_resident_id", "VARCHAR"),
                ("actor_kind", "VARCHAR"),
                ("service", "VARCHAR"),
                ("purpose", "VARCHAR"),
                ("lawful_basis", "VARCHAR"),
                ("action", "VARCHAR"),
                ("reference", "VARCHAR"),
                ("outcome", "VARCHAR"),
                ("datasets_read", "VARCHAR"),
                ("occurred_at", "TIMESTAMPTZ"),
            ),
            f"SELECT id, action_id, subject_resident_id, actor_kind, service, purpose, "
            f"lawful_basis, action, reference, outcome, datasets_read, occurred_at "
            f"FROM {t['data_use']}",
        ),
        Source(
            "payment",
            "changed",
            (
                ("id", "BIGINT"),
                ("purpose_key", "VARCHAR"),
                ("provider", "VARCHAR"),
                ("status", "VARCHAR"),
                ("amount_pence", "BIGINT"),
                ("refunded_pence", "BIGINT"),
                ("created_at", "TIMESTAMPTZ"),
                ("succeeded_at", "TIMESTAMPTZ"),
                ("updated_at", "TIMESTAMPTZ"),
            ),
            f"SELECT id, purpose_key, provider, status, amount_pence, refunded_pence, "
            f"created_at, succeeded_at, updated_at FROM {t['payment']}",
            changed_column="updated_at",
        ),
        Source(
            "refund",
            "snapshot",
            (
                ("id", "BIGINT"),
                ("payment_id", "BIGINT"),
                ("amount_pence", "BIGINT"),
                ("status", "VARCHAR"),
                ("created_at", "TIMESTAMPTZ"),
            ),
            f"SELECT id, payment_id, amount_pence, status, created_at FROM {t['refund']}",
        ),
        Source(
            "bank_line",
            "changed",
            (
                ("id", "BIGINT"),
                ("booking_date", "DATE"),
                ("amount_pence", "BIGINT"),
                ("outcome", "VARCHAR"),
                ("method", "VARCHAR"),
                ("confidence", "DOUBLE"),
                ("resolved_at", "TIMESTAMPTZ"),
                ("resolved_by_id", "BIGINT"),
            ),
            f"SELECT id, booking_date, amount_pence, outcome, method, confidence, resolved_at, "
            f"resolved_by_id FROM {t['bank_line']}",
            changed_column="resolved_at",
        ),
        Source(
            "mandate",
            "snapshot",
            (("id", "BIGINT"), ("account_id", "BIGINT")),
            f"SELECT id, account_id FROM {t['mandate']}",
        ),
        Source(
            "mandate_event",
            "append",
            (
                ("id", "BIGINT"),
                ("mandate_id", "BIGINT"),
                ("action", "VARCHAR"),
                ("reason_code", "VARCHAR"),
                ("at", "TIMESTAMPTZ"),
            ),
            f"SELECT id, mandate_id, action, reason_code, at FROM {t['mandate_event']}",
        ),
        Source(
            "collection",
            "snapshot",
            (
                ("id", "BIGINT"),
                ("mandate_id", "BIGINT"),
                ("transaction_code", "VARCHAR"),
                ("amount_pence", "BIGINT"),
                ("due_on", "DATE"),
                ("status", "VARCHAR"),
            ),
            f"SELECT id, mandate_id, transaction_code, amount_pence, due_on, status "
            f"FROM {t['collection']}",
        ),
        Source(
            "feedback",
            "append",
            (
                ("id", "BIGINT"),
                ("satisfaction", "INTEGER"),
                ("comments", "VARCHAR"),
                ("page", "VARCHAR"),
                ("created_at", "TIMESTAMPTZ"),
            ),
            f"SELECT id, satisfaction, comments, page, created_at FROM {t['feedback']}",
        ),
    ]


def source(name: str) -> Source:
    return next(s for s in sources() if s.name == name)


def reads_whole(src: Source, state: dict | None) -> bool:
    """Whether this build reads all of ``src`` (not only what changed since ``state``)."""
    if state is None or src.mode == "snapshot" or state.get("max_id") is None:
        return True
    if src.kept and not state.get("kept"):
        return True  # no copy of the whole table to merge the changes into
    return bool(src.changed_also) and not state.get("max_changed")


def increment_sql(src: Source, state: dict | None) -> tuple[str, list]:
    """The query that reads what this build needs of ``src``, and its parameters."""
    if reads_whole(src, state):
        return src.sql, []
    high = state["max_id"]
    if src.mode == "append":
        return f"{src.sql} WHERE {src.id_column} > %s", [high]
    since = state.get("max_changed")
    if not since:  # nothing had changed by the last build: any change time is news
        return f"{src.sql} WHERE {src.id_column} > %s OR {src.changed_column} IS NOT NULL", [high]
    since = connection.ops.adapt_datetimefield_value(dt.datetime.fromisoformat(since) - OVERLAP)
    if src.changed_also:
        # One query per change time, so each can use its own index.
        branches = [f"{src.sql} WHERE {src.id_column} > %s"] + [
            f"{src.sql} WHERE {column} >= %s" for column in (src.changed_column, *src.changed_also)
        ]
        return " UNION ".join(branches), [high] + [since] * (len(branches) - 1)
    return f"{src.sql} WHERE {src.id_column} > %s OR {src.changed_column} >= %s", [high, since]


def read_into(
    con,
    src: Source,
    state: dict | None,
    progress: Callable[[str], None] | None = None,
    folder: Path | None = None,
) -> int:
    """Read ``src`` (all of it, or what changed since ``state``) into ``stg_<name>``.

    ``folder``: where PostgreSQL's COPY output is spooled (the build's work folder; a temporary
    folder if None)."""
    table = f"stg_{src.name}"
    cols = ", ".join(f'"{n}" {ty}' for n, ty in src.columns)
    con.execute(f'CREATE OR REPLACE TEMP TABLE "{table}" ({cols})')
    sql, params = increment_sql(src, state)
    if connection.vendor == "postgresql":
        if folder is None:
            with tempfile.TemporaryDirectory(prefix="borough-extract-") as spool:
                return _read_postgresql(con, src, sql, params, Path(spool))
        return _read_postgresql(con, src, sql, params, folder)
    return _read_fetchmany(con, src, sql, params, progress)


def _read_postgresql(con, src: Source, sql: str, params: list, folder: Path) -> int:
    """``COPY (query) TO STDOUT`` as CSV, spooled to a file in blocks as the server sends them
    (no row ever becomes a Python object), then parsed by DuckDB's own CSV reader into the
    declared types."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{src.name}.csv"
    query = connection.ops.compose_sql(sql, params) if params else sql
    with connection.cursor() as cursor:
        # Text forms DuckDB reads as they are: ISO dates, UTC times, exact floats.
        cursor.execute(
            "SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL TimeZone = 'UTC'; "
            "SET LOCAL IntervalStyle = 'iso_8601'; SET LOCAL extra_float_digits = 1"
        )
        with (
            open(path, "wb") as out,
            cursor.cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)") as copy,
        ):
            while block := copy.read():
                out.write(block)
    try:
        types = ", ".join(f"'{n}': '{ty}'" for n, ty in src.columns)
        # CSV as PostgreSQL writes it: an unquoted empty field is NULL, a quoted one ''. The
        # path is written into the SQL, not passed as a parameter: DuckDB's Python binding
        # imports pandas to look at any parameter (a third of a second of every build).
        quoted = "'" + str(path).replace("'", "''") + "'"
        con.execute(
            f'INSERT INTO "stg_{src.name}" SELECT * FROM read_csv({quoted}, '
            f"columns = {{{types}}}, header = false, auto_detect = false, delim = ',', "
            "quote = '\"', escape = '\"', nullstr = '', allow_quoted_nulls = false)"
        )
        return con.execute(f'SELECT count(*) FROM "stg_{src.name}"').fetchone()[0]
    finally:
        path.unlink(missing_ok=True)


def _read_fetchmany(con, src: Source, sql: str, params: list, progress) -> int:
    # Django's SQLite connection parses every date and time it returns into Python objects
    # (most of the read's time at a million rows); as text they go to DuckDB, which parses
    # them itself.
    table = f"stg_{src.name}"
    names = [n for n, _ in src.columns]
    casts = ", ".join(f'CAST("{n}" AS {ty})' for n, ty in src.columns)
    outer = ", ".join(
        f'CAST(q."{n}" AS TEXT)' if ty in ("DATE", "TIMESTAMPTZ") else f'q."{n}"'
        for n, ty in src.columns
    )
    sql = f"SELECT {outer} FROM ({sql}) q"
    rows = 0
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(BATCH_ROWS):
            arrow = pa.table(
                {
                    name: _column(values)
                    for name, values in zip(names, zip(*batch, strict=True), strict=True)
                }
            )
            con.register("batch_rows", arrow)
            con.execute(f'INSERT INTO "{table}" SELECT {casts} FROM batch_rows')
            con.unregister("batch_rows")
            rows += len(batch)
            if progress and rows % (BATCH_ROWS * 20) == 0:
                progress(f"{src.name}: {rows:,} rows read")
    return rows


def _column(values: tuple) -> pa.Array:
    # Dates and times come as strings from SQLite and as objects from PostgreSQL; JSON lists
    # (datasets_read) as text or lists. DuckDB casts the strings; lists are joined here.
    first = next((v for v in values if v is not None), None)
    if isinstance(first, list):
        return pa.array([None if v is None else json.dumps(v) for v in values], type=pa.string())
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([_text(v) for v in values], type=pa.string())


def _text(value) -> str | None:
    if value is None:
        return None
    return str(value)
