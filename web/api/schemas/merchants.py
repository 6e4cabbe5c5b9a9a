"""Payloads of the merchant alliance API: merchants, offers, statements, vouchers and their
redemption, settlement rates and runs."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from merchants import offers, settlement
from merchants.models import OFFER_KINDS, SETTLEMENT_STATUSES, VOUCHER_STATUSES

from .common import Date, DateTime, Integer, StrictInteger

PERIOD = validate.Regexp(settlement.PERIOD_PATTERN.pattern, error="a month, YYYY-MM")


class MerchantCreateSchema(Schema):
    name = fields.String(required=True,
                         validate=validate.Length(min=1, max=offers.MAX_NAME_LENGTH))
    programme = fields.String(required=True, validate=validate.Length(min=1, max=40))
    area = fields.String(required=True, validate=validate.Length(min=1, max=64))
    staff = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                        load_default=list, validate=validate.Length(max=offers.MAX_STAFF),
                        metadata={"description": "user names of the merchant's till staff"})
    address = fields.String(validate=validate.Length(max=300))
    category = fields.String(validate=validate.Length(max=60))
    phone = fields.String(validate=validate.Regexp(r"^\+?[0-9 -]{5,20}$"))
    star = fields.Boolean(load_default=False,
                          metadata={"description": "a star merchant (星级商家)"})


class MerchantSchema(Schema):
    id = Integer(bits=64)
    name = fields.String()
    programme = fields.Function(lambda m: m.programme.code)
    area = fields.Function(lambda m: m.area.code)
    address = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    star = fields.Boolean()
    active = fields.Boolean()
    staff = fields.Function(lambda m: [member.user.username for member in m.staff])
    accepted_account = fields.String()
    cash_account = fields.String()


class OfferCreateSchema(Schema):
    title = fields.String(required=True,
                          validate=validate.Length(min=1, max=offers.MAX_TITLE_LENGTH))
    description = fields.String(validate=validate.Length(max=offers.MAX_DESCRIPTION_LENGTH))
    kind = fields.String(load_default="goods", validate=validate.OneOf(OFFER_KINDS))
    price_points = StrictInteger(required=True,
                                 validate=validate.Range(min=1, max=offers.MAX_PRICE_POINTS))
    stock = StrictInteger(required=True, validate=validate.Range(min=0, max=offers.MAX_STOCK))
    per_person_limit = StrictInteger(
        load_default=1, validate=validate.Range(min=1, max=offers.MAX_PER_PERSON_LIMIT))
    valid_from = DateTime()
    valid_until = DateTime(required=True)
    voucher_valid_days = StrictInteger(
        validate=validate.Range(min=1, max=offers.MAX_VOUCHER_VALID_DAYS))


class OfferSchema(Schema):
    id = Integer(bits=64)
    merchant_id = Integer(bits=64)
    merchant_name = fields.Function(lambda o: o.merchant.name)
    merchant_star = fields.Function(lambda o: o.merchant.star)
    merchant_address = fields.Function(lambda o: o.merchant.address)
    title = fields.String()
    description = fields.String(allow_none=True)
    kind = fields.String()
    price_points = Integer(bits=64)
    stock_total = Integer(bits=64)
    stock_left = Integer(bits=64)
    per_person_limit = Integer(bits=64)
    valid_from = DateTime()
    valid_until = DateTime()
    voucher_valid_days = Integer(bits=64, allow_none=True)
    status = fields.Function(lambda o: offers.offer_status(o), metadata={
        "description": "open, upcoming, sold_out, ended or withdrawn"})
    vouchers_issued = Integer(bits=64, metadata={
        "description": "vouchers issued or redeemed (the least the stock may be set to)"})
    updated_at = DateTime(allow_none=True)
    withdrawn_at = DateTime(allow_none=True)


class OfferUpdateSchema(Schema):
    """The fields to change; those left out stay as they are."""

    title = fields.String(validate=validate.Length(min=1, max=offers.MAX_TITLE_LENGTH))
    description = fields.String(allow_none=True,
                                validate=validate.Length(max=offers.MAX_DESCRIPTION_LENGTH))
    kind = fields.String(validate=validate.OneOf(OFFER_KINDS))
    price_points = StrictInteger(
        validate=validate.Range(min=1, max=offers.MAX_PRICE_POINTS),
        metadata={"description": "for vouchers taken from now on; issued ones keep theirs"})
    stock = StrictInteger(
        validate=validate.Range(min=0, max=offers.MAX_STOCK),
        metadata={"description": "total stock: up, or down to no fewer than vouchers_issued"})
    per_person_limit = StrictInteger(
        validate=validate.Range(min=1, max=offers.MAX_PER_PERSON_LIMIT))
    valid_from = DateTime()
    valid_until = DateTime(metadata={
        "description": "in the future when changed, after valid_from; issued vouchers keep "
        "their deadline"})
    voucher_valid_days = StrictInteger(
        allow_none=True, validate=validate.Range(min=1, max=offers.MAX_VOUCHER_VALID_DAYS))

    @validates_schema
    def something_to_change(self, data, **kwargs):
        if not data:
            raise ValidationError("at least one field to change", "_schema")


class OfferArgsSchema(Schema):
    merchant_id = Integer(validate=validate.Range(min=1))
    kind = fields.String(validate=validate.OneOf(OFFER_KINDS))


class MerchantStatementArgsSchema(Schema):
    by = fields.String(load_default="day", validate=validate.OneOf(("day", "month")))
    since = Date(metadata={"description": "first day (China time), default 30 days ago"})
    until = Date(metadata={"description": "last day (China time), default today"})


class MerchantStatementRowSchema(Schema):
    period = fields.String()
    vouchers = Integer(bits=64)
    points = Integer(bits=64)


class MerchantStatementSchema(Schema):
    merchant_id = Integer(bits=64)
    by = fields.String()
    since = Date()
    until = Date()
    rows = fields.List(fields.Nested(MerchantStatementRowSchema))
    total_vouchers = Integer(bits=64)
    total_points = Integer(bits=64)


class VoucherSchema(Schema):
    id = Integer(bits=64)
    token = fields.String(metadata={"description": "what the QR code carries (signed)"})
    short_code = fields.String(metadata={"description": "8 characters to type at the till"})
    status = fields.String(metadata={"description": ", ".join(VOUCHER_STATUSES)})
    offer_id = Integer(bits=64)
    offer_title = fields.String()
    merchant_id = Integer(bits=64)
    merchant_name = fields.String()
    price_points = Integer(bits=64)
    issued_at = DateTime()
    expires_at = DateTime()
    redeemed_at = DateTime(allow_none=True)
    cancelled_at = DateTime(allow_none=True)
    qr_png_url = fields.String()
    qr_svg_url = fields.String()


class VoucherArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(VOUCHER_STATUSES))


class RedeemSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=100),
                         metadata={"description": "the scanned token or the typed short code"})


class RedemptionSchema(Schema):
    id = Integer(bits=64, metadata={"description": "the voucher's id"})
    status = fields.String()
    price_points = Integer(bits=64)
    offer_title = fields.String()
    merchant_id = Integer(bits=64)
    redeemed_at = DateTime()
    redemption_id = Integer(bits=64)


class SettlementSchema(Schema):
    id = Integer(bits=64)
    programme = fields.Function(lambda s: s.programme.code)
    merchant_id = Integer(bits=64)
    merchant_name = fields.Function(lambda s: s.merchant.name)
    period = fields.String(metadata={"description": "the month settled, YYYY-MM (China time)"})
    redemptions = Integer(bits=64)
    points = Integer(bits=64)
    fen_per_point = Integer(bits=64)
    amount_fen = Integer(bits=64)
    status = fields.String(metadata={"description": "posted (owed) or paid"})
    entry_id = Integer(bits=64)
    paid_entry_id = Integer(bits=64, allow_none=True)
    created_at = DateTime()
    created_by = fields.String()
    paid_at = DateTime(allow_none=True)
    payment_reference = fields.String(allow_none=True)


class SettlementArgsSchema(Schema):
    programme = fields.String(validate=validate.Length(min=1, max=40))
    period = fields.String(validate=PERIOD)
    status = fields.String(validate=validate.OneOf(SETTLEMENT_STATUSES))


class SettlementRunRequestSchema(Schema):
    period = fields.String(validate=PERIOD, metadata={
        "description": "a month that has ended, YYYY-MM; default last month (China time)"})


class SkippedMerchantSchema(Schema):
    merchant_id = Integer(bits=64)
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
    merchant_id = Integer(bits=64)
    merchant_name = fields.String()
    fen_per_point = Integer(bits=64)


class RateSheetSchema(Schema):
    programme = fields.Function(lambda sheet: sheet.programme.code)
    fen_per_point = Integer(bits=64, allow_none=True, metadata={
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
