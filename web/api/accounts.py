from types import SimpleNamespace

from flask import jsonify
from flask_smorest import Blueprint

import ledger
from volunteers import access
from volunteers.errors import Forbidden
from volunteers.statements import readable_account

from .. import trust
from ..auth import actor_required, current_actor
from ..extensions import db
from .schemas.ledger import (
    AccountSchema,
    EntryArgsSchema,
    EntryPageSchema,
    StatementArgsSchema,
    StatementSchema,
)

blp = Blueprint("accounts", __name__, url_prefix="/api/v1", description="Accounts and the journal")


@blp.route("/accounts/<path:account_code>", methods=["GET"])
@actor_required()
@blp.response(200, AccountSchema)
def get_account(account_code):
    """An account's balances: administrators over its area; a volunteer their own wallet."""
    return readable_account(db.session, current_actor(), account_code)


@blp.route("/accounts/<path:account_code>/statement", methods=["GET"])
@actor_required()
@blp.arguments(StatementArgsSchema, location="query")
@blp.response(200, StatementSchema)
def statement(args, account_code):
    """An account's postings, newest first, with the running posted balance. With
    `proof=true`: a `proof` (the ledger's signed head, and per entry its content and RFC 6962
    inclusion proof) and a `signature` over the whole statement, to keep and check offline
    with `scripts/verify-statement`."""
    account = readable_account(db.session, current_actor(), account_code)
    lines = ledger.statement(db.session, account.code, before_posting_id=args.get("before"),
                             page_size=args["limit"])
    next_before = lines[-1].posting_id if len(lines) == args["limit"] else None
    answer = {"account": account, "items": lines, "next_before": next_before}
    if args["proof"]:
        return jsonify(trust.proven_statement(StatementSchema().dump(answer),
                                              [line.entry_id for line in lines],
                                              args.get("tree_size")))
    return answer


@blp.route("/ledger/entries", methods=["GET"])
@actor_required()
@blp.arguments(EntryArgsSchema, location="query")
@blp.response(200, EntryPageSchema)
def entries(args):
    """The journal, newest first. Administrators at the root see it all, other
    administrators filter by an account of their areas; a volunteer sees their own wallet."""
    actor = current_actor()
    account = args.get("account")
    sees_all = access.holds(actor, ("admin",), _root())
    if account is not None:
        account = readable_account(db.session, actor, account).code
    elif not sees_all:
        if not access.holds(actor, ("volunteer",)):
            raise Forbidden("name an account of your areas")
        account = actor.wallet_code
    items = ledger.entries(db.session, account=account, kind=args.get("kind"),
                           since=args.get("since"), before_id=args.get("before"),
                           page_size=args["limit"])
    next_before = items[-1].id if len(items) == args["limit"] else None
    if not sees_all:
        # The other side of each entry shows its amount, never that account's running
        # balance (a merchant's takings, the programme's budget, the donations pool).
        items = [_OnlyBalancesOf(entry, account) for entry in items]
    return {"items": items, "next_before": next_before}


class _OnlyBalancesOf:
    """An entry whose postings keep ``posted_after`` on ``account`` only."""

    def __init__(self, entry, account: str):
        self._entry = entry
        self.postings = [posting if posting.account.code == account else SimpleNamespace(
            account=posting.account, unit=posting.unit, amount=posting.amount,
            posted_after=None) for posting in entry.postings]

    def __getattr__(self, name):
        return getattr(self._entry, name)


def _root():
    from volunteers import areas

    return areas.ensure_root(db.session)
