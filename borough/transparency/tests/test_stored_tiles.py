"""The sealer stores every full tile at every level, so a cold proof or tile reads stored hashes:
never more leaf hashes than one level-0 tile and the right edge's, whatever the log's size. A log
sealed before tiles were stored gets them in batches; verify recomputes every stored tile."""

import base64
import importlib
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from borough.transparency import db_guard, merkle, sealing, tiles
from borough.transparency.checkpoint import load_signer, open_checkpoint
from borough.transparency.log_verify import verify_log
from borough.transparency.models import LogCheckpoint, LogTile, SealedLeaf
from borough.transparency.proofs import inclusion_proof_for_event
from borough.transparency.sealing import seal, seal_all
from borough.transparency.tests.test_tiles import (  # noqa: F401 (fixtures)
    BASE,
    ORIGIN,
    signing_key,
    small_tiles,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signing_key")]

TILES = LogTile._meta.db_table
GUARDS = importlib.import_module("borough.transparency.migrations.0015_stored_tiles_append_only")


def _remove_stored_tiles() -> None:
    """As a log sealed before tiles were stored stood. Past the append-only triggers, as only a
    test may: TRUNCATE on PostgreSQL (row triggers do not see it), the flush guard on SQLite."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {TILES}")
        return
    with db_guard.allow_flush():
        LogTile.objects.all().delete()


@contextmanager
def _triggers_off(table: str = TILES):
    """Someone with superuser rights changing the log: the table's triggers disabled
    (PostgreSQL) or dropped (SQLite) inside the test's transaction, and put back after."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        else:
            for op in ("update", "delete"):
                cursor.execute(f"DROP TRIGGER {table}_no_{op}")
        yield cursor
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        else:
            for statement in GUARDS.TRIGGERS._statements("sqlite", (table,)):
                cursor.execute(statement)


def _seal(verification, counts: list[int]) -> None:
    done = 0
    for count in counts:
        verification(*[f"R-{n}" for n in range(done, done + count)])
        done += count
        seal_all()


def _leaves() -> list[bytes]:
    rows = SealedLeaf.objects.order_by("position").values_list("leaf_hash", flat=True)
    return [bytes(h) for h in rows]


def _expected(leaves: list[bytes], level: int, n: int, width: int) -> bytes:
    """Tile ``level``/``n`` straight from the definition: the roots of the perfect subtrees of
    ``WIDTH^level`` leaves it covers, computed from every leaf."""
    span = tiles.WIDTH**level
    first = n * tiles.WIDTH
    return b"".join(
        merkle.root_hash(leaves, (first + i) * span, (first + i + 1) * span) for i in range(width)
    )


def _every_tile(size: int):
    level = 0
    while size >> (tiles.HEIGHT * level):
        nodes = size >> (tiles.HEIGHT * level)
        for n in range(-(-nodes // tiles.WIDTH)):
            yield level, n, tiles.width_available(level, n, size)
        level += 1


def _stored_match(leaves: list[bytes]) -> set[tuple[int, int]]:
    """The stored tiles, each checked against the definition; their (level, index)."""
    stored = set()
    for tile in LogTile.objects.all():
        data = _expected(leaves, tile.level, tile.index, tiles.WIDTH)
        assert bytes(tile.root) == merkle.root_hash(tiles._split(data)), str(tile)
        assert (tile.hashes is None) == (tile.level == 0)
        assert tile.level == 0 or bytes(tile.hashes) == data, str(tile)
        stored.add((tile.level, tile.index))
    return stored


@pytest.mark.usefixtures("small_tiles")
def test_the_sealer_stores_every_full_tile_at_every_level(client, verification):
    _seal(verification, [30, 1, 56, 13])  # 100 leaves, seals ending mid-tile at every level
    leaves = _leaves()
    size = len(leaves)
    full = {(lv, n) for lv, n, w in _every_tile(size) if w == tiles.WIDTH}
    # 100 leaves, tiles 4 wide: 25 full at level 0, 6 at level 1, 1 at level 2.
    assert len(full) == 32
    assert _stored_match(leaves) == full
    for level, n, width in _every_tile(size):
        path = tiles.tile_path(level, n, width)
        response = client.get(BASE + path)
        assert response.status_code == 200, path
        assert response.content == _expected(leaves, level, n, width), path


@pytest.mark.usefixtures("small_tiles")
def test_a_cold_proof_reads_stored_tiles_and_verifies_against_the_signed_checkpoint(
    verification, monkeypatch
):
    _seal(verification, [40, 40, 17])
    leaves = _leaves()
    read = []
    real = tiles._leaf_hashes

    def counted(start: int, count: int) -> list[bytes]:
        read.append(count)
        return real(start, count)

    monkeypatch.setattr(tiles, "_leaf_hashes", counted)
    for position in (0, 1, 50, 63, 64, 95, 96):
        read.clear()
        event_id = SealedLeaf.objects.get(position=position).event_id
        proof = inclusion_proof_for_event(event_id)
        # At most the leaf's level-0 tile and the right edge's partial one: never the log.
        assert sum(read) <= 2 * tiles.WIDTH, (position, read)
        path = [base64.b64decode(h) for h in proof["inclusion_proof"]]
        assert path == merkle.inclusion_proof(position, leaves)
        signed = open_checkpoint(proof["checkpoint"], load_signer().verifier(), ORIGIN)
        assert signed.size == proof["tree_size"] == len(leaves)
        leaf = base64.b64decode(proof["leaf_hash"])
        assert leaf == merkle.leaf_hash(proof["entry"].encode())
        merkle.verify_inclusion(position, signed.size, leaf, path, signed.root)


@pytest.mark.usefixtures("small_tiles")
def test_a_log_sealed_before_tiles_were_stored_serves_the_same_tiles_then_stores_them(
    client, verification
):
    _seal(verification, [70])
    leaves = _leaves()
    before = {t: client.get(BASE + tiles.tile_path(*t)).content for t in _every_tile(70)}
    _remove_stored_tiles()
    for t, data in before.items():
        assert data == _expected(leaves, *t)
        assert client.get(BASE + tiles.tile_path(*t)).content == data, t
    _seal(verification, [9])  # the next seal stores every full tile, old ones too
    leaves = _leaves()
    size = len(leaves)
    assert _stored_match(leaves) == {(lv, n) for lv, n, w in _every_tile(size) if w == tiles.WIDTH}
    assert tiles.store_tiles(size) == 0  # nothing left to store


def test_public_tiles_are_the_same_at_full_height(client, verification):
    _seal(verification, [200, 100])
    leaves = _leaves()
    assert _stored_match(leaves) == {(0, 0)}
    for t in _every_tile(len(leaves)):
        assert client.get(BASE + tiles.tile_path(*t)).content == _expected(leaves, *t), t


def _proofs_are_the_leaves_proofs(leaves: list[bytes]) -> None:
    for position, event_id in SealedLeaf.objects.values_list("position", "event_id"):
        proof = inclusion_proof_for_event(event_id)
        path = [base64.b64decode(h) for h in proof["inclusion_proof"]]
        assert path == merkle.inclusion_proof(position, leaves), position


@pytest.mark.usefixtures("small_tiles")
def test_an_old_log_gets_its_tiles_back_in_batches_and_its_proofs_are_unchanged(
    verification, monkeypatch
):
    _seal(verification, [30, 1, 56, 13])  # 100 leaves: 25 + 6 + 1 full tiles
    _remove_stored_tiles()
    monkeypatch.setattr(sealing, "TILES_PER_TRANSACTION", 3)
    batches = []
    real = tiles.store_tiles

    def counted(size: int, limit: int | None = None) -> int:
        made = real(size, limit)
        batches.append((limit, made))
        return made

    monkeypatch.setattr(tiles, "store_tiles", counted)
    _seal(verification, [5])  # the next seal: old tiles in batches of 3, then its own
    leaves = _leaves()
    full = {(lv, n) for lv, n, w in _every_tile(len(leaves)) if w == tiles.WIDTH}
    assert _stored_match(leaves) == full
    # 32 old tiles, 3 a transaction (the last batch finds none left), then the seal's own:
    # tile 0/25 and nothing above it. The seal after it (none to seal) finds nothing missing.
    assert batches[:12] == [(3, 3)] * 10 + [(3, 2), (None, 1)]
    assert all(made == 0 for _, made in batches[12:])
    _proofs_are_the_leaves_proofs(leaves)
    assert verify_log().ok


@pytest.mark.usefixtures("small_tiles")
def test_a_seals_own_tiles_are_stored_in_its_transaction(verification, monkeypatch):
    _seal(verification, [10])
    stored = set(LogTile.objects.values_list("level", "index"))

    def refuse(*args, **kwargs):
        raise RuntimeError("the signing key went away")

    verification(*[f"S-{n}" for n in range(20)])
    monkeypatch.setattr(sealing, "sign_checkpoint", refuse)
    with pytest.raises(RuntimeError):
        seal()
    assert set(LogTile.objects.values_list("level", "index")) == stored
    assert SealedLeaf.objects.count() == 10


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("small_tiles")
def test_storing_old_tiles_resumes_after_a_crash_part_way(verification, monkeypatch):
    """Each batch commits: a crash in the third leaves the first two's tiles, all correct, and
    the next seal stores the rest."""
    _seal(verification, [100])
    _remove_stored_tiles()
    monkeypatch.setattr(sealing, "TILES_PER_TRANSACTION", 4)
    real, calls = tiles.store_tiles, []

    def crashing(size: int, limit: int | None = None) -> int:
        calls.append(limit)
        made = real(size, limit)
        if len(calls) == 3:
            raise OSError("the sealer's machine went down")
        return made

    monkeypatch.setattr(tiles, "store_tiles", crashing)
    verification("R-late")
    with pytest.raises(OSError):
        seal()
    leaves = _leaves()
    assert len(leaves) == 100  # nothing of the seal itself
    assert _stored_match(leaves) == {(0, n) for n in range(8)}
    monkeypatch.setattr(tiles, "store_tiles", real)
    assert verify_log().ok  # tiles not stored yet are no problem
    seal()
    leaves = _leaves()
    full = {(lv, n) for lv, n, w in _every_tile(len(leaves)) if w == tiles.WIDTH}
    assert _stored_match(leaves) == full
    _proofs_are_the_leaves_proofs(leaves)
    report = verify_log()
    assert report.ok and report.tiles == len(full) == 32
    if connection.vendor == "postgresql":
        several = verify_log(workers=2)
        assert several.ok and several.tiles == report.tiles


@pytest.mark.usefixtures("small_tiles")
def test_tiles_are_only_ever_inserted_and_a_tile_stored_twice_is_left_alone(verification):
    """Two sealers storing the same tile (or a batch done again) never fail or UPDATE: every
    write to the table is an INSERT that leaves an existing row as it is."""
    _seal(verification, [40])
    _remove_stored_tiles()
    with CaptureQueriesContext(connection) as captured:
        assert sealing.store_missing_tiles(batch=4) == 12
    writes = [q["sql"] for q in captured if TILES in q["sql"] and "SELECT" not in q["sql"]]
    assert writes and all(w.startswith("INSERT") for w in writes)
    ignore = "ON CONFLICT DO NOTHING" if connection.vendor == "postgresql" else "INSERT OR IGNORE"
    assert all(ignore in w for w in writes)
    stored = {(t.level, t.index): bytes(t.root) for t in LogTile.objects.all()}
    LogTile.objects.bulk_create(  # what the second of two sealers would write
        [LogTile(level=0, index=0, root=bytes(32))], ignore_conflicts=True
    )
    assert {(t.level, t.index): bytes(t.root) for t in LogTile.objects.all()} == stored


@pytest.mark.usefixtures("small_tiles")
def test_no_tile_is_stored_for_a_log_that_would_not_be_sealed(verification):
    _seal(verification, [20])
    _remove_stored_tiles()
    with _triggers_off(LogCheckpoint._meta.db_table) as cursor:
        cursor.execute(f"UPDATE {LogCheckpoint._meta.db_table} SET root_hash = %s", [bytes(32)])
    with pytest.raises(sealing.SealRefused, match="does not hold together"):
        sealing.store_missing_tiles()
    assert not LogTile.objects.exists()


@pytest.mark.usefixtures("small_tiles")
def test_an_untouched_log_verifies_with_every_stored_tile_checked(verification, capsys):
    _seal(verification, [30, 1, 56, 13])
    report = verify_log()
    assert report.ok
    assert report.tiles == LogTile.objects.count() == 32
    call_command("transparency", "verify")
    assert "32 stored tile(s) checked" in capsys.readouterr().out


def _flip(data: bytes, at: int = 0) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


@pytest.mark.usefixtures("small_tiles")
@pytest.mark.parametrize(
    "change, where",
    [
        ("root", (0, 5)),
        ("hashes", (1, 2)),
        ("hashes at level 0", (0, 7)),
        ("deleted", (0, 3)),
        ("added", (0, 40)),
    ],
)
def test_verify_names_a_stored_tile_changed_past_the_triggers(verification, capsys, change, where):
    _seal(verification, [30, 1, 56, 13])  # 100 leaves: tiles 0/0–0/24, 1/0–1/5, 2/0
    level, index = where
    tile = LogTile.objects.filter(level=min(level, 1), index=min(index, 5)).first()
    with _triggers_off() as cursor:
        if change == "root":
            cursor.execute(
                f"UPDATE {TILES} SET root = %s WHERE level = %s AND {_index()} = %s",
                [_flip(bytes(tile.root)), level, index],
            )
        elif change == "hashes":
            cursor.execute(
                f"UPDATE {TILES} SET hashes = %s WHERE level = %s AND {_index()} = %s",
                [_flip(bytes(tile.hashes), 40), level, index],
            )
        elif change == "hashes at level 0":
            cursor.execute(
                f"UPDATE {TILES} SET hashes = %s WHERE level = %s AND {_index()} = %s",
                [bytes(32 * tiles.WIDTH), level, index],
            )
        elif change == "deleted":
            cursor.execute(
                f"DELETE FROM {TILES} WHERE level = %s AND {_index()} = %s", [level, index]
            )
        else:
            LogTile.objects.create(level=level, index=index, root=bytes(32))
    report = verify_log()
    assert [(p.kind, p.tile) for p in report.problems] == [("tile", where)]
    with pytest.raises(CommandError, match="does NOT verify"):
        call_command("transparency", "verify")
    assert f"tile {level}/{index}" in capsys.readouterr().err


def _index() -> str:
    return '"index"'
