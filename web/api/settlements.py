"""Paying merchants for the points they accepted, under /api/v1: settlements, settlement runs
and the programmes' rates. Administrators of the programme's area only; the same services
back ``jindou merchants settle`` / ``rate`` and the /admin/merchants page."""

from __future__ import annotations

from flask_smorest import Blueprint

from merchants import settlement

from ..auth import actor_required, current_actor
from ..extensions import db
from ..transactions import commit
from .idempotency import IDEMPOTENT, run_once
from .schemas.common import ErrorSchema
from .schemas.merchants import (
    RateRequestSchema,
    RateSheetSchema,
    SettlementArgsSchema,
    SettlementPaidSchema,
    SettlementRunRequestSchema,
    SettlementRunSchema,
    SettlementSchema,
)

blp = Blueprint("settlements", __name__, url_prefix="/api/v1",
                description="Settlement of merchants' accepted points in CNY, and the rates")




@blp.route("/settlements", methods=["GET"])
@actor_required("admin")
@blp.arguments(SettlementArgsSchema, location="query")
@blp.response(200, SettlementSchema(many=True))
@blp.alt_response(403, schema=ErrorSchema)
def list_settlements(args):
    """Settlements of the programmes in the caller's areas, newest first (at most 200)."""
    return settlement.find_settlements(
        db.session, current_actor(), programme_code=args.get("programme"),
        period=args.get("period"), status=args.get("status"))


@blp.route("/settlements/<int:settlement_id>", methods=["GET"])
@actor_required("admin")
@blp.response(200, SettlementSchema)
def get_settlement(settlement_id):
    return settlement.get_settlement(db.session, current_actor(), settlement_id)


@blp.route("/programmes/<code>/settlements", methods=["POST"])
@actor_required("admin")
@blp.arguments(SettlementRunRequestSchema)
@blp.response(200, SettlementRunSchema)
@blp.alt_response(403, schema=ErrorSchema)
@blp.alt_response(422, schema=ErrorSchema, description="validation_error: not a month, or a "
                  "month that has not ended")
@blp.doc(parameters=IDEMPOTENT)
def run_settlement(payload, code):
    """Settle a month for every merchant of the programme with a rate: one entry per merchant
    (fund -> merchant cash in CNY, accepted points out). Idempotent per merchant and month: a
    second run posts nothing and lists those settlements under already_settled. A retry with
    the same Idempotency-Key answers the first run's body."""
    actor = current_actor()
    period = payload.get("period") or settlement.previous_period()

    def work():
        outcomes = settlement.settle_programme(db.session, actor, code, period)
        found = [o for o in outcomes if o.settlement is not None]
        return SettlementRunSchema().dump({
            "programme": code, "period": period,
            "settled": [o.settlement for o in found if o.created],
            "already_settled": [o.settlement for o in found if not o.created],
            "skipped": [{"merchant_id": o.merchant_id, "merchant_name": o.merchant_name,
                         "problem": o.problem} for o in outcomes if o.settlement is None],
        })

    return run_once(actor, f"settlement-run:{code}", {"period": period}, work)


@blp.route("/settlements/<int:settlement_id>/paid", methods=["POST"])
@actor_required("admin")
@blp.arguments(SettlementPaidSchema)
@blp.response(200, SettlementSchema)
@blp.alt_response(409, schema=ErrorSchema, description="conflict: already paid; "
                  "idempotency_conflict")
@blp.doc(parameters=IDEMPOTENT)
def mark_paid(payload, settlement_id):
    """The bank transfer reached the merchant: merchant cash -> world (CNY), once. A retry
    with the same Idempotency-Key and body answers as the first time."""
    actor = current_actor()

    def work():
        return SettlementSchema().dump(settlement.mark_paid(
            db.session, actor, settlement_id, payload["payment_reference"]))

    return run_once(actor, f"settlement-paid:{settlement_id}", payload, work)


@blp.route("/programmes/<code>/settlement-rate", methods=["GET"])
@actor_required("admin")
@blp.response(200, RateSheetSchema)
@blp.alt_response(403, schema=ErrorSchema)
def get_rates(code):
    """The programme's points-to-CNY settlement rate and its merchants' own rates."""
    return settlement.rate_sheet(db.session, current_actor(), code)


@blp.route("/programmes/<code>/settlement-rate", methods=["PUT"])
@actor_required("admin")
@blp.arguments(RateRequestSchema)
@blp.response(200, RateSheetSchema)
@blp.alt_response(403, schema=ErrorSchema)
def set_rate(payload, code):
    """Set the programme's rate in fen per point, or one merchant's (merchant_id). It applies
    to the next settlement run; settlements already posted keep theirs."""
    actor = current_actor()
    settlement.set_rate(db.session, actor, code, payload["fen_per_point"],
                        payload.get("merchant_id"))
    commit()
    return settlement.rate_sheet(db.session, actor, code)
