"""Paying merchants for the points they accepted, under /api/v1: settlements, settlement runs
and the programmes' rates. Administrators of the programme's area only; the same services
back ``jindou merchants settle`` / ``rate`` and the /admin/merchants page."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from merchants import settlement
from merchants.models import SETTLEMENT_STATUSES

from ..auth import actor_required, current_actor
from ..extensions import db
from ..schemas import ErrorSchema, StrictInteger
from ..transactions import commit
from . import IDEMPOTENCY_HEADER
from .replay import run_once

blp = Blueprint("settlements", __name__, url_prefix="/api/v1",
                description="Settlement of merchants' accepted points in CNY, and the rates")

IDEMPOTENT = [{"in": "header", "name": name, **spec} for name, spec in IDEMPOTENCY_HEADER.items()]
PERIOD = validate.Regexp(settlement.PERIOD_PATTERN.pattern, error="a month, YYYY-MM")


class SettlementSchema(Schema):
    id = fields.Integer()
    programme = fields.Function(lambda s: s.programme.code)
    merchant_id = fields.Integer()
    merchant_name = fields.Function(lambda s: s.merchant.name)
    period = fields.String(metadata={"description": "the month settled, YYYY-MM (China time)"})
    redemptions = fields.Integer()
    points = fields.Integer()
    fen_per_point = fields.Integer()
    amount_fen = fields.Integer()
    status = fields.String(metadata={"description": "posted (owed) or paid"})
    entry_id = fields.Integer()
    paid_entry_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    created_by = fields.String()
    paid_at = fields.DateTime(allow_none=True)
    payment_reference = fields.String(allow_none=True)


class SettlementArgsSchema(Schema):
    programme = fields.String(validate=validate.Length(min=1, max=40))
    period = fields.String(validate=PERIOD)
    status = fields.String(validate=validate.OneOf(SETTLEMENT_STATUSES))


class SettlementRunRequestSchema(Schema):
    period = fields.String(validate=PERIOD, metadata={
        "description": "a month that has ended, YYYY-MM; default last month (China time)"})


class SkippedMerchantSchema(Schema):
    merchant_id = fields.Integer()
    merchant_name = fields.String()
    problem = fields.String(metadata={"example": "no settlement rate"})


class SettlementRunSchema(Schema):
    programme = fields.String()
    period = fields.String()
    settled = fields.List(fields.Nested(SettlementSchema), metadata={
        "description": "settlements this run posted"})
    already_settled = fields.List(fields.Nested(SettlementSchema), metadata={
        "description": "settlements an earlier run posted for this month (nothing moved)"})
    skipped = fields.List(fields.Nested(SkippedMerchantSchema), metadata={
        "description": "merchants with unsettled points that could not be settled"})


class SettlementPaidSchema(Schema):
    payment_reference = fields.String(required=True, validate=validate.Length(min=1, max=200),
                                      metadata={"description": "the bank transfer's reference"})


class MerchantRateSchema(Schema):
    merchant_id = fields.Integer()
    merchant_name = fields.String()
    fen_per_point = fields.Integer()


class RateSheetSchema(Schema):
    programme = fields.Function(lambda sheet: sheet.programme.code)
    fen_per_point = fields.Integer(allow_none=True, metadata={
        "description": "what the programme pays a merchant per accepted point, in fen; null "
        "when unset (its merchants are then skipped unless they have their own)"})
    merchant_rates = fields.Function(lambda sheet: [
        {"merchant_id": merchant.id, "merchant_name": merchant.name, "fen_per_point": rate}
        for merchant, rate in sheet.merchant_rates])


class RateRequestSchema(Schema):
    fen_per_point = StrictInteger(required=True, validate=validate.Range(
        min=1, max=settlement.MAX_FEN_PER_POINT))
    merchant_id = StrictInteger(validate=validate.Range(min=1), metadata={
        "description": "set this merchant's own rate instead of the programme's"})


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
