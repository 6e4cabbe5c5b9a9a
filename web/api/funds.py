"""A programme's fund sources under /api/v1: each with its balance and its money in and out
by month (administrators of the programme's area)."""

from __future__ import annotations

from dataclasses import asdict

from flask_smorest import Blueprint

from volunteers import fund_sources

from ..auth import actor_required, current_actor
from ..extensions import db
from ..transactions import commit
from .schemas.common import ErrorSchema
from .schemas.funds import FundSourceRequestSchema, FundSourceSchema

blp = Blueprint("funds", __name__, url_prefix="/api/v1",
                description="Several fund sources per programme")


def documents(code: str) -> list[dict]:
    views = fund_sources.overview(db.session, current_actor(), code)
    months = fund_sources.monthly(db.session, [view.account for view in views])
    return [asdict(view) | {"monthly": months[view.account]} for view in views]


@blp.route("/programmes/<code>/fund-sources", methods=["GET"])
@actor_required("admin")
@blp.response(200, FundSourceSchema(many=True))
def list_sources(code):
    """Every source (the general fund, code ``general``, last) with its balance and money in
    and out by month, and what it paid for."""
    return documents(code)


@blp.route("/programmes/<code>/fund-sources", methods=["POST"])
@actor_required("admin")
@blp.arguments(FundSourceRequestSchema)
@blp.response(201, FundSourceSchema)
@blp.alt_response(422, schema=ErrorSchema)
def create_source(payload, code):
    """A fund source: ``programme:P:fund:CODE``, with a name, a sponsor, optional earmarks
    (``{kinds: [cash_out|settlement|ranking_bonus]}``), a last day and its order."""
    source = fund_sources.create_source(db.session, current_actor(), code, **payload)
    commit()
    return next(doc for doc in documents(code) if doc["code"] == source.code)
