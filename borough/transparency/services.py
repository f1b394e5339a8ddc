"""Writing the data-use log. ``record_data_use`` is the only way in (with
``lookup_events.lookup_and_record_data_use``, its form for a look-up whose event depends on the
row it finds).

Every verification, enforcement check, payment match and staff view of a resident's records calls
it, in the same transaction as the work it records: if that work rolls back, so does its event.
"""

import datetime as dt
import re
import secrets
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone

from borough.core.models import AccountKind, User
from borough.transparency.models import (
    MACHINE_ACTORS,
    Action,
    ActorKind,
    DataUseEvent,
    EventSalt,
)
from borough.transparency.purposes import PURPOSES, RESTRICTION_REASONS, SERVICES

# Shapes, not meanings: they stop the commonest slip (a name, an email address or a postcode with a
# space where a code belongs) but cannot prove a value is not personal data.
RESIDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,39}")
DATASET_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./:-]{0,63}")
OUTCOME = re.compile(r"[a-z][a-z0-9_]{0,29}")

#: One call covers one action; an action that reads more residents than this is a batch job and
#: records per batch. (PostgreSQL allows 65,535 parameters in one INSERT: about 4,000 rows.)
MAX_SUBJECTS = 1000

#: The choices' values, read once: ``TextChoices.values`` builds a new list on every access.
_ACTIONS = frozenset(Action.values)
_ACTOR_KINDS = frozenset(ActorKind.values)

DEFAULT_LABELS = {
    ActorKind.STAFF: "Council officer",
    ActorKind.RESIDENT: "You, signed in to your account",
}


def record_data_use(
    *,
    subject_resident_ids: Iterable[str],
    actor: User | None,
    actor_kind: str,
    purpose: str,
    action: str,
    datasets: Iterable[str] = (),
    actor_label: str = "",
    reference: str = "",
    outcome: str = "",
    service: str | None = None,
    hidden_until: dt.date | None = None,
    restriction_reason_code: str = "",
) -> list[DataUseEvent]:
    """Record that the data of ``subject_resident_ids`` was used; one event per resident.

    The rules it enforces:

    - ``purpose`` is a code from ``purposes.PURPOSES``; it fixes the lawful basis, and the
      purpose's and basis's plain-English texts are stored with each event.
    - ``service`` defaults to the purpose's service; a purpose used by several services
      (``staff_view_records``) needs it, and it may not contradict the purpose's own service.
    - A staff or resident actor is that person's account (``actor``); a service or system actor has
      no account (``actor`` is None) and must say what it is in ``actor_label``.
    - At least one resident, unless the purpose is a look-up that may find nobody
      (``Purpose.needs_subject`` is False): then an empty list writes one event with no resident,
      so the data protection officer still sees the look-up.
    - Resident IDs, dataset codes, ``reference`` and ``outcome`` must look like identifiers and
      codes. Error messages never repeat a refused value, which might be personal data.

    - A **restricted** event (``restriction_reason_code``, a code from
      ``purposes.RESTRICTION_REASONS``, on a purpose that ``may_be_restricted``) is held back
      from the resident until ``hidden_until`` (a UK date after today) or, if that is None, until
      the data protection officer releases it (``visibility.release_event``). The call also
      writes, in one transaction, a random salt per event (``EventSalt``: the event is sealed as
      a salted commitment) and a ``data_use_restriction`` event per resident by the system,
      itself held back the same way, so the hold is recorded without tipping anyone off.

    Writes with one INSERT in the caller's transaction, and logs nothing. One event (one
    resident, or none) is a plain single-row INSERT; several are one ``bulk_create`` (SQLite
    splits it above 66 residents). Called outside a transaction on PostgreSQL, the INSERT gets a
    transaction of its own committed with ``synchronous_commit`` off, unless
    ``TRANSPARENCY_SYNCHRONOUS_EVENTS`` is set: the disk's flush (about 18 ms here, as long as
    the enforcement check itself) is not waited for, and a crash of the database server can lose
    at most the last few hundred milliseconds of such events, in order, never corrupting the log.
    """
    subjects, shared = event_fields(
        subject_resident_ids=subject_resident_ids,
        actor=actor,
        actor_kind=actor_kind,
        purpose=purpose,
        action=action,
        datasets=datasets,
        actor_label=actor_label,
        reference=reference,
        outcome=outcome,
        service=service,
        hidden_until=hidden_until,
        restriction_reason_code=restriction_reason_code,
    )
    if restriction_reason_code:
        shared["restriction_reason_code"] = restriction_reason_code
        shared["hidden_until"] = hidden_until
        return _record_restricted(subjects, shared)
    using = router.db_for_write(DataUseEvent)
    if commits_on_its_own(using):
        # Written on its own, outside any work's transaction: committed without waiting for the
        # disk (docs/data-use-log.md, "Durability").
        if len(subjects) <= 1:
            event = DataUseEvent(subject_resident_id=subjects[0] if subjects else "", **shared)
            _insert_one_unsynced(event, using)
            return [event]
        with transaction.atomic(using=using):
            with connections[using].cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            return _insert(subjects, shared)
    return _insert(subjects, shared)


def event_fields(
    *,
    subject_resident_ids: Iterable[str] | None,
    actor: User | None,
    actor_kind: str,
    purpose: str,
    action: str,
    datasets: Iterable[str],
    actor_label: str,
    reference: str,
    outcome: str,
    service: str | None,
    hidden_until: dt.date | None,
    restriction_reason_code: str,
) -> tuple[list[str], dict]:
    """``record_data_use``'s rules applied to one call: (the residents, the fields every event of
    the call shares, keyed as the model's fields). Raises ValueError or TypeError on a breach.
    ``subject_resident_ids=None``: the caller finds the resident in the database and checks the
    ID's shape there (``lookup_and_record_data_use``)."""
    spec = PURPOSES.get(purpose)
    if spec is None:
        raise ValueError(
            f"Unknown data-use purpose {purpose!r}. Add it to borough/transparency/purposes.py "
            f"with its lawful basis, or use one of: {', '.join(sorted(PURPOSES))}."
        )
    service = _service(service, spec.service, purpose)
    if action not in _ACTIONS:
        raise ValueError(f"Unknown action {action!r}. Use one of: {', '.join(Action.values)}.")
    actor_label = _actor(actor, actor_kind, actor_label)
    subjects = (
        []
        if subject_resident_ids is None
        else _subjects(subject_resident_ids, spec.needs_subject, purpose)
    )
    datasets_read = _codes(datasets)
    if reference and not REFERENCE.fullmatch(reference):
        raise ValueError(
            "reference must be an opaque identifier such as an application number: letters, "
            "digits and _ . / : - only, up to 64 characters, never personal data."
        )
    if outcome and not OUTCOME.fullmatch(outcome):
        raise ValueError('outcome must be a short lower-case code such as "verified".')
    _restriction(spec, hidden_until, restriction_reason_code)

    return subjects, {
        "action_id": uuid.uuid4(),
        "occurred_at": timezone.now(),
        "actor_kind": actor_kind,
        "actor_user": actor,
        "actor_label": actor_label,
        "service": service,
        "purpose": spec.code,
        "purpose_text": spec.description_for_residents,
        "lawful_basis": spec.basis.code,
        "lawful_basis_text": spec.basis.text(),
        "datasets_read": datasets_read,
        "action": action,
        "reference": reference,
        "outcome": outcome,
    }


def _insert_fields() -> list:
    """The columns every INSERT of an event names, in order: all but the generated ID."""
    meta = DataUseEvent._meta
    return [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]


#: Per database alias: ("INSERT INTO table (columns)", the fields in that order, each field's
#: PostgreSQL type for its parameter's cast).
_INSERT_PARTS: dict[str, tuple[str, list, list[str]]] = {}


def insert_parts(connection) -> tuple[str, list, list[str]]:
    built = _INSERT_PARTS.get(connection.alias)
    if built is None:
        meta = DataUseEvent._meta
        fields = _insert_fields()
        quote = connection.ops.quote_name
        # The model's own table, columns and types; the values are always parameters.
        columns = ", ".join(quote(f.column) for f in fields)
        built = _INSERT_PARTS[connection.alias] = (
            f"INSERT INTO {quote(meta.db_table)} ({columns})",
            fields,
            [f.db_type(connection) for f in fields],
        )
    return built


#: Per database alias: the one-statement INSERT that commits without waiting for the disk.
_UNSYNCED_INSERT: dict[str, tuple[str, list]] = {}

#: ``set_config(…, true)`` lasts until the end of the statement's own transaction.
UNSYNCED = "(SELECT set_config('synchronous_commit', 'off', true)) AS unsynced"


def _insert_one_unsynced(event: DataUseEvent, using: str) -> None:
    """INSERT one event outside a transaction as ONE statement that is its own transaction and
    sets ``synchronous_commit`` off for itself (``set_config(…, true)`` lasts until its commit):
    one round trip to PostgreSQL, its SQL built once per process."""
    connection = connections[using]
    built = _UNSYNCED_INSERT.get(using)
    if built is None:
        insert, fields, types = insert_parts(connection)
        values = ", ".join(f"%s::{db_type}" for db_type in types)
        pk = connection.ops.quote_name(DataUseEvent._meta.pk.column)
        sql = f"{insert} SELECT {values} FROM {UNSYNCED} RETURNING {pk}"  # noqa: S608
        built = _UNSYNCED_INSERT[using] = (sql, fields)
    sql, fields = built
    params = [f.get_db_prep_save(f.pre_save(event, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = using


def commits_on_its_own(using: str) -> bool:
    """Whether the event would be a transaction of its own on PostgreSQL, and the council has
    not asked every event to wait for the disk."""
    connection = connections[using]
    return (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and not getattr(settings, "TRANSPARENCY_SYNCHRONOUS_EVENTS", False)
    )


def _insert(subjects: list[str], shared: dict) -> list[DataUseEvent]:
    if len(subjects) <= 1:
        # The commonest call (an enforcement check, a verification): skip bulk_create's
        # machinery. A single statement is atomic on its own.
        event = DataUseEvent(subject_resident_id=subjects[0] if subjects else "", **shared)
        _insert_one(event)
        return [event]
    return DataUseEvent.objects.bulk_create(
        [DataUseEvent(subject_resident_id=subject, **shared) for subject in subjects]
    )


def _restriction(spec, hidden_until, reason: str) -> None:
    if not reason:
        if hidden_until is not None:
            raise ValueError(
                "hidden_until needs a restriction_reason_code: say why it is held back."
            )
        return
    if reason not in RESTRICTION_REASONS:
        raise ValueError(
            f"Unknown restriction_reason_code {reason!r}. Use one of: "
            f"{', '.join(RESTRICTION_REASONS)}."
        )
    if not spec.may_be_restricted:
        raise ValueError(
            f"Purpose {spec.code!r} may not be held back from residents. Only a purpose marked "
            "may_be_restricted in borough/transparency/purposes.py may be."
        )
    if hidden_until is not None:
        if isinstance(hidden_until, dt.datetime) or not isinstance(hidden_until, dt.date):
            raise TypeError("hidden_until must be a date (a UK calendar day), not a time.")
        if hidden_until <= timezone.localdate():
            raise ValueError("hidden_until must be a date after today.")


def _record_restricted(subjects: list[str], shared: dict) -> list[DataUseEvent]:
    """The held-back events, their salts and the system's record of the hold, atomically."""
    hold = {
        **shared,
        "action_id": uuid.uuid4(),
        "actor_kind": ActorKind.SYSTEM,
        "actor_user": None,
        "actor_label": "The data-use log",
        "service": "transparency",
        "purpose": PURPOSES["data_use_restriction"].code,
        "purpose_text": PURPOSES["data_use_restriction"].description_for_residents,
        "lawful_basis": PURPOSES["data_use_restriction"].basis.code,
        "lawful_basis_text": PURPOSES["data_use_restriction"].basis.text(),
        "datasets_read": ["data_use_log"],
        "action": Action.HELD_BACK,
        "reference": f"action:{shared['action_id']}",
        "outcome": "",
    }
    with transaction.atomic():
        events = DataUseEvent.objects.bulk_create(
            [DataUseEvent(subject_resident_id=s, **shared) for s in subjects or [""]]
        )
        holds = DataUseEvent.objects.bulk_create(
            [DataUseEvent(subject_resident_id=s, **hold) for s in subjects or [""]]
        )
        EventSalt.objects.bulk_create(
            [EventSalt(event_id=e.pk, salt=secrets.token_bytes(32)) for e in events + holds]
        )
    return events


def _insert_one(event: DataUseEvent) -> None:
    """INSERT one new event and set its primary key: what ``save`` does for a new row, without
    its signals (``bulk_create`` sent none either) and its update-or-insert machinery (an event
    is only ever inserted)."""
    meta = DataUseEvent._meta
    using = router.db_for_write(DataUseEvent)
    returned = DataUseEvent._base_manager._insert(
        [event],
        fields=_insert_fields(),
        returning_fields=meta.db_returning_fields,
        using=using,
    )
    if returned:
        for value, field in zip(returned[0], meta.db_returning_fields, strict=True):
            setattr(event, field.attname, value)
    event._state.adding = False
    event._state.db = using


def _service(service: str | None, purpose_service: str | None, purpose: str) -> str:
    if service is None:
        if purpose_service is None:
            raise ValueError(
                f"Purpose {purpose!r} is used by several services: say which with service=, "
                f"one of {', '.join(SERVICES)}."
            )
        return purpose_service
    if service not in SERVICES:
        raise ValueError(f"Unknown service {service!r}. Use one of: {', '.join(SERVICES)}.")
    if purpose_service is not None and service != purpose_service:
        raise ValueError(
            f"Purpose {purpose!r} belongs to the {purpose_service!r} service, not {service!r}."
        )
    return service


def _actor(actor: User | None, actor_kind: str, actor_label: str) -> str:
    if actor_kind not in _ACTOR_KINDS:
        raise ValueError(
            f"Unknown actor_kind {actor_kind!r}. Use one of: {', '.join(ActorKind.values)}."
        )
    if len(actor_label) > 120:
        raise ValueError("actor_label must be at most 120 characters.")
    if actor_kind in MACHINE_ACTORS:
        if actor is not None:
            raise ValueError(
                f"A {actor_kind} actor is not a person: pass actor=None and say what it is in "
                "actor_label."
            )
        if not actor_label.strip():
            raise ValueError(
                f"A {actor_kind} actor needs an actor_label, such as 'Parking permits service'."
            )
        return actor_label.strip()
    wanted = AccountKind.STAFF if actor_kind == ActorKind.STAFF else AccountKind.RESIDENT
    if actor is None or getattr(actor, "kind", None) != wanted:
        raise ValueError(f"A {actor_kind} actor needs actor= a {wanted.label.lower()} account.")
    return actor_label.strip() or DEFAULT_LABELS[actor_kind]


def _subjects(ids: Iterable[str], needs_subject: bool, purpose: str) -> list[str]:
    if isinstance(ids, str):
        # A bare string would otherwise be read one character at a time.
        raise TypeError("subject_resident_ids must be a list of resident IDs, not one string.")
    given = list(ids)
    for position, subject in enumerate(given):
        if not isinstance(subject, str) or not RESIDENT_ID.fullmatch(subject):
            raise ValueError(
                f"subject_resident_ids[{position}] is not a resident ID (letters, digits and "
                "_ . : - only, up to 40 characters)."
            )
    subjects = list(dict.fromkeys(given))
    if not subjects and needs_subject:
        raise ValueError(
            f"Purpose {purpose!r} must name the residents whose data was used "
            "(subject_resident_ids is empty)."
        )
    if len(subjects) > MAX_SUBJECTS:
        raise ValueError(
            f"{len(subjects):,} residents in one call: record at most {MAX_SUBJECTS:,} at a time."
        )
    return subjects


def _codes(datasets: Iterable[str]) -> list[str]:
    if isinstance(datasets, str):
        raise TypeError("datasets must be a list of dataset codes, not one string.")
    given = list(datasets)
    for position, code in enumerate(given):
        if not isinstance(code, str) or not DATASET_CODE.fullmatch(code):
            raise ValueError(
                f"datasets[{position}] is not a dataset code: lower-case letters, digits and _ "
                'only, such as "council_tax".'
            )
    return list(dict.fromkeys(given))
