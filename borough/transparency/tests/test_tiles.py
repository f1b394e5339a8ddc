"""The checkpoint and the hash tiles at public URLs, read by a small C2SP tlog-tiles client."""

import base64
import hashlib

import pytest

from borough.transparency import tiles
from borough.transparency.checkpoint import Signer, Verifier, open_checkpoint
from borough.transparency.sealing import seal_all

pytestmark = pytest.mark.django_db

ORIGIN = "test.example/borough/data-use-log"
BASE = "/transparency/log/"


@pytest.fixture(autouse=True)
def signing_key(settings):
    signer = Signer.generate(ORIGIN)
    settings.TRANSPARENCY_LOG_SIGNING_KEY = signer.private_key_text()
    settings.TRANSPARENCY_LOG_VERIFIER_KEY = ""
    settings.TRANSPARENCY_LOG_ORIGIN = ORIGIN
    return signer


@pytest.fixture
def small_tiles(monkeypatch):
    """Tiles 4 hashes wide (height 2), so a few dozen events fill several levels."""
    monkeypatch.setattr(tiles, "HEIGHT", 2)
    monkeypatch.setattr(tiles, "WIDTH", 4)
    return 2


def _sealed(verification, count: int, batches: int = 1):
    per = -(-count // batches)
    for start in range(0, count, per):
        verification(*[f"R-{i}" for i in range(start, min(count, start + per))])
        seal_all()


class TilesClient:
    """Reads a log the way the spec says a client does: only the checkpoint and hash tiles."""

    def __init__(self, client, height: int = 8):
        self.client, self.height, self.width = client, height, 1 << height
        self.fetched: list[str] = []

    @staticmethod
    def encode(n: int) -> str:
        groups = [f"{n % 1000:03d}"]
        while n := n // 1000:
            groups.append(f"x{n % 1000:03d}")
        return "/".join(reversed(groups))

    def tile(self, level: int, n: int, size: int) -> list[bytes]:
        nodes = size >> (self.height * level)
        width = min(self.width, nodes - n * self.width)
        path = f"tile/{level}/{self.encode(n)}" + ("" if width == self.width else f".p/{width}")
        response = self.client.get(BASE + path)
        assert response.status_code == 200, path
        self.fetched.append(path)
        data = response.content
        assert len(data) == 32 * width
        return [data[i : i + 32] for i in range(0, len(data), 32)]

    @staticmethod
    def mth(hashes: list[bytes]) -> bytes:
        while len(hashes) > 1:
            pairs = [hashes[i : i + 2] for i in range(0, len(hashes), 2)]
            hashes = [
                hashlib.sha256(b"\x01" + p[0] + p[1]).digest() if len(p) == 2 else p[0]
                for p in pairs
            ]
        return hashes[0]

    def node(self, height: int, index: int, size: int) -> bytes:
        """The hash of the perfect subtree of 2^height leaves number ``index``, from one tile."""
        level, rest = divmod(height, self.height)
        first = index << rest
        hashes = self.tile(level, first // self.width, size)
        start = first % self.width
        return self.mth(hashes[start : start + (1 << rest)])

    def root(self, size: int) -> bytes:
        subtrees, offset = [], 0
        for height in reversed(range(size.bit_length())):
            if size >> height & 1:
                subtrees.append(self.node(height, offset >> height, size))
                offset += 1 << height
        root = subtrees.pop()
        while subtrees:
            root = hashlib.sha256(b"\x01" + subtrees.pop() + root).digest()
        return root


def _checkpoint(client, signer):
    response = client.get(BASE + "checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=5"
    return open_checkpoint(response.content.decode(), signer.verifier(), ORIGIN)


def test_a_tiles_client_recomputes_the_checkpoints_root(client, verification, signing_key):
    _sealed(verification, 300)
    checkpoint = _checkpoint(client, signing_key)
    assert checkpoint.size == 300
    reader = TilesClient(client)
    assert reader.root(checkpoint.size) == checkpoint.root
    assert set(reader.fetched) == {"tile/1/000.p/1", "tile/0/001.p/44"}
    full = client.get(BASE + "tile/0/000")
    assert full["Cache-Control"] == "public, max-age=31536000, immutable"
    assert full["Content-Type"] == "application/octet-stream"
    assert client.get(BASE + "tile/0/001.p/44")["Cache-Control"] == "public, max-age=3600"


def test_higher_levels_and_partial_tiles_on_a_shallow_tiling(
    client, verification, signing_key, small_tiles
):
    _sealed(verification, 87, batches=3)
    checkpoint = _checkpoint(client, signing_key)
    reader = TilesClient(client, height=small_tiles)
    assert reader.root(checkpoint.size) == checkpoint.root
    # 87 leaves: level 1 has 21 nodes (tiles 0-4 full, tile 5 one wide), level 2 has 5.
    assert {"tile/1/005.p/1", "tile/2/001.p/1", "tile/3/000"} - set(reader.fetched) == {
        "tile/3/000"
    }
    # Every smaller partial width of a tile is served too; the same hashes, cut short.
    whole = client.get(BASE + "tile/1/000").content
    assert client.get(BASE + "tile/1/000.p/3").content == whole[: 3 * 32]


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/001",  # past the tree
        "tile/0/000.p/256",  # a full tile is never .p/256
        "tile/0/000.p/0",
        "tile/0/000.p/200",  # wider than the tree has
        "tile/0/x000/000",  # not the canonical encoding of 0
        "tile/0/00",
        "tile/9/000",
        "tile/1/000",  # 100 leaves: no level-1 node yet
    ],
)
def test_a_tile_the_tree_does_not_have_is_not_found(client, verification, path):
    _sealed(verification, 100)
    assert client.get(BASE + path).status_code == 404


def test_nothing_sealed_yet_is_not_found(client):
    assert client.get(BASE + "checkpoint").status_code == 404
    assert client.get(BASE + "tile/0/000.p/1").status_code == 404


def test_entry_bundles_are_not_published_because_entries_hold_resident_ids(client, verification):
    _sealed(verification, 3)
    for path in ("tile/entries/000", "tile/entries/000.p/3"):
        response = client.get(BASE + path)
        assert response.status_code == 404
        assert b"not published" in response.content
        assert b"R-" not in response.content


def test_index_encoding_follows_the_spec():
    assert tiles.encode_index(1234067) == "x001/x234/067"
    assert tiles.decode_index("x001/x234/067") == 1234067
    assert tiles.encode_index(0) == "000" and tiles.decode_index("000") == 0
    assert tiles.decode_index("x000/067") is None
    assert tiles.decode_index("x1/067") is None
    assert base64.b64encode(b"") == b""


def test_the_verifier_key_is_published_next_to_the_checkpoint_and_checks_it(
    client, verification, signing_key
):
    _sealed(verification, 3)
    response = client.get(BASE + "vkey")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=3600"
    published = response.content.decode()
    assert published == signing_key.verifier_key() + "\n"
    assert "PRIVATE" not in published
    note = client.get(BASE + "checkpoint").content.decode()
    assert open_checkpoint(note, Verifier.from_key(published), ORIGIN).size == 3


def test_a_configured_verifier_key_is_the_one_published(client, settings, signing_key):
    other = Signer.generate(ORIGIN)
    settings.TRANSPARENCY_LOG_VERIFIER_KEY = other.verifier_key()
    assert client.get(BASE + "vkey").content.decode() == other.verifier_key() + "\n"
