"""An RFC 6962 (Certificate Transparency) Merkle tree over the sealed entries, pure Python.

Leaf ``i`` is the entry sealed as chain link ``i + 1``; its data is ``"<entry id>:<entry
hash>"`` in UTF-8 (``leaf_data``). Hashes are domain-separated as RFC 6962 section 2.1 says:
a leaf is SHA-256(0x00 || data), an inner node SHA-256(0x01 || left || right), so a leaf can
never pass for a node. The tree of ``n`` leaves is RFC 6962's MTH(D[n]): split at the largest
power of two below ``n``.

What is stored (``ledger_tree_nodes``) is every *complete* inner subtree: node ``(level,
index)`` is the root of leaves ``[index * 2**level, (index + 1) * 2**level)``. Such a node never
changes once its last leaf is appended, so the table only grows; the leaves themselves (level
0) follow from the chain and are not stored (``heads.fetcher``). Any tree size's root, and any
inclusion or consistency proof, is a fold of O(log n) of these nodes (``range_nodes``).

The proof functions take a ``fetch`` callable (a set of ``(level, index)`` keys to their
hashes): one database round trip per proof. The verifiers are RFC 9162 section 2.1.3.2 and
2.1.4.2, and ``scripts/verify-statement`` carries a copy of them that imports nothing of ours.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping

Node = tuple[int, int]  # (level, index)
Fetch = Callable[[set[Node]], Mapping[Node, bytes]]

EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 6962: MTH({}) = SHA-256()


def leaf_data(entry_id: int, entry_hash: str) -> bytes:
    return f"{entry_id}:{entry_hash}".encode()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def entry_leaf(entry_id: int, entry_hash: str) -> bytes:
    return leaf_hash(leaf_data(entry_id, entry_hash))


def _largest_power_below(n: int) -> int:
    """The largest power of two strictly less than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


# --- the reference: RFC 6962 section 2.1 as written, over a list of leaf hashes -------------

def reference_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _largest_power_below(len(leaves))
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def reference_inclusion(index: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n <= 1:
        return []
    k = _largest_power_below(n)
    if index < k:
        return reference_inclusion(index, leaves[:k]) + [reference_root(leaves[k:])]
    return reference_inclusion(index - k, leaves[k:]) + [reference_root(leaves[:k])]


def reference_consistency(m: int, leaves: list[bytes]) -> list[bytes]:
    def subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
        n = len(leaves)
        if m == n:
            return [] if complete else [reference_root(leaves)]
        k = _largest_power_below(n)
        if m <= k:
            return subproof(m, leaves[:k], complete) + [reference_root(leaves[k:])]
        return subproof(m - k, leaves[k:], False) + [reference_root(leaves[:k])]

    if m == 0 or m == len(leaves):
        return []
    return subproof(m, leaves, True)


# --- the same from stored complete subtrees --------------------------------------------------

def range_nodes(start: int, end: int) -> list[Node]:
    """The complete subtrees whose fold from the right is MTH(D[start:end]), left to right.
    ``start`` is aligned as every range of RFC 6962's recursion is (a multiple of the
    largest power of two not above the range's size)."""
    nodes = []
    while start < end:
        level = (end - start).bit_length() - 1
        while start % (1 << level):
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def fold(hashes: list[bytes]) -> bytes:
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for left in reversed(hashes[:-1]):
        acc = node_hash(left, acc)
    return acc


def _inclusion_ranges(index: int, start: int, end: int) -> list[tuple[int, int]]:
    ranges = []
    while end - start > 1:
        k = _largest_power_below(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return list(reversed(ranges))


def _consistency_ranges(m: int, n: int) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    start, end, complete = 0, n, True
    while True:
        size = end - start
        if m == size:
            if not complete:
                ranges.append((start, end))
            break
        k = _largest_power_below(size)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            m -= k
            start += k
            complete = False
    # The recursion puts the innermost part first, so the outermost sibling comes last.
    return [ranges[-1]] + list(reversed(ranges[:-1])) if ranges and not complete else \
        list(reversed(ranges))


def _from_ranges(ranges: list[tuple[int, int]], fetch: Fetch) -> list[bytes]:
    wanted = [range_nodes(start, end) for start, end in ranges]
    found = fetch({node for nodes in wanted for node in nodes})
    return [fold([found[node] for node in nodes]) for nodes in wanted]


def root(size: int, fetch: Fetch) -> bytes:
    if size == 0:
        return EMPTY_ROOT
    return _from_ranges([(0, size)], fetch)[0]


def inclusion_proof(index: int, size: int, fetch: Fetch) -> list[bytes]:
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    return _from_ranges(_inclusion_ranges(index, 0, size), fetch)


def consistency_proof(m: int, n: int, fetch: Fetch) -> list[bytes]:
    if not 0 <= m <= n:
        raise ValueError(f"no consistency proof from {m} to {n}")
    if m == 0 or m == n:
        return []
    return _from_ranges(_consistency_ranges(m, n), fetch)


# --- verification (RFC 9162 section 2.1.3.2 and 2.1.4.2) -------------------------------------

def verify_inclusion(leaf: bytes, index: int, size: int, proof: Iterable[bytes],
                     expected_root: bytes) -> bool:
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(m: int, n: int, root_m: bytes, root_n: bytes,
                       proof: list[bytes]) -> bool:
    if not 0 <= m <= n:
        return False
    if m == n:
        return not proof and root_m == root_n
    if m == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if m & (m - 1) == 0:
        path.insert(0, root_m)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root_m and sr == root_n and sn == 0


# --- appending ------------------------------------------------------------------------------

def edge_nodes(size: int) -> list[Node]:
    """The complete subtrees of a tree of ``size`` leaves, left to right (its "compact
    range"): what appending needs to know."""
    return range_nodes(0, size)


def append(size: int, edge: list[bytes], leaves: Iterable[bytes]) -> list[tuple[int, int, bytes]]:
    """The nodes that appending ``leaves`` to a tree of ``size`` completes, as ``(level,
    index, hash)``; ``edge`` holds the hashes of ``edge_nodes(size)`` and is updated in place.
    """
    made = []
    for leaf in leaves:
        index, level, h = size, 0, leaf
        made.append((0, index, h))
        while index & 1:
            h = node_hash(edge.pop(), h)
            index >>= 1
            level += 1
            made.append((level, index, h))
        edge.append(h)
        size += 1
    return made


class Builder:
    """Streams leaves and answers the root at any size so far (verify's recomputation)."""

    def __init__(self) -> None:
        self.size = 0
        self.edge: list[bytes] = []

    def add(self, leaf: bytes) -> None:
        index, h = self.size, leaf
        while index & 1:
            h = node_hash(self.edge.pop(), h)
            index >>= 1
        self.edge.append(h)
        self.size += 1

    def root(self) -> bytes:
        return fold(self.edge)
