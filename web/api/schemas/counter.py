"""Payloads of paying at the counter QR: what a code shows, a payment, the live list, the
cashier's amount, counters, the merchant's counter settings and the programme's limits."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from merchants import counter

from .common import StrictInteger
from .merchants import OfferSchema


class CounterMerchantSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    address = fields.String(allow_none=True)
    programme = fields.Function(lambda m: m.programme.code)
    programme_name = fields.Function(lambda m: m.programme.name)
    accepts_open_amount = fields.Boolean()
    opening_hours = fields.String(allow_none=True)


class ChargeViewSchema(Schema):
    id = fields.Integer()
    amount_points = fields.Integer()
    expires_at = fields.DateTime()
    status = fields.String(metadata={"description": "open, paid or expired"})


class CounterViewSchema(Schema):
    merchant = fields.Nested(CounterMerchantSchema)
    counter = fields.Dict(metadata={"description": "{id, label}: the till, label null for the "
                                                   "merchant's main counter"})
    offers = fields.List(fields.Nested(OfferSchema))
    charge = fields.Nested(ChargeViewSchema, allow_none=True,
                           metadata={"description": "the amount a cashier set, when the code "
                                                    "is a till's one-time code"})
    open_amount_max_points = fields.Integer(allow_none=True, metadata={
        "description": "the largest open amount, null when the merchant takes none"})
    available_points = fields.Integer(allow_none=True)


class PaymentRequestSchema(Schema):
    offer_id = StrictInteger(validate=validate.Range(min=1))
    amount_points = StrictInteger(validate=validate.Range(min=1, max=counter.MAX_LIMIT))

    @validates_schema
    def one_of(self, data, **_kwargs):
        if "offer_id" in data and "amount_points" in data:
            raise ValidationError("an offer_id or an amount_points, not both", "offer_id")


class PaymentSchema(Schema):
    id = fields.Integer()
    merchant = fields.Dict(metadata={"description": "{id, name}"})
    amount_points = fields.Integer()
    confirmation_code = fields.String()
    created_at = fields.DateTime()
    offer_id = fields.Integer(allow_none=True)
    title = fields.String(allow_none=True, metadata={"description": "the offer's title"})
    counter_id = fields.Integer()
    volunteer = fields.String(metadata={"description": "the payer's name shown at the till"})
    flags = fields.String(allow_none=True)


class PaymentsArgsSchema(Schema):
    since = fields.String(validate=validate.Length(max=40), metadata={
        "description": "a payment id (the last one seen) or an ISO 8601 moment; without it, "
                       "today's last payments"})
    limit = fields.Integer(load_default=counter.MAX_PAYMENTS_LISTED,
                           validate=validate.Range(min=1, max=counter.MAX_PAYMENTS_LISTED))


class CounterArgsSchema(Schema):
    counter = fields.Integer(validate=validate.Range(min=1), metadata={
        "description": "a till's counter; without it the merchant's main counter"})


class ChargeCreateSchema(Schema):
    amount_points = StrictInteger(required=True,
                                  validate=validate.Range(min=1, max=counter.MAX_LIMIT))
    counter_id = StrictInteger(validate=validate.Range(min=1))


class ChargeSchema(ChargeViewSchema):
    code = fields.String()
    url = fields.String()
    qr_png_url = fields.String()


class CounterSchema(Schema):
    id = fields.Integer()
    label = fields.String(allow_none=True)
    generation = fields.Integer()
    code = fields.String()
    url = fields.String()
    qr_png_url = fields.String()
    reissued_at = fields.DateTime(allow_none=True)


class CounterCreateSchema(Schema):
    label = fields.String(required=True,
                          validate=validate.Length(min=1, max=counter.MAX_LABEL_LENGTH))


class CounterSettingsSchema(Schema):
    opening_hours = fields.String(allow_none=True, load_default=None,
                                  validate=validate.Length(max=11),
                                  metadata={"example": "08:00-21:00"})
    accepts_open_amount = fields.Boolean(load_default=False)


class CounterLimitsSchema(Schema):
    open_amount_max_points = StrictInteger(validate=validate.Range(min=1, max=counter.MAX_LIMIT))
    volunteer_daily_payments = StrictInteger(
        validate=validate.Range(min=1, max=counter.MAX_LIMIT))
    volunteer_daily_points = StrictInteger(validate=validate.Range(min=1, max=counter.MAX_LIMIT))
    merchant_daily_payments = StrictInteger(validate=validate.Range(min=1, max=counter.MAX_LIMIT))
    merchant_daily_points = StrictInteger(validate=validate.Range(min=1, max=counter.MAX_LIMIT))
    unusual_factor = StrictInteger(validate=validate.Range(min=2, max=counter.MAX_LIMIT))
