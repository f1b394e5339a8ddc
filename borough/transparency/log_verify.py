"""Checking the data-use log against its Merkle tree and signed checkpoints.

``verify_log()`` makes two streaming passes, neither holding the log in memory:

1. events (in ID order) against sealed leaves (in event-ID order), a merge on the event ID: an
   event whose recomputed leaf differs from its sealed leaf hash was **altered** (or moved); a
   sealed leaf without its event was **removed**, unless retention purged it (a tombstone in
   ``PurgedEvent``: counted as **purged**, its leaf hash still checked in pass 2); an event
   without a leaf below the highest sealed event ID was **inserted** after sealing (or, for a
   second or two, committed late and not sealed yet).
2. leaves in position order against checkpoints in size order: positions run 0, 1, 2, … without
   a gap; the tree rebuilt from the leaves has each checkpoint's root and right edge; each
   checkpoint's note carries a good signature by the log's key, names the log's origin and says
   that size and root; each checkpoint is consistent with the next. Two checkpoints whose roots
   are both the rebuilt tree's are consistent by construction; after one that did not match (the
   tree then carries on from its stored right edge) an RFC 9162 consistency proof, built from
   that right edge and the leaves between, is checked. Every stored tile (``LogTile``) is
   recomputed from the same leaves on the way and compared (``tile_verify``): a changed one is
   named by its level and index.

Problems come back in event-ID order for pass 1, then pass 2's, each with the position and event
ID (or the tile) where known.

On PostgreSQL each pass is one REPEATABLE READ, read-only transaction. Pass 1 reads the sealed
leaves whose events are gone (an anti-join), counts the events, and then joins every event to its
leaf (a merge join on the event ID) with PostgreSQL hashing each ordinary event's leaf itself
(``leaf_sql.leaf_hash_sql``) and comparing it with the sealed hash: only the events it cannot
vouch for (no leaf, restricted, an unusual ``datasets_read``, a hash that differs) come to Python
through a server-side cursor, and Python recomputes each and decides. ``leaf_sql``'s docstring
argues why a match there is a match in Python. Pass 2 reads the leaf hashes ``CHUNK`` positions a
query as one ``bytea`` and adds them to the tree a perfect subtree at a time. SQLite reads in
batches, merges in Python, and Python writes and hashes every leaf.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, connections, transaction
from django.db.models import Max

from borough.transparency import merkle
from borough.transparency.checkpoint import (
    Checkpoint,
    NoteError,
    Verifier,
    load_verifier,
    log_origin,
    open_checkpoint,
)
from borough.transparency.leaf_sql import leaf_hash_sql
from borough.transparency.models import DataUseEvent, LogCheckpoint, PurgedEvent, SealedLeaf
from borough.transparency.sealing import (
    V1_COLUMNS,
    datasets_fragment_of_text,
    event_leaf_hash,
    events_in_id_order,
    is_restricted,
    normalise_stored,
    select_events,
    v1_leaf,
)
from borough.transparency.tile_verify import TileCheck

BATCH = 20_000
#: Rows a FETCH from a server-side cursor brings (PostgreSQL).
FETCH = 10_000
#: Leaf positions pass 2 reads in one query on PostgreSQL (2 MB of hashes).
CHUNK = 65_536
HASH = merkle.HASH_SIZE


@dataclass(frozen=True)
class Problem:
    kind: str  # altered, removed, inserted, leaves, checkpoint, tile
    message: str
    position: int | None = None
    event_id: int | None = None
    tile: tuple[int, int] | None = None  # (level, index) of a stored tile

    def __str__(self) -> str:
        where = []
        if self.position is not None:
            where.append(f"position {self.position}")
        if self.event_id is not None:
            where.append(f"event {self.event_id}")
        if self.tile is not None:
            where.append(f"tile {self.tile[0]}/{self.tile[1]}")
        return f"{self.kind}: {', '.join(where)}: {self.message}" if where else self.message


@dataclass
class Report:
    events: int = 0
    leaves: int = 0
    checkpoints: int = 0
    unsealed: int = 0
    #: Restricted events left unchecked because the verifier was run without their salts.
    unchecked_restricted: int = 0
    #: Sealed events whose bodies retention purged (tombstoned): their leaves still count.
    purged: int = 0
    #: Stored tiles recomputed from the leaves and compared (``tile_verify``).
    tiles: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _upto(upto: int | None) -> dict:
    return {} if upto is None else {"event_id__lte": upto}


def _leaves_by_event(after: int = -1, upto: int | None = None) -> Iterator[tuple[int, int, bytes]]:
    while True:
        rows = list(
            SealedLeaf.objects.filter(event_id__gt=after, **_upto(upto))
            .order_by("event_id")
            .values_list("event_id", "position", "leaf_hash")[:BATCH]
        )
        for event_id, position, h in rows:
            yield event_id, position, bytes(h)
        if len(rows) < BATCH:
            return
        after = rows[-1][0]


def _purged_event_ids(after: int = -1, upto: int | None = None) -> Iterator[int]:
    while True:
        ids = list(
            PurgedEvent.objects.filter(event_id__gt=after, **_upto(upto))
            .order_by("event_id")
            .values_list("event_id", flat=True)[:BATCH]
        )
        yield from ids
        if len(ids) < BATCH:
            return
        after = ids[-1]


def _leaf_runs() -> Iterator[tuple[int, list[bytes]]]:
    """The sealed leaf hashes in position order, as runs ``(first position, [hashes])`` of
    consecutive positions. On PostgreSQL each run is one query's ``string_agg`` of ``CHUNK``
    positions (a 2 MB ``bytea`` sliced into hashes, not 65,536 rows); a range with a position
    missing or a hash not 32 bytes long is read row by row instead, one run a row, so the tree
    reports it exactly as it would any other. SQLite reads rows in batches, one run a row."""
    table = SealedLeaf._meta.db_table
    if connection.vendor != "postgresql":
        after = -1
        while True:
            rows = list(
                SealedLeaf.objects.filter(position__gt=after)
                .order_by("position")
                .values_list("position", "leaf_hash")[:BATCH]
            )
            for position, h in rows:
                yield position, [bytes(h)]
            if len(rows) < BATCH:
                return
            after = rows[-1][0]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(position), max(position) FROM {table}")  # noqa: S608
        low, high = cursor.fetchone()
        if low is None:
            return
        for start in range(min(low, 0), high + 1, CHUNK):
            stop = min(start + CHUNK, high + 1)
            cursor.execute(
                "SELECT count(*), bool_and(octet_length(leaf_hash) = 32), "  # noqa: S608
                f"string_agg(leaf_hash, ''::bytea ORDER BY position) FROM {table} "
                "WHERE position >= %s AND position < %s",
                [start, stop],
            )
            count, whole, data = cursor.fetchone()
            if count == stop - start and whole:
                data = bytes(data)
                yield start, [data[i : i + HASH] for i in range(0, len(data), HASH)]
                continue
            cursor.execute(
                f"SELECT position, leaf_hash FROM {table} "  # noqa: S608
                "WHERE position >= %s AND position < %s ORDER BY position",
                [start, stop],
            )
            for position, h in cursor.fetchall():
                yield position, [bytes(h)]


def _leaf_matches(position: int, event: tuple, sealed: bytes) -> bool:
    try:
        return event_leaf_hash(position, event) == sealed
    except ValueError:  # a restricted event whose salt is gone
        return False


_sha256 = hashlib.sha256


def _stored_leaf_matches(position: int, row: tuple, sealed: bytes) -> bool:
    """``_leaf_matches`` for a row as PostgreSQL streams it (``select_events(…, salt=True)``):
    ``datasets_read`` still JSON text, the salt last. An ordinary event's leaf is written
    straight from the row; only a restricted one is normalised first."""
    if row[V1_COLUMNS]:
        return _leaf_matches(position, normalise_stored(row), sealed)
    leaf = v1_leaf(position, row, datasets_fragment_of_text(row[6]))
    return _sha256(b"\x00" + leaf).digest() == sealed


_cursor_names = itertools.count()


def _stream(sql: str, params: list) -> Iterator[tuple]:
    """The rows of ``sql`` through a server-side cursor (PostgreSQL): one query in the
    transaction's snapshot, ``FETCH`` rows a round trip, never the whole result in memory."""
    connection.ensure_connection()
    name = f"borough_verify_{next(_cursor_names)}"
    with connection.connection.cursor(name=name) as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH):
            yield from rows


@contextmanager
def _one_snapshot() -> Iterator[None]:
    """On PostgreSQL, read inside one REPEATABLE READ, READ ONLY transaction, so a pass sees the
    log as of one moment (never half of a seal committed meanwhile); server-side cursors need a
    transaction anyway. Inside a transaction already (or on SQLite), reads in that one."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            # The events' query is costed high (a salt's look-up per row), which would have
            # PostgreSQL compile it with JIT first: seconds of CPU for no gain in a plain scan.
            cursor.execute("SET LOCAL jit = off")
        yield


def _check_events_joined(
    report: Report, limit: int, salts: bool, ids: tuple[int, int | None]
) -> None:
    """Pass 1 on PostgreSQL: the sealed leaves whose events are gone (purged or removed), then
    each event with its sealed leaf (a merge join on the event ID) in one stream."""
    after, upto = ids
    params = [after] if upto is None else [after, upto]

    def where(column: str) -> str:
        return f"{column} > %s" + ("" if upto is None else f" AND {column} <= %s")

    last = LogCheckpoint.objects.order_by("-size").values_list("last_event_id", flat=True)
    highest_sealed = last.first() or 0
    leaves, purged, events = (
        SealedLeaf._meta.db_table,
        PurgedEvent._meta.db_table,
        DataUseEvent._meta.db_table,
    )
    found: list[Problem] = []
    for event_id, position, tombstoned in _stream(
        f"SELECT l.event_id, l.position, "  # noqa: S608 (model tables)
        f"EXISTS (SELECT 1 FROM {purged} p WHERE p.event_id = l.event_id) "
        f"FROM {leaves} l WHERE {where('l.event_id')} "
        f"AND NOT EXISTS (SELECT 1 FROM {events} e WHERE e.id = l.event_id) ORDER BY l.event_id",
        params,
    ):
        report.leaves += 1
        if tombstoned:
            report.purged += 1
        elif len(found) < limit:
            found.append(
                Problem(
                    "removed", "a sealed event is missing", position=position, event_id=event_id
                )
            )
    # PostgreSQL hashes each ordinary event's leaf itself (``leaf_sql``) and sends only the events
    # it could not vouch for: no leaf, a restricted one, an unusual ``datasets_read``, or a hash
    # that differs. Python recomputes each of those and decides. The events it vouched for are
    # counted apart, in the same snapshot.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {events} e WHERE {where('e.id')}", params)  # noqa: S608
        (total,) = cursor.fetchone()
    doubtful = f"{where('e.id')} AND ({leaf_hash_sql()} = l.leaf_hash) IS NOT TRUE"
    sql = select_events(doubtful, limit=False, salt=True, leaf=where("l.event_id"))
    problems = report.problems
    start = len(problems)
    without_leaf = 0
    for row in _stream(sql, params + params):
        if len(problems) - start >= limit:
            break
        position = row[-2]
        if position is None:
            without_leaf += 1
            if row[0] <= highest_sealed:
                problems.append(
                    Problem(
                        "inserted",
                        "this event is not in the sealed log, though later events are",
                        event_id=row[0],
                    )
                )
            else:
                report.unsealed += 1
            continue
        if not salts and row[V1_COLUMNS]:
            report.unchecked_restricted += 1
        elif not _stored_leaf_matches(position, row, row[-1]):
            problems.append(
                Problem(
                    "altered",
                    "the event differs from what was sealed (changed or moved)",
                    position=position,
                    event_id=row[0],
                )
            )
    report.events += total
    report.leaves += total - without_leaf
    # Both lists are in event-ID order: report them as one, in that order, as the merge did.
    problems[start:] = sorted([*problems[start:], *found], key=lambda p: p.event_id)
    del problems[start + limit :]


def check_events(
    report: Report, limit: int, *, salts: bool = True, ids: tuple[int, int | None] = (-1, None)
) -> None:
    """Pass 1: every event against its sealed leaf, matched on the event ID. Without ``salts``
    a restricted event's leaf is not recomputed (it is counted in ``unchecked_restricted``).
    ``ids`` limits it to event IDs above the first and at most the second (None: no limit)."""
    with _one_snapshot():
        if connection.vendor == "postgresql":
            _check_events_joined(report, limit, salts, ids)
            return
        after, upto = ids
        events = events_in_id_order(after=after, batch=BATCH, upto=upto)
        leaves = _leaves_by_event(after, upto)
        purged = _purged_event_ids(after, upto)
        last = LogCheckpoint.objects.order_by("-size").values_list("last_event_id", flat=True)
        _merge(report, limit, salts, last.first() or 0, events, leaves, purged, _leaf_matches)


def _merge(report, limit, salts, highest_sealed, events, leaves, purged, matches) -> None:
    event, leaf = next(events, None), next(leaves, None)
    tombstone = next(purged, None)
    while (event is not None or leaf is not None) and len(report.problems) < limit:
        if leaf is None or (event is not None and event[0] < leaf[0]):
            report.events += 1
            if event[0] <= highest_sealed:
                report.problems.append(
                    Problem(
                        "inserted",
                        "this event is not in the sealed log, though later events are",
                        event_id=event[0],
                    )
                )
            else:
                report.unsealed += 1
            event = next(events, None)
        elif event is None or leaf[0] < event[0]:
            report.leaves += 1
            while tombstone is not None and tombstone < leaf[0]:
                tombstone = next(purged, None)
            if tombstone == leaf[0]:
                report.purged += 1
            else:
                report.problems.append(
                    Problem(
                        "removed", "a sealed event is missing", position=leaf[1], event_id=leaf[0]
                    )
                )
            leaf = next(leaves, None)
        else:
            report.events += 1
            report.leaves += 1
            if not salts and is_restricted(event):
                report.unchecked_restricted += 1
            elif not matches(leaf[1], event, bytes(leaf[2])):
                report.problems.append(
                    Problem(
                        "altered",
                        "the event differs from what was sealed (changed or moved)",
                        position=leaf[1],
                        event_id=leaf[0],
                    )
                )
            event, leaf = next(events, None), next(leaves, None)


def _check_note(row: LogCheckpoint, verifier: Verifier, origin: str, root: bytes) -> list[str]:
    try:
        signed = open_checkpoint(row.note, verifier, origin)
    except NoteError as e:
        return [f"its signed note does not verify: {e}"]
    if signed != Checkpoint(origin, row.size, root):
        b64 = base64.b64encode(signed.root).decode()
        return [f"its signed note says size {signed.size}, root {b64}: not the stored checkpoint"]
    return []


def check_tree(report: Report, verifier: Verifier, origin: str, limit: int) -> None:
    """Pass 2: rebuild the tree from the leaves; check every checkpoint and their consistency,
    and every stored tile against the leaves."""
    with _one_snapshot():
        _check_tree(report, verifier, origin, limit)


def _check_tree(report: Report, verifier: Verifier, origin: str, limit: int) -> None:
    checkpoints = iter(LogCheckpoint.objects.order_by("size").iterator(chunk_size=500))
    tree = merkle.CompactRange()
    # The previous checkpoint's right edge and signed root, and whether the tree was carried on
    # from its stored right edge (it did not match the leaves) rather than rebuilt.
    previous: tuple[merkle.CompactRange, bytes, bool] | None = None
    since: list[bytes] = []  # leaves since the previous checkpoint, kept only when rebased
    row = next(checkpoints, None)

    def tile_problem(level: int, index: int, message: str) -> None:
        if len(report.problems) < limit:
            report.problems.append(Problem("tile", message, tile=(level, index)))

    tiles = TileCheck(tile_problem)

    def at_checkpoint(row: LogCheckpoint) -> None:
        nonlocal previous, since, tree
        root = tree.root()
        where = f"checkpoint {row.size}"
        problems = _check_note(row, verifier, origin, bytes(row.root_hash))
        rebased = False
        if bytes(row.root_hash) != root or bytes(row.compact_range) != tree.to_bytes():
            first = previous[0].size if previous else 0
            problems.append(
                f"the leaves do not give its root: a leaf in positions {first}–{row.size - 1} "
                "was changed, moved or replaced"
            )
            # Carry on from the checkpoint's own right edge, so later checkpoints are judged on
            # their own leaves and one bad leaf is reported once.
            try:
                tree = merkle.CompactRange.from_bytes(row.size, bytes(row.compact_range))
                root = bytes(row.root_hash)
                rebased = True
            except ValueError:
                pass
        # When the previous checkpoint's root and right edge were the tree rebuilt from the
        # leaves, and this one's root is too, the two are consistent by construction: both are
        # roots of prefixes of one sequence of leaves, which is what a consistency proof shows.
        # Only after a rebase (the tree carried on from a stored right edge that may not give
        # the stored root) does the proof say more, so only then is it built and checked.
        if previous is not None and previous[2] and not problems:
            old, old_root, _ = previous
            try:
                proof = merkle.consistency_proof_extending(old, since)
                merkle.verify_consistency(old.size, tree.size, proof, old_root, root)
            except merkle.ProofError as e:
                problems.append(f"not consistent with checkpoint {old.size}: {e}")
        for message in problems:
            report.problems.append(Problem("checkpoint", f"{where}: {message}"))
        previous = (merkle.CompactRange(tree.size, tree.hashes), root, rebased)
        since = []

    for start, hashes in _leaf_runs():
        if len(report.problems) >= limit:
            return
        if start != tree.size:
            report.problems.append(
                Problem(
                    "leaves",
                    f"positions {tree.size}–{start - 1} are missing from the sealed leaves",
                    position=tree.size,
                )
            )
            return
        i = 0
        while i < len(hashes):
            while row is not None and row.size == tree.size and tree.size:
                at_checkpoint(row)
                row = next(checkpoints, None)
                if len(report.problems) >= limit:
                    return
            if row is not None and row.size < tree.size:
                report.problems.append(
                    Problem("checkpoint", f"checkpoint {row.size} is out of order")
                )
                return
            # The leaves up to the next checkpoint, or to the end of this run.
            stop = (
                len(hashes) if row is None else min(len(hashes), i + max(1, row.size - tree.size))
            )
            part = hashes[i:stop]
            tiles.add(tree, part)  # adds them to the tree too, hashing each tile once
            if previous is not None and previous[2]:
                since.extend(part)
            i = stop
    while row is not None and row.size == tree.size:
        at_checkpoint(row)
        row = next(checkpoints, None)
    tiles.finish(limit - len(report.problems))
    report.tiles += tiles.checked
    if row is not None:
        report.problems.append(
            Problem(
                "checkpoint",
                f"checkpoint {row.size} is larger than the sealed log ({tree.size} leaves)",
                position=tree.size,
            )
        )


def _check_id_range(arguments: tuple) -> Report:
    """Pass 1 over one range of event IDs, in a worker process."""
    ids, limit, salts = arguments
    report = Report()
    try:
        check_events(report, limit, salts=salts, ids=ids)
    finally:
        connections.close_all()
    return report


def _id_ranges(workers: int) -> list[tuple[int, int | None]]:
    highest = max(
        DataUseEvent.objects.aggregate(m=Max("id"))["m"] or 0,
        SealedLeaf.objects.aggregate(m=Max("event_id"))["m"] or 0,
    )
    step = highest // workers + 1
    bounds = [-1, *(step * i for i in range(1, workers))]
    return [(lo, hi) for lo, hi in zip(bounds, [*bounds[1:], None], strict=True)]


def _pass_one_in_workers(report: Report, limit: int, salts: bool, workers: int, pass_two) -> None:
    """Pass 1 split into ``workers`` ranges of event IDs, one process each, while this process
    runs ``pass_two`` (the tree). Each worker opens its own database connection: this process
    closes its own before forking, and opens a new one after."""
    ranges = _id_ranges(workers)
    connections.close_all()
    tree = Report()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pending = pool.map_async(_check_id_range, [(ids, limit, salts) for ids in ranges])
        pass_two(tree)
        parts = pending.get()
    for part in [*parts, tree]:
        report.events += part.events
        report.leaves += part.leaves
        report.unsealed += part.unsealed
        report.unchecked_restricted += part.unchecked_restricted
        report.purged += part.purged
        report.tiles += part.tiles
        report.problems.extend(part.problems)
    del report.problems[limit:]


def verify_log(
    *,
    verifier: Verifier | None = None,
    origin: str | None = None,
    limit: int = 20,
    salts: bool = True,
    workers: int = 1,
) -> Report:
    """Check the whole log; the report lists at most ``limit`` problems. With ``salts=False``
    it checks as a verifier without the restricted events' salts would: the tree, the
    checkpoints and every ordinary event. ``workers`` above 1 spreads pass 1 over that many
    processes and runs pass 2 in this one meanwhile, on PostgreSQL only and outside a
    transaction (SQLite, or inside a transaction, runs both passes in this process)."""
    report = Report()
    verifier, origin = verifier or load_verifier(), origin or log_origin()

    def pass_two(into: Report) -> None:
        check_tree(into, verifier, origin, limit)

    if workers > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block:
        _pass_one_in_workers(report, limit, salts, workers, pass_two)
    else:
        check_events(report, limit, salts=salts)
        pass_two(report)
    report.checkpoints = LogCheckpoint.objects.count()
    return report
