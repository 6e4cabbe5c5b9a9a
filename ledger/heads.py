"""Signed heads of the Merkle tree (``ledger.merkle``) and the proofs read from its stored nodes.

A head is one JSON document::

    {"tree_size": 1234, "root_hash": "<hex>", "entry_id": 5678, "at": "2026-12-07T08:51:00Z",
     "accounts_through": 42, "accounts_digest": "<hex>",
     "key_id": "<hex>", "public_key": "<base64>", "signature": "<base64>"}

signed with Ed25519 over ``HEAD_DOMAIN`` and the canonical JSON of ``SIGNED_FIELDS`` plus, when
the head has them, ``ACCOUNT_FIELDS`` (sorted keys, no spaces). Heads signed before the
accounts were committed to lack those two fields and still check.

``accounts_digest`` commits to the fixed fields of every account with id <= ``accounts_through``
(the accounts manifest: the sorted lines ``code|unit|kind|no_overdraft`` as compact JSON, and
the digest is that text's SHA-256). Account openings are not entries of the chain, so without
it an owner who switched the guard trigger off could flip ``no_overdraft`` or ``kind`` and
still pass ``verify --anchor``. The manifest is published beside each head so that ``verify``
can name the account that changed.

The private key never lives in the database: the caller hands a ``Signer`` made from a
32-byte seed (``JINDOU_LEDGER_SIGNING_KEY``, or the instance's file). ``key_id`` is the first
16 bytes of SHA-256 of the raw public key, so a head names the key that signed it and
a verifier pins the key by its id. ``scripts/verify-statement`` checks heads the same way
without importing any of this.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from . import merkle, rules
from .clock import now
from .models import Account, ChainHead, ChainLink, Entry, SignedHead, TreeNode

HEAD_DOMAIN = b"jindou-ledger-head:v1\n"
STATEMENT_DOMAIN = b"jindou-ledger-statement:v1\n"
SIGNED_FIELDS = ("tree_size", "root_hash", "entry_id", "at", "key_id")
ACCOUNT_FIELDS = ("accounts_through", "accounts_digest")
HEAD_FIELDS = SIGNED_FIELDS + ("public_key", "signature")
MAX_ANCHOR_BYTES = 64 * 1024
MAX_MANIFEST_BYTES = 512 * 1024 * 1024
MANIFEST_SUFFIX = ".accounts.json"


class BadHead(ValueError):
    """A head document that is not one: the reason in one line."""


def key_id(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:32]


class Signer:
    """An Ed25519 key from a 32-byte seed given as 64 hex digits (how the instance's other
    keys are generated)."""

    def __init__(self, seed_hex: str) -> None:
        try:
            seed = bytes.fromhex(seed_hex.strip())
        except ValueError:
            raise BadHead("the ledger signing key is not hexadecimal") from None
        if len(seed) != 32:
            raise BadHead("the ledger signing key must be 32 bytes (64 hex digits)")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key = base64.b64encode(self.public_raw).decode()
        self.key_id = key_id(self.public_raw)

    def sign(self, head: dict) -> dict:
        head = dict(head, key_id=self.key_id, public_key=self.public_key)
        head["signature"] = base64.b64encode(self._key.sign(message(head))).decode()
        return head

    def sign_statement(self, statement: dict) -> dict:
        """``statement`` with a ``signature`` over all the rest of it (``statement_message``);
        its proof's head names the key."""
        signature = self._key.sign(statement_message(statement))
        return dict(statement, signature=base64.b64encode(signature).decode())


def statement_message(statement: dict) -> bytes:
    body = {name: value for name, value in statement.items() if name != "signature"}
    return STATEMENT_DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":"),
                                         ensure_ascii=False).encode()


def message(head: dict) -> bytes:
    body = {name: head[name] for name in SIGNED_FIELDS}
    if head.get("accounts_digest") is not None:
        body.update((name, head[name]) for name in ACCOUNT_FIELDS)
    return HEAD_DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def signature_checks(head: dict) -> bool:
    """Whether ``head`` is signed by the public key it carries, and ``key_id`` names that key
    (which key to trust is the caller's question)."""
    try:
        public_raw = base64.b64decode(head["public_key"], validate=True)
        signature = base64.b64decode(head["signature"], validate=True)
        if key_id(public_raw) != head["key_id"]:
            return False
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message(head))
    except (InvalidSignature, ValueError, binascii.Error, KeyError, TypeError):
        return False
    return True


def parse(text: str | bytes) -> dict:
    """A head from its JSON, its fields of the right types; ``BadHead`` says what is wrong."""
    if len(text) > MAX_ANCHOR_BYTES:
        raise BadHead(f"larger than {MAX_ANCHOR_BYTES} bytes: not a head")
    try:
        head = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadHead(f"not JSON ({error})") from None
    if not isinstance(head, dict):
        raise BadHead("not a JSON object")
    missing = [name for name in HEAD_FIELDS if name not in head]
    if missing:
        raise BadHead(f"missing {', '.join(missing)}")
    size, entry_id = head["tree_size"], head["entry_id"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise BadHead("tree_size is not a whole number >= 0")
    if entry_id is not None and (not isinstance(entry_id, int) or isinstance(entry_id, bool)):
        raise BadHead("entry_id is not a whole number")
    for name in ("root_hash", "at", "key_id", "public_key", "signature"):
        if not isinstance(head[name], str):
            raise BadHead(f"{name} is not text")
    try:
        if len(bytes.fromhex(head["root_hash"])) != 32:
            raise ValueError
    except ValueError:
        raise BadHead("root_hash is not 64 hex digits") from None
    parsed = {name: head[name] for name in HEAD_FIELDS}
    if any(head.get(name) is not None for name in ACCOUNT_FIELDS):
        through, digest = head.get("accounts_through"), head.get("accounts_digest")
        if not isinstance(through, int) or isinstance(through, bool) or through < 0:
            raise BadHead("accounts_through is not a whole number >= 0")
        if not _is_digest(digest):
            raise BadHead("accounts_digest is not 64 hex digits")
        parsed.update(accounts_through=through, accounts_digest=digest)
    return parsed


def _is_digest(value) -> bool:
    try:
        return isinstance(value, str) and len(bytes.fromhex(value)) == 32
    except ValueError:
        return False


# --- the accounts' fixed fields ----------------------------------------------------------------

def account_lines(session: Session, through: int | None = None) -> tuple[int, list[str]]:
    """(the highest account id covered, the sorted lines ``code|unit|kind|no_overdraft`` of
    every account with id <= ``through``; all of them when it is None)."""
    query = select(Account.id, Account.code, Account.unit, Account.kind, Account.no_overdraft)
    if through is not None:
        query = query.where(Account.id <= through)
    highest, lines = 0, []
    for account_id, code, unit, kind, no_overdraft in session.execute(query):
        highest = max(highest, account_id)
        lines.append(account_line(code, unit, kind, no_overdraft))
    return (highest if through is None else through), sorted(lines)


def account_line(code: str, unit: str, kind: str, no_overdraft: bool) -> str:
    return f"{code}|{unit}|{kind}|{'true' if no_overdraft else 'false'}"


def manifest_bytes(lines: list[str]) -> bytes:
    """The accounts manifest as published: its SHA-256 is the head's ``accounts_digest``."""
    return json.dumps(sorted(lines), ensure_ascii=False, separators=(",", ":")).encode()


def accounts_digest(lines: list[str]) -> str:
    return hashlib.sha256(manifest_bytes(lines)).hexdigest()


def manifest_path(head_path):
    """Where the accounts manifest of the head in ``head_path`` (a ``pathlib.Path``) lives:
    ``head-….json`` -> ``head-….accounts.json``."""
    name = head_path.name[:-len(".json")] if head_path.name.endswith(".json") else head_path.name
    return head_path.with_name(name + MANIFEST_SUFFIX)


def parse_manifest(data: bytes, head: dict) -> list[str]:
    """The manifest's lines when they are the ones ``head`` signed; ``BadHead`` otherwise."""
    if head.get("accounts_digest") is None:
        raise BadHead("the head commits to no accounts")
    if len(data) > MAX_MANIFEST_BYTES:
        raise BadHead(f"larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        lines = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadHead(f"not JSON ({error})") from None
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise BadHead("not a JSON list of text lines")
    if accounts_digest(lines) != head["accounts_digest"].lower():
        raise BadHead("its SHA-256 is not the head's accounts_digest")
    return sorted(lines)


# --- reading the stored tree -----------------------------------------------------------------

def fetcher(session: Session) -> merkle.Fetch:
    """Nodes of the tree by (level, index): inner nodes from ``ledger_tree_nodes``, leaves
    derived from the chain (leaf ``i`` is the entry of link ``i + 1``: they are not stored, so
    sealing writes half the rows)."""
    def fetch(keys: set[merkle.Node]) -> dict[merkle.Node, bytes]:
        found: dict[merkle.Node, bytes] = {}
        inner = sorted(key for key in keys if key[0] > 0)
        leaves = sorted(idx + 1 for level, idx in keys if level == 0)
        if inner:
            found.update(((level, idx), bytes(h)) for level, idx, h in session.execute(
                select(TreeNode.level, TreeNode.idx, TreeNode.hash)
                .where(tuple_(TreeNode.level, TreeNode.idx).in_(inner))))
        if leaves:
            found.update(((0, seq - 1), merkle.entry_leaf(entry_id, entry_hash))
                         for seq, entry_id, entry_hash in session.execute(
                             select(ChainLink.seq, ChainLink.entry_id, Entry.hash)
                             .join(Entry, Entry.id == ChainLink.entry_id)
                             .where(ChainLink.seq.in_(leaves))))
        missing = keys - found.keys()
        if missing:
            raise LookupError(f"the Merkle tree lacks node(s) {sorted(missing)[:3]}")
        return found
    return fetch


def tree_size(session: Session) -> int:
    return session.scalar(select(ChainHead.seq).where(ChainHead.id == 1)) or 0


@dataclass(frozen=True)
class Leaf:
    entry_id: int
    index: int  # the chain link's seq - 1
    entry_hash: str

    @property
    def leaf_hash(self) -> bytes:
        return merkle.entry_leaf(self.entry_id, self.entry_hash)


def leaf_of(session: Session, entry_id: int) -> Leaf | None:
    row = session.execute(
        select(ChainLink.seq, Entry.hash).join(Entry, Entry.id == ChainLink.entry_id)
        .where(ChainLink.entry_id == entry_id)
    ).first()
    return None if row is None else Leaf(entry_id, row.seq - 1, row.hash)


def current_head(session: Session, signer: Signer, *, size: int | None = None) -> dict:
    """The signed head of the tree as sealed now (or at ``size``), committing to the accounts
    as they are now."""
    return head_and_manifest(session, signer, size=size)[0]


def head_and_manifest(session: Session, signer: Signer, *,
                      size: int | None = None) -> tuple[dict, bytes]:
    """``current_head`` and the accounts manifest its ``accounts_digest`` is the hash of (to
    publish beside it)."""
    size = tree_size(session) if size is None else size
    root = merkle.root(size, fetcher(session))
    entry_id = (session.scalar(select(ChainLink.entry_id).where(ChainLink.seq == size))
                if size else None)
    through, lines = account_lines(session)
    at = now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    head = signer.sign({"tree_size": size, "root_hash": root.hex(), "entry_id": entry_id,
                        "at": at, "accounts_through": through,
                        "accounts_digest": accounts_digest(lines)})
    return head, manifest_bytes(lines)


def record(session: Session, head: dict) -> None:
    """Keep a signed head in the database (it flushes; the caller commits)."""
    session.add(SignedHead(**{name: head.get(name) for name in HEAD_FIELDS + ACCOUNT_FIELDS}))
    session.flush()


def stored_heads(session: Session) -> list[dict]:
    return [{name: getattr(row, name) for name in HEAD_FIELDS + ACCOUNT_FIELDS}
            for row in session.execute(select(SignedHead).order_by(SignedHead.id)).scalars()]


def inclusion(session: Session, entry_id: int, size: int) -> dict | None:
    """The inclusion proof of a sealed entry in the tree of ``size`` leaves, or None when the
    entry is not sealed within it."""
    leaf = leaf_of(session, entry_id)
    if leaf is None or leaf.index >= size:
        return None
    proof = merkle.inclusion_proof(leaf.index, size, fetcher(session))
    return {"entry_id": entry_id, "entry_hash": leaf.entry_hash, "leaf_index": leaf.index,
            "tree_size": size, "leaf_hash": leaf.leaf_hash.hex(),
            "proof": [h.hex() for h in proof]}


def consistency(session: Session, first: int, second: int) -> dict:
    proof = merkle.consistency_proof(first, second, fetcher(session))
    return {"from": first, "to": second, "proof": [h.hex() for h in proof]}


def statement_proof(session: Session, signer: Signer, entry_ids: Iterable[int],
                    size: int | None = None) -> dict:
    """For a statement's entries: the signed head of the tree now, and per sealed entry its
    content (what its hash covers), hash, leaf index and inclusion proof; entries not sealed
    yet are listed apart. ``scripts/verify-statement`` checks it offline."""
    size = tree_size(session) if size is None else size
    fetch = fetcher(session)
    wanted = sorted(set(entry_ids))
    found = {entry.id: entry for entry in session.execute(
        select(Entry).where(Entry.id.in_(wanted))).scalars()} if wanted else {}
    seqs = dict(session.execute(select(ChainLink.entry_id, ChainLink.seq)
                                .where(ChainLink.entry_id.in_(wanted))).all()) if wanted else {}
    proven, unsealed = [], []
    for entry_id in wanted:
        entry = found[entry_id]
        seq = seqs.get(entry_id)
        if seq is None or seq > size:
            unsealed.append(entry_id)
            continue
        postings = [rules.Posting(p.account.code, p.amount, p.unit) for p in entry.postings]
        proven.append({
            "entry_id": entry_id, "entry_hash": entry.hash, "leaf_index": seq - 1,
            "content": rules.content_document(
                {name: getattr(entry, name) for name in rules.CONTENT_FIELDS}, postings),
            "inclusion": [h.hex() for h in merkle.inclusion_proof(seq - 1, size, fetch)],
        })
    return {"head": current_head(session, signer, size=size), "entries": proven,
            "unsealed": unsealed}
