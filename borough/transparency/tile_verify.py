"""Checking the stored tiles (``LogTile``) against the sealed leaves, inside verify's pass 2.

Pass 2 (``log_verify``) streams the leaf hashes in position order into the tree; ``TileCheck``
takes them on the way. Each 256 leaves make a level-0 tile, whose root is the next hash of the
level-1 tile being filled, and so on up, so every full tile is recomputed from the leaves with
at most one tile's hashes held a level. Each recomputed tile is compared with the stored one:

* a stored tile whose root or hashes differ was changed (its level and index are named): the
  table refuses UPDATE and DELETE, so someone got past the database's own rules;
* a gap (tiles not stored, though later tiles of the same level are) is reported too: the
  sealer stores each level left to right and deletes none;
* a stored tile beyond the sealed leaves is reported once every leaf has been read.

A tile not stored at the right end of its level is no problem: a log sealed before tiles were
stored gets them over its next seals (``sealing.store_missing_tiles``), and a tile or proof
computes what is missing from the leaves meanwhile.

The leaves are hashed once for both jobs: a level-0 tile that lies wholly inside one run of
leaves is hashed here and its root added to the tree as a perfect subtree; only the leaves
around a run's edges go through ``CompactRange.extend`` (and the tile they straddle is hashed
again here, one tile a checkpoint).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q

from borough.transparency import merkle, tiles
from borough.transparency.models import LogTile

#: Stored level-0 tiles (32-byte roots) read a query; a level above reads 64 (8 KB each).
STORED_BATCH = 4096
STORED_BATCH_ABOVE = 64


class TileCheck:
    """The stored tiles against the leaves pass 2 reads. ``problem(level, index, message)``
    is called for each problem found; ``checked`` counts the stored tiles compared."""

    def __init__(self, problem: Callable[[int, int, str], None]) -> None:
        self.problem = problem
        self.checked = 0
        self.height, self.width = tiles.HEIGHT, tiles.WIDTH
        #: Per level: the hashes of the tile being filled (level 0: leaf hashes), how many full
        #: tiles were completed, and the first of a run of tiles found not stored (or None).
        self.pending: list[list[bytes]] = [[]]
        self.done: list[int] = [0]
        self.unstored: list[int | None] = [None]
        #: Per level: the stored tiles read, as (first index, end index, {index: (root, hashes)}).
        self.stored: dict[int, tuple[int, int, dict[int, tuple[bytes, bytes | None]]]] = {}

    def add(self, tree: merkle.CompactRange, leaves: list[bytes]) -> None:
        """Add ``leaves``, the next leaf hashes in position order, to ``tree`` (whose size is
        the number added so far) and check every tile they complete."""
        width, i, n = self.width, 0, len(leaves)
        pending = self.pending[0]
        if pending:  # the tile begun before these leaves
            i = min(width - len(pending), n)
            pending.extend(leaves[:i])
            tree.extend(leaves[:i])
            if len(pending) == width:
                self.pending[0] = []
                self._completed(0, merkle.perfect_root(pending), None)
        while n - i >= width:
            root = merkle.perfect_root(leaves[i : i + width])
            tree.add_subtree(root, self.height)
            self._completed(0, root, None)
            i += width
        if i < n:
            self.pending[0].extend(leaves[i:])
            tree.extend(leaves[i:])

    def _completed(self, level: int, root: bytes, hashes: bytes | None) -> None:
        """Tile ``level``/<next index> recomputed: compare it, and add its root to the tile
        being filled one level up."""
        n = self.done[level]
        self.done[level] += 1
        self._compare(level, n, root, hashes)
        if level + 1 == len(self.pending):
            self.pending.append([])
            self.done.append(0)
            self.unstored.append(None)
        above = self.pending[level + 1]
        above.append(root)
        if len(above) == self.width:
            self.pending[level + 1] = []
            self._completed(level + 1, merkle.perfect_root(above), b"".join(above))

    def _read(self, level: int, n: int) -> tuple[bytes, bytes | None] | None:
        first, end, found = self.stored.get(level, (0, 0, {}))
        if not first <= n < end:
            first = n
            end = n + (STORED_BATCH if level == 0 else STORED_BATCH_ABOVE)
            rows = LogTile.objects.filter(level=level, index__gte=first, index__lt=end)
            found = {
                index: (bytes(root), None if hashes is None else bytes(hashes))
                for index, root, hashes in rows.values_list("index", "root", "hashes")
            }
            self.stored[level] = (first, end, found)
        return found.get(n)

    def _leaves(self, level: int, first: int, last: int) -> str:
        """The leaves tiles ``level``/``first`` to ``level``/``last`` cover, as words."""
        span = self.width ** (level + 1)
        return f"leaves {first * span}–{(last + 1) * span - 1}"

    def _compare(self, level: int, n: int, root: bytes, hashes: bytes | None) -> None:
        stored = self._read(level, n)
        if stored is None:
            if self.unstored[level] is None:
                self.unstored[level] = n
            return
        if (gap := self.unstored[level]) is not None:
            self.unstored[level] = None
            which = "" if gap == n - 1 else f", and every tile up to {level}/{n - 1}"
            self.problem(
                level,
                gap,
                f"not stored ({self._leaves(level, gap, n - 1)}{which}), though later tiles of "
                "its level are: the sealer stores each level in order and deletes none",
            )
        self.checked += 1
        if stored != (root, hashes):
            self.problem(
                level,
                n,
                f"the stored tile ({self._leaves(level, n, n)}) differs from the tile "
                "recomputed from the sealed leaves",
            )

    def finish(self, room: int) -> None:
        """After the last leaf: report up to ``room`` stored tiles beyond those the leaves
        complete."""
        if room <= 0:
            return
        beyond = Q(level__gte=len(self.done))
        for level, done in enumerate(self.done):
            beyond |= Q(level=level, index__gte=done)
        rows = LogTile.objects.filter(beyond).order_by("level", "index")
        for level, n in rows.values_list("level", "index")[:room]:
            self.problem(
                level,
                n,
                f"a stored tile beyond the sealed leaves ({self._leaves(level, n, n)})",
            )
