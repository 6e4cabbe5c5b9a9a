"""Vouchers (CONTRACT section 4): taking an offer, the QR image, the owner's list,
redemption at the till and cancellation."""

from __future__ import annotations

from flask import Response, current_app, request, url_for
from flask_smorest import Blueprint

from merchants import tokens
from merchants import vouchers as voucher_service

from ..auth import actor_required, current_actor
from ..extensions import db, limiter
from ..transactions import commit
from .idempotency import IDEMPOTENT, idempotency_key, run_once
from .schemas.common import ErrorSchema
from .schemas.merchants import RedeemSchema, RedemptionSchema, VoucherArgsSchema, VoucherSchema

blp = Blueprint("vouchers", __name__, url_prefix="/api/v1",
                description="Vouchers: take an offer, show the QR, redeem at the till")
QR_CACHE_SECONDS = 3600


def voucher_key() -> str:
    return current_app.config["JINDOU_VOUCHER_KEY"]


def scan_limit() -> str:
    return current_app.config["SCAN_RATE_LIMIT"]


def scanner_identity() -> str:
    """Scans are counted per signed-in till (many tills may share one shop's address)."""
    actor = current_actor()
    return f"user:{actor.id}" if actor is not None else f"address:{request.remote_addr}"


def voucher_view(voucher, *, with_token: bool = True) -> dict:
    view = {
        "id": voucher.id,
        "status": voucher_service.state(voucher),
        "short_code": voucher.short_code,
        "offer_id": voucher.offer_id,
        "offer_title": voucher.offer.title,
        "merchant_id": voucher.merchant_id,
        "merchant_name": voucher.merchant.name,
        "price_points": voucher.price_points,
        "issued_at": voucher.issued_at,
        "expires_at": voucher.expires_at,
        "redeemed_at": voucher.redeemed_at,
        "cancelled_at": voucher.cancelled_at,
    }
    if with_token:
        view["token"] = tokens.sign(voucher_key(), voucher.id)
        view["qr_png_url"] = url_for("vouchers.qr_png", voucher_id=voucher.id)
        view["qr_svg_url"] = url_for("vouchers.qr_svg", voucher_id=voucher.id)
    return view



def redemption_view(redeemed: voucher_service.Redeemed) -> dict:
    return {"id": redeemed.voucher_id, "status": "redeemed",
            "price_points": redeemed.price_points, "offer_title": redeemed.offer_title,
            "merchant_id": redeemed.merchant_id, "redeemed_at": redeemed.redeemed_at,
            "redemption_id": redeemed.redemption_id}


@blp.route("/offers/<int:offer_id>/vouchers", methods=["POST"])
@actor_required("volunteer")
@blp.response(201, VoucherSchema)
@blp.alt_response(409, schema=ErrorSchema,
                  description="out_of_stock, limit_reached, insufficient_points, offer_closed")
@blp.doc(parameters=IDEMPOTENT)
def take_offer(offer_id):
    """Take an offer: a voucher holding its price on your wallet until redeemed, cancelled
    or expired."""
    actor = current_actor()

    def work():
        voucher, _created = voucher_service.issue_voucher(
            db.session, actor, offer_id,
            idempotency_key=idempotency_key(actor, f"take:{offer_id}"))
        return VoucherSchema().dump(voucher_view(voucher))

    return run_once(actor, f"take:{offer_id}", {}, work, status=201)


@blp.route("/vouchers", methods=["GET"])
@actor_required("volunteer")
@blp.arguments(VoucherArgsSchema, location="query")
@blp.response(200, VoucherSchema(many=True))
def my_vouchers(args):
    """Your own vouchers, newest first."""
    found = voucher_service.vouchers_of(db.session, current_actor(), status=args.get("status"))
    return [voucher_view(voucher) for voucher in found]


@blp.route("/vouchers/<int:voucher_id>", methods=["GET"])
@actor_required()
@blp.response(200, VoucherSchema)
def my_voucher(voucher_id):
    return voucher_view(voucher_service.own_voucher(db.session, current_actor(), voucher_id))


def _qr_response(voucher_id: int, render, mimetype: str) -> Response:
    voucher = voucher_service.own_voucher(db.session, current_actor(), voucher_id)
    response = Response(render(tokens.sign(voucher_key(), voucher.id)), mimetype=mimetype)
    response.headers["Cache-Control"] = f"private, max-age={QR_CACHE_SECONDS}"
    return response


@blp.route("/vouchers/<int:voucher_id>/qr.png", methods=["GET"])
@actor_required()
@blp.response(200, content_type="image/png")
def qr_png(voucher_id):
    """The voucher's QR code (PNG); it decodes to the voucher's token."""
    return _qr_response(voucher_id, tokens.qr_png, "image/png")


@blp.route("/vouchers/<int:voucher_id>/qr.svg", methods=["GET"])
@actor_required()
@blp.response(200, content_type="image/svg+xml")
def qr_svg(voucher_id):
    """The voucher's QR code (SVG)."""
    return _qr_response(voucher_id, tokens.qr_svg, "image/svg+xml")


@blp.route("/vouchers/redeem", methods=["POST"])
@limiter.limit(scan_limit, key_func=scanner_identity)
@actor_required("merchant")
@blp.arguments(RedeemSchema)
@blp.response(200, RedemptionSchema)
@blp.alt_response(400, schema=ErrorSchema, description="voucher_invalid")
@blp.alt_response(403, schema=ErrorSchema, description="voucher_wrong_merchant")
@blp.alt_response(409, schema=ErrorSchema,
                  description="voucher_already_redeemed, voucher_expired, idempotency_conflict")
@blp.doc(parameters=IDEMPOTENT)
def redeem(payload):
    """A merchant's till redeems a voucher by its token or short code, exactly once."""
    actor = current_actor()

    def work():
        return RedemptionSchema().dump(redemption_view(redeem_scan(actor, payload)))

    return run_once(actor, "redeem", payload, work)


def redeem_scan(actor, payload) -> voucher_service.Redeemed:
    """The one way a till redeems, from this endpoint or the till page (``/till``): the same
    payload check (``RedeemSchema``, a ``ValidationError`` when it fails), the same
    Idempotency-Key scheme and the same service call. The caller commits."""
    code = RedeemSchema().load(payload if isinstance(payload, dict) else {})["code"]
    return voucher_service.redeem_voucher(db.session, actor, code, key=voucher_key(),
                                          idempotency_key=idempotency_key(actor, "redeem"))


@blp.route("/vouchers/<int:voucher_id>/cancel", methods=["POST"])
@actor_required("volunteer")
@blp.response(200, VoucherSchema)
@blp.alt_response(409, schema=ErrorSchema)
def cancel(voucher_id):
    """Give a voucher back: its points are spendable again."""
    voucher = voucher_service.cancel_voucher(db.session, current_actor(), voucher_id)
    commit()
    return voucher_view(voucher)
