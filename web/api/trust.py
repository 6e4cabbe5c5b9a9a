"""The verifiable ledger over HTTP (issue 14, CONTRACT section 6): the signed head, and
consistency and inclusion proofs against it. For administrators and the read-only
``auditor`` role, held at the root area (the whole ledger is theirs to check). Every answer
is read from the stored tree; nothing is written."""

from flask_smorest import Blueprint

from ledger import heads
from volunteers import access, areas
from volunteers.errors import Invalid, NotFound

from .. import trust
from ..auth import actor_required, current_actor
from ..extensions import db
from .schemas.trust import (
    ConsistencyArgsSchema,
    ConsistencySchema,
    HeadSchema,
    InclusionArgsSchema,
    InclusionSchema,
)

blp = Blueprint("trust", __name__, url_prefix="/api/v1",
                description="The ledger's signed head and proofs (RFC 6962)")

TRUST_ROLES = ("admin", "auditor")


def _check_reader():
    access.require(current_actor(), TRUST_ROLES, areas.ensure_root(db.session))


def _size(requested: int | None) -> int:
    size = heads.tree_size(db.session)
    if requested is None:
        return size
    if requested > size:
        raise Invalid(f"the tree has {size} entries, not {requested}",
                      errors={"tree_size": [f"at most {size}"]})
    return requested


@blp.route("/ledger/head", methods=["GET"])
@actor_required(*TRUST_ROLES)
@blp.response(200, HeadSchema)
def head():
    """The ledger's head, signed now: tree size, RFC 6962 root, last entry, key and
    signature. Keep copies: each is an anchor for `jindou ledger verify --anchor`."""
    _check_reader()
    return heads.current_head(db.session, trust.signer())


@blp.route("/ledger/proofs/consistency", methods=["GET"])
@actor_required(*TRUST_ROLES)
@blp.arguments(ConsistencyArgsSchema, location="query")
@blp.response(200, ConsistencySchema)
def consistency(args):
    """The RFC 6962 consistency proof from tree size `from` to `to` (default: now), with the
    signed head of size `to`."""
    _check_reader()
    second = _size(args.get("to"))
    first = args["from_"]
    if first > second:
        raise Invalid(f"from ({first}) is after to ({second})",
                      errors={"from": [f"at most {second}"]})
    answer = heads.consistency(db.session, first, second)
    return {"from_": first, "to": second, "proof": answer["proof"],
            "head": heads.current_head(db.session, trust.signer(), size=second)}


@blp.route("/ledger/entries/<int:entry_id>/proof", methods=["GET"])
@actor_required(*TRUST_ROLES)
@blp.arguments(InclusionArgsSchema, location="query")
@blp.response(200, InclusionSchema)
def inclusion(args, entry_id):
    """The RFC 6962 inclusion proof of a sealed entry in the tree of `tree_size` entries
    (default: now), with that tree's signed head."""
    _check_reader()
    size = _size(args.get("tree_size"))
    proof = heads.inclusion(db.session, entry_id, size)
    if proof is None:
        raise NotFound(f"entry {entry_id} is not sealed within the tree of {size} entries")
    proof["head"] = heads.current_head(db.session, trust.signer(), size=size)
    return proof
