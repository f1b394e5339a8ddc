"""The Merkle tree code against transparency-dev/merkle's published vectors, then properties.

The vectors are in ``vectors/merkle/`` (see ``vectors/SOURCE.md``).
"""

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from borough.transparency import merkle

VECTORS = Path(__file__).parent / "vectors" / "merkle"
REFERENCE = json.loads((VECTORS / "reference.json").read_text())
LEAVES = [merkle.leaf_hash(bytes.fromhex(x)) for x in REFERENCE["leaf_inputs"]]


def _probes(kind: str) -> list:
    files = sorted((VECTORS / kind).rglob("*.json"))
    assert len(files) > 40, f"the {kind} vectors are missing"
    return [pytest.param(json.loads(f.read_text()), id=str(f.relative_to(VECTORS))) for f in files]


def _b64(values) -> list[bytes]:
    return [base64.b64decode(v) for v in values or []]


def test_leaf_and_node_hashes_match_the_reference():
    for level, hashes in enumerate(REFERENCE["node_hashes"]):
        width = 1 << level
        for i, want in enumerate(hashes):
            assert merkle.root_hash(LEAVES, i * width, (i + 1) * width).hex() == want


@pytest.mark.parametrize("size", range(9))
def test_root_of_every_size_matches_the_reference(size):
    assert merkle.root_hash(LEAVES[:size]).hex() == REFERENCE["root_hashes"][size]
    cr = merkle.CompactRange()
    cr.extend(LEAVES[:size])
    assert cr.root().hex() == REFERENCE["root_hashes"][size]
    again = merkle.CompactRange.from_bytes(size, cr.to_bytes())
    assert again.root() == cr.root()


def test_empty_root_is_sha256_of_nothing():
    assert merkle.EMPTY_ROOT.hex() == REFERENCE["root_hashes"][0]


@pytest.mark.parametrize("probe", _probes("inclusion"))
def test_inclusion_vectors(probe):
    args = (
        probe["leafIdx"],
        probe["treeSize"],
        base64.b64decode(probe["leafHash"] or ""),
        _b64(probe["proof"]),
        base64.b64decode(probe["root"] or ""),
    )
    if probe["wantErr"]:
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)


@pytest.mark.parametrize("probe", _probes("consistency"))
def test_consistency_vectors(probe):
    args = (
        probe["size1"],
        probe["size2"],
        _b64(probe["proof"]),
        base64.b64decode(probe["root1"] or ""),
        base64.b64decode(probe["root2"] or ""),
    )
    if probe["wantErr"]:
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)


def test_generated_proofs_match_the_happy_path_vectors():
    for probe in (p.values[0] for p in _probes("inclusion")):
        if probe["desc"] == "happy path" and probe["treeSize"] <= 8:
            got = merkle.inclusion_proof(probe["leafIdx"], LEAVES, probe["treeSize"])
            assert got == _b64(probe["proof"])
    for probe in (p.values[0] for p in _probes("consistency")):
        if probe["desc"] == "happy path" and 0 < probe["size1"] and probe["size2"] <= 8:
            got = merkle.consistency_proof(probe["size1"], LEAVES, probe["size2"])
            assert got == _b64(probe["proof"])


def test_compact_range_refuses_a_wrong_number_of_hashes():
    with pytest.raises(ValueError):
        merkle.CompactRange(3, [merkle.EMPTY_ROOT])
    with pytest.raises(ValueError):
        merkle.CompactRange.from_bytes(3, b"\x00" * 32)


# --- properties -------------------------------------------------------------------------------

trees = st.integers(min_value=1, max_value=70).map(
    lambda n: [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
)


def _flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


@settings(max_examples=200, deadline=None)
@given(leaves=trees, data=st.data())
def test_every_inclusion_proof_verifies_and_fails_when_anything_changes(leaves, data):
    size = data.draw(st.integers(1, len(leaves)))
    index = data.draw(st.integers(0, size - 1))
    root = merkle.root_hash(leaves, 0, size)
    proof = merkle.inclusion_proof(index, leaves, size)
    merkle.verify_inclusion(index, size, leaves[index], proof, root)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(index, size, _flip(leaves[index]), proof, root)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(index, size, leaves[index], proof, _flip(root))
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:i], _flip(proof[i]), *proof[i + 1 :]]
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, size, leaves[index], bad, root)
    if size > 1:
        other = (index + 1) % size
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(other, size, leaves[index], proof, root)


@settings(max_examples=200, deadline=None)
@given(leaves=trees, data=st.data())
def test_every_consistency_proof_verifies_and_fails_when_anything_changes(leaves, data):
    size2 = data.draw(st.integers(1, len(leaves)))
    size1 = data.draw(st.integers(1, size2))
    root1 = merkle.root_hash(leaves, 0, size1)
    root2 = merkle.root_hash(leaves, 0, size2)
    proof = merkle.consistency_proof(size1, leaves, size2)
    merkle.verify_consistency(size1, size2, proof, root1, root2)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(size1, size2, proof, _flip(root1), root2)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(size1, size2, proof, root1, _flip(root2))
    # A tree that changed one of the first size1 leaves is not consistent with the old root.
    changed = list(leaves[:size2])
    j = data.draw(st.integers(0, size1 - 1))
    changed[j] = _flip(changed[j])
    forged = merkle.consistency_proof(size1, changed, size2)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(size1, size2, forged, root1, merkle.root_hash(changed))


@settings(max_examples=100, deadline=None)
@given(leaves=trees)
def test_compact_range_root_equals_the_recursive_definition(leaves):
    def mth(d):
        if len(d) == 1:
            return d[0]
        k = 1 << ((len(d) - 1).bit_length() - 1)
        return merkle.node_hash(mth(d[:k]), mth(d[k:]))

    cr = merkle.CompactRange()
    cr.extend(leaves)
    assert cr.root() == mth(leaves)


@settings(max_examples=200, deadline=None)
@given(leaves=trees, data=st.data())
def test_a_consistency_proof_from_a_compact_range_equals_the_full_one(leaves, data):
    size2 = data.draw(st.integers(1, len(leaves)))
    size1 = data.draw(st.integers(1, size2))
    old = merkle.CompactRange()
    old.extend(leaves[:size1])
    got = merkle.consistency_proof_extending(old, leaves[size1:size2])
    assert got == merkle.consistency_proof(size1, leaves, size2)
