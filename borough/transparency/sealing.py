"""Sealing the data-use log into a Merkle tree and signing checkpoints of it.

``seal()`` takes the events not yet sealed, in ID order, gives each the next position, stores
the hash of its leaf (``SealedLeaf``) and the hash tiles it completed (``tiles.store_tiles``;
tiles of a log sealed before they were stored first, in batches: ``store_missing_tiles``),
carries the tree's right edge forward from the last checkpoint (never rehashing the log) and
stores a signed checkpoint (``LogCheckpoint``). It runs outside the request path:
``borough transparency seal --every 5``.

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

import base64
import functools
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime

from django.db import connection, transaction

from borough.transparency import merkle, tiles
from borough.transparency.checkpoint import (
    Checkpoint,
    NoteError,
    Signer,
    load_signer,
    log_origin,
    open_checkpoint,
    sign_checkpoint,
)
from borough.transparency.models import DataUseEvent, EventSalt, LogCheckpoint, SealedLeaf

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
    "restriction_reason_code",
    "hidden_until",
)
#: How many of a row's values ``leaf_bytes`` reads for an ordinary (version 1) leaf.
V1_COLUMNS = 16
#: Most events one checkpoint covers, so a verifier's memory between checkpoints is bounded.
MAX_EVENTS_PER_CHECKPOINT = 50_000
#: How far below the highest sealed event ID a seal looks for events committed late (a
#: transaction that took its ID before another's but committed after it was sealed).
LATE_COMMIT_LOOKBACK = 10_000
ADVISORY_LOCK = 0x626F726F  # "boro"
#: Most tiles ``store_missing_tiles`` stores in one transaction: 1,024 level-0 tiles are 262,144
#: leaf hashes read, a second or two holding the sealer's lock.
TILES_PER_TRANSACTION = 1024

#: ``occurred_at`` as ``format_time`` writes it, by PostgreSQL (``select_events``, ``leaf_sql``).
#: ``to_char`` drops the era, so a time before year 1 (or an infinite one) is sent as its plain
#: ``::text`` ("… BC", "infinity"): never a canonical time, so never the sealed leaf's.
OCCURRED_AT_SQL = (
    "CASE WHEN e.occurred_at >= '0001-01-01 00:00:00+00' AND e.occurred_at < 'infinity' "
    "THEN to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "
    "ELSE e.occurred_at::text END"
)

_dumps = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
# The string escaper json.dumps(ensure_ascii=False) itself uses (C when available).
_string = json.encoder.encode_basestring


def is_restricted(row: tuple) -> bool:
    return len(row) > V1_COLUMNS and bool(row[V1_COLUMNS])


def leaf_dict(position: int, row: tuple) -> dict:
    """The body of the event ``row`` at ``position`` as a dict (the definition; see below).

    An ordinary event's body is its leaf. A restricted event's body has two more keys,
    ``restriction_reason_code`` and ``hidden_until`` (``YYYY-MM-DD`` or null), and its leaf is
    a salted commitment to the body (``restricted_leaf``).
    """
    keys = ("action", "action_id", "actor_kind", "actor_label", "actor_user", "datasets_read")
    keys += ("lawful_basis", "lawful_basis_text", "occurred_at", "outcome", "purpose")
    keys += ("purpose_text", "reference", "service", "subject_resident_id")
    leaf = dict(zip(keys, row[1:V1_COLUMNS], strict=True))
    if is_restricted(row):
        leaf["restriction_reason_code"] = row[V1_COLUMNS]
        leaf["hidden_until"] = row[V1_COLUMNS + 1]
    leaf["position"] = position
    leaf["v"] = LEAF_VERSION
    return leaf


def body_bytes(position: int, row: tuple) -> bytes:
    """The canonical JSON of ``leaf_dict``: an ordinary event's leaf, a restricted one's body."""
    if is_restricted(row):
        return _dumps(leaf_dict(position, row)).encode()
    return leaf_bytes(position, row[:V1_COLUMNS])


def restricted_leaf(salt: bytes, body: bytes) -> bytes:
    """A restricted event's leaf: ``{"commitment":"<base64 SHA-256(salt ‖ body)>","v":2}``.

    Without the 32-byte random salt it says nothing of the body, even of one an outsider could
    guess field by field; with the salt (given to the resident on release) anyone can check it.
    """
    if len(salt) != 32:
        raise ValueError("a restricted event's salt is 32 bytes")
    digest = base64.b64encode(hashlib.sha256(salt + body).digest()).decode()
    return f'{{"commitment":"{digest}","v":2}}'.encode()


def leaf_bytes(position: int, row: tuple, salt: bytes | None = None) -> bytes:
    """The leaf of the event ``row`` sealed at ``position``: ``_dumps(leaf_dict(…))`` for an
    ordinary event, ``restricted_leaf(salt, body_bytes(…))`` for a restricted one.

    ``row`` holds the ``EVENT_COLUMNS`` as ``event_rows`` reads them: ``action_id`` and
    ``occurred_at`` already as their canonical strings, ``datasets_read`` as a list. This writes
    the same bytes as ``_dumps(leaf_dict(position, row))`` (a test holds it to that) through
    ``v1_leaf``.
    """
    if len(row) > V1_COLUMNS:
        if row[V1_COLUMNS]:
            if salt is None and len(row) > V1_COLUMNS + 2:
                salt = row[V1_COLUMNS + 2]
            if salt is None:
                raise ValueError("a restricted event's leaf needs its salt")
            return restricted_leaf(salt, body_bytes(position, row))
        row = row[:V1_COLUMNS]
    return v1_leaf(position, row, datasets_fragment(row[6]))


def datasets_fragment(datasets_read) -> str:
    """``datasets_read`` as it stands in a leaf: a list of strings written by hand (the common
    case), anything else by the canonical encoder."""
    if type(datasets_read) is list and all(type(d) is str for d in datasets_read):
        return "[" + ",".join(map(_string, datasets_read)) + "]"
    return _dumps(datasets_read)


@functools.lru_cache(maxsize=4096)
def datasets_fragment_of_text(text: str) -> str:
    """``datasets_fragment`` of ``datasets_read`` as PostgreSQL sends it (``jsonb::text``). A log
    holds few distinct lists, so each is decoded and written once."""
    return datasets_fragment(json.loads(text))


@functools.lru_cache(maxsize=4096)
def _leaf_frame(
    action: str,
    actor_kind: str,
    actor_label: str,
    datasets: str,
    lawful_basis: str,
    lawful_basis_text: str,
    outcome: str,
    purpose: str,
    purpose_text: str,
    service: str,
) -> tuple[bytes, ...]:
    """The bytes of a leaf around its six per-event values, for the values a log repeats from
    event to event (a service's texts): built once per distinct set, not once per event."""
    e = _string
    return tuple(
        part.encode()
        for part in (
            f'{{"action":{e(action)},"action_id":',
            f',"actor_kind":{e(actor_kind)},"actor_label":{e(actor_label)},"actor_user":',
            f',"datasets_read":{datasets},"lawful_basis":{e(lawful_basis)},'
            f'"lawful_basis_text":{e(lawful_basis_text)},"occurred_at":',
            f',"outcome":{e(outcome)},"position":',
            f',"purpose":{e(purpose)},"purpose_text":{e(purpose_text)},"reference":',
            f',"service":{e(service)},"subject_resident_id":',
            f',"v":{LEAF_VERSION}}}',
        )
    )


def v1_leaf(position: int, row: tuple, datasets: str) -> bytes:
    """An ordinary event's leaf from ``row`` (``EVENT_COLUMNS`` order, as ``leaf_bytes`` takes
    it; only its first 16 values are read) with ``datasets`` its ``datasets_fragment``. The one
    place the leaf's bytes are written: the keys' order is fixed by hand, the repeated values
    escaped once (``_leaf_frame``) and only the per-event strings escaped here, because
    verifying ten million events spends most of its time here."""
    frame = _leaf_frame(
        row[1], row[3], row[4], datasets, row[7], row[8], row[10], row[11], row[12], row[14]
    )
    e = _string
    user = b"null" if row[5] is None else str(int(row[5])).encode()
    return b"".join(
        (
            frame[0],
            e(row[2]).encode(),
            frame[1],
            user,
            frame[2],
            e(row[9]).encode(),
            frame[3],
            str(int(position)).encode(),
            frame[4],
            e(row[13]).encode(),
            frame[5],
            e(row[15]).encode(),
            frame[6],
        )
    )


def event_leaf_hash(position: int, row: tuple, salt: bytes | None = None) -> bytes:
    return merkle.leaf_hash(leaf_bytes(position, row, salt))


def format_time(moment: datetime) -> str:
    """``occurred_at`` in a leaf: UTC, always six fractional digits, a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def select_events(
    where: str, *, limit: bool = True, salt: bool = False, leaf: str | None = None
) -> str:
    """SELECT of ``EVENT_COLUMNS``, the database doing what conversion it can; ``LIMIT %s``
    unless ``limit`` is false. With ``salt`` (PostgreSQL), a restricted event's salt after them
    (NULL for an ordinary event), looked up only for the restricted ones; with ``leaf`` too, the
    event's sealed position and leaf hash last (NULL if it has none), ``leaf`` the condition on
    the leaves (alias ``l``) that the join scans, as ``where`` limits the events."""
    table = DataUseEvent._meta.db_table
    columns = [f"e.{c}" for c in EVENT_COLUMNS]
    if connection.vendor == "postgresql":
        columns[EVENT_COLUMNS.index("action_id")] = "e.action_id::text"
        columns[EVENT_COLUMNS.index("datasets_read")] = "e.datasets_read::text"
        columns[EVENT_COLUMNS.index("occurred_at")] = OCCURRED_AT_SQL
        columns[EVENT_COLUMNS.index("hidden_until")] = "e.hidden_until::text"
    if salt:
        salts = EventSalt._meta.db_table
        lookup = f"SELECT s.salt FROM {salts} s WHERE s.event_id = e.id"  # noqa: S608
        columns.append(f"CASE WHEN e.restriction_reason_code <> '' THEN ({lookup}) END")
    join = ""
    if leaf is not None:
        columns += ["l.position", "l.leaf_hash"]
        join = f" LEFT JOIN {SealedLeaf._meta.db_table} l ON l.event_id = e.id AND {leaf}"
    columns = ", ".join(columns)
    sql = f"SELECT {columns} FROM {table} e{join} WHERE {where} ORDER BY e.id"  # noqa: S608
    return f"{sql} LIMIT %s" if limit else sql


@functools.lru_cache(maxsize=4096)
def _datasets(text: str) -> list:
    """``datasets_read`` decoded. A log holds few distinct lists, so each is decoded once (a
    quarter of verify's time went to decoding them). The list is shared: never change it."""
    return json.loads(text)


def normalise_stored(row: tuple) -> tuple:
    """One row of ``select_events(…, salt=True)`` on PostgreSQL to the form ``leaf_bytes`` takes,
    its salt last."""
    return (*row[:6], _datasets(row[6]), *row[7:])


def _normalise(rows: list[tuple], salts: dict[int, bytes]) -> list[tuple]:
    """Raw rows to the form ``leaf_bytes`` takes (SQLite stores UUIDs as hex, times as text),
    each with its salt (None for an ordinary event) last."""
    loads = _datasets
    out = []
    if connection.vendor == "postgresql":
        for r in rows:
            out.append((*r[:6], loads(r[6]), *r[7:], salts.get(r[0])))
        return out
    for r in rows:
        u, t = r[2], r[9]
        if len(u) == 32:
            u = f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}"
        if isinstance(t, str):  # "YYYY-MM-DD HH:MM:SS[.ffffff]", naive UTC
            t = f"{t[:10]}T{t[11:19]}.{t[20:26].ljust(6, '0')}Z"
        elif t.tzinfo is None:  # Django's sqlite3 converter parsed it; still naive UTC
            t = t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        else:
            t = format_time(t)
        until = r[17]
        if until is not None and not isinstance(until, str):
            until = until.isoformat()
        out.append((*r[:2], u, *r[3:6], loads(r[6]), *r[7:9], t, *r[10:17], until, salts.get(r[0])))
    return out


def _salts(rows: list[tuple]) -> dict[int, bytes]:
    """The salts of the restricted events among ``rows`` (rare: read only when there are any)."""
    restricted = [r[0] for r in rows if r[V1_COLUMNS]]
    if not restricted:
        return {}
    found = EventSalt.objects.filter(event_id__gte=restricted[0], event_id__lte=restricted[-1])
    return {pk: bytes(salt) for pk, salt in found.values_list("event_id", "salt")}


def event_rows(where: str, params: list, limit: int) -> list[tuple]:
    """Up to ``limit`` events matching the SQL ``where`` (table alias ``e``), in ID order."""
    with connection.cursor() as cursor:
        cursor.execute(select_events(where), [*params, limit])
        rows = cursor.fetchall()
    return _normalise(rows, _salts(rows))


def events_in_id_order(
    after: int = 0, batch: int = 10_000, upto: int | None = None
) -> Iterator[tuple]:
    """Every event with ID above ``after`` (and at most ``upto``), in ID order, in batches."""
    while True:
        if upto is None:
            rows = event_rows("e.id > %s", [after], batch)
        else:
            rows = event_rows("e.id > %s AND e.id <= %s", [after, upto], batch)
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
    leaves = SealedLeaf._meta.db_table
    return event_rows(
        f"e.id > %s AND NOT EXISTS (SELECT 1 FROM {leaves} l WHERE l.event_id = e.id)",  # noqa: S608
        [last_event_id - LATE_COMMIT_LOOKBACK],
        limit,
    )


def _insert_leaves(leaves: list[tuple[int, int, bytes]]) -> None:
    """INSERT the (position, event ID, leaf hash) rows: one statement on PostgreSQL."""
    table = SealedLeaf._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            positions, event_ids, hashes = zip(*leaves, strict=True)
            cursor.execute(
                f"INSERT INTO {table} (position, event_id, leaf_hash) "  # noqa: S608
                "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bytea[])",
                [list(positions), list(event_ids), list(hashes)],
            )
        else:
            cursor.executemany(
                f"INSERT INTO {table} (position, event_id, leaf_hash) VALUES (%s, %s, %s)",  # noqa: S608
                leaves,
            )


class SealRefused(Exception):
    """The last checkpoint does not hold together: sealing on would extend a tree that is not
    the signed one."""


def _check_latest(latest: LogCheckpoint, tree: merkle.CompactRange, signer: Signer, origin: str):
    """The stored right edge must give the checkpoint's root, and its signed note must say that
    size and root: otherwise the checkpoint row was changed after it was signed (the log's
    tables refuse UPDATE, so only someone who got past the database's own rules could have)."""
    problem = ""
    if tree.root() != bytes(latest.root_hash):
        problem = "its stored right edge does not give its root hash"
    else:
        try:
            signed = open_checkpoint(latest.note, signer.verifier(), origin)
        except NoteError as error:
            problem = f"its signed note does not verify ({error})"
        else:
            if (signed.size, signed.root) != (latest.size, bytes(latest.root_hash)):
                problem = "its signed note gives another size or root hash"
    if problem:
        raise SealRefused(
            f"Not sealing: the last checkpoint (size {latest.size}) does not hold together: "
            f"{problem}. Run `borough transparency verify` to find what changed."
        )


def store_missing_tiles(
    *, signer: Signer | None = None, origin: str | None = None, batch: int | None = None
) -> int:
    """Store the tiles of the sealed log that are not stored yet, ``batch`` tiles (default
    ``TILES_PER_TRANSACTION``) a transaction, each under the sealer's lock; the number stored.

    Only a log sealed before tiles were stored (migration 0012) has any: about 39,000 tiles at
    10,000,000 events, a minute's work that one transaction would hold the lock through. Each
    batch commits a correct prefix of each level (``tiles.store_tiles``), so a crash part-way
    loses only its own batch and the next seal carries on. After that, each seal stores the
    tiles it completes in its own transaction, and this finds nothing to do. Like a seal, a
    batch first checks that the last checkpoint holds together (``SealRefused`` if not)."""
    signer = signer or load_signer()
    origin = origin or log_origin()
    batch = batch or TILES_PER_TRANSACTION
    made = 0
    while True:
        with transaction.atomic():
            _lock()
            latest = latest_checkpoint()
            if latest is None:
                return made
            tree = merkle.CompactRange.from_bytes(latest.size, bytes(latest.compact_range))
            _check_latest(latest, tree, signer, origin)
            stored = tiles.store_tiles(latest.size, limit=batch)
        made += stored
        if stored < batch:
            return made


def seal(
    *,
    signer: Signer | None = None,
    origin: str | None = None,
    limit: int = MAX_EVENTS_PER_CHECKPOINT,
) -> LogCheckpoint | None:
    """Seal up to ``limit`` unsealed events and sign a checkpoint; None if there were none.
    Tiles the log lacks from before they were stored are stored first, in batches of their own
    (``store_missing_tiles``); the tiles this seal completes go in its own transaction."""
    signer = signer or load_signer()
    origin = origin or log_origin()
    store_missing_tiles(signer=signer, origin=origin)
    with transaction.atomic():
        _lock()
        latest = latest_checkpoint()
        if latest is None:
            tree, last_event_id = merkle.CompactRange(), 0
        else:
            tree = merkle.CompactRange.from_bytes(latest.size, bytes(latest.compact_range))
            _check_latest(latest, tree, signer, origin)
            last_event_id = latest.last_event_id
        rows = _unsealed(last_event_id, limit)
        if not rows:
            return None
        leaves = []
        for row in rows:
            h = event_leaf_hash(tree.size, row)
            leaves.append((tree.size, row[0], h))
            tree.append(h)
        _insert_leaves(leaves)
        tiles.store_tiles(tree.size)  # the public tiles this seal completed, never recomputed
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
