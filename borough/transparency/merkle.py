"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification.

Pure Python over ``hashlib``; no Django. The tree is the one Certificate Transparency and the
C2SP tlog specifications use:

* a leaf hash is ``SHA-256(0x00 || leaf data)``;
* an interior node is ``SHA-256(0x01 || left || right)``;
* the tree of ``n`` leaves splits at ``k``, the largest power of two smaller than ``n``;
* the empty tree's hash is ``SHA-256("")``.

Proofs are built from a sequence of *leaf hashes* (position order) and checked with the
verification algorithms of RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency). A verifier
raises ``ProofError`` and never returns a bare ``False``, so a forgotten check cannot pass.

``CompactRange`` keeps the right edge of a growing tree (one hash per set bit of its size), so
appending a leaf and taking the root cost O(log n) and sealing never rehashes the whole log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


class ProofError(ValueError):
    """A proof, a root or the sizes given with them do not check out."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256 of 0x00 then the leaf's bytes."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256 of 0x01, the left child, the right child."""
    return _sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n`` >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class CompactRange:
    """The right edge of a tree of ``size`` leaves: the roots of its perfect subtrees.

    ``hashes`` holds one hash per set bit of ``size``, the largest (leftmost) subtree first,
    which is also the form stored with each checkpoint so the sealer can carry on from it.
    """

    __slots__ = ("hashes", "size")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self.size = size
        self.hashes = list(hashes)
        if len(self.hashes) != size.bit_count():
            raise ValueError(f"a compact range of size {size} has {size.bit_count()} hashes")

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash on the right."""
        hashes = self.hashes
        hashes.append(leaf)
        n = self.size
        while n & 1:
            right = hashes.pop()
            hashes[-1] = _sha256(b"\x01" + hashes[-1] + right).digest()
            n >>= 1
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Add leaf hashes on the right: the same tree as ``append`` one by one, but each
        perfect subtree that fits at the right edge is hashed level by level (``perfect_root``)
        and added whole (``add_subtree``)."""
        leaves = leaves if isinstance(leaves, list | tuple) else list(leaves)
        i, n = 0, len(leaves)
        while i < n:
            size = self.size
            # The highest subtree that may start here: its size divides this tree's size.
            height = (size & -size).bit_length() - 1 if size else 64
            height = min(height, (n - i).bit_length() - 1)
            if height < 2:
                self.append(leaves[i])
                i += 1
                continue
            self.add_subtree(perfect_root(leaves[i : i + (1 << height)]), height)
            i += 1 << height

    def add_subtree(self, node: bytes, height: int) -> None:
        """Add the root of a perfect subtree of ``2**height`` leaves on the right; this tree's
        size must be a multiple of ``2**height``."""
        hashes = self.hashes
        hashes.append(node)
        n = self.size >> height
        while n & 1:
            right = hashes.pop()
            hashes[-1] = _sha256(b"\x01" + hashes[-1] + right).digest()
            n >>= 1
        self.size += 1 << height

    def root(self) -> bytes:
        """The Merkle tree hash of the leaves appended so far."""
        if not self.hashes:
            return EMPTY_ROOT
        it = reversed(self.hashes)
        h = next(it)
        for left in it:
            h = _sha256(b"\x01" + left + h).digest()
        return h

    def to_bytes(self) -> bytes:
        return b"".join(self.hashes)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> CompactRange:
        if len(data) != HASH_SIZE * size.bit_count():
            raise ValueError("stored compact range has the wrong length")
        return cls(size, (data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)))


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """MTH of a power-of-two number of hashes, level by level: one tight loop of SHA-256 calls
    a level, the fastest way to hash a perfect subtree (a tile) in Python."""
    level = hashes
    while len(level) > 1:
        level = [
            _sha256(b"\x01" + left + right).digest()
            for left, right in zip(level[::2], level[1::2], strict=True)
        ]
    return level[0]


def root_hash(leaves: Sequence[bytes], start: int = 0, end: int | None = None) -> bytes:
    """MTH of ``leaves[start:end]`` (leaf hashes), in O(n) time and O(log n) memory."""
    end = len(leaves) if end is None else end
    cr = CompactRange()
    for i in range(start, end):
        cr.append(leaves[i])
    return cr.root()


def inclusion_proof(index: int, leaves: Sequence[bytes], size: int | None = None) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(index, leaves[0:size]): the audit path, leaf level first."""
    size = len(leaves) if size is None else size
    if not 0 <= index < size <= len(leaves):
        raise ValueError(f"no leaf {index} in a tree of {size}")
    return inclusion_path(index, size, lambda a, b: root_hash(leaves, a, b))


def inclusion_path(index: int, size: int, subtree: Callable[[int, int], bytes]) -> list[bytes]:
    """PATH(index, D[0:size]) with ``subtree(a, b)`` giving MTH(D[a:b]) (from leaves or tiles)."""
    path: list[bytes] = []
    start, end, m = 0, size, index
    # Walk down from the root; record siblings, then reverse (the path is bottom-up).
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start, m = start + k, m - k
    path.reverse()
    return path


def consistency_proof(size1: int, leaves: Sequence[bytes], size2: int | None = None) -> list[bytes]:
    """RFC 9162 §2.1.4.1 PROOF(size1, leaves[0:size2])."""
    size2 = len(leaves) if size2 is None else size2
    if not 0 < size1 <= size2 <= len(leaves):
        raise ValueError(f"no consistency proof from {size1} to {size2}")
    return consistency_path(size1, size2, lambda a, b: root_hash(leaves, a, b))


def consistency_path(size1: int, size2: int, subtree: Callable[[int, int], bytes]) -> list[bytes]:
    """PROOF(size1, D[0:size2]) with ``subtree(a, b)`` giving MTH(D[a:b]).

    Every range it asks for lies either wholly at or after ``size1``, or is one of the perfect
    subtrees of ``size1``'s compact range (see ``consistency_proof_extending``).
    """
    path: list[bytes] = []
    start, end, m, complete = 0, size2, size1, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        path.append(subtree(start, end))
    path.reverse()
    return path


def consistency_proof_extending(old: CompactRange, new_leaves: Sequence[bytes]) -> list[bytes]:
    """The consistency proof from the tree ``old`` to ``old`` plus ``new_leaves``.

    Needs only the old tree's compact range and the leaves added since, so a verifier streaming
    the log can prove each checkpoint consistent with the next in memory bounded by the gap.
    """
    m, n = old.size, old.size + len(new_leaves)
    if not 0 < m <= n:
        raise ValueError(f"no consistency proof from {m} to {n}")
    nodes, start = {}, 0
    for bit in reversed(range(m.bit_length())):
        if m >> bit & 1:
            nodes[(start, start + (1 << bit))] = old.hashes[len(nodes)]
            start += 1 << bit

    def subtree(a: int, b: int) -> bytes:
        if a >= m:
            return root_hash(new_leaves, a - m, b - m)
        return nodes[(a, b)]

    return consistency_path(m, n, subtree)


def _check_hash(h: bytes, what: str) -> None:
    if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
        raise ProofError(f"{what} is not a {HASH_SIZE}-byte hash")


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root that ``proof`` puts ``leaf`` at ``index`` under."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hash(leaf, "the leaf hash")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        _check_hash(p, "a proof hash")
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise ``ProofError`` unless ``proof`` shows ``leaf`` at ``index`` in the tree ``root``."""
    if root_from_inclusion_proof(index, size, leaf, proof) != root:
        raise ProofError("the inclusion proof does not lead to the root")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """RFC 9162 §2.1.4.2: raise ``ProofError`` unless tree ``root2`` extends tree ``root1``."""
    if size1 > size2:
        raise ProofError(f"the first tree ({size1}) is larger than the second ({size2})")
    if size1 == 0:
        # Every tree extends the empty tree; a proof of it says nothing (as transparency-dev).
        raise ProofError("a consistency proof from the empty tree is meaningless")
    if size1 == size2:
        if proof:
            raise ProofError("trees of equal size need an empty proof")
        if root1 != root2:
            raise ProofError("trees of equal size have different roots")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    for p in proof:
        _check_hash(p, "a proof hash")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != root1:
        raise ProofError("the consistency proof does not lead to the first root")
    if sr != root2:
        raise ProofError("the consistency proof does not lead to the second root")
