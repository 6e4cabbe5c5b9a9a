"""The RFC 6962 Merkle tree of ``ledger.merkle``: roots and proofs read from stored complete
subtrees are exactly RFC 6962's recursive definitions, the RFC 9162 verifiers accept them and
reject any proof, size, index or root that is not the one (pure Python, no database)."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle

SETTINGS = settings(max_examples=40, deadline=None)


def tree(size: int):
    leaves = [merkle.leaf_hash(f"leaf {i}".encode()) for i in range(size)]
    stored = {(level, idx): h for level, idx, h in merkle.append(0, [], leaves)}
    return leaves, (lambda keys: {key: stored[key] for key in keys}), stored


def test_hashes_are_domain_separated_as_rfc6962_says():
    assert merkle.leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert merkle.EMPTY_ROOT.hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    # A leaf's data that happens to be two hashes is never read as a node of them.
    a, b = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
    assert merkle.leaf_hash(a + b) != merkle.node_hash(a, b)


def test_every_size_up_to_40_matches_the_reference_exhaustively():
    for size in range(41):
        leaves, fetch, _ = tree(size)
        root = merkle.reference_root(leaves)
        assert merkle.root(size, fetch) == root
        for index in range(size):
            proof = merkle.inclusion_proof(index, size, fetch)
            assert proof == merkle.reference_inclusion(index, leaves)
            assert merkle.verify_inclusion(leaves[index], index, size, proof, root)
        for first in range(size + 1):
            proof = merkle.consistency_proof(first, size, fetch)
            assert proof == merkle.reference_consistency(first, leaves)
            assert merkle.verify_consistency(first, size, merkle.reference_root(leaves[:first]),
                                             root, proof)


@SETTINGS
@given(st.integers(1, 1100), st.data())
def test_inclusion_proofs_are_rfc6962_paths_of_log_size(size, data):
    leaves, fetch, _ = tree(size)
    index = data.draw(st.integers(0, size - 1))
    root = merkle.reference_root(leaves)
    proof = merkle.inclusion_proof(index, size, fetch)
    assert proof == merkle.reference_inclusion(index, leaves)
    assert len(proof) <= (size - 1).bit_length()
    assert merkle.verify_inclusion(leaves[index], index, size, proof, root)
    # Any other leaf, index, size, root or a changed proof is refused.
    assert not merkle.verify_inclusion(merkle.leaf_hash(b"other"), index, size, proof, root)
    assert not merkle.verify_inclusion(leaves[index], index, size, proof, bytes(32))
    if size > 1:
        other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index))
        assert not merkle.verify_inclusion(leaves[index], other, size, proof, root)
        broken = list(proof)
        position = data.draw(st.integers(0, len(broken) - 1))
        broken[position] = bytes(32)
        assert not merkle.verify_inclusion(leaves[index], index, size, broken, root)
        assert not merkle.verify_inclusion(leaves[index], index, size, proof[:-1], root)
    assert not merkle.verify_inclusion(leaves[index], index, size, proof + [root], root)


@SETTINGS
@given(st.integers(1, 1100), st.data())
def test_consistency_proofs_prove_the_older_tree_is_a_prefix(size, data):
    leaves, fetch, _ = tree(size)
    first = data.draw(st.integers(1, size))
    root, old_root = merkle.reference_root(leaves), merkle.reference_root(leaves[:first])
    proof = merkle.consistency_proof(first, size, fetch)
    assert proof == merkle.reference_consistency(first, leaves)
    assert len(proof) <= 2 * size.bit_length()
    assert merkle.verify_consistency(first, size, old_root, root, proof)
    assert not merkle.verify_consistency(first, size, bytes(32), root, proof)
    if first < size:
        assert not merkle.verify_consistency(first, size, old_root, bytes(32), proof)
        # A fork: one leaf below ``first`` changed, every hash recomputed.
        changed = data.draw(st.integers(0, first - 1))
        forked = list(leaves)
        forked[changed] = merkle.leaf_hash(b"rewritten")
        assert not merkle.verify_consistency(first, size, old_root,
                                             merkle.reference_root(forked),
                                             merkle.reference_consistency(first, forked))
        broken = list(proof)
        broken[data.draw(st.integers(0, len(broken) - 1))] = bytes(32)
        assert not merkle.verify_consistency(first, size, old_root, root, broken)


@SETTINGS
@given(st.lists(st.integers(1, 70), min_size=1, max_size=8))
def test_appending_in_batches_stores_the_same_nodes_as_one_batch(batches):
    leaves = [merkle.leaf_hash(str(i).encode()) for i in range(sum(batches))]
    _, _, whole = tree(0)
    stored, edge, size = {}, [], 0
    for count in batches:
        assert [stored[key] for key in merkle.edge_nodes(size)] == edge
        for level, idx, h in merkle.append(size, edge, leaves[size:size + count]):
            assert (level, idx) not in stored  # nodes are only ever added
            stored[(level, idx)] = h
        size += count
    assert stored == {(level, idx): h for level, idx, h in merkle.append(0, [], leaves)}
    builder = merkle.Builder()
    for leaf in leaves:
        builder.add(leaf)
    assert builder.root() == merkle.reference_root(leaves)
