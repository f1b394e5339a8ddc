"""``lookup_and_record_data_use``: a look-up and the data-use event that records it, as ONE
statement on PostgreSQL (a data-modifying CTE, prepared once per connection), for a look-up whose
event depends on the row it finds, such as the enforcement check's permit. Elsewhere (SQLite) the
look-up runs, then ``services.record_data_use``. The event follows ``record_data_use``'s rules."""

from collections.abc import Iterable, Sequence

from django.db import connections, router
from django.utils import timezone

from borough.core.models import User
from borough.core.prepared import prepared_cursor
from borough.transparency.models import (
    DataUseEvent,
)
from borough.transparency.purposes import PURPOSES
from borough.transparency.services import (
    OUTCOME,
    REFERENCE,
    RESIDENT_ID,
    UNSYNCED,
    commits_on_its_own,
    event_fields,
    insert_parts,
    record_data_use,
)

#: (database alias, look-up SQL, from_row, purpose, unsynced) -> ``_lookup_statement``'s answer.
_LOOKUP_STATEMENTS: dict[tuple, tuple[str, list[tuple[str, object]]]] = {}


#: Fields whose Python values (validated, of the field's type) psycopg takes as they are: for
#: these, ``get_db_prep_save`` on PostgreSQL returns its value unchanged, so it is not called.
_AS_THEY_ARE = frozenset(
    {"CharField", "TextField", "UUIDField", "DateTimeField", "DateField", "ForeignKey"}
)


def _lookup_statement(
    connection,
    lookup_sql: str,
    from_row: dict[str, str],
    needs_subject: bool,
    unsynced: bool,
    constants: dict[str, object] | None = None,
) -> tuple[str, list[tuple[str, object]]]:
    """The look-up and its event's INSERT as one PostgreSQL statement (a data-modifying CTE):
    (SQL, the fields whose values follow the look-up's parameters, as (attname, the field when
    its value needs ``get_db_prep_save``, else None)). The INSERT takes the fields of the row it
    found only when they have their shapes (the same patterns, as literals).

    With ``constants`` (a service's or system's event, the same on every call but for its ID and
    time), the event's other values are written into the statement as literals, quoted by
    psycopg, and its ID is PostgreSQL's ``gen_random_uuid()``: only the time follows the
    look-up's parameters. Each parameter costs PostgreSQL a parse on every run (a text value, a
    date and time, JSON) and psycopg a conversion; a literal is parsed once, when the statement is
    prepared."""
    insert, fields, types = insert_parts(connection)
    values, given, checks = [], [], []
    for field, db_type in zip(fields, types, strict=True):
        expression = from_row.get(field.attname)
        if expression is None:
            if constants is not None and field.attname == "action_id":
                values.append("gen_random_uuid()")
                continue
            if constants is not None and field.attname != "occurred_at":
                values.append(f"{_literal(connection, constants[field.attname])}::{db_type}")
                continue
            values.append(f"%s::{db_type}")
            as_is = field.get_internal_type() in _AS_THEY_ARE
            given.append((field.attname, None if as_is else field))
            continue
        values.append(f"({expression})")
        pattern = f"^(?:{FROM_LOOKUP[field.attname].pattern})$"
        if set(pattern) & set("'%\\"):  # our own constants: nothing to escape in a literal
            raise RuntimeError(f"The {field.attname} pattern cannot be written as a literal.")
        shape = f"({expression}) ~ '{pattern}'"
        may_be_empty = field.attname != "subject_resident_id" or not needs_subject
        checks.append(f"(({expression}) = '' OR {shape})" if may_be_empty else shape)
    pk = connection.ops.quote_name(DataUseEvent._meta.pk.column)
    sql = (
        f"WITH found AS (SELECT * FROM ({lookup_sql}) AS lookup LIMIT 1), "  # noqa: S608
        f"event AS ({insert} SELECT {', '.join(values)} "
        f"FROM found{f', {UNSYNCED}' if unsynced else ''} "
        f"WHERE {' AND '.join(checks) or 'true'} RETURNING {pk}) "
        f"SELECT found.*, (SELECT {pk} FROM event) FROM found"
    )
    return sql, given


def _literal(connection, value) -> str:
    """``value`` (already prepared for the database) as an SQL literal, quoted by psycopg with
    the connection's own adapters, its ``%`` doubled: the statement still has the look-up's
    ``%s`` placeholders."""
    from psycopg import sql  # only ever called on PostgreSQL

    if value is None:
        return "NULL"
    return sql.Literal(value).as_string(connection.connection).replace("%", "%%")


#: The event's fields a look-up may give from the row it finds, and the shape each must have.
FROM_LOOKUP = {"subject_resident_id": RESIDENT_ID, "reference": REFERENCE, "outcome": OUTCOME}

#: ``event_fields``'s arguments that ``lookup_and_record_data_use`` never takes from its caller.
_NO_EXTRAS = {"reference": "", "outcome": "", "hidden_until": None, "restriction_reason_code": ""}

#: (database alias, look-up SQL, from_row, purpose, unsynced, actor kind, actor label, action,
#: service, datasets) -> the statement, for events with no person as actor (a service's or a
#: system's): built, once its event has passed ``record_data_use``'s checks, with the event's
#: values as literals; a repeated call sends only the look-up's parameters and the time.
_SERVICE_STATEMENTS: dict[tuple, str] = {}


def lookup_and_record_data_use(
    lookup_sql: str,
    lookup_params: Sequence,
    *,
    from_row: dict[str, str],
    actor: User | None,
    actor_kind: str,
    purpose: str,
    action: str,
    datasets: Iterable[str] = (),
    actor_label: str = "",
    service: str | None = None,
    using: str | None = None,
) -> tuple | None:
    """Run ``lookup_sql`` (a SELECT; its first row is taken) and, if it finds a row, record the
    use of data that finding it was: ONE event, with ``record_data_use``'s rules, whose
    ``subject_resident_id``, ``reference`` and ``outcome`` may be SQL expressions over the row
    (called ``found``) given in ``from_row``, e.g. ``{"reference": "found.number"}``. Returns the
    row, or None: a look-up that finds nothing records nothing here, and the caller records what
    it did instead (with ``record_data_use``).

    On PostgreSQL the look-up and the INSERT are one statement (a data-modifying CTE), so the
    event costs no round trip of its own; outside a transaction it commits with
    ``synchronous_commit`` off, as ``record_data_use``'s single event does. Values taken from the
    row must have the same shapes as ``record_data_use`` demands (a resident ID, or empty when the
    purpose may find nobody; an identifier; a code), checked in the statement: a row whose values
    do not is recorded not at all, and the call raises ValueError. The statement is prepared
    once per connection (``prepared_cursor``). For a service or system actor, the event's values
    are checked once a process and then written into the statement as literals
    (``_SERVICE_STATEMENTS``): a repeated call sends the look-up's parameters and the event's
    time, and PostgreSQL gives the event its ID. Elsewhere (SQLite) the look-up runs and then
    ``record_data_use`` with the row's values.
    """
    if not isinstance(datasets, str):  # a bare string is refused by event_fields
        datasets = tuple(datasets)
    connection = connections[using or router.db_for_write(DataUseEvent)]
    service_key = None
    if actor is None and connection.vendor == "postgresql":
        service_key = (
            connection.alias,
            lookup_sql,
            tuple(from_row.items()),
            purpose,
            commits_on_its_own(connection.alias),
            actor_kind,
            actor_label,
            action,
            service,
            datasets,
        )
        kept = _SERVICE_STATEMENTS.get(service_key)
        if kept is not None:
            return _run(connection, kept, [*lookup_params, timezone.now()])

    unknown = set(from_row) - set(FROM_LOOKUP)
    if unknown:
        raise ValueError(
            f"from_row may give only {', '.join(FROM_LOOKUP)}, not {', '.join(sorted(unknown))}."
        )
    if (
        PURPOSES.get(purpose)
        and PURPOSES[purpose].needs_subject
        and not from_row.get("subject_resident_id")
    ):
        raise ValueError(f"Purpose {purpose!r} must name the resident: give subject_resident_id.")
    event = {
        "actor": actor,
        "actor_kind": actor_kind,
        "purpose": purpose,
        "action": action,
        "actor_label": actor_label,
        "service": service,
    }
    expressions = list(from_row.items())
    if connection.vendor != "postgresql":
        event_fields(subject_resident_ids=None, datasets=datasets, **event, **_NO_EXTRAS)
        sql = (
            f"SELECT found.*, {', '.join(e for _, e in expressions)} "  # noqa: S608
            f"FROM ({lookup_sql}) AS found LIMIT 1"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, lookup_params)
            row = cursor.fetchone()
        if row is None:
            return None
        found = dict(zip(from_row, row[len(row) - len(expressions) :], strict=True))
        subject = found.pop("subject_resident_id", "")
        record_data_use(
            subject_resident_ids=[subject] if subject else [],
            datasets=datasets,
            **event,
            **found,
        )
        return row[: len(row) - len(expressions)]

    _, shared = event_fields(subject_resident_ids=None, datasets=datasets, **event, **_NO_EXTRAS)
    given = {
        **shared,
        "actor_user_id": actor.pk if actor is not None else None,
        "subject_resident_id": "",
        "restriction_reason_code": "",
        "hidden_until": None,
    }
    unsynced = commits_on_its_own(connection.alias)
    needs_subject = PURPOSES[purpose].needs_subject
    if service_key is not None and not isinstance(datasets, str):
        # A service's event, checked above: its values become literals, and the statement is kept.
        fields = insert_parts(connection)[1]
        constants = {
            field.attname: (
                given[field.attname]
                if field.attname == "actor_user_id"
                else field.get_db_prep_save(given[field.attname], connection)
            )
            for field in fields
            if field.attname not in from_row and field.attname != "action_id"
        }
        sql, _ = _lookup_statement(
            connection, lookup_sql, from_row, needs_subject, unsynced, constants=constants
        )
        if len(_SERVICE_STATEMENTS) >= 256:
            _SERVICE_STATEMENTS.clear()
        _SERVICE_STATEMENTS[service_key] = sql
        return _run(connection, sql, [*lookup_params, shared["occurred_at"]])

    key = (connection.alias, lookup_sql, tuple(expressions), purpose, unsynced)
    built = _LOOKUP_STATEMENTS.get(key)
    if built is None:
        if len(_LOOKUP_STATEMENTS) >= 64:  # look-ups are a handful of fixed statements
            _LOOKUP_STATEMENTS.clear()
        built = _LOOKUP_STATEMENTS[key] = _lookup_statement(
            connection, lookup_sql, from_row, needs_subject, unsynced
        )
    sql, given_fields = built
    params = [
        given[name] if field is None else field.get_db_prep_save(given[name], connection)
        for name, field in given_fields
    ]
    return _run(connection, sql, [*lookup_params, *params])


def _run(connection, sql: str, params: list) -> tuple | None:
    """The statement, prepared on the connection: the look-up's row, or None."""
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    if row[-1] is None:
        raise ValueError(
            "The look-up's row gave the data-use event a value that is not a resident ID, "
            "an identifier or a code; nothing was recorded."
        )
    return row[:-1]
