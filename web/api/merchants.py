"""Merchants and their offers (CONTRACT section 4): ``POST /merchants``,
``POST /merchants/{id}/offers``, ``GET /offers``, editing and withdrawing an offer, and a
merchant's statement."""

from __future__ import annotations

from flask_smorest import Blueprint

from merchants import offers, statements

from ..auth import actor_required, current_actor
from ..extensions import db
from ..transactions import commit
from .schemas.common import ErrorSchema
from .schemas.merchants import (
    MerchantCreateSchema,
    MerchantSchema,
    MerchantStatementArgsSchema,
    MerchantStatementSchema,
    OfferArgsSchema,
    OfferCreateSchema,
    OfferSchema,
    OfferUpdateSchema,
)

blp = Blueprint("merchants", __name__, url_prefix="/api/v1",
                description="The merchant alliance: merchants and their offers")



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
