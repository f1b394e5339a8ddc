"""Sealing the data-use log into a Merkle tree and signing checkpoints of it.

``seal()`` takes the events not yet sealed, in ID order, gives each the next position, stores
the hash of its leaf (``SealedLeaf``), carries the tree's right edge forward from the last
checkpoint (never rehashing the log) and stores a signed checkpoint (``LogCheckpoint``). It runs
outside the request path: ``borough transparency seal --every 5``.

The leaf of an event is ``leaf_bytes``: canonical JSON (keys sorted, no whitespace, UTF-8) of

    {"v": 1, "position": <its position>, <every stored field but the database ID>}

with ``occurred_at`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, ``action_id`` as a hyphenated
lower-case UUID, ``actor_user`` as the account's number or null, ``datasets_read`` as the stored
list. The position is inside the leaf so that moving a leaf to another place changes its hash.
``docs/data-use-log.md`` has the same description for anyone recomputing it.

Two sealers never give one position twice: on PostgreSQL a transaction-level advisory lock
serialises them; on SQLite writers are serialised anyway and the position is the primary key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC

from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from borough.transparency import merkle
from borough.transparency.checkpoint import (
    Checkpoint,
    Signer,
    load_signer,
    log_origin,
    sign_checkpoint,
)
from borough.transparency.models import DataUseEvent, LogCheckpoint, SealedLeaf

LEAF_VERSION = 1
#: The event's columns in a leaf, in ``values_list`` order; the ID comes first and is left out.
EVENT_COLUMNS = (
    "id",
    "action",
    "action_id",
    "actor_kind",
    "actor_label",
    "actor_user_id",
    "datasets_read",
    "lawful_basis",
    "lawful_basis_text",
    "occurred_at",
    "outcome",
    "purpose",
    "purpose_text",
    "reference",
    "service",
    "subject_resident_id",
)
#: Most events one checkpoint covers, so a verifier's memory between checkpoints is bounded.
MAX_EVENTS_PER_CHECKPOINT = 50_000
#: How far below the highest sealed event ID a seal looks for events committed late (a
#: transaction that took its ID before another's but committed after it was sealed).
LATE_COMMIT_LOOKBACK = 10_000
ADVISORY_LOCK = 0x626F726F  # "boro"

_dumps = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def leaf_bytes(position: int, row: tuple) -> bytes:
    """The leaf of the event ``row`` (``EVENT_COLUMNS`` values) sealed at ``position``."""
    (
        _id,
        action,
        action_id,
        actor_kind,
        actor_label,
        actor_user_id,
        datasets_read,
        lawful_basis,
        lawful_basis_text,
        occurred_at,
        outcome,
        purpose,
        purpose_text,
        reference,
        service,
        subject_resident_id,
    ) = row
    return _dumps(
        {
            "action": action,
            "action_id": str(action_id),
            "actor_kind": actor_kind,
            "actor_label": actor_label,
            "actor_user": actor_user_id,
            "datasets_read": datasets_read,
            "lawful_basis": lawful_basis,
            "lawful_basis_text": lawful_basis_text,
            "occurred_at": occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "outcome": outcome,
            "position": position,
            "purpose": purpose,
            "purpose_text": purpose_text,
            "reference": reference,
            "service": service,
            "subject_resident_id": subject_resident_id,
            "v": LEAF_VERSION,
        }
    ).encode()


def event_leaf_hash(position: int, row: tuple) -> bytes:
    return merkle.leaf_hash(leaf_bytes(position, row))


def events_in_id_order(after: int = 0, batch: int = 10_000) -> Iterator[tuple]:
    """Every event's ``EVENT_COLUMNS`` with ID above ``after``, in ID order, read in batches."""
    while True:
        rows = list(
            DataUseEvent.objects.filter(id__gt=after)
            .order_by("id")
            .values_list(*EVENT_COLUMNS)[:batch]
        )
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1][0]


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])


def latest_checkpoint() -> LogCheckpoint | None:
    return LogCheckpoint.objects.order_by("-size").first()


def _unsealed(last_event_id: int, limit: int) -> list[tuple]:
    sealed = SealedLeaf.objects.filter(event_id=OuterRef("id"))
    return list(
        DataUseEvent.objects.filter(id__gt=last_event_id - LATE_COMMIT_LOOKBACK)
        .filter(~Exists(sealed))
        .order_by("id")
        .values_list(*EVENT_COLUMNS)[:limit]
    )


def seal(
    *,
    signer: Signer | None = None,
    origin: str | None = None,
    limit: int = MAX_EVENTS_PER_CHECKPOINT,
) -> LogCheckpoint | None:
    """Seal up to ``limit`` unsealed events and sign a checkpoint; None if there were none."""
    signer = signer or load_signer()
    origin = origin or log_origin()
    with transaction.atomic():
        _lock()
        latest = latest_checkpoint()
        if latest is None:
            tree, last_event_id = merkle.CompactRange(), 0
        else:
            tree = merkle.CompactRange.from_bytes(latest.size, bytes(latest.compact_range))
            last_event_id = latest.last_event_id
        rows = _unsealed(last_event_id, limit)
        if not rows:
            return None
        leaves = []
        for row in rows:
            h = event_leaf_hash(tree.size, row)
            leaves.append(SealedLeaf(position=tree.size, event_id=row[0], leaf_hash=h))
            tree.append(h)
        SealedLeaf.objects.bulk_create(leaves, batch_size=2_000)
        root = tree.root()
        note = sign_checkpoint(Checkpoint(origin, tree.size, root), signer)
        return LogCheckpoint.objects.create(
            size=tree.size,
            root_hash=root,
            compact_range=tree.to_bytes(),
            note=note,
            last_event_id=max(last_event_id, rows[-1][0]),
        )


def seal_all(**kwargs) -> list[LogCheckpoint]:
    """Seal until no event is left unsealed; the checkpoints made, oldest first."""
    made = []
    while (checkpoint := seal(**kwargs)) is not None:
        made.append(checkpoint)
    return made
