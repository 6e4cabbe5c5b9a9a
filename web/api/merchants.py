"""Merchants and their offers (CONTRACT section 4): ``POST /merchants``,
``POST /merchants/{id}/offers``, ``GET /offers``, editing and withdrawing an offer, and a
merchant's statement."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from merchants import offers, statements
from merchants.models import OFFER_KINDS

from ..auth import actor_required, current_actor
from ..extensions import db
from ..schemas import ErrorSchema, StrictInteger
from ..transactions import commit

blp = Blueprint("alliance", __name__, url_prefix="/api/v1",
                description="The merchant alliance: merchants and their offers")


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
    id = fields.Integer()
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
    valid_from = fields.DateTime()
    valid_until = fields.DateTime(required=True)
    voucher_valid_days = StrictInteger(
        validate=validate.Range(min=1, max=offers.MAX_VOUCHER_VALID_DAYS))


class OfferSchema(Schema):
    id = fields.Integer()
    merchant_id = fields.Integer()
    merchant_name = fields.Function(lambda o: o.merchant.name)
    merchant_star = fields.Function(lambda o: o.merchant.star)
    merchant_address = fields.Function(lambda o: o.merchant.address)
    title = fields.String()
    description = fields.String(allow_none=True)
    kind = fields.String()
    price_points = fields.Integer()
    stock_total = fields.Integer()
    stock_left = fields.Integer()
    per_person_limit = fields.Integer()
    valid_from = fields.DateTime()
    valid_until = fields.DateTime()
    voucher_valid_days = fields.Integer(allow_none=True)
    status = fields.Function(lambda o: offers.offer_status(o), metadata={
        "description": "open, upcoming, sold_out, ended or withdrawn"})
    vouchers_issued = fields.Integer(metadata={
        "description": "vouchers issued or redeemed (the least the stock may be set to)"})
    updated_at = fields.DateTime(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)


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
    valid_from = fields.DateTime()
    valid_until = fields.DateTime(metadata={
        "description": "in the future when changed, after valid_from; issued vouchers keep "
        "their deadline"})
    voucher_valid_days = StrictInteger(
        allow_none=True, validate=validate.Range(min=1, max=offers.MAX_VOUCHER_VALID_DAYS))

    @validates_schema
    def something_to_change(self, data, **kwargs):
        if not data:
            raise ValidationError("at least one field to change", "_schema")


class OfferArgsSchema(Schema):
    merchant_id = fields.Integer(validate=validate.Range(min=1))
    kind = fields.String(validate=validate.OneOf(OFFER_KINDS))


class MerchantStatementArgsSchema(Schema):
    by = fields.String(load_default="day", validate=validate.OneOf(("day", "month")))
    since = fields.Date(metadata={"description": "first day (China time), default 30 days ago"})
    until = fields.Date(metadata={"description": "last day (China time), default today"})


class MerchantStatementRowSchema(Schema):
    period = fields.String()
    vouchers = fields.Integer()
    points = fields.Integer()


class MerchantStatementSchema(Schema):
    merchant_id = fields.Integer()
    by = fields.String()
    since = fields.Date()
    until = fields.Date()
    rows = fields.List(fields.Nested(MerchantStatementRowSchema))
    total_vouchers = fields.Integer()
    total_points = fields.Integer()


@blp.route("/merchants", methods=["GET"])
@actor_required("admin", "merchant")
@blp.response(200, MerchantSchema(many=True))
def list_merchants():
    """Merchants in the caller's areas, or the caller's own."""
    return offers.visible_merchants(db.session, current_actor())


@blp.route("/merchants", methods=["POST"])
@actor_required("admin")
@blp.arguments(MerchantCreateSchema)
@blp.response(201, MerchantSchema)
@blp.alt_response(403, schema=ErrorSchema)
def create_merchant(payload):
    """A merchant joins a programme; the staff named get the merchant role on its area."""
    merchant = offers.create_merchant(
        db.session, current_actor(), name=payload["name"], programme_code=payload["programme"],
        area_code=payload["area"], staff_usernames=payload["staff"],
        address=payload.get("address"), category=payload.get("category"),
        phone=payload.get("phone"), star=payload["star"],
    )
    commit()
    return merchant


@blp.route("/merchants/<int:merchant_id>", methods=["GET"])
@actor_required("admin", "merchant")
@blp.response(200, MerchantSchema)
def get_merchant(merchant_id):
    merchant = offers.get_merchant(db.session, merchant_id)
    offers.require_staff_or_admin(db.session, current_actor(), merchant)
    return merchant


@blp.route("/merchants/<int:merchant_id>/offers", methods=["POST"])
@actor_required("admin", "merchant")
@blp.arguments(OfferCreateSchema)
@blp.response(201, OfferSchema)
@blp.alt_response(403, schema=ErrorSchema)
def create_offer(payload, merchant_id):
    """An offer of a merchant, by its staff or an administrator over its area."""
    offer = offers.create_offer(db.session, current_actor(), merchant_id, **{
        name: payload[name] for name in (
            "title", "price_points", "stock", "per_person_limit", "valid_until", "kind")
    }, description=payload.get("description"), valid_from=payload.get("valid_from"),
        voucher_valid_days=payload.get("voucher_valid_days"))
    commit()
    return offer


@blp.route("/merchants/<int:merchant_id>/offers", methods=["GET"])
@actor_required("admin", "merchant")
@blp.response(200, OfferSchema(many=True))
def merchant_offers(merchant_id):
    """Every offer of a merchant, newest first, withdrawn and ended ones too (its staff and
    administrators over its area)."""
    return offers.merchant_offers(db.session, current_actor(), merchant_id)


@blp.route("/offers/<int:offer_id>", methods=["PATCH"])
@actor_required("admin", "merchant")
@blp.arguments(OfferUpdateSchema)
@blp.response(200, OfferSchema)
@blp.alt_response(403, schema=ErrorSchema, description="forbidden: not the merchant's staff "
                  "nor an administrator over its area")
@blp.alt_response(409, schema=ErrorSchema, description="conflict: the offer was withdrawn")
@blp.alt_response(422, schema=ErrorSchema, description="validation_error, e.g. a stock below "
                  "the vouchers already issued or a window that ends before it starts")
def edit_offer(payload, offer_id):
    """Change an offer (its staff, or an administrator over the merchant's area). A new price
    applies to vouchers taken from now on: issued vouchers keep the price they hold."""
    offer = offers.edit_offer(db.session, current_actor(), offer_id, payload)
    commit()
    return offer


@blp.route("/offers/<int:offer_id>/withdraw", methods=["POST"])
@actor_required("admin", "merchant")
@blp.response(200, OfferSchema)
@blp.alt_response(403, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema, description="conflict: already withdrawn")
def withdraw_offer(offer_id):
    """Withdraw an offer: no new vouchers (a take answers 409 offer_closed); vouchers already
    issued stay valid until they are redeemed, cancelled or expire."""
    offer = offers.withdraw_offer(db.session, current_actor(), offer_id)
    commit()
    return offer


@blp.route("/offers", methods=["GET"])
@actor_required()
@blp.arguments(OfferArgsSchema, location="query")
@blp.response(200, OfferSchema(many=True))
def open_offers(args):
    """Offers open now: for a volunteer, those of the programmes covering their area."""
    return offers.open_offers(db.session, current_actor(), merchant_id=args.get("merchant_id"),
                              kind=args.get("kind"))


@blp.route("/offers/<int:offer_id>", methods=["GET"])
@actor_required()
@blp.response(200, OfferSchema)
def get_offer(offer_id):
    return offers.get_offer(db.session, offer_id)


@blp.route("/merchants/<int:merchant_id>/statement", methods=["GET"])
@actor_required("admin", "merchant")
@blp.arguments(MerchantStatementArgsSchema, location="query")
@blp.response(200, MerchantStatementSchema)
def statement(args, merchant_id):
    """Vouchers redeemed and points accepted per day or month (China time)."""
    return statements.merchant_statement(
        db.session, current_actor(), merchant_id, by=args["by"], since=args.get("since"),
        until=args.get("until"))
