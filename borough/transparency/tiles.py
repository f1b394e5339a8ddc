"""The sealed log as C2SP tlog-tiles (https://c2sp.org/tlog-tiles): tile paths and contents.

A tile at level ``L`` and index ``N`` holds, for ``i`` in ``0 … W-1``, the Merkle hash of the
perfect subtree over leaves ``(N·256 + i)·256^L`` to ``(N·256 + i + 1)·256^L``: level 0 holds
leaf hashes, level 1 the roots of each 256 leaves, and so on. A full tile has 256 hashes
(8,192 bytes); the rightmost tile of a level may be partial (``W`` < 256, path ``….p/<W>``).

Only hash tiles are published. Entry bundles are not: an ordinary event's leaf is its canonical
body, which holds a resident ID, so the leaves themselves are not public. A resident gets their
own entry with its inclusion proof (``proofs.py``). See ``docs/data-use-log.md``.

The sealer stores every full tile at every level as the tree grows past it (``store_tiles``,
``LogTile``), so serving a tile or a proof reads stored hashes and never recomputes from the
leaves: a level-0 tile is its 256 leaf hashes, a full tile above is stored, and a partial tile at
the right edge is the stored roots of the level below. Leaf hashes and tiles stay when retention
purges event bodies, so proofs still verify. Stored tiles are append-only (migration 0015), and
``borough transparency verify`` recomputes each from the leaves (``tile_verify``).
"""

from __future__ import annotations

import re

from django.db.models import Max

from borough.transparency import merkle
from borough.transparency.models import LogTile, SealedLeaf

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


def _split(data: bytes) -> list[bytes]:
    return [data[i : i + merkle.HASH_SIZE] for i in range(0, len(data), merkle.HASH_SIZE)]


def _roots(level: int, first: int, count: int) -> list[bytes]:
    """The roots of full tiles ``level``/``first`` to ``first + count - 1``: the hashes of
    level ``level + 1``. Read from the stored tiles; a log sealed before tiles were stored
    (until its next seal stores them) has them computed from the level below."""
    stored = LogTile.objects.filter(level=level, index__gte=first, index__lt=first + count)
    found = {n: bytes(root) for n, root in stored.values_list("index", "root")}
    if len(found) == count:
        return [found[n] for n in range(first, first + count)]
    if level == 0:
        leaves = _leaf_hashes(first * WIDTH, count * WIDTH)
        return [merkle.perfect_root(leaves[i * WIDTH : (i + 1) * WIDTH]) for i in range(count)]
    return [
        found[n] if n in found else merkle.perfect_root(_split(_full_tile(level, n)))
        for n in range(first, first + count)
    ]


def _full_tile(level: int, n: int) -> bytes:
    if level == 0:
        return b"".join(_leaf_hashes(n * WIDTH, WIDTH))
    stored = LogTile.objects.filter(level=level, index=n).values_list("hashes", flat=True).first()
    if stored is not None:
        return bytes(stored)
    return b"".join(_roots(level - 1, n * WIDTH, WIDTH))


def _read(level: int, n: int, width: int) -> bytes:
    """Tile ``level``/``n`` of ``width`` hashes: level 0 from the leaf hashes, a full tile
    above it as stored, a partial one (the right edge) from the stored roots of the level
    below. Never more than ``WIDTH`` leaf hashes once the sealer has stored the tiles."""
    if level == 0:
        return b"".join(_leaf_hashes(n * WIDTH, width))
    if width == WIDTH:
        return _full_tile(level, n)
    return b"".join(_roots(level - 1, n * WIDTH, width))


def store_tiles(size: int, limit: int | None = None) -> int:
    """Store the full tiles of the tree of ``size`` leaves not stored yet, each level from the
    one below (level 0's roots from the leaf hashes), at most ``limit`` of them (None: all); the
    number stored. A level is stored left to right without gaps, so its next tile follows its
    highest stored one, and a level is begun only once the level below is complete: whatever
    ``limit`` cut off, the next call carries on from there.

    The sealer calls it in each seal's transaction for the tiles that seal completed;
    ``sealing.store_missing_tiles`` calls it with a ``limit`` a transaction for a log sealed
    before tiles were stored. Inserting is all it does (the table refuses UPDATE and DELETE),
    and a tile already stored is left as it is (``ON CONFLICT DO NOTHING``)."""
    made, level = 0, 0
    while (full := size >> (HEIGHT * (level + 1))) > 0:
        highest = LogTile.objects.filter(level=level).aggregate(m=Max("index"))["m"]
        n = 0 if highest is None else highest + 1
        while n < full:
            if limit is not None and made >= limit:
                return made
            # One level-1 tile's worth of leaves a read at most, and no more than ``limit``.
            count = min(full - n, WIDTH, WIDTH if limit is None else limit - made)
            if level == 0:
                below = _leaf_hashes(n * WIDTH, count * WIDTH)
            else:
                below = _roots(level - 1, n * WIDTH, count * WIDTH)
            rows = []
            for i in range(count):
                hashes = below[i * WIDTH : (i + 1) * WIDTH]
                data = None if level == 0 else b"".join(hashes)
                root = merkle.perfect_root(hashes)
                rows.append(LogTile(level=level, index=n + i, root=root, hashes=data))
            LogTile.objects.bulk_create(rows, ignore_conflicts=True)
            made += count
            n += count
        level += 1
    return made


def tile(level: int, n: int, width: int, size: int) -> bytes | None:
    """Tile ``level``/``n`` of ``width`` hashes for a log of ``size`` leaves; None if that
    tree has no such tile."""
    if not 0 <= level <= MAX_LEVEL or not 1 <= width <= WIDTH:
        return None
    if width > width_available(level, n, size):
        return None
    return _read(level, n, width)


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
