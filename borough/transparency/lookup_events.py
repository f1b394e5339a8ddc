"""``lookup_and_record_data_use``: a look-up and the data-use event that records it, as ONE
statement on PostgreSQL (a data-modifying CTE, prepared once per connection), for a look-up whose
event depends on the row it finds, such as the enforcement check's permit. Elsewhere (SQLite) the
look-up runs, then ``services.record_data_use``. The event follows ``record_data_use``'s rules."""

import uuid
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
    connection, lookup_sql: str, from_row: dict[str, str], needs_subject: bool, unsynced: bool
) -> tuple[str, list[tuple[str, object]]]:
    """The look-up and its event's INSERT as one PostgreSQL statement (a data-modifying CTE):
    (SQL, the fields whose values follow the look-up's parameters, as (attname, the field when
    its value needs ``get_db_prep_save``, else None)). The INSERT takes the fields of the row it
    found only when they have their shapes (the same patterns, as literals)."""
    insert, fields, types = insert_parts(connection)
    values, given, checks = [], [], []
    for field, db_type in zip(fields, types, strict=True):
        expression = from_row.get(field.attname)
        if expression is None:
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


#: The event's fields a look-up may give from the row it finds, and the shape each must have.
FROM_LOOKUP = {"subject_resident_id": RESIDENT_ID, "reference": REFERENCE, "outcome": OUTCOME}

#: ``event_fields``'s arguments that ``lookup_and_record_data_use`` never takes from its caller.
_NO_EXTRAS = {"reference": "", "outcome": "", "hidden_until": None, "restriction_reason_code": ""}

#: (statement key, actor kind, actor label, action, service, datasets) -> (SQL, the event's
#: parameters, the positions of its ID and time among them), for events with no person as actor.
_EVENT_PARAMETERS: dict[tuple, tuple[str, tuple, int, int]] = {}


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
    once per connection (``prepared_cursor``), and for a service or system actor the event's
    parameters, once checked, are kept for the process: a repeated call only adds the event's
    new ID and time. Elsewhere (SQLite) the look-up runs and then ``record_data_use`` with the
    row's values.
    """
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
    if not isinstance(datasets, str):  # a bare string is refused by event_fields
        datasets = tuple(datasets)
    connection = connections[using or router.db_for_write(DataUseEvent)]
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

    unsynced = commits_on_its_own(connection.alias)
    key = (connection.alias, lookup_sql, tuple(expressions), purpose, unsynced)
    # A service's calls (no person as the actor) repeat the same event but for its ID and time:
    # its parameters are worked out, and checked, once a process. Only what passed the checks is
    # kept.
    repeated = None
    if actor is None and not isinstance(datasets, str):
        repeated = (key, actor_kind, actor_label, action, service, datasets)
    kept = _EVENT_PARAMETERS.get(repeated) if repeated else None
    if kept is None:
        _, shared = event_fields(
            subject_resident_ids=None, datasets=datasets, **event, **_NO_EXTRAS
        )
        built = _LOOKUP_STATEMENTS.get(key)
        if built is None:
            if len(_LOOKUP_STATEMENTS) >= 64:  # look-ups are a handful of fixed statements
                _LOOKUP_STATEMENTS.clear()
            built = _LOOKUP_STATEMENTS[key] = _lookup_statement(
                connection, lookup_sql, from_row, PURPOSES[purpose].needs_subject, unsynced
            )
        sql, given_fields = built
        given = {
            **shared,
            "actor_user_id": actor.pk if actor is not None else None,
            "subject_resident_id": "",
            "restriction_reason_code": "",
            "hidden_until": None,
        }
        params = [
            given[name] if field is None else field.get_db_prep_save(given[name], connection)
            for name, field in given_fields
        ]
        if repeated:
            if len(_EVENT_PARAMETERS) >= 256:
                _EVENT_PARAMETERS.clear()
            names = [name for name, _ in given_fields]
            _EVENT_PARAMETERS[repeated] = (
                sql,
                tuple(params),
                names.index("action_id"),
                names.index("occurred_at"),
            )
    else:
        sql, constant, action_slot, time_slot = kept
        params = list(constant)
        params[action_slot] = uuid.uuid4()
        params[time_slot] = timezone.now()
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, [*lookup_params, *params])
        row = cursor.fetchone()
    if row is None:
        return None
    if row[-1] is None:
        raise ValueError(
            "The look-up's row gave the data-use event a value that is not a resident ID, "
            "an identifier or a code; nothing was recorded."
        )
    return row[:-1]
