"""The sealer stores every full tile at every level, so a cold proof or tile reads stored hashes:
never more leaf hashes than one level-0 tile and the right edge's, whatever the log's size."""

import base64

import pytest

from borough.transparency import merkle, tiles
from borough.transparency.checkpoint import load_signer, open_checkpoint
from borough.transparency.models import LogTile, SealedLeaf
from borough.transparency.proofs import inclusion_proof_for_event
from borough.transparency.sealing import seal_all
from borough.transparency.tests.test_tiles import (  # noqa: F401 (fixtures)
    BASE,
    ORIGIN,
    signing_key,
    small_tiles,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signing_key")]


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
    LogTile.objects.all().delete()  # as the log stood before this migration
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
