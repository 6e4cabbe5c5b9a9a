"""Payloads of payout runs, payees' payment details and what payees see."""

from marshmallow import Schema, fields, validate

from payouts.models import CHANNELS, ITEM_KINDS

from .common import StrictInteger


class PayoutRunRequestSchema(Schema):
    programme = fields.String(required=True, validate=validate.Length(min=1, max=64))
    kinds = fields.List(fields.String(validate=validate.OneOf(ITEM_KINDS)),
                        validate=validate.Length(min=1, max=len(ITEM_KINDS)))
    up_to = fields.AwareDateTime(metadata={"description": "owed at most since then (now)"})


class WaitingSchema(Schema):
    item_id = fields.Integer()
    kind = fields.String()
    payee_type = fields.String()
    payee_id = fields.Integer()
    payee_name = fields.String()
    amount_fen = fields.Integer()


class RunLineSchema(Schema):
    id = fields.Integer()
    reference = fields.String(metadata={"description": "the line's reference in the file"})
    kind = fields.String()
    source = fields.String()
    payee_type = fields.String()
    payee_id = fields.Integer()
    channel = fields.String()
    account_name = fields.String(metadata={"description": "masked"})
    account = fields.String(metadata={"description": "masked"})
    amount_fen = fields.Integer()
    status = fields.String(metadata={"description": "pending, paid or failed"})
    channel_reference = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class PayoutRunSummarySchema(Schema):
    id = fields.Integer()
    programme = fields.String()
    kinds = fields.List(fields.String())
    up_to = fields.DateTime()
    status = fields.String(metadata={"description": "prepared, approved or closed"})
    lines = fields.Integer(metadata={"description": "how many lines"})
    total_fen = fields.Integer()
    paid_fen = fields.Integer()
    failed_fen = fields.Integer()
    pending_fen = fields.Integer()
    prepared_by = fields.String()
    prepared_at = fields.DateTime()
    approved_by = fields.String(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    channels = fields.List(fields.String())


class PayoutRunSchema(PayoutRunSummarySchema):
    items = fields.List(fields.Nested(RunLineSchema))
    waiting = fields.List(fields.Nested(WaitingSchema))


class RunListArgsSchema(Schema):
    programme = fields.String(validate=validate.Length(min=1, max=64))


class ExportArgsSchema(Schema):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


class ResultLineSchema(Schema):
    line_id = StrictInteger(required=True, validate=validate.Range(min=1))
    status = fields.String(required=True, validate=validate.OneOf(("paid", "failed")))
    reference = fields.String(validate=validate.Length(max=120), allow_none=True)
    reason = fields.String(validate=validate.Length(max=200), allow_none=True)


class ResultsSchema(Schema):
    lines = fields.List(fields.Nested(ResultLineSchema), required=True,
                        validate=validate.Length(min=1, max=1000))


class PaymentDetailsRequestSchema(Schema):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    account_name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    account = fields.String(required=True, validate=validate.Length(min=1, max=64))
    bank_name = fields.String(validate=validate.Length(max=60), allow_none=True)


class PaymentDetailsSchema(Schema):
    channel = fields.String()
    account_name = fields.String(metadata={"description": "masked"})
    account = fields.String(metadata={"description": "masked"})
    updated_at = fields.DateTime()


class PayoutItemSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "cash_out, bonus or settlement"})
    source = fields.String()
    programme = fields.String()
    amount_fen = fields.Integer()
    memo = fields.String()
    owed_since = fields.DateTime()
    status = fields.String(metadata={"description": "owed, in_run or paid"})
    run_id = fields.Integer(allow_none=True)
    paid_reference = fields.String(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    last_failure = fields.String(allow_none=True)


class MyPayoutsSchema(Schema):
    owed = fields.List(fields.Nested(PayoutItemSchema))
    paid = fields.List(fields.Nested(PayoutItemSchema))
    owed_fen = fields.Integer()
    paid_fen = fields.Integer()
    payment_details = fields.Nested(PaymentDetailsSchema, allow_none=True)


class MerchantSettlementSchema(Schema):
    id = fields.Integer()
    period = fields.String()
    points = fields.Integer()
    amount_fen = fields.Integer()
    status = fields.String(metadata={"description": "posted (owed) or paid"})
    run_id = fields.Integer(allow_none=True)
    payment_reference = fields.String(allow_none=True)
    created_at = fields.DateTime()
    paid_at = fields.DateTime(allow_none=True)
