"""The sealed log as C2SP tlog-tiles (https://c2sp.org/tlog-tiles): tile paths and contents.

A tile at level ``L`` and index ``N`` holds, for ``i`` in ``0 … W-1``, the Merkle hash of the
perfect subtree over leaves ``(N·256 + i)·256^L`` to ``(N·256 + i + 1)·256^L``: level 0 holds
leaf hashes, level 1 the roots of each 256 leaves, and so on. A full tile has 256 hashes
(8,192 bytes); the rightmost tile of a level may be partial (``W`` < 256, path ``….p/<W>``).

Only hash tiles are published. Entry bundles are not: an ordinary event's leaf is its canonical
body, which holds a resident ID, so the leaves themselves are not public. A resident gets their
own entry with its inclusion proof (``proofs.py``). See ``docs/data-use-log.md``.

Tiles are computed from the sealed leaf hashes on request and kept in Django's cache: a tile of
a given width never changes. Levels 0 and 1 are read from the leaves in one query; a higher
level's tile is made from the full (cached) tiles of the level below.
"""

from __future__ import annotations

import re

from django.core.cache import cache

from borough.transparency import merkle
from borough.transparency.models import SealedLeaf

HEIGHT = 8
WIDTH = 1 << HEIGHT  # hashes in a full tile
MAX_LEVEL = 7  # 256^8 leaves: more than any council will log

INDEX = re.compile(r"(?:x[0-9]{3}/)*[0-9]{3}")


def encode_index(n: int) -> str:
    """``N`` as a tile path: 3-digit groups, all but the last prefixed with ``x``."""
    groups = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        groups.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(groups))


def decode_index(text: str) -> int | None:
    """The ``N`` of a tile path, or None unless ``text`` is its one canonical encoding."""
    if not INDEX.fullmatch(text):
        return None
    n = int("".join(part.lstrip("x") for part in text.split("/")))
    return n if encode_index(n) == text else None


def tile_path(level: int, n: int, width: int = WIDTH) -> str:
    suffix = "" if width == WIDTH else f".p/{width}"
    return f"tile/{level}/{encode_index(n)}{suffix}"


def width_available(level: int, n: int, size: int) -> int:
    """How many hashes tile ``level``/``n`` holds in a tree of ``size`` leaves (0: none)."""
    nodes = size >> (HEIGHT * level)
    return max(0, min(WIDTH, nodes - n * WIDTH))


def _leaf_hashes(start: int, count: int) -> list[bytes]:
    rows = SealedLeaf.objects.filter(position__gte=start, position__lt=start + count)
    hashes = [bytes(h) for h in rows.order_by("position").values_list("leaf_hash", flat=True)]
    if len(hashes) != count:
        raise LookupError(f"sealed leaves {start}–{start + count - 1} are not all there")
    return hashes


def _cache_key(level: int, n: int, width: int) -> str:
    """A tile's cache key. It names the last leaf the tile covers by its hash too, so a cache
    shared with another log (a test's, a rebuilt database's) never serves that log's tile."""
    last = n * WIDTH ** (level + 1) + width * WIDTH**level - 1
    (h,) = _leaf_hashes(last, 1)
    return f"borough:tlog-tile:{level}:{n}:{width}:{h.hex()}"


def _cached(level: int, n: int, width: int) -> bytes:
    """A tile, computed once: a tile of a given width never changes (a partial one is kept a
    day, since the next seal usually makes a wider one)."""
    key = _cache_key(level, n, width)
    data = cache.get(key)
    if data is None:
        data = _compute(level, n, width)
        cache.set(key, data, timeout=None if width == WIDTH else 86_400)
    return data


def _full_tile(level: int, n: int) -> bytes:
    return _cached(level, n, WIDTH)


def _compute(level: int, n: int, width: int) -> bytes:
    """Level 0 and 1 from one read of the leaves (at most 65,536); higher levels from the full
    tiles of the level below, each computed once and cached."""
    if level == 0:
        return b"".join(_leaf_hashes(n * WIDTH, width))
    if level == 1:
        leaves = _leaf_hashes(n * WIDTH * WIDTH, width * WIDTH)
        return b"".join(merkle.root_hash(leaves, i * WIDTH, (i + 1) * WIDTH) for i in range(width))
    hashes = []
    for i in range(width):
        below = _full_tile(level - 1, n * WIDTH + i)
        hashes.append(
            merkle.root_hash([below[j : j + 32] for j in range(0, len(below), merkle.HASH_SIZE)])
        )
    return b"".join(hashes)


def tile(level: int, n: int, width: int, size: int) -> bytes | None:
    """Tile ``level``/``n`` of ``width`` hashes for a log of ``size`` leaves; None if that
    tree has no such tile."""
    if not 0 <= level <= MAX_LEVEL or not 1 <= width <= WIDTH:
        return None
    if width > width_available(level, n, size):
        return None
    return _cached(level, n, width)


def node_hash(height: int, index: int, size: int, read: dict | None = None) -> bytes:
    """The hash of the perfect subtree of ``2^height`` leaves number ``index``, read from one
    tile of the tree of ``size`` leaves (as a tiles client reads it). ``read`` keeps the tiles
    already read for one proof, so each is read once."""
    level, rest = divmod(height, HEIGHT)
    first = index << rest
    n, start = divmod(first, WIDTH)
    width = width_available(level, n, size)
    read = {} if read is None else read
    if (level, n) not in read:
        read[level, n] = tile(level, n, width, size)
    data = read[level, n]
    if data is None:
        raise LookupError(f"no subtree {index} of height {height} in a tree of {size}")
    hashes = [data[i : i + 32] for i in range(start * 32, (start + (1 << rest)) * 32, 32)]
    return merkle.root_hash(hashes)


def subtree_hash(start: int, end: int, size: int, read: dict | None = None) -> bytes:
    """MTH of leaves ``start`` to ``end`` (exclusive) for the ranges a proof asks for (``start``
    a multiple of the power of two at or above ``end - start``): the aligned perfect subtrees it
    splits into, largest first, folded from the right."""
    parts = []
    while start < end:
        height = (end - start).bit_length() - 1
        parts.append(node_hash(height, start >> height, size, read))
        start += 1 << height
    root = parts.pop()
    while parts:
        root = merkle.node_hash(parts.pop(), root)
    return root
