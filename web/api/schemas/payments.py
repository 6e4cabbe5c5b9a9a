"""Payloads of donations, cash-outs and card funding (one schema per payload)."""

from marshmallow import Schema, fields, validate

from payments import cash_out, donations, funding
from payments.models import CAUSE_DELIVERIES, CAUSE_KINDS

from .common import DateTime, Integer, StrictInteger


class CauseCreateSchema(Schema):
    area = fields.String(required=True, validate=validate.Length(min=1, max=64),
                         metadata={"description": "code of the area the cause belongs to"})
    kind = fields.String(required=True, validate=validate.OneOf(CAUSE_KINDS))
    title = fields.String(required=True,
                          validate=validate.Length(min=1, max=donations.MAX_TITLE_LENGTH))
    story = fields.String(required=True,
                          validate=validate.Length(min=1, max=donations.MAX_STORY_LENGTH))
    target_points = StrictInteger(required=True, validate=validate.Range(
        min=1, max=donations.MAX_TARGET_POINTS))
    wish_reference = fields.String(validate=validate.Length(min=1, max=60), metadata={
        "description": "the micro-wish this cause stands for, such as wish:12"})
    beneficiary_id = StrictInteger(validate=validate.Range(min=1), metadata={
        "description": "the resident (a user) the pool is released to"})
    beneficiary_name = fields.String(validate=validate.Length(min=1, max=120), metadata={
        "description": "who the cause is for (a person or organisation without an account)"})
    delivery = fields.String(load_default="points", validate=validate.OneOf(CAUSE_DELIVERIES),
                             metadata={"description": "points (into the beneficiary's wallet), "
                                       "voucher (vouchers of offer_id bought for them) or cash "
                                       "(through a payout run: not available yet, refused)"})
    offer_id = StrictInteger(validate=validate.Range(min=1), metadata={
        "description": "the merchant offer whose vouchers a release buys (delivery voucher)"})


class CauseArgsSchema(Schema):
    programme = fields.String(validate=validate.Length(min=1, max=40))
    include_finished = fields.Boolean(load_default=False, metadata={
        "description": "also completed and closed causes"})


class CauseSchema(Schema):
    id = Integer(bits=64)
    programme = fields.Function(lambda cause: cause.programme.code)
    area = fields.Function(lambda cause: cause.area.code)
    kind = fields.String(metadata={"description": ", ".join(CAUSE_KINDS)})
    title = fields.String()
    story = fields.String()
    target_points = Integer(bits=64)
    raised_points = Integer(bits=64)
    remaining_points = Integer(bits=64)
    progress_percent = Integer(bits=64)
    status = fields.String(metadata={"description": "open, completed or closed"})
    wish_reference = fields.String(allow_none=True)
    created_at = DateTime()
    beneficiary_id = Integer(bits=64, allow_none=True)
    beneficiary_name = fields.String(allow_none=True)
    released_points = Integer(bits=64, metadata={"description": "delivered to the beneficiary"})
    returned_points = Integer(bits=64, metadata={
        "description": "returned to the programme's budget when the cause closed"})
    pool_points = Integer(bits=64, metadata={"description": "raised, not yet released"})
    delivery = fields.String(metadata={"description": ", ".join(CAUSE_DELIVERIES)})
    offer_id = Integer(bits=64, allow_none=True)
    delivery_photos = fields.Function(lambda cause: [
        {"id": photo.id, "url": f"/api/v1/causes/{cause.id}/delivery-photos/{photo.id}",
         "note": photo.note, "created_at": photo.created_at.isoformat()}
        for photo in cause.delivery_photos], metadata={
        "description": "the organiser's photos confirming the goods were delivered"})


class ReleaseRequestSchema(Schema):
    amount_points = StrictInteger(validate=validate.Range(min=1, max=10_000_000), metadata={
        "description": "default: everything in the pool"})


class ReleaseSchema(Schema):
    id = Integer(bits=64)
    cause_id = Integer(bits=64)
    amount_points = Integer(bits=64)
    status = fields.String(metadata={"description": "requested or confirmed"})
    requested_by = fields.Function(lambda release: release.requested_by.username)
    requested_at = DateTime()
    confirmed_at = DateTime(allow_none=True)
    entry_id = Integer(bits=64, allow_none=True)
    voucher_ids = fields.List(Integer(bits=64), metadata={
        "description": "the vouchers a confirmed release bought (delivery voucher)"})


class DonationRequestSchema(Schema):
    amount_points = StrictInteger(required=True, validate=validate.Range(
        min=1, max=donations.MAX_DONATION_POINTS))
    message = fields.String(validate=validate.Length(max=donations.MAX_MESSAGE_LENGTH))


class DonationSchema(Schema):
    id = Integer(bits=64)
    programme = fields.Function(lambda donation: donation.programme.code)
    cause_id = Integer(bits=64, allow_none=True)
    cause_title = fields.Function(lambda d: d.cause.title if d.cause else None, allow_none=True)
    amount_points = Integer(bits=64)
    message = fields.String(allow_none=True)
    entry_id = Integer(bits=64)
    created_at = DateTime()


class CashOutPolicySchema(Schema):
    programme = fields.Function(lambda policy: policy.programme.code, dump_only=True)
    enabled = fields.Boolean(required=True)
    minimum_points = StrictInteger(required=True, validate=validate.Range(
        min=1, max=cash_out.MAX_CASH_OUT_POINTS))
    monthly_maximum_points = StrictInteger(required=True, validate=validate.Range(
        min=1, max=cash_out.MAX_CASH_OUT_POINTS))
    points_per_yuan = fields.Function(lambda policy: policy.programme.points_per_yuan,
                                      dump_only=True)


class CashOutPolicyStateSchema(CashOutPolicySchema):
    """The policy as read: a programme that never set one answers disabled with zero limits."""

    minimum_points = Integer(validate=validate.Range(min=0), metadata={
        "description": "0 while no policy was ever set"})
    monthly_maximum_points = Integer(validate=validate.Range(min=0), metadata={
        "description": "0 while no policy was ever set"})


class CashOutRequestSchema(Schema):
    amount_points = StrictInteger(required=True, validate=validate.Range(
        min=1, max=cash_out.MAX_CASH_OUT_POINTS))


class CashOutArgsSchema(Schema):
    status = fields.String(load_default="pending", validate=validate.OneOf(("pending", "paid")))


class CashOutPaidSchema(Schema):
    payout_reference = fields.String(required=True, validate=validate.Length(
        min=1, max=cash_out.MAX_REFERENCE_LENGTH), metadata={
        "description": "the out-of-band transfer's reference, e.g. a WeChat Pay number"})


class CashOutSchema(Schema):
    id = Integer(bits=64)
    programme = fields.Function(lambda request: request.programme.code)
    volunteer_id = Integer(bits=64)
    amount_points = Integer(bits=64)
    amount_fen = Integer(bits=64)
    status = fields.String(metadata={"description": "pending or paid"})
    entry_id = Integer(bits=64)
    created_at = DateTime()
    paid_entry_id = Integer(bits=64, allow_none=True)
    paid_by = fields.Function(lambda r: r.paid_by.username if r.paid_by else None,
                              allow_none=True)
    paid_at = DateTime(allow_none=True)
    payout_reference = fields.String(allow_none=True)


class CardFundingRequestSchema(Schema):
    amount_fen = StrictInteger(required=True, validate=validate.Range(
        min=funding.MIN_CARD_FEN, max=funding.MAX_CARD_FEN))
    sponsor_name = fields.String(validate=validate.Length(max=funding.MAX_SPONSOR_LENGTH))
    fund_source = fields.String(validate=validate.Length(min=1, max=40), metadata={
        "description": "the fund source the payment goes to (default: the general fund)"})


class CardFundingSchema(Schema):
    id = Integer(bits=64)
    programme = fields.Function(lambda session: session.programme.code)
    stripe_session_id = fields.String()
    amount_fen = Integer(bits=64)
    currency = fields.String()
    sponsor_name = fields.String()
    status = fields.String(metadata={"description": "open, or paid once Stripe confirmed"})
    checkout_url = fields.String()
    created_at = DateTime()
    paid_at = DateTime(allow_none=True)
    entry_id = Integer(bits=64, allow_none=True)
